"""Portfolio simulation: a deterministic synthetic population living months through the real
service layer, with the books checked every simulated day, faults injected, and policies
compared side by side. See docs/simulation.md.

* :mod:`~huabei.simulation.profiles` — behaviour profiles and the population mix (data)
* :mod:`~huabei.simulation.population` — the synthetic users, from (seed, N, config)
* :mod:`~huabei.simulation.gateway` — the service-layer calls (the extension point)
* :mod:`~huabei.simulation.engine` — the day-by-day loop
* :mod:`~huabei.simulation.invariants` — the daily set-based checks
* :mod:`~huabei.simulation.faults` — retries, bursts, end-of-day crashes, skipped days
* :mod:`~huabei.simulation.report` / :mod:`~huabei.simulation.compare` — figures and comparisons
* :mod:`~huabei.simulation.clone` — a simulated book copied set-based (benchmarks' millions of lines)
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from huabei.config import ProductTerms
from huabei.platform.db import make_engine
from huabei.platform.unit_of_work import ClockMode, Huabei
from huabei.simulation.clone import clone_book
from huabei.simulation.engine import DEFAULT_START, RunSpec, SimulationError, Simulator
from huabei.simulation.faults import FaultPlan
from huabei.simulation.invariants import SimulationViolation
from huabei.simulation.profiles import (
    DEFAULT_MIX,
    DEFAULT_PROFILES,
    PopulationConfig,
    load_population,
)
from huabei.simulation.report import dumps

__all__ = [
    "DEFAULT_MIX",
    "DEFAULT_PROFILES",
    "DEFAULT_START",
    "FaultPlan",
    "PopulationConfig",
    "RunSpec",
    "SimulationError",
    "SimulationViolation",
    "Simulator",
    "clone_book",
    "dumps",
    "load_book",
    "load_population",
    "run_on",
]


def run_on(
    url: str,
    spec: RunSpec,
    terms: ProductTerms,
    population: PopulationConfig | None = None,
    *,
    progress: Callable[[int, int, dt.date], None] | None = None,
    **kwargs: Any,
) -> dict[str, Any]:
    """Run ``spec`` on the empty, migrated database at ``url`` under ``terms``; the report."""
    pool = max(20, spec.workers * 2 + 12)
    system = Huabei(
        engine=make_engine(url, pool_size=pool), terms=terms, clock_mode=ClockMode.SIMULATED, tz=terms.timezone
    )
    try:
        return Simulator(system, spec, population, progress=progress, **kwargs).run()
    finally:
        system.engine.dispose()


def load_book(
    url: str,
    *,
    users: int,
    months: int,
    seed: int = 1,
    start: dt.date = DEFAULT_START,
    workers: int = 4,
    terms: ProductTerms | None = None,
    activity_percent: int = 100,
) -> dict[str, Any]:
    """Fill the empty, migrated database at ``url`` with a simulated book (for the end-of-day
    and rescoring benchmarks): ``users`` synthetic users living ``months`` months through the
    service layer, checked incrementally (the whole ledger check at each month end). Returns
    the simulation report. The business date is left on the last simulated day."""
    spec = RunSpec(users=users, months=months, seed=seed, start=start, workers=workers, checks="incremental")
    return run_on(url, spec, terms or ProductTerms(), PopulationConfig(activity_percent=activity_percent))
