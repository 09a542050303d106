"""An operator's run over many lines, in batches: one transaction per batch, one savepoint per line.

A regulatory sweep (``huabei.sweeps``) and a funding migration (``huabei.funding``) change
thousands of lines. Neither may hold one transaction over the whole book, nor stop at the first
line that cannot be changed, nor change a line twice when rerun after a crash. They share
:func:`apply_in_batches`:

* the lines are taken ``size`` at a time, in the given order; each batch is **one transaction**
  that first locks the batch's line rows (account order, like every other writer of a line, so a
  concurrent purchase or repayment waits for the batch rather than deadlocking with it);
* each line runs in its own **savepoint**: a refusal of the product (a ``HuabeiError``: the line
  cannot be closed, its user already has a 信用购 line …) rolls back that line only and is kept
  as its outcome; an ``IntegrityError`` means a concurrent run of the same operation wrote the
  line's resume row first (a primary key written in the same savepoint), so the line is skipped;
  every other error rolls the batch back and propagates (the run stops; the batches before it
  stay committed and the rerun skips them through the same resume rows).

The caller's ``apply(uow, account_id)`` returns the line's outcome, or ``None`` when the line has
nothing to do (already done, no longer eligible): those lines are left out of the result.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from itertools import islice
from typing import Generic, TypeVar

from sqlalchemy.exc import IntegrityError

from huabei.errors import HuabeiError
from huabei.platform.unit_of_work import Huabei, UnitOfWork

T = TypeVar("T")


@dataclass(frozen=True)
class Refused:
    """A line the operation could not change: the product's refusal, with its stable code."""

    error: HuabeiError

    @property
    def code(self) -> str:
        return self.error.code


@dataclass
class BatchRun(Generic[T]):
    """What :func:`apply_in_batches` did: each line's outcome (or its refusal), in order."""

    outcomes: dict[int, T | Refused]

    @property
    def applied(self) -> dict[int, T]:
        return {k: v for k, v in self.outcomes.items() if not isinstance(v, Refused)}

    @property
    def refused(self) -> dict[int, Refused]:
        return {k: v for k, v in self.outcomes.items() if isinstance(v, Refused)}


def batches(ids: Iterable[int], size: int) -> Iterator[list[int]]:
    """``ids`` cut into lists of at most ``size`` (``size`` >= 1)."""
    if size < 1:
        raise ValueError("a batch holds at least one line")
    it = iter(ids)
    while batch := list(islice(it, size)):
        yield batch


def apply_in_batches(
    system: Huabei,
    account_ids: Iterable[int],
    size: int,
    apply: Callable[[UnitOfWork, int], T | None],
) -> BatchRun[T]:
    """Run ``apply`` over ``account_ids`` as the module docstring says; returns every outcome."""
    outcomes: dict[int, T | Refused] = {}
    for batch in batches(account_ids, size):
        with system.uow() as uow:
            uow.accounts.lock(batch)
            for account_id in batch:
                savepoint = uow.conn.begin_nested()
                try:
                    result = apply(uow, account_id)
                except IntegrityError:  # a concurrent run of the same operation did this line
                    savepoint.rollback()
                    continue
                except HuabeiError as e:
                    savepoint.rollback()
                    outcomes[account_id] = Refused(e)
                    continue
                if result is None:
                    savepoint.rollback()
                    continue
                savepoint.commit()
                outcomes[account_id] = result
            uow.commit()
    return BatchRun(outcomes)
