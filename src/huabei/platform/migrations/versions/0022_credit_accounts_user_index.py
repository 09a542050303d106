"""an index on credit_accounts.user_id: the risk features keyed by user join the book's lines on it

Revision ID: 0022_credit_accounts_user_index
Revises: 0021_audit_account_id
Create Date: 2026-11-29
"""

from alembic import op

revision = "0022_credit_accounts_user_index"
down_revision = "0021_audit_account_id"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_credit_accounts_user", "credit_accounts", ["user_id"])


def downgrade() -> None:
    op.drop_index("ix_credit_accounts_user", table_name="credit_accounts")
