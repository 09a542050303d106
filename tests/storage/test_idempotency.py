"""Same key + same request: the first answer again and nothing moves twice."""

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import func, select
from tests.conftest import new_account

from huabei.batch import books
from huabei.errors import HuabeiError
from huabei.lines import service as accounts
from huabei.lines.purchase_rules import Channel, PurchaseRequest
from huabei.payments import service as purchases
from huabei.platform import schema as t


def _req(aid, amount=5_000, merchant="m-1"):
    return PurchaseRequest(aid, amount, merchant, "retail", Channel.ONLINE)


def _count(system, table):
    with system.engine.connect() as c:
        return c.execute(select(func.count()).select_from(table)).scalar_one()


@pytest.mark.smoke
def test_replay_returns_the_first_answer_and_moves_nothing(system):
    aid = new_account(system)
    first = purchases.authorise_purchase(system, _req(aid), "key-1")
    again = purchases.authorise_purchase(system, _req(aid), "key-1")
    assert not first.replayed and again.replayed
    assert (again.status, again.body) == (first.status, first.body)
    assert _count(system, t.purchases) == 1 and _count(system, t.journal_entries) == 1
    assert accounts.account_view(system, aid)["used"] == 5_000


def test_same_key_different_request_is_a_conflict(system):
    aid = new_account(system)
    purchases.authorise_purchase(system, _req(aid), "key-1")
    for other in (_req(aid, 5_001), _req(aid, merchant="m-2")):
        with pytest.raises(HuabeiError) as e:
            purchases.authorise_purchase(system, other, "key-1")
        assert e.value.code == "idempotency_conflict"
    assert _count(system, t.purchases) == 1


def test_a_decline_is_remembered_too(system):
    aid = new_account(system, 100_000)
    purchases.authorise_purchase(system, _req(aid, 100_000), "fill")
    with pytest.raises(HuabeiError) as e1:
        purchases.authorise_purchase(system, _req(aid, 1_000), "key-d")
    purchases.repay(system, aid, 100_000, "pay")
    with pytest.raises(HuabeiError) as e2:  # the retry gets the first answer, not a new decision
        purchases.authorise_purchase(system, _req(aid, 1_000), "key-d")
    assert e1.value.code == e2.value.code == "insufficient_limit"
    assert e1.value.params == e2.value.params
    assert _count(system, t.purchase_declines) == 1


def test_a_key_is_the_callers_across_operations(system):
    """A key used on a purchase is not a repayment's too (tests/storage/test_idempotency_scope.py)."""
    aid = new_account(system)
    purchases.authorise_purchase(system, _req(aid), "k")
    with pytest.raises(HuabeiError) as e:
        purchases.repay(system, aid, 1_000, "k")
    assert e.value.code == "idempotency_conflict"
    assert accounts.account_view(system, aid)["used"] == 5_000


@pytest.mark.parametrize(
    "key,code",
    [
        (None, "idempotency_key_required"),
        ("", "idempotency_key_required"),
        ("x" * 256, "invalid_idempotency_key"),
        ("a\nb", "invalid_idempotency_key"),
    ],
)
def test_key_is_required_and_checked(system, key, code):
    aid = new_account(system)
    with pytest.raises(HuabeiError) as e:
        purchases.authorise_purchase(system, _req(aid), key)
    assert e.value.code == code
    assert _count(system, t.purchases) == 0


def test_concurrent_duplicates_move_money_once(system):
    aid = new_account(system)
    barrier = threading.Barrier(16)

    def client(_: int):
        barrier.wait()
        return purchases.authorise_purchase(system, _req(aid), "dup-key")

    with ThreadPoolExecutor(16) as pool:
        outs = list(pool.map(client, range(16)))
    assert len({(o.status, tuple(sorted(o.body.items()))) for o in outs}) == 1
    assert sum(not o.replayed for o in outs) == 1
    assert _count(system, t.purchases) == 1
    assert accounts.account_view(system, aid)["used"] == 5_000
    assert books.ledger_check(system).ok


def test_concurrent_duplicate_repayments_move_money_once(system):
    aid = new_account(system)
    purchases.authorise_purchase(system, _req(aid, 50_000), "b")

    def client(_: int):
        return purchases.repay(system, aid, 20_000, "dup-pay")

    with ThreadPoolExecutor(8) as pool:
        outs = list(pool.map(client, range(8)))
    assert len({o.body["repayment_id"] for o in outs}) == 1
    assert accounts.account_view(system, aid)["used"] == 30_000
