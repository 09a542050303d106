"""risk engine: policy versions and activations, decisions; restrictions placed by a rule

Revision ID: 0005_risk
Revises: 0004_merge
Create Date: 2026-11-28
"""

import sqlalchemy as sa
from alembic import op

revision = "0005_risk"
down_revision = "0004_merge"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "risk_policies",
        sa.Column("version", sa.String(length=32), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("path", sa.String(length=500), nullable=False),
        sa.Column("loaded_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("version", name=op.f("pk_risk_policies")),
    )
    op.create_table(
        "risk_policy_activations",
        sa.Column("activation_id", _ID, autoincrement=True, nullable=False),
        sa.Column("version", sa.String(length=32), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("business_date", sa.Date(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("activation_id", name=op.f("pk_risk_policy_activations")),
    )
    op.create_table(
        "risk_decisions",
        sa.Column("decision_id", _ID, autoincrement=True, nullable=False),
        sa.Column("policy_version", sa.String(length=32), nullable=False),
        sa.Column("rule_id", sa.String(length=64), nullable=False),
        sa.Column("cause", sa.String(length=64), nullable=False),
        sa.Column("account_id", sa.BigInteger(), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("mode", sa.String(length=16), nullable=False),
        sa.Column("run", sa.String(length=16), nullable=False),
        sa.Column("business_date", sa.Date(), nullable=False),
        sa.Column("evidence", sa.JSON(), nullable=False),
        sa.Column("restriction_id", sa.BigInteger(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("decision_id", name=op.f("pk_risk_decisions")),
    )
    with op.batch_alter_table("risk_decisions", schema=None) as batch_op:
        batch_op.create_index("ix_risk_decisions_account", ["account_id", "decision_id"], unique=False)
        batch_op.create_index("ix_risk_decisions_day", ["business_date", "mode"], unique=False)
    with op.batch_alter_table("restrictions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("rule_id", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("severity", sa.String(length=8), nullable=True))
        batch_op.add_column(sa.Column("last_signal_on", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("lift_evidence", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("restrictions", schema=None) as batch_op:
        batch_op.drop_column("lift_evidence")
        batch_op.drop_column("last_signal_on")
        batch_op.drop_column("severity")
        batch_op.drop_column("rule_id")
    with op.batch_alter_table("risk_decisions", schema=None) as batch_op:
        batch_op.drop_index("ix_risk_decisions_day")
        batch_op.drop_index("ix_risk_decisions_account")
    op.drop_table("risk_decisions")
    op.drop_table("risk_policy_activations")
    op.drop_table("risk_policies")
