"""Tables of the end-of-day job: each (business date, step) completed, and each day whose every
step completed."""

from __future__ import annotations

from sqlalchemy import JSON, Column, Date, String, Table

from huabei.platform.tables import TS, metadata

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
