"""Use cases: place and lift restrictions (冻结 / 解封).

Placing or lifting a restriction recomputes the line's ``block_code`` in the same
transaction, so the purchase path's atomic debit sees the freeze at once.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from huabei import errors, reasons
from huabei.events import RestrictionLifted, RestrictionPlaced
from huabei.i18n import N_
from huabei.lines.rules import BLOCK_OVERDUE
from huabei.lines.service import restriction_view
from huabei.platform.sql import AccountRange
from huabei.platform.unit_of_work import Huabei, UnitOfWork
from huabei.restrictions.causes import AGENT_LIFT_REASONS, CAUSES, LiftRule, block_code_for, default_lift_date

#: A check of who may place or lift a restriction, run in the use case's transaction with the line
#: locked: ``check(uow, cause, rule_severity)`` raises to refuse (an agent on a hard restriction,
#: ``huabei.risk.service.agent_check``).
Check = Callable[[UnitOfWork, str, str | None], None]


def place_restriction(
    system: Huabei,
    account_id: int,
    *,
    cause: str,
    evidence: dict[str, Any] | None = None,
    note: str | None = None,
    lifts_on: dt.date | None = None,
    actor: str = "operator",
    check: Check | None = None,
) -> dict[str, Any]:
    if cause not in CAUSES:
        raise errors.invalid(
            "invalid_request", detail=N_("the cause is one of {expected}"), expected=", ".join(sorted(CAUSES))
        )
    with system.uow() as uow:
        if uow.accounts.get(account_id, for_update=True) is None:
            raise errors.not_found("account_not_found", account_id=account_id)
        if check is not None:
            check(uow, cause, None)
        today = uow.today()
        if lifts_on is not None and lifts_on <= today:
            raise errors.unprocessable("lifts_on_not_future", lifts_on=lifts_on.isoformat(), today=today.isoformat())
        restriction_id = place(uow, account_id, cause, evidence or {}, note, lifts_on, actor)
        uow.commit()
        return restriction_view(uow.restrictions.get(restriction_id))


def place(
    uow: UnitOfWork,
    account_id: int,
    cause: str,
    evidence: dict[str, Any],
    note: str | None,
    lifts_on: dt.date | None,
    actor: str,
    *,
    rule: dict[str, Any] | None = None,
) -> int:
    """Inside a unit of work (the risk engine calls this too). Locks the line first.

    ``rule`` (a risk rule placing it): ``{rule_id, severity, last_signal_on}``; its lifting date is
    the rule's (``lifts_on``, or None while it lifts by a condition), not the cause's default."""
    uow.accounts.lock([account_id])
    today, now = uow.today(), uow.now()
    # the cause's text placeholders the product terms fill (``{threshold}``), kept with the evidence
    known = {"threshold": uow.terms.scoring.opening_threshold}
    evidence = {**{k: known[k] for k in reasons.placeholders(cause) if k in known}, **evidence}
    if rule is None:
        lifts_on = lifts_on or default_lift_date(CAUSES[cause], today, uow.terms.restrictions)
    rid = uow.restrictions.add(
        **(rule or {}),
        account_id=account_id,
        cause=cause,
        active=True,
        evidence=evidence,
        note=note,
        placed_on=today,
        placed_by=actor,
        lifts_on=lifts_on,
        created_at=now,
    )
    refresh_block(uow, account_id)
    uow.events.record(
        RestrictionPlaced(
            account_id=account_id,
            restriction_id=rid,
            cause=cause,
            evidence=evidence,
            lifts_on=lifts_on.isoformat() if lifts_on else None,
        ),
        business_date=today,
        now=now,
    )
    return rid


def lift_restriction(
    system: Huabei,
    restriction_id: int,
    *,
    reason: str = "lifted_by_agent",
    actor: str = "operator",
    check: Check | None = None,
) -> dict[str, Any]:
    with system.uow() as uow:
        r = uow.restrictions.get(restriction_id)
        if r is not None and r.active:
            uow.accounts.lock([r.account_id])
            r = uow.restrictions.get(restriction_id)  # as of the lock: a concurrent lift may have won
        if r is None or not r.active:
            raise errors.not_found("restriction_not_found", restriction_id=restriction_id)
        if r.rule_id is not None:  # placed by a risk rule: hard ones lift only by their rule
            if r.severity == "hard":
                raise errors.conflict("restriction_hard", rule_id=r.rule_id)
            if reason not in AGENT_LIFT_REASONS:  # soft: a reason code from the fixed list
                raise errors.invalid("lift_reason_required", codes=", ".join(AGENT_LIFT_REASONS))
        if CAUSES[r.cause].lift_rule is LiftRule.ON_VERIFICATION:  # a suspected takeover
            raise errors.conflict("verification_required", cause=r.cause)
        if check is not None:
            check(uow, r.cause, r.severity if r.rule_id is not None else None)
        lift(uow, [(r.restriction_id, r.account_id, r.cause)], reason=reason, actor=actor)
        uow.commit()
        return restriction_view(uow.restrictions.get(restriction_id))


def lift(uow: UnitOfWork, rows: list[tuple[int, int, str]], *, reason: str, actor: str) -> int:
    """Lift these ``(restriction_id, account_id, cause)`` rows: the lines are locked first (in
    account order), then the restrictions still active are lifted and each line's block code is
    recomputed from what is active once the lock is held. Returns how many this call lifted."""
    today, now = uow.today(), uow.now()
    uow.accounts.lock([r[1] for r in rows])
    lifted = uow.restrictions.lift([r[0] for r in rows], on=today, by=actor, reason=reason)
    rows = [r for r in rows if r[0] in lifted]
    for account_id in sorted({r[1] for r in rows}):
        refresh_block(uow, account_id)
    for rid, account_id, cause in rows:
        uow.events.record(
            RestrictionLifted(account_id=account_id, restriction_id=rid, cause=cause, reason=reason),
            business_date=today,
            now=now,
        )
    return len(rows)


def lift_due_restrictions(uow: UnitOfWork, accounts: AccountRange | None = None) -> int:
    """Lift every restriction whose automatic lifting date has come (end-of-day step; of the
    lines of ``accounts`` only when the job isolates a record it fails on)."""
    rows = [(r.restriction_id, r.account_id, r.cause) for r in uow.restrictions.due_to_lift(uow.today(), accounts)]
    return lift(uow, rows, reason="lifting_date_reached", actor="system") if rows else 0


def refresh_block(uow: UnitOfWork, account_id: int) -> None:
    """Recompute the line's ``block_code`` (the caller holds the line's lock): a freeze (``account_frozen:<cause>``) outranks
    ``account_overdue``, which blocks purchases while any bill is past due (overdue)."""
    causes = [r.cause for r in uow.restrictions.active(account_id)]
    code, _lead = block_code_for(causes)
    if code is None and uow.billing.has_overdue(account_id):
        code = BLOCK_OVERDUE
    uow.accounts.set_block_code(account_id, code)
