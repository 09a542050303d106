"""The payment password (支付密码) end to end through the services, on SQLite and PostgreSQL:
set, required, wrong ones counted with attempts left, the N-th locking payments for 24 hours
of real time (with a wrong_password_lockout restriction on the line), a reset unlocking at
once, and ten concurrent wrong passwords locking exactly once, at exactly N."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from tests.conftest import make_system, new_account

from huabei.batch import books
from huabei.clock import ManualWallClock
from huabei.config import PasswordTerms, ProductTerms
from huabei.errors import HuabeiError
from huabei.lines import service as accounts
from huabei.lines.purchase_rules import Channel, PurchaseRequest
from huabei.passwords import service as passwords
from huabei.payments import service as payments
from huabei.platform import admin
from huabei.platform import schema as t
from huabei.platform.unit_of_work import ClockMode, Huabei

SHANGHAI = ZoneInfo("Asia/Shanghai")
#: argon2id at a few milliseconds a check (the production default costs 50-300 ms)
CHEAP = PasswordTerms(hash_time_cost=1, hash_memory_kib=4096, hash_parallelism=1)
T0 = dt.datetime(2026, 11, 2, 10, 0, tzinfo=SHANGHAI)
_keys = {"n": 0}


@pytest.fixture
def psystem(db_url: str) -> Iterator[Huabei]:
    s = make_system(db_url, ProductTerms(passwords=CHEAP))
    s.wall_clock = ManualWallClock(T0)
    yield s
    s.engine.dispose()


def pay(system: Huabei, aid: int, password: str | None, amount: int = 1_000, key: str | None = None) -> str:
    _keys["n"] += 1
    req = PurchaseRequest(aid, amount, "m-1", "retail", Channel.ONLINE, password)
    try:
        payments.authorise_purchase(system, req, key or f"pw-{_keys['n']}")
        return "approved"
    except HuabeiError as e:
        return e.code


def refusal(system: Huabei, aid: int, password: str | None, key: str | None = None) -> HuabeiError:
    _keys["n"] += 1
    req = PurchaseRequest(aid, 1_000, "m-1", "retail", Channel.ONLINE, password)
    with pytest.raises(HuabeiError) as ei:
        payments.authorise_purchase(system, req, key or f"pw-{_keys['n']}")
    return ei.value


def lockouts(system: Huabei, aid: int) -> list[dict]:
    return [r for r in accounts.account_view(system, aid)["restrictions"] if r["cause"] == "wrong_password_lockout"]


def test_a_line_without_password_pays_as_before_and_ignores_one_given(psystem: Huabei) -> None:
    aid = new_account(psystem)
    assert pay(psystem, aid, None) == "approved"
    assert pay(psystem, aid, "123456") == "approved"


def test_wrong_ones_count_with_attempts_left_and_a_correct_one_restarts_the_count(psystem: Huabei) -> None:
    aid = new_account(psystem)
    user = accounts.account_view(psystem, aid)["user_id"]
    out = passwords.set_password(psystem, user, "135790")
    assert out["has_password"] and out["attempts_left"] == 5
    with psystem.engine.connect() as c:
        stored = c.execute(select(t.payment_passwords.c.password_hash)).scalar_one()
    assert stored.startswith("$argon2id$") and "135790" not in stored

    assert refusal(psystem, aid, None).code == "password_required"
    e = refusal(psystem, aid, "000000")
    assert (e.code, e.params["attempts_left"]) == ("wrong_password", 4)
    e = refusal(psystem, aid, "000001")
    assert (e.code, e.params["attempts_left"]) == ("wrong_password", 3)
    assert passwords.password_status(psystem, user)["failed_attempts"] == 2
    assert pay(psystem, aid, "135790") == "approved"
    assert passwords.password_status(psystem, user)["failed_attempts"] == 0
    # a correct password on a purchase refused for another reason restarts the count too
    assert refusal(psystem, aid, "000002").params["attempts_left"] == 4
    assert pay(psystem, aid, "135790", amount=99_500) == "insufficient_limit"
    assert passwords.password_status(psystem, user)["failed_attempts"] == 0


def test_a_retried_key_counts_once(psystem: Huabei) -> None:
    aid = new_account(psystem)
    user = accounts.account_view(psystem, aid)["user_id"]
    passwords.set_password(psystem, user, "135790")
    for _ in range(3):
        e = refusal(psystem, aid, "000000", key="same-key")
        assert (e.code, e.params["attempts_left"]) == ("wrong_password", 4)
    assert passwords.password_status(psystem, user)["failed_attempts"] == 1


def _lock(system: Huabei, aid: int) -> HuabeiError:
    for left in (4, 3, 2, 1):
        assert refusal(system, aid, "000000").params["attempts_left"] == left
    return refusal(system, aid, "000000")


def test_the_fifth_wrong_one_locks_for_24_hours_of_real_time(psystem: Huabei) -> None:
    aid = new_account(psystem)
    user = accounts.account_view(psystem, aid)["user_id"]
    passwords.set_password(psystem, user, "135790")
    e = _lock(psystem, aid)
    assert e.code == "password_locked"
    assert e.params["unlocks_at"] == "2026-11-03 10:00"
    assert dt.datetime.fromisoformat(e.params["unlocks_at_iso"]) == T0 + dt.timedelta(hours=24)
    (r,) = lockouts(psystem, aid)
    assert r["evidence"]["wrong_attempts"] == 5 and r["lifts_on"] == "2026-11-03"
    view = accounts.account_view(psystem, aid)
    assert view["status"] == "frozen"
    # locked: even the right password is refused, and nothing more is counted
    assert pay(psystem, aid, "135790") == "password_locked"
    assert pay(psystem, aid, "000000") == "password_locked"
    status = passwords.password_status(psystem, user)
    assert status["locked"] and dt.datetime.fromisoformat(status["locked_until"]) == T0 + dt.timedelta(hours=24)
    # simulated time: the next business day at 09:59 is 23 h 59 min later — still locked
    admin.set_business_date(psystem, dt.date(2026, 11, 3))
    psystem.wall_clock.set(T0.replace(hour=9, minute=59))  # type: ignore[attr-defined]
    assert pay(psystem, aid, "135790") == "password_locked"
    psystem.wall_clock.set(T0)  # type: ignore[attr-defined]
    assert pay(psystem, aid, "135790") == "approved"
    assert lockouts(psystem, aid) == []
    assert accounts.account_view(psystem, aid)["status"] == "active"
    with psystem.engine.connect() as c:
        lifted = c.execute(
            select(t.restrictions.c.lift_reason).where(t.restrictions.c.cause == "wrong_password_lockout")
        ).scalar_one()
    assert lifted == "lock_expired"
    assert not passwords.password_status(psystem, user)["locked"]
    assert books.ledger_check(psystem).ok


def test_the_lock_is_real_time_in_system_mode(db_url: str) -> None:
    system = make_system(db_url, ProductTerms(passwords=CHEAP))
    wall = ManualWallClock(T0)
    system.wall_clock, system.clock_mode = wall, ClockMode.SYSTEM
    try:
        aid = new_account(system)
        passwords.set_password(system, accounts.account_view(system, aid)["user_id"], "135790")
        assert _lock(system, aid).code == "password_locked"
        wall.advance(hours=23, minutes=59)
        assert pay(system, aid, "135790") == "password_locked"
        wall.advance(minutes=1)
        assert pay(system, aid, "135790") == "approved"
    finally:
        system.engine.dispose()


def test_a_reset_unlocks_at_once_and_is_recorded(psystem: Huabei) -> None:
    aid = new_account(psystem)
    user = accounts.account_view(psystem, aid)["user_id"]
    passwords.set_password(psystem, user, "135790")
    assert _lock(psystem, aid).code == "password_locked"
    out = passwords.reset_password(psystem, user, "246801", actor="host-cs-42")
    assert not out["locked"] and out["attempts_left"] == 5
    assert lockouts(psystem, aid) == []
    assert pay(psystem, aid, "135790") == "wrong_password"  # the old one is gone
    assert pay(psystem, aid, "246801") == "approved"
    with psystem.engine.connect() as c:
        ev = c.execute(
            select(t.domain_events.c.payload).where(t.domain_events.c.event_type == "PaymentPasswordReset")
        ).scalar_one()
        reason = c.execute(
            select(t.restrictions.c.lift_reason).where(t.restrictions.c.cause == "wrong_password_lockout")
        ).scalar_one()
    assert ev["actor"] == "host-cs-42" and ev["was_locked"] and len(ev["lifted_restrictions"]) == 1
    assert reason == "password_reset"


def test_bad_input_changes_nothing(psystem: Huabei) -> None:
    aid = new_account(psystem)
    user = accounts.account_view(psystem, aid)["user_id"]
    for bad in ("12345", "1234567", "abcdef", "12 456", "１２３４５６"):
        with pytest.raises(HuabeiError) as ei:
            passwords.set_password(psystem, user, bad)
        assert ei.value.code == "invalid_payment_password"
    assert not passwords.password_status(psystem, user)["has_password"]
    with pytest.raises(HuabeiError) as ei:
        passwords.set_password(psystem, "nobody", "135790")
    assert ei.value.code == "user_not_found"
    passwords.set_password(psystem, user, "135790")
    with pytest.raises(HuabeiError) as ei:
        passwords.set_password(psystem, user, "246801")
    assert ei.value.code == "payment_password_exists"
    assert pay(psystem, aid, "135790") == "approved"


def test_ten_concurrent_wrong_passwords_lock_once_at_exactly_n(psystem: Huabei) -> None:
    aid = new_account(psystem)
    user = accounts.account_view(psystem, aid)["user_id"]
    passwords.set_password(psystem, user, "135790")
    barrier = threading.Barrier(10)

    def attempt(i: int) -> tuple[str, object]:
        barrier.wait()
        e = refusal(psystem, aid, "000000", key=f"conc-{i}")
        return e.code, e.params.get("attempts_left")

    with ThreadPoolExecutor(10) as pool:
        results = list(pool.map(attempt, range(10)))
    wrong = sorted(left for code, left in results if code == "wrong_password")
    assert wrong == [1, 2, 3, 4], results
    assert sum(code == "password_locked" for code, _ in results) == 6
    assert len(lockouts(psystem, aid)) == 1
    with psystem.engine.connect() as c:
        locked_events = c.execute(
            select(t.domain_events.c.event_id).where(t.domain_events.c.event_type == "PaymentPasswordLocked")
        ).all()
        declines = c.execute(select(t.purchase_declines.c.code).where(t.purchase_declines.c.account_id == aid)).all()
    assert len(locked_events) == 1
    assert sorted(d[0] for d in declines) == sorted(code for code, _ in results)
