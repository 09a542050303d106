"""The set-based batch of purchases (``payments.service._decide_set_based``: decided in Python over
the locked lines, written with one statement per table) answers exactly as the same purchases one
by one, and falls back to one by one whenever it cannot: a property test on both databases over
lines the set-based path decides (no payment password): two lines bought from again and again,
a temporary limit in force and one that expired today, a frozen line, a missing line, declines,
repeated and conflicting keys, payment devices that trip the inline takeover rule mid-batch."""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from tests.conftest import new_account
from tests.storage.test_purchase_batch import MISSING, _normalise, _one_by_one

from huabei.lines import service as accounts
from huabei.lines.purchase_rules import Channel, PurchaseRequest
from huabei.payments import service as purchases
from huabei.platform import idempotency
from huabei.platform import schema as t
from huabei.platform.idempotency import Outcome
from huabei.restrictions import service as restrictions

_run = itertools.count()

# (line, amount fen, merchant, key, device, category): line 0..3, or 4 (missing)
ITEM = st.tuples(
    st.integers(0, 4),
    st.integers(1, 30_000),
    st.sampled_from(["m-1", "m-2"]),
    st.sampled_from(["k0", "k1", "k2", "k3", "k4", "k5", "k6", "k7", "k8", "k9", None]),
    st.sampled_from([None] * 12 + ["dev-a", "dev-b", "dev-c", "dev-d"]),
    st.sampled_from(["retail", "retail", "retail", "gambling"]),
)


def _lines(system: Any) -> list[int]:
    """600.00 yuan; 500.00 with a temporary 100.00 in force; 500.00 with a temporary 200.00 that
    expired today; a frozen line; a missing line."""
    a = new_account(system, 60_000)
    b = new_account(system, 50_000)
    c = new_account(system, 50_000)
    frozen = new_account(system, 60_000)
    restrictions.place_restriction(system, frozen, cause="cash_out_suspected", note="set-based test")
    with system.uow() as uow:
        today = uow.today()
        uow.accounts.set_temporary_limit(b, 10_000, today + dt.timedelta(days=5))
        uow.accounts.set_temporary_limit(c, 20_000, today)
        uow.commit()
    return [a, b, c, frozen, MISSING]


def _requests(lines: list[int], items: list[Any], prefix: str) -> list[Any]:
    return [
        (
            PurchaseRequest(lines[i], amount, merchant, category, Channel.ONLINE, device_id=device),
            None if key is None else f"{prefix}-{key}",
        )
        for i, amount, merchant, key, device, category in items
    ]


def _books(system: Any, lines: list[int]) -> list[Any]:
    books = []
    p, d = t.purchases.c, t.purchase_declines.c
    with system.engine.connect() as c:
        for aid in lines[:4]:
            view = accounts.account_view(system, aid)
            bought = c.execute(
                select(
                    func.count(), func.coalesce(func.sum(p.amount), 0), func.coalesce(func.sum(p.on_temporary_limit), 0)
                ).where(p.account_id == aid)
            ).one()
            codes = sorted(c.execute(select(d.code).where(d.account_id == aid)).scalars())
            r = t.restrictions.c
            held = sorted(c.execute(select(r.cause).where(r.account_id == aid, r.lifted_on.is_(None))).scalars())
            books.append((view["used"], view["available"], view["status"], tuple(bought), codes, held))
    return books


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(items=st.lists(ITEM, min_size=1, max_size=16))
def test_set_based_answers_as_one_by_one(system: Any, items: list[Any]) -> None:
    n = next(_run)
    serial_lines, batch_lines = _lines(system), _lines(system)
    serial = _one_by_one(system, _requests(serial_lines, items, f"s{n}"))
    batch = purchases.authorise_purchases(system, _requests(batch_lines, items, f"b{n}"))
    assert _normalise(batch, batch_lines) == _normalise(serial, serial_lines)
    assert _books(system, batch_lines) == _books(system, serial_lines)
    with system.engine.connect() as c:  # every approval has its journal entry
        entries = c.execute(
            select(func.count()).where(
                t.journal_entries.c.account_id.in_(batch_lines), t.journal_entries.c.kind == "purchase"
            )
        ).scalar_one()
    assert entries == sum(b[3][0] for b in _books(system, batch_lines))


def _counted(system: Any, reqs: list[Any]) -> tuple[list[Any], dict[str, int]]:
    before = dict(idempotency.SET_BASED_STATS)
    out = purchases.authorise_purchases(system, reqs)
    return out, {k: idempotency.SET_BASED_STATS[k] - before[k] for k in before}


def test_a_line_bought_from_twice_sees_its_first_debit_set_based(system: Any) -> None:
    a, b = new_account(system, 60_000), new_account(system, 50_000)
    reqs = [
        (PurchaseRequest(a, 36_000, "m-1", "retail", Channel.ONLINE), "sb-1"),
        (PurchaseRequest(b, 20_000, "m-1", "retail", Channel.ONLINE), "sb-2"),
        (PurchaseRequest(a, 36_000, "m-1", "retail", Channel.ONLINE), "sb-3"),  # 240.00 left: declined
        (PurchaseRequest(a, 24_000, "m-2", "retail", Channel.ONLINE), "sb-4"),  # exactly what is left
        (PurchaseRequest(a, 36_000, "m-1", "retail", Channel.ONLINE), "sb-1"),  # replays sb-1
        (PurchaseRequest(MISSING, 100, "m-1", "retail", Channel.ONLINE), "sb-5"),
    ]
    out, counts = _counted(system, reqs)
    assert counts == {"set_based": 1, "fallback": 0}
    kinds = [r.status if isinstance(r, Outcome) else r.code for r in out]
    assert kinds == [201, 201, "insufficient_limit", 201, 201, "account_not_found"]
    assert [r.body["available"] for r in out if isinstance(r, Outcome)] == [24_000, 30_000, 0, 24_000]
    assert out[4].replayed and out[4].body == out[0].body  # type: ignore[union-attr]
    assert accounts.account_view(system, a)["used"] == 60_000
    assert out[2].params == {"amount": "360.00", "available": "240.00"}  # type: ignore[union-attr]
    again, counts = _counted(system, reqs)  # every key stored: all replayed, nothing moves
    assert [getattr(r, "replayed", None) for r in again] == [True, True, True, True, True, False]
    assert accounts.account_view(system, a)["used"] == 60_000


def test_the_guarded_debit_holds_when_the_python_decision_is_wrong(
    system: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """If the Python decision ever approved what the limit does not allow, the set-based debit's
    guard changes fewer lines than decided: the batch is rolled back and decided one by one."""
    a = new_account(system, 50_000)
    monkeypatch.setattr(purchases, "debit_allowed", lambda *_a: True)
    reqs = [(PurchaseRequest(a, 30_000, "m-1", "retail", Channel.ONLINE), f"wrong-{i}") for i in range(3)]
    out, counts = _counted(system, reqs)
    assert counts == {"set_based": 0, "fallback": 1}
    assert [r.status if isinstance(r, Outcome) else r.code for r in out] == [
        201,
        "insufficient_limit",
        "insufficient_limit",
    ]
    assert accounts.account_view(system, a)["used"] == 30_000
    with system.engine.connect() as c:
        assert c.execute(select(func.count()).where(t.purchases.c.account_id == a)).scalar_one() == 1
        assert c.execute(select(func.count()).where(t.purchase_declines.c.account_id == a)).scalar_one() == 2
