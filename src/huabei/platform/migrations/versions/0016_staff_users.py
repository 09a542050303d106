"""staff users: a name and an argon2id password for the web login, bound to a key of their role

Revision ID: 0016_staff_users
Revises: 0015_funding_moved_on
Create Date: 2026-11-29
"""

import sqlalchemy as sa
from alembic import op

revision = "0016_staff_users"
down_revision = "0015_funding_moved_on"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "staff_users",
        sa.Column("staff_id", _ID, autoincrement=True, nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("key_id", sa.BigInteger(), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("password_changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["key_id"], ["api_keys.key_id"], name=op.f("fk_staff_users_key_id_api_keys")),
        sa.PrimaryKeyConstraint("staff_id", name=op.f("pk_staff_users")),
        sa.UniqueConstraint("name", name=op.f("uq_staff_users_name")),
    )


def downgrade() -> None:
    op.drop_table("staff_users")
