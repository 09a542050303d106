"""The end-of-day step protocol: read a snapshot, decide purely, write once.

A batch step over the book is three functions, each owned by the capability whose rule it is:

``read(uow, day) -> Snapshot``
    a set-based reader (a fixed number of queries, never one per account) that returns a typed
    snapshot of columns: everything the decision needs, as of ``day``;
``decide(snapshot, terms, day) -> Decisions``
    a **pure** function: the same snapshot, terms and date always give the same decisions, with
    no I/O and no clock. The end-of-day job, a backtest over history and a Spark job over
    partitions of a snapshot (``mapInPandas`` on Arrow batches) all call this same function;
``write(uow, decisions) -> Counts``
    the one writer: applies the decisions in bulk inside the step's unit of work (conditional
    updates where a concurrent change must win) and returns the counts the job reports.

:class:`SnapshotStep` joins the three under a name with a schedule (``due``): on a day the
step is not due nothing is read and it reports its ``idle`` counts. The step list is declared
once, in :data:`huabei.batch.eod.STEPS`; nothing registers steps at import time.

A snapshot step that also declares ``keys(uow, day)`` (the records it covers: every user id …)
and ``read_keys(uow, day, keys)`` (the snapshot of only those) can **isolate a bad record**: when
the whole step fails on a data error, the runner bisects the keys, finishes every part that
works and quarantines the records it fails on, with their error (``huabei.batch.eod``).

Steps whose work is not yet split this way are :class:`UnitOfWorkStep`: one function
``(uow, day) -> counts`` that reads and writes set-based inside the unit of work.

Every step runs inside the end-of-day job's unit of work, dated ``day`` (``uow.today()`` is
``day``); the runner commits it with the step's completion marker (``huabei.batch.eod``).
Counts are ``{name: int}``; a step that changed nothing reports only zeros.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, Protocol, TypeVar

from huabei.config import ProductTerms
from huabei.platform.unit_of_work import UnitOfWork

Counts = dict[str, Any]
SnapshotT = TypeVar("SnapshotT")
DecisionsT = TypeVar("DecisionsT")


class Step(Protocol):
    """What the end-of-day runner needs of a step."""

    @property
    def name(self) -> str: ...

    @property
    def description(self) -> str: ...

    def run(self, uow: UnitOfWork, day: dt.date) -> Counts: ...


def every_day(terms: ProductTerms, day: dt.date) -> bool:
    return True


@dataclass(frozen=True)
class SnapshotStep(Generic[SnapshotT, DecisionsT]):
    """A step as reader -> pure decision -> writer (see the module docstring)."""

    name: str
    description: str
    read: Callable[[UnitOfWork, dt.date], SnapshotT]
    decide: Callable[[SnapshotT, ProductTerms, dt.date], DecisionsT]
    write: Callable[[UnitOfWork, DecisionsT], Counts]
    #: Whether the step runs on a day (e.g. the monthly rescoring); not due: nothing is read.
    due: Callable[[ProductTerms, dt.date], bool] = every_day
    #: The counts reported on a day the step is not due.
    idle: Mapping[str, int] = field(default_factory=dict)
    #: The records the step covers, and a reader of some of them: with both, a record the step
    #: fails on is quarantined and the rest finishes (see the module docstring).
    keys: Callable[[UnitOfWork, dt.date], Sequence[str]] | None = None
    read_keys: Callable[[UnitOfWork, dt.date, Sequence[str]], SnapshotT] | None = None

    def run(self, uow: UnitOfWork, day: dt.date) -> Counts:
        if not self.due(uow.terms, day):
            return dict(self.idle)
        return self.write(uow, self.decide(self.read(uow, day), uow.terms, day))

    def run_keys(self, uow: UnitOfWork, day: dt.date, keys: Sequence[str]) -> Counts:
        """The step over ``keys`` only (needs ``read_keys``)."""
        assert self.read_keys is not None
        return self.write(uow, self.decide(self.read_keys(uow, day, keys), uow.terms, day))


@dataclass(frozen=True)
class UnitOfWorkStep:
    """A step that reads and writes inside the unit of work in one function (set-based)."""

    name: str
    description: str
    work: Callable[[UnitOfWork, dt.date], Counts]

    def run(self, uow: UnitOfWork, day: dt.date) -> Counts:
        return self.work(uow, day)
