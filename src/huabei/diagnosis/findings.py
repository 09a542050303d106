"""诊断: why a credit line cannot be used, as findings computed from the account's own data (pure).

:func:`diagnose` turns one consistent read of a line (:class:`AccountFacts`, built by
``huabei.diagnosis.service`` in one read-only unit of work) into a :class:`Diagnosis`:

* the line's **state** (:class:`State`): usable, usable with limits, frozen, closed;
* the **findings**, most severe first: each is a reason code with its structured data
  (amounts in fen, dates, ids), sentences saying what was seen (the evidence), what to do
  and when or on what it lifts. A finding per active restriction comes from the explainer
  registered for its cause in :data:`EXPLAINERS` (one function per cause; a cause without
  one gets :func:`explain_generic`, an honest "contact us" with the lifting date if known);
  then the findings of the line itself (a bill overdue, the limit used up, spending left on
  an expired temporary limit);
* the **checks** the second seed asks users to do by hand, done for them: the limit, its
  last change, overdue bills, recent purchases and repayments, the score and its change,
  the credit-bureau report.

Every sentence is a :class:`Sentence`: an English gettext msgid (marked with ``N_``) and its
parameters, typed so the renderer (``huabei.diagnosis.render``) formats them per locale:
:class:`Fen` (money), :class:`Period` (a bill month), ``datetime.date``, ``int``, and
:class:`Code` (a reason code, rendered as its message). Nothing here reads a clock or a
database: the same facts give the same diagnosis.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from huabei.i18n import N_
from huabei.lines.rules import BLOCK_OVERDUE, is_frozen
from huabei.restrictions.causes import CAUSES, SEVERITY, Capability, LiftRule

# --- typed parameters ------------------------------------------------------------------


class Fen(int):
    """An amount of money in fen (rendered as yuan with two decimals)."""


class Period(str):
    """A bill period ``YYYY-MM`` (rendered as the month: "February 2026", "2026年2月")."""

    __slots__ = ()


class Code(str):
    """A reason code (rendered as its message in the reader's language)."""

    __slots__ = ()


class Term(str):
    """An English msgid (rendered translated: "bank card", "银行卡")."""

    __slots__ = ()


class TermList(tuple[Term, ...]):
    """Terms listed in the reader's language ("a, b and c", "a、b和c")."""


Param = Fen | Period | Code | Term | TermList | dt.date | dt.datetime | int | str


@dataclass(frozen=True)
class Sentence:
    """One sentence: an English msgid and its typed parameters."""

    msgid: str
    params: Mapping[str, Param] = field(default_factory=dict)


def say(msgid: str, **params: Param) -> Sentence:
    return Sentence(msgid, params)


def say_n(count: int, one: str, other: str, **params: Param) -> Sentence:
    """A sentence about ``count`` things: ``one`` when it is 1, else ``other`` (English needs
    both; the Chinese catalog translates them alike)."""
    return Sentence(one if count == 1 else other, {"count": count, **params})


# --- what a diagnosis reads -------------------------------------------------------------


@dataclass(frozen=True)
class RestrictionFact:
    restriction_id: int
    cause: str
    evidence: Mapping[str, Any]
    note: str | None
    placed_on: dt.date
    placed_by: str
    lifts_on: dt.date | None
    #: When the risk rule that placed it would lift it if nothing else changes (its lift condition
    #: run forward on the line's features; None when it has a date of its own or never lifts so).
    projected_lift_on: dt.date | None = None


@dataclass(frozen=True)
class BillFact:
    bill_id: int
    period: str
    statement_date: dt.date
    due_date: dt.date
    status: str  # open | paid | overdue
    total_due: int
    minimum_due: int
    paid: int
    outstanding: int  # unpaid principal, fee, interest and penalty
    overdue_since: dt.date | None


@dataclass(frozen=True)
class PurchaseFact:
    purchase_id: int
    amount: int
    refunded: int
    merchant_id: str
    merchant_category: str
    business_date: dt.date
    on_temporary_limit: int
    device_id: str | None = None


@dataclass(frozen=True)
class ProfileChangeFact:
    change_id: int
    field: str  # phone | bank_card | device | id_document …
    business_date: dt.date


@dataclass(frozen=True)
class MaintenanceFact:
    """A maintenance window (系统维护) not ended yet that covers this line: for everyone, for the
    line's funding partner, or for one channel (``target``: online / offline)."""

    window_id: int
    starts_at: dt.datetime
    ends_at: dt.datetime
    scope: str  # everyone | channel | funding
    target: str | None


@dataclass(frozen=True)
class AppealFact:
    """An appeal (申诉) the user filed against one of this line's restrictions."""

    appeal_id: int
    restriction_id: int
    cause: str
    status: str  # open | lifted | upheld
    filed_at: dt.datetime
    decided_at: dt.datetime | None = None
    outcome: str | None = None


@dataclass(frozen=True)
class RepaymentFact:
    repayment_id: int
    amount: int
    business_date: dt.date


@dataclass(frozen=True)
class ScoreFact:
    score: int
    band: str
    previous_score: int | None
    as_of: dt.date
    reasons: tuple[str, ...]


@dataclass(frozen=True)
class LimitChangeFact:
    change_id: int
    limit_kind: str  # base | temporary
    old_value: int
    new_value: int
    reasons: tuple[str, ...]
    expires_on: dt.date | None
    business_date: dt.date


@dataclass(frozen=True)
class BureauFact:
    month: str
    days_past_due: int
    amount_overdue: int
    bucket: str
    account_status: str


@dataclass(frozen=True)
class PasswordFact:
    """The owner's payment password (支付密码): wrong attempts counted and the lock's end."""

    failed_attempts: int
    attempts_left: int | None
    locked_until: dt.datetime | None


@dataclass(frozen=True)
class AccountFacts:
    """Everything a diagnosis reads about one line, as of ``today`` (one snapshot)."""

    account_id: int
    user_id: str
    today: dt.date
    closed: bool
    base_limit: int
    temporary_limit: int  # in force today (0 once expired)
    temporary_limit_expires_on: dt.date | None  # of the grant in force
    temporary_limit_expired_on: dt.date | None  # the day the last grant ended, if it has
    used: int
    available: int
    block_code: str | None
    opened_on: dt.date
    score_threshold: int
    restrictions: tuple[RestrictionFact, ...] = ()
    bills: tuple[BillFact, ...] = ()  # newest first
    purchases: tuple[PurchaseFact, ...] = ()  # recent, newest first
    repayments: tuple[RepaymentFact, ...] = ()  # recent, newest first
    score: ScoreFact | None = None
    last_limit_change: LimitChangeFact | None = None
    bureau: BureauFact | None = None
    recent_days: int = 30  # the window of "recent" purchases
    timezone: str = "Asia/Shanghai"  # times are shown in the product's time zone
    password: PasswordFact | None = None  # the owner's payment password, if one is set
    profile_changes: tuple[ProfileChangeFact, ...] = ()  # the changes restrictions' evidence names
    maintenance: tuple[MaintenanceFact, ...] = ()  # windows covering this line, not ended yet
    now: dt.datetime | None = None  # the real time of the read (for maintenance windows)
    appeals: tuple[AppealFact, ...] = ()  # the line's appeals, newest first

    @property
    def total_limit(self) -> int:
        return self.base_limit + self.temporary_limit

    def overdue_bills(self) -> list[BillFact]:
        """Overdue bills, oldest first."""
        return sorted((b for b in self.bills if b.status == "overdue"), key=lambda b: (b.due_date, b.bill_id))

    def days_past_due(self, bill: BillFact) -> int:
        return max(0, (self.today - bill.due_date).days)


# --- what a diagnosis says --------------------------------------------------------------


class State(StrEnum):
    USABLE = "usable"
    USABLE_WITH_LIMITS = "usable_with_limits"
    FROZEN = "frozen"
    CLOSED = "closed"


@dataclass(frozen=True)
class Finding:
    """One reason the line is held back: its code, the structured data behind it, and the
    sentences saying what was seen, what to do and when or on what it lifts."""

    code: str
    kind: str  # restriction | bill | limit | account
    blocks: tuple[str, ...]  # what it blocks (purchase, installment, limit_raise)
    data: Mapping[str, Any]
    says: Sentence
    evidence: tuple[Sentence, ...] = ()
    action: Sentence | None = None
    lifts: Sentence | None = None
    lifts_on: dt.date | None = None
    restriction_id: int | None = None
    appealable: bool = False


@dataclass(frozen=True)
class Check:
    """One of the checks the help article asks users to do by hand, done for them."""

    code: str
    data: Mapping[str, Param | None]
    says: Sentence


@dataclass(frozen=True)
class Diagnosis:
    account_id: int
    user_id: str
    as_of: dt.date
    state: State
    summary: Sentence
    findings: tuple[Finding, ...]
    checks: tuple[Check, ...]


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


def explain_overdue_reported(r: RestrictionFact, a: AccountFacts) -> Finding:
    overdue = a.overdue_bills()
    evidence = tuple(_overdue_bill_sentence(a, b) for b in overdue)
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


def local_time(value: dt.datetime, timezone: str) -> dt.datetime:
    """An aware time in the product's time zone (a naive one is taken as already local)."""
    return value.astimezone(ZoneInfo(timezone)) if value.tzinfo is not None else value


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


# --- findings of the line itself ---------------------------------------------------------


def _overdue_bill_sentence(a: AccountFacts, b: BillFact) -> Sentence:
    return say(
        N_("The {period} bill was due on {due_date}: {amount} yuan unpaid, {days} days overdue."),
        period=Period(b.period),
        due_date=b.due_date,
        amount=Fen(b.outstanding),
        days=a.days_past_due(b),
    )


def _bill_findings(a: AccountFacts, covered: set[str]) -> list[Finding]:
    if "overdue_reported" in covered:
        return []  # the restriction's finding already lists every overdue bill
    out = []
    for b in a.overdue_bills():
        out.append(
            Finding(
                code="bill_overdue",
                kind="bill",
                blocks=(Capability.PURCHASE.value, Capability.LIMIT_RAISE.value),
                data={
                    "bill_id": b.bill_id,
                    "period": Period(b.period),
                    "due_date": b.due_date,
                    "outstanding": Fen(b.outstanding),
                    "days_past_due": a.days_past_due(b),
                },
                says=_overdue_bill_sentence(a, b),
                action=say(
                    N_("Repay {amount} yuan of the {period} bill; penalty interest runs every day until you do."),
                    amount=Fen(b.outstanding),
                    period=Period(b.period),
                ),
                lifts=say(N_("Purchases work again as soon as nothing is overdue.")),
            )
        )
    return out


def _limit_findings(a: AccountFacts) -> list[Finding]:
    out = []
    expired = a.temporary_limit_expired_on
    if expired is not None and a.used > a.base_limit and a.temporary_limit == 0:
        over = a.used - a.base_limit
        out.append(
            Finding(
                code="temporary_limit_overspent",
                kind="limit",
                blocks=(Capability.PURCHASE.value, Capability.LIMIT_RAISE.value),
                data={
                    "over_base_limit": Fen(over),
                    "base_limit": Fen(a.base_limit),
                    "used": Fen(a.used),
                    "temporary_limit_expired_on": expired,
                },
                says=say(
                    N_(
                        "Your temporary limit ended on {date}, but you still owe {amount} yuan more than your base limit of {base} yuan."
                    ),
                    date=expired,
                    amount=Fen(over),
                    base=Fen(a.base_limit),
                ),
                action=say(
                    N_("Repay at least {amount} yuan; until then there is no limit to spend and no raise."),
                    amount=Fen(over),
                ),
                lifts=say(N_("Spending works again once what you owe is back under your base limit.")),
            )
        )
    elif a.available == 0 and a.used > 0:
        out.append(
            Finding(
                code="limit_used_up",
                kind="limit",
                blocks=(Capability.PURCHASE.value,),
                data={"total_limit": Fen(a.total_limit), "used": Fen(a.used)},
                says=say(N_("Your whole limit of {total} yuan is in use."), total=Fen(a.total_limit)),
                action=say(N_("Repay any amount: every yuan repaid can be spent again.")),
                lifts=say(N_("You can spend again as soon as you repay.")),
            )
        )
    return out


#: Payment channels, in words (a maintenance window of one channel).
CHANNEL_NAMES: dict[str, str] = {"online": N_("online payments"), "offline": N_("in-store payments")}


def _maintenance_findings(a: AccountFacts) -> list[Finding]:
    out = []
    for w in a.maintenance:
        if a.now is None or w.starts_at > a.now:
            continue  # upcoming: a check, not a finding
        ends = local_time(w.ends_at, a.timezone)
        data = {"window_id": w.window_id, "starts_at": local_time(w.starts_at, a.timezone), "ends_at": ends}
        data |= {"scope": w.scope, "target": w.target}
        if w.scope == "channel" and w.target in CHANNEL_NAMES:
            says = say(
                N_("{channel} with Huabei are paused for system maintenance; other payments work."),
                channel=Term(CHANNEL_NAMES[w.target]),
            )
            blocks: tuple[str, ...] = ()
        else:
            says = say(N_("Huabei is paused for system maintenance."))
            blocks = (Capability.INSTALLMENT.value, Capability.PURCHASE.value)
        out.append(
            Finding(
                code="maintenance_window",
                kind="maintenance",
                blocks=blocks,
                data=data,
                says=says,
                action=say(N_("Nothing to do; viewing bills and repaying still work.")),
                lifts=say(N_("It resumes by itself at {time}."), time=ends),
            )
        )
    return out


def _closed_finding(a: AccountFacts) -> Finding:
    return Finding(
        code="account_closed",
        kind="account",
        blocks=tuple(sorted(c.value for c in Capability)),
        data={},
        says=say(N_("This Huabei line is closed.")),
        action=say(N_("Repay anything still owed; you can apply to open Huabei again later.")),
    )


def _severity(cause: str) -> int:
    return SEVERITY.index(cause) if cause in SEVERITY else len(SEVERITY)


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


def checks_of(a: AccountFacts) -> tuple[Check, ...]:
    out = [_limit_check(a), _last_change_check(a), _overdue_check(a)]
    out += [_purchases_check(a), _repayments_check(a), _score_check(a), _bureau_check(a), _password_check(a)]
    out += [_maintenance_check(a), _appeals_check(a)]
    return tuple(c for c in out if c is not None)


# --- the diagnosis ------------------------------------------------------------------------


def state_of(a: AccountFacts, findings: list[Finding]) -> State:
    if a.closed:
        return State.CLOSED
    if is_frozen(a.block_code) or a.block_code == BLOCK_OVERDUE:
        return State.FROZEN
    if any(Capability.PURCHASE.value in f.blocks for f in findings if f.kind in ("restriction", "maintenance")):
        return State.FROZEN
    return State.USABLE_WITH_LIMITS if findings else State.USABLE


def _summary(a: AccountFacts, state: State, findings: list[Finding]) -> Sentence:
    if state is State.CLOSED:
        return say(N_("This Huabei line is closed."))
    if state is State.FROZEN:
        blocking = [x for x in findings if Capability.PURCHASE.value in x.blocks]
        if blocking and all(x.lifts_on is not None for x in blocking):
            until = max(x.lifts_on for x in blocking if x.lifts_on is not None)
            return say(N_("Huabei is frozen: you cannot pay with it until {date}. Here is why."), date=until)
        return say(N_("Huabei is frozen: you cannot pay with it now. Here is why and what to do."))
    if state is State.USABLE_WITH_LIMITS:
        return say(
            N_("You can use Huabei, with limits: {available} yuan of your {total} yuan limit is available."),
            available=Fen(a.available),
            total=Fen(a.total_limit),
        )
    return say(
        N_("Nothing blocks you: Huabei works normally, and {available} yuan of your {total} yuan limit is available."),
        available=Fen(a.available),
        total=Fen(a.total_limit),
    )


def diagnose(a: AccountFacts) -> Diagnosis:
    """The diagnosis of one line (see the module docstring)."""
    active = sorted(a.restrictions, key=lambda r: (_severity(r.cause), r.placed_on, r.restriction_id))
    findings: list[Finding] = [_closed_finding(a)] if a.closed else []
    findings += [explainer_for(r.cause)(r, a) for r in active]
    findings += _bill_findings(a, {r.cause for r in active})
    findings += _maintenance_findings(a)
    findings += _limit_findings(a)
    state = state_of(a, findings)
    return Diagnosis(
        account_id=a.account_id,
        user_id=a.user_id,
        as_of=a.today,
        state=state,
        summary=_summary(a, state, findings),
        findings=tuple(findings),
        checks=checks_of(a),
    )


#: The lifting rule of a cause, for the structured data (``None`` for an unknown cause).
def lift_rule(cause: str) -> LiftRule | None:
    c = CAUSES.get(cause)
    return c.lift_rule if c else None
