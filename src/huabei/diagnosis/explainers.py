"""One explainer per restriction cause (:data:`EXPLAINERS`): the cause in plain words, its evidence
with amounts and dates, what to do, and when it lifts. Pure."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from huabei.diagnosis.vocabulary import (
    AccountFacts,
    BillFact,
    Fen,
    Finding,
    Period,
    PurchaseFact,
    RestrictionFact,
    Sentence,
    Term,
    local_time,
    say,
    say_n,
)
from huabei.i18n import N_
from huabei.restrictions.causes import CAUSES, Capability

# --- explainers: one per restriction cause ------------------------------------------------

Explainer = Callable[[RestrictionFact, AccountFacts], Finding]


def _restriction_finding(
    r: RestrictionFact,
    says: Sentence,
    *,
    evidence: tuple[Sentence, ...] = (),
    action: Sentence | None,
    lifts: Sentence | None,
    data: Mapping[str, Any] | None = None,
) -> Finding:
    cause = CAUSES.get(r.cause)
    blocks = tuple(sorted(c.value for c in cause.blocks)) if cause else tuple(sorted(c.value for c in Capability))
    return Finding(
        code=r.cause,
        kind="restriction",
        blocks=blocks,
        data={
            "restriction_id": r.restriction_id,
            "placed_on": r.placed_on,
            "placed_by": r.placed_by,
            "lifts_on": r.lifts_on,
            "evidence": dict(r.evidence),
            **(data or {}),
        },
        says=says,
        evidence=evidence,
        action=action,
        lifts=lifts,
        lifts_on=r.lifts_on,
        restriction_id=r.restriction_id,
        appealable=bool(cause and cause.appealable),
    )


def _date(value: Any) -> dt.date | None:
    """A date from evidence (a date, or an ISO date / datetime string)."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value[:10])
        except ValueError:
            return None
    return None


def _int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.lstrip("-").isdigit():
        return int(value)
    return None


def _lifts_by_date(r: RestrictionFact, otherwise: Sentence | None) -> Sentence | None:
    if r.lifts_on is not None:
        return say(N_("It lifts by itself on {date}."), date=r.lifts_on)
    if r.projected_lift_on is not None:
        return say(N_("It should lift on {date}, if nothing else changes."), date=r.projected_lift_on)
    return otherwise


def overdue_bill_sentence(a: AccountFacts, b: BillFact) -> Sentence:
    return say(
        N_("The {period} bill was due on {due_date}: {amount} yuan unpaid, {days} days overdue."),
        period=Period(b.period),
        due_date=b.due_date,
        amount=Fen(b.outstanding),
        days=a.days_past_due(b),
    )


def explain_overdue_reported(r: RestrictionFact, a: AccountFacts) -> Finding:
    overdue = a.overdue_bills()
    evidence = tuple(overdue_bill_sentence(a, b) for b in overdue)
    total = sum(b.outstanding for b in overdue)
    if overdue:
        worst = overdue[0]
        says = say(
            N_(
                "Your {period} bill is {days} days overdue with {amount} yuan unpaid, and this was reported to the credit bureau."
            ),
            period=Period(worst.period),
            days=a.days_past_due(worst),
            amount=Fen(worst.outstanding),
        )
        action = (
            say(N_("Repay {amount} yuan of the {period} bill now."), amount=Fen(total), period=Period(worst.period))
            if len(overdue) == 1
            else say(N_("Repay everything overdue now: {amount} yuan in total."), amount=Fen(total))
        )
    else:
        says = say(N_("A repayment was overdue and was reported to the credit bureau; it has been repaid since."))
        action = say(N_("Keep every repayment on time from now on."))
    lifts = say(
        N_(
            "It lifts once nothing is overdue; after a serious delay, three to six months of on-time repayments rebuild your record."
        )
    )
    if not overdue and r.projected_lift_on is not None:
        lifts = say(
            N_("After a late repayment a cool-off follows: it should lift on {date}, if nothing else becomes overdue."),
            date=r.projected_lift_on,
        )
    data = {"overdue_amount": Fen(total), "bill_ids": [b.bill_id for b in overdue]}
    return _restriction_finding(r, says, evidence=evidence, action=action, lifts=lifts, data=data)


def evidence_ids(evidence: Mapping[str, Any], kind: str) -> list[int]:
    """The ids of ``kind`` (``purchases``, ``bills``, ``profile_changes``) a restriction's evidence
    names: the risk engine's ``ids: {kind: [...]}`` and the flat ``purchase_ids`` / ``bill_ids``."""
    flat = {"purchases": "purchase_ids", "bills": "bill_ids"}.get(kind)
    ids = evidence.get("ids")
    found = list(ids.get(kind) or []) if isinstance(ids, Mapping) else []
    if flat:
        found += list(evidence.get(flat) or [])
    out: list[int] = []
    for v in found:
        n = _int(v)
        if n is not None and n not in out:
            out.append(n)
    return out


def evidence_purchase_ids(evidence: Mapping[str, Any]) -> list[int]:
    return evidence_ids(evidence, "purchases")


def flagged_purchases(
    r: RestrictionFact, purchases: Sequence[PurchaseFact]
) -> list[tuple[int | None, int | None, str, dt.date | None]]:
    """(purchase id, amount, merchant, date) of the purchases the evidence names: a list of
    ``purchases`` (dicts) or of ``purchase_ids`` looked up among the recent purchases."""
    out: list[tuple[int | None, int | None, str, dt.date | None]] = []
    for p in r.evidence.get("purchases") or []:
        if isinstance(p, Mapping):
            out.append(
                (
                    _int(p.get("purchase_id")),
                    _int(p.get("amount")),
                    str(p.get("merchant_id") or p.get("merchant") or ""),
                    _date(p.get("business_date") or p.get("date")),
                )
            )
    known = {p.purchase_id: p for p in purchases}
    listed = {pid for pid, *_ in out}
    for pid in evidence_purchase_ids(r.evidence):
        if pid in listed:
            continue
        p = known.get(pid)
        out.append((pid, p.amount if p else None, p.merchant_id if p else "", p.business_date if p else None))
    return out


def purchase_sentences(flagged: list[tuple[int | None, int | None, str, dt.date | None]]) -> tuple[Sentence, ...]:
    out = []
    for pid, amount, merchant, day in flagged:
        if amount is not None and day is not None:
            out.append(
                say(
                    N_("Purchase {purchase_id}: {amount} yuan at {merchant} on {date}."),
                    purchase_id=pid if pid is not None else "-",
                    amount=Fen(amount),
                    merchant=merchant or "-",
                    date=day,
                )
            )
        elif pid is not None:
            out.append(say(N_("Purchase {purchase_id}."), purchase_id=pid))
    return tuple(out)


def _risk_period_lifts(r: RestrictionFact, flagged: list[tuple[Any, Any, Any, dt.date | None]]) -> Sentence:
    last = _date(r.evidence.get("last_flagged_on")) or max((d for *_, d in flagged if d), default=None)
    if r.lifts_on is not None and last is not None:
        return say(
            N_("It lifts by itself on {date}, {days} days after your last flagged transaction ({last})."),
            date=r.lifts_on,
            days=(r.lifts_on - last).days,
            last=last,
        )
    if r.lifts_on is not None:
        return say(N_("It lifts by itself on {date}."), date=r.lifts_on)
    return say(
        N_("It lifts when the risk-control period ends, about one to two months after the last flagged activity.")
    )


def explain_cash_out(r: RestrictionFact, a: AccountFacts) -> Finding:
    flagged = flagged_purchases(r, a.purchases)
    says = (
        say_n(
            len(flagged),
            N_("One purchase looked like cash-out (套现), which Huabei does not allow."),
            N_("{count} purchases looked like cash-out (套现), which Huabei does not allow."),
        )
        if flagged
        else say(N_("Transactions looked like cash-out (套现), which Huabei does not allow."))
    )
    action = say(
        N_("Stop transactions of this kind. If you did not cash out, appeal and attach the details of these purchases.")
    )
    data = {"purchase_ids": [pid for pid, *_ in flagged if pid is not None]}
    return _restriction_finding(
        r, says, evidence=purchase_sentences(flagged), action=action, lifts=_risk_period_lifts(r, flagged), data=data
    )


def explain_score_brushing(r: RestrictionFact, a: AccountFacts) -> Finding:
    flagged = flagged_purchases(r, a.purchases)
    says = say(N_("Activity on your account looked like score brushing (刷分)."))
    action = say(N_("Stop the activity. If this is a mistake, appeal and attach your transaction details."))
    return _restriction_finding(
        r, says, evidence=purchase_sentences(flagged), action=action, lifts=_risk_period_lifts(r, flagged)
    )


def explain_score_below(r: RestrictionFact, a: AccountFacts) -> Finding:
    threshold = _int(r.evidence.get("threshold")) or a.score_threshold
    score = _int(r.evidence.get("score"))
    if score is None and a.score is not None:
        score = a.score.score
    says = (
        say(
            N_("Your credit score is {score}, below the {threshold} that Huabei requires."),
            score=score,
            threshold=threshold,
        )
        if score is not None
        else say(N_("Your credit score fell below the {threshold} that Huabei requires."), threshold=threshold)
    )
    action = say(
        N_(
            "Raise your score: repay every bill on time, complete your profile and take part in credit tasks; the limit advice shows what counts most for you."
        )
    )
    lifts = say(N_("It lifts once your score is back at {threshold} or above."), threshold=threshold)
    data = {"score": score, "threshold": threshold}
    return _restriction_finding(r, says, action=action, lifts=lifts, data=data)


def explain_inactive(r: RestrictionFact, a: AccountFacts) -> Finding:
    last = _date(r.evidence.get("last_purchase_on")) or max((p.business_date for p in a.purchases), default=None)
    says = (
        say(
            N_("Huabei was rarely used (last purchase on {date}), so the limit was reclaimed."),
            date=last,
        )
        if last is not None
        else say(
            N_("Huabei was hardly ever used since it opened on {date}, so the limit was reclaimed."), date=a.opened_on
        )
    )
    action = say(N_("Use the app's payments and life services regularly."))
    lifts = _lifts_by_date(r, say(N_("It is looked at again as you use the app more.")))
    return _restriction_finding(r, says, action=action, lifts=lifts, data={"last_purchase_on": last})


#: What changed, for the takeover explainer (evidence ``changes``: ``[{"kind", "on"}]``).
CHANGE_KINDS: dict[str, str] = {
    "phone": N_("phone number"),
    "bank_card": N_("bank card"),
    "device": N_("login device"),
    "id_document": N_("identity document"),
}


def explain_takeover(r: RestrictionFact, a: AccountFacts) -> Finding:
    evidence: list[Sentence] = []
    changes = {c.change_id: c for c in a.profile_changes}
    for cid in evidence_ids(r.evidence, "profile_changes"):
        ch = changes.get(cid)
        if ch is not None:
            what = Term(CHANGE_KINDS[ch.field]) if ch.field in CHANGE_KINDS else ch.field
            evidence.append(say(N_("Your {what} changed on {date}."), what=what, date=ch.business_date))
    known = {p.purchase_id: p for p in a.purchases}
    devices: list[str] = []
    for pid in evidence_purchase_ids(r.evidence):
        p = known.get(pid)
        if p is not None and p.device_id:
            if p.device_id not in devices:
                devices.append(p.device_id)
            evidence.append(
                say(
                    N_("A payment of {amount} yuan from device {device} on {date}."),
                    amount=Fen(p.amount),
                    device=p.device_id,
                    date=p.business_date,
                )
            )
    for c in r.evidence.get("changes") or []:
        if not isinstance(c, Mapping):
            continue
        kind, on = str(c.get("kind", "")), _date(c.get("on") or c.get("date"))
        what = Term(CHANGE_KINDS[kind]) if kind in CHANGE_KINDS else kind
        if on is not None:
            evidence.append(say(N_("Your {what} changed on {date}."), what=what, date=on))
    says = (
        say(
            N_("Payments came from {count} different devices within a few days, so the account may have been stolen."),
            count=len(devices),
        )
        if len(devices) > 1
        else say_n(
            len(evidence),
            N_("Your phone number, bank card or device changed recently, so the account may have been stolen."),
            N_(
                "Your phone number, bank card or device changed {count} times recently, so the account may have been stolen."
            ),
        )
        if evidence
        else say(N_("Frequent changes of phone number, bank card or device suggest the account may have been stolen."))
    )
    action = say(N_("Verify your identity again in the app, and keep your phone, card and device stable."))
    lifts = (
        say(
            N_("It lifts once your identity is verified, or by itself on {date} if nothing changes until then."),
            date=r.lifts_on,
        )
        if r.lifts_on is not None
        else say(N_("It lifts once your identity is verified."))
    )
    return _restriction_finding(r, says, evidence=tuple(evidence), action=action, lifts=lifts)


def _ends(r: RestrictionFact, timezone: str) -> dt.datetime | dt.date | None:
    """When a window or a lock ends: an ISO date-time in the evidence (``ends_at``, ``unlocks_at``
    …) in the product's time zone, else the restriction's lifting date."""
    for key in ("ends_at", "unlocks_at", "until", "locked_until"):
        v = r.evidence.get(key)
        if isinstance(v, str):
            try:
                v = dt.datetime.fromisoformat(v)
            except ValueError:
                continue
        if isinstance(v, dt.datetime):
            return local_time(v, timezone)
    return r.lifts_on


def _at(when: dt.datetime | dt.date | None, at_time: str, on_day: str) -> Sentence | None:
    if isinstance(when, dt.datetime):
        return say(at_time, time=when)
    if isinstance(when, dt.date):
        return say(on_day, date=when)
    return None


def explain_maintenance(r: RestrictionFact, a: AccountFacts) -> Finding:
    ends = _ends(r, a.timezone)
    says = say(N_("Huabei is paused for system maintenance."))
    lifts = _at(ends, N_("It resumes by itself at {time}."), N_("It resumes by itself on {date}.")) or say(
        N_("It resumes by itself when the maintenance ends.")
    )
    action = say(N_("Nothing to do; viewing bills and repaying still work."))
    return _restriction_finding(r, says, action=action, lifts=lifts)


def explain_brand_isolation(r: RestrictionFact, a: AccountFacts) -> Finding:
    ends = _ends(r, a.timezone)
    says = say(N_("Huabei is paused while bank-funded credit moves to the partner-funded line (信用购)."))
    lifts = _at(ends, N_("It resumes by itself at {time}."), N_("It resumes by itself on {date}.")) or say(
        N_("It resumes by itself when the move is finished.")
    )
    action = say(N_("Nothing to do; viewing bills and repaying still work."))
    return _restriction_finding(r, says, action=action, lifts=lifts)


def explain_password_lock(r: RestrictionFact, a: AccountFacts) -> Finding:
    attempts = _int(r.evidence.get("attempts") or r.evidence.get("wrong_attempts"))
    says = (
        say_n(
            attempts,
            N_("The payment password was entered wrongly."),
            N_("The payment password was entered wrongly {count} times in a row."),
        )
        if attempts
        else say(N_("The payment password was entered wrongly too many times."))
    )
    ends = _ends(r, a.timezone)
    lifts = _at(ends, N_("It unlocks by itself at {time}."), N_("It unlocks by itself on {date}.")) or say(
        N_("It unlocks by itself after 24 hours.")
    )
    action = say(N_("Wait for it to unlock, or reset your payment password now to unlock at once."))
    return _restriction_finding(r, says, action=action, lifts=lifts, data={"attempts": attempts})


def explain_regulatory(r: RestrictionFact, a: AccountFacts) -> Finding:
    says = say(
        N_("Under stricter credit regulation, lines of weak credit quality are being closed, and this line is one.")
    )
    action = say(N_("Keep a good credit record and build savings in the app, then apply again later."))
    lifts = _lifts_by_date(r, say(N_("You can apply again later; it does not lift by itself.")))
    return _restriction_finding(r, says, action=action, lifts=lifts)


def explain_operator_hold(r: RestrictionFact, a: AccountFacts) -> Finding:
    says = (
        say(N_("An agent placed a hold on this line: {note}"), note=r.note)
        if r.note
        else say(N_("An agent placed a hold on this line."))
    )
    action = say(N_("Contact customer service; they can tell you what is needed."))
    lifts = _lifts_by_date(r, say(N_("An agent lifts it once the matter is settled.")))
    return _restriction_finding(r, says, action=action, lifts=lifts)


def explain_generic(r: RestrictionFact, a: AccountFacts) -> Finding:
    """A cause without an explainer of its own: say honestly that the line is restricted,
    since when, and when it lifts if a date is known."""
    says = say(N_("A restriction was placed on this line on {date}."), date=r.placed_on)
    action = say(N_("Contact customer service for the details and what you can do."))
    lifts = _lifts_by_date(r, None)
    return _restriction_finding(r, says, action=action, lifts=lifts)


#: The explainer of each restriction cause. Causes added by the risk engine or the freeze flows
#: get an explainer here as their evidence lands; until then :func:`explain_generic` speaks.
EXPLAINERS: dict[str, Explainer] = {
    "overdue_reported": explain_overdue_reported,
    "cash_out_suspected": explain_cash_out,
    "score_brushing_suspected": explain_score_brushing,
    "score_below_threshold": explain_score_below,
    "inactive_account": explain_inactive,
    "account_takeover_suspected": explain_takeover,
    "maintenance_window": explain_maintenance,
    "brand_isolation": explain_brand_isolation,
    "wrong_password_lockout": explain_password_lock,
    "regulatory_tightening": explain_regulatory,
    "operator_hold": explain_operator_hold,
}


def explainer_for(cause: str) -> Explainer:
    return EXPLAINERS.get(cause, explain_generic)
