"""A long end-of-day job is kept in the database (``eod_jobs``): ``GET /v1/admin/eod/{run}``
answers after a restart, and a job whose server died while it ran reads ``interrupted`` with the
days it did (they are kept; the next job continues from there); ``POST /v1/admin/eod/{run}/cancel``
stops a running job between two days (``cancelled``, the days done kept); 409 when it is over."""

from __future__ import annotations

import datetime as dt
import threading
import time
from typing import Any

import httpx
import pytest

from huabei.batch import eod
from huabei.entrypoints.http.eod_jobs import EodJobs


def _gate(monkeypatch: pytest.MonkeyPatch, after: int, wait: threading.Event, then_die: bool) -> threading.Event:
    """The job's run stops after day ``after`` until ``wait`` is set (then dies, or goes on);
    returns an event set when it got there."""
    reached = threading.Event()
    real = eod.run_eod

    def run(system: Any, **kw: Any) -> Any:
        on_day = kw.pop("on_day")
        n = [0]

        def hook(day: eod.DayReport) -> None:
            on_day(day)
            n[0] += 1
            if n[0] == after:
                reached.set()
                assert wait.wait(60)
                if then_die:
                    raise RuntimeError("the server was killed")

        return real(system, on_day=hook, **kw)

    monkeypatch.setattr(eod, "run_eod", run)
    return reached


def _wait_until_over(api: httpx.Client, url: str) -> dict[str, Any]:
    deadline = time.monotonic() + 120
    while True:
        state = api.get(url).json()
        if state["status"] != "running" or time.monotonic() > deadline:
            return state
        time.sleep(0.1)


def test_a_job_whose_server_died_reads_interrupted_after_a_restart(api: httpx.Client, system, monkeypatch) -> None:
    start = dt.date.fromisoformat(eod.status(system)["business_date"])
    release = threading.Event()
    reached = _gate(monkeypatch, 2, release, then_die=True)
    dead = EodJobs(system)  # the server that will die
    job = dead.start(start + dt.timedelta(days=9), 10)
    assert reached.wait(60)
    ops = system.terms.operations.model_copy(update={"eod_job_stale_seconds": 0.2})
    monkeypatch.setattr(system, "terms", system.terms.model_copy(update={"operations": ops}))
    time.sleep(0.4)  # no heartbeat from the dead server (every 5 s)

    state = api.get(f"/v1/admin/eod/{job['run']}").json()  # another server: the api's, started later

    assert state["status"] == "interrupted", state
    assert state["days_done"] == 2 and state["last_completed"] == str(start + dt.timedelta(days=1))
    assert eod.status(system)["last_completed"] == str(start + dt.timedelta(days=1))  # the days are kept
    release.set()  # the dead server's thread ends: it changes nothing any more
    time.sleep(0.3)
    assert api.get(f"/v1/admin/eod/{job['run']}").json()["status"] == "interrupted"
    cancel = api.post(f"/v1/admin/eod/{job['run']}/cancel")
    assert cancel.status_code == 409 and cancel.json()["error"]["code"] == "eod_job_not_running"
    monkeypatch.undo()

    again = api.post("/v1/admin/eod", json={"until": str(start + dt.timedelta(days=40))})
    assert again.status_code == 202, again.text  # the interrupted job does not block the next
    assert again.json()["days_total"] == 39  # it continues from the days kept
    assert _wait_until_over(api, again.json()["url"])["status"] == "done"


def test_a_running_job_is_cancelled_between_days(api: httpx.Client, system, monkeypatch) -> None:
    start = dt.date.fromisoformat(eod.status(system)["business_date"])
    go_on = threading.Event()
    reached = _gate(monkeypatch, 1, go_on, then_die=False)
    r = api.post("/v1/admin/eod", json={"until": str(start + dt.timedelta(days=59))})
    assert r.status_code == 202, r.text
    url = r.json()["url"]
    assert reached.wait(60)

    c = api.post(f"{url}/cancel")

    assert c.status_code == 202, c.text
    assert c.json()["status"] == "running" and c.json()["cancel_requested"] is True
    go_on.set()
    state = _wait_until_over(api, url)
    assert state["status"] == "cancelled", state
    assert state["days_done"] == 2 < state["days_total"] == 60
    assert state["last_completed"] == eod.status(system)["last_completed"] == str(start + dt.timedelta(days=1))
    assert state["finished_at"] is not None
    again = api.post(f"{url}/cancel")
    assert again.status_code == 409 and again.json()["error"]["code"] == "eod_job_not_running"
    assert api.post("/v1/admin/eod/0123456789ab/cancel").status_code == 404
