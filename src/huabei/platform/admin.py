"""Use cases of operators: the business clock (the books check is :mod:`huabei.batch.books`)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from huabei import errors
from huabei.platform.unit_of_work import ClockMode, Huabei


def business_date(system: Huabei) -> dt.date:
    with system.uow(readonly=True) as uow:
        return uow.today()


def set_business_date(system: Huabei, day: dt.date, *, allow_backwards: bool = False) -> dict[str, Any]:
    """Move the simulated business date. It never moves backwards unless asked (tests,
    replays on a fresh database): bills and accruals already run would disagree."""
    if system.clock_mode is not ClockMode.SIMULATED:
        raise errors.invalid("clock_not_simulated")
    with system.uow() as uow:
        current = uow.clock.get()
        if current is not None and day < current and not allow_backwards:
            raise errors.invalid("clock_backwards", current=current.isoformat(), requested=day.isoformat())
        uow.clock.set(day, uow.now())
        uow.commit()
    return {"business_date": day.isoformat(), "mode": system.clock_mode.value}
