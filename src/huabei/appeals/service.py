"""Use cases of appeals (申诉): a user contests a restriction, an agent decides.

- :func:`file_appeal` — ``POST /v1/accounts/{id}/appeals``: a statement, evidence (purchase ids of
  this line) and the restriction contested. Only an active restriction of an appealable cause
  (``huabei.restrictions.causes``) takes one: another answers 422 ``not_appealable`` with its
  cause's remedy. One open appeal per restriction (409 ``appeal_exists``; a partial unique index
  holds it under concurrency).
- :func:`decide` — ``POST /v1/appeals/{id}/decision``: ``lift`` or ``uphold``, a reason and an
  outcome label (``huabei.appeals.rules.OUTCOMES``). ``lift`` lifts the restriction (reason
  ``appeal_lifted``) where its lifting rule lets an agent: a hard risk-rule restriction answers 409
  ``restriction_hard``, a suspected takeover 409 ``verification_required`` (it lifts on
  re-verification). A decided appeal answers 409 ``appeal_closed``.
- The user reads status and outcome (``GET /v1/accounts/{id}/appeals``); agents work the queue
  (``GET /v1/appeals?status=open``). :func:`outcome_labels` gives the risk backtest its labels.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy.exc import IntegrityError

from huabei import errors, reasons
from huabei.appeals import rules
from huabei.appeals.rules import Status
from huabei.clock import from_stored, to_stored
from huabei.events import AppealDecided, AppealFiled
from huabei.i18n import N_
from huabei.platform.unit_of_work import Huabei, UnitOfWork
from huabei.restrictions import service as restrictions
from huabei.restrictions.causes import CAUSES, LiftRule


def file_appeal(
    system: Huabei,
    account_id: int,
    *,
    restriction_id: int,
    statement: str,
    purchase_ids: list[int] | None = None,
    actor: str = "user",
) -> dict[str, Any]:
    statement = rules.check_text("statement", statement)
    purchase_ids = sorted(set(purchase_ids or []))
    if len(purchase_ids) > rules.MAX_EVIDENCE:
        raise errors.invalid("invalid_evidence", detail=N_("at most {maximum} purchases"), maximum=rules.MAX_EVIDENCE)
    try:
        with system.uow() as uow:
            if uow.accounts.get(account_id, for_update=True) is None:
                raise errors.not_found("account_not_found", account_id=account_id)
            r = uow.restrictions.get(restriction_id)
            if r is None or r.account_id != account_id or not r.active:
                raise errors.not_found("restriction_not_found", restriction_id=restriction_id)
            cause = CAUSES.get(r.cause)
            if cause is None or not cause.appealable:
                raise errors.unprocessable(
                    "not_appealable", cause=r.cause, **reasons.cause_params(r.cause, r.note, r.evidence)
                )
            for pid in purchase_ids:
                p = uow.purchases.get(pid)
                if p is None or p.account_id != account_id:
                    raise errors.invalid(
                        "invalid_evidence",
                        detail=N_("purchase {purchase_id} is not a purchase of this line"),
                        purchase_id=pid,
                    )
            if uow.appeals.open_for(restriction_id) is not None:
                raise errors.conflict("appeal_exists", restriction_id=restriction_id)
            now = uow.now()
            appeal_id = uow.appeals.add(
                account_id=account_id,
                restriction_id=restriction_id,
                cause=r.cause,
                statement=statement,
                evidence={"purchase_ids": purchase_ids},
                status=Status.OPEN.value,
                created_by=actor,
                created_at=to_stored(now),
            )
            uow.events.record(
                AppealFiled(account_id=account_id, appeal_id=appeal_id, restriction_id=restriction_id, cause=r.cause),
                business_date=uow.today(),
                now=now,
            )
            uow.commit()
            return _view(uow.appeals.get(appeal_id))
    except IntegrityError:  # a concurrent appeal on the same restriction won
        raise errors.conflict("appeal_exists", restriction_id=restriction_id) from None


def decide(
    system: Huabei, appeal_id: int, *, decision: str, reason: str, outcome: str, actor: str = "agent"
) -> dict[str, Any]:
    d = rules.check_decision(decision, outcome)
    reason = rules.check_text("reason", reason)
    with system.uow() as uow:
        a = uow.appeals.get(appeal_id)
        if a is None:
            raise errors.not_found("appeal_not_found", appeal_id=appeal_id)
        uow.accounts.lock([a.account_id])
        a = uow.appeals.get(appeal_id, for_update=True)
        if a.status != Status.OPEN.value:
            raise errors.conflict("appeal_closed", appeal_id=appeal_id, status=a.status)
        r = uow.restrictions.get(a.restriction_id)
        lifted = False
        if d is rules.Decision.LIFT and r is not None and r.active:
            if r.rule_id is not None and r.severity == "hard":
                raise errors.conflict("restriction_hard", rule_id=r.rule_id)
            if CAUSES[r.cause].lift_rule is LiftRule.ON_VERIFICATION:
                raise errors.conflict("verification_required", cause=r.cause)
            restrictions.lift(uow, [(r.restriction_id, r.account_id, r.cause)], reason="appeal_lifted", actor=actor)
            lifted = True
        now = uow.now()
        uow.appeals.decide(
            appeal_id,
            status=rules.status_after(d).value,
            decision=d.value,
            outcome=outcome,
            reason=reason,
            by=actor,
            now=to_stored(now),
        )
        uow.events.record(
            AppealDecided(
                account_id=a.account_id,
                appeal_id=appeal_id,
                restriction_id=a.restriction_id,
                cause=a.cause,
                decision=d.value,
                outcome=outcome,
                reason=reason,
                restriction_lifted=lifted,
            ),
            business_date=uow.today(),
            now=now,
        )
        uow.commit()
        return _view(uow.appeals.get(appeal_id))


def evidence_choices(system: Huabei, account_id: int, limit: int = 10) -> list[dict[str, Any]]:
    """The line's purchases a user may attach to an appeal (申诉附交易明细): the latest ``limit``
    of the last 90 days, newest first. ``file_appeal`` checks each id is the line's whatever the
    form sent."""
    with system.uow(readonly=True) as uow:
        since = uow.today() - dt.timedelta(days=90)
        return [
            {
                "purchase_id": p.purchase_id,
                "amount": p.amount,
                "merchant_id": p.merchant_id,
                "business_date": p.business_date.isoformat(),
            }
            for p in uow.purchases.recent(account_id, since, limit)
        ]


def get_appeal(system: Huabei, appeal_id: int) -> dict[str, Any]:
    with system.uow(readonly=True) as uow:
        a = uow.appeals.get(appeal_id)
        if a is None:
            raise errors.not_found("appeal_not_found", appeal_id=appeal_id)
        return _view(a)


def listing(
    system: Huabei,
    *,
    status: str | None = None,
    account_id: int | None = None,
    limit: int = 100,
    starting_after: int | None = None,
) -> list[dict[str, Any]]:
    if status is not None and status not in {s.value for s in Status}:
        raise errors.invalid("invalid_request", detail=N_("the status is open, lifted or upheld"))
    with system.uow(readonly=True) as uow:
        if account_id is not None and uow.accounts.get(account_id) is None:
            raise errors.not_found("account_not_found", account_id=account_id)
        rows = uow.appeals.listing(status=status, account_id=account_id, limit=limit, starting_after=starting_after)
        return [_view(a) for a in rows]


def recently_decided(system: Huabei, limit: int = 20) -> list[dict[str, Any]]:
    """The agents' page: the last decisions, newest first."""
    with system.uow(readonly=True) as uow:
        return [_view(a) for a in uow.appeals.recently_decided(limit)]


def appeals_in(uow: UnitOfWork, account_id: int) -> list[dict[str, Any]]:
    """A line's appeals inside a unit of work (the diagnosis reads the open ones)."""
    return [_view(a) for a in uow.appeals.listing(account_id=account_id)]


def outcome_labels(uow: UnitOfWork) -> list[tuple[int, str, str]]:
    """(restriction_id, cause, outcome label) of every decided appeal, for the risk backtest."""
    return [(r.restriction_id, r.cause, r.outcome) for r in uow.appeals.outcomes()]


def _view(a: Any) -> dict[str, Any]:
    return {
        "appeal_id": a.appeal_id,
        "account_id": a.account_id,
        "restriction_id": a.restriction_id,
        "cause": a.cause,
        "statement": a.statement,
        "purchase_ids": list(a.evidence.get("purchase_ids", [])),
        "status": a.status,
        "decision": a.decision,
        "outcome": a.outcome,
        "decision_reason": a.decision_reason,
        "created_at": from_stored(a.created_at).isoformat(),
        "decided_at": from_stored(a.decided_at).isoformat() if a.decided_at else None,
    }
