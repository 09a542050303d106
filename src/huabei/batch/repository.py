"""The end-of-day job's repository: completion markers of steps and days."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Connection, func, insert, select, update

from huabei.batch import tables as tb


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

    def quarantined(self, day: dt.date | None = None, *, latest: int = 1000) -> list[Any]:
        """The ``latest`` quarantined records (of ``day``), oldest first."""
        q = tb.eod_quarantine.c
        stmt = select(tb.eod_quarantine).order_by(q.quarantine_id.desc()).limit(latest)
        if day is not None:
            stmt = stmt.where(q.business_date == day)
        return list(reversed(list(self.conn.execute(stmt))))

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
