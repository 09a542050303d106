"""The checks the help article asks users to do by hand (overdue bills, recent purchases and
repayments, the score, the bureau, maintenance, the payment password, appeals), done for them. Pure."""

from __future__ import annotations

import datetime as dt
from typing import Any

from huabei.diagnosis.vocabulary import AccountFacts, Check, Code, Fen, Param, Period, local_time, say, say_n
from huabei.i18n import N_

# --- checks -------------------------------------------------------------------------------


def _limit_check(a: AccountFacts) -> Check:
    data: dict[str, Param | None] = {
        "base_limit": Fen(a.base_limit),
        "temporary_limit": Fen(a.temporary_limit),
        "temporary_limit_expires_on": a.temporary_limit_expires_on if a.temporary_limit else None,
        "used": Fen(a.used),
        "available": Fen(a.available),
    }
    if a.temporary_limit and a.temporary_limit_expires_on is not None:
        s = say(
            N_(
                "Limit: {base} yuan, plus a temporary {temporary} yuan valid through {last_day}; {used} yuan used, {available} yuan available."
            ),
            base=Fen(a.base_limit),
            temporary=Fen(a.temporary_limit),
            last_day=a.temporary_limit_expires_on - dt.timedelta(days=1),
            used=Fen(a.used),
            available=Fen(a.available),
        )
    else:
        s = say(
            N_("Limit: {base} yuan; {used} yuan used, {available} yuan available."),
            base=Fen(a.base_limit),
            used=Fen(a.used),
            available=Fen(a.available),
        )
    return Check("limit", data, s)


def _last_change_check(a: AccountFacts) -> Check | None:
    c = a.last_limit_change
    if c is None:
        return None
    why = Code(c.reasons[0]) if c.reasons else Code("operator_set")
    data: dict[str, Param | None] = {
        "change_id": c.change_id,
        "limit_kind": c.limit_kind,
        "old_value": Fen(c.old_value),
        "new_value": Fen(c.new_value),
        "business_date": c.business_date,
        "reason": why,
    }
    if c.limit_kind != "temporary" and c.old_value == 0:
        s = say(N_("Limit set on {date}: {new} yuan. {why}"), date=c.business_date, new=Fen(c.new_value), why=why)
    elif c.limit_kind == "temporary":
        s = say(
            N_("Last limit change, on {date}: a temporary limit of {new} yuan. {why}"),
            date=c.business_date,
            new=Fen(c.new_value),
            why=why,
            expires_on=c.expires_on or c.business_date,
        )
    else:
        s = say(
            N_("Last limit change, on {date}: from {old} to {new} yuan. {why}"),
            date=c.business_date,
            old=Fen(c.old_value),
            new=Fen(c.new_value),
            why=why,
        )
    return Check("last_limit_change", data, s)


def _overdue_check(a: AccountFacts) -> Check:
    overdue = a.overdue_bills()
    total = sum(b.outstanding for b in overdue)
    if not overdue:
        return Check("overdue_bills", {"count": 0, "amount": Fen(0)}, say(N_("No bill is overdue.")))
    return Check(
        "overdue_bills",
        {"count": len(overdue), "amount": Fen(total)},
        say_n(
            len(overdue),
            N_("One bill is overdue: {amount} yuan."),
            N_("{count} bills are overdue: {amount} yuan in total."),
            amount=Fen(total),
        ),
    )


def _purchases_check(a: AccountFacts) -> Check:
    since = a.today - dt.timedelta(days=a.recent_days)
    recent = [p for p in a.purchases if p.business_date > since]
    total = sum(p.amount - p.refunded for p in recent)
    if not recent:
        return Check(
            "recent_purchases",
            {"days": a.recent_days, "count": 0, "amount": Fen(0)},
            say(N_("No purchases with Huabei in the last {days} days."), days=a.recent_days),
        )
    latest = recent[0]
    return Check(
        "recent_purchases",
        {"days": a.recent_days, "count": len(recent), "amount": Fen(total), "latest_on": latest.business_date},
        say_n(
            len(recent),
            N_("Last {days} days: one purchase, {amount} yuan after refunds, on {date}."),
            N_("Last {days} days: {count} purchases, {amount} yuan after refunds; the latest on {date}."),
            days=a.recent_days,
            amount=Fen(total),
            date=latest.business_date,
        ),
    )


def _repayments_check(a: AccountFacts) -> Check:
    if not a.repayments:
        return Check("recent_repayments", {"count": 0}, say(N_("No repayments yet.")))
    r = a.repayments[0]
    return Check(
        "recent_repayments",
        {"latest_amount": Fen(r.amount), "latest_on": r.business_date, "repayment_id": r.repayment_id},
        say(N_("Latest repayment: {amount} yuan on {date}."), amount=Fen(r.amount), date=r.business_date),
    )


def _score_check(a: AccountFacts) -> Check:
    s = a.score
    if s is None:
        return Check("score", {"score": None}, say(N_("You have no credit score yet.")))
    data: dict[str, Param | None] = {
        "score": s.score,
        "band": s.band,
        "previous_score": s.previous_score,
        "as_of": s.as_of,
        "threshold": a.score_threshold,
    }
    if s.previous_score is None or s.previous_score == s.score:
        text = say(N_("Credit score: {score} (as of {date})."), score=s.score, date=s.as_of)
    elif s.score > s.previous_score:
        text = say(
            N_("Credit score: {score} (as of {date}), up {points} points from {previous}."),
            score=s.score,
            date=s.as_of,
            points=s.score - s.previous_score,
            previous=s.previous_score,
        )
    else:
        text = say(
            N_("Credit score: {score} (as of {date}), down {points} points from {previous}."),
            score=s.score,
            date=s.as_of,
            points=s.previous_score - s.score,
            previous=s.previous_score,
        )
    return Check("score", data, text)


def _bureau_check(a: AccountFacts) -> Check:
    b = a.bureau
    if b is None:
        return Check("bureau", {"month": None}, say(N_("Nothing has been reported to the credit bureau yet.")))
    data: dict[str, Param | None] = {
        "month": Period(b.month),
        "days_past_due": b.days_past_due,
        "amount_overdue": Fen(b.amount_overdue),
        "bucket": b.bucket,
        "account_status": b.account_status,
    }
    if b.days_past_due == 0 and b.amount_overdue == 0:
        return Check("bureau", data, say(N_("Credit bureau, {month} report: nothing overdue."), month=Period(b.month)))
    return Check(
        "bureau",
        data,
        say(
            N_("Credit bureau, {month} report: {amount} yuan overdue, {days} days past due."),
            month=Period(b.month),
            amount=Fen(b.amount_overdue),
            days=b.days_past_due,
        ),
    )


def _maintenance_check(a: AccountFacts) -> Check | None:
    upcoming = [w for w in a.maintenance if a.now is not None and w.starts_at > a.now]
    if not upcoming:
        return None
    w = upcoming[0]
    start, end = local_time(w.starts_at, a.timezone), local_time(w.ends_at, a.timezone)
    return Check(
        "maintenance",
        {"window_id": w.window_id, "starts_at": start, "ends_at": end, "scope": w.scope, "target": w.target},
        say(N_("Maintenance is planned from {start} to {end}; Huabei pauses then."), start=start, end=end),
    )


def _password_check(a: AccountFacts) -> Check | None:
    pw = a.password
    if pw is None:
        return None
    if pw.locked_until is not None:
        until = local_time(pw.locked_until, a.timezone)
        return Check(
            "payment_password",
            {"locked_until": until, "failed_attempts": pw.failed_attempts},
            say(N_("Payment password: locked until {time}."), time=until),
        )
    if pw.failed_attempts:
        return Check(
            "payment_password",
            {"failed_attempts": pw.failed_attempts, "attempts_left": pw.attempts_left},
            say(
                N_("Payment password: {count} wrong in a row; {left} more wrong ones lock payments for a while."),
                count=pw.failed_attempts,
                left=pw.attempts_left or 0,
            ),
        )
    return Check("payment_password", {"failed_attempts": 0}, say(N_("Payment password: no wrong attempts.")))


def _appeals_check(a: AccountFacts) -> Check | None:
    """The open appeal, else the latest decided one (a line without appeals has no such check)."""
    if not a.appeals:
        return None
    ap = next((x for x in a.appeals if x.status == "open"), a.appeals[0])
    data: dict[str, Any] = {
        "appeal_id": ap.appeal_id,
        "restriction_id": ap.restriction_id,
        "cause": ap.cause,
        "status": ap.status,
        "outcome": ap.outcome,
        "open": sum(1 for x in a.appeals if x.status == "open"),
    }
    filed = local_time(ap.filed_at, a.timezone).date()
    if ap.status == "open":
        return Check(
            "appeals",
            data,
            say(
                N_("Your appeal no. {appeal} (filed {date}) is waiting for an agent's decision."),
                appeal=ap.appeal_id,
                date=filed,
            ),
        )
    decided = local_time(ap.decided_at, a.timezone).date() if ap.decided_at else filed
    if ap.status == "lifted":
        return Check(
            "appeals",
            data,
            say(
                N_("Your appeal no. {appeal} was accepted on {date} and the freeze was lifted."),
                appeal=ap.appeal_id,
                date=decided,
            ),
        )
    return Check(
        "appeals",
        data,
        say(
            N_("Your appeal no. {appeal} was reviewed on {date}; the freeze stays."), appeal=ap.appeal_id, date=decided
        ),
    )


def _funding_check(a: AccountFacts) -> Check | None:
    """Brand isolation (品牌隔离): where a partner's balances went, or came from (a line never
    moved has no such check; a line still waiting is explained by its ``brand_isolation`` pause)."""
    m = next((x for x in a.funding_moves if x.status == "moved"), None)
    if m is None or m.moved_at is None:
        return None
    day = local_time(m.moved_at, a.timezone).date()
    data: dict[str, Any] = {
        "partner": m.partner,
        "from_account_id": m.from_account_id,
        "to_account_id": m.to_account_id,
        "moved_on": day.isoformat(),
        "amount": m.amount,
    }
    if m.to_account_id == a.account_id:
        says = say(
            N_(
                "This 信用购 line holds what a partner institution funded on your Huabei line no. {line}, "
                "moved on {date}: its bills, installments and repayments carry on here."
            ),
            line=m.from_account_id,
            date=day,
        )
    elif m.to_account_id is not None:
        says = say(
            N_(
                "On {date} the {amount} yuan your Huabei owed to a partner institution moved to your 信用购 "
                "line no. {line}; repay it there. Huabei itself is now funded by the platform."
            ),
            amount=Fen(m.amount),
            line=m.to_account_id,
            date=day,
        )
    else:
        says = say(
            N_(
                "On {date} Huabei passed from a partner institution's funding to the platform's; nothing you owed moved."
            ),
            date=day,
        )
    return Check("funding", data, says)


def checks_of(a: AccountFacts) -> tuple[Check, ...]:
    out = [_limit_check(a), _last_change_check(a), _overdue_check(a)]
    out += [_purchases_check(a), _repayments_check(a), _score_check(a), _bureau_check(a), _password_check(a)]
    out += [_maintenance_check(a), _appeals_check(a), _funding_check(a)]
    return tuple(c for c in out if c is not None)
