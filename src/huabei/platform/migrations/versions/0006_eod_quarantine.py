"""end-of-day quarantine: the records a step set aside with their error

Revision ID: 0006_eod_quarantine
Revises: 0005_risk
Create Date: 2026-11-28
"""

import sqlalchemy as sa
from alembic import op

revision = "0006_eod_quarantine"
down_revision = "0005_risk"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "eod_quarantine",
        sa.Column(
            "quarantine_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("business_date", sa.Date(), nullable=False),
        sa.Column("step", sa.String(length=64), nullable=False),
        sa.Column("record", sa.String(length=128), nullable=False),
        sa.Column("error", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("quarantine_id", name=op.f("pk_eod_quarantine")),
    )
    with op.batch_alter_table("eod_quarantine", schema=None) as batch_op:
        batch_op.create_index("ix_eod_quarantine_day", ["business_date", "step"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("eod_quarantine", schema=None) as batch_op:
        batch_op.drop_index("ix_eod_quarantine_day")
    op.drop_table("eod_quarantine")
