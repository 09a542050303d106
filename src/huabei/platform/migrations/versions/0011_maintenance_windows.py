"""maintenance windows; the funding source of each credit line

Revision ID: 0011_maintenance_windows
Revises: 0010_access
Create Date: 2026-11-28
"""

import sqlalchemy as sa
from alembic import op

revision = "0011_maintenance_windows"
down_revision = "0010_access"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "maintenance_windows",
        sa.Column(
            "window_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("scope", sa.String(length=16), nullable=False),
        sa.Column("target", sa.String(length=32), nullable=True),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("cancelled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("cancelled_by", sa.String(length=64), nullable=True),
        sa.Column("cancel_reason", sa.Text(), nullable=True),
        sa.CheckConstraint("ends_at > starts_at", name=op.f("ck_maintenance_windows_ends_after_start")),
        sa.CheckConstraint(
            "scope IN ('everyone', 'channel', 'funding')", name=op.f("ck_maintenance_windows_scope_known")
        ),
        sa.PrimaryKeyConstraint("window_id", name=op.f("pk_maintenance_windows")),
    )
    with op.batch_alter_table("maintenance_windows", schema=None) as batch_op:
        batch_op.create_index("ix_maintenance_windows_ends", ["ends_at"], unique=False)
    # plain ALTER TABLE ... ADD COLUMN (a constant default fills the existing lines); a batch copy
    # of credit_accounts would drop a table other tables' foreign keys point at
    op.add_column(
        "credit_accounts",
        sa.Column("funding_source", sa.String(length=32), server_default=sa.text("'platform'"), nullable=False),
    )


def downgrade() -> None:
    # a plain ALTER TABLE ... DROP COLUMN (SQLite >= 3.35): a batch copy of credit_accounts would
    # drop a table other tables' foreign keys point at
    op.drop_column("credit_accounts", "funding_source")
    with op.batch_alter_table("maintenance_windows", schema=None) as batch_op:
        batch_op.drop_index("ix_maintenance_windows_ends")
    op.drop_table("maintenance_windows")
