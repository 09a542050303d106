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
)
Index("ix_restrictions_account_active", restrictions.c.account_id, restrictions.c.active)
