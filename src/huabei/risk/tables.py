"""The risk engine's tables: policy versions, their activations, and every decision."""

from __future__ import annotations

from sqlalchemy import JSON, BigInteger, Column, Date, Index, String, Table, Text

from huabei.platform.tables import TS, Id, metadata

#: One row per policy version: its text is immutable (a changed text needs a new version).
risk_policies = Table(
    "risk_policies",
    metadata,
    Column("version", String(32), primary_key=True),
    Column("digest", String(64), nullable=False),
    Column("source", Text, nullable=False),
    Column("path", String(500), nullable=False),
    Column("loaded_by", String(64), nullable=False),
    Column("created_at", TS, nullable=False),
)

#: Who made which version active (or shadow) and when; the latest row of a role is in force.
#: ``role``: ``active`` | ``shadow`` | ``shadow_off``.
risk_policy_activations = Table(
    "risk_policy_activations",
    metadata,
    Column("activation_id", Id, primary_key=True, autoincrement=True),
    Column("version", String(32), nullable=False),
    Column("role", String(16), nullable=False),
    Column("actor", String(64), nullable=False),
    Column("business_date", Date, nullable=False),
    Column("created_at", TS, nullable=False),
)

#: Every decision of a policy: ``action`` restrict | lift | extend (a new signal pushes the lift
#: back); ``mode`` live | shadow (recorded, never acted on); ``run`` daily | inline.
risk_decisions = Table(
    "risk_decisions",
    metadata,
    Column("decision_id", Id, primary_key=True, autoincrement=True),
    Column("policy_version", String(32), nullable=False),
    Column("rule_id", String(64), nullable=False),
    Column("cause", String(64), nullable=False),
    Column("account_id", BigInteger, nullable=False),
    Column("action", String(16), nullable=False),
    Column("mode", String(16), nullable=False),
    Column("run", String(16), nullable=False),
    Column("business_date", Date, nullable=False),
    Column("evidence", JSON, nullable=False),
    Column("restriction_id", BigInteger, nullable=True),
    Column("created_at", TS, nullable=False),
)
Index("ix_risk_decisions_account", risk_decisions.c.account_id, risk_decisions.c.decision_id)
Index("ix_risk_decisions_day", risk_decisions.c.business_date, risk_decisions.c.mode)

#: What the host reports of the user's other credit products (借呗, 网商贷, 备用金 …): days past
#: due (0: nothing overdue) and the amount overdue, per product, as of ``reported_on``.
external_credit_reports = Table(
    "external_credit_reports",
    metadata,
    Column("report_id", Id, primary_key=True, autoincrement=True),
    Column("user_id", String(64), nullable=False),
    Column("product", String(64), nullable=False),
    Column("days_past_due", BigInteger, nullable=False),
    Column("amount_overdue", BigInteger, nullable=False),
    Column("reported_on", Date, nullable=False),
    Column("created_at", TS, nullable=False),
)
Index("ix_external_credit_reports_user", external_credit_reports.c.user_id, external_credit_reports.c.reported_on)
