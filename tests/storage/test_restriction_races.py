"""Every change of a line's restrictions serialises on the line: placing one restriction while
lifting another, or lifting two at once, never leaves ``block_code`` disagreeing with the active
restrictions (a lost freeze lets a purchase through; a phantom one blocks a clean line)."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from tests.conftest import new_account

from huabei.restrictions import service as restrictions
from huabei.restrictions.causes import block_code_for

TRIALS = 12


def _consistent(system: Any, account_id: int) -> tuple[str | None, str | None]:
    """(stored block_code, block_code the active restrictions call for)."""
    with system.uow(readonly=True) as uow:
        line = uow.accounts.get(account_id)
        expected, _ = block_code_for([r.cause for r in uow.restrictions.active(account_id)])
        return line.block_code, expected


def _together(*calls: Any) -> None:
    barrier = threading.Barrier(len(calls))

    def run(call: Any) -> None:
        barrier.wait()
        call()

    with ThreadPoolExecutor(len(calls)) as pool:
        for f in [pool.submit(run, c) for c in calls]:
            f.result()


def test_placing_while_lifting_never_loses_the_freeze(system):
    bad = []
    for i in range(TRIALS):
        aid = new_account(system)
        hold = restrictions.place_restriction(system, aid, cause="operator_hold")
        _together(
            lambda aid=aid: restrictions.place_restriction(system, aid, cause="account_takeover_suspected"),
            lambda h=hold: restrictions.lift_restriction(system, h["restriction_id"]),
        )
        stored, expected = _consistent(system, aid)
        assert expected is not None  # the takeover freeze is active
        if stored != expected:
            bad.append((i, stored, expected))
    assert bad == []


def test_lifting_two_at_once_leaves_no_phantom_freeze(system):
    bad = []
    for i in range(TRIALS):
        aid = new_account(system)
        a = restrictions.place_restriction(system, aid, cause="operator_hold")
        b = restrictions.place_restriction(system, aid, cause="cash_out_suspected")
        _together(
            lambda a=a: restrictions.lift_restriction(system, a["restriction_id"]),
            lambda b=b: restrictions.lift_restriction(system, b["restriction_id"]),
        )
        stored, expected = _consistent(system, aid)
        assert expected is None
        if stored != expected:
            bad.append((i, stored, expected))
    assert bad == []


def test_lifting_the_same_restriction_twice_at_once_lifts_it_once(system):
    aid = new_account(system)
    hold = restrictions.place_restriction(system, aid, cause="operator_hold")
    outcomes: list[str] = []

    def lift() -> None:
        try:
            restrictions.lift_restriction(system, hold["restriction_id"])
            outcomes.append("lifted")
        except Exception as e:
            outcomes.append(getattr(e, "code", repr(e)))

    _together(lift, lift)
    assert sorted(outcomes) == ["lifted", "restriction_not_found"]
    with system.uow(readonly=True) as uow:
        assert len(uow.events.for_account(aid, "RestrictionLifted")) == 1
    assert _consistent(system, aid) == (None, None)
