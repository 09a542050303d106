"""A long end-of-day run as a job of the HTTP server: ``POST /v1/admin/eod`` over more than
``operations.eod_inline_days`` days starts one (202 with its id) instead of holding the request;
``GET /v1/admin/eod/{run}`` follows it (days done of days to run, the last day completed, the
error that stopped it); ``POST /v1/admin/eod/{run}/cancel`` stops it between two days.

The job is a row of ``eod_jobs``, written as each day completes and on a heartbeat while it
runs, so it outlives the server: after a restart (or from another server) the run still answers,
and a job whose server died (its heartbeat older than ``operations.eod_job_stale_seconds``)
reads ``interrupted``, with the days it did kept (each day is committed as it completes; the
next run continues from there). One job at a time across the servers of a database."""

from __future__ import annotations

import datetime as dt
import os
import socket
import threading
import uuid
from typing import Any

from huabei import errors, reasons
from huabei.batch import eod
from huabei.clock import from_stored
from huabei.errors import HuabeiError
from huabei.platform.unit_of_work import Huabei

STATUSES = ("running", "done", "failed", "cancelled", "interrupted")


class _Cancelled(Exception):
    """Raised between two days when a cancel was asked (the day before is committed)."""


class EodJobs:
    #: A run's id, as :meth:`start` makes it (12 hex digits).
    RUN_PATTERN = r"^[0-9a-f]{12}$"

    def __init__(self, system: Huabei):
        self.system = system
        #: this server process, as written in the rows of the jobs it runs
        self.owner = f"{socket.gethostname()[:40]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self._threads: dict[str, threading.Thread] = {}

    def _now(self) -> dt.datetime:
        return self.system.wall_clock(self.system.tz)

    def _stale(self, row: Any, now: dt.datetime) -> bool:
        """The server running ``row`` is gone: not this one's live thread, no recent heartbeat."""
        if row.owner == self.owner:
            t = self._threads.get(row.run)
            return t is None or not t.is_alive()
        beat = row.heartbeat_at
        if beat.tzinfo is None and now.tzinfo is not None:  # SQLite keeps naive UTC-less stamps
            now = now.replace(tzinfo=None)
        return (now - beat).total_seconds() > self.system.terms.operations.eod_job_stale_seconds

    def _settle_stale(self, uow: Any, rows: list[Any], now: dt.datetime) -> list[Any]:
        """Mark the running jobs whose server died ``interrupted``; the others, still running."""
        alive = []
        for row in rows:
            if self._stale(row, now):
                uow.eod.update_job(row.run, status="interrupted", finished_at=now)
            else:
                alive.append(row)
        return alive

    def start(self, until: dt.date, days: int) -> dict[str, Any]:
        now = self._now()
        run = uuid.uuid4().hex[:12]
        with self.system.uow() as uow:
            running = self._settle_stale(uow, uow.eod.running_jobs(for_update=True), now)
            if running:
                uow.commit()
                raise errors.conflict("eod_job_running", run=running[0].run)
            uow.eod.add_job(run, until, days, self.owner, now)
            uow.commit()
        stop = threading.Event()
        t = threading.Thread(target=self._run, args=(run, until, stop), name=f"eod-{run}", daemon=True)
        self._threads[run] = t
        threading.Thread(target=self._beat, args=(run, stop), name=f"eod-beat-{run}", daemon=True).start()
        t.start()
        return self.get(run)

    def _write(self, run: str, **values: Any) -> int:
        with self.system.uow() as uow:
            n = int(uow.eod.update_job(run, **values))
            uow.commit()
            return n

    def _cancel_asked(self, run: str) -> bool:
        with self.system.uow(readonly=True) as uow:
            row = uow.eod.job(run)
            return bool(row is not None and row.cancel_requested)

    def _beat(self, run: str, stop: threading.Event) -> None:
        every = self.system.terms.operations.eod_job_heartbeat_seconds
        while not stop.wait(every):
            try:
                self._write(run, heartbeat_at=self._now())
            except Exception:  # pragma: no cover - a failed beat is retried at the next one
                continue

    def _run(self, run: str, until: dt.date, stop: threading.Event) -> None:
        done = [0]

        def progress(day: eod.DayReport) -> None:
            done[0] += 1
            self._write(run, days_done=done[0], last_completed=day.business_date, heartbeat_at=self._now())
            if self._cancel_asked(run):
                raise _Cancelled

        error: dict[str, str] | None = None
        try:
            eod.run_eod(self.system, until=until, on_day=progress)
            status = "done"
        except _Cancelled:
            status = "cancelled"
        except HuabeiError as e:
            t = reasons.render(e.code, e.params)
            status, error = "failed", {"code": e.code, "message": t["message"], "message_zh": t["message_zh"]}
        except Exception as e:
            status, error = "failed", {"code": "internal_error", "message": type(e).__name__, "message_zh": ""}
        finally:
            stop.set()
        self._write(run, status=status, error=error, finished_at=self._now())

    def get(self, run: str) -> dict[str, Any]:
        now = self._now()
        with self.system.uow() as uow:
            row = uow.eod.job(run)
            if row is None:
                raise errors.not_found("eod_run_not_found", run=run[:40])
            if row.status == "running" and not self._settle_stale(uow, [row], now):
                uow.commit()
                row = uow.eod.job(run)
            else:
                uow.commit()
            return _view(row)

    def cancel(self, run: str) -> dict[str, Any]:
        """Ask a running job to stop after the day it is running (any server may ask)."""
        self.get(run)  # 404, or a dead server's job settled as interrupted
        with self.system.uow() as uow:
            row = uow.eod.job(run, for_update=True)
            if row.status != "running":
                raise errors.conflict("eod_job_not_running", run=run, status=row.status)
            uow.eod.update_job(run, cancel_requested=True)
            uow.commit()
        return self.get(run)


def _view(row: Any) -> dict[str, Any]:
    return {
        "run": row.run,
        "status": row.status,
        "until": row.until.isoformat(),
        "days_total": row.days_total,
        "days_done": row.days_done,
        "last_completed": row.last_completed.isoformat() if row.last_completed else None,
        "error": row.error,
        "cancel_requested": bool(row.cancel_requested),
        # aware, as the schema's date-time says (SQLite hands stored timestamps back naive: UTC)
        "started_at": from_stored(row.started_at).isoformat(),
        "finished_at": from_stored(row.finished_at).isoformat() if row.finished_at else None,
    }
