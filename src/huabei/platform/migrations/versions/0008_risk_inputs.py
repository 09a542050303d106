"""risk inputs: a purchase's device, users' phone and bank-card changes, re-verifications,
host reports of other credit products

Revision ID: 0008_risk_inputs
Revises: 0007_payment_passwords
Create Date: 2026-11-28
"""

import sqlalchemy as sa
from alembic import op

revision = "0008_risk_inputs"
down_revision = "0007_payment_passwords"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    with op.batch_alter_table("purchases", schema=None) as batch_op:
        batch_op.add_column(sa.Column("device_id", sa.String(length=64), nullable=True))
    op.create_table(
        "user_profile_changes",
        sa.Column("change_id", _ID, autoincrement=True, nullable=False),
        sa.Column("user_id", sa.String(length=64), nullable=False),
        sa.Column("field", sa.String(length=16), nullable=False),
        sa.Column("old_value", sa.String(length=64), nullable=True),
        sa.Column("new_value", sa.String(length=64), nullable=False),
        sa.Column("business_date", sa.Date(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.user_id"], name=op.f("fk_user_profile_changes_user_id_users")),
        sa.PrimaryKeyConstraint("change_id", name=op.f("pk_user_profile_changes")),
    )
    with op.batch_alter_table("user_profile_changes", schema=None) as batch_op:
        batch_op.create_index("ix_user_profile_changes_user", ["user_id", "business_date"], unique=False)
    op.create_table(
        "user_verifications",
        sa.Column("verification_id", _ID, autoincrement=True, nullable=False),
        sa.Column("user_id", sa.String(length=64), nullable=False),
        sa.Column("method", sa.String(length=32), nullable=False),
        sa.Column("business_date", sa.Date(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.user_id"], name=op.f("fk_user_verifications_user_id_users")),
        sa.PrimaryKeyConstraint("verification_id", name=op.f("pk_user_verifications")),
    )
    with op.batch_alter_table("user_verifications", schema=None) as batch_op:
        batch_op.create_index("ix_user_verifications_user", ["user_id", "business_date"], unique=False)
    op.create_table(
        "external_credit_reports",
        sa.Column("report_id", _ID, autoincrement=True, nullable=False),
        sa.Column("user_id", sa.String(length=64), nullable=False),
        sa.Column("product", sa.String(length=64), nullable=False),
        sa.Column("days_past_due", sa.BigInteger(), nullable=False),
        sa.Column("amount_overdue", sa.BigInteger(), nullable=False),
        sa.Column("reported_on", sa.Date(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("report_id", name=op.f("pk_external_credit_reports")),
    )
    with op.batch_alter_table("external_credit_reports", schema=None) as batch_op:
        batch_op.create_index("ix_external_credit_reports_user", ["user_id", "reported_on"], unique=False)


def downgrade() -> None:
    op.drop_table("external_credit_reports")
    op.drop_table("user_verifications")
    op.drop_table("user_profile_changes")
    with op.batch_alter_table("purchases", schema=None) as batch_op:
        batch_op.drop_column("device_id")
