"""Limits hold under concurrency: threads and separate processes firing at one account."""

import multiprocessing as mp
import threading
from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import func, select
from tests.conftest import new_account

from huabei.batch import books
from huabei.errors import HuabeiError
from huabei.lines import service as accounts
from huabei.lines.purchase_rules import Channel, PurchaseRequest
from huabei.payments import service as purchases
from huabei.platform import schema as t
from huabei.platform.db import make_engine
from huabei.platform.unit_of_work import Huabei

LIMIT = 100_000  # 1,000 yuan
PRICE = 1_000  # 10 yuan: exactly 100 purchases fit


def _attempt(system: Huabei, account_id: int, key: str) -> str:
    try:
        purchases.authorise_purchase(system, PurchaseRequest(account_id, PRICE, "m-hot", "retail", Channel.ONLINE), key)
        return "approved"
    except HuabeiError as e:
        return e.code


def _approved_total(system: Huabei, account_id: int) -> tuple[int, int]:
    with system.engine.connect() as c:
        n, total = c.execute(
            select(func.count(), func.coalesce(func.sum(t.purchases.c.amount), 0)).where(
                t.purchases.c.account_id == account_id
            )
        ).one()
    return n, total


def test_sixteen_threads_never_exceed_the_limit(system):
    aid = new_account(system, LIMIT)
    barrier = threading.Barrier(16)

    def client(i: int) -> list[str]:
        barrier.wait()
        return [_attempt(system, aid, f"t{i}-{j}") for j in range(10)]

    with ThreadPoolExecutor(16) as pool:
        results = [r for rs in pool.map(client, range(16)) for r in rs]
    assert results.count("approved") == LIMIT // PRICE
    assert set(results) == {"approved", "insufficient_limit"}
    n, total = _approved_total(system, aid)
    assert n == 100 and total == LIMIT
    view = accounts.account_view(system, aid)
    assert view["used"] == LIMIT and view["available"] == 0
    assert books.ledger_check(system).ok


def _process_client(url: str, account_id: int, worker: int, attempts: int, out: "mp.Queue[list[str]]") -> None:
    system = Huabei(engine=make_engine(url, pool_size=2))
    out.put([_attempt(system, account_id, f"p{worker}-{j}") for j in range(attempts)])
    system.engine.dispose()


def test_separate_processes_never_exceed_the_limit(system, db_url):
    aid = new_account(system, LIMIT)
    ctx = mp.get_context("spawn")
    q: mp.Queue[list[str]] = ctx.Queue()
    procs = [ctx.Process(target=_process_client, args=(db_url, aid, w, 40, q)) for w in range(4)]
    for p in procs:
        p.start()
    results = [r for _ in procs for r in q.get(timeout=120)]
    for p in procs:
        p.join(timeout=60)
        assert p.exitcode == 0
    assert results.count("approved") == 100 and results.count("insufficient_limit") == 60
    assert _approved_total(system, aid) == (100, LIMIT)
    assert books.ledger_check(system).ok


def test_concurrent_refunds_never_refund_more_than_paid(system):
    aid = new_account(system, LIMIT)
    pid = purchases.authorise_purchase(system, PurchaseRequest(aid, 10_000, "m", "retail", Channel.ONLINE), "b").body[
        "purchase_id"
    ]

    def refund(i: int) -> str:
        try:
            purchases.refund_purchase(system, pid, 1_500, f"r{i}")
            return "ok"
        except HuabeiError as e:
            return e.code

    with ThreadPoolExecutor(16) as pool:
        results = list(pool.map(refund, range(16)))
    assert results.count("ok") == 6  # 6 x 15 yuan fit in 100 yuan
    assert accounts.account_view(system, aid)["used"] == 10_000 - 9_000
    assert books.ledger_check(system).ok
