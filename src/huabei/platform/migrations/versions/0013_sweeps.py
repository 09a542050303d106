"""regulatory sweeps and the lines each changed (once per sweep key)

Revision ID: 0013_sweeps
Revises: 0012_appeals
Create Date: 2026-11-28
"""

import sqlalchemy as sa
from alembic import op

revision = "0013_sweeps"
down_revision = "0012_appeals"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sweeps",
        sa.Column("sweep_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("sweep_key", sa.String(length=32), nullable=False),
        sa.Column("rule", sa.Text(), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("operator", sa.String(length=64), nullable=False),
        sa.Column("business_date", sa.Date(), nullable=False),
        sa.Column("matched", sa.Integer(), nullable=False),
        sa.Column("applied", sa.Integer(), nullable=False),
        sa.Column("failed", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("sweep_id", name=op.f("pk_sweeps")),
    )
    with op.batch_alter_table("sweeps", schema=None) as batch_op:
        batch_op.create_index("ix_sweeps_key", ["sweep_key", "sweep_id"], unique=False)
    op.create_table(
        "sweep_actions",
        sa.Column("sweep_key", sa.String(length=32), nullable=False),
        sa.Column("account_id", sa.BigInteger(), nullable=False),
        sa.Column("sweep_id", sa.BigInteger(), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("old_limit", sa.BigInteger(), nullable=False),
        sa.Column("new_limit", sa.BigInteger(), nullable=True),
        sa.Column("applied_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["credit_accounts.account_id"], name=op.f("fk_sweep_actions_account_id_credit_accounts")
        ),
        sa.ForeignKeyConstraint(["sweep_id"], ["sweeps.sweep_id"], name=op.f("fk_sweep_actions_sweep_id_sweeps")),
        sa.PrimaryKeyConstraint("sweep_key", "account_id", name=op.f("pk_sweep_actions")),
    )


def downgrade() -> None:
    op.drop_table("sweep_actions")
    op.drop_table("sweeps")
