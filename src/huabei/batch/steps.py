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

The other steps are :class:`UnitOfWorkStep`: one function ``(uow, day, accounts=None) -> counts``
that reads and writes set-based inside the unit of work. Each is split by line: given an
:class:`~huabei.platform.sql.AccountRange` it does its work for the lines of that range only
(every read and every set-based write of the step carries the range), so the runner can isolate
a line it fails on in the same way, over the book's account ids.

Both kinds answer :meth:`population` (the keys to bisect, in order: user ids or account ids) and
:meth:`run_part` (the step over ``keys[i:j]``), which is all the runner needs.

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
from huabei.platform.sql import AccountRange
from huabei.platform.unit_of_work import UnitOfWork

Counts = dict[str, Any]


def idle(counts: Mapping[str, Any]) -> bool:
    """A step that changed nothing reports only zero counts (the convention of every step)."""
    return all(v == 0 for v in counts.values() if isinstance(v, int) and not isinstance(v, bool))


SnapshotT = TypeVar("SnapshotT")
DecisionsT = TypeVar("DecisionsT")


class Step(Protocol):
    """What the end-of-day runner needs of a step."""

    @property
    def name(self) -> str: ...

    @property
    def description(self) -> str: ...

    def run(self, uow: UnitOfWork, day: dt.date) -> Counts: ...

    @property
    def key_kind(self) -> str: ...

    def population(self, uow: UnitOfWork, day: dt.date) -> Sequence[Any] | None: ...

    def run_part(self, uow: UnitOfWork, day: dt.date, keys: Sequence[Any], i: int, j: int) -> Counts: ...

    def run_one(self, uow: UnitOfWork, day: dt.date, key: Any) -> Counts: ...


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
    keys: Callable[[UnitOfWork, dt.date], Sequence[Any]] | None = None
    read_keys: Callable[[UnitOfWork, dt.date, Sequence[Any]], SnapshotT] | None = None
    #: What a key names (``user`` or ``account``), as reported with a quarantined record.
    key_kind: str = "user"

    def run(self, uow: UnitOfWork, day: dt.date) -> Counts:
        if not self.due(uow.terms, day):
            return dict(self.idle)
        return self.write(uow, self.decide(self.read(uow, day), uow.terms, day))

    def run_keys(self, uow: UnitOfWork, day: dt.date, keys: Sequence[Any]) -> Counts:
        """The step over ``keys`` only (needs ``read_keys``)."""
        assert self.read_keys is not None
        return self.write(uow, self.decide(self.read_keys(uow, day, keys), uow.terms, day))

    def population(self, uow: UnitOfWork, day: dt.date) -> Sequence[Any] | None:
        if self.keys is None or self.read_keys is None:
            return None
        return self.keys(uow, day)

    def run_part(self, uow: UnitOfWork, day: dt.date, keys: Sequence[Any], i: int, j: int) -> Counts:
        return self.run_keys(uow, day, keys[i:j])

    def run_one(self, uow: UnitOfWork, day: dt.date, key: Any) -> Counts:
        return self.run_keys(uow, day, [key])


class AccountWork(Protocol):
    """``(uow, day, accounts=None) -> counts``: a step's work over the whole book, or over the
    lines of ``accounts`` only."""

    def __call__(self, uow: UnitOfWork, day: dt.date, accounts: AccountRange | None = None) -> Counts: ...


@dataclass(frozen=True)
class UnitOfWorkStep:
    """A step that reads and writes inside the unit of work in one function (set-based),
    split by line (see the module docstring)."""

    name: str
    description: str
    work: AccountWork
    key_kind: str = "account"

    def run(self, uow: UnitOfWork, day: dt.date) -> Counts:
        return self.work(uow, day)

    def population(self, uow: UnitOfWork, day: dt.date) -> Sequence[Any] | None:
        """Every line's account id, in order."""
        return uow.accounts.every_id()

    def run_part(self, uow: UnitOfWork, day: dt.date, keys: Sequence[Any], i: int, j: int) -> Counts:
        """The work over the lines from ``keys[i]`` up to (not including) ``keys[j]``: the parts
        cover the whole id space, so a line opened meanwhile is in one of them."""
        first = keys[i] if i > 0 else None
        last = keys[j] - 1 if j < len(keys) else None
        return self.work(uow, day, accounts=AccountRange.of(first, last))

    def run_one(self, uow: UnitOfWork, day: dt.date, key: Any) -> Counts:
        return self.work(uow, day, accounts=AccountRange.one(int(key)))
