"""End-of-day benchmark: how many credit lines per second the end-of-day job processes on
PostgreSQL, against a plain ``COPY`` of the same rows out of the database in the same run.

A program, not a test::

    .venv/bin/python bench/eod.py [--accounts 100000,1000000] [--template 500] [--check] [--json FILE] [--keep]

For each size it makes the scratch database ``huabei_bench_eod`` (dropped and recreated),
migrates it, and builds realistic activity:

1. a *template* of ``--template`` credit lines driven through the real service layer and the
   real end-of-day job, day by day from 2026-10-01 to 2026-11-30 (seeded random): base
   limits of 2,000–50,000 yuan, a third due on the 9th, 5 % with a temporary limit ending
   2026-12-01, about five purchases in October and six in November, the October bill
   (2026-11) repaid in full by most, the minimum by some (revolving interest), late or not
   at all by others (overdue, penalty), converted into 3/6/12 installments by 5 %, some
   purchase installments, refunds and early repayments;
2. ``accounts / template − 1`` *clones* of the template made set-based in PostgreSQL
   (``INSERT … SELECT … CROSS JOIN generate_series``, every id offset), so the books of
   every clone are as consistent as the template's.

It then times the end-of-day job for **2026-12-01**, the month's heaviest day: every line's
bill closes (November purchases, refunds, installment periods due 12-10 with their fees,
revolving balances carried with their interest, penalty of overdue bills, credit applied),
interest and penalty of the day accrue, delinquency buckets move, the temporary limits end,
and the November credit-bureau record of every line is written. The baseline is ``COPY
(SELECT …) TO STDOUT`` of the rows the job reads, with the job's own predicates, in the same
run. It prints lines per second and the ratio of the job's time to the COPY's, per step too,
and (``--check``) runs the ledger check afterwards. Scratch databases are dropped at the
end unless ``--keep``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import random
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import psycopg

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from huabei.domain.purchases import Channel, PurchaseRequest  # noqa: E402
from huabei.errors import HuabeiError  # noqa: E402
from huabei.services import accounts, admin, billing, eod, purchases  # noqa: E402
from huabei.services.unit_of_work import ClockMode, Huabei  # noqa: E402
from huabei.store import migrate  # noqa: E402
from huabei.store.engine import make_engine  # noqa: E402
from huabei.store.tables import metadata  # noqa: E402

BENCH_DB = "huabei_bench_eod"
ADMIN_URL = os.environ.get("HUABEI_BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
START = dt.date(2026, 10, 1)
LAST_SEEDED = dt.date(2026, 11, 30)
BENCH_DAY = dt.date(2026, 12, 1)
ID_STRIDE = 10_000_000  # every id of clone c is the template's + c × stride
CATEGORIES = ("retail", "dining", "groceries", "transport", "digital_goods", "travel")

#: Columns holding ids (offset per clone); ``user_id`` columns get a per-clone suffix.
ID_COLUMNS = {
    "users": (), "credit_accounts": ("account_id",), "purchases": ("purchase_id", "account_id"),
    "refunds": ("refund_id", "purchase_id", "account_id"), "repayments": ("repayment_id", "account_id"),
    "journal_entries": ("entry_id", "account_id", "ref_id"), "postings": ("posting_id", "entry_id", "account_id"),
    "limit_changes": ("change_id", "account_id"), "restrictions": ("restriction_id", "account_id"),
    "bills": ("bill_id", "account_id"), "bill_lines": ("line_id", "bill_id"),
    "bill_allocations": ("allocation_id", "account_id", "bill_id", "source_id"),
    "bill_accruals": ("accrual_id", "account_id", "bill_id", "entry_id"),
    "installment_plans": ("plan_id", "account_id", "source_bill_id", "source_purchase_id"),
    "installment_periods": ("plan_id", "account_id", "bill_id"),
    "account_delinquency": ("account_id",), "delinquency_months": ("account_id",),
    "due_day_changes": ("change_id", "account_id"), "bureau_records": ("record_id", "account_id"),
}


def pg_url(db: str) -> str:
    return ADMIN_URL.rsplit("/", 1)[0] + "/" + db


def recreate(db: str) -> None:
    with psycopg.connect(ADMIN_URL, autocommit=True) as c:
        c.execute(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')
        c.execute(f'CREATE DATABASE "{db}"')


def drop(db: str) -> None:
    with psycopg.connect(ADMIN_URL, autocommit=True) as c:
        c.execute(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')


# --- the template: real code paths, day by day ---------------------------------------------

def build_template(system: Huabei, n: int, seed: int = 7) -> dict[str, int]:
    rnd = random.Random(seed)
    stats = {"purchases": 0, "repayments": 0, "refunds": 0, "plans": 0, "declined": 0}
    ids = []
    for i in range(n):
        uid = f"t{i}"
        accounts.register_user(system, user_id=uid, name="基准用户", phone="13800000000", real_name_verified=True)
        ids.append(accounts.open_account(system, user_id=uid, base_limit=rnd.choice((2, 5, 10, 20, 50)) * 100_000)["account_id"])
    for a in ids:
        if rnd.random() < 0.33:
            billing.change_due_day(system, a, 9)
        if rnd.random() < 0.05:
            accounts.grant_temporary_limit(system, a, amount=100_000, expires_on=BENCH_DAY)
    # who does what with the October bill
    fate = {a: rnd.choices(("full", "minimum", "late", "none", "convert"), (75, 12, 5, 3, 5))[0] for a in ids}
    plan: dict[dt.date, list[tuple[str, int, int]]] = {}
    for a in ids:
        for month, mean in ((10, 5), (11, 6)):
            for _ in range(rnd.randint(0, 2 * mean)):
                day = dt.date(2026, month, rnd.randint(1, 30 if month == 11 else 31))
                plan.setdefault(day, []).append(("buy", a, rnd.randint(1_000, 80_000)))
        pay_day = dt.date(2026, 11, rnd.randint(2, 10))
        plan.setdefault(pay_day, []).append((fate[a], a, 0))
    counter = [0]

    def key() -> str:
        counter[0] += 1
        return f"bench-{counter[0]}"

    day = START
    bought: dict[int, list[int]] = {}
    while day <= LAST_SEEDED:
        eod.run_eod(system, until=day)
        for kind, a, amount in plan.get(day, []):
            try:
                if kind == "buy":
                    out = purchases.authorise_purchase(
                        system, PurchaseRequest(a, amount, f"m-{rnd.randint(1, 50)}", rnd.choice(CATEGORIES),
                                                Channel.ONLINE), key())
                    bought.setdefault(a, []).append(out.body["purchase_id"])
                    stats["purchases"] += 1
                    r = rnd.random()
                    if r < 0.04:
                        purchases.refund_purchase(system, out.body["purchase_id"], amount // 2, key())
                        stats["refunds"] += 1
                    elif r < 0.06 and amount >= 30_000:
                        billing.create_purchase_installments(system, out.body["purchase_id"], 3, key())
                        stats["plans"] += 1
                    continue
                bill = next((b for b in billing.list_bills(system, a) if b["period"] == "2026-11"), None)
                if bill is None or bill["unpaid"] == 0:
                    continue
                if kind == "full":
                    purchases.repay(system, a, bill["unpaid"], key())
                elif kind == "minimum":
                    purchases.repay(system, a, bill["minimum_unpaid"], key())
                elif kind == "late" and bill["minimum_unpaid"] > 1:
                    purchases.repay(system, a, bill["minimum_unpaid"] // 2, key())
                elif kind == "convert":
                    billing.create_bill_installments(system, a, "2026-11", rnd.choice((3, 6, 12)), key())
                    stats["plans"] += 1
                    continue
                else:
                    continue
                stats["repayments"] += 1
            except HuabeiError:
                stats["declined"] += 1
        day += dt.timedelta(days=1)
    return stats


# --- cloning, set-based ----------------------------------------------------------------------

def clone(url: str, copies: int) -> dict[str, float]:
    timings = {}
    with psycopg.connect(url, autocommit=True) as c:
        # the clones copy rows whose references are already consistent: skip the per-row
        # foreign-key triggers while copying (benchmark seeding only; needs a superuser)
        c.execute("SET session_replication_role = replica")
        for table in metadata.sorted_tables:
            if table.name not in ID_COLUMNS or copies == 0:
                continue
            cols = [col.name for col in table.c]
            exprs = []
            for name in cols:
                if name in ID_COLUMNS[table.name]:
                    exprs.append(f"{name} + g.c::bigint * {ID_STRIDE}")
                elif name == "user_id":
                    exprs.append(f"{name} || '-c' || g.c")
                else:
                    exprs.append(name)
            t0 = time.perf_counter()
            c.execute(f"INSERT INTO {table.name} ({', '.join(cols)}) SELECT {', '.join(exprs)} "
                      f"FROM {table.name} CROSS JOIN generate_series(1, {copies}) AS g(c)")
            timings[table.name] = time.perf_counter() - t0
            pk = list(table.primary_key.columns)
            if len(pk) == 1:  # move the id sequence past the clones
                seq = c.execute("SELECT pg_get_serial_sequence(%s, %s)", (table.name, pk[0].name)).fetchone()[0]
                if seq:
                    c.execute(f"SELECT setval('{seq}', (SELECT max({pk[0].name}) FROM {table.name}))")
        c.execute("VACUUM ANALYZE")
    return timings


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
    return {"python": platform.python_version(), "cpus": os.cpu_count(), "platform": platform.platform(),
            "postgres": pg, "load_average": os.getloadavg()}


def run_size(n: int, template: int, check: bool, keep: bool, seed_only: bool = False) -> dict[str, Any]:
    recreate(BENCH_DB)
    url = pg_url(BENCH_DB)
    migrate.upgrade(url)
    system = Huabei(engine=make_engine(url, pool_size=4), clock_mode=ClockMode.SIMULATED)
    admin.set_business_date(system, START, allow_backwards=True)
    t0 = time.perf_counter()
    stats = build_template(system, template)
    template_s = time.perf_counter() - t0
    copies = max(0, n // template - 1)
    t0 = time.perf_counter()
    clone_t = clone(url, copies)
    clone_s = time.perf_counter() - t0
    lines = count(url, "credit_accounts")
    sizes = {t: count(url, t) for t in ("purchases", "postings", "bills", "bill_lines", "bill_accruals",
                                        "installment_periods")}
    print(f"  seeded {lines:,} credit lines (template {template} in {template_s:.0f}s, clones in {clone_s:.0f}s): "
          + ", ".join(f"{k} {v:,}" for k, v in sizes.items()), flush=True)
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
        "accounts": lines, "template": template, "template_activity": stats, "rows": sizes,
        "eod_seconds": round(eod_s, 2), "accounts_per_second": round(lines / eod_s),
        "copy_seconds": round(min(copy_s, copy2_s), 2), "copy_mb": round(copy_bytes / 1e6, 1),
        "ratio_to_copy": round(eod_s / min(copy_s, copy2_s), 1),
        "steps": steps, "copy_per_query": {k: round(v, 2) for k, v in copy_per.items()},
        "next_day_seconds": round(quiet_s, 2), "next_day_accounts_per_second": round(lines / quiet_s),
        "next_day_steps": {s.name: round(s.seconds, 2) for s in quiet.days[0].steps},
        "clone_seconds": {k: round(v, 1) for k, v in clone_t.items()},
    }
    if check:
        t0 = time.perf_counter()
        rep = admin.ledger_check(system)
        out["ledger_check"] = {"ok": rep.ok, "findings": len(rep.findings), "seconds": round(time.perf_counter() - t0, 1)}
    system.engine.dispose()
    if not keep:
        drop(BENCH_DB)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--accounts", default="100000,1000000", help="comma-separated sizes")
    ap.add_argument("--template", type=int, default=500, help="credit lines driven through the service layer")
    ap.add_argument("--check", action="store_true", help="run the ledger check after the job")
    ap.add_argument("--json", help="write the results to this file")
    ap.add_argument("--keep", action="store_true", help="keep the scratch database")
    ap.add_argument("--seed-only", action="store_true", help="only build (and keep) the database, for profiling")
    args = ap.parse_args()
    results = {"machine": machine(), "runs": []}
    print(f"machine: {results['machine']}")
    for n in (int(x) for x in args.accounts.split(",")):
        print(f"end of day for {BENCH_DAY} over {n:,} credit lines", flush=True)
        r = run_size(n, args.template, args.check, args.keep, args.seed_only)
        results["runs"].append(r)
        if args.seed_only:
            print(f"  seeded and kept {r['database']}")
            continue
        print(f"  EOD {r['eod_seconds']}s = {r['accounts_per_second']:,} lines/s; COPY of the same rows "
              f"{r['copy_seconds']}s ({r['copy_mb']} MB); ratio EOD/COPY = {r['ratio_to_copy']}x")
        for name, s in r["steps"].items():
            print(f"    {name:<24} {s['seconds']:>8}s  {s['counts']}")
        print(f"  next (quiet) day {r['next_day_seconds']}s = {r['next_day_accounts_per_second']:,} lines/s")
        if "ledger_check" in r:
            print(f"  ledger check: {r['ledger_check']}")
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2, default=str))


if __name__ == "__main__":
    main()
