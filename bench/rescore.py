"""Rescoring benchmark: score and re-evaluate the limits of a whole population in one batch.

A program, not a test::

    .venv/bin/python bench/rescore.py [--users 1000000] [--backends sqlite,postgresql] \
        [--template 300] [--months 4] [--seed 1] [--keep] [--json FILE]

For each backend it creates a scratch database (a temporary SQLite file; the PostgreSQL
database ``huabei_bench_rescore``, dropped and recreated), migrates it, and loads the book
with the portfolio simulation's generator:

1. a *template*: ``--template`` synthetic users (the default behaviour profiles and mix of
   ``huabei.simulation``, full activity) living ``--months`` months up to 2026-11-30 through
   the service layer (``huabei.simulation.load_book``, invariants checked every day):
   registration with a profile, about 15 host facts each (income, assets, verification,
   education, occupation, contacts' standing, payment habits, …), the automatic opening
   decision (about 9 in 10 open a line), purchases, refunds, bills repaid in full, the
   minimum, late or never by profile (overdue events, delinquency), installments, raise
   applications and campaigns, the monthly rescoring and limit review; then the end-of-day
   job for 2026-12-01 (the December bills) and the business date moved to 2026-12-02;
2. *clones* of the template made set-based in the database (``huabei.simulation.clone``:
   ``INSERT … SELECT`` over a series, every id offset, every user id suffixed) up to about
   ``--users`` users. The journal and the bills' detail (postings, bill lines, accruals,
   allocations: most of a book's rows, never read by the rescoring) are not copied; everything
   the score and the limit review read is.

The simulation does not post host activity events nor contact lists (it posts the activity
and contact facts instead), so those two inputs are read but empty.

Then, on the business date, it times

1. **read inputs** — the aggregate queries :func:`huabei.scoring.service.collect_facts`
   runs, rows fetched, nothing else (the floor: what merely reading the inputs costs);
2. **rescore + re-evaluate** — in one unit of work: ``collect_facts`` (the same queries and
   the numpy assembly), ``score_population`` (vectorised scorecard with reasons),
   ``store_scores`` (one batched insert of a score row per user, ``ScoreChanged`` events),
   ``reevaluate_limits`` (vectorised policy and review, one ``UPDATE … FROM`` per 50,000
   changes, batched limit-change and event inserts), commit;

and prints users per second and the ratio of (2) to (1). Nothing here is a pass/fail
test; the numbers go to docs/performance.md ("Rescoring").
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

import scratch
from huabei.batch import eod
from huabei.billing import calendar as cal
from huabei.config import ProductTerms
from huabei.limits import service as limits
from huabei.platform import (
    admin,
    migrate,
)
from huabei.platform.db import make_engine
from huabei.platform.unit_of_work import ClockMode, Huabei
from huabei.scoring import collect
from huabei.scoring import service as scoring
from huabei.simulation import load_book
from huabei.simulation.clone import LEDGER_DETAIL, clone_book

TODAY = dt.date(2026, 12, 2)  # a scheduled refresh / review day
PG_ADMIN = scratch.ADMIN_URL
PG_DB = "huabei_bench_rescore"


# --------------------------------------------------------------------------- seeding


def load(url: str, engine, n: int, template: int, months: int, seed: int) -> dict[str, Any]:
    """The template simulated through the service layer, then cloned set-based to about ``n`` users."""
    start = cal.add_months(dt.date(2026, 12, 1), -months)
    t0 = time.perf_counter()
    report = load_book(url, users=template, months=months, seed=seed, start=start, workers=4)
    t_sim = time.perf_counter() - t0
    system = Huabei(engine=engine, terms=ProductTerms(), clock_mode=ClockMode.SIMULATED)
    eod.run_eod(system, until=TODAY - dt.timedelta(days=1))
    admin.set_business_date(system, TODAY)
    copies = max(0, round(n / template) - 1)
    cloned = clone_book(engine, copies, skip=LEDGER_DETAIL)
    tot = report["totals"]
    return {
        "template_users": template,
        "months": months,
        "start": start.isoformat(),
        "seed": seed,
        "template_seconds": round(t_sim, 1),
        "template_violations": report["checks"]["violations"],
        "template_lines": tot["accounts_opened"],
        "template_declined": tot["accounts_declined"],
        "template_purchases": tot["purchases"],
        "copies": copies,
        "clone_seconds": round(cloned.total_seconds, 1),
    }


def count_rows(engine) -> dict[str, int]:
    from sqlalchemy import text

    names = (
        "users",
        "credit_accounts",
        "purchases",
        "user_facts",
        "user_facts_current",
        "credit_scores",
        "domain_events",
        "limit_raise_applications",
        "bills",
        "activity_events",
        "user_contacts",
    )
    with engine.connect() as c:
        return {k: int(c.execute(text(f"SELECT count(*) FROM {k}")).scalar_one()) for k in names}


# --------------------------------------------------------------------------- the timed phases


def read_inputs(system: Huabei) -> float:
    """The aggregate queries of collect_facts, rows fetched and dropped."""
    from huabei.scoring.service import (
        ALL_FACT_SPECS,
        COUNTED_FACTS,
        HOST_FACTS,
        _due_periods,
        fact_kind,
    )

    t0 = time.perf_counter()
    with system.uow(readonly=True) as uow:
        as_of = uow.today()
        d90, d365 = as_of - dt.timedelta(days=89), as_of - dt.timedelta(days=364)
        rows = 0
        rows += len(uow.facts.users_by_user(None))
        rows += len(uow.facts.current_facts_by_user([(n, fact_kind(ALL_FACT_SPECS[n])) for n in HOST_FACTS], None))
        rows += len(uow.credit_record.accounts_by_user(None))
        rows += len(uow.facts.activity_by_user(d90, as_of, None))
        rows += len(uow.facts.event_counts_by_user(list(COUNTED_FACTS.values()), d365, as_of, None))
        rows += len(uow.enrolments.completions_by_user(d365, as_of, None))
        rows += len(uow.applications.by_user(d90, as_of, None))
        rows += len(uow.credit_record.due_periods_by_user(_due_periods(as_of, uow.terms), None))
        rows += len(uow.credit_record.overdue_events_by_user(as_of, None))
        rows += len(uow.facts.contacts_by_user(uow.terms.scoring.opening_threshold, None))
    return time.perf_counter() - t0


def rescore(system: Huabei) -> dict[str, float]:
    t: dict[str, float] = {}
    t0 = time.perf_counter()
    with system.uow() as uow:
        pop = collect.collect_facts(uow)
        t["collect_facts"] = time.perf_counter() - t0
        t1 = time.perf_counter()
        scored = scoring.score_population(pop, collect.scorecard_for(uow.terms.scoring))
        t["score"] = time.perf_counter() - t1
        t1 = time.perf_counter()
        scoring.store_scores(uow, pop, scored, "scheduled")
        t["store_scores"] = time.perf_counter() - t1
        t1 = time.perf_counter()
        changed = limits.reevaluate_limits(uow, population=pop, scores=scored.scores)
        t["reevaluate_limits"] = time.perf_counter() - t1
        t1 = time.perf_counter()
        uow.commit()
        t["commit"] = time.perf_counter() - t1
    t["total"] = time.perf_counter() - t0
    t["users"] = len(pop)
    t["limits_changed"] = changed
    return t


def run_backend(backend: str, args: argparse.Namespace) -> dict[str, Any]:
    n, keep = args.users, args.keep
    tmp = None
    if backend == "sqlite":
        tmp = tempfile.mkdtemp(prefix="huabei-rescore-")
        url = f"sqlite:///{tmp}/bench.db"
    else:
        url = scratch.recreate(PG_ADMIN, PG_DB)
    engine = make_engine(url, pool_size=2)
    migrate.upgrade(url, engine=engine)
    t0 = time.perf_counter()
    loaded = load(url, engine, n, args.template, args.months, args.seed)
    t_seed = time.perf_counter() - t0
    system = Huabei(engine=engine, terms=ProductTerms(), clock_mode=ClockMode.SIMULATED)
    counts = count_rows(engine)
    print(
        f"[{backend}] simulated {loaded['template_users']} users × {loaded['months']} months "
        f"({loaded['template_lines']} lines) in {loaded['template_seconds']}s, {loaded['copies']:,} clones in "
        f"{loaded['clone_seconds']}s ({t_seed:.0f}s in all): " + ", ".join(f"{k} {v:,}" for k, v in counts.items()),
        flush=True,
    )
    t_read = read_inputs(system)
    print(f"[{backend}] read inputs: {t_read:.2f}s ({counts['users'] / t_read:,.0f} users/s)", flush=True)
    t = rescore(system)
    ratio = t["total"] / t_read
    print(
        f"[{backend}] rescore + re-evaluate {t['users']:,} users: {t['total']:.2f}s "
        f"({t['users'] / t['total']:,.0f} users/s, {ratio:.2f}x reading the inputs); "
        f"{t['limits_changed']:,} limits changed",
        flush=True,
    )
    print(
        f"[{backend}]   "
        + ", ".join(f"{k} {v:.2f}s" for k, v in t.items() if k not in ("total", "users", "limits_changed")),
        flush=True,
    )
    # second run: everything is rescored again (history grows; fewer limits change)
    t2 = rescore(system)
    print(
        f"[{backend}] second run: {t2['total']:.2f}s ({t2['users'] / t2['total']:,.0f} users/s), "
        f"{t2['limits_changed']:,} limits changed",
        flush=True,
    )
    engine.dispose()
    if not keep:
        if tmp:
            shutil.rmtree(tmp, ignore_errors=True)
        else:
            scratch.drop(PG_ADMIN, PG_DB)
    return {
        "backend": backend,
        "users": counts["users"],
        "rows": counts,
        "book": loaded,
        "seed_seconds": round(t_seed, 1),
        "read_inputs_seconds": round(t_read, 2),
        "rescore": {k: round(v, 2) for k, v in t.items()},
        "second_run": {k: round(v, 2) for k, v in t2.items()},
        "users_per_second": round(t["users"] / t["total"]),
        "ratio_to_reading": round(ratio, 2),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--users", type=int, default=1_000_000, help="users after cloning (about)")
    ap.add_argument("--template", type=int, default=300, help="synthetic users simulated through the service layer")
    ap.add_argument("--months", type=int, default=4, help="months the template lives, up to 2026-11-30")
    ap.add_argument("--seed", type=int, default=1, help="the simulation's seed")
    ap.add_argument("--backends", default="sqlite,postgresql")
    ap.add_argument("--keep", action="store_true", help="keep the scratch databases")
    ap.add_argument("--json", type=Path, help="write the results here")
    args = ap.parse_args()
    print(
        f"python {platform.python_version()}, numpy {np.__version__}, {os.cpu_count()} CPUs, "
        f"{platform.machine()}, business date {TODAY}, load average {os.getloadavg()}",
        flush=True,
    )
    results = [run_backend(b.strip(), args) for b in args.backends.split(",") if b.strip()]
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
