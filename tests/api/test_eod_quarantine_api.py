"""``GET /v1/admin/eod`` lists the records the end-of-day job set aside (not yet retried), with
their number, step, kind and error; ``POST /v1/admin/eod/quarantine/{id}/retry`` runs the step
again for one of them once fixed (409 when it still fails or was retried, 404 for no such)."""

from __future__ import annotations

import datetime as dt

import httpx
import pytest
from tests.conftest import buy, new_account
from tests.storage.test_eod_isolation import _poison, line_state

from huabei.batch import eod
from huabei.money import yuan


def test_a_record_set_aside_is_listed_and_retried(api: httpx.Client, system, monkeypatch: pytest.MonkeyPatch) -> None:
    accts = [new_account(system, yuan("5000.00")) for _ in range(2)]
    start = eod.status(system)["business_date"]
    eod.run_eod(system, until=dt.date.fromisoformat(start))
    for a in accts:
        buy(system, a, yuan("1000.00"))
    day = dt.date(2026, 12, 11)  # the first bill (12-01) unpaid at its due date (12-10)
    eod.run_eod(system, until=day - dt.timedelta(days=1))
    _poison(monkeypatch, "mark_overdue", day, accts[1])
    eod.run_eod(system, date=day)

    (q,) = api.get("/v1/admin/eod").json()["quarantined"]
    assert (q["kind"], q["record"], q["step"], q["business_date"]) == (
        "account",
        str(accts[1]),
        "mark_overdue",
        str(day),
    )
    still = api.post(f"/v1/admin/eod/quarantine/{q['quarantine_id']}/retry")
    assert still.status_code == 409 and still.json()["error"]["code"] == "eod_quarantine_retry_failed"
    monkeypatch.undo()
    r = api.post(f"/v1/admin/eod/quarantine/{q['quarantine_id']}/retry")
    assert r.status_code == 200, r.text
    assert r.json()["retried_at"] is not None and r.json()["retry_counts"]["bills"] == 1
    assert api.get("/v1/admin/eod").json()["quarantined"] == []
    again = api.post(f"/v1/admin/eod/quarantine/{q['quarantine_id']}/retry")
    assert again.status_code == 409 and again.json()["error"]["code"] == "eod_quarantine_retried"
    missing = api.post("/v1/admin/eod/quarantine/999999/retry")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "eod_quarantine_not_found"
    eod.run_eod(system, date=day + dt.timedelta(days=1))
    assert line_state(system, accts[0]) == line_state(system, accts[1])
