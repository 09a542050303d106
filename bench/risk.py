"""End-of-day risk evaluation benchmark: the ``risk_rules`` step over a whole book, against reading
the same rows out of the database in the same run.

A program, not a test::

    .venv/bin/python bench/risk.py --build 100000 [--template 300] [--keep]   # build a book, then time
    .venv/bin/python bench/risk.py --url postgresql://…/huabei_bench_risk     # time a kept book

``--build`` makes the scratch database ``huabei_bench_risk`` with the end-of-day benchmark's
generator (``bench/eod.py``: a template of synthetic users lived October–November 2026 through
the service layer, with the simulation's fraud profiles, cloned set-based to about N lines).
It then times, for 2026-12-01 (features as of 2026-11-30), the step's three parts — ``read``
(the active policy's features for every open line, one statement each, and what the rules hold
open), ``decide`` (pure, CEL over the batch) and ``write`` (restrictions placed and lifted,
every decision recorded; rolled back so the run can repeat) — and the baseline: ``COPY (SELECT
…) TO STDOUT`` of the rows those features read, with their windows' predicates. It prints the
ratio of the evaluation to the COPY, with the load average.
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib.util
import json
import os
import sys
import time
from collections import Counter
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from huabei.platform.db import make_engine
from huabei.platform.unit_of_work import ClockMode, Huabei
from huabei.risk import evaluation
from huabei.risk.service import active_policy

DAY = dt.date(2026, 12, 1)
BENCH_DB = "huabei_bench_risk"


def _bench_eod():
    spec = importlib.util.spec_from_file_location("bench_eod", ROOT / "bench" / "eod.py")
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    mod.BENCH_DB = BENCH_DB
    return mod


def copy_baseline(url: str, as_of: dt.date) -> tuple[float, int]:
    """COPY out the rows the default policy's features read as of ``as_of``."""
    d30, d7, d365 = (as_of - dt.timedelta(days=n - 1) for n in (30, 7, 365))
    queries = [
        f"SELECT account_id, user_id, opened_on, closed_on FROM credit_accounts WHERE opened_on <= '{as_of}'",
        f"SELECT account_id, purchase_id, merchant_id, merchant_category, amount, device_id, business_date "
        f"FROM purchases WHERE business_date >= '{d30}' AND business_date <= '{as_of}'",
        f"SELECT account_id, max(business_date) FROM purchases WHERE business_date <= '{as_of}' GROUP BY account_id",
        f"SELECT purchase_id, business_date FROM refunds WHERE business_date >= '{d30}' AND business_date <= '{as_of}'",
        f"SELECT account_id, bill_id, due_date, overdue_since, cleared_on FROM bills "
        f"WHERE overdue_since IS NOT NULL AND (cleared_on IS NULL OR cleared_on >= '{d365}')",
        f"SELECT account_id, change_id, limit_kind, old_value, new_value, business_date FROM limit_changes "
        f"WHERE business_date >= '{d30}' AND business_date <= '{as_of}'",
        f"SELECT user_id, score_id, score, previous_score FROM credit_scores WHERE as_of <= '{as_of}'",
        f"SELECT account_id, business_date FROM purchase_declines WHERE business_date >= '{d30}' "
        f"AND business_date <= '{as_of}'",
        f"SELECT account_id, applied_on FROM limit_raise_applications WHERE applied_on >= '{d30}' "
        f"AND applied_on <= '{as_of}'",
        f"SELECT * FROM external_credit_reports WHERE reported_on <= '{as_of}'",
        f"SELECT * FROM user_profile_changes WHERE business_date >= '{d30}' AND business_date <= '{as_of}'",
        f"SELECT * FROM user_verifications WHERE business_date <= '{as_of}'",
        f"SELECT * FROM activity_events WHERE occurred_on >= '{d30}' AND occurred_on <= '{as_of}'",
        "SELECT * FROM restrictions WHERE active AND rule_id IS NOT NULL",
    ]
    assert d7  # the 7-day windows are inside the 30-day rows
    total = 0
    t0 = time.perf_counter()
    with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://")) as c, c.cursor() as cur:
        for q in queries:
            with cur.copy(f"COPY ({q}) TO STDOUT") as cp:
                for data in cp:
                    total += len(data)
    return time.perf_counter() - t0, total


def time_step(url: str) -> dict:
    system = Huabei(engine=make_engine(url, pool_size=2), clock_mode=ClockMode.SIMULATED)
    out: dict = {"load_before": os.getloadavg()}
    with system.uow() as uow:  # never committed: rolled back on exit
        out["features"] = len(active_policy(uow).features())
        t0 = time.perf_counter()
        snap = evaluation.read(uow, DAY)
        out["read_s"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        decisions = evaluation.decide(snap, uow.terms, DAY)
        out["decide_s"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        evaluation.write(uow, decisions)
        out["write_s"] = time.perf_counter() - t0
        out["lines"] = len(snap.values)
        out["decisions"] = dict(Counter(d.action for d in decisions.items))
    system.engine.dispose()
    out["load_after"] = os.getloadavg()
    out["total_s"] = out["read_s"] + out["decide_s"] + out["write_s"]
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--url", help="an existing book (SQLAlchemy URL)")
    ap.add_argument("--build", type=int, help="build a book of about this many lines first")
    ap.add_argument("--template", type=int, default=300)
    ap.add_argument("--keep", action="store_true")
    ap.add_argument("--runs", type=int, default=2)
    ap.add_argument("--json")
    args = ap.parse_args()
    url = args.url
    mod = None
    if args.build:
        mod = _bench_eod()
        mod.run_size(args.build, args.template, 7, False, True, seed_only=True)
        url = mod.pg_url(BENCH_DB)
    assert url, "--url or --build"
    if url.startswith("postgresql://"):
        url = url.replace("postgresql://", "postgresql+psycopg://", 1)
    runs = []
    for _ in range(args.runs):
        copy_s, nbytes = copy_baseline(url, evaluation.as_of(DAY))
        step = time_step(url)
        step["copy_s"], step["copy_mb"] = copy_s, round(nbytes / 1e6, 1)
        step["ratio"] = step["total_s"] / copy_s
        runs.append(step)
        print(
            f"{step['lines']:,} lines, {step['features']} features: read {step['read_s']:.2f}s decide "
            f"{step['decide_s']:.2f}s write {step['write_s']:.2f}s = {step['total_s']:.2f}s; COPY of the rows read "
            f"{copy_s:.2f}s ({step['copy_mb']} MB); ratio {step['ratio']:.1f}x; decisions {step['decisions']}; "
            f"load {step['load_before'][0]:.1f} -> {step['load_after'][0]:.1f}",
            flush=True,
        )
    if args.json:
        Path(args.json).write_text(json.dumps(runs, indent=2, default=str))
    if mod is not None and not args.keep:
        mod.drop(BENCH_DB)


if __name__ == "__main__":
    main()
