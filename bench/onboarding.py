"""Onboarding benchmark: opening decisions per second, bulk (``onboarding.open_accounts``) and
one by one (``onboarding.open_account``), on a scratch database.

A program, not a test::

    .venv/bin/python bench/onboarding.py [--users 1000] [--batch 200] [--one-by-one 0] \
        [--backend postgresql] [--pg-url URL] [--workers 4] [--json FILE] [--keep]

It creates a scratch database (PostgreSQL ``huabei_bench_onboarding``, dropped and recreated;
or a temporary SQLite file), migrates it, and prepares ``--users`` applicants through the
service layer the way the simulator's applicants arrive (registered, facts posted: good, fair
and bad records, a few without a verified real name or without facts; about two-thirds
eligible). Preparation is not timed. Then it times the opening decisions: ``--batch`` users per
``open_accounts`` call (one transaction each), and ``--one-by-one`` further users through
``open_account``. Every cell prints the wall rate, this process's CPU per decision (less
dependent on the machine's load than the rate), the SQL statements per decision and the load
average from before and after.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from sqlalchemy import event

import scratch
from huabei.config import ProductTerms
from huabei.errors import HuabeiError
from huabei.lines import service as accounts
from huabei.onboarding import service as onboarding
from huabei.platform import admin
from huabei.platform.db import make_engine
from huabei.platform.unit_of_work import ClockMode, Huabei
from huabei.scoring import service as scoring

PG_URL = scratch.ADMIN_URL
START = dt.date(2026, 1, 1)

GOOD = {
    "on_time_repayment_ratio": 100,
    "max_days_overdue_12m": 0,
    "overdue_episodes_12m": 0,
    "credit_history_months": 60,
    "active_days_90d": 80,
    "utility_payments_12m": 24,
    "monthly_income": 2_000_000,
    "income_verified": True,
}
FAIR = {"on_time_repayment_ratio": 90, "credit_history_months": 12, "monthly_income": 600_000}
BAD = {"max_days_overdue_12m": 365, "overdue_episodes_12m": 12, "on_time_repayment_ratio": 0}
#: (verified real name, facts) and their weights: about two-thirds of applicants are eligible
PROFILES: list[tuple[bool, dict[str, Any] | None, int]] = [
    (True, GOOD, 13),
    (True, FAIR, 3),
    (True, BAD, 2),
    (False, GOOD, 1),
    (True, None, 1),
]


def prepare(system: Huabei, user_ids: list[str], seed: int, workers: int) -> None:
    """Register the applicants and post their facts (each user's own requests, as in the
    simulation), ``workers`` at a time."""
    rng = random.Random(seed)
    plan = rng.choices(PROFILES, weights=[w for *_, w in PROFILES], k=len(user_ids))

    def one(i: int) -> None:
        verified, facts, _ = plan[i]
        uid = user_ids[i]
        accounts.register_user(system, user_id=uid, name="测试用户", phone="13800000000", real_name_verified=verified)
        if facts:
            scoring.post_facts(system, uid, facts)

    with ThreadPoolExecutor(workers) as pool:
        list(pool.map(one, range(len(user_ids))))


def _load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def timed(system: Huabei, label: str, n: int, fn: Callable[[], list[Any]]) -> dict[str, Any]:
    """Run ``fn`` (deciding ``n`` users), counting its statements, wall and CPU time."""
    statements = [0]

    def count(*_: Any) -> None:
        statements[0] += 1

    event.listen(system.engine, "before_cursor_execute", count)
    load_before = _load()
    w0, c0 = time.perf_counter(), time.process_time()
    answers = fn()
    wall, cpu = time.perf_counter() - w0, time.process_time() - c0
    event.remove(system.engine, "before_cursor_execute", count)
    opened = sum(1 for a in answers if not isinstance(a, HuabeiError))
    return {
        "path": label,
        "decisions": n,
        "opened": opened,
        "wall_seconds": round(wall, 3),
        "decisions_per_second": round(n / wall, 1),
        "cpu_ms_per_decision": round(1000 * cpu / n, 2),
        "statements": statements[0],
        "statements_per_decision": round(statements[0] / n, 2),
        "load_before": load_before,
        "load_after": _load(),
    }


def _one(system: Huabei, uid: str) -> Any:
    try:
        return onboarding.open_account(system, user_id=uid)
    except HuabeiError as e:
        return e


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--users", type=int, default=1000, help="applicants decided in bulk")
    ap.add_argument("--batch", type=int, default=200, help="users per open_accounts transaction")
    ap.add_argument("--one-by-one", type=int, default=0, help="further applicants decided one by one")
    ap.add_argument("--backend", choices=("postgresql", "sqlite"), default="postgresql")
    ap.add_argument("--pg-url", default=PG_URL)
    ap.add_argument("--workers", type=int, default=4, help="threads preparing the applicants")
    ap.add_argument("--seed", type=int, default=18)
    ap.add_argument("--json", default=None)
    ap.add_argument("--keep", action="store_true")
    args = ap.parse_args()
    url = scratch.make(args.backend, "huabei_bench_onboarding", args.pg_url)
    system = Huabei(
        engine=make_engine(url, pool_size=args.workers + 2), terms=ProductTerms(), clock_mode=ClockMode.SIMULATED
    )
    admin.set_business_date(system, START, allow_backwards=True)
    bulk_ids = [f"bulk-{i}" for i in range(args.users)]
    single_ids = [f"one-{i}" for i in range(args.one_by_one)]
    t0 = time.perf_counter()
    prepare(system, bulk_ids + single_ids, args.seed, args.workers)
    print(
        f"prepared {len(bulk_ids) + len(single_ids)} applicants in {time.perf_counter() - t0:.0f} s on {args.backend}",
        file=sys.stderr,
        flush=True,
    )
    results = []

    def bulk() -> list[Any]:
        out: list[Any] = []
        for k in range(0, len(bulk_ids), args.batch):
            out += onboarding.open_accounts(system, bulk_ids[k : k + args.batch])
        return out

    if bulk_ids:
        results.append(timed(system, f"bulk, {args.batch} a transaction", len(bulk_ids), bulk))
    if single_ids:
        results.append(timed(system, "one by one", len(single_ids), lambda: [_one(system, uid) for uid in single_ids]))
    system.engine.dispose()
    if not args.keep:
        scratch.discard(args.backend, url, args.pg_url)
    for r in results:
        r["backend"] = args.backend
        print(json.dumps(r), flush=True)
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
