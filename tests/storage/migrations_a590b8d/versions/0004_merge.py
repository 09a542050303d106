"""merge the billing and scoring branches

Revision ID: 0004_merge
Revises: 0002_billing, 0003_scoring
Create Date: 2026-11-23
"""

revision = "0004_merge"
down_revision = ("0002_billing", "0003_scoring")
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
