"""Group commit of purchases (``huabei.payments.group_commit``) under real concurrency, on both
databases: the limit holds to the fen, concurrent duplicates of one key move money once, and
purchases do share transactions."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from sqlalchemy import func, select
from tests.conftest import new_account

from huabei.batch import books
from huabei.errors import HuabeiError
from huabei.lines import service as accounts
from huabei.lines.purchase_rules import Channel, PurchaseRequest
from huabei.payments import service as purchases
from huabei.platform import schema as t


def _buy(system: Any, aid: int, amount: int, key: str) -> Any:
    try:
        return purchases.authorise_purchase(system, PurchaseRequest(aid, amount, "m-1", "retail", Channel.ONLINE), key)
    except HuabeiError as e:
        return e.code


def test_640_one_yuan_attempts_on_a_500_yuan_line_approve_exactly_500(system: Any) -> None:
    aid = new_account(system, 50_000)
    barrier = threading.Barrier(8)

    def client(i: int) -> list[Any]:
        barrier.wait()
        return [_buy(system, aid, 100, f"r{i}-{j}") for j in range(80)]

    with ThreadPoolExecutor(8) as pool:
        results = [r for rs in pool.map(client, range(8)) for r in rs]
    assert sum(1 for r in results if not isinstance(r, str)) == 500
    assert results.count("insufficient_limit") == 140
    with system.engine.connect() as c:
        assert c.execute(
            select(func.count(), func.sum(t.purchases.c.amount)).where(t.purchases.c.account_id == aid)
        ).one() == (500, 50_000)
    assert accounts.account_view(system, aid)["available"] == 0
    assert books.ledger_check(system).ok
    gc = system.services["payments.group_commit"]
    assert gc.decided >= 640 and gc.batches < gc.decided  # purchases did share transactions


def test_concurrent_duplicates_of_one_key_move_money_once(system: Any) -> None:
    aid = new_account(system, 100_000)
    barrier = threading.Barrier(8)

    def client(_i: int) -> Any:
        barrier.wait()
        return _buy(system, aid, 1_234, "same-key")

    with ThreadPoolExecutor(8) as pool:
        outs = list(pool.map(client, range(8)))
    assert len({(o.status, tuple(sorted(o.body.items()))) for o in outs}) == 1  # one answer for all
    assert sum(not o.replayed for o in outs) == 1
    assert accounts.account_view(system, aid)["used"] == 1_234
