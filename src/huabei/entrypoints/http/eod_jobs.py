"""A long end-of-day run as a job of the HTTP server: ``POST /v1/admin/eod`` over more than
``operations.eod_inline_days`` days starts one (202 with its id) instead of holding the request;
``GET /v1/admin/eod/{run}`` follows it (days done of days to run, the last day completed, the
error that stopped it). One job at a time per server; each day it runs is committed as it
completes (a server stopped mid-way leaves the days done, and the next run continues)."""

from __future__ import annotations

import datetime as dt
import threading
import uuid
from typing import Any

from huabei import errors, reasons
from huabei.batch import eod
from huabei.errors import HuabeiError
from huabei.platform.unit_of_work import Huabei


class EodJobs:
    #: A run's id, as :meth:`start` makes it (12 hex digits).
    RUN_PATTERN = r"^[0-9a-f]{12}$"

    def __init__(self, system: Huabei):
        self.system = system
        self._lock = threading.Lock()
        self._jobs: dict[str, dict[str, Any]] = {}

    def start(self, until: dt.date, days: int) -> dict[str, Any]:
        with self._lock:
            if any(j["status"] == "running" for j in self._jobs.values()):
                running = next(j for j in self._jobs.values() if j["status"] == "running")
                raise errors.conflict("eod_job_running", run=running["run"])
            run = uuid.uuid4().hex[:12]
            job: dict[str, Any] = {
                "run": run,
                "status": "running",
                "until": until.isoformat(),
                "days_total": days,
                "days_done": 0,
                "last_completed": None,
                "error": None,
            }
            self._jobs[run] = job
        threading.Thread(target=self._run, args=(job, until), name=f"eod-{run}", daemon=True).start()
        return dict(job)

    def _run(self, job: dict[str, Any], until: dt.date) -> None:
        def progress(day: eod.DayReport) -> None:
            with self._lock:
                job["days_done"] += 1
                job["last_completed"] = day.business_date.isoformat()

        try:
            eod.run_eod(self.system, until=until, on_day=progress)
            status, error = "done", None
        except HuabeiError as e:
            t = reasons.render(e.code, e.params)
            status, error = "failed", {"code": e.code, "message": t["message"], "message_zh": t["message_zh"]}
        except Exception as e:
            status, error = "failed", {"code": "internal_error", "message": type(e).__name__, "message_zh": ""}
        with self._lock:
            job["status"], job["error"] = status, error

    def get(self, run: str) -> dict[str, Any]:
        with self._lock:
            job = self._jobs.get(run)
            if job is None:
                raise errors.not_found("eod_run_not_found", run=run[:40])
            return dict(job)
