"""Use cases of the diagnosis: read one line in one consistent snapshot, diagnose, render.

:func:`read_facts` gathers everything :func:`huabei.diagnosis.findings.diagnose` needs in one
read-only unit of work (a single snapshot: ``REPEATABLE READ`` on PostgreSQL, one deferred
transaction on SQLite) with a fixed number of indexed queries, whatever the line's history.
Nothing here writes.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from huabei import errors, reasons
from huabei.clock import from_stored, to_stored
from huabei.config import ProductTerms
from huabei.diagnosis import advice as a
from huabei.diagnosis import explainers as ex
from huabei.diagnosis import findings as f
from huabei.diagnosis import render as r
from huabei.diagnosis import vocabulary as v
from huabei.limits import policy as lp
from huabei.limits import service as limits
from huabei.lines.rules import BLOCK_OVERDUE, AccountState
from huabei.money import format_yuan
from huabei.passwords import service as passwords
from huabei.platform.unit_of_work import Huabei, UnitOfWork
from huabei.risk import catalog, evaluation, features
from huabei.risk import service as risk
from huabei.scoring import collect

#: At most this many recent purchases are read (the check counts them; explainers look ids up).
RECENT_PURCHASES = 50
RECENT_REPAYMENTS = 10


def _evidence_ids(restrictions: list[Any], kind: str) -> list[int]:
    return sorted({i for row in restrictions for i in ex.evidence_ids(row.evidence or {}, kind)})


def _purchase(p: Any) -> v.PurchaseFact:
    return v.PurchaseFact(
        purchase_id=p.purchase_id,
        amount=p.amount,
        refunded=p.refunded,
        merchant_id=p.merchant_id,
        merchant_category=p.merchant_category,
        business_date=p.business_date,
        on_temporary_limit=p.on_temporary_limit,
        device_id=getattr(p, "device_id", None),
    )


def _restriction(x: Any, projected: dict[int, dt.date] | None = None) -> v.RestrictionFact:
    return v.RestrictionFact(
        restriction_id=x.restriction_id,
        cause=x.cause,
        evidence=dict(x.evidence or {}),
        note=x.note,
        placed_on=x.placed_on,
        placed_by=x.placed_by,
        lifts_on=x.lifts_on,
        projected_lift_on=(projected or {}).get(x.restriction_id),
    )


#: How far ahead a risk rule's lift condition is run forward.
PROJECTION_DAYS = 400


def projected_lifts(uow: UnitOfWork, account_id: int, today: dt.date, rows: list[Any]) -> dict[int, dt.date]:
    """For each restriction a risk rule placed that lifts by a condition (no date of its own):
    the first day the rule's own lift condition holds (and its trigger does not), running the
    line's features forward "if nothing else changes" — every ``days_since_*`` feature grows by a
    day a day, the others stay as they are today. Runs the active policy's compiled rule; the day
    said is the day the end-of-day run that sees those features lifts it."""
    wanted = [(x, (x.evidence or {}).get("rule_id")) for x in rows if x.lifts_on is None]
    wanted = [(x, rid) for x, rid in wanted if isinstance(rid, str)]
    if not wanted:
        return {}
    policy = risk.active_policy(uow)
    rules = {r.id: r for r in policy.rules if r.lift_when is not None}
    todo = [(x, rules[rid]) for x, rid in wanted if rid in rules]
    if not todo:
        return {}
    names = sorted({n for _x, rule in todo for n in rule.features})
    values = features.compute(uow.conn, names, today, [account_id]).get(account_id)
    if values is None:
        return {}
    cfg = catalog.config_values(uow.terms)
    # the end-of-day run of a day reads the features as of evaluation.as_of(day) (the day before):
    # features as of day X are seen by the run of X + lag
    lag = today - evaluation.as_of(today)
    out: dict[int, dt.date] = {}
    for x, rule in todo:
        # only the days_since_* features move as days pass: without one, the condition's answer
        # today is its answer on every later day (one evaluation, not one per day)
        moving = any(n.startswith("days_since_") for n in rule.features)
        for k in range(PROJECTION_DAYS + 1 if moving else 1):
            act: dict[str, Any] = {
                n: v + k if n.startswith("days_since_") and isinstance(v, int) and v < catalog.NEVER_DAYS else v
                for n, v in values.items()
            }
            act["cfg"] = cfg
            if rule.lift_when is not None and rule.lift_when.holds(act) and not rule.trigger.holds(act):
                out[x.restriction_id] = today + dt.timedelta(days=k) + lag
                break
    return out


def read_facts(uow: UnitOfWork, account_id: int) -> v.AccountFacts:
    """Everything a diagnosis reads about line ``account_id``, as of the unit of work's date."""
    line = uow.accounts.get(account_id)
    if line is None:
        raise errors.not_found("account_not_found", account_id=account_id)
    today = uow.today()
    restrictions = uow.restrictions.active(account_id)
    projected = projected_lifts(uow, account_id, today, restrictions)
    temp = line.temporary_limit_on(today)
    expires = line.temporary_limit_expires_on
    recent_days = uow.terms.diagnosis.recent_days
    since = today - dt.timedelta(days=recent_days - 1)
    purchases = {p.purchase_id: p for p in uow.purchases.recent(account_id, since, RECENT_PURCHASES)}
    wanted = [pid for pid in _evidence_ids(restrictions, "purchases") if pid not in purchases]
    purchases.update({p.purchase_id: p for p in uow.purchases.find(account_id, wanted)})
    score_rows = uow.scores.history(line.user_id, 1)
    change = uow.limit_changes.latest(account_id)
    bureau = uow.bureau.latest_record(account_id)
    return v.AccountFacts(
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
        restrictions=tuple(_restriction(x, projected) for x in restrictions),
        bills=tuple(
            v.BillFact(
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
        purchases=tuple(_purchase(p) for p in sorted(purchases.values(), key=lambda p: -p.purchase_id)),
        repayments=tuple(
            v.RepaymentFact(repayment_id=x.repayment_id, amount=x.amount, business_date=x.business_date)
            for x in uow.repayments.recent(account_id, RECENT_REPAYMENTS)
        ),
        score=(
            v.ScoreFact(
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
            v.LimitChangeFact(
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
            v.BureauFact(
                month=bureau.month,
                days_past_due=bureau.days_past_due,
                amount_overdue=bureau.amount_overdue,
                bucket=bureau.bucket,
                account_status=bureau.account_status,
            )
            if bureau is not None
            else None
        ),
        recent_days=recent_days,
        timezone=uow.terms.timezone,
        password=_password(uow, line.user_id),
        maintenance=_maintenance(uow, line),
        now=uow.now(),
        appeals=tuple(
            v.AppealFact(
                x.appeal_id,
                x.restriction_id,
                x.cause,
                x.status,
                from_stored(x.created_at),
                from_stored(x.decided_at) if x.decided_at else None,
                x.outcome,
            )
            for x in reversed(uow.appeals.listing(account_id=line.account_id))
        ),
        funding_moves=tuple(
            v.FundingMoveFact(
                m.partner,
                m.account_id,
                m.to_account_id,
                m.status,
                from_stored(m.moved_at) if m.moved_at else None,
                sum(int(x) for k, x in (m.moved or {}).items() if k != "customer_credit"),
            )
            for m in uow.funding.involving(line.account_id)
        ),
        profile_changes=tuple(
            v.ProfileChangeFact(c.change_id, c.field, c.business_date)
            for c in uow.users.profile_changes(line.user_id, _evidence_ids(restrictions, "profile_changes"))
        ),
    )


def _maintenance(uow: UnitOfWork, line: Any) -> tuple[v.MaintenanceFact, ...]:
    """Windows not ended yet that cover this line (everyone, its funding partner, or a channel)."""
    out = []
    for w in uow.maintenance.listing(not_ended_at=to_stored(uow.now())):
        if w.scope == "funding" and w.target != line.funding_source:
            continue
        out.append(v.MaintenanceFact(w.window_id, from_stored(w.starts_at), from_stored(w.ends_at), w.scope, w.target))
    return tuple(out)


def _password(uow: UnitOfWork, user_id: str) -> v.PasswordFact | None:
    status = passwords.status_in(uow, user_id)
    if not status["has_password"]:
        return None
    until = status["locked_until"]
    return v.PasswordFact(
        failed_attempts=status["failed_attempts"],
        attempts_left=status["attempts_left"],
        locked_until=dt.datetime.fromisoformat(until) if until else None,
    )


def diagnose(system: Huabei, account_id: int) -> v.Diagnosis:
    """The diagnosis of a line from one consistent read (never writes)."""
    with system.uow(readonly=True) as uow:
        facts = read_facts(uow, account_id)
    return f.diagnose(facts)


def finding_view(x: v.Finding, locale: str) -> dict[str, Any]:
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


def check_view(c: v.Check, locale: str) -> dict[str, Any]:
    return {"code": c.code, "data": r.plain(dict(c.data)), "text": r.text(c.says, locale)}


def diagnosis_view(d: v.Diagnosis, locale: str) -> dict[str, Any]:
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


# --- limit advice (提额建议) -------------------------------------------------------------------

#: How far ahead the next review is looked for (a cadence or a cool-off longer than this: none).
REVIEW_SEARCH_DAYS = 400
#: Restrictions placed this long ago or later count for the advice's cash-out warning.
FLAGGED_WITHIN_DAYS = 365


def next_review(terms: ProductTerms, today: dt.date, opened_on: dt.date, last_change: dt.date | None) -> dt.date:
    """The first day after ``today`` the end-of-day limit review runs and may change this line:
    its scheduled day (``limits.reevaluation_cadence``) once the line is seasoned and its last
    base-limit change cooled off (``limits.policy.not_due_reason``)."""
    lt = terms.limits
    for k in range(1, REVIEW_SEARCH_DAYS + 1):
        day = today + dt.timedelta(days=k)
        if not limits.review_due(terms, day):
            continue
        since = (day - last_change).days if last_change is not None else -1
        if lp.not_due_reason((day - opened_on).days, since, lt) is None:
            return day
    return today + dt.timedelta(days=REVIEW_SEARCH_DAYS)


def read_advice_facts(uow: UnitOfWork, account_id: int) -> a.AdviceFacts:
    """Everything the advice reads, in the unit of work's snapshot (reads only: the user's facts
    are collected, never stored; the user is not rescored)."""
    line = uow.accounts.get(account_id)
    if line is None:
        raise errors.not_found("account_not_found", account_id=account_id)
    today, terms = uow.today(), uow.terms
    pop = collect.collect_facts(uow, user_ids=[line.user_id])
    facts = pop.facts_of(0)
    overdue_now = bool(pop.overdue_now[0])
    block = line.block_code or (BLOCK_OVERDUE if overdue_now else None)
    last = {r[0]: r[1] for r in uow.limit_changes.last_base_changes([account_id])}.get(account_id)
    stored = uow.scores.history(line.user_id, 1)
    d90 = today - dt.timedelta(days=89)
    apps = [x for x in uow.applications.for_account(account_id, 50) if x.applied_on >= d90]
    recent = uow.purchases.recent(account_id, today - dt.timedelta(days=terms.limits.max_temporary_limit_days), 200)
    flagged = [
        _restriction(x)
        for x in uow.restrictions.since(account_id, today - dt.timedelta(days=FLAGGED_WITHIN_DAYS))
        if x.cause in terms.limits.cut_on_restriction_causes
    ]
    wanted = sorted({p for x in flagged for p in ex.evidence_purchase_ids(x.evidence)})
    return a.AdviceFacts(
        account_id=account_id,
        user_id=line.user_id,
        today=today,
        base_limit=line.base_limit,
        used=line.used,
        total_limit=line.total_limit(today),
        block_code=block,
        facts=facts,
        stored_score=stored[0].score if stored else None,
        next_review=next_review(terms, today, line.opened_on, _as_date(last)),
        applications_90d=tuple(a.ApplicationFact(x.application_id, x.applied_on, x.decision) for x in apps),
        temporary_purchases=tuple(_purchase(p) for p in recent if p.on_temporary_limit > 0),
        flagged=tuple(flagged),
        purchases=tuple(_purchase(p) for p in uow.purchases.find(account_id, wanted)),
    )


def _as_date(v: Any) -> dt.date | None:
    if v is None or isinstance(v, dt.date):
        return v
    return dt.date.fromisoformat(str(v)[:10])


def advise(system: Huabei, account_id: int) -> a.Advice:
    """The limit advice of a line from one consistent read; never writes."""
    with system.uow(readonly=True) as uow:
        facts = read_advice_facts(uow, account_id)
        card = collect.card_in_force(uow)
    return a.advise(facts, card, system.terms)


def action_view(x: a.Action, advice: a.Advice, locale: str) -> dict[str, Any]:
    return {
        "code": x.code,
        "score_points": x.score_points,
        "score_after": x.after.score,
        "policy_limit_change": format_yuan(x.policy_limit_change),
        "review_limit_change": format_yuan(x.review_limit_change),
        "base_limit_after_review": format_yuan(x.after.review_limit),
        "data": r.plain(dict(x.data)),
        "message": r.text(x.says, locale),
        "effect": r.text(x.effect(advice.next_review), locale),
    }


def warning_view(w: a.Warning, locale: str) -> dict[str, Any]:
    return {
        "code": w.code,
        "data": r.plain(dict(w.data)),
        "message": r.text(w.says, locale),
        "evidence": [r.text(s, locale) for s in w.evidence],
        "remedy": r.text(w.remedy, locale),
    }


def factor_view(x: a.Factor, locale: str) -> dict[str, Any]:
    said = reasons.explain(x.code, locale)
    return {
        "code": x.code,
        "multiplier": f"{x.multiplier / 1000:.3f}" if x.multiplier is not None else None,
        "data": r.plain(dict(x.data)),
        "message": r.code_text(x.code, locale, {}),
        "evidence": r.text(x.evidence, locale),
        "remedy": said["remedy"],
    }


def advice_view(x: a.Advice, locale: str) -> dict[str, Any]:
    return {
        "account_id": x.account_id,
        "user_id": x.user_id,
        "as_of": x.as_of.isoformat(),
        "locale": locale,
        "score": x.baseline.score,
        "stored_score": x.stored_score,
        "base_limit": format_yuan(x.base_limit),
        "policy_limit": format_yuan(x.baseline.policy_limit),
        "next_review": x.next_review.isoformat(),
        "raise_blocked_by": list(x.raise_blocked_by),
        "summary": [r.text(s, locale) for s in x.summary],
        "actions": [action_view(y, x, locale) for y in x.actions],
        "warnings": [warning_view(w, locale) for w in x.warnings],
        "held_down_by": [factor_view(y, locale) for y in x.factors],
    }


def limit_advice(system: Huabei, account_id: int, locale: str = "en") -> dict[str, Any]:
    """``GET /v1/accounts/{id}/limit-advice`` and ``huabei advise``."""
    return advice_view(advise(system, account_id), locale)
