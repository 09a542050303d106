"""Many purchases in one transaction (``payments.service.authorise_purchases``, the gateway's batch
route and group commit) answer exactly as the same purchases made one after another: a property
test on both databases compares the answers and the books."""

from __future__ import annotations

import itertools
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from tests.conftest import new_account

from huabei.errors import HuabeiError
from huabei.lines import service as accounts
from huabei.lines.purchase_rules import Channel, PurchaseRequest
from huabei.passwords import service as passwords
from huabei.payments import service as purchases
from huabei.platform import schema as t
from huabei.platform.idempotency import Outcome
from huabei.restrictions import service as restrictions

MISSING = 987_654_321  # no such line
PASSWORD = "246810"
_run = itertools.count()

# (line, amount fen, merchant, key, password): line 0..3 (3 has a payment password) or 4 (missing)
ITEM = st.tuples(
    st.integers(0, 4),
    st.integers(1, 30_000),
    st.sampled_from(["m-1", "m-2"]),
    st.sampled_from(["k0", "k1", "k2", "k3", "k4", "k5", "k6", "k7", None]),
    st.sampled_from([None, PASSWORD, "135790"]),
)


def _lines(system: Any, tag: str) -> list[int]:
    """Four lines: 600.00 and 500.00 yuan, a frozen one, and one whose user set a payment password."""
    a = new_account(system, 60_000)
    b = new_account(system, 50_000)
    c = new_account(system, 60_000)
    restrictions.place_restriction(system, c, cause="cash_out_suspected", note="batch test")
    uid = f"pw-{tag}"
    d = new_account(system, 60_000, user_id=uid)
    passwords.set_password(system, uid, PASSWORD)
    return [a, b, c, d, MISSING]


def _requests(lines: list[int], items: list[tuple[int, int, str, str | None, str | None]], prefix: str) -> list[Any]:
    return [
        (
            PurchaseRequest(lines[i], amount, merchant, "retail", Channel.ONLINE, password),
            None if key is None else f"{prefix}-{key}",
        )
        for i, amount, merchant, key, password in items
    ]


def _normalise(results: list[Any], lines: list[int]) -> list[Any]:
    """Each answer with the line ids as their position and purchase ids in order of appearance;
    timestamps (a password lock's end) dropped."""
    line_of = {aid: f"line{n}" for n, aid in enumerate(lines)}
    purchase_of: dict[int, str] = {}

    def norm(d: dict[str, Any]) -> dict[str, Any]:
        out = {}
        for k, v in d.items():
            if k.endswith(("_at", "_at_iso")):
                continue
            if k == "account_id":
                v = line_of.get(v, v)
            if k == "purchase_id":
                v = purchase_of.setdefault(v, f"p{len(purchase_of)}")
            out[k] = v
        return out

    res = []
    for r in results:
        if isinstance(r, Outcome):
            res.append(("ok", r.status, r.replayed, norm(r.body)))
        elif isinstance(r, HuabeiError):
            res.append(("error", r.code, r.kind, r.replayed, norm(dict(r.params))))
        else:
            res.append(("exception", type(r).__name__))
    return res


def _one_by_one(system: Any, reqs: list[Any]) -> list[Any]:
    out: list[Any] = []
    for req, key in reqs:
        try:
            out.append(purchases.authorise_purchase(system, req, key))
        except HuabeiError as e:
            out.append(e)
    return out


def _books(system: Any, lines: list[int]) -> list[Any]:
    books = []
    with system.engine.connect() as c:
        for aid in lines[:4]:
            view = accounts.account_view(system, aid)
            n_p = c.execute(select(func.count()).where(t.purchases.c.account_id == aid)).scalar_one()
            n_d = c.execute(select(func.count()).where(t.purchase_declines.c.account_id == aid)).scalar_one()
            books.append((view["used"], view["available"], view["status"], n_p, n_d))
    return books


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(items=st.lists(ITEM, min_size=1, max_size=12))
def test_a_batch_answers_as_one_by_one(system: Any, items: list[Any]) -> None:
    n = next(_run)
    serial_lines, batch_lines = _lines(system, f"s{n}"), _lines(system, f"b{n}")
    serial = _one_by_one(system, _requests(serial_lines, items, f"s{n}"))
    batch = purchases.authorise_purchases(system, _requests(batch_lines, items, f"b{n}"))
    assert _normalise(batch, batch_lines) == _normalise(serial, serial_lines)
    assert _books(system, batch_lines) == _books(system, serial_lines)


def test_a_batch_is_one_transaction_and_replays(system: Any) -> None:
    """A duplicate key in the batch replays the first answer; a conflicting body is 409; a decline
    does not fail its neighbours; the same batch again replays every answer and moves nothing."""
    a = new_account(system, 60_000)
    reqs = [
        (PurchaseRequest(a, 36_000, "m-1", "retail", Channel.ONLINE), "x1"),
        (PurchaseRequest(a, 36_000, "m-1", "retail", Channel.ONLINE), "x2"),  # declined: 240.00 left
        (PurchaseRequest(a, 36_000, "m-1", "retail", Channel.ONLINE), "x1"),  # replays x1
        (PurchaseRequest(a, 1_000, "m-1", "retail", Channel.ONLINE), "x1"),  # conflict
        (PurchaseRequest(MISSING, 1_000, "m-1", "retail", Channel.ONLINE), "x3"),
        (PurchaseRequest(a, 24_000, "m-1", "retail", Channel.ONLINE), "x4"),
    ]
    first = purchases.authorise_purchases(system, reqs)
    kinds = [r.status if isinstance(r, Outcome) else r.code for r in first]
    assert kinds == [201, "insufficient_limit", 201, "idempotency_conflict", "account_not_found", 201]
    assert isinstance(first[2], Outcome) and first[2].replayed and first[2].body == first[0].body  # type: ignore[union-attr]
    assert accounts.account_view(system, a)["used"] == 60_000
    again = purchases.authorise_purchases(system, reqs)
    assert [r.replayed for r in again] == [True, True, True, False, False, True]
    assert accounts.account_view(system, a)["used"] == 60_000
    with system.engine.connect() as c:
        assert c.execute(select(func.count()).where(t.purchases.c.account_id == a)).scalar_one() == 2
