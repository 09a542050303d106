"""The risk engine's inputs over HTTP, on both databases: phone and bank-card changes freeze a line
as a suspected takeover and a re-verification lifts it; the host's report of a serious overdue on
another credit product freezes it until cleared; the policy and the decisions are readable."""

from __future__ import annotations

import datetime as dt

from tests.conftest import START_DATE, new_account

from huabei.batch.eod import run_eod


def _user_of(api, account_id: int) -> str:
    return api.get(f"/v1/accounts/{account_id}").json()["user_id"]


def _buy(api, account_id: int, key: str):
    body = {"amount": "10.00", "merchant_id": "m-1", "merchant_category": "retail", "channel": "online"}
    return api.post(f"/v1/accounts/{account_id}/purchases", json=body, headers={"Idempotency-Key": key})


def test_contact_churn_freezes_and_reverification_lifts(system, api) -> None:
    acct = new_account(system, 300_000)
    user = _user_of(api, acct)
    run_eod(system, until=START_DATE)
    for i, change in enumerate(({"phone": "13900000001"}, {"bank_card": "6222****0001"}, {"phone": "13900000002"})):
        out = api.patch(f"/v1/users/{user}", json=change)
        assert out.status_code == 200, out.text
        assert out.json()["changed"] == list(change), i
    assert api.patch(f"/v1/users/{user}", json={"phone": "13900000002"}).json()["changed"] == []  # no change
    assert api.patch(f"/v1/users/{user}", json={}).status_code == 400
    run_eod(system, until=START_DATE + dt.timedelta(days=1))
    (r,) = api.get(f"/v1/accounts/{acct}").json()["restrictions"]
    assert r["cause"] == "account_takeover_suspected" and r["evidence"]["rule_id"] == "takeover_detail_churn"
    assert len(r["evidence"]["ids"]["profile_changes"]) == 3
    declined = _buy(api, acct, "after-churn")
    assert declined.status_code == 402 and declined.json()["error"]["code"] == "account_frozen"
    v = api.post(f"/v1/users/{user}/verifications", json={"method": "face"})
    assert v.status_code == 201 and v.json()["lifted"] == [r["restriction_id"]]
    assert api.get(f"/v1/accounts/{acct}").json()["restrictions"] == []
    assert _buy(api, acct, "after-verification").status_code == 201
    # re-verified: the same changes do not freeze it again the next day
    run_eod(system, until=START_DATE + dt.timedelta(days=2))
    assert api.get(f"/v1/accounts/{acct}").json()["restrictions"] == []
    decisions = api.get(f"/v1/accounts/{acct}/risk-decisions").json()["data"]
    assert [(d["action"], d["run"]) for d in decisions] == [("restrict", "daily"), ("lift", "verification")]


def test_overdue_reported_elsewhere_freezes_until_the_host_reports_it_cleared(system, api) -> None:
    acct = new_account(system, 300_000)
    user = _user_of(api, acct)
    run_eod(system, until=START_DATE)
    report = {"product": "jiebei", "days_past_due": 45, "amount_overdue": "1200.00"}
    out = api.post(f"/v1/users/{user}/external-credit-reports", json=report)
    assert out.status_code == 201, out.text
    assert (
        api.post(f"/v1/users/{user}/external-credit-reports", json={**report, "days_past_due": -1}).status_code == 400
    )
    run_eod(system, until=START_DATE + dt.timedelta(days=1))
    (r,) = api.get(f"/v1/accounts/{acct}").json()["restrictions"]
    assert (r["cause"], r["evidence"]["rule_id"]) == ("overdue_reported", "overdue_elsewhere")
    assert r["evidence"]["inputs"]["overdue_elsewhere_days"] == 45
    assert _buy(api, acct, "while-overdue-elsewhere").status_code == 402
    api.post(f"/v1/users/{user}/external-credit-reports", json={"product": "jiebei", "days_past_due": 0})
    run_eod(system, until=START_DATE + dt.timedelta(days=2))
    assert api.get(f"/v1/accounts/{acct}").json()["restrictions"] == []
    assert _buy(api, acct, "cleared").status_code == 201


def test_the_policy_in_force_is_readable(api) -> None:
    out = api.get("/v1/risk/policy")
    assert out.status_code == 200 and out.json()["policy"]["version"] == "2026.11-default"
