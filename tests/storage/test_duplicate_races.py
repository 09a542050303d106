"""Concurrent duplicates lose with a 409, never a 500: many clients registering the same user,
or opening a line for the same user, at once — exactly one wins, every other gets the conflict."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from huabei.errors import HuabeiError
from huabei.lines import service as accounts
from huabei.onboarding import service as onboarding

CLIENTS = 8
ROUNDS = 4


def _race(call: Any) -> list[str]:
    barrier = threading.Barrier(CLIENTS)

    def client(_i: int) -> str:
        barrier.wait()
        try:
            call()
            return "ok"
        except HuabeiError as e:
            return f"{e.http_status} {e.code}"
        except Exception as e:
            return f"500 {type(e).__name__}"

    with ThreadPoolExecutor(CLIENTS) as pool:
        return list(pool.map(client, range(CLIENTS)))


def _register(system: Any, uid: str) -> None:
    accounts.register_user(system, user_id=uid, name="并发", phone="13800000000", real_name_verified=True)


def test_concurrent_registrations_of_one_user(system):
    for r in range(ROUNDS):
        out = _race(lambda r=r: _register(system, f"dup-{r}"))
        assert sorted(out) == ["409 user_exists"] * (CLIENTS - 1) + ["ok"], out


def test_concurrent_openings_for_one_user(system):
    for r in range(ROUNDS):
        _register(system, f"open-{r}")
        out = _race(lambda r=r: onboarding.open_account(system, user_id=f"open-{r}", base_limit=100_000))
        assert sorted(out) == ["409 account_exists"] * (CLIENTS - 1) + ["ok"], out
        with system.uow(readonly=True) as uow:
            assert uow.accounts.open_account_of(f"open-{r}") is not None
