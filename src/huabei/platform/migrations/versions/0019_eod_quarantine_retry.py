"""eod quarantine: a record set aside is retried once fixed (when, by whom, with what result)

Revision ID: 0019_eod_quarantine_retry
Revises: 0018_receivable_funders
Create Date: 2026-11-29
"""

import sqlalchemy as sa
from alembic import op

revision = "0019_eod_quarantine_retry"
down_revision = "0018_receivable_funders"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("eod_quarantine") as b:
        b.add_column(sa.Column("retried_at", sa.DateTime(timezone=True), nullable=True))
        b.add_column(sa.Column("retried_by", sa.String(length=64), nullable=True))
        b.add_column(sa.Column("retry_counts", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("eod_quarantine") as b:
        b.drop_column("retry_counts")
        b.drop_column("retried_by")
        b.drop_column("retried_at")
