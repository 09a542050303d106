"""End-of-day benchmark: how many credit lines per second the end-of-day job processes on
PostgreSQL, against a plain ``COPY`` of the same rows out of the database in the same run.

A program, not a test::

    .venv/bin/python bench/eod.py [--accounts 100000,1000000] [--template 500] [--seed 7] [--check] [--json FILE] [--keep]

For each size it makes the scratch database ``huabei_bench_eod`` (dropped and recreated),
migrates it, and builds the book with the portfolio simulation's generator:

1. a *template*: ``--template`` synthetic users (the default behaviour profiles and mix of
   ``huabei.simulation``, seed ``--seed``, full activity) living 2026-10-01 to 2026-11-30
   through the real service layer and the real end-of-day job, day by day, with the
   invariants checked every day (``huabei.simulation.load_book``): registration, host facts,
   the automatic opening decision (about 9 in 10 open a line), purchases with seasonality and
   Double 11, refunds, the October bill repaid in full, the minimum, late or not at all by
   profile, bill and purchase installments, raise applications and campaigns, lockouts, the
   Nov 1 temporary-limit campaign (30 % of the base limit, ending 2026-12-01), the monthly
   rescoring and limit review;
2. *clones* of the template made set-based in PostgreSQL (``huabei.simulation.clone``:
   ``INSERT … SELECT … CROSS JOIN generate_series``, every id offset, every user id
   suffixed), as many as make about ``--accounts`` credit lines, so the books of every clone
   are as consistent as the template's.

It then times the end-of-day job for **2026-12-01**, the month's heaviest day: every line's
bill closes (November purchases, refunds, installment periods due 12-10 with their fees,
revolving balances carried with their interest, penalty of overdue bills, credit applied),
interest and penalty of the day accrue, delinquency buckets move, the temporary limits end,
and the November credit-bureau record of every line is written. The baseline is ``COPY
(SELECT …) TO STDOUT`` of the rows the job reads, with the job's own predicates, in the same
run. It prints lines per second and the ratio of the job's time to the COPY's, per step too,
then times the next day, 2026-12-02 (``scoring.refresh_day`` and ``limits.reevaluation_day``:
no bill closes, but every user is rescored and every open line reviewed), and
(``--check``) runs the ledger check afterwards. Scratch databases are dropped at the
end unless ``--keep``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import psycopg

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

import scratch
from huabei.batch import books, eod
from huabei.platform import (
    migrate,
)
from huabei.platform.db import make_engine
from huabei.platform.unit_of_work import ClockMode, Huabei
from huabei.simulation import load_book
from huabei.simulation.clone import clone_book

BENCH_DB = "huabei_bench_eod"
ADMIN_URL = scratch.ADMIN_URL
START = dt.date(2026, 10, 1)
BENCH_DAY = dt.date(2026, 12, 1)


def pg_url(db: str) -> str:
    """libpq's form of the URL (psycopg.connect and COPY take it as is)."""
    return ADMIN_URL.rsplit("/", 1)[0] + "/" + db


# --- the template: the simulation's generator; the clones: set-based ---------------------------


def build_template(url: str, users: int, seed: int) -> dict[str, Any]:
    """``users`` synthetic users living October and November 2026 through the service layer."""
    report = load_book(url, users=users, months=2, seed=seed, start=START, workers=4)
    tot = report["totals"]
    return {
        "users": users,
        "seed": seed,
        "days_checked": report["checks"]["days_checked"],
        "violations": report["checks"]["violations"],
        "lines_opened": tot["accounts_opened"],
        "declined": tot["accounts_declined"],
        "purchases": tot["purchases"],
        "purchase_volume_fen": tot["purchase_volume_fen"],
        "refund_volume_fen": tot["refund_volume_fen"],
        "repayment_volume_fen": tot["repayment_volume_fen"],
        "limit_raises": tot["limit_raises"],
        "limit_cuts": tot["limit_cuts"],
        "delinquency_at_end": tot["final"].get("delinquency"),
    }


# --- the baseline: COPY out the rows the job reads ---------------------------------------------


def copy_baseline(url: str, day: dt.date) -> tuple[float, int, dict[str, float]]:
    lower, horizon = dt.date(2026, 11, 1), dt.date(2027, 2, 1)  # the job's bounds for BENCH_DAY
    queries = {
        "credit_accounts": "SELECT account_id, due_day, credit_balance, used FROM credit_accounts ORDER BY account_id",
        "purchases": f"SELECT p.account_id, p.purchase_id, p.amount, p.on_temporary_limit, p.business_date "
        f"FROM purchases p WHERE p.business_date >= '{lower}' AND p.business_date < '{day}' "
        f"ORDER BY p.account_id, p.business_date, p.purchase_id",
        "bill_allocations": f"SELECT * FROM bill_allocations WHERE bill_id IS NULL AND business_date >= '{lower}' "
        f"AND business_date < '{day}' ORDER BY account_id",
        "bill_accruals": f"SELECT * FROM bill_accruals WHERE business_date >= '{lower}' AND business_date < '{day}' "
        f"ORDER BY account_id",
        "installment_periods": f"SELECT * FROM installment_periods WHERE status = 'scheduled' "
        f"AND due_date < '{horizon}' ORDER BY account_id",
        "bills (unpaid, read by three steps)": "SELECT * FROM bills WHERE status <> 'paid' ORDER BY account_id",
    }
    per: dict[str, float] = {}
    total_bytes = 0
    with psycopg.connect(url) as c, c.cursor() as cur:
        for name, q in queries.items():
            t0 = time.perf_counter()
            with cur.copy(f"COPY ({q}) TO STDOUT") as cp:
                for data in cp:
                    total_bytes += len(data)
            per[name] = time.perf_counter() - t0
    return sum(per.values()), total_bytes, per


def count(url: str, table: str) -> int:
    with psycopg.connect(url) as c:
        return c.execute(f"SELECT count(*) FROM {table}").fetchone()[0]


def machine() -> dict[str, Any]:
    try:
        pg = subprocess.run(["psql", "--version"], capture_output=True, text=True).stdout.strip()
    except OSError:
        pg = "?"
    return {
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "platform": platform.platform(),
        "postgres": pg,
        "load_average": os.getloadavg(),
    }


def run_size(n: int, template: int, seed: int, check: bool, keep: bool, seed_only: bool = False) -> dict[str, Any]:
    scratch.recreate(ADMIN_URL, BENCH_DB)
    url = pg_url(BENCH_DB)
    migrate.upgrade(url)
    t0 = time.perf_counter()
    stats = build_template(url, template, seed)
    template_s = time.perf_counter() - t0
    copies = max(0, round(n / max(1, stats["lines_opened"])) - 1)
    system = Huabei(engine=make_engine(url, pool_size=4), clock_mode=ClockMode.SIMULATED)
    t0 = time.perf_counter()
    cloned = clone_book(system.engine, copies)
    clone_s = time.perf_counter() - t0
    lines = count(url, "credit_accounts")
    sizes = {
        t: count(url, t)
        for t in (
            "users",
            "purchases",
            "postings",
            "bills",
            "bill_lines",
            "bill_accruals",
            "installment_periods",
            "user_facts",
        )
    }
    print(
        f"  seeded {lines:,} credit lines (template of {template} users / {stats['lines_opened']} lines simulated "
        f"in {template_s:.0f}s, {copies:,} clones in {clone_s:.0f}s): "
        + ", ".join(f"{k} {v:,}" for k, v in sizes.items()),
        flush=True,
    )
    if seed_only:
        system.engine.dispose()
        return {"accounts": lines, "rows": sizes, "database": url}
    copy_s, copy_bytes, copy_per = copy_baseline(url, BENCH_DAY)
    t0 = time.perf_counter()
    report = eod.run_eod(system, date=BENCH_DAY)
    eod_s = time.perf_counter() - t0
    steps = {s.name: {"seconds": round(s.seconds, 2), "counts": s.counts} for s in report.days[0].steps}
    t0 = time.perf_counter()
    quiet = eod.run_eod(system, date=BENCH_DAY + dt.timedelta(days=1))
    quiet_s = time.perf_counter() - t0
    copy2_s, _, _ = copy_baseline(url, BENCH_DAY)
    out: dict[str, Any] = {
        "accounts": lines,
        "template": stats,
        "template_seconds": round(template_s, 1),
        "copies": copies,
        "rows": sizes,
        "eod_seconds": round(eod_s, 2),
        "accounts_per_second": round(lines / eod_s),
        "copy_seconds": round(min(copy_s, copy2_s), 2),
        "copy_mb": round(copy_bytes / 1e6, 1),
        "ratio_to_copy": round(eod_s / min(copy_s, copy2_s), 1),
        "steps": steps,
        "copy_per_query": {k: round(v, 2) for k, v in copy_per.items()},
        "next_day_seconds": round(quiet_s, 2),
        "next_day_accounts_per_second": round(lines / quiet_s),
        "next_day_steps": {s.name: round(s.seconds, 2) for s in quiet.days[0].steps},
        "clone_seconds": {k: round(v, 1) for k, v in cloned.seconds.items()},
    }
    if check:
        t0 = time.perf_counter()
        rep = books.ledger_check(system)
        out["ledger_check"] = {
            "ok": rep.ok,
            "findings": len(rep.findings),
            "seconds": round(time.perf_counter() - t0, 1),
        }
    system.engine.dispose()
    if not keep:
        scratch.drop(ADMIN_URL, BENCH_DB)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--accounts", default="100000,1000000", help="comma-separated sizes")
    ap.add_argument(
        "--template",
        type=int,
        default=500,
        help="synthetic users simulated through the service layer (the template the clones copy)",
    )
    ap.add_argument("--seed", type=int, default=7, help="the simulation's seed")
    ap.add_argument("--check", action="store_true", help="run the ledger check after the job")
    ap.add_argument("--json", help="write the results to this file")
    ap.add_argument("--keep", action="store_true", help="keep the scratch database")
    ap.add_argument("--seed-only", action="store_true", help="only build (and keep) the database, for profiling")
    args = ap.parse_args()
    results = {"machine": machine(), "runs": []}
    print(f"machine: {results['machine']}")
    for n in (int(x) for x in args.accounts.split(",")):
        print(f"end of day for {BENCH_DAY} over {n:,} credit lines", flush=True)
        r = run_size(n, args.template, args.seed, args.check, args.keep, args.seed_only)
        results["runs"].append(r)
        if args.seed_only:
            print(f"  seeded and kept {r['database']}")
            continue
        print(
            f"  EOD {r['eod_seconds']}s = {r['accounts_per_second']:,} lines/s; COPY of the same rows "
            f"{r['copy_seconds']}s ({r['copy_mb']} MB); ratio EOD/COPY = {r['ratio_to_copy']}x"
        )
        for name, s in r["steps"].items():
            print(f"    {name:<24} {s['seconds']:>8}s  {s['counts']}")
        print(
            f"  next day (rescoring and limit review) {r['next_day_seconds']}s = "
            f"{r['next_day_accounts_per_second']:,} lines/s: {r['next_day_steps']}"
        )
        if "ledger_check" in r:
            print(f"  ledger check: {r['ledger_check']}")
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2, default=str))


if __name__ == "__main__":
    main()
