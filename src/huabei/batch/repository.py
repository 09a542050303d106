"""The batch jobs' repository: the end-of-day job's completion markers of steps and days, and the
staged decisions of `batch run`."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Connection, delete, func, insert, select, update

from huabei.batch import tables as tb
from huabei.platform.sql import bulk_insert


class EodRepository:
    def __init__(self, conn: Connection):
        self.conn = conn

    def done(self, day: dt.date, step: str) -> Any:
        r = tb.eod_runs.c
        return self.conn.execute(select(tb.eod_runs).where(r.business_date == day, r.step == step)).first()

    def runs(self, day: dt.date) -> list[Any]:
        r = tb.eod_runs.c
        return list(self.conn.execute(select(tb.eod_runs).where(r.business_date == day)))

    def mark(
        self, day: dt.date, step: str, counts: dict[str, Any], started: dt.datetime, finished: dt.datetime
    ) -> None:
        self.conn.execute(
            insert(tb.eod_runs).values(
                business_date=day, step=step, counts=counts, started_at=started, finished_at=finished
            )
        )

    def finish(self, day: dt.date, step: str, counts: dict[str, Any], finished: dt.datetime) -> None:
        r = tb.eod_runs.c
        self.conn.execute(
            update(tb.eod_runs)
            .where(r.business_date == day, r.step == step)
            .values(counts=counts, finished_at=finished)
        )

    def complete_day(self, day: dt.date, now: dt.datetime) -> None:
        self.conn.execute(insert(tb.eod_days).values(business_date=day, completed_at=now))

    def quarantine(self, day: dt.date, step: str, records: list[tuple[str, str]], now: dt.datetime) -> None:
        """Set aside ``(record, error)`` pairs a step failed on for ``day``."""
        if records:
            self.conn.execute(
                insert(tb.eod_quarantine),
                [
                    {"business_date": day, "step": step, "record": rec[:128], "error": err, "created_at": now}
                    for rec, err in records
                ],
            )

    def quarantined(self, day: dt.date | None = None, *, latest: int = 1000, open_only: bool = False) -> list[Any]:
        """The ``latest`` quarantined records (of ``day``; not yet retried with ``open_only``),
        oldest first."""
        q = tb.eod_quarantine.c
        stmt = select(tb.eod_quarantine).order_by(q.quarantine_id.desc()).limit(latest)
        if day is not None:
            stmt = stmt.where(q.business_date == day)
        if open_only:
            stmt = stmt.where(q.retried_at.is_(None))
        return list(reversed(list(self.conn.execute(stmt))))

    def quarantined_record(self, quarantine_id: int, *, for_update: bool = False) -> Any:
        q = tb.eod_quarantine.c
        stmt = select(tb.eod_quarantine).where(q.quarantine_id == quarantine_id)
        return self.conn.execute(stmt.with_for_update() if for_update else stmt).first()

    def retried(self, quarantine_id: int, counts: dict[str, Any], actor: str, now: dt.datetime) -> None:
        q = tb.eod_quarantine.c
        self.conn.execute(
            update(tb.eod_quarantine)
            .where(q.quarantine_id == quarantine_id)
            .values(retried_at=now, retried_by=actor[:64], retry_counts=counts)
        )

    # --- long runs as jobs of the HTTP server (``entrypoints.http.eod_jobs``) ----------------

    def job(self, run: str, *, for_update: bool = False) -> Any:
        j = tb.eod_jobs.c
        stmt = select(tb.eod_jobs).where(j.run == run)
        return self.conn.execute(stmt.with_for_update() if for_update else stmt).first()

    def running_jobs(self, *, for_update: bool = False) -> list[Any]:
        j = tb.eod_jobs.c
        stmt = select(tb.eod_jobs).where(j.status == "running").order_by(j.started_at)
        return list(self.conn.execute(stmt.with_for_update() if for_update else stmt))

    def add_job(self, run: str, until: dt.date, days: int, owner: str, now: dt.datetime) -> None:
        self.conn.execute(
            insert(tb.eod_jobs).values(
                run=run,
                status="running",
                until=until,
                days_total=days,
                days_done=0,
                last_completed=None,
                error=None,
                cancel_requested=False,
                owner=owner[:64],
                started_at=now,
                heartbeat_at=now,
                finished_at=None,
            )
        )

    def update_job(self, run: str, **values: Any) -> int:
        """Change a job's row (only while it runs: a job interrupted or finished stays as it is)."""
        j = tb.eod_jobs.c
        return self.conn.execute(
            update(tb.eod_jobs).where(j.run == run, j.status == "running").values(**values)
        ).rowcount

    def last_completed(self) -> dt.date | None:
        return self.conn.execute(select(func.max(tb.eod_days.c.business_date))).scalar()

    def first_completed(self) -> dt.date | None:
        return self.conn.execute(select(func.min(tb.eod_days.c.business_date))).scalar()

    def last_close(self) -> dt.date | None:
        """The latest statement date on which the bill-closing step closed bills (its counts
        name the period); ``None`` before the first. Activity dated on or after it is not
        billed yet. Reads the step's few latest markers."""
        r = tb.eod_runs.c
        rows = self.conn.execute(
            select(r.business_date, r.counts).where(r.step == "close_bills").order_by(r.business_date.desc()).limit(62)
        )
        for day, counts in rows:
            if counts and "period" in counts:
                return day
        return None


class BatchRepository:
    """Batch runs and their staged decisions (``huabei.batch.writer``)."""

    def __init__(self, conn: Connection):
        self.conn = conn

    def run(self, as_of: dt.date, step: str, *, for_update: bool = False) -> Any:
        r = tb.batch_runs.c
        q = select(tb.batch_runs).where(r.as_of == as_of, r.step == step)
        if for_update:
            q = q.with_for_update()
        return self.conn.execute(q).first()

    def begin(self, as_of: dt.date, step: str, engine: str, meta: dict[str, Any], now: dt.datetime) -> None:
        """Start staging a run: whatever an earlier, unfinished staging left is dropped."""
        d, r = tb.batch_decisions.c, tb.batch_runs.c
        self.conn.execute(delete(tb.batch_decisions).where(d.as_of == as_of, d.step == step))
        self.conn.execute(delete(tb.batch_runs).where(r.as_of == as_of, r.step == step))
        self.conn.execute(
            insert(tb.batch_runs).values(
                as_of=as_of, step=step, status="staging", engine=engine, decisions=0, units=0, meta=meta, staged_at=now
            )
        )

    def stage(self, rows: dict[str, list[Any]]) -> int:
        """Bulk-load staged decisions given column by column (COPY on PostgreSQL)."""
        return bulk_insert(self.conn, tb.batch_decisions, rows)

    def staged(self, as_of: dt.date, step: str, decisions: int, units: int) -> None:
        r = tb.batch_runs.c
        self.conn.execute(
            update(tb.batch_runs)
            .where(r.as_of == as_of, r.step == step)
            .values(status="staged", decisions=decisions, units=units)
        )

    def first_pending_unit(self, as_of: dt.date, step: str) -> int | None:
        d = tb.batch_decisions.c
        return self.conn.execute(
            select(func.min(d.unit)).where(d.as_of == as_of, d.step == step, d.applied.is_(False))
        ).scalar()

    def pending(self, as_of: dt.date, step: str, first: int, last: int) -> list[Any]:
        """The decisions not applied yet of units ``first`` … ``last``, in order."""
        d = tb.batch_decisions.c
        return list(
            self.conn.execute(
                select(d.seq, d.unit, d.account_id, d.user_id, d.kind, d.key, d.payload)
                .where(d.as_of == as_of, d.step == step, d.unit.between(first, last), d.applied.is_(False))
                .order_by(d.seq)
            )
        )

    def mark_applied(self, as_of: dt.date, step: str, first: int, last: int) -> None:
        d = tb.batch_decisions.c
        self.conn.execute(
            update(tb.batch_decisions)
            .where(d.as_of == as_of, d.step == step, d.unit.between(first, last))
            .values(applied=True)
        )

    def finish(self, as_of: dt.date, step: str, now: dt.datetime) -> None:
        r = tb.batch_runs.c
        self.conn.execute(
            update(tb.batch_runs).where(r.as_of == as_of, r.step == step).values(status="applied", applied_at=now)
        )
