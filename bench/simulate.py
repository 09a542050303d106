"""Simulation benchmark: simulated account-days per second, and where the time goes.

A program, not a test::

    .venv/bin/python bench/simulate.py [--users 10000,100000] [--months 12] [--seed 1] \
        [--workers 4] [--checks incremental] [--backend postgresql] [--time-limit 600] \
        [--activity 100] [--json FILE] [--keep]

For every population size it creates a scratch database (PostgreSQL ``huabei_bench_sim_<N>``
on the server of ``--pg-url``, dropped and recreated; or a temporary SQLite file), migrates
it, and runs the portfolio simulation (``huabei.simulation``) through the service layer with
the invariants checked every simulated day. It times each part of every simulated day:

* ``eod`` — the end-of-day job (``services.eod.run_eod``: bills, accrual, overdue,
  delinquency, bureau; plus the score / limit steps on their schedule);
* ``transactions`` — the day's activity of every user (onboarding, purchases, refunds,
  repayments, installments, raise applications), split into ``onboarding`` (registration,
  facts, the opening decision) and the rest;
* ``checks`` — the invariant checks (``--checks incremental``: new postings every day, the
  whole ledger check — billing's included — on each month's last day; ``full``: the whole
  ledger check every day);
* ``report`` — the month-end portfolio figures.

An *account-day* is one open credit line living one simulated day; the rate is account-days
divided by the wall time of the simulated days. ``--time-limit`` stops a run at the first
day boundary after that many seconds and reports what was simulated (clearly marked
``partial``), so a population too large for the budget still gives its rate.

Other benchmarks load their books with the same generator::

    from huabei.simulation import load_book
    report = load_book(url, users=10_000, months=3, seed=1)
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import scratch
from huabei.config import ProductTerms
from huabei.platform.db import make_engine
from huabei.platform.unit_of_work import ClockMode, Huabei
from huabei.simulation import FaultPlan, RunSpec, SimulationViolation, Simulator
from huabei.simulation.profiles import (
    PopulationConfig,
    load_population,
    population_from_dict,
)

PG_URL = scratch.ADMIN_URL
START = dt.date(2026, 1, 1)


class _OutOfTime(BaseException):  # not an Exception: the simulation reports those as service errors
    pass


class TimedSimulator(Simulator):
    """The simulation with a stopwatch on each part of the day."""

    def __init__(self, *args: Any, time_limit: float | None = None, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.t: Counter[str] = Counter()
        self.account_days = 0
        self.days_done = 0
        self.time_limit = time_limit
        self.t0 = time.perf_counter()
        #: (day number, open accounts, wall seconds of the whole simulated day)
        self.per_day: list[tuple[int, int, float]] = []
        self.applications = 0
        self._day_t0 = self.t0

    def _timed(self, name: str, fn: Any, *args: Any, **kwargs: Any) -> Any:
        t0 = time.perf_counter()
        try:
            return fn(*args, **kwargs)
        finally:
            with self._lock:
                self.t[name] += time.perf_counter() - t0

    def _end_of_day(self, day: dt.date, *, catch_up: bool = False) -> None:
        self._timed("eod", super()._end_of_day, day, catch_up=catch_up)

    def _users_day(self, day: dt.date, day_no: int) -> Any:
        out = self._timed("transactions", super()._users_day, day, day_no)
        open_now = sum(1 for st in self.states if st.status == "open")
        self.account_days += open_now
        self.days_done += 1
        now = time.perf_counter()
        self.per_day.append((day_no, open_now, now - self._day_t0))
        self._day_t0 = now
        return out

    def _user_day(self, st: Any, day: dt.date, day_no: int) -> Any:
        if self.time_limit is not None and time.perf_counter() - self.t0 > self.time_limit:
            raise _OutOfTime  # also in the middle of a day: a big population onboards for hours
        return self._timed("user_days_thread", super()._user_day, st, day, day_no)

    def _applications(self, active: Any, day: dt.date, day_no: int, t: Any) -> None:
        self._timed("onboarding", super()._applications, active, day, day_no, t)

    def _register_all(self, applicants: Any, t: Any) -> None:
        # the wall time of the day's registrations (split over the worker threads)
        self._timed("onboarding_registration", super()._register_all, applicants, t)

    def _register(self, st: Any, t: Any) -> None:
        if self.time_limit is not None and time.perf_counter() - self.t0 > self.time_limit:
            raise _OutOfTime  # also in the middle of a day: a big population onboards for long
        super()._register(st, t)

    def _opened(self, st: Any, day_no: int, res: Any, t: Any) -> None:
        super()._opened(st, day_no, res, t)
        with self._lock:
            self.applications += 1

    def _operator(self, day: dt.date, tally: Any) -> None:
        self._timed("operator", super()._operator, day, tally)

    def _check(self, day_no: int, day: dt.date, expected: Any, *, full: bool = False) -> None:
        self._timed("checks", super()._check, day_no, day, expected, full=full)

    def _tick(self, day_no: int, day: dt.date) -> None:
        super()._tick(day_no, day)
        if self.time_limit is not None and time.perf_counter() - self.t0 > self.time_limit:
            raise _OutOfTime


def _report_timer(sim: TimedSimulator) -> None:
    close = sim.report.close_month

    def timed(*a: Any, **k: Any) -> Any:
        return sim._timed("report", close, *a, **k)

    sim.report.close_month = timed  # type: ignore[method-assign]


def bench_one(backend: str, users: int, args: argparse.Namespace) -> dict[str, Any]:
    url = scratch.make(backend, f"huabei_bench_sim_{users}", args.pg_url)
    system = Huabei(
        engine=make_engine(url, pool_size=max(20, args.workers * 2 + 12)),
        terms=ProductTerms(),
        clock_mode=ClockMode.SIMULATED,
    )
    spec = RunSpec(
        users=users,
        months=args.months,
        seed=args.seed,
        start=START,
        workers=args.workers,
        checks=args.checks,
        faults=FaultPlan(),
    )
    population = PopulationConfig(activity_percent=args.activity)
    if args.population:
        population = load_population(args.population).model_copy(update={"activity_percent": args.activity})
    if args.no_refunds:
        population = population_from_dict(
            {
                **{k: v for k, v in population.model_dump(mode="python").items() if k != "profiles"},
                "profiles": {name: {"spend": {"refund_per_mille": 0}} for name in population.profiles},
            }
        )
    last = [0.0]

    def progress(day_no: int, total: int, day: dt.date) -> None:
        now = time.perf_counter()
        if now - last[0] > 30:
            last[0] = now
            print(f"  [{users} users] day {day_no}/{total} {day} ({now - sim.t0:.0f}s)", file=sys.stderr, flush=True)

    sim = TimedSimulator(system, spec, population, progress=progress, time_limit=args.time_limit)
    _report_timer(sim)
    partial = False
    stopped_by: str | None = None
    report: dict[str, Any] | None = None
    try:
        report = sim.run()
    except _OutOfTime:
        partial = True
    except SimulationViolation as v:  # a finding: the rate up to it still stands, and is marked
        partial = True
        stopped_by = f"{v.invariant} on day {v.day} ({v.date.isoformat()}): {v.detail}"
        report = getattr(v, "report", None)
    wall = time.perf_counter() - sim.t0
    system.engine.dispose()
    if not args.keep:
        scratch.discard(backend, url, args.pg_url)
    parts = {k: round(v, 2) for k, v in sorted(sim.t.items())}
    timed = sum(v for k, v in sim.t.items() if k in ("eod", "transactions", "checks", "report", "operator"))
    share = {
        k: f"{100 * sim.t[k] / timed:.1f}" for k in ("eod", "transactions", "checks", "report", "operator") if timed
    }
    # onboarding runs first in each day's transactions (registration and facts one by one, then
    # the opening decisions in bulk): its wall time, and the decisions' part of it
    onboarding_wall = sim.t.get("onboarding", 0.0)
    decisions_wall = onboarding_wall - sim.t.get("onboarding_registration", 0.0)
    share["onboarding (part of transactions)"] = f"{100 * onboarding_wall / timed:.1f}" if timed else "0"
    steady = [(d, a, s_) for d, a, s_ in sim.per_day if d > 7]
    steady_rate = round(sum(a for _, a, _ in steady) / sum(s_ for _, _, s_ in steady), 1) if steady else None
    totals = report["totals"] if report else {}
    return {
        "backend": backend,
        "users": users,
        "months": args.months,
        "workers": args.workers,
        "checks": args.checks,
        "activity_percent": args.activity,
        "refunds": not args.no_refunds,
        "partial": partial,
        "days_simulated": sim.days_done,
        "days_planned": len(sim.days),
        "accounts_open_at_end": sum(1 for st in sim.states if st.status == "open"),
        "account_days": sim.account_days,
        "wall_seconds": round(wall, 1),
        "account_days_per_second": round(sim.account_days / wall, 1) if wall else 0.0,
        "account_days_per_second_after_first_week": steady_rate,
        "seconds": parts,
        "share_percent": share,
        "applications_decided": sim.applications,
        "applications_per_second_of_onboarding": round(sim.applications / onboarding_wall, 1)
        if onboarding_wall
        else None,
        "applications_per_second_of_decisions": round(sim.applications / decisions_wall, 1)
        if decisions_wall > 0
        else None,
        "purchases": totals.get("purchases"),
        "violations": 1 if stopped_by else 0,
        "stopped_by": stopped_by,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--users", default="10000,100000")
    ap.add_argument("--months", type=int, default=12)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--workers", type=int, default=4)
    ap.add_argument("--checks", choices=("full", "incremental"), default="incremental")
    ap.add_argument("--backend", choices=("postgresql", "sqlite"), default="postgresql")
    ap.add_argument("--pg-url", default=PG_URL)
    ap.add_argument("--activity", type=int, default=100, help="purchase frequency, percent of the profiles'")
    ap.add_argument("--time-limit", type=float, default=None, help="seconds per population before stopping")
    ap.add_argument("--population", default=None, help="profiles and mix override YAML (as huabei simulate)")
    ap.add_argument(
        "--no-refunds", action="store_true", help="no refunds (to compare with figures measured without them)"
    )
    ap.add_argument("--json", default=None)
    ap.add_argument("--keep", action="store_true")
    args = ap.parse_args()
    results = []
    for n in [int(x) for x in args.users.split(",") if x]:
        print(
            f"simulating {n} users × {args.months} months on {args.backend} "
            f"(workers {args.workers}, checks {args.checks})",
            file=sys.stderr,
            flush=True,
        )
        r = bench_one(args.backend, n, args)
        results.append(r)
        print(json.dumps(r, indent=2), flush=True)
    env = {
        "python": platform.python_version(),
        "machine": platform.machine(),
        "cpus": os.cpu_count(),
        "platform": platform.platform(),
    }
    if args.json:
        Path(args.json).write_text(json.dumps({"environment": env, "results": results}, indent=2) + "\n")


if __name__ == "__main__":
    main()
