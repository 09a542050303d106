"""The vocabulary of a diagnosis: typed sentence parameters, the facts it reads about one line
(:class:`AccountFacts`, one consistent read) and what it says (:class:`Finding`, :class:`Check`,
:class:`Diagnosis`). Pure."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

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
class FundingMoveFact:
    """A brand-isolation move (品牌隔离) from or to this line: a partner's funded balances moved
    from the 花呗 line ``from_account_id`` to the 信用购 line ``to_account_id`` (None: it owed
    nothing, only its funder changed)."""

    partner: str
    from_account_id: int
    to_account_id: int | None
    status: str  # paused | moved
    moved_at: dt.datetime | None
    amount: int  # fen owed that moved (principal, fees, interest, penalty)


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
    funding_moves: tuple[FundingMoveFact, ...] = ()  # brand-isolation moves from or to the line

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


def local_time(value: dt.datetime, timezone: str) -> dt.datetime:
    """An aware time in the product's time zone (a naive one is taken as already local)."""
    return value.astimezone(ZoneInfo(timezone)) if value.tzinfo is not None else value
