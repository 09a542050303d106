"""The business clock (营业日).

Nothing in huabei reads the wall clock except this module. Business logic asks a
:class:`Clock` for ``today()`` (the business date) and ``now()`` (a timestamp for
audit records). Three clocks exist:

* :class:`SystemClock` — production: the wall clock in the product's time zone
  (Asia/Shanghai by default).
* :class:`FixedClock` — pure tests: a date set in code.
* the *database clock* (``huabei.platform.repositories.ClockRepository``) — simulated mode,
  the demo's and every test's default: the business date is stored in the database
  and moved only by ``huabei clock set DATE`` / ``POST /v1/admin/clock``, so the CLI,
  the server and the end-of-day job all see the same day.

In simulated mode ``now()`` is the business date at the wall-clock time of day, so
audit timestamps still order sensibly while the date stays under control.

*Real timestamps* (a payment-password lock of 24 hours, a maintenance window from 02:00 to
04:00) are compared with ``UnitOfWork.now()``: the wall clock in system mode, and in simulated
mode the business date at the wall clock's time of day — so ``clock set D+1`` moves real time
forward by exactly one day, and a 24-hour lock placed at 10:00 on D ends at 10:00 on D+1. The
wall clock itself is injectable (``Huabei.wall_clock``, a :data:`WallClock`): tests pass a
:class:`ManualWallClock` to step through the hours of a day.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Protocol
from zoneinfo import ZoneInfo

DEFAULT_TZ = "Asia/Shanghai"


class Clock(Protocol):
    def today(self) -> dt.date: ...

    def now(self) -> dt.datetime: ...


def wall_now(tz: str = DEFAULT_TZ) -> dt.datetime:
    """The only wall-clock read in huabei."""
    return dt.datetime.now(ZoneInfo(tz))


#: A wall clock: the current aware timestamp in the time zone it is given.
WallClock = Callable[[str], dt.datetime]


class ManualWallClock:
    """A wall clock for tests: it says the time it is set to (its time of day is what the
    simulated clock combines with the business date)."""

    def __init__(self, at: dt.datetime):
        if at.tzinfo is None:
            raise ValueError("a wall clock's time is aware (it carries its time zone)")
        self.at = at

    def __call__(self, tz: str = DEFAULT_TZ) -> dt.datetime:
        return self.at.astimezone(ZoneInfo(tz))

    def set(self, at: dt.datetime) -> None:
        self.at = at

    def advance(self, **delta: float) -> dt.datetime:
        self.at = self.at + dt.timedelta(**delta)
        return self.at


class SystemClock:
    def __init__(self, tz: str = DEFAULT_TZ):
        self.tz = tz

    def today(self) -> dt.date:
        return wall_now(self.tz).date()

    def now(self) -> dt.datetime:
        return wall_now(self.tz)


class FixedClock:
    """A clock that says what it is told. ``advance`` moves it forward."""

    def __init__(self, today: dt.date, tz: str = DEFAULT_TZ):
        self._today = today
        self.tz = tz

    def today(self) -> dt.date:
        return self._today

    def now(self) -> dt.datetime:
        return dt.datetime.combine(self._today, dt.time(12, 0), ZoneInfo(self.tz))

    def set(self, day: dt.date) -> None:
        self._today = day

    def advance(self, days: int = 1) -> dt.date:
        self._today = self._today + dt.timedelta(days=days)
        return self._today


def at_business_date(day: dt.date, tz: str = DEFAULT_TZ, wall: WallClock = wall_now) -> dt.datetime:
    """A timestamp on ``day`` at the wall clock's time of day (simulated mode)."""
    t = wall(tz)
    return dt.datetime.combine(day, t.timetz())


def to_stored(ts: dt.datetime) -> dt.datetime:
    """A real timestamp as stored and compared in SQL: in UTC (SQLite keeps no time zone, so
    every stored timestamp is UTC and its text form orders)."""
    return ts.astimezone(dt.UTC)


def from_stored(ts: dt.datetime) -> dt.datetime:
    """A stored timestamp, aware: SQLite hands it back naive (it is UTC), PostgreSQL aware."""
    return ts if ts.tzinfo is not None else ts.replace(tzinfo=dt.UTC)


def local_text(ts: dt.datetime, tz: str = DEFAULT_TZ) -> str:
    """A real timestamp as users read it: ``2026-11-03 10:00`` in the product's time zone."""
    return from_stored(ts).astimezone(ZoneInfo(tz)).strftime("%Y-%m-%d %H:%M")
