"""Diagnosis benchmark: how long ``GET /v1/accounts/{id}/diagnosis`` takes for a line with a year of history.

A program, not a test::

    .venv/bin/python bench/diagnosis.py [--backends postgresql,sqlite] [--others 200] [--runs 500] [--json FILE]

For every backend it creates a scratch database (PostgreSQL: ``huabei_bench_diagnosis``, dropped
and recreated; SQLite: a temporary file), migrates it, and lives one year (2025-11-02 to
2026-11-02) through the service layer and the daily end-of-day job: the measured line buys two to
four times a day in several scenarios, repays its bill each month (one month late, to leave an
overdue episode, a bureau record and a penalty), applies for two raises, gets a temporary limit, a
password-lock restriction placed and lifted, and a cash-out restriction active at the end; ``--others``
lines buy and repay beside it so the tables are not the line's alone.

Then, in this process, it times ``diagnosis.service.diagnosis`` (the read in one snapshot, the
findings and the rendering, en and zh_CN alternately) ``--runs`` times after a warm-up, and for
comparison in the same run the baseline ``lines.service.account_view`` (the plain account read
``GET /v1/accounts/{id}`` serves) and ``diagnosis.service.limit_advice``. It prints p50 / p99 / max
in milliseconds, the ratio of the diagnosis' p50 to the baseline's, the number of SQL statements
one diagnosis runs, and the 1-minute load average before and after (the machine is shared: read
the figures with the load). Target: p99 < 50 ms on PostgreSQL.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import platform
import random
import shutil
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from sqlalchemy import event

import scratch
from huabei.batch import eod
from huabei.config import ProductTerms
from huabei.diagnosis import service as diagnosis
from huabei.errors import HuabeiError
from huabei.limits import service as limits
from huabei.lines import service as accounts
from huabei.lines.purchase_rules import Channel, PurchaseRequest
from huabei.onboarding import service as onboarding
from huabei.payments import service as payments
from huabei.platform import admin, migrate
from huabei.platform.db import make_engine
from huabei.platform.unit_of_work import ClockMode, Huabei
from huabei.restrictions import service as restrictions

PG_ADMIN = scratch.ADMIN_URL
PG_DB = "huabei_bench_diagnosis"
START = dt.date(2025, 11, 2)
END = dt.date(2026, 11, 2)
CATEGORIES = ("retail", "dining", "groceries", "transport", "travel", "entertainment")
TARGET_P99_MS = 50.0


def _buy(system: Huabei, account_id: int, amount: int, category: str, key: str) -> None:
    req = PurchaseRequest(account_id, amount, f"m-{category}", category, Channel.ONLINE)
    payments.authorise_purchase(system, req, key)


def _repay_all(system: Huabei, account_id: int, key: str) -> None:
    used = accounts.account_view(system, account_id)["used"]
    if used > 0:
        with contextlib.suppress(HuabeiError):
            payments.repay(system, account_id, used, key)


def live_a_year(system: Huabei, others: int, seed: int) -> tuple[int, dict[str, Any]]:
    """The measured line and what it went through."""
    rng = random.Random(seed)
    admin.set_business_date(system, START, allow_backwards=True)
    accounts.register_user(system, user_id="measured", name="李华", phone="13800000001", real_name_verified=True)
    acct = onboarding.open_account(system, user_id="measured", base_limit=600_000)["account_id"]
    other_ids = []
    for i in range(others):
        uid = f"other-{i}"
        accounts.register_user(system, user_id=uid, name="用户", phone="13800000002", real_name_verified=True)
        other_ids.append(onboarding.open_account(system, user_id=uid, base_limit=500_000)["account_id"])
    counts = {"purchases": 0, "repayments": 0, "days": 0}
    day = START
    n = 0
    while day < END:
        for _ in range(rng.randint(2, 4)):
            n += 1
            try:
                _buy(system, acct, rng.randint(500, 5_000), rng.choice(CATEGORIES), f"p-{n}")
                counts["purchases"] += 1
            except HuabeiError:
                pass
        for oid in rng.sample(other_ids, min(len(other_ids), 20)):
            n += 1
            with contextlib.suppress(HuabeiError):
                _buy(system, oid, rng.randint(500, 5_000), rng.choice(CATEGORIES), f"p-{n}")
        eod.run_eod(system, until=day)  # money movements of a day wait for its end-of-day run
        late = day.year == 2026 and day.month == 5
        if day.day == (20 if late else 5):
            _repay_all(system, acct, f"r-{day}")
            counts["repayments"] += 1
            for oid in other_ids:
                _repay_all(system, oid, f"r-{oid}-{day}")
        if day == dt.date(2026, 3, 10) or day == dt.date(2026, 8, 10):
            limits.apply_for_raise(system, acct)
        if day == dt.date(2026, 9, 28):
            accounts.grant_temporary_limit(system, acct, amount=300_000, expires_on=dt.date(2026, 10, 20))
        if day == dt.date(2026, 7, 1):
            r = restrictions.place_restriction(system, acct, cause="wrong_password_lockout", evidence={"attempts": 5})
            restrictions.lift_restriction(system, r["restriction_id"], reason="password_reset")
        day += dt.timedelta(days=1)
        admin.set_business_date(system, day)
        counts["days"] += 1
    eod.run_eod(system, until=END)
    restrictions.place_restriction(
        system, acct, cause="cash_out_suspected", evidence={"purchase_ids": [1, 2, 3], "last_flagged_on": "2026-10-30"}
    )
    return acct, counts


def timed(fn: Any, runs: int) -> list[float]:
    for _ in range(min(20, runs)):
        fn()
    out = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t0) * 1000)
    return out


def summary(ms: list[float]) -> dict[str, float]:
    ordered = sorted(ms)
    return {
        "p50": round(statistics.median(ordered), 2),
        "p99": round(ordered[max(0, int(len(ordered) * 0.99) - 1)], 2),
        "max": round(ordered[-1], 2),
    }


def count_statements(system: Huabei, fn: Any) -> int:
    n = {"n": 0}

    def on(*_a: Any) -> None:
        n["n"] += 1

    event.listen(system.engine, "before_cursor_execute", on)
    try:
        fn()
    finally:
        event.remove(system.engine, "before_cursor_execute", on)
    return n["n"]


def run_backend(backend: str, args: argparse.Namespace) -> dict[str, Any]:
    tmp = None
    if backend == "sqlite":
        tmp = tempfile.mkdtemp(prefix="huabei-diagnosis-")
        url = f"sqlite:///{tmp}/bench.db"
    else:
        url = scratch.recreate(PG_ADMIN, PG_DB)
    engine = make_engine(url, pool_size=2)
    migrate.upgrade(url, engine=engine)
    system = Huabei(engine=engine, terms=ProductTerms(), clock_mode=ClockMode.SIMULATED)
    t0 = time.perf_counter()
    acct, counts = live_a_year(system, args.others, args.seed)
    lived = time.perf_counter() - t0
    view = diagnosis.diagnosis(system, acct, "en")
    print(
        f"[{backend}] lived {counts['days']} days in {lived:.0f}s: {counts['purchases']} purchases and "
        f"{counts['repayments']} repayments on the measured line, {args.others} other lines; "
        f"state {view['state']}, findings {[f['code'] for f in view['findings']]}",
        flush=True,
    )
    load_before = os.getloadavg()[0]
    langs = ["en", "zh_CN"]
    k = {"i": 0}

    def diag() -> None:
        k["i"] += 1
        diagnosis.diagnosis(system, acct, langs[k["i"] % 2])

    base = summary(timed(lambda: accounts.account_view(system, acct), args.runs))
    diag_ms = summary(timed(diag, args.runs))
    advice_ms = summary(timed(lambda: diagnosis.limit_advice(system, acct, "en"), max(50, args.runs // 5)))
    load_after = os.getloadavg()[0]
    statements = count_statements(system, lambda: diagnosis.diagnosis(system, acct, "en"))
    ratio = round(diag_ms["p50"] / base["p50"], 2) if base["p50"] else None
    met = diag_ms["p99"] < TARGET_P99_MS
    print(
        f"[{backend}] diagnosis p50 {diag_ms['p50']} ms, p99 {diag_ms['p99']} ms, max {diag_ms['max']} ms "
        f"({statements} SQL statements; {ratio}x the plain account read's p50 {base['p50']} ms, p99 {base['p99']} ms); "
        f"target p99 < {TARGET_P99_MS:.0f} ms: {'met' if met else 'NOT met'}",
        flush=True,
    )
    print(
        f"[{backend}] limit advice p50 {advice_ms['p50']} ms, p99 {advice_ms['p99']} ms; "
        f"load average {load_before:.2f} -> {load_after:.2f}",
        flush=True,
    )
    engine.dispose()
    if not args.keep:
        if tmp:
            shutil.rmtree(tmp, ignore_errors=True)
        else:
            scratch.drop(PG_ADMIN, PG_DB)
    return {
        "backend": backend,
        "history": counts,
        "others": args.others,
        "runs": args.runs,
        "account_view_ms": base,
        "diagnosis_ms": diag_ms,
        "limit_advice_ms": advice_ms,
        "statements": statements,
        "ratio_p50_to_account_view": ratio,
        "target_met": met,
        "load_average": [round(load_before, 2), round(load_after, 2)],
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--backends", default="postgresql,sqlite")
    ap.add_argument("--others", type=int, default=200, help="other lines living beside the measured one")
    ap.add_argument("--runs", type=int, default=500, help="timed diagnoses per backend")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--keep", action="store_true", help="keep the scratch databases")
    ap.add_argument("--json", type=Path, help="write the results here")
    args = ap.parse_args()
    print(
        f"python {platform.python_version()}, {os.cpu_count()} CPUs, {platform.machine()}, "
        f"load average {os.getloadavg()}",
        flush=True,
    )
    results = [run_backend(b.strip(), args) for b in args.backends.split(",") if b.strip()]
    if args.json:
        args.json.write_text(json.dumps(results, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
