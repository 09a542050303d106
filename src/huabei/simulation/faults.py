"""Faults injected into a run: what production does to a system, on purpose and seeded.

=====================  =========================================================================
fault                  what happens, and what must hold afterwards
=====================  =========================================================================
``retry``              a money-moving call (purchase, refund, repayment) is sent again with the
                       same idempotency key — one after the other, or from two threads at once.
                       The second answer equals the first (the same body, or the same refusal)
                       and nothing is stored twice (``nothing_lost_or_doubled``).
``burst``              several identical purchases hit one line from threads at the same time.
                       Exactly ``min(n, available // amount)`` are approved (none on a blocked
                       line) and ``used`` grows by exactly that much (``limit_respected``).
``eod_crash``          the end-of-day job is killed in the middle of a step (an exception raised
                       from an injected hook inside its transaction) and run again: the rerun
                       resumes and the books are the same as if it had never failed. Needs the
                       billing end-of-day job (``services/eod.py``); without it the fault is
                       counted as ``eod_crash_unsupported``.
``skip_days``          the system is down for a few days: no activity and no end-of-day job on
                       those days; the next day the clock jumps and the end-of-day job catches
                       up on every missed day. Never across a month's last day (the report's
                       snapshot day).
=====================  =========================================================================

Every decision comes from :func:`huabei.simulation.rng.derive` with its own purpose, so a run
with faults is as deterministic as one without, and turning a fault on never changes the
draws of the users' behaviour. ``retry`` and ``eod_crash`` are *transparent*: a run with only
those faults gives the same monthly figures as a run with none.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class InjectedCrash(RuntimeError):
    """Raised by the ``eod_crash`` hook to kill an end-of-day run mid-way."""


class FaultPlan(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    #: Share of money-moving calls sent twice with the same key.
    retry_per_mille: int = Field(default=0, ge=0, le=1000)
    #: Share of retries sent concurrently (two threads at once) rather than one after the other.
    concurrent_retry_per_mille: int = Field(default=500, ge=0, le=1000)
    #: Share of user-days with a concurrent burst of identical purchases, and its size.
    burst_per_mille: int = Field(default=0, ge=0, le=1000)
    burst_size: tuple[int, int] = (3, 8)
    #: Share of days whose end-of-day run is killed mid-way and resumed.
    eod_crash_per_mille: int = Field(default=0, ge=0, le=1000)
    #: Share of days on which the system goes down for ``skip_length`` days.
    skip_days_per_mille: int = Field(default=0, ge=0, le=1000)
    skip_length: tuple[int, int] = (2, 4)

    @classmethod
    def none(cls) -> FaultPlan:
        return cls()

    @classmethod
    def default(cls) -> FaultPlan:
        """``--faults``: every kind, often enough that a few months meet each several times."""
        return cls(retry_per_mille=50, burst_per_mille=3, eod_crash_per_mille=100, skip_days_per_mille=15)

    @classmethod
    def transparent(cls) -> FaultPlan:
        """Only the faults that must not change any figure: retries and end-of-day crashes."""
        return cls(retry_per_mille=100, eod_crash_per_mille=200)

    @property
    def active(self) -> bool:
        return any((self.retry_per_mille, self.burst_per_mille, self.eod_crash_per_mille, self.skip_days_per_mille))

    def as_dict(self) -> dict[str, Any]:
        return self.model_dump(mode="json")
