"""credit score and limit policy: facts, activity events, contacts, scores, raise applications, campaigns

Revision ID: 0003_scoring
Revises: 0001_core
Create Date: 2026-11-24
"""
from alembic import op
import sqlalchemy as sa


revision = '0003_scoring'
down_revision = '0001_core'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('activity_events',
    sa.Column('event_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('user_id', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('occurred_on', sa.Date(), nullable=False),
    sa.Column('channel', sa.String(length=16), nullable=True),
    sa.Column('category', sa.String(length=32), nullable=True),
    sa.Column('amount', sa.BigInteger(), nullable=True),
    sa.Column('external_id', sa.String(length=128), nullable=True),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('amount IS NULL OR amount > 0', name=op.f('ck_activity_events_amount_positive')),
    sa.ForeignKeyConstraint(['user_id'], ['users.user_id'], name=op.f('fk_activity_events_user_id_users')),
    sa.PrimaryKeyConstraint('event_id', name=op.f('pk_activity_events'))
    )
    with op.batch_alter_table('activity_events', schema=None) as batch_op:
        batch_op.create_index('ix_activity_events_day', ['occurred_on'], unique=False)
        batch_op.create_index('ix_activity_events_user', ['user_id', 'occurred_on'], unique=False)
        batch_op.create_index('uq_activity_events_external', ['user_id', 'external_id'], unique=True)

    op.create_table('credit_scores',
    sa.Column('score_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('user_id', sa.String(length=64), nullable=False),
    sa.Column('as_of', sa.Date(), nullable=False),
    sa.Column('score', sa.Integer(), nullable=False),
    sa.Column('band', sa.String(length=16), nullable=False),
    sa.Column('credit_history', sa.Integer(), nullable=False),
    sa.Column('behaviour', sa.Integer(), nullable=False),
    sa.Column('capacity', sa.Integer(), nullable=False),
    sa.Column('identity', sa.Integer(), nullable=False),
    sa.Column('connections', sa.Integer(), nullable=False),
    sa.Column('reasons', sa.JSON(), nullable=False),
    sa.Column('previous_score', sa.Integer(), nullable=True),
    sa.Column('scorecard_version', sa.String(length=64), nullable=False),
    sa.Column('trigger', sa.String(length=16), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.user_id'], name=op.f('fk_credit_scores_user_id_users')),
    sa.PrimaryKeyConstraint('score_id', name=op.f('pk_credit_scores'))
    )
    with op.batch_alter_table('credit_scores', schema=None) as batch_op:
        batch_op.create_index('ix_credit_scores_as_of', ['as_of'], unique=False)
        batch_op.create_index('ix_credit_scores_user', ['user_id', 'score_id'], unique=False)

    op.create_table('user_contacts',
    sa.Column('user_id', sa.String(length=64), nullable=False),
    sa.Column('contact_user_id', sa.String(length=64), nullable=False),
    sa.Column('verified', sa.Boolean(), nullable=False),
    sa.Column('added_on', sa.Date(), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.user_id'], name=op.f('fk_user_contacts_user_id_users')),
    sa.PrimaryKeyConstraint('user_id', 'contact_user_id', name=op.f('pk_user_contacts'))
    )
    op.create_table('user_facts',
    sa.Column('fact_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('user_id', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('value_int', sa.BigInteger(), nullable=True),
    sa.Column('value_bool', sa.Boolean(), nullable=True),
    sa.Column('value_text', sa.String(length=64), nullable=True),
    sa.Column('effective_on', sa.Date(), nullable=False),
    sa.Column('source', sa.String(length=16), nullable=False),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.user_id'], name=op.f('fk_user_facts_user_id_users')),
    sa.PrimaryKeyConstraint('fact_id', name=op.f('pk_user_facts'))
    )
    with op.batch_alter_table('user_facts', schema=None) as batch_op:
        batch_op.create_index('ix_user_facts_user', ['user_id', 'name', 'fact_id'], unique=False)

    op.create_table('user_facts_current',
    sa.Column('user_id', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('fact_id', sa.BigInteger(), nullable=False),
    sa.Column('value_int', sa.BigInteger(), nullable=True),
    sa.Column('value_bool', sa.Boolean(), nullable=True),
    sa.Column('value_text', sa.String(length=64), nullable=True),
    sa.Column('effective_on', sa.Date(), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.user_id'], name=op.f('fk_user_facts_current_user_id_users')),
    sa.PrimaryKeyConstraint('user_id', 'name', name=op.f('pk_user_facts_current'))
    )
    op.create_table('campaign_enrolments',
    sa.Column('enrolment_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('account_id', sa.BigInteger(), nullable=False),
    sa.Column('user_id', sa.String(length=64), nullable=False),
    sa.Column('campaign_code', sa.String(length=48), nullable=False),
    sa.Column('enrolled_on', sa.Date(), nullable=False),
    sa.Column('ends_on', sa.Date(), nullable=False),
    sa.Column('required_payments', sa.Integer(), nullable=False),
    sa.Column('required_categories', sa.Integer(), nullable=False),
    sa.Column('min_payment', sa.BigInteger(), nullable=False),
    sa.Column('reward_kind', sa.String(length=16), nullable=False),
    sa.Column('reward_amount', sa.BigInteger(), nullable=False),
    sa.Column('reward_days', sa.Integer(), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('payments', sa.Integer(), server_default=sa.text('0'), nullable=False),
    sa.Column('categories', sa.Integer(), server_default=sa.text('0'), nullable=False),
    sa.Column('completed_on', sa.Date(), nullable=True),
    sa.Column('rewarded_on', sa.Date(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("reward_kind IN ('temporary', 'permanent')", name=op.f('ck_campaign_enrolments_reward_kind_known')),
    sa.CheckConstraint("status IN ('in_progress', 'completed', 'expired')", name=op.f('ck_campaign_enrolments_status_known')),
    sa.ForeignKeyConstraint(['account_id'], ['credit_accounts.account_id'], name=op.f('fk_campaign_enrolments_account_id_credit_accounts')),
    sa.PrimaryKeyConstraint('enrolment_id', name=op.f('pk_campaign_enrolments'))
    )
    with op.batch_alter_table('campaign_enrolments', schema=None) as batch_op:
        batch_op.create_index('ix_campaign_enrolments_status', ['status', 'enrolment_id'], unique=False)
        batch_op.create_index('ix_campaign_enrolments_user', ['user_id', 'completed_on'], unique=False)
        batch_op.create_index('uq_campaign_enrolments_account_campaign', ['account_id', 'campaign_code'], unique=True)

    op.create_table('limit_raise_applications',
    sa.Column('application_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('account_id', sa.BigInteger(), nullable=False),
    sa.Column('user_id', sa.String(length=64), nullable=False),
    sa.Column('applied_on', sa.Date(), nullable=False),
    sa.Column('decision', sa.String(length=16), nullable=False),
    sa.Column('primary_reason', sa.String(length=64), nullable=False),
    sa.Column('old_limit', sa.BigInteger(), nullable=False),
    sa.Column('new_limit', sa.BigInteger(), nullable=False),
    sa.Column('requested_limit', sa.BigInteger(), nullable=True),
    sa.Column('score', sa.Integer(), nullable=True),
    sa.Column('reasons', sa.JSON(), nullable=False),
    sa.Column('policy_version', sa.String(length=32), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("decision IN ('approved', 'declined')", name=op.f('ck_limit_raise_applications_decision_known')),
    sa.ForeignKeyConstraint(['account_id'], ['credit_accounts.account_id'], name=op.f('fk_limit_raise_applications_account_id_credit_accounts')),
    sa.PrimaryKeyConstraint('application_id', name=op.f('pk_limit_raise_applications'))
    )
    with op.batch_alter_table('limit_raise_applications', schema=None) as batch_op:
        batch_op.create_index('ix_limit_raise_applications_account', ['account_id', 'application_id'], unique=False)
        batch_op.create_index('ix_limit_raise_applications_user', ['user_id', 'applied_on'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('limit_raise_applications', schema=None) as batch_op:
        batch_op.drop_index('ix_limit_raise_applications_user')
        batch_op.drop_index('ix_limit_raise_applications_account')

    op.drop_table('limit_raise_applications')
    with op.batch_alter_table('campaign_enrolments', schema=None) as batch_op:
        batch_op.drop_index('uq_campaign_enrolments_account_campaign')
        batch_op.drop_index('ix_campaign_enrolments_user')
        batch_op.drop_index('ix_campaign_enrolments_status')

    op.drop_table('campaign_enrolments')
    op.drop_table('user_facts_current')
    with op.batch_alter_table('user_facts', schema=None) as batch_op:
        batch_op.drop_index('ix_user_facts_user')

    op.drop_table('user_facts')
    op.drop_table('user_contacts')
    with op.batch_alter_table('credit_scores', schema=None) as batch_op:
        batch_op.drop_index('ix_credit_scores_user')
        batch_op.drop_index('ix_credit_scores_as_of')

    op.drop_table('credit_scores')
    with op.batch_alter_table('activity_events', schema=None) as batch_op:
        batch_op.drop_index('uq_activity_events_external')
        batch_op.drop_index('ix_activity_events_user')
        batch_op.drop_index('ix_activity_events_day')

    op.drop_table('activity_events')
