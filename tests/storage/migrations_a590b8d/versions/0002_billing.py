"""billing cycle: bills, allocations, accruals, installments, delinquency, end-of-day runs, bureau

Adds the tables of ``huabei.store.tables_billing`` and, on the core ``purchases`` table,
the column ``on_temporary_limit`` (the part of a purchase spent on a temporary limit) and
the index ``ix_purchases_business_date`` the bill closing reads by.

Revision ID: 0002_billing
Revises: 0001_core
Create Date: 2026-11-23
"""
from alembic import op
import sqlalchemy as sa


revision = '0002_billing'
down_revision = '0001_core'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('delinquency_months',
    sa.Column('account_id', sa.BigInteger(), nullable=False),
    sa.Column('month', sa.String(length=7), nullable=False),
    sa.Column('worst_bucket', sa.String(length=16), nullable=False),
    sa.Column('max_days_past_due', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('account_id', 'month', name=op.f('pk_delinquency_months'))
    )
    op.create_table('eod_days',
    sa.Column('business_date', sa.Date(), nullable=False),
    sa.Column('completed_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('business_date', name=op.f('pk_eod_days'))
    )
    op.create_table('eod_runs',
    sa.Column('business_date', sa.Date(), nullable=False),
    sa.Column('step', sa.String(length=64), nullable=False),
    sa.Column('counts', sa.JSON(), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('business_date', 'step', name=op.f('pk_eod_runs'))
    )
    op.create_table('account_delinquency',
    sa.Column('account_id', sa.BigInteger(), nullable=False),
    sa.Column('days_past_due', sa.Integer(), nullable=False),
    sa.Column('bucket', sa.String(length=16), nullable=False),
    sa.Column('overdue_since', sa.Date(), nullable=True),
    sa.Column('worst_bucket', sa.String(length=16), nullable=False),
    sa.Column('updated_on', sa.Date(), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['credit_accounts.account_id'], name=op.f('fk_account_delinquency_account_id_credit_accounts')),
    sa.PrimaryKeyConstraint('account_id', name=op.f('pk_account_delinquency'))
    )
    with op.batch_alter_table('account_delinquency', schema=None) as batch_op:
        batch_op.create_index('ix_account_delinquency_bucket', ['bucket'], unique=False)

    op.create_table('bills',
    sa.Column('bill_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('account_id', sa.BigInteger(), nullable=False),
    sa.Column('period', sa.String(length=7), nullable=False),
    sa.Column('statement_date', sa.Date(), nullable=False),
    sa.Column('due_date', sa.Date(), nullable=False),
    sa.Column('opening_balance', sa.BigInteger(), nullable=False),
    sa.Column('closing_balance', sa.BigInteger(), nullable=False),
    sa.Column('total_due', sa.BigInteger(), nullable=False),
    sa.Column('minimum_due', sa.BigInteger(), nullable=False),
    sa.Column('credit_balance', sa.BigInteger(), nullable=False),
    sa.Column('minimum_rated_base', sa.BigInteger(), nullable=False),
    sa.Column('minimum_in_full', sa.BigInteger(), nullable=False),
    sa.Column('temporary_limit_part', sa.BigInteger(), server_default=sa.text('0'), nullable=False),
    sa.Column('installment_principal', sa.BigInteger(), server_default=sa.text('0'), nullable=False),
    sa.Column('converted', sa.BigInteger(), server_default=sa.text('0'), nullable=False),
    sa.Column('carried_out', sa.BigInteger(), server_default=sa.text('0'), nullable=False),
    sa.Column('paid', sa.BigInteger(), server_default=sa.text('0'), nullable=False),
    sa.Column('paid_by_due_date', sa.BigInteger(), server_default=sa.text('0'), nullable=False),
    sa.Column('unpaid_principal', sa.BigInteger(), nullable=False),
    sa.Column('unpaid_fee', sa.BigInteger(), nullable=False),
    sa.Column('unpaid_interest', sa.BigInteger(), nullable=False),
    sa.Column('unpaid_penalty', sa.BigInteger(), nullable=False),
    sa.Column('unpaid_carried_principal', sa.BigInteger(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('carried_to', sa.String(length=7), nullable=True),
    sa.Column('overdue_since', sa.Date(), nullable=True),
    sa.Column('cleared_on', sa.Date(), nullable=True),
    sa.Column('interest_exact', sa.String(length=64), server_default=sa.text("'0'"), nullable=False),
    sa.Column('interest_posted', sa.BigInteger(), server_default=sa.text('0'), nullable=False),
    sa.Column('penalty_exact', sa.String(length=64), server_default=sa.text("'0'"), nullable=False),
    sa.Column('penalty_posted', sa.BigInteger(), server_default=sa.text('0'), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("status IN ('open', 'paid', 'overdue')", name=op.f('ck_bills_status_known')),
    sa.CheckConstraint('paid >= 0 AND converted >= 0 AND carried_out >= 0 AND paid_by_due_date >= 0', name=op.f('ck_bills_movements_not_negative')),
    sa.CheckConstraint('total_due >= 0 AND minimum_due >= 0 AND minimum_due <= total_due AND credit_balance >= 0', name=op.f('ck_bills_totals_valid')),
    sa.CheckConstraint('unpaid_principal >= 0 AND unpaid_fee >= 0 AND unpaid_interest >= 0 AND unpaid_penalty >= 0 AND unpaid_carried_principal >= 0 AND unpaid_carried_principal <= unpaid_principal', name=op.f('ck_bills_unpaid_not_negative')),
    sa.ForeignKeyConstraint(['account_id'], ['credit_accounts.account_id'], name=op.f('fk_bills_account_id_credit_accounts')),
    sa.PrimaryKeyConstraint('bill_id', name=op.f('pk_bills'))
    )
    with op.batch_alter_table('bills', schema=None) as batch_op:
        batch_op.create_index('ix_bills_unpaid', ['status', 'account_id'], unique=False, sqlite_where=sa.text("status <> 'paid'"), postgresql_where=sa.text("status <> 'paid'"))
        batch_op.create_index('uq_bills_account_period', ['account_id', 'period'], unique=True)

    op.create_table('bureau_records',
    sa.Column('record_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('account_id', sa.BigInteger(), nullable=False),
    sa.Column('month', sa.String(length=7), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('format_version', sa.String(length=16), nullable=False),
    sa.Column('as_of', sa.Date(), nullable=False),
    sa.Column('user_id', sa.String(length=64), nullable=False),
    sa.Column('credit_limit', sa.BigInteger(), nullable=False),
    sa.Column('balance', sa.BigInteger(), nullable=False),
    sa.Column('amount_overdue', sa.BigInteger(), nullable=False),
    sa.Column('days_past_due', sa.Integer(), nullable=False),
    sa.Column('bucket', sa.String(length=16), nullable=False),
    sa.Column('worst_bucket', sa.String(length=16), nullable=False),
    sa.Column('account_status', sa.String(length=16), nullable=False),
    sa.Column('superseded', sa.Boolean(), nullable=False),
    sa.Column('reason', sa.String(length=64), nullable=True),
    sa.Column('created_on', sa.Date(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['credit_accounts.account_id'], name=op.f('fk_bureau_records_account_id_credit_accounts')),
    sa.PrimaryKeyConstraint('record_id', name=op.f('pk_bureau_records'))
    )
    with op.batch_alter_table('bureau_records', schema=None) as batch_op:
        batch_op.create_index('ix_bureau_records_month', ['month', 'superseded'], unique=False)
        batch_op.create_index('uq_bureau_records_key', ['account_id', 'month', 'seq'], unique=True)

    op.create_table('due_day_changes',
    sa.Column('change_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('account_id', sa.BigInteger(), nullable=False),
    sa.Column('old_day', sa.Integer(), nullable=False),
    sa.Column('new_day', sa.Integer(), nullable=False),
    sa.Column('business_date', sa.Date(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['credit_accounts.account_id'], name=op.f('fk_due_day_changes_account_id_credit_accounts')),
    sa.PrimaryKeyConstraint('change_id', name=op.f('pk_due_day_changes'))
    )
    with op.batch_alter_table('due_day_changes', schema=None) as batch_op:
        batch_op.create_index('ix_due_day_changes_account', ['account_id', 'change_id'], unique=False)

    op.create_table('bill_accruals',
    sa.Column('accrual_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('account_id', sa.BigInteger(), nullable=False),
    sa.Column('bill_id', sa.BigInteger(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('regime', sa.String(length=16), nullable=False),
    sa.Column('base', sa.BigInteger(), nullable=False),
    sa.Column('amount', sa.BigInteger(), nullable=False),
    sa.Column('business_date', sa.Date(), nullable=False),
    sa.Column('entry_id', sa.BigInteger(), nullable=False),
    sa.CheckConstraint("kind IN ('interest', 'penalty')", name=op.f('ck_bill_accruals_kind_known')),
    sa.CheckConstraint('amount > 0', name=op.f('ck_bill_accruals_amount_positive')),
    sa.ForeignKeyConstraint(['bill_id'], ['bills.bill_id'], name=op.f('fk_bill_accruals_bill_id_bills')),
    sa.PrimaryKeyConstraint('accrual_id', name=op.f('pk_bill_accruals'))
    )
    with op.batch_alter_table('bill_accruals', schema=None) as batch_op:
        batch_op.create_index('ix_bill_accruals_account', ['account_id', 'business_date'], unique=False)
        batch_op.create_index('ix_bill_accruals_date', ['business_date', 'account_id'], unique=False)

    op.create_table('bill_allocations',
    sa.Column('allocation_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('account_id', sa.BigInteger(), nullable=False),
    sa.Column('bill_id', sa.BigInteger(), nullable=True),
    sa.Column('component', sa.String(length=24), nullable=False),
    sa.Column('amount', sa.BigInteger(), nullable=False),
    sa.Column('source_kind', sa.String(length=24), nullable=False),
    sa.Column('source_id', sa.BigInteger(), nullable=False),
    sa.Column('business_date', sa.Date(), nullable=False),
    sa.Column('by_due_date', sa.Boolean(), nullable=False),
    sa.CheckConstraint('amount > 0', name=op.f('ck_bill_allocations_amount_positive')),
    sa.ForeignKeyConstraint(['bill_id'], ['bills.bill_id'], name=op.f('fk_bill_allocations_bill_id_bills')),
    sa.PrimaryKeyConstraint('allocation_id', name=op.f('pk_bill_allocations'))
    )
    with op.batch_alter_table('bill_allocations', schema=None) as batch_op:
        batch_op.create_index('ix_bill_allocations_account', ['account_id', 'allocation_id'], unique=False)
        batch_op.create_index('ix_bill_allocations_bill', ['bill_id'], unique=False)
        batch_op.create_index('ix_bill_allocations_unbilled', ['business_date'], unique=False, sqlite_where=sa.text('bill_id IS NULL'), postgresql_where=sa.text('bill_id IS NULL'))

    op.create_table('bill_lines',
    sa.Column('line_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('bill_id', sa.BigInteger(), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('amount', sa.BigInteger(), nullable=False),
    sa.Column('activity_date', sa.Date(), nullable=False),
    sa.Column('ref', sa.String(length=64), nullable=False),
    sa.CheckConstraint('amount >= 0', name=op.f('ck_bill_lines_amount_not_negative')),
    sa.PrimaryKeyConstraint('line_id', name=op.f('pk_bill_lines'))
    )
    with op.batch_alter_table('bill_lines', schema=None) as batch_op:
        batch_op.create_index('ix_bill_lines_bill', ['bill_id'], unique=False)

    op.create_table('installment_plans',
    sa.Column('plan_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('account_id', sa.BigInteger(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('converted_from', sa.String(length=24), nullable=False),
    sa.Column('source_bill_id', sa.BigInteger(), nullable=True),
    sa.Column('source_purchase_id', sa.BigInteger(), nullable=True),
    sa.Column('principal', sa.BigInteger(), nullable=False),
    sa.Column('term', sa.Integer(), nullable=False),
    sa.Column('fee_rate', sa.String(length=32), nullable=False),
    sa.Column('fee_waived', sa.Boolean(), nullable=False),
    sa.Column('campaign', sa.String(length=64), nullable=True),
    sa.Column('total_fee', sa.BigInteger(), nullable=False),
    sa.Column('total', sa.BigInteger(), nullable=False),
    sa.Column('first_due_date', sa.Date(), nullable=False),
    sa.Column('periods_billed', sa.Integer(), server_default=sa.text('0'), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('created_on', sa.Date(), nullable=False),
    sa.Column('closed_on', sa.Date(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("status IN ('active', 'completed', 'repaid_early')", name=op.f('ck_installment_plans_status_known')),
    sa.CheckConstraint('principal > 0 AND term >= 2 AND total = principal + total_fee', name=op.f('ck_installment_plans_amounts_valid')),
    sa.ForeignKeyConstraint(['account_id'], ['credit_accounts.account_id'], name=op.f('fk_installment_plans_account_id_credit_accounts')),
    sa.ForeignKeyConstraint(['source_bill_id'], ['bills.bill_id'], name=op.f('fk_installment_plans_source_bill_id_bills')),
    sa.ForeignKeyConstraint(['source_purchase_id'], ['purchases.purchase_id'], name=op.f('fk_installment_plans_source_purchase_id_purchases')),
    sa.PrimaryKeyConstraint('plan_id', name=op.f('pk_installment_plans'))
    )
    with op.batch_alter_table('installment_plans', schema=None) as batch_op:
        batch_op.create_index('ix_installment_plans_account', ['account_id', 'plan_id'], unique=False)
        batch_op.create_index('uq_installment_plans_bill', ['source_bill_id'], unique=True, sqlite_where=sa.text("kind = 'bill'"), postgresql_where=sa.text("kind = 'bill'"))
        batch_op.create_index('uq_installment_plans_purchase', ['source_purchase_id'], unique=True, sqlite_where=sa.text('source_purchase_id IS NOT NULL'), postgresql_where=sa.text('source_purchase_id IS NOT NULL'))

    op.create_table('installment_periods',
    sa.Column('plan_id', sa.BigInteger(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.BigInteger(), nullable=False),
    sa.Column('due_date', sa.Date(), nullable=False),
    sa.Column('principal', sa.BigInteger(), nullable=False),
    sa.Column('fee', sa.BigInteger(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('bill_id', sa.BigInteger(), nullable=True),
    sa.CheckConstraint("status IN ('scheduled', 'billed', 'settled_early')", name=op.f('ck_installment_periods_status_known')),
    sa.CheckConstraint('principal >= 0 AND fee >= 0', name=op.f('ck_installment_periods_amounts_not_negative')),
    sa.ForeignKeyConstraint(['bill_id'], ['bills.bill_id'], name=op.f('fk_installment_periods_bill_id_bills')),
    sa.ForeignKeyConstraint(['plan_id'], ['installment_plans.plan_id'], name=op.f('fk_installment_periods_plan_id_installment_plans')),
    sa.PrimaryKeyConstraint('plan_id', 'number', name=op.f('pk_installment_periods'))
    )
    with op.batch_alter_table('installment_periods', schema=None) as batch_op:
        batch_op.create_index('ix_installment_periods_scheduled', ['account_id', 'due_date'], unique=False, sqlite_where=sa.text("status = 'scheduled'"), postgresql_where=sa.text("status = 'scheduled'"))

    with op.batch_alter_table('purchases', schema=None) as batch_op:
        batch_op.add_column(sa.Column('on_temporary_limit', sa.BigInteger(), server_default=sa.text('0'), nullable=False))
        batch_op.create_index('ix_purchases_business_date', ['business_date', 'account_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('purchases', schema=None) as batch_op:
        batch_op.drop_index('ix_purchases_business_date')
        batch_op.drop_column('on_temporary_limit')

    with op.batch_alter_table('installment_periods', schema=None) as batch_op:
        batch_op.drop_index('ix_installment_periods_scheduled', sqlite_where=sa.text("status = 'scheduled'"), postgresql_where=sa.text("status = 'scheduled'"))

    op.drop_table('installment_periods')
    with op.batch_alter_table('installment_plans', schema=None) as batch_op:
        batch_op.drop_index('uq_installment_plans_purchase', sqlite_where=sa.text('source_purchase_id IS NOT NULL'), postgresql_where=sa.text('source_purchase_id IS NOT NULL'))
        batch_op.drop_index('uq_installment_plans_bill', sqlite_where=sa.text("kind = 'bill'"), postgresql_where=sa.text("kind = 'bill'"))
        batch_op.drop_index('ix_installment_plans_account')

    op.drop_table('installment_plans')
    with op.batch_alter_table('bill_lines', schema=None) as batch_op:
        batch_op.drop_index('ix_bill_lines_bill')

    op.drop_table('bill_lines')
    with op.batch_alter_table('bill_allocations', schema=None) as batch_op:
        batch_op.drop_index('ix_bill_allocations_unbilled', sqlite_where=sa.text('bill_id IS NULL'), postgresql_where=sa.text('bill_id IS NULL'))
        batch_op.drop_index('ix_bill_allocations_bill')
        batch_op.drop_index('ix_bill_allocations_account')

    op.drop_table('bill_allocations')
    with op.batch_alter_table('bill_accruals', schema=None) as batch_op:
        batch_op.drop_index('ix_bill_accruals_date')
        batch_op.drop_index('ix_bill_accruals_account')

    op.drop_table('bill_accruals')
    with op.batch_alter_table('due_day_changes', schema=None) as batch_op:
        batch_op.drop_index('ix_due_day_changes_account')

    op.drop_table('due_day_changes')
    with op.batch_alter_table('bureau_records', schema=None) as batch_op:
        batch_op.drop_index('uq_bureau_records_key')
        batch_op.drop_index('ix_bureau_records_month')

    op.drop_table('bureau_records')
    with op.batch_alter_table('bills', schema=None) as batch_op:
        batch_op.drop_index('uq_bills_account_period')
        batch_op.drop_index('ix_bills_unpaid', sqlite_where=sa.text("status <> 'paid'"), postgresql_where=sa.text("status <> 'paid'"))

    op.drop_table('bills')
    with op.batch_alter_table('account_delinquency', schema=None) as batch_op:
        batch_op.drop_index('ix_account_delinquency_bucket')

    op.drop_table('account_delinquency')
    op.drop_table('eod_runs')
    op.drop_table('eod_days')
    op.drop_table('delinquency_months')
