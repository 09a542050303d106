"""Access control's pure rules: role decisions, key storage, the rate limiter."""

from __future__ import annotations

import pytest

from huabei.access import keys
from huabei.access.ratelimit import Limiter, RateLimited, Rule
from huabei.access.roles import Decision, Principal, Role, decide, policy


def p(role: str, user: str | None = None) -> Principal:
    return Principal(key_id=1, role=Role(role), user_id=user)


def test_admin_is_allowed_everywhere_and_other_roles_only_where_declared() -> None:
    agent_only = policy("agent")
    assert decide(agent_only, p("admin")) is Decision.ALLOWED
    assert decide(agent_only, p("agent")) is Decision.ALLOWED
    for role in ("risk", "gateway", "customer"):
        assert decide(agent_only, p(role, "u1" if role == "customer" else None)) is Decision.WRONG_ROLE


def test_a_customer_is_checked_for_ownership_on_own_routes() -> None:
    theirs = policy("customer", "agent", own="account_id")
    assert decide(theirs, p("customer", "u1")) is Decision.CHECK_OWNER
    assert decide(theirs, p("agent")) is Decision.ALLOWED
    assert decide(policy("customer", own_in_body=True), p("customer", "u1")) is Decision.ALLOWED


def test_a_route_open_to_customers_must_say_what_they_own() -> None:
    with pytest.raises(ValueError, match="own"):
        policy("customer")
    with pytest.raises(ValueError, match="own"):
        policy("customer", own="account_id", own_in_body=True)
    with pytest.raises(ValueError):
        policy("superuser")  # no such role


def test_keys_are_stored_as_an_hmac_under_the_server_secret() -> None:
    k = keys.new_key()
    assert keys.looks_like_key(k) and len(k) == 46 and k != keys.new_key()
    d = keys.digest("s" * 64, k)
    assert len(d) == 64 and k not in d
    assert keys.digest("s" * 64, k) == d  # deterministic: one indexed lookup
    assert keys.digest("t" * 64, k) != d  # another secret: another digest (no key survives a new secret)
    assert not keys.looks_like_key("Bearer x") and not keys.looks_like_key("hb_" + "é" * 30)


def test_the_limiter_allows_the_limit_in_a_window_then_says_when_to_come_back() -> None:
    now = [1000.0]
    lim = Limiter({"login": Rule(3, 60)}, clock=lambda: now[0])
    for _ in range(3):
        lim.hit("login", "1.2.3.4")
    with pytest.raises(RateLimited) as e:
        lim.hit("login", "1.2.3.4")
    assert e.value.retry_after == 60
    lim.hit("login", "5.6.7.8")  # another subject has its own count
    now[0] += 30
    with pytest.raises(RateLimited) as e:
        lim.hit("login", "1.2.3.4")
    assert e.value.retry_after == 30
    now[0] += 30.5
    lim.hit("login", "1.2.3.4")  # the window moved on
    unlimited = Rule(0, 60)
    for _ in range(1000):
        lim.hit("key", "7", unlimited)
