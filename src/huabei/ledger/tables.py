"""Tables of the double-entry ledger: journal entries and their postings (docs/ledger.md)."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    Date,
    ForeignKey,
    Index,
    String,
    Table,
    Text,
)

from huabei.platform.tables import TS, Id, Money, metadata

journal_entries = Table(
    "journal_entries",
    metadata,
    Column("entry_id", Id, primary_key=True, autoincrement=True),
    Column("kind", String(32), nullable=False),
    Column("account_id", BigInteger, nullable=True),
    Column("ref_id", BigInteger, nullable=True),
    Column("amount", Money, nullable=False),
    Column("memo", Text, nullable=True),
    Column("business_date", Date, nullable=False),
    Column("created_at", TS, nullable=False),
)
Index("ix_journal_entries_account", journal_entries.c.account_id, journal_entries.c.entry_id)

postings = Table(
    "postings",
    metadata,
    Column("posting_id", Id, primary_key=True, autoincrement=True),
    Column("entry_id", BigInteger, ForeignKey("journal_entries.entry_id"), nullable=False),
    Column("ledger_account", String(32), nullable=False),
    Column("account_id", BigInteger, nullable=True),
    Column("merchant_id", String(64), nullable=True),
    Column("amount", Money, nullable=False),
    Column("business_date", Date, nullable=False),
)
Index("ix_postings_entry", postings.c.entry_id)
Index("ix_postings_account", postings.c.account_id, postings.c.ledger_account)
