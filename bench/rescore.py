"""Rescoring benchmark: score and re-evaluate the limits of a whole population in one batch.

A program, not a test::

    .venv/bin/python bench/rescore.py [--users 1000000] [--backends sqlite,postgresql] [--keep] [--json FILE]

For each backend it creates a scratch database (a temporary SQLite file; the PostgreSQL
database ``huabei_bench_rescore``, dropped and recreated), migrates it, and seeds ``--users``
users in bulk (SQLite ``executemany`` / PostgreSQL ``COPY``):

* every user with a profile (education, e-mail, bank card, identity document), 90 % verified;
* 70 % with an open credit line (random limit, used share, due day 10, opened up to 4 years
  ago; 2 % blocked overdue, 0.5 % frozen), about 3 purchases per line over the last 120
  days (12 categories, online / offline), 3 % of lines with a delinquency episode in the
  outbox (``BecameOverdue``, half of them cured);
* about 2 app activity events per user (payments, utility payments, credit-card
  repayments, transfers, credit services, credit tasks) over 400 days;
* 4 host facts per user (income, verified, assets, verified contacts), 5 % with a recent
  raise application, 10 % with 3 contacts.

Then, on the business date, it times

1. **read inputs** — the aggregate queries :func:`huabei.services.scoring.collect_facts`
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

from huabei.config import ProductTerms  # noqa: E402
from huabei.services import admin, limits, scoring  # noqa: E402
from huabei.services.unit_of_work import ClockMode, Huabei  # noqa: E402
from huabei.store import migrate  # noqa: E402
from huabei.store.engine import make_engine  # noqa: E402

TODAY = dt.date(2026, 12, 2)  # a scheduled refresh / review day
CATEGORIES = np.array(["retail", "dining", "travel", "utilities", "groceries", "transport", "entertainment",
                       "education", "health", "services", "digital_goods", "telecom"], dtype=object)
PG_ADMIN = os.environ.get("HUABEI_BENCH_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
PG_DB = "huabei_bench_rescore"


# --------------------------------------------------------------------------- seeding


def _dates(days_back: np.ndarray) -> list[str]:
    base = np.datetime64(TODAY, "D")
    return (base - days_back.astype("timedelta64[D]")).astype(str).tolist()


def build(n: int, seed: int = 1) -> dict[str, tuple[list[str], list[tuple]]]:
    """Every table's rows as (columns, rows), generated with numpy."""
    rng = np.random.default_rng(seed)
    now = f"{TODAY.isoformat()} 08:00:00+08:00"
    uid = np.char.add("u", np.char.zfill(np.arange(n).astype(str), 8)).astype(object)
    verified = rng.random(n) < 0.9
    edu = np.array(['"bachelor"', '"master"', '"college"', None], dtype=object)[rng.integers(0, 4, n)]
    card = rng.random(n) < 0.7
    profiles = [("{" + ",".join(filter(None, [f'"education":{e}' if e else None,
                                               '"email":"x@example.cn"' if m else None,
                                               '"bank_card_bound":true' if c else None,
                                               '"id_document_expires_on":"2031-01-01"'])) + "}")
                for e, m, c in zip(edu.tolist(), (rng.random(n) < 0.6).tolist(), card.tolist())]
    users = (["user_id", "name", "phone", "real_name_verified", "profile", "created_on", "created_at"],
             list(zip(uid.tolist(), ["用户"] * n, ["13800000000"] * n, verified.tolist(), profiles,
                      [TODAY.isoformat()] * n, [now] * n)))

    has_line = rng.random(n) < 0.7
    owners = uid[has_line]
    m = len(owners)
    acct = np.arange(1, m + 1)
    base = rng.integers(5, 300, m) * 10_000
    used = (base * rng.random(m) * rng.random(m)).astype(np.int64)
    block = np.where(rng.random(m) < 0.02, "account_overdue",
                     np.where(rng.random(m) < 0.005, "account_frozen:operator_hold", None)).astype(object)
    block[block == "None"] = None
    lines = (["account_id", "user_id", "state", "base_limit", "temporary_limit", "used", "credit_balance",
              "block_code", "due_day", "opened_on", "created_at"],
             list(zip(acct.tolist(), owners.tolist(), ["open"] * m, base.tolist(), [0] * m, used.tolist(), [0] * m,
                      block.tolist(), [10] * m, _dates(rng.integers(0, 1460, m)), [now] * m)))

    per = rng.poisson(3, m)
    k = int(per.sum())
    p_acct = np.repeat(acct, per)
    purchases = (["purchase_id", "account_id", "amount", "refunded", "merchant_id", "merchant_category", "channel",
                  "business_date", "created_at"],
                 list(zip(range(1, k + 1), p_acct.tolist(), rng.integers(100, 50_000, k).tolist(), [0] * k,
                          ["m-1"] * k, CATEGORIES[rng.integers(0, 12, k)].tolist(),
                          np.where(rng.random(k) < 0.3, "offline", "online").tolist(),
                          _dates(rng.integers(0, 120, k)), [now] * k)))

    e = int(n * 2)
    kinds = np.array(["payment", "utility_payment", "credit_card_repayment", "transfer", "credit_service",
                      "credit_task", "collection"], dtype=object)[rng.choice(7, e, p=[.4, .15, .1, .2, .05, .05, .05])]
    is_pay = kinds == "payment"
    events = (["user_id", "kind", "occurred_on", "channel", "category", "recorded_at"],
              list(zip(uid[rng.integers(0, n, e)].tolist(), kinds.tolist(), _dates(rng.integers(0, 400, e)),
                       np.where(is_pay, np.where(rng.random(e) < 0.5, "offline", "online"), None).tolist(),
                       np.where(is_pay, CATEGORIES[rng.integers(0, 12, e)], None).tolist(), [now] * e)))

    delinquent = acct[rng.random(m) < 0.03]
    d = len(delinquent)
    days = rng.integers(10, 300, d)
    ev_rows = [("BecameOverdue", int(a), json.dumps({"days_past_due": 1}), day, now)
               for a, day in zip(delinquent.tolist(), _dates(days))]
    cured = rng.random(d) < 0.5
    ev_rows += [("DelinquencyCured", int(a), json.dumps({"days_past_due_before": int(x)}), day, now)
                for a, x, day in zip(delinquent[cured].tolist(), rng.integers(2, 60, int(cured.sum())).tolist(),
                                     _dates(np.maximum(days[cured] - 20, 0)))]
    domain_events = (["event_type", "account_id", "payload", "business_date", "created_at"], ev_rows)

    names = ["monthly_income", "income_verified", "assets", "verified_contacts"]
    ints = {"monthly_income": rng.integers(1_000, 40_000, n) * 100, "assets": rng.integers(0, 200_000, n) * 100,
            "verified_contacts": rng.integers(0, 30, n)}
    fact_rows, current_rows = [], []
    fid = 0
    flags = (rng.random(n) < 0.4).tolist()
    effective = TODAY.isoformat()
    for name in names:
        values = flags if name == "income_verified" else ints[name].tolist()
        for u, v in zip(uid.tolist(), values):
            fid += 1
            vi, vb = (None, v) if name == "income_verified" else (v, None)
            fact_rows.append((fid, u, name, vi, vb, effective, "host_app", now))
            current_rows.append((u, name, fid, vi, vb, effective))
    facts = (["fact_id", "user_id", "name", "value_int", "value_bool", "effective_on", "source", "recorded_at"],
             fact_rows)
    current = (["user_id", "name", "fact_id", "value_int", "value_bool", "effective_on"], current_rows)

    appliers = np.flatnonzero(has_line & (rng.random(n) < 0.05))
    line_of = np.cumsum(has_line) - 1
    apps = (["account_id", "user_id", "applied_on", "decision", "primary_reason", "old_limit", "new_limit",
             "reasons", "policy_version", "created_at"],
            [(int(acct[line_of[i]]), uid[i], day, "declined", "no_raise_available", 0, 0, '["no_raise_available"]',
              "bench", now) for i, day in zip(appliers.tolist(), _dates(rng.integers(0, 120, len(appliers))))])

    social = np.flatnonzero(rng.random(n) < 0.1)
    contacts = (["user_id", "contact_user_id", "verified", "added_on"],
                [(uid[i], uid[(i + j) % n], bool(j != 3), effective) for i in social.tolist() for j in (1, 2, 3)])
    return {"users": users, "credit_accounts": lines, "purchases": purchases, "activity_events": events,
            "domain_events": domain_events, "user_facts": facts, "user_facts_current": current,
            "limit_raise_applications": apps, "user_contacts": contacts}


def seed(engine, data: dict[str, tuple[list[str], list[tuple]]]) -> None:
    raw = engine.raw_connection()
    try:
        cur = raw.cursor()
        if engine.dialect.name == "sqlite":
            cur.execute("BEGIN")
            for table, (cols, rows) in data.items():
                marks = ",".join("?" * len(cols))
                cur.executemany(f"INSERT INTO {table} ({','.join(cols)}) VALUES ({marks})", rows)
            cur.execute("COMMIT")
        else:
            for table, (cols, rows) in data.items():
                with cur.copy(f"COPY {table} ({','.join(cols)}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row)
            for table, key in (("credit_accounts", "account_id"), ("purchases", "purchase_id"),
                               ("user_facts", "fact_id")):
                cur.execute(f"SELECT setval(pg_get_serial_sequence('{table}', '{key}'), (SELECT max({key}) FROM {table}))")
            raw.commit()
            cur.execute("ANALYZE")
            raw.commit()
    finally:
        raw.close()


# --------------------------------------------------------------------------- the timed phases


def read_inputs(system: Huabei) -> float:
    """The aggregate queries of collect_facts, rows fetched and dropped."""
    from huabei.services.scoring import HOST_FACTS, ALL_FACT_SPECS, COUNTED_FACTS, _due_periods, fact_kind

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
        rows += len(uow.facts.campaign_completions_by_user(d365, as_of, None))
        rows += len(uow.applications.counts_by_user(d90, as_of, None))
        rows += len(uow.credit_record.due_periods_by_user(_due_periods(as_of, uow.terms), None))
        rows += len(uow.credit_record.overdue_events_by_user(as_of, None))
        rows += len(uow.facts.contacts_by_user(uow.terms.scoring.opening_threshold, None))
    return time.perf_counter() - t0


def rescore(system: Huabei) -> dict[str, float]:
    t: dict[str, float] = {}
    t0 = time.perf_counter()
    with system.uow() as uow:
        pop = scoring.collect_facts(uow)
        t["collect_facts"] = time.perf_counter() - t0
        t1 = time.perf_counter()
        scored = scoring.score_population(pop, scoring.scorecard_for(uow.terms.scoring))
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


def run_backend(backend: str, n: int, keep: bool) -> dict[str, Any]:
    tmp = None
    if backend == "sqlite":
        tmp = tempfile.mkdtemp(prefix="huabei-rescore-")
        url = f"sqlite:///{tmp}/bench.db"
    else:
        admin_engine = make_engine(PG_ADMIN, pool_size=1).execution_options(isolation_level="AUTOCOMMIT")
        with admin_engine.connect() as c:
            c.exec_driver_sql(f'DROP DATABASE IF EXISTS "{PG_DB}" WITH (FORCE)')
            c.exec_driver_sql(f'CREATE DATABASE "{PG_DB}"')
        url = PG_ADMIN.rsplit("/", 1)[0] + "/" + PG_DB
    engine = make_engine(url, pool_size=2)
    migrate.upgrade(url, engine=engine)
    system = Huabei(engine=engine, terms=ProductTerms(), clock_mode=ClockMode.SIMULATED)
    admin.set_business_date(system, TODAY, allow_backwards=True)
    t0 = time.perf_counter()
    data = build(n)
    t_build = time.perf_counter() - t0
    counts = {k: len(v[1]) for k, v in data.items()}
    t0 = time.perf_counter()
    seed(engine, data)
    t_seed = time.perf_counter() - t0
    del data
    print(f"[{backend}] built {n:,} users in {t_build:.1f}s, seeded {sum(counts.values()):,} rows in {t_seed:.1f}s: "
          + ", ".join(f"{k} {v:,}" for k, v in counts.items()), flush=True)
    t_read = read_inputs(system)
    print(f"[{backend}] read inputs: {t_read:.2f}s ({n / t_read:,.0f} users/s)", flush=True)
    t = rescore(system)
    ratio = t["total"] / t_read
    print(f"[{backend}] rescore + re-evaluate {t['users']:,} users: {t['total']:.2f}s "
          f"({t['users'] / t['total']:,.0f} users/s, {ratio:.2f}x reading the inputs); "
          f"{t['limits_changed']:,} limits changed", flush=True)
    print(f"[{backend}]   " + ", ".join(f"{k} {v:.2f}s" for k, v in t.items()
                                        if k not in ("total", "users", "limits_changed")), flush=True)
    # second run: everything is rescored again (history grows; fewer limits change)
    t2 = rescore(system)
    print(f"[{backend}] second run: {t2['total']:.2f}s ({t2['users'] / t2['total']:,.0f} users/s), "
          f"{t2['limits_changed']:,} limits changed", flush=True)
    engine.dispose()
    if not keep:
        if tmp:
            shutil.rmtree(tmp, ignore_errors=True)
        else:
            with admin_engine.connect() as c:
                c.exec_driver_sql(f'DROP DATABASE IF EXISTS "{PG_DB}" WITH (FORCE)')
    return {"backend": backend, "users": n, "rows": counts, "seed_seconds": round(t_seed, 1),
            "read_inputs_seconds": round(t_read, 2), "rescore": {k: round(v, 2) for k, v in t.items()},
            "second_run": {k: round(v, 2) for k, v in t2.items()},
            "users_per_second": round(t["users"] / t["total"]), "ratio_to_reading": round(ratio, 2)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--users", type=int, default=1_000_000)
    ap.add_argument("--backends", default="sqlite,postgresql")
    ap.add_argument("--keep", action="store_true", help="keep the scratch databases")
    ap.add_argument("--json", type=Path, help="write the results here")
    args = ap.parse_args()
    print(f"python {platform.python_version()}, numpy {np.__version__}, {os.cpu_count()} CPUs, "
          f"{platform.machine()}, business date {TODAY}", flush=True)
    results = [run_backend(b.strip(), args.users, args.keep) for b in args.backends.split(",") if b.strip()]
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
