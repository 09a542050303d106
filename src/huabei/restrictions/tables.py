"""The restrictions (冻结) placed on credit lines, with evidence and how they lifted."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Date,
    ForeignKey,
    Index,
    String,
    Table,
    Text,
)

from huabei.platform.tables import TS, Id, metadata

restrictions = Table(
    "restrictions",
    metadata,
    Column("restriction_id", Id, primary_key=True, autoincrement=True),
    Column("account_id", BigInteger, ForeignKey("credit_accounts.account_id"), nullable=False),
    Column("cause", String(64), nullable=False),
    Column("active", Boolean, nullable=False),
    Column("evidence", JSON, nullable=False),
    Column("note", Text, nullable=True),
    Column("placed_on", Date, nullable=False),
    Column("placed_by", String(64), nullable=False),
    Column("lifts_on", Date, nullable=True),
    Column("lifted_on", Date, nullable=True),
    Column("lifted_by", String(64), nullable=True),
    Column("lift_reason", String(64), nullable=True),
    Column("created_at", TS, nullable=False),
    # placed by a risk rule (huabei.risk): the rule, hard | soft, the last day its trigger held,
    # and the evidence of its lift (added by migration 0005_risk)
    Column("rule_id", String(64), nullable=True),
    Column("severity", String(8), nullable=True),
    Column("last_signal_on", Date, nullable=True),
    Column("lift_evidence", JSON, nullable=True),
)
Index("ix_restrictions_account_active", restrictions.c.account_id, restrictions.c.active)
