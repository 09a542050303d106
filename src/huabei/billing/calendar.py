"""The billing calendar: 账单日 (statement date), 还款日 (due date), 逾期天数 (days past due).

Pure functions of dates and :class:`~huabei.config.BillingTerms`; nothing here reads the
clock — every "today" is a parameter.

Periods
-------
A bill is named by its *period*, the ``"YYYY-MM"`` of its statement date. With the default
terms (statement day 1, due day 10) bill ``2026-11`` closes on 2026-11-01, covers the
activity of 2026-10-01 … 2026-10-31 and falls due on 2026-11-10.

The cycle rule
--------------
A bill closing on its statement date covers activity up to **the day before** the statement
date; activity *on* or after the statement date lands on the next bill. So the cycle of
bill ``P`` is ``[statement_date(P - 1 month), statement_date(P) - 1 day]``.

Due date
--------
The due date of bill ``P`` is the first day numbered ``due_day`` strictly after the
statement date: in the statement month when ``due_day > statement_day`` (the default:
1 → 10), otherwise in the following month. ``statement_day`` and ``due_day`` are both
limited to 1…28, so every month has them and no month-end clamping is ever needed for
bills (installment schedules with an arbitrary first due date use :func:`monthly_dates`,
which does clamp).

Delinquency
-----------
:func:`days_past_due` is 0 up to and including the due date and 1 on the day after.
Buckets are ``current`` (0), ``dpd_1_30``, ``dpd_31_60``, ``dpd_61_90`` and
``dpd_90_plus`` (91 and more). A delinquency is reportable to the credit bureau (央行征信)
once the days past due exceed ``grace_days`` (宽限期, 3 by default: due on the 10th, still
tolerated on the 13th, reportable from the 14th). The grace days affect reporting only;
penalty interest still runs from the day after the due date (see :mod:`huabei.billing.rules`).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import NoReturn

from huabei.config import BillingTerms

__all__ = [
    "DPD_BUCKETS",
    "DPD_BUCKET_UPPER",
    "Delinquency",
    "add_months",
    "bill_cycle",
    "bill_period_for",
    "check_due_day",
    "days_in_month",
    "days_past_due",
    "delinquency",
    "dpd_bucket",
    "due_date",
    "is_reportable",
    "monthly_dates",
    "next_period",
    "parse_period",
    "period_of_due_date",
    "period_of_statement",
    "previous_period",
    "reportable_from",
    "statement_date",
]

_PERIOD_RE = re.compile(r"^(?P<y>[0-9]{4})-(?P<m>[0-9]{2})$")

#: Delinquency buckets, in increasing order of severity.
DPD_BUCKETS: tuple[str, ...] = ("current", "dpd_1_30", "dpd_31_60", "dpd_61_90", "dpd_90_plus")
#: The buckets' upper bounds in days past due, inclusive; beyond the last is ``dpd_90_plus``. The
#: Python form (:func:`dpd_bucket`) and the SQL form (``billing.repository.dpd_bucket_sql``) are
#: both read from this one table (tests/storage/test_delinquency_sql.py compares them).
DPD_BUCKET_UPPER: tuple[tuple[int, str], ...] = ((0, "current"), (30, "dpd_1_30"), (60, "dpd_31_60"), (90, "dpd_61_90"))

_MAX_BILL_DAY = 28


class BillingError(Exception):
    """A refused billing or installment operation.

    ``code`` is a stable snake_case identifier (the API maps it to a 4xx answer and the
    message catalogs translate it); ``params`` carries the values a message may quote;
    ``detail`` is an English explanation for logs.
    """

    def __init__(self, code: str, detail: str, **params: object):
        super().__init__(detail)
        self.code = code
        self.detail = detail
        self.params: dict[str, object] = dict(params)

    def __repr__(self) -> str:
        return f"BillingError({self.code!r}, {self.detail!r}, **{self.params!r})"


def _billing_error(code: str, detail: str, **params: object) -> NoReturn:
    raise BillingError(code, detail, **params)


def _require_date(value: object, name: str) -> dt.date:
    # datetime is a subclass of date; a timestamp is not a business date.
    if not isinstance(value, dt.date) or isinstance(value, dt.datetime):
        raise TypeError(f"{name} must be a datetime.date, not {type(value).__name__}")
    return value


# --------------------------------------------------------------------------- months


def days_in_month(year: int, month: int) -> int:
    """Number of days in a month (28, 29, 30 or 31), leap years included."""
    if not 1 <= month <= 12:
        raise ValueError(f"month must be 1..12, not {month}")
    if month == 12:
        return 31
    return (dt.date(year, month + 1, 1) - dt.timedelta(days=1)).day


def _shift_month(year: int, month: int, months: int) -> tuple[int, int]:
    index = year * 12 + (month - 1) + months
    return index // 12, index % 12 + 1


def add_months(day: dt.date, months: int, *, day_of_month: int | None = None) -> dt.date:
    """The date ``months`` months after ``day`` (negative goes back), on ``day_of_month``
    (default: ``day.day``) clamped to the last day of the target month.

    ``add_months(date(2026, 1, 31), 1) == date(2026, 2, 28)``; Feb 29 in leap years.
    """
    _require_date(day, "day")
    anchor = day.day if day_of_month is None else day_of_month
    if not 1 <= anchor <= 31:
        raise ValueError(f"day_of_month must be 1..31, not {anchor}")
    year, month = _shift_month(day.year, day.month, months)
    return dt.date(year, month, min(anchor, days_in_month(year, month)))


def monthly_dates(first: dt.date, count: int, *, day_of_month: int | None = None) -> tuple[dt.date, ...]:
    """``count`` dates a month apart starting at ``first``, each on ``day_of_month``
    (default ``first.day``) clamped to the month's end.

    The anchor is the day of month, not the previous date, so a schedule starting on
    Jan 31 goes Jan 31, Feb 28 (29), Mar 31, Apr 30 … and never drifts to the 28th.
    """
    _require_date(first, "first")
    if count < 0:
        raise ValueError("count must be >= 0")
    anchor = first.day if day_of_month is None else day_of_month
    dates = tuple(add_months(first, i, day_of_month=anchor) for i in range(count))
    if dates and dates[0] != first:
        raise ValueError(f"first date {first} is not on day {anchor} of its month")
    return dates


# --------------------------------------------------------------------------- periods


def parse_period(period: str) -> tuple[int, int]:
    """``"2026-11"`` → ``(2026, 11)``. A malformed period raises ``BillingError("invalid_period")``."""
    if isinstance(period, str):
        return _parse_period(period)
    _billing_error("invalid_period", 'a bill period looks like "2026-11"', period=period)


@lru_cache(maxsize=4096)
def _parse_period(period: str) -> tuple[int, int]:
    # memoised: the end-of-day job composes millions of bills of a handful of periods
    m = _PERIOD_RE.match(period)
    if m is None or not 1 <= int(m.group("m")) <= 12 or int(m.group("y")) < 1:
        _billing_error("invalid_period", 'a bill period looks like "2026-11"', period=period)
    return int(m.group("y")), int(m.group("m"))


def _format_period(year: int, month: int) -> str:
    if not 1 <= year <= 9999:
        raise ValueError(f"period year out of range: {year}")
    return f"{year:04d}-{month:02d}"


def next_period(period: str) -> str:
    """The period one month later: ``"2026-12"`` → ``"2027-01"``."""
    return _format_period(*_shift_month(*parse_period(period), 1))


def previous_period(period: str) -> str:
    """The period one month earlier: ``"2027-01"`` → ``"2026-12"``."""
    return _format_period(*_shift_month(*parse_period(period), -1))


def period_of_statement(statement_date: dt.date) -> str:
    """The period (``"YYYY-MM"``) of the bill that closes on ``statement_date`` (账单日)."""
    _require_date(statement_date, "statement_date")
    return _format_period(statement_date.year, statement_date.month)


def statement_date(period: str, terms: BillingTerms) -> dt.date:
    """账单日: the date bill ``period`` closes — ``terms.statement_day`` of the period's month."""
    year, month = parse_period(period)
    return dt.date(year, month, terms.statement_day)


def _check_day_range(due_day: int) -> None:
    if isinstance(due_day, bool) or not isinstance(due_day, int) or not 1 <= due_day <= _MAX_BILL_DAY:
        raise ValueError(f"due_day must be an int in 1..{_MAX_BILL_DAY}, not {due_day!r}")


def check_due_day(due_day: int, terms: BillingTerms) -> None:
    """Refuse a repayment day the product does not offer (``BillingError("due_day_not_offered")``).

    Call it where an account chooses or changes its due day; :func:`due_date` itself accepts
    any day 1…28 so that an account keeps its day if the offered choices change later.
    """
    if due_day not in terms.due_day_choices:
        _billing_error(
            "due_day_not_offered",
            "the repayment day must be one of the offered days",
            due_day=due_day,
            choices=list(terms.due_day_choices),
        )
    _check_day_range(due_day)


def due_date(period: str, due_day: int, terms: BillingTerms) -> dt.date:
    """还款日: the last day to repay bill ``period`` for an account whose due day is ``due_day``.

    The first ``due_day`` strictly after the statement date: bill 2026-11 closes 2026-11-01
    and is due 2026-11-10 (due day 10) or 2026-11-09 (due day 9).
    """
    _check_day_range(due_day)
    closes = statement_date(period, terms)
    if due_day > terms.statement_day:
        return closes.replace(day=due_day)
    return add_months(closes, 1, day_of_month=due_day)


def period_of_due_date(due: dt.date, terms: BillingTerms) -> str:
    """The inverse of :func:`due_date`: the period of the bill that falls due on ``due``.

    Installment periods land on the bill whose due date is the period's due date.
    """
    _require_date(due, "due")
    _check_day_range(due.day)
    if due.day > terms.statement_day:
        return _format_period(due.year, due.month)
    return _format_period(*_shift_month(due.year, due.month, -1))


def bill_cycle(period: str, terms: BillingTerms) -> tuple[dt.date, dt.date]:
    """First and last activity date (inclusive) covered by bill ``period``.

    Default terms: bill 2026-11 covers 2026-10-01 … 2026-10-31; bill 2028-03 covers
    2028-02-01 … 2028-02-29.
    """
    closes = statement_date(period, terms)
    opens = statement_date(previous_period(period), terms)
    return opens, closes - dt.timedelta(days=1)


def bill_period_for(activity_date: dt.date, terms: BillingTerms) -> str:
    """Which bill a purchase, refund or repayment dated ``activity_date`` lands on.

    Activity before the statement day of its month lands on that month's bill; activity on
    or after it lands on the next month's bill. Default terms (statement day 1): everything
    in October is on bill ``YYYY-11``; 2026-12-31 is on bill ``2027-01``; 2026-11-01 (a
    statement date) is already on bill ``2026-12``.
    """
    _require_date(activity_date, "activity_date")
    if activity_date.day < terms.statement_day:
        return _format_period(activity_date.year, activity_date.month)
    return _format_period(*_shift_month(activity_date.year, activity_date.month, 1))


# --------------------------------------------------------------------------- delinquency


def days_past_due(due_date: dt.date, on_date: dt.date) -> int:
    """逾期天数: 0 up to and including the due date, then 1, 2, … (calendar days)."""
    _require_date(due_date, "due_date")
    _require_date(on_date, "on_date")
    return max(0, (on_date - due_date).days)


def dpd_bucket(dpd: int) -> str:
    """The delinquency bucket of a days-past-due count (see :data:`DPD_BUCKETS`)."""
    if isinstance(dpd, bool) or not isinstance(dpd, int) or dpd < 0:
        raise ValueError(f"days past due must be a non-negative int, not {dpd!r}")
    return next((name for upper, name in DPD_BUCKET_UPPER if dpd <= upper), DPD_BUCKETS[-1])


def is_reportable(dpd: int, terms: BillingTerms) -> bool:
    """Whether a delinquency of ``dpd`` days is reported to the credit bureau (征信):
    once the grace days (宽限期) are exhausted, i.e. ``dpd > terms.grace_days``."""
    dpd_bucket(dpd)  # validates
    return dpd > terms.grace_days


def reportable_from(due_date: dt.date, terms: BillingTerms) -> dt.date:
    """The first date on which a bill still unpaid past ``due_date`` becomes reportable."""
    _require_date(due_date, "due_date")
    return due_date + dt.timedelta(days=terms.grace_days + 1)


@dataclass(frozen=True)
class Delinquency:
    """A bill's delinquency status on a date."""

    days_past_due: int
    bucket: str
    reportable: bool


def delinquency(due_date: dt.date, on_date: dt.date, terms: BillingTerms) -> Delinquency:
    """Days past due, bucket and bureau reportability of an unpaid overdue bill on ``on_date``.

    Only an *overdue* bill (less than the minimum repaid by the due date) is delinquent; a
    bill on which the minimum was repaid is revolving, not past due.
    """
    dpd = days_past_due(due_date, on_date)
    return Delinquency(days_past_due=dpd, bucket=dpd_bucket(dpd), reportable=is_reportable(dpd, terms))


@dataclass(frozen=True)
class BureauFigures:
    """The figures of a line's monthly credit-bureau record (征信) that depend on the rules."""

    amount_overdue: int
    days_past_due: int
    bucket: str
    worst_bucket: str
    account_status: str  # normal | overdue | frozen | closed


def bureau_figures(
    *,
    closed: bool,
    frozen: bool,
    overdue: int,
    dpd: int,
    bucket: str | None,
    month_worst: str | None,
    terms: BillingTerms,
) -> BureauFigures:
    """A line's bureau figures for a month: a delinquency is reported only past the grace days
    (:func:`is_reportable`; before that the line is ``current`` with nothing overdue), the worst
    bucket of the month falls back to the line's own, and the status is ``closed``, else
    ``overdue`` (a reported delinquency), else ``frozen``, else ``normal``. ``overdue`` is what
    its overdue bills still owe, ``bucket`` the line's delinquency bucket (None: never
    delinquent). SQL twin: ``huabei.billing.bureau_repository.BureauRepository.write_month``
    (the same book gives the same records: tests/storage/test_batch_bureau.py)."""
    reported = is_reportable(dpd, terms)
    own = (bucket or DPD_BUCKETS[0]) if reported else DPD_BUCKETS[0]
    status = "closed" if closed else "overdue" if own != DPD_BUCKETS[0] else "frozen" if frozen else "normal"
    return BureauFigures(overdue if reported else 0, dpd if reported else 0, own, month_worst or own, status)
