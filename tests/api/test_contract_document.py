"""The OpenAPI document says what the server enforces (docs/api.md): each pattern it states is the
server's own rule, compared here over many inputs; every operation documents its error answers in
the error shape; money-moving POSTs require an Idempotency-Key. No database: the document and the
pure parsers only (tests/api/test_fuzz.py holds the served API to the document)."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import create_engine

from huabei.entrypoints.http import contract
from huabei.entrypoints.http.app import create_app
from huabei.entrypoints.http.common import MAX_ID
from huabei.entrypoints.http.flows import TIMESTAMP_PATTERN
from huabei.entrypoints.http.schemas import bad_character, yuan_pattern
from huabei.money import AmountError, parse_yuan
from huabei.platform.unit_of_work import Huabei

MONEY_MOVING = {
    ("post", "/v1/accounts/{account_id}/purchases"),
    ("post", "/v1/purchases/{purchase_id}/refunds"),
    ("post", "/v1/accounts/{account_id}/repayments"),
    ("post", "/v1/accounts/{account_id}/bills/{period}/installments"),
    ("post", "/v1/purchases/{purchase_id}/installments"),
    ("post", "/v1/installments/{plan_id}/early-repayment"),
}


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    return create_app(Huabei(engine=create_engine("sqlite://"))).openapi()


def _operations(doc: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (m, p, op) for p, ops in doc["paths"].items() for m, op in ops.items() if m in ("get", "post", "put", "patch")
    ]


def _accepts(parse: Any, text: str) -> bool:
    try:
        parse(text)
    except AmountError:
        return False
    return True


AMOUNTS = st.one_of(
    st.from_regex(r"\A-?[0-9]{1,10}(\.[0-9]{0,3})?\Z"),
    st.sampled_from(["0", "0.0", "0.00", "0.01", "0.1", "10000000", "10000000.00", "10000000.01", "9999999.99", "01"]),
    st.text(alphabet="0123456789.-+e ", max_size=12),
)


@given(AMOUNTS)
@settings(max_examples=400)
def test_the_amount_patterns_are_what_parse_yuan_accepts(text: str) -> None:
    for allow_zero in (False, True):
        stated = re.search(yuan_pattern(allow_zero), text) is not None and "\n" not in text
        assert stated == _accepts(lambda t, z=allow_zero: parse_yuan(t, allow_zero=z), text), (text, allow_zero)


@given(st.text(max_size=20))
@settings(max_examples=400)
def test_the_printable_pattern_is_what_the_edge_accepts(text: str) -> None:
    """Lone surrogates, refused too, cannot travel in UTF-8 JSON; the pattern leaves them out."""
    if any(0xD800 <= ord(ch) <= 0xDFFF for ch in text):
        return
    assert (re.search(contract.PRINTABLE, text) is not None) == (bad_character(text) is None), repr(text)


def test_the_timestamp_pattern_is_exactly_the_calendar() -> None:
    """Every day of years 2-9998 matches (year 1 and 9999: a time with an offset may have no UTC
    equivalent); no day the calendar lacks (a 29 February of a common year, a 31 April) does."""
    pattern = re.compile(TIMESTAMP_PATTERN)
    for year in [*range(1, 30), *range(1890, 2110), 2400, 2100, 2200, 2300, 9996, 9998, 9999]:
        for month in range(1, 13):
            for day in range(1, 32):
                try:
                    dt.date(year, month, day)
                    real = 2 <= year <= 9998
                except ValueError:
                    real = False
                text = f"{year:04d}-{month:02d}-{day:02d}T08:30:00+08:00"
                assert bool(pattern.match(text)) == real, text
    assert not pattern.match("0000-01-01T00:00")


def test_every_operation_documents_its_errors_as_json(document: dict[str, Any]) -> None:
    for method, path, op in _operations(document):
        responses = op["responses"]
        if path.startswith("/v1/"):
            assert {"400", "401", "403", "429"} <= set(responses), (method, path)
            if "{" in path:
                assert "404" in responses, (method, path)
        for status, answer in responses.items():
            if status[0] in "45":
                assert answer["content"] == {
                    "application/json": {"schema": {"$ref": "#/components/schemas/ErrorOut"}}
                }, (method, path, status)
        if "requestBody" in op:
            assert "413" in responses, (method, path)
    assert "402" in document["paths"]["/v1/accounts/{account_id}/purchases"]["post"]["responses"]


def test_money_moving_posts_require_an_idempotency_key(document: dict[str, Any]) -> None:
    required = {
        (m, p)
        for m, p, op in _operations(document)
        if any(q["name"] == "Idempotency-Key" and q["required"] for q in op.get("parameters", []))
    }
    assert required == MONEY_MOVING


def test_path_ids_are_bounded_whole_numbers(document: dict[str, Any]) -> None:
    for method, path, op in _operations(document):
        for q in op.get("parameters", []):
            if q["in"] == "path" and q["name"].endswith("_id") and q["name"] != "user_id":
                assert q["schema"]["type"] == "integer", (method, path)
                assert (q["schema"]["minimum"], q["schema"]["maximum"]) == (1, MAX_ID), (method, path)
            elif q["in"] in ("path", "query") and q["schema"].get("type") == "string":
                assert {"pattern", "enum", "format"} & q["schema"].keys(), (method, path, q["name"])


def test_a_posting_may_be_negative(document: dict[str, Any]) -> None:
    amount = document["components"]["schemas"]["PostingOut"]["properties"]["amount"]
    assert re.search(amount["pattern"], "-13.05") and re.search(amount["pattern"], "13.05")


def test_the_product_terms_are_stated(document: dict[str, Any]) -> None:
    from huabei.config import ProductTerms

    terms = ProductTerms()
    schemas = document["components"]["schemas"]
    assert set(schemas["PurchaseIn"]["properties"]["merchant_category"]["enum"]) == {
        *terms.categories.allowed,
        *terms.categories.refused,
    }
    assert schemas["PaymentPasswordIn"]["properties"]["password"]["pattern"] == f"^[0-9]{{{terms.passwords.digits}}}$"
