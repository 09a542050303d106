"""End-to-end tests of the HTTP API over real HTTP (uvicorn + httpx), on SQLite and PostgreSQL.

Every refusal is checked for its stable code, both messages, and that it changed
nothing: the account, its transactions, its postings and the ledger check are the
same before and after.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from huabei.platform.unit_of_work import Huabei

CJK = re.compile(r"[\u4e00-\u9fff]")
HUGE_ID = "99999999999999999999"  # larger than any BIGINT


# --- helpers -------------------------------------------------------------------------


def key() -> dict[str, str]:
    return {"Idempotency-Key": str(uuid.uuid4())}


def assert_error(r: httpx.Response, status: int, code: str, *, remedy: bool | None = None) -> dict[str, Any]:
    assert r.status_code == status, r.text
    body = r.json()
    assert set(body) == {"error"}, body
    err = body["error"]
    assert err["code"] == code, err
    assert set(err) <= {"code", "message", "message_zh", "remedy", "remedy_zh", "reasons"}, err
    assert isinstance(err["message"], str) and err["message"].strip(), err
    assert isinstance(err["message_zh"], str) and CJK.search(err["message_zh"]), err
    assert "{" not in err["message"] and "{" not in err["message_zh"], err  # every placeholder filled
    if remedy is True:
        assert err["remedy"] and CJK.search(err["remedy_zh"]), err
    elif remedy is False:
        assert "remedy" not in err and "remedy_zh" not in err, err
    return err


def add_user(api: httpx.Client, user_id: str = "u1", verified: bool = True) -> None:
    r = api.post(
        "/v1/users", json={"user_id": user_id, "name": "李雷", "phone": "13800000000", "real_name_verified": verified}
    )
    assert r.status_code == 201, r.text


def open_line(api: httpx.Client, base_limit: str = "1000.00", user_id: str = "u1") -> int:
    add_user(api, user_id)
    r = api.post("/v1/accounts", json={"user_id": user_id, "base_limit": base_limit})
    assert r.status_code == 201, r.text
    return r.json()["account_id"]


def buy(
    api: httpx.Client,
    aid: int | str,
    amount: Any = "10.00",
    *,
    category: str = "retail",
    headers: dict[str, str] | None = None,
    merchant: str = "m-taobao",
) -> httpx.Response:
    return api.post(
        f"/v1/accounts/{aid}/purchases",
        headers=key() if headers is None else headers,
        json={"amount": amount, "merchant_id": merchant, "merchant_category": category, "channel": "online"},
    )


def bought(api: httpx.Client, aid: int, amount: str = "10.00") -> dict[str, Any]:
    r = buy(api, aid, amount)
    assert r.status_code == 201, r.text
    return r.json()


def repay(api: httpx.Client, aid: int | str, amount: Any, headers: dict[str, str] | None = None) -> httpx.Response:
    return api.post(
        f"/v1/accounts/{aid}/repayments", json={"amount": amount}, headers=key() if headers is None else headers
    )


def refund(api: httpx.Client, pid: int | str, amount: Any, headers: dict[str, str] | None = None) -> httpx.Response:
    return api.post(
        f"/v1/purchases/{pid}/refunds", json={"amount": amount}, headers=key() if headers is None else headers
    )


def account(api: httpx.Client, aid: int) -> dict[str, Any]:
    r = api.get(f"/v1/accounts/{aid}")
    assert r.status_code == 200, r.text
    return r.json()


def walk(api: httpx.Client, path: str, limit: int) -> list[list[dict[str, Any]]]:
    """Every page of a paginated list, following next_cursor."""
    pages: list[list[dict[str, Any]]] = []
    params: dict[str, Any] = {"limit": limit}
    while True:
        r = api.get(path, params=params)
        assert r.status_code == 200, r.text
        body = r.json()
        assert set(body) == {"data", "has_more", "next_cursor"}
        pages.append(body["data"])
        if not body["has_more"]:
            assert body["next_cursor"] is None
            return pages
        assert len(body["data"]) == limit
        params = {"limit": limit, "starting_after": body["next_cursor"]}
        assert len(pages) < 100, "pagination does not end"


def state(api: httpx.Client, aid: int) -> dict[str, Any]:
    """Everything a refusal must leave untouched; asserts the ledger is sound."""
    check = api.get("/v1/admin/ledger-check").json()
    assert check["ok"], check
    return {
        "account": account(api, aid),
        "transactions": api.get(f"/v1/accounts/{aid}/transactions", params={"limit": 100}).json(),
        "ledger": api.get(f"/v1/accounts/{aid}/ledger", params={"limit": 100}).json(),
        "check": check,
    }


def declines(system: Huabei) -> list[tuple[Any, ...]]:
    with system.engine.connect() as c:
        return [
            tuple(r)
            for r in c.execute(
                text("SELECT account_id, amount, merchant_category, code FROM purchase_declines ORDER BY decline_id")
            )
        ]


def set_clock(api: httpx.Client, day: str) -> None:
    r = api.post("/v1/admin/clock", json={"date": day})
    assert r.status_code == 200, r.text
    assert r.json()["business_date"] == day


# --- users and accounts --------------------------------------------------------------


def test_register_user_then_duplicate_is_409(api):
    r = api.post(
        "/v1/users",
        json={
            "user_id": "u1",
            "name": "李雷",
            "phone": "+8613800000000",
            "real_name_verified": True,
            "profile": {"education": "bachelor"},
        },
    )
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["user_id"] == "u1" and body["real_name_verified"] is True
    assert body["profile"] == {"education": "bachelor"} and body["created_on"] == "2026-11-02"
    dup = api.post(
        "/v1/users", json={"user_id": "u1", "name": "Other", "phone": "13900000000", "real_name_verified": False}
    )
    assert_error(dup, 409, "user_exists")
    got = api.get("/v1/users/u1").json()
    assert got["name"] == "李雷" and got["account_id"] is None  # the duplicate changed nothing


INVALID_USERS = [
    {"user_id": "u1", "name": "Li", "phone": "13800000000"},  # missing real_name_verified
    {"user_id": "u1", "name": "Li", "phone": "13800000000", "real_name_verified": "yes"},  # wrong type
    {"user_id": "u1", "name": "Li", "phone": 13800000000, "real_name_verified": True},  # wrong type
    {"user_id": "u1", "name": "Li", "phone": "13800000000", "real_name_verified": True, "vip": True},  # extra
    {"user_id": "u 1", "name": "Li", "phone": "13800000000", "real_name_verified": True},  # bad id
    {
        "user_id": "u1",
        "name": "Li",
        "phone": "13800000000",
        "real_name_verified": True,
        "profile": {"shoe_size": 42},
    },  # extra profile field
]


def test_invalid_user_is_400_and_creates_nothing(api):
    for body in INVALID_USERS:
        assert_error(api.post("/v1/users", json=body), 400, "invalid_request")
    assert_error(
        api.post("/v1/users", content=b"{'user_id': 'u1'}", headers={"Content-Type": "application/json"}),
        400,
        "malformed_json",
    )
    assert_error(api.get("/v1/users/u1"), 404, "user_not_found")
    # a user id POST /v1/users would refuse is a malformed path (the document states the pattern), not an unknown user
    assert_error(api.get("/v1/users/u 1"), 400, "invalid_request")


@pytest.mark.smoke
def test_open_account_view_and_one_open_line_per_user(api):
    aid = open_line(api, "5000.00")
    view = account(api, aid)
    assert {
        "account_id",
        "user_id",
        "status",
        "base_limit",
        "temporary_limit",
        "total_limit",
        "used",
        "available",
        "restrictions",
    } <= set(view)
    assert view["account_id"] == aid and view["user_id"] == "u1" and view["status"] == "active"
    assert (view["base_limit"], view["temporary_limit"], view["total_limit"], view["used"], view["available"]) == (
        "5000.00",
        "0.00",
        "5000.00",
        "0.00",
        "5000.00",
    )
    assert view["restrictions"] == []
    assert api.get("/v1/users/u1").json()["account_id"] == aid
    before = state(api, aid)
    assert_error(api.post("/v1/accounts", json={"user_id": "u1", "base_limit": "800.00"}), 409, "account_exists")
    assert state(api, aid) == before


def test_open_account_refusals(api):
    assert_error(api.post("/v1/accounts", json={"user_id": "ghost", "base_limit": "1000.00"}), 404, "user_not_found")
    add_user(api, "unverified", verified=False)
    assert_error(
        api.post("/v1/accounts", json={"user_id": "unverified", "base_limit": "1000.00"}),
        422,
        "real_name_required",
        remedy=True,
    )
    add_user(api, "u2")
    assert_error(
        api.post("/v1/accounts", json={"user_id": "u2", "base_limit": "100.00"}), 422, "base_limit_out_of_range"
    )
    assert_error(api.post("/v1/accounts", json={"user_id": "u2", "base_limit": 1000}), 400, "invalid_amount")
    # without an operator limit the automatic decision runs: a thin-file user is refused with reasons
    body = assert_error(api.post("/v1/accounts", json={"user_id": "u2"}), 422, "not_eligible")
    assert body["reasons"] and all(r["code"] and r["message"] for r in body["reasons"])
    for uid in ("unverified", "u2"):
        assert api.get(f"/v1/users/{uid}").json()["account_id"] is None
    assert "<td>u2</td>" not in api.get("/").text


def test_unknown_ids_are_404_never_500(api):
    aid = open_line(api)
    before = state(api, aid)
    for missing_id in ("999", HUGE_ID):
        check_unknown_id(api, missing_id)
    assert state(api, aid) == before


def test_malformed_ids_are_400_invalid_id(api):
    """An id that is not a positive whole number is a malformed request, not an unknown id."""
    aid = open_line(api)
    before = state(api, aid)
    for bad in ("0", "-1", "abc", "1.5"):
        err = assert_error(api.get(f"/v1/accounts/{bad}"), 400, "invalid_id")
        assert "account_id" in err["message"] and bad in err["message"]
        assert_error(buy(api, bad), 400, "invalid_id")
        assert_error(
            api.post(f"/v1/purchases/{bad}/refunds", json={"amount": "1.00"}, headers=key()), 400, "invalid_id"
        )
        assert_error(api.post(f"/v1/restrictions/{bad}/lift"), 400, "invalid_id")
        assert_error(api.get(f"/v1/installments/{bad}"), 400, "invalid_id")
    assert state(api, aid) == before


def check_unknown_id(api: httpx.Client, missing_id: str) -> None:
    a = f"/v1/accounts/{missing_id}"
    assert_error(api.get(a), 404, "account_not_found")
    assert_error(buy(api, missing_id), 404, "account_not_found")
    assert_error(repay(api, missing_id, "1.00"), 404, "account_not_found")
    assert_error(api.get(f"{a}/transactions"), 404, "account_not_found")
    assert_error(api.get(f"{a}/ledger"), 404, "account_not_found")
    assert_error(api.put(f"{a}/base-limit", json={"base_limit": "2000.00"}), 404, "account_not_found")
    assert_error(
        api.post(f"{a}/temporary-limits", json={"amount": "100.00", "expires_on": "2026-11-20"}),
        404,
        "account_not_found",
    )
    assert_error(api.post(f"{a}/restrictions", json={"cause": "operator_hold", "note": "x"}), 404, "account_not_found")
    assert_error(refund(api, missing_id, "1.00"), 404, "purchase_not_found")
    assert_error(api.post(f"/v1/restrictions/{missing_id}/lift", json={}), 404, "restriction_not_found")


# --- purchases -----------------------------------------------------------------------


def test_purchase_approved_moves_money_and_posts_a_balanced_entry(api):
    aid = open_line(api, "1000.00")
    r = buy(api, aid, "88.80")
    assert r.status_code == 201, r.text
    assert "idempotent-replayed" not in r.headers
    body = r.json()
    assert body["available"] == "911.20" and body["amount"] == "88.80" and body["status"] == "approved"
    view = account(api, aid)
    assert (view["used"], view["available"]) == ("88.80", "911.20")
    tx = api.get(f"/v1/accounts/{aid}/transactions").json()["data"]
    assert [(t["type"], t["amount"], t["ref_id"]) for t in tx] == [("purchase", "88.80", body["purchase_id"])]
    postings = api.get(f"/v1/accounts/{aid}/ledger").json()["data"]
    assert [(p["ledger_account"], p["amount"]) for p in postings] == [("customer_principal", "88.80")]
    check = api.get("/v1/admin/ledger-check").json()
    assert check["ok"] and check["entries"] == 1 and check["postings"] == 2  # + merchant_settlement


def test_non_consumption_categories_are_declined_and_only_audited(api, system):
    aid = open_line(api)
    bought(api, aid, "5.00")
    before = state(api, aid)
    audited = []
    for category in ("transfer", "cash_withdrawal", "gambling", "virtual_currency"):
        headers = key()
        r = buy(api, aid, "10.00", category=category, headers=headers)
        err = assert_error(r, 402, "category_not_allowed", remedy=True)
        assert category in err["message"]
        audited.append((aid, 1000, category, "category_not_allowed"))
        assert declines(system) == audited
        # the same request again: the same answer, and still one audit record
        again = buy(api, aid, "10.00", category=category, headers=headers)
        assert (again.status_code, again.content) == (r.status_code, r.content)
        assert declines(system) == audited
    assert state(api, aid) == before


def test_declined_purchase_writes_nothing_but_its_audit(api, system):
    aid = open_line(api, "1000.00")
    before = state(api, aid)
    err = assert_error(buy(api, aid, "1000.01"), 402, "insufficient_limit", remedy=True)
    assert "1000.01" in err["message"] and "1000.00" in err["message"]
    assert_error(buy(api, aid, "50000.01"), 402, "amount_over_single_limit", remedy=True)
    assert state(api, aid) == before
    assert [(d[1], d[3]) for d in declines(system)] == [
        (100001, "insufficient_limit"),
        (5000001, "amount_over_single_limit"),
    ]
    # the full limit is still usable
    assert buy(api, aid, "1000.00").json()["available"] == "0.00"
    assert_error(buy(api, aid, "0.01"), 402, "insufficient_limit")


def test_unknown_category_is_400_and_does_not_consume_the_key(api, system):
    aid = open_line(api)
    before = state(api, aid)
    headers = key()
    err = assert_error(buy(api, aid, "10.00", category="spaceships", headers=headers), 400, "invalid_category")
    assert "spaceships" in err["message"]
    assert state(api, aid) == before and declines(system) == []
    # an input error is not an answer to remember: the key still works for a valid request
    assert buy(api, aid, "10.00", headers=headers).status_code == 201


BAD_AMOUNTS = [-1, "0", "0.00", "1.234", "abc", 12.5, True, None, "1e3", " 1.00", "99999999999.00"]
MORE_BAD_AMOUNTS = [
    "-1.00",
    "",
    "1,000.00",
    "01.00",
    "1.",
    ".5",
    "NaN",
    "Infinity",
    "１.00",
    "1.00 ",
    "+1.00",
    "10000000.01",
    0,
    100,
    [],
    {"yuan": "1.00"},
]


#: Well-written amounts beyond any the product accepts: refused as too large, naming the maximum.
TOO_LARGE = {"99999999999.00", "10000000.01"}


def bad_amount_code(amount: object) -> str:
    return "amount_too_large" if isinstance(amount, str) and amount in TOO_LARGE else "invalid_amount"


@pytest.mark.parametrize("amount", BAD_AMOUNTS, ids=repr)
def test_bad_amount_is_400_invalid_amount_everywhere_and_changes_nothing(api, system, amount):
    aid = open_line(api, "1000.00")
    pid = bought(api, aid, "100.00")["purchase_id"]
    before = state(api, aid)
    code = bad_amount_code(amount)
    assert_error(buy(api, aid, amount), 400, code)
    assert_error(refund(api, pid, amount), 400, code)
    assert_error(repay(api, aid, amount), 400, code)
    assert_error(
        api.post(f"/v1/accounts/{aid}/temporary-limits", json={"amount": amount, "expires_on": "2026-11-20"}),
        400,
        code,
    )
    assert state(api, aid) == before
    assert declines(system) == []


def test_more_bad_amounts_and_bad_base_limits_are_400_invalid_amount(api, system):
    aid = open_line(api, "1000.00")
    add_user(api, "u2")
    before = state(api, aid)
    for amount in MORE_BAD_AMOUNTS:
        assert_error(buy(api, aid, amount), 400, bad_amount_code(amount))
        assert_error(repay(api, aid, amount), 400, bad_amount_code(amount))
    for limit in (-1, 1000, "-1.00", "1.234", "abc", None, True, "99999999999.00"):
        code = bad_amount_code(limit)
        assert_error(api.put(f"/v1/accounts/{aid}/base-limit", json={"base_limit": limit}), 400, code)
        if limit is not None:  # a null base_limit asks for the automatic decision
            assert_error(api.post("/v1/accounts", json={"user_id": "u2", "base_limit": limit}), 400, code)
    assert state(api, aid) == before and declines(system) == []
    assert api.get("/v1/users/u2").json()["account_id"] is None


BAD_PURCHASE_BODIES = [
    (b'{"amount": "1.00", "merchant_id": "m"', "malformed_json"),
    (b"not json", "malformed_json"),
    (b"", "invalid_request"),
    (b"[]", "invalid_request"),
    (b'"1.00"', "invalid_request"),
    (b'{"amount": "1.00", "merchant_category": "retail", "channel": "online"}', "invalid_request"),
    (b'{"amount": "1.00", "merchant_id": 7, "merchant_category": "retail", "channel": "online"}', "invalid_request"),
    (b'{"amount": "1.00", "merchant_id": "m", "merchant_category": "retail", "channel": "by_post"}', "invalid_request"),
    (
        b'{"amount": "1.00", "merchant_id": "m", "merchant_category": "retail", "channel": "online", "tip": "1"}',
        "invalid_request",
    ),
    (b'{"merchant_id": "m", "merchant_category": "retail", "channel": "online"}', "invalid_request"),
]


def test_malformed_or_invalid_purchase_body_is_400_and_changes_nothing(api, system):
    aid = open_line(api)
    bought(api, aid)
    before = state(api, aid)
    for content, code in BAD_PURCHASE_BODIES:
        r = api.post(
            f"/v1/accounts/{aid}/purchases", content=content, headers={**key(), "Content-Type": "application/json"}
        )
        assert_error(r, 400, code)
    assert state(api, aid) == before and declines(system) == []


def test_invalid_refund_and_repayment_bodies(api):
    aid = open_line(api)
    pid = bought(api, aid, "50.00")["purchase_id"]
    before = state(api, aid)
    for path in (f"/v1/purchases/{pid}/refunds", f"/v1/accounts/{aid}/repayments"):
        assert_error(
            api.post(path, content=b"{", headers={**key(), "Content-Type": "application/json"}), 400, "malformed_json"
        )
        assert_error(api.post(path, json={}, headers=key()), 400, "invalid_request")
        assert_error(api.post(path, json={"amount": "1.00", "extra": 1}, headers=key()), 400, "invalid_request")
    # an id that is not an integer is a malformed request
    assert_error(api.post("/v1/accounts/abc/repayments", json={"amount": "1.00"}, headers=key()), 400, "invalid_id")
    assert state(api, aid) == before


def test_money_moving_post_needs_an_idempotency_key(api, system):
    aid = open_line(api)
    pid = bought(api, aid, "50.00")["purchase_id"]
    before = state(api, aid)
    for headers in ({}, {"Idempotency-Key": ""}):
        assert_error(buy(api, aid, headers=headers), 400, "idempotency_key_required")
        assert_error(refund(api, pid, "1.00", headers=headers), 400, "idempotency_key_required")
        assert_error(repay(api, aid, "1.00", headers=headers), 400, "idempotency_key_required")
    assert_error(buy(api, aid, headers={"Idempotency-Key": "k" * 256}), 400, "invalid_idempotency_key")
    assert state(api, aid) == before and declines(system) == []


# --- idempotency ---------------------------------------------------------------------


def test_idempotent_replay_returns_the_first_answer_and_moves_money_once(api):
    aid = open_line(api, "1000.00")
    headers = key()
    first = buy(api, aid, "88.80", headers=headers)
    assert first.status_code == 201 and "idempotent-replayed" not in first.headers
    after_first = state(api, aid)
    second = buy(api, aid, "88.80", headers=headers)
    assert second.status_code == 201
    assert second.headers["Idempotent-Replayed"] == "true"
    assert second.content == first.content
    assert state(api, aid) == after_first
    assert [t["type"] for t in after_first["transactions"]["data"]] == ["purchase"]
    assert after_first["check"]["entries"] == 1 and after_first["account"]["used"] == "88.80"

    pid = first.json()["purchase_id"]
    for send in (lambda h: refund(api, pid, "8.80", headers=h), lambda h: repay(api, aid, "30.00", headers=h)):
        h = key()
        one = send(h)
        assert one.status_code == 201, one.text
        snap = state(api, aid)
        two = send(h)
        assert (two.status_code, two.content, two.headers["Idempotent-Replayed"]) == (201, one.content, "true")
        assert state(api, aid) == snap
    final = state(api, aid)
    assert [t["type"] for t in final["transactions"]["data"]] == ["repayment", "refund", "purchase"]
    assert final["account"]["used"] == "50.00"


def test_same_key_with_a_different_request_is_409_and_changes_nothing(api, system):
    aid = open_line(api, "1000.00")
    headers = key()
    pid = buy(api, aid, "88.80", headers=headers).json()["purchase_id"]
    before = state(api, aid)
    assert_error(buy(api, aid, "88.81", headers=headers), 409, "idempotency_conflict")
    assert_error(buy(api, aid, "88.80", headers=headers, merchant="m-other"), 409, "idempotency_conflict")
    rk = key()
    assert refund(api, pid, "1.00", headers=rk).status_code == 201
    pk = key()
    assert repay(api, aid, "1.00", headers=pk).status_code == 201
    before = state(api, aid)
    assert_error(refund(api, pid, "2.00", headers=rk), 409, "idempotency_conflict")
    assert_error(repay(api, aid, "2.00", headers=pk), 409, "idempotency_conflict")
    assert state(api, aid) == before and declines(system) == []


def test_replayed_decline_carries_the_replayed_header(api):
    aid = open_line(api, "1000.00")
    headers = key()
    first = buy(api, aid, "2000.00", headers=headers)
    assert first.status_code == 402
    again = buy(api, aid, "2000.00", headers=headers)
    assert (again.status_code, again.content) == (402, first.content)
    assert again.headers.get("Idempotent-Replayed") == "true"


# --- refunds and repayments ----------------------------------------------------------


def test_refund_restores_the_limit_and_never_exceeds_the_purchase(api):
    aid = open_line(api, "1000.00")
    pid = bought(api, aid, "100.00")["purchase_id"]
    r = refund(api, pid, "30.00")
    assert r.status_code == 201, r.text
    assert (r.json()["refunded_total"], r.json()["available"], r.json()["to_credit_balance"]) == (
        "30.00",
        "930.00",
        "0.00",
    )
    before = state(api, aid)
    err = assert_error(refund(api, pid, "70.01"), 422, "refund_exceeds_purchase")
    assert "70.00" in err["message"]
    assert state(api, aid) == before
    r = refund(api, pid, "70.00")
    assert r.status_code == 201 and r.json()["refunded_total"] == "100.00"
    before = state(api, aid)
    assert_error(refund(api, pid, "0.01"), 422, "refund_exceeds_purchase")
    assert state(api, aid) == before
    view = before["account"]
    assert (view["used"], view["available"], view["credit_balance"]) == ("0.00", "1000.00", "0.00")


def test_refund_after_full_repayment_becomes_a_credit_balance(api):
    aid = open_line(api, "1000.00")
    pid = bought(api, aid, "100.00")["purchase_id"]
    assert repay(api, aid, "100.00").json()["owed"] == "0.00"
    r = refund(api, pid, "40.00")
    assert r.status_code == 201, r.text
    assert r.json()["to_credit_balance"] == "40.00" and r.json()["available"] == "1000.00"
    s = state(api, aid)  # asserts the ledger check
    assert (s["account"]["used"], s["account"]["credit_balance"], s["account"]["available"]) == (
        "0.00",
        "40.00",
        "1000.00",
    )
    assert {(p["ledger_account"], p["amount"]) for p in s["ledger"]["data"]} >= {("customer_credit", "-40.00")}
    assert_error(repay(api, aid, "1.00"), 422, "nothing_owed")
    assert state(api, aid) == s


def test_repayment_restores_the_limit_and_refuses_more_than_owed(api):
    aid = open_line(api, "1000.00")
    before = state(api, aid)
    assert_error(repay(api, aid, "1.00"), 422, "nothing_owed")
    assert state(api, aid) == before
    bought(api, aid, "150.00")
    bought(api, aid, "50.00")
    r = repay(api, aid, "50.00")
    assert r.status_code == 201, r.text
    assert (r.json()["owed"], r.json()["available"], r.json()["allocation"]) == (
        "150.00",
        "850.00",
        {"customer_principal": "50.00"},
    )
    before = state(api, aid)
    err = assert_error(repay(api, aid, "150.01"), 422, "repayment_exceeds_balance")
    assert "150.00" in err["message"]
    assert state(api, aid) == before
    assert repay(api, aid, "150.00").json()["available"] == "1000.00"
    s = state(api, aid)
    assert (s["account"]["used"], s["account"]["available"]) == ("0.00", "1000.00")


# --- limits and the clock ------------------------------------------------------------


def test_temporary_limit_is_usable_before_expiry_and_gone_on_the_expiry_date(api):
    aid = open_line(api, "1000.00")
    r = api.post(f"/v1/accounts/{aid}/temporary-limits", json={"amount": "500.00", "expires_on": "2026-11-10"})
    assert r.status_code == 201, r.text
    assert (r.json()["temporary_limit"], r.json()["total_limit"], r.json()["available"]) == (
        "500.00",
        "1500.00",
        "1500.00",
    )
    assert buy(api, aid, "1200.00").status_code == 201  # beyond the base limit
    set_clock(api, "2026-11-09")  # the last day it applies
    view = account(api, aid)
    assert (view["temporary_limit"], view["total_limit"], view["available"]) == ("500.00", "1500.00", "300.00")
    assert buy(api, aid, "100.00").json()["available"] == "200.00"
    set_clock(api, "2026-11-10")  # the expiry date: gone
    before = state(api, aid)
    view = before["account"]
    assert (view["temporary_limit"], view["total_limit"], view["used"], view["available"]) == (
        "0.00",
        "1000.00",
        "1300.00",
        "0.00",
    )
    assert_error(buy(api, aid, "0.01"), 402, "insufficient_limit")
    assert state(api, aid) == before
    # repaying below the base limit frees limit again
    repay(api, aid, "400.00")
    assert buy(api, aid, "100.00").json()["available"] == "0.00"


def test_temporary_limit_refusals(api):
    aid = open_line(api)
    before = state(api, aid)
    url = f"/v1/accounts/{aid}/temporary-limits"
    assert_error(
        api.post(url, json={"amount": "100.00", "expires_on": "2026-11-02"}), 422, "temporary_limit_out_of_range"
    )  # expires today: never usable
    assert_error(
        api.post(url, json={"amount": "50000.01", "expires_on": "2026-11-20"}), 422, "temporary_limit_out_of_range"
    )
    for bad in ("2026-02-30", "next week", 1800000000, "2026-11-20T00:00:00"):
        assert_error(api.post(url, json={"amount": "100.00", "expires_on": bad}), 400, "invalid_date")
    assert_error(api.post(url, json={"amount": "100.00"}), 400, "invalid_request")
    assert state(api, aid) == before


def test_base_limit_can_be_changed_and_cut_below_used(api):
    aid = open_line(api, "1000.00")
    r = api.put(f"/v1/accounts/{aid}/base-limit", json={"base_limit": "2000.00"})
    assert r.status_code == 200 and (r.json()["base_limit"], r.json()["available"]) == ("2000.00", "2000.00")
    bought(api, aid, "800.00")
    r = api.put(f"/v1/accounts/{aid}/base-limit", json={"base_limit": "500.00"})
    assert r.status_code == 200 and (r.json()["used"], r.json()["available"]) == ("800.00", "0.00")
    before = state(api, aid)
    assert_error(
        api.put(f"/v1/accounts/{aid}/base-limit", json={"base_limit": "100.00"}), 422, "base_limit_out_of_range"
    )
    assert_error(api.put(f"/v1/accounts/{aid}/base-limit", json={"base_limit": "0"}), 422, "base_limit_out_of_range")
    assert_error(api.put(f"/v1/accounts/{aid}/base-limit", json={}), 400, "invalid_request")
    assert_error(buy(api, aid, "0.01"), 402, "insufficient_limit")
    assert state(api, aid) == before


def test_business_clock_moves_forward_only(api):
    assert api.get("/v1/admin/clock").json() == {"business_date": "2026-11-02", "mode": "simulated"}
    set_clock(api, "2026-11-02")  # standing still is fine
    set_clock(api, "2026-12-01")
    assert_error(api.post("/v1/admin/clock", json={"date": "2026-11-30"}), 409, "clock_backwards")
    for bad in ("2026-13-01", "01/12/2026", 0, None):
        assert_error(api.post("/v1/admin/clock", json={"date": bad}), 400, "invalid_date")
    assert_error(api.post("/v1/admin/clock", json={"day": "2026-12-02"}), 400, "invalid_request")
    assert api.get("/v1/admin/clock").json()["business_date"] == "2026-12-01"
    assert api.get("/healthz").json() == {"status": "ok", "business_date": "2026-12-01"}
    aid = open_line(api)
    assert account(api, aid)["opened_on"] == "2026-12-01"


# --- restrictions --------------------------------------------------------------------


def test_freeze_declines_with_the_cause_and_remedy_and_lifting_restores_purchasing(api, system):
    aid = open_line(api, "1000.00")
    bought(api, aid, "100.00")
    r = api.post(
        f"/v1/accounts/{aid}/restrictions",
        json={"cause": "wrong_password_lockout", "evidence": {"wrong_attempts": 5}, "note": "5 tries"},
    )
    assert r.status_code == 201, r.text
    restriction = r.json()
    assert restriction["active"] is True and restriction["lifts_on"] == "2026-11-03"  # 24 h → next business day
    assert restriction["evidence"] == {"wrong_attempts": 5}
    assert "24 hours" in restriction["remedy"] and CJK.search(restriction["remedy_zh"])
    before = state(api, aid)
    view = before["account"]
    assert view["status"] == "frozen"
    assert [x["cause"] for x in view["restrictions"]] == ["wrong_password_lockout"]
    err = assert_error(buy(api, aid, "1.00"), 402, "account_frozen", remedy=True)
    assert "wrong payment password" in err["message"]
    assert err["remedy"] == restriction["remedy"] and err["remedy_zh"] == restriction["remedy_zh"]
    assert state(api, aid) == before
    assert [d[3] for d in declines(system)] == ["account_frozen"]
    # a purchase-only lock still lets the user repay
    assert repay(api, aid, "10.00").status_code == 201

    lifted = api.post(f"/v1/restrictions/{restriction['restriction_id']}/lift", json={"reason": "password_reset"})
    assert lifted.status_code == 200, lifted.text
    assert (lifted.json()["active"], lifted.json()["lift_reason"], lifted.json()["lifted_on"]) == (
        False,
        "password_reset",
        "2026-11-02",
    )
    view = account(api, aid)
    assert view["status"] == "active" and view["restrictions"] == []
    assert buy(api, aid, "1.00").status_code == 201
    assert_error(api.post(f"/v1/restrictions/{restriction['restriction_id']}/lift"), 404, "restriction_not_found")


def test_operator_hold_texts_carry_the_note(api):
    aid = open_line(api)
    r = api.post(f"/v1/accounts/{aid}/restrictions", json={"cause": "operator_hold", "note": "KYC review"})
    assert r.status_code == 201, r.text
    assert r.json()["message"].endswith("KYC review") and r.json()["message_zh"].endswith("KYC review")
    shown = account(api, aid)["restrictions"][0]
    assert "KYC review" in shown["message"] and "{" not in shown["message"] + shown["message_zh"]
    lifted = api.post(f"/v1/restrictions/{r.json()['restriction_id']}/lift")  # no body: default reason
    assert lifted.status_code == 200 and lifted.json()["lift_reason"] == "lifted_by_agent"


def test_decline_under_an_operator_hold_fills_the_note(api):
    aid = open_line(api)
    placed = api.post(f"/v1/accounts/{aid}/restrictions", json={"cause": "operator_hold", "note": "KYC"})
    assert placed.status_code == 201
    assert_error(buy(api, aid, "1.00"), 402, "account_frozen")  # asserts no "{" placeholder is left


def test_restriction_refusals(api):
    aid = open_line(api)
    before = state(api, aid)
    url = f"/v1/accounts/{aid}/restrictions"
    assert_error(api.post(url, json={"cause": "bad_luck"}), 400, "invalid_request")
    assert_error(api.post(url, json={"cause": "operator_hold", "lifts_on": "2026-11-02"}), 422, "lifts_on_not_future")
    assert_error(api.post(url, json={"cause": "operator_hold", "lifts_on": "soon"}), 400, "invalid_date")
    assert_error(api.post(url, json={"cause": "operator_hold", "evidence": "none"}), 400, "invalid_request")
    assert state(api, aid) == before
    assert buy(api, aid).status_code == 201


# --- history -------------------------------------------------------------------------


def test_pagination_walks_every_page_newest_first_without_duplicates_or_gaps(api):
    aid = open_line(api, "5000.00")
    pids = [bought(api, aid, f"{i + 1}.00")["purchase_id"] for i in range(11)]
    for pid in pids[:3]:
        assert refund(api, pid, "0.50").status_code == 201
    for amount in ("5.00", "6.00"):
        assert repay(api, aid, amount).status_code == 201
    everything = api.get(f"/v1/accounts/{aid}/transactions", params={"limit": 100}).json()
    assert not everything["has_more"] and everything["next_cursor"] is None
    all_ids = [t["transaction_id"] for t in everything["data"]]
    assert len(all_ids) == 16 and all_ids == sorted(all_ids, reverse=True)
    assert [t["type"] for t in everything["data"][:5]] == ["repayment", "repayment", "refund", "refund", "refund"]
    for limit in (1, 5, 16):
        pages = walk(api, f"/v1/accounts/{aid}/transactions", limit)
        assert [t["transaction_id"] for page in pages for t in page] == all_ids
        assert len(pages) == -(-16 // limit)

    all_postings = api.get(f"/v1/accounts/{aid}/ledger", params={"limit": 100}).json()["data"]
    posting_ids = [p["posting_id"] for p in all_postings]
    assert len(posting_ids) == 16 and posting_ids == sorted(posting_ids, reverse=True)  # one customer posting each
    pages = walk(api, f"/v1/accounts/{aid}/ledger", 7)
    assert [len(p) for p in pages] == [7, 7, 2]
    assert [p["posting_id"] for page in pages for p in page] == posting_ids
    assert sum(int(p["amount"].replace(".", "")) for p in all_postings) == 6600 - 150 - 1100  # = used, in fen
    assert account(api, aid)["used"] == "53.50"


def test_bad_page_parameters_are_400(api):
    aid = open_line(api)
    for query, code in [
        ({"limit": 0}, "invalid_request"),
        ({"limit": 101}, "invalid_request"),
        ({"limit": "ten"}, "invalid_request"),
        ({"starting_after": "abc"}, "invalid_cursor"),
        ({"starting_after": HUGE_ID}, "invalid_cursor"),
        ({"starting_after": -5}, "invalid_cursor"),
    ]:
        for path in (f"/v1/accounts/{aid}/transactions", f"/v1/accounts/{aid}/ledger"):
            assert_error(api.get(path, params=query), 400, code)
    for path in (f"/v1/accounts/{aid}/transactions", f"/v1/accounts/{aid}/ledger"):
        assert api.get(path, params={"limit": 100, "starting_after": 0}).json() == {
            "data": [],
            "has_more": False,
            "next_cursor": None,
        }


def test_ledger_check_reports_a_corrupted_posting(api, system):
    aid = open_line(api)
    bought(api, aid, "10.00")
    assert api.get("/v1/admin/ledger-check").json() == {
        "ok": True,
        "entries": 1,
        "postings": 2,
        "accounts": 1,
        "findings": [],
    }
    with system.engine.begin() as c:
        c.execute(text("UPDATE postings SET amount = amount + 1 WHERE posting_id = 1"))
    check = api.get("/v1/admin/ledger-check").json()
    assert check["ok"] is False
    assert {f["invariant"] for f in check["findings"]} == {"entry_balances", "balance_equals_postings"}


# --- errors, documents and pages -----------------------------------------------------


def test_unknown_route_and_wrong_method_have_the_error_shape(api):
    assert_error(api.get("/v1/nothing-here"), 404, "route_not_found")
    r = api.delete("/v1/admin/clock")
    assert_error(r, 405, "method_not_allowed")
    assert set(r.headers["allow"].replace(" ", "").split(",")) == {"GET", "POST"}


def test_openapi_lists_the_paths_and_shows_amounts_as_strings(api):
    r = api.get("/openapi.json")
    assert r.status_code == 200
    doc = r.json()
    assert {
        "/v1/users",
        "/v1/accounts",
        "/v1/accounts/{account_id}",
        "/v1/accounts/{account_id}/purchases",
        "/v1/purchases/{purchase_id}/refunds",
        "/v1/accounts/{account_id}/repayments",
        "/v1/accounts/{account_id}/transactions",
        "/v1/accounts/{account_id}/ledger",
        "/v1/admin/clock",
        "/v1/admin/ledger-check",
        "/v1/accounts/{account_id}/base-limit",
        "/v1/accounts/{account_id}/temporary-limits",
        "/v1/accounts/{account_id}/restrictions",
        "/v1/restrictions/{restriction_id}/lift",
    } <= set(doc["paths"])
    assert set(doc["paths"]["/v1/admin/clock"]) == {"get", "post"}
    schemas = doc["components"]["schemas"]
    for model, field in (
        ("PurchaseIn", "amount"),
        ("AmountIn", "amount"),
        ("AccountIn", "base_limit"),
        ("PurchaseOut", "available"),
        ("AccountOut", "available"),
        ("AccountOut", "used"),
        ("RefundOut", "amount"),
        ("RepaymentOut", "owed"),
        ("TransactionOut", "amount"),
    ):
        prop = schemas[model]["properties"][field]
        if "anyOf" in prop:  # an optional amount (AccountIn.base_limit): string or null
            prop = next(p for p in prop["anyOf"] if p.get("type") == "string")
        assert prop["type"] == "string" and "88.80" in prop["examples"], (model, field, prop)
        assert re.fullmatch(prop["pattern"], "88.80") and not re.fullmatch(prop["pattern"], "1.234")
    purchase = doc["paths"]["/v1/accounts/{account_id}/purchases"]["post"]
    assert {"201", "400", "402", "404", "409"} <= set(purchase["responses"])
    assert any(p["name"] == "Idempotency-Key" and p["in"] == "header" for p in purchase["parameters"])
    docs = api.get("/docs")
    assert docs.status_code == 200 and "openapi.json" in docs.text


def test_html_pages_render_in_both_languages(api):
    aid = open_line(api, "1000.00")
    bought(api, aid, "88.80")
    home = api.get("/", params={"lang": "en"})
    assert home.status_code == 200 and home.headers["content-type"].startswith("text/html")
    assert "Huabei credit lines" in home.text and f"/accounts/{aid}" in home.text and "911.20" in home.text
    home_zh = api.get("/", params={"lang": "zh"})
    assert home_zh.status_code == 200 and "花呗" in home_zh.text
    page = api.get(f"/accounts/{aid}", params={"lang": "zh"})
    assert page.status_code == 200 and "花呗" in page.text and "911.20" in page.text and "lang='zh-CN'" in page.text
    assert api.post(f"/v1/accounts/{aid}/restrictions", json={"cause": "wrong_password_lockout"}).status_code == 201
    frozen = api.get(f"/accounts/{aid}", params={"lang": "zh"})
    assert frozen.status_code == 200 and "输错支付密码" in frozen.text  # the cause, in Chinese
    assert api.get("/accounts/999").status_code == 404


def test_account_page_with_a_huge_id_is_404(api):
    assert api.get(f"/accounts/{HUGE_ID}").status_code == 404


def test_account_page_shows_the_note_of_an_operator_hold(api):
    aid = open_line(api)
    assert (
        api.post(f"/v1/accounts/{aid}/restrictions", json={"cause": "operator_hold", "note": "KYC review"}).status_code
        == 201
    )
    page = api.get(f"/accounts/{aid}")
    assert page.status_code == 200 and "KYC review" in page.text and "{note}" not in page.text


def test_amount_with_a_trailing_newline_is_invalid(api):
    aid = open_line(api)
    before = state(api, aid)
    assert_error(buy(api, aid, "1.00\n"), 400, "invalid_amount")
    assert state(api, aid) == before


def test_the_demo_book_shows_scores_and_bills_on_the_pages(api, system):
    from huabei.entrypoints.demo import load_demo

    said = list(load_demo(system))
    assert said[-1].endswith("the ledger check: ok")
    from huabei.lines import queries

    ids = {a["user_id"]: a["account_id"] for a in queries.list_accounts(system, limit=100)["data"]}
    assert "demo-zhaolei" not in ids  # declined: no line
    page = api.get(f"/accounts/{ids['demo-lihua']}", params={"lang": "zh"}).text
    assert "信用分" in page and "信用历史" in page and "履约能力" in page
    assert "2026-11" in page and "已还清" in page and "临时额度" in page
    overdue = api.get(f"/accounts/{ids['demo-chenjing']}", params={"lang": "en"}).text
    assert "Credit score" in overdue and "What held the score down" in overdue
    assert overdue.count("<td class='overdue'>overdue</td>") == 2  # both bills unpaid past due
    empty = api.get(f"/accounts/{ids['demo-liuyang']}", params={"lang": "zh"}).text
    assert "暂无账单" in empty and "输错支付密码" in empty
    bills = api.get(f"/v1/accounts/{ids['demo-wangfang']}/bills").json()
    assert [b["period"] for b in bills] == ["2026-11", "2026-10"] and bills[0]["regime"] == "revolving"
    assert bills[1]["carried_to"] == "2026-11"  # the minimum payer's rest was carried, with its interest
