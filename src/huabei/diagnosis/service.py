"""Use cases of the diagnosis: read one line in one consistent snapshot, diagnose, render.

:func:`read_facts` gathers everything :func:`huabei.diagnosis.findings.diagnose` needs in one
read-only unit of work (a single snapshot: ``REPEATABLE READ`` on PostgreSQL, one deferred
transaction on SQLite) with a fixed number of indexed queries, whatever the line's history.
Nothing here writes.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from huabei import errors
from huabei.diagnosis import findings as f
from huabei.diagnosis import render as r
from huabei.lines.rules import AccountState
from huabei.platform.unit_of_work import Huabei, UnitOfWork

#: Purchases read as "recent" (the check and the cash-out explainer's lookups).
RECENT_DAYS = 30
RECENT_PURCHASES = 50
RECENT_REPAYMENTS = 10


def _evidence_purchase_ids(restrictions: list[Any]) -> list[int]:
    ids: list[int] = []
    for row in restrictions:
        ev = row.evidence or {}
        for pid in ev.get("purchase_ids") or []:
            if isinstance(pid, int) and not isinstance(pid, bool):
                ids.append(pid)
    return sorted(set(ids))


def read_facts(uow: UnitOfWork, account_id: int) -> f.AccountFacts:
    """Everything a diagnosis reads about line ``account_id``, as of the unit of work's date."""
    line = uow.accounts.get(account_id)
    if line is None:
        raise errors.not_found("account_not_found", account_id=account_id)
    today = uow.today()
    restrictions = uow.restrictions.active(account_id)
    temp = line.temporary_limit_on(today)
    expires = line.temporary_limit_expires_on
    purchases = {
        p.purchase_id: p
        for p in uow.purchases.recent(account_id, today - dt.timedelta(days=RECENT_DAYS - 1), RECENT_PURCHASES)
    }
    wanted = [pid for pid in _evidence_purchase_ids(restrictions) if pid not in purchases]
    purchases.update({p.purchase_id: p for p in uow.purchases.find(account_id, wanted)})
    score_rows = uow.scores.history(line.user_id, 1)
    change = uow.limit_changes.latest(account_id)
    bureau = uow.bureau.latest_record(account_id)
    return f.AccountFacts(
        account_id=line.account_id,
        user_id=line.user_id,
        today=today,
        closed=line.state is AccountState.CLOSED,
        base_limit=line.base_limit,
        temporary_limit=temp,
        temporary_limit_expires_on=expires if temp else None,
        temporary_limit_expired_on=expires if expires is not None and expires <= today else None,
        used=line.used,
        available=line.available(today),
        block_code=line.block_code,
        opened_on=line.opened_on,
        score_threshold=uow.terms.scoring.opening_threshold,
        restrictions=tuple(
            f.RestrictionFact(
                restriction_id=x.restriction_id,
                cause=x.cause,
                evidence=dict(x.evidence or {}),
                note=x.note,
                placed_on=x.placed_on,
                placed_by=x.placed_by,
                lifts_on=x.lifts_on,
            )
            for x in restrictions
        ),
        bills=tuple(
            f.BillFact(
                bill_id=b.bill_id,
                period=b.period,
                statement_date=b.statement_date,
                due_date=b.due_date,
                status=b.status,
                total_due=b.total_due,
                minimum_due=b.minimum_due,
                paid=b.paid,
                outstanding=b.unpaid_principal + b.unpaid_fee + b.unpaid_interest + b.unpaid_penalty,
                overdue_since=b.overdue_since,
            )
            for b in uow.billing.unpaid_bills(account_id)
        ),
        purchases=tuple(
            f.PurchaseFact(
                purchase_id=p.purchase_id,
                amount=p.amount,
                refunded=p.refunded,
                merchant_id=p.merchant_id,
                merchant_category=p.merchant_category,
                business_date=p.business_date,
                on_temporary_limit=p.on_temporary_limit,
            )
            for p in sorted(purchases.values(), key=lambda p: -p.purchase_id)
        ),
        repayments=tuple(
            f.RepaymentFact(repayment_id=x.repayment_id, amount=x.amount, business_date=x.business_date)
            for x in uow.repayments.recent(account_id, RECENT_REPAYMENTS)
        ),
        score=(
            f.ScoreFact(
                score=s.score,
                band=s.band,
                previous_score=s.previous_score,
                as_of=s.as_of,
                reasons=tuple(s.reasons or ()),
            )
            if (s := score_rows[0] if score_rows else None) is not None
            else None
        ),
        last_limit_change=(
            f.LimitChangeFact(
                change_id=change.change_id,
                limit_kind=change.limit_kind,
                old_value=change.old_value,
                new_value=change.new_value,
                reasons=tuple(change.reasons or ()),
                expires_on=change.expires_on,
                business_date=change.business_date,
            )
            if change is not None
            else None
        ),
        bureau=(
            f.BureauFact(
                month=bureau.month,
                days_past_due=bureau.days_past_due,
                amount_overdue=bureau.amount_overdue,
                bucket=bureau.bucket,
                account_status=bureau.account_status,
            )
            if bureau is not None
            else None
        ),
        recent_days=RECENT_DAYS,
    )


def diagnose(system: Huabei, account_id: int) -> f.Diagnosis:
    """The diagnosis of a line from one consistent read (never writes)."""
    with system.uow(readonly=True) as uow:
        facts = read_facts(uow, account_id)
    return f.diagnose(facts)


def finding_view(x: f.Finding, locale: str) -> dict[str, Any]:
    rule = f.lift_rule(x.code) if x.kind == "restriction" else None
    return {
        "code": x.code,
        "kind": x.kind,
        "blocks": list(x.blocks),
        "restriction_id": x.restriction_id,
        "appealable": x.appealable,
        "lift_rule": rule.value if rule else None,
        "lifts_on": x.lifts_on.isoformat() if x.lifts_on else None,
        "data": r.plain(dict(x.data)),
        "message": r.text(x.says, locale),
        "evidence": [r.text(s, locale) for s in x.evidence],
        "remedy": r.text(x.action, locale),
        "lifts": r.text(x.lifts, locale),
    }


def check_view(c: f.Check, locale: str) -> dict[str, Any]:
    return {"code": c.code, "data": r.plain(dict(c.data)), "text": r.text(c.says, locale)}


def diagnosis_view(d: f.Diagnosis, locale: str) -> dict[str, Any]:
    """The diagnosis as structured data with its texts in ``locale``."""
    return {
        "account_id": d.account_id,
        "user_id": d.user_id,
        "as_of": d.as_of.isoformat(),
        "locale": locale,
        "state": d.state.value,
        "summary": r.text(d.summary, locale),
        "findings": [finding_view(x, locale) for x in d.findings],
        "checks": [check_view(c, locale) for c in d.checks],
    }


def diagnosis(system: Huabei, account_id: int, locale: str = "en") -> dict[str, Any]:
    """``GET /v1/accounts/{id}/diagnosis`` and ``huabei diagnose``."""
    return diagnosis_view(diagnose(system, account_id), locale)
