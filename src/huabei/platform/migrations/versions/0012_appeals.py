"""appeals against restrictions, one open per restriction

Revision ID: 0012_appeals
Revises: 0011_maintenance_windows
Create Date: 2026-11-28
"""

import sqlalchemy as sa
from alembic import op

revision = "0012_appeals"
down_revision = "0011_maintenance_windows"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "appeals",
        sa.Column(
            "appeal_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("account_id", sa.BigInteger(), nullable=False),
        sa.Column("restriction_id", sa.BigInteger(), nullable=False),
        sa.Column("cause", sa.String(length=64), nullable=False),
        sa.Column("statement", sa.Text(), nullable=False),
        sa.Column("evidence", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decision", sa.String(length=16), nullable=True),
        sa.Column("outcome", sa.String(length=32), nullable=True),
        sa.Column("decision_reason", sa.Text(), nullable=True),
        sa.Column("decided_by", sa.String(length=64), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("status IN ('open', 'lifted', 'upheld')", name=op.f("ck_appeals_status_known")),
        sa.ForeignKeyConstraint(
            ["account_id"], ["credit_accounts.account_id"], name=op.f("fk_appeals_account_id_credit_accounts")
        ),
        sa.ForeignKeyConstraint(
            ["restriction_id"], ["restrictions.restriction_id"], name=op.f("fk_appeals_restriction_id_restrictions")
        ),
        sa.PrimaryKeyConstraint("appeal_id", name=op.f("pk_appeals")),
    )
    with op.batch_alter_table("appeals", schema=None) as batch_op:
        batch_op.create_index("ix_appeals_status", ["status", "appeal_id"], unique=False)
        batch_op.create_index("ix_appeals_account", ["account_id", "appeal_id"], unique=False)
        batch_op.create_index(
            "uq_appeals_one_open_per_restriction",
            ["restriction_id"],
            unique=True,
            sqlite_where=sa.text("status = 'open'"),
            postgresql_where=sa.text("status = 'open'"),
        )


def downgrade() -> None:
    op.drop_table("appeals")
