"""Brand-isolation moves: each run of ``huabei funding migrate`` and each line it moved, once per
partner and line (the resume point after a crash)."""

from __future__ import annotations

from sqlalchemy import JSON, BigInteger, Column, Date, ForeignKey, Integer, PrimaryKeyConstraint, String, Table, Text

from huabei.platform.tables import TS, Id, metadata

funding_migrations = Table(
    "funding_migrations",
    metadata,
    Column("migration_id", Id, primary_key=True, autoincrement=True),
    Column("partner", String(32), nullable=False),
    Column("operator", String(64), nullable=False),
    Column("reason", Text, nullable=False),
    Column("business_date", Date, nullable=False),
    Column("matched", Integer, nullable=False),
    Column("moved", Integer, nullable=False),
    Column("failed", Integer, nullable=False),
    Column("status", String(16), nullable=False),  # running | done
    Column("started_at", TS, nullable=False),
    Column("finished_at", TS, nullable=True),
)

#: One 花呗 line a partner funded: ``paused`` (the ``brand_isolation`` restriction placed, nothing
#: moved yet) then ``moved`` (balances on ``to_account_id``, or nothing owed: None; the pause
#: lifted) — each step one transaction, so a rerun picks up where a crash left off.
funding_moves = Table(
    "funding_moves",
    metadata,
    Column("partner", String(32), nullable=False),
    Column("account_id", BigInteger, ForeignKey("credit_accounts.account_id"), nullable=False),
    Column("migration_id", BigInteger, ForeignKey("funding_migrations.migration_id"), nullable=False),
    Column("status", String(16), nullable=False),
    Column("restriction_id", BigInteger, nullable=False),
    Column("to_account_id", BigInteger, ForeignKey("credit_accounts.account_id"), nullable=True),
    # the ledger balances moved, by customer ledger account (fen)
    Column("moved", JSON, nullable=True),
    Column("paused_at", TS, nullable=False),
    Column("moved_at", TS, nullable=True),
    # the business date of the move (added by 0015_funding_moved_on)
    Column("moved_on", Date, nullable=True),
    PrimaryKeyConstraint("partner", "account_id"),
)
