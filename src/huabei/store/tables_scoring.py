"""Tables of the credit score and limit policy (migration ``0003_scoring``).

* ``user_facts`` — every fact the host app posted (history, append-only); ``user_facts_current``
  — the value in force per (user, fact): the latest by effective date, then by arrival.
* ``activity_events`` — app activity the host reports (utility payments, credit-card
  repayments, credit services, credit tasks, transfers, app payments ...), counted over windows.
* ``user_contacts`` — the user's contacts (friends in the app) and whether they are verified.
* ``credit_scores`` — every score computed (history kept), with the points of each dimension.
* ``limit_raise_applications`` — 申请提额 and their decisions.
* ``campaign_enrolments`` — 提额挑战 joined by a line, with the task and reward copied in.

Imported at the bottom of :mod:`huabei.store.tables` so they share its ``metadata``.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    text,
)

from huabei.store.tables import TS, Id, Money, metadata

user_facts = Table(
    "user_facts", metadata,
    Column("fact_id", Id, primary_key=True, autoincrement=True),
    Column("user_id", String(64), ForeignKey("users.user_id"), nullable=False),
    Column("name", String(64), nullable=False),
    # exactly one of the value columns is set, by the fact's type; all NULL = "no longer known"
    Column("value_int", BigInteger, nullable=True),
    Column("value_bool", Boolean, nullable=True),
    Column("value_text", String(64), nullable=True),
    Column("effective_on", Date, nullable=False),
    Column("source", String(16), nullable=False),
    Column("recorded_at", TS, nullable=False),
)
Index("ix_user_facts_user", user_facts.c.user_id, user_facts.c.name, user_facts.c.fact_id)

user_facts_current = Table(
    "user_facts_current", metadata,
    Column("user_id", String(64), ForeignKey("users.user_id"), primary_key=True),
    Column("name", String(64), primary_key=True),
    Column("fact_id", BigInteger, nullable=False),
    Column("value_int", BigInteger, nullable=True),
    Column("value_bool", Boolean, nullable=True),
    Column("value_text", String(64), nullable=True),
    Column("effective_on", Date, nullable=False),
)

activity_events = Table(
    "activity_events", metadata,
    Column("event_id", Id, primary_key=True, autoincrement=True),
    Column("user_id", String(64), ForeignKey("users.user_id"), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("occurred_on", Date, nullable=False),
    Column("channel", String(16), nullable=True),
    Column("category", String(32), nullable=True),
    Column("amount", Money, nullable=True),
    Column("external_id", String(128), nullable=True),
    Column("recorded_at", TS, nullable=False),
    CheckConstraint("amount IS NULL OR amount > 0", name="amount_positive"),
)
Index("ix_activity_events_user", activity_events.c.user_id, activity_events.c.occurred_on)
Index("ix_activity_events_day", activity_events.c.occurred_on)
Index("uq_activity_events_external", activity_events.c.user_id, activity_events.c.external_id, unique=True)

user_contacts = Table(
    "user_contacts", metadata,
    Column("user_id", String(64), ForeignKey("users.user_id"), primary_key=True),
    Column("contact_user_id", String(64), primary_key=True),
    Column("verified", Boolean, nullable=False),
    Column("added_on", Date, nullable=False),
)

credit_scores = Table(
    "credit_scores", metadata,
    Column("score_id", Id, primary_key=True, autoincrement=True),
    Column("user_id", String(64), ForeignKey("users.user_id"), nullable=False),
    Column("as_of", Date, nullable=False),
    Column("score", Integer, nullable=False),
    Column("band", String(16), nullable=False),
    Column("credit_history", Integer, nullable=False),
    Column("behaviour", Integer, nullable=False),
    Column("capacity", Integer, nullable=False),
    Column("identity", Integer, nullable=False),
    Column("connections", Integer, nullable=False),
    Column("reasons", JSON, nullable=False),
    Column("previous_score", Integer, nullable=True),
    Column("scorecard_version", String(64), nullable=False),
    Column("trigger", String(16), nullable=False),
    Column("created_at", TS, nullable=False),
)
Index("ix_credit_scores_user", credit_scores.c.user_id, credit_scores.c.score_id)
Index("ix_credit_scores_as_of", credit_scores.c.as_of)

limit_raise_applications = Table(
    "limit_raise_applications", metadata,
    Column("application_id", Id, primary_key=True, autoincrement=True),
    Column("account_id", BigInteger, ForeignKey("credit_accounts.account_id"), nullable=False),
    Column("user_id", String(64), nullable=False),
    Column("applied_on", Date, nullable=False),
    Column("decision", String(16), nullable=False),
    # the first reason code: too_frequent, raise_application_approved, no_raise_available, ...
    Column("primary_reason", String(64), nullable=False),
    Column("old_limit", Money, nullable=False),
    Column("new_limit", Money, nullable=False),
    Column("requested_limit", Money, nullable=True),
    Column("score", Integer, nullable=True),
    Column("reasons", JSON, nullable=False),
    Column("policy_version", String(32), nullable=False),
    Column("created_at", TS, nullable=False),
    CheckConstraint("decision IN ('approved', 'declined')", name="decision_known"),
)
Index("ix_limit_raise_applications_user", limit_raise_applications.c.user_id, limit_raise_applications.c.applied_on)
Index("ix_limit_raise_applications_account", limit_raise_applications.c.account_id,
      limit_raise_applications.c.application_id)

campaign_enrolments = Table(
    "campaign_enrolments", metadata,
    Column("enrolment_id", Id, primary_key=True, autoincrement=True),
    Column("account_id", BigInteger, ForeignKey("credit_accounts.account_id"), nullable=False),
    Column("user_id", String(64), nullable=False),
    Column("campaign_code", String(48), nullable=False),
    Column("enrolled_on", Date, nullable=False),
    Column("ends_on", Date, nullable=False),
    Column("required_payments", Integer, nullable=False),
    Column("required_categories", Integer, nullable=False),
    Column("min_payment", Money, nullable=False),
    Column("reward_kind", String(16), nullable=False),
    Column("reward_amount", Money, nullable=False),
    Column("reward_days", Integer, nullable=True),
    Column("status", String(16), nullable=False),
    Column("payments", Integer, nullable=False, server_default=text("0")),
    Column("categories", Integer, nullable=False, server_default=text("0")),
    Column("completed_on", Date, nullable=True),
    Column("rewarded_on", Date, nullable=True),
    Column("created_at", TS, nullable=False),
    CheckConstraint("status IN ('in_progress', 'completed', 'expired')", name="status_known"),
    CheckConstraint("reward_kind IN ('temporary', 'permanent')", name="reward_kind_known"),
)
Index("uq_campaign_enrolments_account_campaign", campaign_enrolments.c.account_id, campaign_enrolments.c.campaign_code,
      unique=True)
Index("ix_campaign_enrolments_status", campaign_enrolments.c.status, campaign_enrolments.c.enrolment_id)
Index("ix_campaign_enrolments_user", campaign_enrolments.c.user_id, campaign_enrolments.c.completed_on)
