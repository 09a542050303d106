"""The score and limit routes over HTTP (``create_app(system)`` + ``scoring.router(system)``), both databases.

Every refusal is a 4xx with a stable code; nothing answers 500 and nothing is half written.
"""

from __future__ import annotations

import datetime as dt
import warnings
from collections.abc import Iterator

import pytest

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

from tests.api.conftest import admin_headers
from tests.conftest import START_DATE, new_account

from huabei.entrypoints.http import schemas
from huabei.entrypoints.http import scoring as scoring_api
from huabei.entrypoints.http.app import create_app
from huabei.onboarding import service as onboarding
from huabei.scoring import service as scoring

D0 = START_DATE


@pytest.fixture
def client(system) -> Iterator[TestClient]:
    app = create_app(system)
    if not any(getattr(r, "path", "") == "/v1/users/{user_id}/score" for r in app.routes):
        app.include_router(scoring_api.router(system))  # until api/app.py mounts it
    with TestClient(app, raise_server_exceptions=False, headers=admin_headers(system)) as c:
        yield c


def register(client: TestClient, uid: str, verified: bool = True) -> None:
    r = client.post(
        "/v1/users",
        json={
            "user_id": uid,
            "name": "测试",
            "phone": "13800000000",
            "real_name_verified": verified,
            "profile": {
                "education": "bachelor",
                "email": f"{uid}@example.cn",
                "bank_card_bound": True,
                "id_document_expires_on": "2035-01-01",
                "occupation": "engineer",
            },
        },
    )
    assert r.status_code == 201, r.text


def strong_facts(client: TestClient, uid: str) -> None:
    r = client.post(
        f"/v1/users/{uid}/facts",
        json={
            "effective_on": D0.isoformat(),
            "facts": {
                "monthly_income": "12000.00",
                "income_verified": True,
                "assets": "50000",
                "verified_contacts": 8,
                "contacts_good_standing_ratio": 900,
                "credit_authorised": True,
            },
        },
    )
    assert r.status_code == 201, r.text
    events = [
        {
            "kind": "payment",
            "occurred_on": (D0 - dt.timedelta(days=d)).isoformat(),
            "channel": "offline" if d % 2 else "online",
            "category": ["retail", "dining", "travel", "groceries", "transport"][d % 5],
            "external_id": f"p{d}",
        }
        for d in range(1, 41)
    ]
    r = client.post(f"/v1/users/{uid}/activity-events", json={"events": events})
    assert r.status_code == 201 and r.json() == {"user_id": uid, "recorded": 40, "duplicates": 0}


def test_facts_activity_and_the_score_contract(client):
    register(client, "u1")
    assert client.get("/v1/users/u1/score").json()["provisional"] is True
    strong_facts(client, "u1")
    facts = client.get("/v1/users/u1/facts").json()["facts"]
    assert facts["monthly_income"] == "12000.00" and facts["assets"] == "50000.00" and facts["payments_90d"] == 40
    r = client.post("/v1/users/u1/score/refresh")
    assert r.status_code == 200
    s = client.get("/v1/users/u1/score").json()
    assert set(s) >= {"score", "band", "dimensions", "reasons", "as_of"}
    assert 350 <= s["score"] <= 950 and s["band"] in ("poor", "fair", "good", "very_good", "excellent")
    assert [d["dimension"] for d in s["dimensions"]] == [
        "credit_history",
        "behaviour",
        "capacity",
        "identity",
        "connections",
    ]
    assert all(isinstance(d["points"], int) and d["name_zh"] for d in s["dimensions"])
    assert s["reasons"] and all(r["code"] and r["message"] and r["message_zh"] for r in s["reasons"])
    assert s["as_of"] == D0.isoformat() and s["provisional"] is False
    history = client.get("/v1/users/u1/score/history").json()
    assert len(history["data"]) == 1 and history["data"][0]["score"] == s["score"]
    psi = client.get("/v1/scores/psi", params={"from": D0.isoformat(), "to": D0.isoformat()}).json()
    assert psi["psi"] == "0.0000" and psi["interpretation"] == "stable" and psi["from"] == D0.isoformat()


BAD_REQUESTS = [
    ("post", "/v1/users/u1/facts", {"facts": {"assets": 5000}}, 400, "invalid_amount"),
    ("post", "/v1/users/u1/facts", {"facts": {"assets": "-1"}}, 400, "invalid_amount"),
    ("post", "/v1/users/u1/facts", {"facts": {"bogus": 1}}, 400, "unknown_fact"),
    ("post", "/v1/users/u1/facts", {"facts": {"verified_contacts": "3"}}, 400, "invalid_fact"),
    ("post", "/v1/users/u1/facts", {"facts": {"payments_90d": 3}}, 400, "fact_not_accepted"),
    ("post", "/v1/users/u1/facts", {"facts": {}}, 400, "invalid_request"),
    ("post", "/v1/users/u1/facts", {"facts": {"assets": "1"}, "effective_on": "2026-12-31"}, 422, "date_in_future"),
    ("post", "/v1/users/u1/facts", {"facts": {"assets": "1"}, "effective_on": "31/12/2026"}, 400, "invalid_date"),
    ("post", "/v1/users/nobody/facts", {"facts": {"assets": "1"}}, 404, "user_not_found"),
    (
        "post",
        "/v1/users/u1/activity-events",
        {"events": [{"kind": "lottery", "occurred_on": "2026-11-01"}]},
        400,
        "invalid_request",
    ),
    ("post", "/v1/users/u1/activity-events", {"events": []}, 400, "invalid_request"),
    (
        "post",
        "/v1/users/u1/activity-events",
        {"events": [{"kind": "transfer", "occurred_on": "2026-11-03"}]},
        422,
        "date_in_future",
    ),
    (
        "post",
        "/v1/users/u1/activity-events",
        {"events": [{"kind": "payment", "occurred_on": "2026-11-01", "channel": "online", "category": "casino"}]},
        400,
        "invalid_category",
    ),
    (
        "post",
        "/v1/users/u1/activity-events",
        {"events": [{"kind": "transfer", "occurred_on": "2026-11-01", "amount": 12.5}]},
        400,
        "invalid_amount",
    ),
    ("put", "/v1/users/u1/contacts", {"contacts": [{"user_id": "u1", "verified": True}]}, 422, "contacts_refused"),
    ("get", "/v1/users/nobody/score", None, 404, "user_not_found"),
    ("post", "/v1/users/nobody/score/refresh", None, 404, "user_not_found"),
    ("get", "/v1/scores/psi?from=2026-11-01&to=2026-11-02", None, 422, "no_scores"),
    ("get", "/v1/scores/psi?from=yesterday&to=2026-11-02", None, 400, "invalid_request"),
    ("post", "/v1/accounts/99/limit-raise-applications", None, 404, "account_not_found"),
    ("post", "/v1/accounts/99999999999999999999/limit-raise-applications", None, 404, "account_not_found"),
    ("post", "/v1/accounts/1/limit-raise-applications", {"requested_limit": 100}, 400, "invalid_amount"),
    ("get", "/v1/accounts/999999/limit-changes", None, 404, "account_not_found"),
    ("get", "/v1/accounts/0/limit-changes", None, 400, "invalid_id"),
    ("get", "/v1/accounts/7/limit-evaluation", None, 404, "account_not_found"),
    ("post", "/v1/accounts/1/campaigns/nope/enrolment", None, 404, "campaign_not_found"),
]


def test_bad_requests_get_stable_codes_and_change_nothing(client):
    register(client, "u1")
    new_account(client.app.state.system, user_id="acct-owner")
    for method, path, body, status, code in BAD_REQUESTS:
        r = getattr(client, method)(path, json=body) if body is not None else getattr(client, method)(path)
        assert r.status_code == status, (method, path, body, r.text)
        assert r.json()["error"]["code"] == code and r.json()["error"]["message_zh"], (path, body)
    facts = client.get("/v1/users/u1/facts").json()["facts"]
    assert facts["assets"] is None and facts["active_days_90d"] == 0 and facts["verified_contacts"] is None
    assert client.get("/v1/accounts/1/limit-raise-applications").json() == []


def test_raise_application_contract_and_limit_history(client):
    system = client.app.state.system
    register(client, "u1")
    strong_facts(client, "u1")
    acct = onboarding.open_account(system, user_id="u1", base_limit=100_000)["account_id"]
    r = client.post(f"/v1/accounts/{acct}/limit-raise-applications", json={"requested_limit": "1200.00"})
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["decision"] == "approved" and body["new_limit"] == "1200.00" and body["old_limit"] == "1000.00"
    assert body["reasons"][0]["code"] == "raise_application_approved" and body["reasons"][0]["message_zh"]
    r = client.post(f"/v1/accounts/{acct}/limit-raise-applications")
    assert r.status_code == 201
    assert r.json()["decision"] == "declined" and r.json()["new_limit"] == "1200.00"
    assert r.json()["reasons"][0]["code"] == "too_frequent"
    assert [a["decision"] for a in client.get(f"/v1/accounts/{acct}/limit-raise-applications").json()] == [
        "declined",
        "approved",
    ]
    changes = client.get(f"/v1/accounts/{acct}/limit-changes").json()
    assert [(c["old_value"], c["new_value"]) for c in changes] == [("1000.00", "1200.00"), ("0.00", "1000.00")]
    assert changes[0]["policy_version"].startswith("limit-v1-") and changes[0]["reasons"][0]["message"]
    ev = client.get(f"/v1/accounts/{acct}/limit-evaluation").json()
    assert ev["base_limit"] == "1200.00" and ev["review"]["action"] in ("raise", "none", "cut")
    assert set(ev["multipliers"]) == {"income", "assets", "activity", "history", "completeness", "diversity"}


def test_campaign_routes(client):
    system = client.app.state.system
    acct = new_account(system, base_limit=500_000, user_id="p")
    listed = client.get("/v1/campaigns").json()
    assert {c["code"] for c in listed} == {"spend_challenge", "scenario_explorer"}
    assert listed[0]["reward"]["amount"] == "1000.00" and listed[0]["task"]["min_payment"] == "10.00"
    r = client.post(f"/v1/accounts/{acct}/campaigns/spend_challenge/enrolment")
    assert r.status_code == 201 and r.json()["status"] == "in_progress"
    assert r.json()["progress"] == {"payments": 0, "required_payments": 10, "categories": 0, "required_categories": 3}
    again = client.post(f"/v1/accounts/{acct}/campaigns/spend_challenge/enrolment")
    assert again.status_code == 409 and again.json()["error"]["code"] == "campaign_already_joined"
    assert [e["campaign"] for e in client.get(f"/v1/accounts/{acct}/campaigns").json()] == ["spend_challenge"]


def test_contacts_route(client):
    register(client, "u1")
    register(client, "friend")
    r = client.put(
        "/v1/users/u1/contacts", json={"contacts": [{"user_id": "friend", "verified": True}, {"user_id": "stranger"}]}
    )
    assert r.status_code == 200 and len(r.json()["contacts"]) == 2
    assert client.get("/v1/users/u1/facts").json()["facts"]["verified_contacts"] == 1


def test_open_account_with_only_a_user_id(client):
    """The contract of ``POST /v1/accounts`` without an operator limit: the automatic decision."""
    assert not schemas.AccountIn.model_fields["base_limit"].is_required()
    register(client, "thin")
    r = client.post("/v1/accounts", json={"user_id": "thin"})
    assert r.status_code == 422 and r.json()["error"]["code"] == "not_eligible"
    reasons = r.json()["error"]["reasons"]
    assert reasons[0]["code"] == "score_below_threshold" and "600" in reasons[0]["message"]
    register(client, "strong")
    strong_facts(client, "strong")
    r = client.post("/v1/accounts", json={"user_id": "strong"})
    assert r.status_code == 201 and float(r.json()["base_limit"]) >= 500
    assert scoring.get_score(client.app.state.system, "strong")["score"] >= 600
