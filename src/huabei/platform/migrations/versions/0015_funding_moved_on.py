"""the business date of a brand-isolation move (funding_moves.moved_on)

Revision ID: 0015_funding_moved_on
Revises: 0015_batch_decisions
Create Date: 2026-11-29
"""

import sqlalchemy as sa
from alembic import op

revision = "0015_funding_moved_on"
down_revision = "0015_batch_decisions"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("funding_moves", sa.Column("moved_on", sa.Date(), nullable=True))
    # moves made before: their day from the run that paused them
    op.execute(
        "UPDATE funding_moves SET moved_on = (SELECT m.business_date FROM funding_migrations m "
        "WHERE m.migration_id = funding_moves.migration_id) WHERE status = 'moved'"
    )


def downgrade() -> None:
    op.drop_column("funding_moves", "moved_on")
