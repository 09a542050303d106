"""a funding source per receivable: bills (their fee, interest and penalty), accruals, installment
plans and periods carry their funder (资金方) as purchases do since 0014_funding

Revision ID: 0018_receivable_funders
Revises: 0017_scorecard_activations
Create Date: 2026-11-29
"""

import sqlalchemy as sa
from alembic import op

revision = "0018_receivable_funders"
down_revision = "0017_scorecard_activations"
branch_labels = None
depends_on = None

TABLES = ("bills", "bill_accruals", "installment_plans", "installment_periods")


def upgrade() -> None:
    for table in TABLES:
        op.add_column(
            table,
            sa.Column("funding_source", sa.String(length=32), server_default=sa.text("'platform'"), nullable=False),
        )
        # a receivable written before was funded by its line's funder
        op.execute(
            f"UPDATE {table} SET funding_source = (SELECT a.funding_source FROM credit_accounts a "
            f"WHERE a.account_id = {table}.account_id) WHERE EXISTS (SELECT 1 FROM credit_accounts a "
            f"WHERE a.account_id = {table}.account_id AND a.funding_source <> 'platform')"
        )


def downgrade() -> None:
    for table in reversed(TABLES):
        op.drop_column(table, "funding_source")
