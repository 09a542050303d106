"""The billing endpoints over HTTP, on SQLite and PostgreSQL: the contract names (bills,
installment quotes and plans, the end-of-day admin endpoint, the bureau file), stable error
codes for bad input, idempotency of money-moving POSTs."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import httpx
import pytest
from starlette.routing import Match
from tests.api.conftest import _start, admin_headers
from tests.conftest import buy, make_system, new_account

from huabei.billing import service as billing
from huabei.entrypoints.http import billing as billing_api
from huabei.entrypoints.http.app import create_app
from huabei.money import yuan
from huabei.platform.unit_of_work import Huabei

D = dt.date


@pytest.fixture
def sys_oct(db_url: str) -> Iterator[Huabei]:
    s = make_system(db_url, start=D(2026, 10, 25))
    yield s
    s.engine.dispose()


@pytest.fixture
def client(sys_oct: Huabei) -> Iterator[httpx.Client]:
    """A live uvicorn server (as tests/api/conftest.py) running the app with the billing router."""
    app = create_app(sys_oct)
    probe = {"type": "http", "path": "/v1/accounts/1/bills", "method": "GET", "root_path": ""}
    if not any(r.matches(probe)[0] is Match.FULL for r in app.routes):  # create_app may include it already
        app.include_router(billing_api.router(sys_oct))
    server, thread, port = _start(app)
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=60.0, headers=admin_headers(sys_oct)) as c:
            yield c
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def error(r, status: int, code: str) -> dict:
    assert r.status_code == status, r.text
    body = r.json()["error"]
    assert body["code"] == code and body["message"] and body["message_zh"], body
    return body


def eod(client: httpx.Client, **body) -> dict:
    r = client.post("/v1/admin/eod", json={k: v.isoformat() for k, v in body.items()})
    assert r.status_code == 200, r.text
    return r.json()


def key(k: str) -> dict[str, str]:
    return {"Idempotency-Key": k}


def test_bills_and_the_unbilled_view(client, sys_oct):
    acct = new_account(sys_oct, yuan("5000.00"))
    eod(client, until=D(2026, 10, 28))
    buy(sys_oct, acct, yuan("88.80"))
    out = eod(client, until=D(2026, 11, 1))
    assert [d["business_date"] for d in out["days"]] == ["2026-10-29", "2026-10-30", "2026-10-31", "2026-11-01"]
    closing = {s["name"]: s for s in out["days"][-1]["steps"]}["close_bills"]
    assert closing["status"] == "ran" and closing["counts"]["bills"] == 1
    buy(sys_oct, acct, yuan("10.00"))
    r = client.get(f"/v1/accounts/{acct}/bills")
    assert r.status_code == 200 and isinstance(r.json(), list) and len(r.json()) == 1
    bill = r.json()[0]
    assert {
        k: bill[k] for k in ("period", "statement_date", "due_date", "total_due", "minimum_due", "unpaid", "status")
    } == {
        "period": "2026-11",
        "statement_date": "2026-11-01",
        "due_date": "2026-11-10",
        "total_due": "88.80",
        "minimum_due": "8.88",
        "unpaid": "88.80",
        "status": "open",
    }
    assert bill["lines"] == [
        {"kind": "purchase", "amount": "88.80", "date": "2026-10-28", "ref": bill["lines"][0]["ref"]}
    ]
    assert client.get(f"/v1/accounts/{acct}/bills/2026-11").json() == bill
    unbilled = client.get(f"/v1/accounts/{acct}/bills/unbilled").json()
    assert (unbilled["period"], unbilled["total_due"], unbilled["lines"][0]["amount"]) == ("2026-12", "10.00", "10.00")
    error(client.get(f"/v1/accounts/{acct}/bills/2026-13"), 400, "invalid_period")
    error(client.get(f"/v1/accounts/{acct}/bills/november"), 400, "invalid_period")
    error(client.get(f"/v1/accounts/{acct}/bills/2026-12"), 404, "bill_not_found")
    error(client.get("/v1/accounts/999/bills"), 404, "account_not_found")
    error(client.get(f"/v1/accounts/{2**70}/bills"), 404, "account_not_found")
    status = client.get(f"/v1/accounts/{acct}/billing").json()
    assert (status["owed"], status["billed_unpaid"], status["unbilled_principal"]) == ("98.80", "88.80", "10.00")
    # a repayment is allocated to the bill, visibly
    r = client.post(f"/v1/accounts/{acct}/repayments", json={"amount": "20.00"}, headers=key("pay-1"))
    assert r.status_code == 201, r.text
    assert client.get(f"/v1/accounts/{acct}/bills/2026-11").json()["allocations"][0]["amount"] == "20.00"


def test_installment_quotes_plans_and_early_repayment(client, sys_oct):
    acct = new_account(sys_oct, yuan("8000.00"))
    eod(client, until=D(2026, 10, 30))
    pid = buy(sys_oct, acct, yuan("1000.00")).body["purchase_id"]
    eod(client, until=D(2026, 11, 1))
    url = f"/v1/accounts/{acct}/bills/2026-11"
    r = client.post(f"{url}/installment-quotes", json={"term": 3})
    assert r.status_code == 200, r.text
    q = r.json()
    assert [(p["due_date"], p["principal"], p["fee"]) for p in q["periods"]] == [
        ("2026-12-10", "333.33", "8.33"),
        ("2027-01-10", "333.33", "8.33"),
        ("2027-02-10", "333.34", "8.34"),
    ]
    assert (q["total_fee"], q["total"]) == ("25.00", "1025.00")
    assert billing.get_bill(sys_oct, acct, "2026-11")["converted"] == 0
    error(client.post(f"{url}/installment-quotes", json={"term": 5}), 422, "installment_term_not_offered")
    error(client.post(f"{url}/installment-quotes", json={"term": "3"}), 400, "invalid_request")
    error(client.post(f"{url}/installment-quotes", json={"term": 3, "amount": 500}), 400, "invalid_amount")
    error(
        client.post(f"{url}/installment-quotes", json={"term": 3, "amount": "1000.01"}),
        422,
        "installment_exceeds_convertible_amount",
    )
    error(client.post(f"{url}/installment-quotes", json={"term": 3, "extra": 1}), 400, "invalid_request")
    error(client.post(f"/v1/accounts/{acct}/bills/2026-10/installment-quotes", json={"term": 3}), 404, "bill_not_found")
    error(client.post(f"{url}/installments", json={"term": 3}), 400, "idempotency_key_required")
    r = client.post(f"{url}/installments", json={"term": 3}, headers=key("conv-1"))
    assert r.status_code == 201, r.text
    plan = r.json()
    assert (plan["kind"], plan["period"], plan["principal"], len(plan["periods"])) == ("bill", "2026-11", "1000.00", 3)
    again = client.post(f"{url}/installments", json={"term": 3}, headers=key("conv-1"))
    assert (again.status_code, again.json(), again.headers.get("Idempotent-Replayed")) == (201, plan, "true")
    error(client.post(f"{url}/installments", json={"term": 6}, headers=key("conv-1")), 409, "idempotency_conflict")
    error(client.post(f"{url}/installments", json={"term": 6}, headers=key("conv-2")), 409, "installment_plan_exists")
    assert client.get(f"/v1/accounts/{acct}/installments").json()[0]["plan_id"] == plan["plan_id"]
    assert client.get(f"/v1/installments/{plan['plan_id']}").json() == plan
    error(client.get("/v1/installments/999"), 404, "installment_plan_not_found")
    error(client.post(f"/v1/purchases/{pid}/installment-quotes", json={"term": 3}), 409, "installment_plan_exists")
    pid2 = buy(sys_oct, acct, yuan("600.00")).body["purchase_id"]
    q = client.post(f"/v1/purchases/{pid2}/installment-quotes", json={"term": 6}).json()
    assert (q["kind"], q["principal"], q["total_fee"], q["periods"][0]["due_date"]) == (
        "purchase",
        "600.00",
        "27.00",
        "2026-12-10",
    )
    error(client.post("/v1/purchases/999/installment-quotes", json={"term": 6}), 404, "purchase_not_found")
    early = client.post(f"/v1/installments/{plan['plan_id']}/early-repayment-quote").json()
    assert (early["principal"], early["fee_waived"], early["amount"]) == ("1000.00", "25.00", "1000.00")
    error(client.post(f"/v1/installments/{plan['plan_id']}/early-repayment"), 400, "idempotency_key_required")
    r = client.post(f"/v1/installments/{plan['plan_id']}/early-repayment", headers=key("early"))
    assert r.status_code == 201 and r.json()["status"] == "repaid_early", r.text
    error(client.post(f"/v1/installments/{plan['plan_id']}/early-repayment-quote"), 422, "installment_plan_closed")
    assert client.get(f"/v1/accounts/{acct}").json()["used"] == "600.00"


def test_admin_eod_due_day_overdue_status_and_the_bureau_file(client, sys_oct):
    acct = new_account(sys_oct, yuan("2000.00"))
    eod(client, until=D(2026, 10, 26))
    buy(sys_oct, acct, yuan("100.00"))
    error(client.post("/v1/admin/eod", json={}), 400, "invalid_request")
    error(client.post("/v1/admin/eod", json={"until": "2026-11-31"}), 400, "invalid_date")
    error(client.post("/v1/admin/eod", json={"until": 20261101}), 400, "invalid_date")
    error(client.post("/v1/admin/eod", json={"date": "2026-11-05"}), 409, "eod_days_pending")
    replay = eod(client, date=D(2026, 10, 26))
    assert {s["status"] for s in replay["days"][0]["steps"]} == {"done_before"}
    assert client.get("/v1/admin/eod").json()["last_completed"] == "2026-10-26"
    error(client.put(f"/v1/accounts/{acct}/due-day", json={"due_day": 15}), 422, "due_day_not_offered")
    error(client.put(f"/v1/accounts/{acct}/due-day", json={"due_day": "9"}), 400, "invalid_request")
    assert client.put(f"/v1/accounts/{acct}/due-day", json={"due_day": 9}).json()["due_day"] == 9
    error(client.put(f"/v1/accounts/{acct}/due-day", json={"due_day": 10}), 422, "due_day_change_too_soon")
    eod(client, until=D(2026, 11, 10))  # due the 9th, nothing repaid: overdue on the 10th
    assert client.get(f"/v1/accounts/{acct}").json()["status"] == "overdue"
    r = client.post(
        f"/v1/accounts/{acct}/purchases",
        headers=key("late-buy"),
        json={"amount": "1.00", "merchant_id": "m", "merchant_category": "retail", "channel": "online"},
    )
    error(r, 402, "account_overdue")
    assert client.get(f"/v1/accounts/{acct}/bills/2026-11").json()["status"] == "overdue"
    eod(client, until=D(2026, 12, 1))
    r = client.get("/v1/admin/bureau/2026-11")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/plain")
    assert r.text.startswith("H|HUABEI-BUREAU|1|2026-11|") and f"|{acct}|" in r.text
    rec = client.get("/v1/admin/bureau/2026-11/records").json()[0]
    assert (rec["bucket"], rec["account_status"], rec["action"]) == ("dpd_1_30", "overdue", "A")
    error(  # a bucket that contradicts the days past due (and the line's overdue) is refused
        client.post(
            "/v1/admin/bureau/2026-11/corrections",
            json={"account_id": acct, "reason": "agent_review", "changes": {"bucket": "current"}},
        ),
        422,
        "bureau_correction_inconsistent",
    )
    r = client.post(
        "/v1/admin/bureau/2026-11/corrections",
        json={
            "account_id": acct,
            "reason": "agent_review",
            "changes": {"bucket": "current", "days_past_due": 0, "amount_overdue": "0", "account_status": "normal"},
        },
    )
    assert r.status_code == 201 and (r.json()["seq"], r.json()["action"]) == (2, "C")
    error(client.get("/v1/admin/bureau/2026-13"), 400, "invalid_month")
    error(client.get("/v1/admin/bureau/2025-01"), 404, "bureau_month_not_reported")
    # the clock moved on without the job: repayments wait (409), nothing half-written
    # (a jump over a day whose end-of-day never ran is refused; the next day is allowed)
    error(client.post("/v1/admin/clock", json={"date": "2026-12-03"}), 409, "clock_jump_over_eod")
    assert client.post("/v1/admin/clock", json={"date": "2026-12-02"}).status_code == 200
    error(client.post(f"/v1/accounts/{acct}/repayments", json={"amount": "1.00"}, headers=key("p")), 409, "eod_pending")
