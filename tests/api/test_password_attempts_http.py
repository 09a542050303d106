"""Guessing a payment password over HTTP, on SQLite and PostgreSQL, with the product's own limits
(``restrictions.wrong_password_attempts`` = 5 locks payments for ``wrong_password_lock_hours`` = 24;
``access.password_attempts`` = 20 password attempts per line per 60 s, the burst guard in front):

- wrong ones answer 402 ``wrong_password`` with the attempts left; the fifth 402 ``password_locked``
  with the time it lifts (``details.unlocks_at``, 24 hours later) and a ``wrong_password_lockout``
  restriction on the line;
- the 21st attempt within the minute answers 429 ``rate_limited`` with ``Retry-After`` (seconds,
  within the window) and the same wait in its words, in English and Chinese — and changes nothing:
  no purchase, no count, no lock moved, no restriction, no ledger entry; even the right password is
  429 until the window passes."""

from __future__ import annotations

import datetime as dt
import warnings
from collections.abc import Iterator
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select
from tests.api.conftest import auth_headers, key_for
from tests.conftest import make_system, new_account

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

from huabei.clock import ManualWallClock
from huabei.config import PasswordTerms, ProductTerms
from huabei.entrypoints.http.app import create_app
from huabei.lines import service as accounts
from huabei.passwords import service as passwords
from huabei.platform import schema as t
from huabei.platform.unit_of_work import Huabei

SHANGHAI = ZoneInfo("Asia/Shanghai")
T0 = dt.datetime(2026, 11, 2, 10, 0, tzinfo=SHANGHAI)
#: argon2id at a few milliseconds a check; every other limit is the product's default
TERMS = ProductTerms(passwords=PasswordTerms(hash_time_cost=1, hash_memory_kib=4096, hash_parallelism=1))


@pytest.fixture
def psystem(db_url: str) -> Iterator[Huabei]:
    s = make_system(db_url, TERMS)
    s.wall_clock = ManualWallClock(T0)
    yield s
    s.engine.dispose()


def _state(s: Huabei, aid: int, user_id: str) -> dict[str, Any]:
    """Everything a purchase attempt could change."""
    with s.engine.connect() as c:
        counts = {
            name: c.execute(select(func.count()).select_from(table)).scalar_one()
            for name, table in (
                ("purchases", t.purchases),
                ("entries", t.journal_entries),
                ("restrictions", t.restrictions),
                ("declines", t.purchase_declines),
            )
        }
    line = accounts.account_view(s, aid)
    return {**counts, "used": line["used"], "password": passwords.password_status(s, user_id)}


def test_guessing_the_payment_password_locks_then_meets_429_that_changes_nothing(psystem: Huabei) -> None:
    s = psystem
    aid = new_account(s, user_id="u1")
    rt, access = s.terms.restrictions, s.terms.access
    assert (rt.wrong_password_attempts, rt.wrong_password_lock_hours, access.password_attempts) == (5, 24, 20)
    with TestClient(create_app(s), raise_server_exceptions=False) as c:
        me = auth_headers(key_for(s, "customer", "u1"))
        assert c.put("/v1/users/u1/payment-password", json={"password": "135790"}, headers=me).status_code == 200
        gateway = auth_headers(key_for(s, "gateway"))
        n = {"i": 0}

        def pay(password: str, lang: str = "en") -> Any:
            n["i"] += 1
            body = {
                "amount": "10.00",
                "merchant_id": "m-1",
                "merchant_category": "retail",
                "channel": "online",
                "password": password,
            }
            headers = {**gateway, "Idempotency-Key": f"guess-{n['i']}", "Accept-Language": lang}
            return c.post(f"/v1/accounts/{aid}/purchases", json=body, headers=headers)

        for left in (4, 3, 2, 1):
            r = pay("000000")
            assert r.status_code == 402 and r.json()["error"]["code"] == "wrong_password"
            assert r.json()["error"]["details"]["attempts_left"] == left
        r = pay("000000")
        err = r.json()["error"]
        assert r.status_code == 402 and err["code"] == "password_locked"
        unlocks = dt.datetime.fromisoformat(err["details"]["unlocks_at"])
        assert unlocks == T0 + dt.timedelta(hours=24)  # the lifting time, as the product defines it
        assert "2026-11-03 10:00" in err["message"] and "2026-11-03 10:00" in err["message_zh"]
        line = accounts.account_view(s, aid)
        assert [x["cause"] for x in line["restrictions"]] == ["wrong_password_lockout"]
        for _ in range(access.password_attempts - rt.wrong_password_attempts):  # still locked: 402 again
            assert pay("000000").json()["error"]["code"] == "password_locked"

        before = _state(s, aid, "u1")
        assert before["password"]["locked"] and before["purchases"] == 0
        for lang, password in (("en", "000000"), ("zh-CN", "000000"), ("en", "135790")):  # even the right one
            r = pay(password, lang)
            assert r.status_code == 429, r.text
            err = r.json()["error"]
            assert err["code"] == "rate_limited"
            wait = int(r.headers["Retry-After"])
            assert 1 <= wait <= access.password_window_seconds
            assert f"{wait} seconds" in err["message"] and f"{wait}" in err["message_zh"]
            assert "Too many" not in err["message_zh"]
        assert _state(s, aid, "u1") == before  # the 429s changed nothing
