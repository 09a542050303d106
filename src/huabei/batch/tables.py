"""Tables of the end-of-day job: each (business date, step) completed, each day whose every
step completed, and each record a step set aside (quarantined) so the rest of the book could
finish."""

from __future__ import annotations

from sqlalchemy import JSON, BigInteger, Boolean, Column, Date, Index, Integer, String, Table, Text

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
    #: set when the record was run again, once fixed, and went through (``eod retry``)
    Column("retried_at", TS, nullable=True),
    Column("retried_by", String(64), nullable=True),
    Column("retry_counts", JSON, nullable=True),
    Index("ix_eod_quarantine_day", "business_date", "step"),
)

#: A long end-of-day run the HTTP server runs as a job (``POST /v1/admin/eod``): its progress is
#: written as each day completes and ``heartbeat_at`` while it runs, so any server can answer for
#: it, a job whose server died reads ``interrupted`` (heartbeat older than
#: ``operations.eod_job_stale_seconds``) and a cancel asked of any server stops it between days.
eod_jobs = Table(
    "eod_jobs",
    metadata,
    Column("run", String(12), primary_key=True),
    #: running | done | failed | cancelled | interrupted
    Column("status", String(16), nullable=False),
    Column("until", Date, nullable=False),
    Column("days_total", Integer, nullable=False),
    Column("days_done", Integer, nullable=False),
    Column("last_completed", Date, nullable=True),
    Column("error", JSON, nullable=True),
    Column("cancel_requested", Boolean, nullable=False),
    #: the server process running it (host, pid and a random part)
    Column("owner", String(64), nullable=False),
    Column("started_at", TS, nullable=False),
    Column("heartbeat_at", TS, nullable=False),
    Column("finished_at", TS, nullable=True),
    Index("ix_eod_jobs_status", "status"),
)

#: A ``batch run`` of a step for an as-of date (``huabei.batch.writer``): its decisions were
#: staged (``staged``) and then all applied (``applied``); ``meta`` holds what applying needs
#: besides the decisions (the risk policies' texts).
batch_runs = Table(
    "batch_runs",
    metadata,
    Column("as_of", Date, primary_key=True),
    Column("step", String(32), primary_key=True),
    Column("status", String(16), nullable=False),
    Column("engine", String(16), nullable=False),
    Column("decisions", BigInteger, nullable=False),
    Column("units", BigInteger, nullable=False),
    Column("meta", JSON, nullable=False),
    Column("staged_at", TS, nullable=False),
    Column("applied_at", TS, nullable=True),
)

#: The staged decisions of a batch run, in account order (``seq``); ``unit`` numbers the lines
#: (or users without a line) in that order: a transaction applies whole units. ``applied`` is
#: set in the transaction that applies the row, so a rerun after a crash skips it.
batch_decisions = Table(
    "batch_decisions",
    metadata,
    Column("as_of", Date, primary_key=True),
    Column("step", String(32), primary_key=True),
    Column("seq", BigInteger, primary_key=True),
    Column("unit", BigInteger, nullable=False),
    Column("account_id", BigInteger, nullable=False),
    Column("user_id", String(64), nullable=True),
    Column("kind", String(16), nullable=False),
    Column("key", String(200), nullable=False),
    Column("payload", Text, nullable=False),
    Column("applied", Boolean, nullable=False),
    Index("ix_batch_decisions_unit", "as_of", "step", "unit"),
)
