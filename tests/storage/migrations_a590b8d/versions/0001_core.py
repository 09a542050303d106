"""credit-line core: users, accounts, purchases, ledger

Revision ID: 0001_core
Revises: 
Create Date: 2026-11-23
"""
from alembic import op
import sqlalchemy as sa


revision = '0001_core'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('business_clock',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('business_date', sa.Date(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('id = 1', name=op.f('ck_business_clock_single_row')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_business_clock'))
    )
    op.create_table('domain_events',
    sa.Column('event_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('event_type', sa.String(length=64), nullable=False),
    sa.Column('account_id', sa.BigInteger(), nullable=True),
    sa.Column('user_id', sa.String(length=64), nullable=True),
    sa.Column('payload', sa.JSON(), nullable=False),
    sa.Column('business_date', sa.Date(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('event_id', name=op.f('pk_domain_events'))
    )
    with op.batch_alter_table('domain_events', schema=None) as batch_op:
        batch_op.create_index('ix_domain_events_account', ['account_id', 'event_id'], unique=False)
        batch_op.create_index('ix_domain_events_type', ['event_type', 'event_id'], unique=False)

    op.create_table('idempotency_keys',
    sa.Column('scope', sa.String(length=64), nullable=False),
    sa.Column('key', sa.String(length=255), nullable=False),
    sa.Column('request_hash', sa.String(length=64), nullable=False),
    sa.Column('status', sa.Integer(), nullable=False),
    sa.Column('response', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('scope', 'key', name=op.f('pk_idempotency_keys'))
    )
    op.create_table('journal_entries',
    sa.Column('entry_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('account_id', sa.BigInteger(), nullable=True),
    sa.Column('ref_id', sa.BigInteger(), nullable=True),
    sa.Column('amount', sa.BigInteger(), nullable=False),
    sa.Column('memo', sa.Text(), nullable=True),
    sa.Column('business_date', sa.Date(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('entry_id', name=op.f('pk_journal_entries'))
    )
    with op.batch_alter_table('journal_entries', schema=None) as batch_op:
        batch_op.create_index('ix_journal_entries_account', ['account_id', 'entry_id'], unique=False)

    op.create_table('purchase_declines',
    sa.Column('decline_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('account_id', sa.BigInteger(), nullable=False),
    sa.Column('amount', sa.BigInteger(), nullable=False),
    sa.Column('merchant_id', sa.String(length=64), nullable=False),
    sa.Column('merchant_category', sa.String(length=32), nullable=False),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('code', sa.String(length=64), nullable=False),
    sa.Column('business_date', sa.Date(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('decline_id', name=op.f('pk_purchase_declines'))
    )
    with op.batch_alter_table('purchase_declines', schema=None) as batch_op:
        batch_op.create_index('ix_purchase_declines_account', ['account_id', 'decline_id'], unique=False)

    op.create_table('users',
    sa.Column('user_id', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('phone', sa.String(length=32), nullable=False),
    sa.Column('real_name_verified', sa.Boolean(), nullable=False),
    sa.Column('profile', sa.JSON(), nullable=False),
    sa.Column('created_on', sa.Date(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('user_id', name=op.f('pk_users'))
    )
    op.create_table('credit_accounts',
    sa.Column('account_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('user_id', sa.String(length=64), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('base_limit', sa.BigInteger(), nullable=False),
    sa.Column('temporary_limit', sa.BigInteger(), server_default=sa.text('0'), nullable=False),
    sa.Column('temporary_limit_expires_on', sa.Date(), nullable=True),
    sa.Column('used', sa.BigInteger(), server_default=sa.text('0'), nullable=False),
    sa.Column('credit_balance', sa.BigInteger(), server_default=sa.text('0'), nullable=False),
    sa.Column('block_code', sa.String(length=64), nullable=True),
    sa.Column('due_day', sa.Integer(), nullable=False),
    sa.Column('opened_on', sa.Date(), nullable=False),
    sa.Column('closed_on', sa.Date(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("state IN ('open', 'closed')", name=op.f('ck_credit_accounts_state_known')),
    sa.CheckConstraint('base_limit >= 0', name=op.f('ck_credit_accounts_base_limit_non_negative')),
    sa.CheckConstraint('credit_balance >= 0', name=op.f('ck_credit_accounts_credit_balance_non_negative')),
    sa.CheckConstraint('temporary_limit >= 0', name=op.f('ck_credit_accounts_temporary_limit_non_negative')),
    sa.CheckConstraint('used >= 0', name=op.f('ck_credit_accounts_used_non_negative')),
    sa.ForeignKeyConstraint(['user_id'], ['users.user_id'], name=op.f('fk_credit_accounts_user_id_users')),
    sa.PrimaryKeyConstraint('account_id', name=op.f('pk_credit_accounts'))
    )
    with op.batch_alter_table('credit_accounts', schema=None) as batch_op:
        batch_op.create_index('uq_credit_accounts_one_open_per_user', ['user_id'], unique=True, sqlite_where=sa.text("state = 'open'"), postgresql_where=sa.text("state = 'open'"))

    op.create_table('postings',
    sa.Column('posting_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('entry_id', sa.BigInteger(), nullable=False),
    sa.Column('ledger_account', sa.String(length=32), nullable=False),
    sa.Column('account_id', sa.BigInteger(), nullable=True),
    sa.Column('merchant_id', sa.String(length=64), nullable=True),
    sa.Column('amount', sa.BigInteger(), nullable=False),
    sa.Column('business_date', sa.Date(), nullable=False),
    sa.ForeignKeyConstraint(['entry_id'], ['journal_entries.entry_id'], name=op.f('fk_postings_entry_id_journal_entries')),
    sa.PrimaryKeyConstraint('posting_id', name=op.f('pk_postings'))
    )
    with op.batch_alter_table('postings', schema=None) as batch_op:
        batch_op.create_index('ix_postings_account', ['account_id', 'ledger_account'], unique=False)
        batch_op.create_index('ix_postings_entry', ['entry_id'], unique=False)

    op.create_table('limit_changes',
    sa.Column('change_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('account_id', sa.BigInteger(), nullable=False),
    sa.Column('limit_kind', sa.String(length=16), nullable=False),
    sa.Column('old_value', sa.BigInteger(), nullable=False),
    sa.Column('new_value', sa.BigInteger(), nullable=False),
    sa.Column('expires_on', sa.Date(), nullable=True),
    sa.Column('reasons', sa.JSON(), nullable=False),
    sa.Column('policy_version', sa.String(length=32), nullable=False),
    sa.Column('actor', sa.String(length=64), nullable=False),
    sa.Column('business_date', sa.Date(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['credit_accounts.account_id'], name=op.f('fk_limit_changes_account_id_credit_accounts')),
    sa.PrimaryKeyConstraint('change_id', name=op.f('pk_limit_changes'))
    )
    with op.batch_alter_table('limit_changes', schema=None) as batch_op:
        batch_op.create_index('ix_limit_changes_account', ['account_id', 'change_id'], unique=False)

    op.create_table('purchases',
    sa.Column('purchase_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('account_id', sa.BigInteger(), nullable=False),
    sa.Column('amount', sa.BigInteger(), nullable=False),
    sa.Column('refunded', sa.BigInteger(), server_default=sa.text('0'), nullable=False),
    sa.Column('merchant_id', sa.String(length=64), nullable=False),
    sa.Column('merchant_category', sa.String(length=32), nullable=False),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('business_date', sa.Date(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('amount > 0', name=op.f('ck_purchases_amount_positive')),
    sa.CheckConstraint('refunded >= 0 AND refunded <= amount', name=op.f('ck_purchases_refund_within_amount')),
    sa.ForeignKeyConstraint(['account_id'], ['credit_accounts.account_id'], name=op.f('fk_purchases_account_id_credit_accounts')),
    sa.PrimaryKeyConstraint('purchase_id', name=op.f('pk_purchases'))
    )
    with op.batch_alter_table('purchases', schema=None) as batch_op:
        batch_op.create_index('ix_purchases_account', ['account_id', 'purchase_id'], unique=False)

    op.create_table('repayments',
    sa.Column('repayment_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('account_id', sa.BigInteger(), nullable=False),
    sa.Column('amount', sa.BigInteger(), nullable=False),
    sa.Column('allocation', sa.JSON(), nullable=False),
    sa.Column('business_date', sa.Date(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('amount > 0', name=op.f('ck_repayments_amount_positive')),
    sa.ForeignKeyConstraint(['account_id'], ['credit_accounts.account_id'], name=op.f('fk_repayments_account_id_credit_accounts')),
    sa.PrimaryKeyConstraint('repayment_id', name=op.f('pk_repayments'))
    )
    with op.batch_alter_table('repayments', schema=None) as batch_op:
        batch_op.create_index('ix_repayments_account', ['account_id', 'repayment_id'], unique=False)

    op.create_table('restrictions',
    sa.Column('restriction_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('account_id', sa.BigInteger(), nullable=False),
    sa.Column('cause', sa.String(length=64), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('evidence', sa.JSON(), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('placed_on', sa.Date(), nullable=False),
    sa.Column('placed_by', sa.String(length=64), nullable=False),
    sa.Column('lifts_on', sa.Date(), nullable=True),
    sa.Column('lifted_on', sa.Date(), nullable=True),
    sa.Column('lifted_by', sa.String(length=64), nullable=True),
    sa.Column('lift_reason', sa.String(length=64), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['credit_accounts.account_id'], name=op.f('fk_restrictions_account_id_credit_accounts')),
    sa.PrimaryKeyConstraint('restriction_id', name=op.f('pk_restrictions'))
    )
    with op.batch_alter_table('restrictions', schema=None) as batch_op:
        batch_op.create_index('ix_restrictions_account_active', ['account_id', 'active'], unique=False)

    op.create_table('refunds',
    sa.Column('refund_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('purchase_id', sa.BigInteger(), nullable=False),
    sa.Column('account_id', sa.BigInteger(), nullable=False),
    sa.Column('amount', sa.BigInteger(), nullable=False),
    sa.Column('to_principal', sa.BigInteger(), nullable=False),
    sa.Column('to_credit', sa.BigInteger(), nullable=False),
    sa.Column('business_date', sa.Date(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('amount > 0 AND amount = to_principal + to_credit', name=op.f('ck_refunds_split_adds_up')),
    sa.ForeignKeyConstraint(['account_id'], ['credit_accounts.account_id'], name=op.f('fk_refunds_account_id_credit_accounts')),
    sa.ForeignKeyConstraint(['purchase_id'], ['purchases.purchase_id'], name=op.f('fk_refunds_purchase_id_purchases')),
    sa.PrimaryKeyConstraint('refund_id', name=op.f('pk_refunds'))
    )
    with op.batch_alter_table('refunds', schema=None) as batch_op:
        batch_op.create_index('ix_refunds_purchase', ['purchase_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('refunds', schema=None) as batch_op:
        batch_op.drop_index('ix_refunds_purchase')

    op.drop_table('refunds')
    with op.batch_alter_table('restrictions', schema=None) as batch_op:
        batch_op.drop_index('ix_restrictions_account_active')

    op.drop_table('restrictions')
    with op.batch_alter_table('repayments', schema=None) as batch_op:
        batch_op.drop_index('ix_repayments_account')

    op.drop_table('repayments')
    with op.batch_alter_table('purchases', schema=None) as batch_op:
        batch_op.drop_index('ix_purchases_account')

    op.drop_table('purchases')
    with op.batch_alter_table('limit_changes', schema=None) as batch_op:
        batch_op.drop_index('ix_limit_changes_account')

    op.drop_table('limit_changes')
    with op.batch_alter_table('postings', schema=None) as batch_op:
        batch_op.drop_index('ix_postings_entry')
        batch_op.drop_index('ix_postings_account')

    op.drop_table('postings')
    with op.batch_alter_table('credit_accounts', schema=None) as batch_op:
        batch_op.drop_index('uq_credit_accounts_one_open_per_user', sqlite_where=sa.text("state = 'open'"), postgresql_where=sa.text("state = 'open'"))

    op.drop_table('credit_accounts')
    op.drop_table('users')
    with op.batch_alter_table('purchase_declines', schema=None) as batch_op:
        batch_op.drop_index('ix_purchase_declines_account')

    op.drop_table('purchase_declines')
    with op.batch_alter_table('journal_entries', schema=None) as batch_op:
        batch_op.drop_index('ix_journal_entries_account')

    op.drop_table('journal_entries')
    op.drop_table('idempotency_keys')
    with op.batch_alter_table('domain_events', schema=None) as batch_op:
        batch_op.drop_index('ix_domain_events_type')
        batch_op.drop_index('ix_domain_events_account')

    op.drop_table('domain_events')
    op.drop_table('business_clock')
