"""The freeze flows over real HTTP, on SQLite and PostgreSQL: the payment password, closing and
applying again."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from zoneinfo import ZoneInfo

import httpx
import pytest
from tests.api.test_http_api import CJK, add_user, key, open_line
from tests.api.test_scoring_api import register as register_user
from tests.api.test_scoring_api import strong_facts
from tests.conftest import make_system

from huabei.clock import ManualWallClock
from huabei.config import PasswordTerms, ProductTerms
from huabei.platform.unit_of_work import Huabei

T0 = dt.datetime(2026, 11, 2, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))


@pytest.fixture
def system(db_url: str) -> Iterator[Huabei]:
    """The ``api`` fixture's system: cheap argon2 parameters and a wall clock the test sets."""
    s = make_system(
        db_url, ProductTerms(passwords=PasswordTerms(hash_time_cost=1, hash_memory_kib=4096, hash_parallelism=1))
    )
    s.wall_clock = ManualWallClock(T0)
    yield s
    s.engine.dispose()


def err(r: httpx.Response, status: int, code: str) -> dict:
    assert r.status_code == status, r.text
    e = r.json()["error"]
    assert e["code"] == code, e
    assert e["message"] and CJK.search(e["message_zh"]) and "{" not in e["message"] + e["message_zh"], e
    return e


def pay(api: httpx.Client, aid: int, password: str | None = None) -> httpx.Response:
    body = {"amount": "10.00", "merchant_id": "m-1", "merchant_category": "retail", "channel": "online"}
    if password is not None:
        body["password"] = password
    return api.post(f"/v1/accounts/{aid}/purchases", headers=key(), json=body)


def test_payment_password_over_http(api: httpx.Client) -> None:
    aid = open_line(api)
    r = api.get("/v1/users/u1/payment-password")
    assert r.status_code == 200 and r.json()["has_password"] is False
    err(api.put("/v1/users/u1/payment-password", json={"password": "12a456"}), 400, "invalid_payment_password")
    err(api.put("/v1/users/u1/payment-password", json={"password": 135790}), 400, "invalid_request")
    err(api.put("/v1/users/nobody/payment-password", json={"password": "135790"}), 404, "user_not_found")
    r = api.put("/v1/users/u1/payment-password", json={"password": "135790"})
    assert r.status_code == 200 and r.json()["has_password"] and r.json()["attempts_left"] == 5
    err(api.put("/v1/users/u1/payment-password", json={"password": "135790"}), 409, "payment_password_exists")

    err(pay(api, aid), 402, "password_required")
    e = err(pay(api, aid, "000000"), 402, "wrong_password")
    assert e["details"] == {"attempts_left": 4} and "4" in e["message"] and "4" in e["message_zh"]
    assert pay(api, aid, "135790").status_code == 201
    for left in (4, 3, 2, 1):
        assert err(pay(api, aid, "000000"), 402, "wrong_password")["details"]["attempts_left"] == left
    e = err(pay(api, aid, "000000"), 402, "password_locked")
    assert dt.datetime.fromisoformat(e["details"]["unlocks_at"]) == T0 + dt.timedelta(hours=24)
    assert "2026-11-03 10:00" in e["message"] and "2026-11-03 10:00" in e["message_zh"] and e["remedy_zh"]
    err(pay(api, aid, "135790"), 402, "password_locked")
    view = api.get(f"/v1/accounts/{aid}").json()
    (r,) = view["restrictions"]
    assert view["status"] == "frozen" and r["cause"] == "wrong_password_lockout" and CJK.search(r["message_zh"])
    # repayments keep working while payments are locked
    assert api.post(f"/v1/accounts/{aid}/repayments", headers=key(), json={"amount": "5.00"}).status_code == 201

    err(api.post("/v1/users/u1/payment-password/reset", json={"password": "1"}), 400, "invalid_payment_password")
    r = api.post("/v1/users/u1/payment-password/reset", json={"password": "246801"})
    assert r.status_code == 200 and r.json()["locked"] is False
    assert api.get(f"/v1/accounts/{aid}").json()["restrictions"] == []
    assert pay(api, aid, "246801").status_code == 201
    add_user(api, "u2")
    assert api.get("/v1/admin/ledger-check").json()["ok"]


PURCHASE = {"amount": "10.00", "merchant_id": "m-1", "merchant_category": "retail", "channel": "online"}


def test_close_and_apply_again_over_http(api: httpx.Client) -> None:
    register_user(api, "strong")  # type: ignore[arg-type]
    strong_facts(api, "strong")  # type: ignore[arg-type]
    r = api.post("/v1/accounts", json={"user_id": "strong"})
    assert r.status_code == 201, r.text
    aid = r.json()["account_id"]
    assert api.post(f"/v1/accounts/{aid}/purchases", headers=key(), json=PURCHASE).status_code == 201
    e = err(api.post(f"/v1/accounts/{aid}/close", json={}), 422, "balance_outstanding")
    assert "10.00" in e["message"] and e["remedy_zh"]
    assert api.post(f"/v1/accounts/{aid}/repayments", headers=key(), json={"amount": "10.00"}).status_code == 201
    err(api.post(f"/v1/accounts/{aid}/close", json={"reason": ""}), 400, "invalid_request")
    err(api.post("/v1/accounts/999999/close"), 404, "account_not_found")
    r = api.post(f"/v1/accounts/{aid}/close", json={"reason": "moving abroad"})
    assert r.status_code == 200 and r.json()["status"] == "closed"
    err(api.post(f"/v1/accounts/{aid}/close"), 409, "account_already_closed")
    err(api.post(f"/v1/accounts/{aid}/purchases", headers=key(), json=PURCHASE), 402, "account_closed")
    # applying again: the automatic decision opens a new line (no 409 account_exists)
    r = api.post("/v1/accounts", json={"user_id": "strong"})
    assert r.status_code == 201, r.text
    assert r.json()["account_id"] != aid and r.json()["status"] == "active"
    assert api.get("/v1/users/strong").json()["account_id"] == r.json()["account_id"]
    err(api.post("/v1/accounts", json={"user_id": "strong"}), 409, "account_exists")


def test_maintenance_windows_over_http(api: httpx.Client) -> None:
    aid = open_line(api)
    # the wall clock says 10:00 on the business date 2026-11-02 (Asia/Shanghai)
    bad = {"start": "2026-11-02T12:00:00+08:00", "end": "2026-11-02T11:00:00+08:00", "reason": "upgrade"}
    err(api.post("/v1/admin/maintenance-windows", json=bad), 422, "invalid_window")
    bad = {"start": "2026-11-02T08:00:00+08:00", "end": "2026-11-02T09:00:00+08:00", "reason": "upgrade"}
    err(api.post("/v1/admin/maintenance-windows", json=bad), 422, "window_already_ended")
    for ts in ("tomorrow", "2026-11-02", "2026-13-02T10:00"):
        bad = {"start": ts, "end": "2026-11-02T12:00", "reason": "upgrade"}
        err(api.post("/v1/admin/maintenance-windows", json=bad), 400, "invalid_timestamp")
    err(api.post("/v1/admin/maintenance-windows", json={"start": 1, "end": 2, "reason": "x"}), 400, "invalid_request")
    bad = {
        "start": "2026-11-02T09:00",
        "end": "2026-11-02T12:00",
        "reason": "x",
        "scope": "funding",
        "partner": "nobody",
    }
    err(api.post("/v1/admin/maintenance-windows", json=bad), 400, "unknown_funding_partner")
    assert api.get("/v1/admin/maintenance-windows", params={"status": "all"}).json() == []

    r = api.post(
        "/v1/admin/maintenance-windows",
        json={"start": "2026-11-02T09:30", "end": "2026-11-02T11:30", "reason": "core upgrade"},
    )
    assert r.status_code == 201, r.text
    w = r.json()
    assert w["status"] == "active" and w["ends_at"] == "2026-11-02T11:30:00+08:00" and w["scope"] == "everyone"
    e = err(pay(api, aid), 402, "maintenance")
    assert e["details"]["ends_at"] == "2026-11-02T11:30:00+08:00" and "2026-11-02 11:30" in e["message_zh"]
    assert (
        api.post(f"/v1/accounts/{aid}/repayments", headers=key(), json={"amount": "1.00"}).status_code == 422
    )  # nothing owed: not maintenance
    assert [x["window_id"] for x in api.get("/v1/admin/maintenance-windows").json()] == [w["window_id"]]
    r = api.post(f"/v1/admin/maintenance-windows/{w['window_id']}/cancel", json={"reason": "finished early"})
    assert r.status_code == 200 and r.json()["status"] == "cancelled"
    err(api.post(f"/v1/admin/maintenance-windows/{w['window_id']}/cancel"), 409, "maintenance_window_closed")
    err(api.post("/v1/admin/maintenance-windows/424242/cancel"), 404, "maintenance_window_not_found")
    err(api.post("/v1/admin/maintenance-windows/0/cancel"), 400, "invalid_id")
    assert pay(api, aid).status_code == 201


def test_appeals_over_http(api: httpx.Client) -> None:
    aid = open_line(api)
    pid = api.post(f"/v1/accounts/{aid}/purchases", headers=key(), json=PURCHASE).json()["purchase_id"]
    hold = api.post(f"/v1/accounts/{aid}/restrictions", json={"cause": "cash_out_suspected"}).json()
    overdue = api.post(f"/v1/accounts/{aid}/restrictions", json={"cause": "overdue_reported"}).json()
    e = err(
        api.post(f"/v1/accounts/{aid}/appeals", json={"restriction_id": overdue["restriction_id"], "statement": "x"}),
        422,
        "not_appealable",
    )
    assert e["remedy"] and e["remedy_zh"]  # the cause's remedy: repay, keep a good record
    body = {"restriction_id": hold["restriction_id"], "statement": "我买的是手机", "purchase_ids": [pid]}
    r = api.post(f"/v1/accounts/{aid}/appeals", json=body)
    assert r.status_code == 201, r.text
    appeal = r.json()
    err(api.post(f"/v1/accounts/{aid}/appeals", json=body), 409, "appeal_exists")
    err(api.post(f"/v1/accounts/{aid}/appeals", json={**body, "statement": ""}), 400, "invalid_request")
    assert [a["appeal_id"] for a in api.get("/v1/appeals", params={"status": "open"}).json()] == [appeal["appeal_id"]]
    d = {"decision": "lift", "reason": "receipt checked", "outcome": "confirmed"}
    err(api.post(f"/v1/appeals/{appeal['appeal_id']}/decision", json=d), 400, "invalid_outcome")
    r = api.post(f"/v1/appeals/{appeal['appeal_id']}/decision", json={**d, "outcome": "false_positive"})
    assert r.status_code == 200 and r.json()["status"] == "lifted"
    err(
        api.post(f"/v1/appeals/{appeal['appeal_id']}/decision", json={**d, "outcome": "false_positive"}),
        409,
        "appeal_closed",
    )
    err(api.post("/v1/appeals/424242/decision", json={**d, "outcome": "goodwill"}), 404, "appeal_not_found")
    mine = api.get(f"/v1/accounts/{aid}/appeals").json()
    assert [(a["status"], a["outcome"]) for a in mine] == [("lifted", "false_positive")]
    assert [x["cause"] for x in api.get(f"/v1/accounts/{aid}").json()["restrictions"]] == ["overdue_reported"]
