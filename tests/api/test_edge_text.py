"""A control character (NUL …) in any text of a request — a body field, a key of a free-form
object, a path id, a query parameter — is a 400 ``control_character`` that changes nothing,
never a 500 and never a stored row that later stops the end-of-day job."""

from __future__ import annotations

import uuid

import httpx
import pytest
from tests.api.test_http_api import assert_error, open_line

from huabei.entrypoints.http.schemas import bad_character, control_character_at


def key() -> dict[str, str]:
    return {"Idempotency-Key": str(uuid.uuid4())}


def user(**over: object) -> dict[str, object]:
    return {"user_id": "u9", "name": "李雷", "phone": "13800000000", "real_name_verified": True, **over}


@pytest.mark.parametrize(
    ("text", "bad"),
    [("a\x00", "\x00"), ("\x07", "\x07"), ("x\x7f", "\x7f"), ("\x85", "\x85"), ("\ud800", "\ud800"), ("ok", None)],
)
def test_bad_character(text: str, bad: str | None) -> None:
    assert bad_character(text) == bad


def test_tab_and_newlines_are_text() -> None:
    assert bad_character("line one\nline two\r\n\tend") is None
    assert control_character_at({"a": [{"b": "x\x00"}]}) == "a.0.b"
    assert control_character_at({"k\x00": 1}) == "body"


def test_control_characters_in_bodies_are_refused(api: httpx.Client) -> None:
    for body in (
        user(profile={"occupation": "a\u0000"}),
        user(name="李\x00雷"),
        user(user_id="u\x009"),
        user(profile={"employer": "acme\x1b[31m"}),
    ):
        err = assert_error(api.post("/v1/users", json=body), 400, "control_character", remedy=True)
        assert "NUL" in err["message"]
    assert api.get("/v1/users/u9").status_code == 404  # nothing stored

    aid = open_line(api)
    r = api.post(
        f"/v1/accounts/{aid}/purchases",
        json={"amount": "1.00", "merchant_id": "m\x00", "merchant_category": "retail", "channel": "online"},
        headers=key(),
    )
    assert_error(r, 400, "control_character")
    for body in (
        {"cause": "operator_hold", "note": "a\x00"},
        {"cause": "operator_hold", "evidence": {"k\x00": 1}},
        {"cause": "operator_hold", "evidence": {"seen": ["ok", {"deep": "x\x00"}]}},
        {"cause": "operator\x00hold"},
    ):
        assert_error(api.post(f"/v1/accounts/{aid}/restrictions", json=body), 400, "control_character")
    assert api.get(f"/v1/accounts/{aid}").json()["restrictions"] == []

    r = api.post(f"/v1/accounts/{aid}/restrictions", json={"cause": "operator_hold", "note": "two\nlines\tok"})
    assert r.status_code == 201, r.text
    rid = r.json()["restriction_id"]
    assert_error(api.post(f"/v1/restrictions/{rid}/lift", json={"reason": "done\x00"}), 400, "control_character")
    assert api.get(f"/v1/accounts/{aid}").json()["status"] == "frozen"


def test_control_characters_in_paths_and_queries_are_refused(api: httpx.Client) -> None:
    aid = open_line(api)
    for path in (
        "/v1/users/u1%00",
        "/v1/users/u1%00/score",
        "/v1/users/u1%07/facts",
        f"/v1/accounts/{aid}/bills/2026-11%00",
        "/v1/admin/bureau/2026-11%00/records",
    ):
        err = assert_error(api.get(path), 400, "control_character")
        assert "path" in err["message"]
    assert_error(api.get(f"/v1/accounts/{aid}/transactions?limit=1%00"), 400, "control_character")
    r = api.post("/v1/users/u1%00/facts", json={"facts": {"income_band": "a"}})
    assert_error(r, 400, "control_character")
