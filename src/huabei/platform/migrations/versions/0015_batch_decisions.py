"""batch runs and their staged decisions (huabei batch run: staged, then applied per line)

Revision ID: 0015_batch_decisions
Revises: 0014_funding
Create Date: 2026-11-29
"""

import sqlalchemy as sa
from alembic import op

revision = "0015_batch_decisions"
down_revision = "0014_funding"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "batch_runs",
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("step", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("engine", sa.String(length=16), nullable=False),
        sa.Column("decisions", sa.BigInteger(), nullable=False),
        sa.Column("units", sa.BigInteger(), nullable=False),
        sa.Column("meta", sa.JSON(), nullable=False),
        sa.Column("staged_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("applied_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("as_of", "step", name=op.f("pk_batch_runs")),
    )
    op.create_table(
        "batch_decisions",
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("step", sa.String(length=32), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("unit", sa.BigInteger(), nullable=False),
        sa.Column("account_id", sa.BigInteger(), nullable=False),
        sa.Column("user_id", sa.String(length=64), nullable=True),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("applied", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("as_of", "step", "seq", name=op.f("pk_batch_decisions")),
    )
    with op.batch_alter_table("batch_decisions", schema=None) as batch_op:
        batch_op.create_index("ix_batch_decisions_unit", ["as_of", "step", "unit"], unique=False)


def downgrade() -> None:
    op.drop_table("batch_decisions")
    op.drop_table("batch_runs")
