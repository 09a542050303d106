"""Closing a credit line (关闭花呗) and what a closed line still does.

A closed line refuses new purchases (``account_closed``); its bills stay due and payable,
repayments, refunds and the end-of-day job (bills, interest, overdue, the bureau file, which
reports it ``closed``) keep working. The user applies again with ``POST /v1/accounts``: a new
line is opened by the automatic decision (``huabei.lines.service.open_account``), since only
an *open* line makes ``account_exists``.

- :func:`close_by_user` — the user closes a line that owes nothing (no principal, interest,
  fee or penalty, billed or not): else 422 ``balance_outstanding`` with what is owed.
- :func:`close` — inside a unit of work, for an operator's regulatory sweep
  (``huabei.sweeps``): closes whatever is owed, and places a ``regulatory_tightening``
  restriction (evidence: the sweep) that lifts after ``closures.reapply_after_days``, so the
  opening decision lets the user apply again then (``scoring.opening_disqualifying_causes``).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from huabei import errors
from huabei.billing import positions
from huabei.events import AccountClosed
from huabei.lines.service import account_snapshot
from huabei.money import format_yuan
from huabei.platform.unit_of_work import Huabei, UnitOfWork
from huabei.restrictions import service as restrictions

REGULATORY_CAUSE = "regulatory_tightening"


def closing(system: Huabei, account_id: int) -> dict[str, Any] | None:
    """When and why a closed line was closed, from its ``AccountClosed`` event: ``closed_on``,
    ``by`` (``user``, ``sweep``, or ``funding`` for a 信用购 line brand isolation opened closed),
    ``reason`` (the user's or operator's words, or the code of ``huabei.funding.service``:
    ``huabei_line_closed``, ``xinyonggou_line_open``). None while the line is open."""
    with system.uow(readonly=True) as uow:
        line = uow.accounts.get(account_id)
        if line is None:
            raise errors.not_found("account_not_found", account_id=account_id)
        if line.state.value == "open":
            return None
        events = uow.events.for_account(account_id, AccountClosed.event_type)
        if not events:  # closed before closings were recorded: the day is all there is
            return {"closed_on": None, "by": None, "reason": None}
        last = events[-1]
        return {"closed_on": last.business_date.isoformat(), "by": last.payload["by"], "reason": last.payload["reason"]}


def close_by_user(system: Huabei, account_id: int, *, reason: str | None = None, actor: str = "user") -> dict[str, Any]:
    with system.uow() as uow:
        pos = positions.position(uow, account_id)  # locks the line's row
        if pos.line.state.value != "open":
            raise errors.conflict("account_already_closed", account_id=account_id)
        owed = max(pos.owed, pos.line.used)
        if owed > 0:
            raise errors.unprocessable("balance_outstanding", owed=format_yuan(owed))
        close(uow, account_id, actor=actor, reason=reason or "user_request", by="user")
        uow.commit()
        return account_snapshot(uow, account_id)


def close(
    uow: UnitOfWork,
    account_id: int,
    *,
    actor: str,
    reason: str,
    by: str,
    evidence: dict[str, Any] | None = None,
    reapply_after_days: int | None = None,
) -> bool:
    """Close an open line inside ``uow`` (its row locked first); False if it was not open.
    ``by`` is ``user`` or ``sweep``; a sweep's closing places a ``regulatory_tightening``
    restriction lifting ``reapply_after_days`` later."""
    line = uow.accounts.get(account_id, for_update=True)
    if line is None:
        raise errors.not_found("account_not_found", account_id=account_id)
    today = uow.today()
    if not uow.accounts.close(account_id, today):
        return False
    if by == "sweep":
        days = reapply_after_days if reapply_after_days is not None else uow.terms.closures.reapply_after_days
        restrictions.place(
            uow,
            account_id,
            REGULATORY_CAUSE,
            evidence or {},
            reason,
            today + dt.timedelta(days=days),
            actor,
        )
    uow.events.record(
        AccountClosed(
            account_id=account_id,
            user_id=line.user_id,
            by=by,
            actor=actor,
            reason=reason,
            used=line.used,
            evidence=evidence or None,
        ),
        business_date=today,
        now=uow.now(),
    )
    return True
