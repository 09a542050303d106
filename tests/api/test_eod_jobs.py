"""A long end-of-day run is a job: ``POST /v1/admin/eod`` over more than
``operations.eod_inline_days`` days answers 202 with the run's id and url at once, the run goes
on after the request, ``GET /v1/admin/eod/{run}`` follows it to ``done``; a short run still
answers inline; one job at a time; an unknown run is 404."""

from __future__ import annotations

import time

import httpx

from huabei.batch import eod


def test_a_long_run_is_a_job_that_can_be_followed(api: httpx.Client, system) -> None:
    short = api.post("/v1/admin/eod", json={"until": "2026-11-03"})
    assert short.status_code == 200 and short.json()["last_completed"] == "2026-11-03"

    r = api.post("/v1/admin/eod", json={"until": "2027-01-10"})
    assert r.status_code == 202, r.text
    job = r.json()  # an empty book can run 68 days before the answer is written: running or done
    assert (
        job["status"] in ("running", "done") and job["days_total"] == 68 and job["url"] == f"/v1/admin/eod/{job['run']}"
    )
    second = api.post("/v1/admin/eod", json={"until": "2027-02-20"})
    assert second.status_code in (202, 409)  # 409 eod_job_running while the first goes on
    if second.status_code == 409:
        assert second.json()["error"]["code"] == "eod_job_running"
    deadline = time.monotonic() + 120
    while True:
        state = api.get(job["url"]).json()
        assert state["days_done"] <= state["days_total"]
        if state["status"] != "running" or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert state["status"] == "done", state
    assert state["days_done"] == 68 and state["last_completed"] == "2027-01-10" and state["error"] is None
    if second.status_code == 202:  # the first was done already: let the second finish too
        while api.get(second.json()["url"]).json()["status"] == "running" and time.monotonic() < deadline:
            time.sleep(0.2)
    assert eod.status(system)["last_completed"] in ("2027-01-10", "2027-02-20")
    missing = api.get("/v1/admin/eod/0123456789ab")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "eod_run_not_found"
    malformed = api.get("/v1/admin/eod/nosuchrun")  # not a run id as the server makes them
    assert malformed.status_code == 400 and malformed.json()["error"]["code"] == "invalid_request"
