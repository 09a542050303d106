"""A process killed under load loses no acknowledged purchase and acknowledges none that was not
committed (group commit, ``huabei.payments.group_commit``), on both databases: 8 threads of a
child process buy through ``authorise_purchase`` and append each answer they got to a file;
the child is killed with SIGKILL mid-run; what the clients were told is reconciled with the
books."""

from __future__ import annotations

import multiprocessing as mp
import os
import signal
import threading
import time
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from tests.conftest import new_account

from huabei.batch import books
from huabei.lines import service as accounts
from huabei.platform import schema as t

ACKS_BEFORE_KILL = 60


def _buyers(url: str, account_id: int, ack_path: str) -> None:
    from huabei.errors import HuabeiError
    from huabei.lines.purchase_rules import Channel, PurchaseRequest
    from huabei.payments import service as purchases
    from huabei.platform.db import make_engine
    from huabei.platform.unit_of_work import Huabei

    system = Huabei(engine=make_engine(url, pool_size=4))
    fd = os.open(ack_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT)

    def client(i: int) -> None:
        for j in range(10_000):
            key = f"crash-{i}-{j}"
            try:
                out = purchases.authorise_purchase(
                    system, PurchaseRequest(account_id, 100 + j % 7, "m-1", "retail", Channel.ONLINE), key
                )
            except HuabeiError:
                continue
            os.write(fd, f"{key} {out.body['purchase_id']}\n".encode())  # one write: whole lines only

    threads = [threading.Thread(target=client, args=(i,)) for i in range(8)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()


def test_a_killed_process_acknowledged_only_what_was_committed(system: Any, db_url: str, tmp_path: Path) -> None:
    aid = new_account(system, 5_000_000)
    acks = tmp_path / "acks.txt"
    acks.touch()
    child = mp.get_context("spawn").Process(target=_buyers, args=(db_url, aid, str(acks)))
    child.start()
    deadline = time.monotonic() + 120
    while acks.read_text().count("\n") < ACKS_BEFORE_KILL and time.monotonic() < deadline and child.is_alive():
        time.sleep(0.05)
    assert child.pid is not None
    os.kill(child.pid, signal.SIGKILL)
    child.join(30)
    told = dict(line.split() for line in acks.read_text().splitlines())
    assert len(told) >= ACKS_BEFORE_KILL

    time.sleep(1)  # the server notices the dropped connections and rolls their transactions back
    with system.engine.connect() as c:
        stored = {
            r.key: r.response.get("purchase_id")
            for r in c.execute(
                select(t.idempotency_keys.c.key, t.idempotency_keys.c.response).where(
                    t.idempotency_keys.c.key.like("crash-%")
                )
            )
        }
        n, total = c.execute(
            select(func.count(), func.coalesce(func.sum(t.purchases.c.amount), 0)).where(
                t.purchases.c.account_id == aid
            )
        ).one()
    # every purchase a client was told of is in the books, under its key, with its id
    assert {k: int(v) for k, v in told.items()} == {k: stored[k] for k in told}
    # and the books hold nothing else but committed, keyed purchases (some committed just before
    # the kill, their answer never written: allowed)
    assert n == len(stored) >= len(told)
    assert accounts.account_view(system, aid)["used"] == total
    assert books.ledger_check(system).ok
