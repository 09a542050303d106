"""``POST /v1/purchases/batch``: the gateway's batch of purchases, each with its own key and answer,
over HTTP on both databases (the answers themselves are compared with one-by-one purchases in
tests/storage/test_purchase_batch.py)."""

from __future__ import annotations

from typing import Any

from tests.api.conftest import auth_headers, key_for
from tests.api.test_http_api import assert_error, open_line

BATCH = "/v1/purchases/batch"


def _item(aid: int, amount: str, key: str, merchant: str = "m-1") -> dict[str, Any]:
    return {
        "account_id": aid,
        "idempotency_key": key,
        "amount": amount,
        "merchant_id": merchant,
        "merchant_category": "retail",
        "channel": "online",
    }


def test_the_gateway_gets_one_answer_per_purchase_in_order(api, system):
    a = open_line(api, "1000.00", "u1")
    b = open_line(api, "500.00", "u2")
    gw = auth_headers(key_for(system, "gateway"))
    body = {
        "purchases": [
            _item(a, "600.00", "g1"),
            _item(b, "100.00", "g2"),
            _item(a, "600.00", "g3"),  # 400.00 left after g1: declined
            _item(a, "600.00", "g1"),  # g1 again: its first answer
            _item(a, "1.00", "g1"),  # g1 with another body: conflict
            _item(987654321, "1.00", "g4"),
            _item(a, "400.00", "g5"),
        ]
    }
    r = api.post(BATCH, json=body, headers=gw)
    assert r.status_code == 200, r.text
    res = r.json()["results"]
    assert [(x["idempotency_key"], x["status"]) for x in res] == [
        ("g1", 201),
        ("g2", 201),
        ("g3", 402),
        ("g1", 201),
        ("g1", 409),
        ("g4", 404),
        ("g5", 201),
    ]
    assert res[0]["purchase"]["available"] == "400.00" and res[6]["purchase"]["available"] == "0.00"
    assert res[3]["replayed"] and res[3]["purchase"] == res[0]["purchase"]
    assert res[2]["error"]["code"] == "insufficient_limit" and res[2]["error"]["message_zh"]
    assert res[4]["error"]["code"] == "idempotency_conflict"
    assert res[5]["error"]["code"] == "account_not_found"
    assert api.get(f"/v1/accounts/{a}").json()["used"] == "1000.00"
    # the same batch again moves nothing: every stored answer replays
    again = api.post(BATCH, json=body, headers=gw).json()["results"]
    assert [x["replayed"] for x in again] == [True, True, True, True, False, False, True]
    assert api.get(f"/v1/accounts/{a}").json()["used"] == "1000.00"
    # a single purchase under a key of the batch replays the batch's answer (one key space)
    single = api.post(
        f"/v1/accounts/{b}/purchases",
        json={k: v for k, v in _item(b, "100.00", "x").items() if k not in ("account_id", "idempotency_key")},
        headers={**gw, "Idempotency-Key": "g2"},
    )
    assert single.status_code == 201 and single.headers["idempotent-replayed"] == "true"
    assert single.json() == res[1]["purchase"]


def test_only_the_gateway_may_send_a_batch(api, system):
    a = open_line(api, "1000.00", "u1")
    body = {"purchases": [_item(a, "1.00", "k")]}
    for role in ("risk", "agent"):
        assert_error(api.post(BATCH, json=body, headers=auth_headers(key_for(system, role))), 403, "forbidden")
    customer = auth_headers(key_for(system, "customer", user_id="u1"))
    assert_error(api.post(BATCH, json=body, headers=customer), 403, "forbidden")
    assert_error(api.post(BATCH, json=body, headers={"Authorization": ""}), 401, "unauthenticated")
    assert api.get(f"/v1/accounts/{a}").json()["used"] == "0.00"


def test_a_bad_batch_is_400_and_decides_nothing(api, system):
    a = open_line(api, "1000.00", "u1")
    gw = auth_headers(key_for(system, "gateway"))
    too_many = {"purchases": [_item(a, "1.00", f"k{i}") for i in range(101)]}
    bad_amount = {"purchases": [_item(a, "1.00", "k1"), _item(a, "1.001", "k2")]}
    no_key = {"purchases": [{k: v for k, v in _item(a, "1.00", "k").items() if k != "idempotency_key"}]}
    extra = {"purchases": [_item(a, "1.00", "k")], "other": 1}
    for body in (too_many, {"purchases": []}, no_key, extra):
        assert_error(api.post(BATCH, json=body, headers=gw), 400, "invalid_request")
    assert_error(api.post(BATCH, json=bad_amount, headers=gw), 400, "invalid_amount")
    assert api.get(f"/v1/accounts/{a}").json()["used"] == "0.00"
    ok = {"purchases": [_item(a, "1.00", f"k{i}") for i in range(100)]}
    r = api.post(BATCH, json=ok, headers=gw)
    assert r.status_code == 200 and {x["status"] for x in r.json()["results"]} == {201}
    assert api.get(f"/v1/accounts/{a}").json()["used"] == "100.00"


def test_the_openapi_document_states_the_batch_route(api):
    op = api.get("/openapi.json").json()["paths"][BATCH]["post"]
    assert {"200", "400", "401", "403"} <= set(op["responses"])
    schemas = api.get("/openapi.json").json()["components"]["schemas"]
    assert schemas["PurchaseBatchIn"]["properties"]["purchases"]["maxItems"] == 100
    assert {"account_id", "idempotency_key", "amount"} <= set(schemas["BatchPurchaseIn"]["required"])
