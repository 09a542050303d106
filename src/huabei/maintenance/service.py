"""Use cases of maintenance windows (系统维护): schedule, list, cancel, and the purchase path's guard.

Times are real timestamps (``UnitOfWork.now()``, docs/flows.md "Real time"), stored in UTC and
shown in the product's time zone. A purchase inside a window in its scope is declined 402
``maintenance`` with the end (``details.ends_at``); repayments, refunds and views are not
affected. Scheduling and cancelling are recorded (who, when, why) on the window and as events.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, cast
from zoneinfo import ZoneInfo

from huabei import errors
from huabei.clock import from_stored, local_text, to_stored
from huabei.events import MaintenanceCancelled, MaintenanceScheduled
from huabei.i18n import N_
from huabei.maintenance import rules
from huabei.maintenance.rules import Scope, Window
from huabei.platform.unit_of_work import Huabei, UnitOfWork

STATUSES = ("current", "upcoming", "active", "ended", "cancelled", "all")


def schedule(
    system: Huabei,
    *,
    starts_at: dt.datetime,
    ends_at: dt.datetime,
    reason: str,
    scope: str,
    target: str | None = None,
    actor: str = "operator",
) -> dict[str, Any]:
    with system.uow() as uow:
        now = uow.now()
        rules.check_new(starts_at, ends_at, now, Scope(scope), target, uow.terms.funding.codes())
        window_id = uow.maintenance.add(
            starts_at=to_stored(starts_at),
            ends_at=to_stored(ends_at),
            reason=reason,
            scope=scope,
            target=target,
            created_by=actor,
            created_at=to_stored(now),
        )
        row = uow.maintenance.get(window_id)
        uow.events.record(MaintenanceScheduled(window=_view(uow, row)), business_date=uow.today(), now=now)
        uow.commit()
        return _view(uow, row)


def cancel(system: Huabei, window_id: int, *, reason: str | None = None, actor: str = "operator") -> dict[str, Any]:
    with system.uow() as uow:
        row = uow.maintenance.get(window_id, for_update=True)
        if row is None:
            raise errors.not_found("maintenance_window_not_found", window_id=window_id)
        now = uow.now()
        if not uow.maintenance.cancel(window_id, now=to_stored(now), by=actor, reason=reason):
            raise errors.conflict("maintenance_window_closed", window_id=window_id)
        row = uow.maintenance.get(window_id)
        uow.events.record(MaintenanceCancelled(window=_view(uow, row)), business_date=uow.today(), now=now)
        uow.commit()
        return _view(uow, row)


def listing(system: Huabei, status: str = "current") -> list[dict[str, Any]]:
    """Windows by status: ``current`` (upcoming and active, the default), one status, or ``all``."""
    if status not in STATUSES:
        raise errors.invalid(
            "invalid_request", detail=N_("the status is one of {expected}"), expected=", ".join(STATUSES)
        )
    with system.uow(readonly=True) as uow:
        now = uow.now()
        rows = uow.maintenance.listing(not_ended_at=to_stored(now) if status == "current" else None)
        views = [_view(uow, r) for r in rows]
    return [v for v in views if status in ("current", "all") or v["status"] == status]


def windows_in_force(uow: UnitOfWork, channel: str | None = None, funding_source: str | None = None) -> list[Window]:
    """The windows in force now (in ``channel`` / for ``funding_source`` when given), latest end
    first. The diagnosis reads it too."""
    out = []
    for r in uow.maintenance.active_at(to_stored(uow.now())):
        w = Window(r.window_id, from_stored(r.starts_at), from_stored(r.ends_at), Scope(r.scope), r.target)
        if channel is None or funding_source is None or rules.covers(w, channel, funding_source):
            out.append(w)
    return out


_BATCH_WINDOWS = "maintenance.windows_of_batch"


def read_for_batch(uow: UnitOfWork) -> None:
    """For a batch of purchases decided at one instant (``payments.service.authorise_purchases``):
    read the windows in force once, for every :func:`guard` of the transaction."""
    uow.cache[_BATCH_WINDOWS] = uow.maintenance.active_at(to_stored(uow.now()))


def guard(uow: UnitOfWork, account_id: int, channel: str) -> None:
    """Inside the purchase's transaction, before the debit: 402 ``maintenance`` inside a window
    in the purchase's scope. No window in force: one indexed query (none in a batch that read
    them already), nothing else read."""
    cached = uow.cache.get(_BATCH_WINDOWS)
    rows = cast(list[Any], cached) if cached is not None else uow.maintenance.active_at(to_stored(uow.now()))
    if not rows:
        return
    line = uow.accounts.get(account_id) if any(r.scope == Scope.FUNDING for r in rows) else None
    funding = line.funding_source if line is not None else "platform"
    for r in rows:  # latest end first
        w = Window(r.window_id, from_stored(r.starts_at), from_stored(r.ends_at), Scope(r.scope), r.target)
        if rules.covers(w, channel, funding):
            local = w.ends_at.astimezone(ZoneInfo(uow.terms.timezone))
            raise errors.declined(
                "maintenance",
                ends_at=local_text(w.ends_at, uow.terms.timezone),
                ends_at_iso=local.isoformat(),
                window_id=w.window_id,
            )


def _view(uow: UnitOfWork, r: Any) -> dict[str, Any]:
    tz = ZoneInfo(uow.terms.timezone)

    def ts(v: dt.datetime | None) -> str | None:
        return from_stored(v).astimezone(tz).isoformat() if v is not None else None

    starts, ends = from_stored(r.starts_at), from_stored(r.ends_at)
    return {
        "window_id": r.window_id,
        "starts_at": ts(starts),
        "ends_at": ts(ends),
        "reason": r.reason,
        "scope": r.scope,
        "channel": r.target if r.scope == Scope.CHANNEL else None,
        "partner": r.target if r.scope == Scope.FUNDING else None,
        "status": rules.status(starts, ends, r.cancelled_at is not None, uow.now()),
        "created_by": r.created_by,
        "created_at": ts(r.created_at),
        "cancelled_at": ts(r.cancelled_at),
        "cancelled_by": r.cancelled_by,
        "cancel_reason": r.cancel_reason,
    }
