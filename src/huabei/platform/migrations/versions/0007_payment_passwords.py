"""payment passwords: an argon2id hash per user and the count of wrong ones

Revision ID: 0007_payment_passwords
Revises: 0006_eod_quarantine
Create Date: 2026-11-28
"""

import sqlalchemy as sa
from alembic import op

revision = "0007_payment_passwords"
down_revision = "0006_eod_quarantine"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "payment_passwords",
        sa.Column("user_id", sa.String(length=64), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        sa.Column("failed_attempts", sa.Integer(), nullable=False),
        sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("set_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("failed_attempts >= 0", name=op.f("ck_payment_passwords_failed_attempts_non_negative")),
        sa.ForeignKeyConstraint(["user_id"], ["users.user_id"], name=op.f("fk_payment_passwords_user_id_users")),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_payment_passwords")),
    )


def downgrade() -> None:
    op.drop_table("payment_passwords")
