"""Schemathesis over the end-of-day routes, on SQLite and PostgreSQL, reaching real rows: a run
that was started as a job (``GET /v1/admin/eod/{run}``, its cancel) and a record the job set aside
(``POST /v1/admin/eod/quarantine/{quarantine_id}/retry``, whose step still fails), beside
``POST /v1/admin/eod`` and ``GET /v1/admin/eod``, with every check and every phase of the whole-API
fuzz (tests/api/test_fuzz.py, whose random ids almost never name a run or a set-aside record).

The run and the record are given to their operations as path parameters (schemathesis'
``parameters``), so each call names a real row; the bodies and the other operations are fuzzed as
usual. Nothing may fail, and each operation must have answered from a real row at least once
(200 for the run, 409 ``eod_quarantine_retry_failed`` for the record that still fails)."""

from __future__ import annotations

import datetime as dt
import time
from collections import defaultdict

import pytest
import schemathesis
from schemathesis.config import SchemathesisConfig
from schemathesis.engine import events, from_schema
from tests.api.conftest import key_for
from tests.api.test_fuzz import FUZZ_EXAMPLES, FUZZ_SEED, _failures, fuzz_system  # noqa: F401 (a fixture)
from tests.conftest import buy, new_account
from tests.storage.test_eod_isolation import _poison

from huabei.batch import eod
from huabei.entrypoints.http.app import create_app
from huabei.money import yuan
from huabei.platform.unit_of_work import Huabei

ROUTES = {
    ("POST", "/v1/admin/eod"),
    ("GET", "/v1/admin/eod"),
    ("GET", "/v1/admin/eod/{run}"),
    ("POST", "/v1/admin/eod/{run}/cancel"),
    ("POST", "/v1/admin/eod/quarantine/{quarantine_id}/retry"),
}


def _seed(system: Huabei, monkeypatch: pytest.MonkeyPatch, admin: str) -> tuple[str, int]:
    """A record set aside by the overdue step (which keeps failing on that line), and a finished
    end-of-day job: (the job's run id, the record's number)."""
    from fastapi.testclient import TestClient

    accts = [new_account(system, yuan("5000.00")) for _ in range(2)]
    eod.run_eod(system, until=dt.date.fromisoformat(eod.status(system)["business_date"]))
    for a in accts:
        buy(system, a, yuan("1000.00"))
    day = dt.date(2026, 12, 11)  # the 12-01 bills unpaid at their due date (12-10)
    eod.run_eod(system, until=day - dt.timedelta(days=1))
    _poison(monkeypatch, "mark_overdue", day, accts[1])
    eod.run_eod(system, date=day)
    (q,) = eod.status(system)["quarantined"]
    with TestClient(create_app(system)) as c:
        headers = {"Authorization": f"Bearer {admin}"}
        r = c.post("/v1/admin/eod", json={"until": "2027-01-31"}, headers=headers)  # 51 days: a job
        assert r.status_code == 202, r.text
        deadline = time.monotonic() + 120
        while c.get(r.json()["url"], headers=headers).json()["status"] == "running" and time.monotonic() < deadline:
            time.sleep(0.2)
    return r.json()["run"], q["quarantine_id"]


@pytest.mark.slow
def test_the_end_of_day_routes_pass_every_check_on_real_rows(
    fuzz_system: Huabei,  # noqa: F811 (the fixture imported above)
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    admin = key_for(fuzz_system, "admin")
    run, quarantine_id = _seed(fuzz_system, monkeypatch, admin)
    app = create_app(fuzz_system)
    auth = {"Authorization": f"Bearer {admin}"}
    ids = {"{run}": {"run": run}, "{quarantine_id}": {"quarantine_id": quarantine_id}}
    operations = []
    for method, path in sorted(ROUTES):
        op = {"include-path": path, "include-method": method, "headers": auth}
        params = next((v for k, v in ids.items() if k in path), None)
        if params:
            op["parameters"] = params
        operations.append(op)
    config = SchemathesisConfig.from_dict(
        {
            "seed": FUZZ_SEED,
            "generation": {"max-examples": FUZZ_EXAMPLES * 3},
            "checks": {
                "enabled": True,
                "positive_data_acceptance": {
                    "expected-statuses": ["2xx", "3xx", "401", "403", "404", "409", "429", "402", "422"]
                },
            },
            "operations": operations,
        }
    )
    document = app.openapi()  # served as is, but for the end-of-day routes only
    app.openapi_schema = {**document, "paths": {p: v for p, v in document["paths"].items() if "/admin/eod" in p}}
    selected = schemathesis.openapi.from_asgi("/openapi.json", app, config=config)
    found, cases = _failures(selected)
    assert not found, f"{len(found)} schemathesis failure(s):\n" + "\n".join(found)

    answered: dict[str, set[int]] = defaultdict(set)
    for event in from_schema(selected).execute():
        if isinstance(event, events.ScenarioFinished):
            for interaction in event.recorder.interactions.values():
                if interaction.response is not None:
                    answered[event.recorder.label].add(interaction.response.status_code)
    assert {label.split(" ", 1)[1] for label in answered} >= {p for _, p in ROUTES}, answered
    assert 200 in answered["GET /v1/admin/eod/{run}"], answered
    assert 409 in answered["POST /v1/admin/eod/quarantine/{quarantine_id}/retry"], answered
    assert cases > 5 * len(ROUTES)
    assert len(selected) == len(ROUTES)
