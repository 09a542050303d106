"""Use cases of operators: the business clock (the books check is :mod:`huabei.batch.books`)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy.exc import OperationalError

from huabei import errors
from huabei.platform.unit_of_work import ClockMode, Huabei


def business_date(system: Huabei) -> dt.date:
    with system.uow(readonly=True) as uow:
        return uow.today()


def set_business_date(system: Huabei, day: dt.date, *, allow_backwards: bool = False) -> dict[str, Any]:
    """Move the simulated business date. It never moves backwards unless asked (tests,
    replays on a fresh database — ``allow_backwards`` lifts the bounds below too): bills and
    accruals already run would disagree. It never jumps
    over a day whose end-of-day run is due (``clock_jump_over_eod``: the end-of-day job moves
    the clock and runs them), nor further than ``operations.max_clock_jump_days``.

    The move waits for every transaction still writing under the old date (the clock row's
    barrier, ``ClockRepository.get(share=True)``), at most
    ``operations.clock_barrier_timeout_seconds``; then ``clock_busy`` and nothing changed."""
    if system.clock_mode is not ClockMode.SIMULATED:
        raise errors.invalid("clock_not_simulated")
    ops = system.terms.operations
    with system.uow() as uow:
        current = uow.clock.get()
        if current is not None and day < current and not allow_backwards:
            raise errors.conflict("clock_backwards", current=current.isoformat(), requested=day.isoformat())
        base = current or system.wall_clock(system.tz).date()
        if (day - base).days > ops.max_clock_jump_days and not allow_backwards:
            raise errors.conflict(
                "clock_jump_too_far",
                requested=day.isoformat(),
                latest=(base + dt.timedelta(days=ops.max_clock_jump_days)).isoformat(),
                days=ops.max_clock_jump_days,
            )
        last = uow.eod.last_completed()
        if last is not None and day > last + dt.timedelta(days=1) and not allow_backwards:
            raise errors.conflict(
                "clock_jump_over_eod",
                first=(last + dt.timedelta(days=1)).isoformat(),
                last=(day - dt.timedelta(days=1)).isoformat(),
                requested=day.isoformat(),
            )
        try:
            uow.clock.move(day, uow.now(), ops.clock_barrier_timeout_seconds)
        except OperationalError:
            raise errors.conflict(
                "clock_busy", seconds=int(ops.clock_barrier_timeout_seconds), current=str(current)
            ) from None
        uow.commit()
    return {"business_date": day.isoformat(), "mode": system.clock_mode.value}
