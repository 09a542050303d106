"""Tables of the end-of-day job: each (business date, step) completed, each day whose every
step completed, and each record a step set aside (quarantined) so the rest of the book could
finish."""

from __future__ import annotations

from sqlalchemy import JSON, Column, Date, Index, String, Table, Text

from huabei.platform.tables import TS, Id, metadata

eod_runs = Table(
    "eod_runs",
    metadata,
    Column("business_date", Date, primary_key=True),
    Column("step", String(64), primary_key=True),
    Column("counts", JSON, nullable=False),
    Column("started_at", TS, nullable=False),
    Column("finished_at", TS, nullable=False),
)

eod_days = Table(
    "eod_days",
    metadata,
    Column("business_date", Date, primary_key=True),
    Column("completed_at", TS, nullable=False),
)

eod_quarantine = Table(
    "eod_quarantine",
    metadata,
    Column("quarantine_id", Id, primary_key=True, autoincrement=True),
    Column("business_date", Date, nullable=False),
    Column("step", String(64), nullable=False),
    #: the record the step failed on: its key in the step's population (a user id, …)
    Column("record", String(128), nullable=False),
    Column("error", Text, nullable=False),
    Column("created_at", TS, nullable=False),
    Index("ix_eod_quarantine_day", "business_date", "step"),
)
