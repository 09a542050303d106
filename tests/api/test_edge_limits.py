"""Unbounded input is refused at the edge: a body over 1 MB (by Content-Length, or counted while
it arrives in chunks) is 413 ``request_too_large``; a free-form object (restriction evidence,
posted facts) over 16 KB as JSON is 400 ``field_too_large``; nothing is stored."""

from __future__ import annotations

import json

import httpx
from tests.api.test_http_api import assert_error, open_line

from huabei.entrypoints.http.edge import MAX_BODY_BYTES
from huabei.entrypoints.http.schemas import MAX_FREE_FORM_BYTES


def test_large_bodies_and_free_form_fields_are_refused(api: httpx.Client) -> None:
    aid = open_line(api)
    url = f"/v1/accounts/{aid}/restrictions"
    huge = {"cause": "operator_hold", "evidence": {"blob": "x" * MAX_BODY_BYTES}}
    assert_error(api.post(url, json=huge), 413, "request_too_large")

    def chunks():
        data = json.dumps(huge).encode()
        for i in range(0, len(data), 65536):
            yield data[i : i + 65536]

    r = api.post(url, content=chunks(), headers={"content-type": "application/json"})
    assert_error(r, 413, "request_too_large")

    big = {"cause": "operator_hold", "evidence": {"blob": "x" * MAX_FREE_FORM_BYTES}}
    err = assert_error(api.post(url, json=big), 400, "field_too_large")
    assert "evidence" in err["message"]
    assert api.get(f"/v1/accounts/{aid}").json()["restrictions"] == []

    r = api.post("/v1/users/u1/facts", json={"facts": {"employer": "y" * (MAX_FREE_FORM_BYTES + 1)}})
    assert_error(r, 400, "field_too_large")

    ok = {"cause": "operator_hold", "evidence": {"seen": ["device-1", "device-2"]}}
    assert api.post(url, json=ok).status_code == 201
    small_chunks = api.post(url, content=iter([json.dumps(ok).encode()]), headers={"content-type": "application/json"})
    assert small_chunks.status_code == 201, small_chunks.text


def test_a_very_large_amount_says_it_is_too_large(api: httpx.Client) -> None:
    aid = open_line(api)
    for amount in ("99999999999999999999.00", "10000000.01"):
        r = api.post(
            f"/v1/accounts/{aid}/purchases",
            json={"amount": amount, "merchant_id": "m-1", "merchant_category": "retail", "channel": "online"},
            headers={"Idempotency-Key": f"big-{amount}"},
        )
        err = assert_error(r, 400, "amount_too_large")
        assert "10000000.00" in err["message"]
    r = api.post(f"/v1/accounts/{aid}/repayments", json={"amount": "1e5"}, headers={"Idempotency-Key": "e"})
    assert_error(r, 400, "invalid_amount")
