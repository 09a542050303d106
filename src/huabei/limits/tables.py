"""Tables of the limit policy: raise applications (申请提额) and their decisions, and the raise
campaigns (提额挑战) a line joined, with the task and reward copied in."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
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

from huabei.platform.tables import TS, Id, Money, metadata

limit_raise_applications = Table(
    "limit_raise_applications",
    metadata,
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
Index(
    "ix_limit_raise_applications_account",
    limit_raise_applications.c.account_id,
    limit_raise_applications.c.application_id,
)

campaign_enrolments = Table(
    "campaign_enrolments",
    metadata,
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
Index(
    "uq_campaign_enrolments_account_campaign",
    campaign_enrolments.c.account_id,
    campaign_enrolments.c.campaign_code,
    unique=True,
)
Index("ix_campaign_enrolments_status", campaign_enrolments.c.status, campaign_enrolments.c.enrolment_id)
Index("ix_campaign_enrolments_user", campaign_enrolments.c.user_id, campaign_enrolments.c.completed_on)
