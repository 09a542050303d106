"""no schema change: the revision that databases made before the chain was linear stand at

Until then 0002_billing and 0003_scoring were two branches of 0001_core joined by this empty
merge revision, so every database migrated by then records ``0004_merge`` in ``alembic_version``.
The chain is linear now (0001 -> 0002 -> 0003 -> 0004) and this revision keeps its id, so such a
database is already at this point of the chain and upgrades from here without change
(tests/storage/test_migration_history.py). A new migration revises the current head.

Revision ID: 0004_merge
Revises: 0003_scoring
Create Date: 2026-11-23
"""

revision = "0004_merge"
down_revision = "0003_scoring"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
