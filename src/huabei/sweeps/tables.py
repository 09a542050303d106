"""Regulatory sweeps: each run (who, why, which rule) and each line it changed, once per sweep."""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Date, ForeignKey, Index, Integer, PrimaryKeyConstraint, String, Table, Text

from huabei.platform.tables import TS, Id, Money, metadata

sweeps = Table(
    "sweeps",
    metadata,
    Column("sweep_id", Id, primary_key=True, autoincrement=True),
    # sha of rule + action: reruns of the same sweep share it and apply nothing twice
    Column("sweep_key", String(32), nullable=False),
    Column("rule", Text, nullable=False),
    Column("action", String(16), nullable=False),
    Column("reason", Text, nullable=False),
    Column("operator", String(64), nullable=False),
    Column("business_date", Date, nullable=False),
    Column("matched", Integer, nullable=False),
    Column("applied", Integer, nullable=False),
    Column("failed", Integer, nullable=False),
    Column("status", String(16), nullable=False),  # running | done
    Column("started_at", TS, nullable=False),
    Column("finished_at", TS, nullable=True),
)
Index("ix_sweeps_key", sweeps.c.sweep_key, sweeps.c.sweep_id)

sweep_actions = Table(
    "sweep_actions",
    metadata,
    Column("sweep_key", String(32), nullable=False),
    Column("account_id", BigInteger, ForeignKey("credit_accounts.account_id"), nullable=False),
    Column("sweep_id", BigInteger, ForeignKey("sweeps.sweep_id"), nullable=False),
    Column("action", String(16), nullable=False),
    Column("old_limit", Money, nullable=False),
    Column("new_limit", Money, nullable=True),
    Column("applied_at", TS, nullable=False),
    PrimaryKeyConstraint("sweep_key", "account_id"),
)
