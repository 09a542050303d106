"""An Idempotency-Key belongs to its caller across every money-moving operation: used on a
purchase, then on a refund, a repayment or an installment, it moves money once and the reuse
is 409 ``idempotency_conflict``. Two callers' keys never meet."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from tests.conftest import buy, new_account

from huabei.batch import books, eod
from huabei.billing import service as billing
from huabei.errors import HuabeiError
from huabei.lines.purchase_rules import Channel, PurchaseRequest
from huabei.payments import service as payments
from huabei.platform import schema as t


def _entries(system) -> int:
    with system.engine.connect() as c:
        return c.execute(select(func.count()).select_from(t.journal_entries)).scalar_one()


def _conflict(call, *args, **kw) -> None:
    with pytest.raises(HuabeiError) as e:
        call(*args, **kw)
    assert e.value.code == "idempotency_conflict"


def test_one_key_moves_money_once_across_operations(system):
    aid = new_account(system)
    eod.run_eod(system, until=system_today(system))
    first = buy(system, aid, 10_000, key="k-shared")
    pid = first.body["purchase_id"]
    moved = _entries(system)

    _conflict(payments.refund_purchase, system, pid, 1_000, "k-shared")
    _conflict(payments.repay, system, aid, 1_000, "k-shared")
    _conflict(billing.create_purchase_installments, system, pid, 3, "k-shared")
    assert _entries(system) == moved  # nothing moved a second time
    again = buy(system, aid, 10_000, key="k-shared")  # the purchase itself still replays
    assert again.replayed and again.body == first.body

    # and the other way round: a key first used on a repayment is not a purchase's
    payments.repay(system, aid, 1_000, "k-repay")
    _conflict(
        payments.authorise_purchase, system, PurchaseRequest(aid, 500, "m-1", "retail", Channel.ONLINE), "k-repay"
    )
    assert books.ledger_check(system).ok


def test_keys_of_two_callers_never_meet(system):
    aid = new_account(system)
    req = PurchaseRequest(aid, 1_000, "m-1", "retail", Channel.ONLINE)
    a = payments.authorise_purchase(system, req, "same", caller="key:1")
    b = payments.authorise_purchase(system, req, "same", caller="key:2")
    assert not a.replayed and not b.replayed and a.body["purchase_id"] != b.body["purchase_id"]
    assert payments.authorise_purchase(system, req, "same", caller="key:1").replayed


def system_today(system):
    with system.uow(readonly=True) as uow:
        return uow.today()


def test_keys_stored_per_operation_move_to_the_public_caller(db_url):
    """Migration 0009: a retry of a request made before the upgrade still replays."""
    import datetime as dt

    from sqlalchemy import insert

    from huabei.platform import migrate
    from huabei.platform.db import make_engine

    migrate.downgrade(db_url, "0008_risk_inputs")
    eng = make_engine(db_url, pool_size=1)
    t0 = dt.datetime(2026, 11, 2, 10, tzinfo=dt.UTC)
    rows = [
        ("purchase", "old-1", t0),
        ("repayment", "old-2", t0),
        ("purchase", "reused", t0),  # the bug: one key on two operations; the first keeps it
        ("refund", "reused", t0 + dt.timedelta(seconds=1)),
    ]
    with eng.begin() as c:
        c.execute(
            insert(t.idempotency_keys),
            [
                {"scope": s, "key": k, "request_hash": "h" * 64, "status": 201, "response": {}, "created_at": at}
                for s, k, at in rows
            ],
        )
    migrate.upgrade(db_url)
    with eng.connect() as c:
        got = sorted(c.execute(select(t.idempotency_keys.c.scope, t.idempotency_keys.c.key)).all())
    eng.dispose()
    assert got == [("public", "old-1"), ("public", "old-2"), ("public", "reused"), ("refund", "reused")]
