"""分期: installment plans — the quote, the conversion windows, early repayment (提前还款).

Pure rules over integer fen and ``Decimal`` rates; dates are parameters.

The quote
---------
For ``principal`` over ``term`` periods at the configured total fee rate ``r``
(:attr:`~huabei.config.InstallmentTerms.fee_rates`: 3 → 2.5 %, 6 → 4.5 %, 9 → 6.5 %,
12 → 8.8 %)::

    total_fee        = round_fen(principal × r)           (0 under a 免息 fee waiver)
    principal_k      = principal // term                  (k < term)
    principal_last   = principal // term + principal % term
    fee_k            = total_fee // term                  (k < term)
    fee_last         = total_fee // term + total_fee % term

so the periods add up to the principal and to the total fee to the fen, with the division
remainders on the last period. Period ``k`` falls due ``k - 1`` months after the first due
date, on the account's due day (clamped to the month's end).

Two kinds of plan
-----------------
* 账单分期 bill installments: a closed bill converted between its statement date and its
  due date, both included (:func:`can_convert_bill`); the first period falls due on the
  next bill (:func:`first_due_date_for_bill`).
* 交易分期 purchase installments: one purchase not on any bill yet, or on the current bill
  while that bill is unpaid and not past its due date (:func:`can_convert_purchase`).

Spending on a temporary limit (临时额度) cannot be converted: the caller passes the
convertible amount — :func:`convertible_amount` — to :func:`check_convertible_amount`.

Installment principal not yet billed keeps occupying the limit
(:meth:`InstallmentSchedule.unbilled_principal`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from huabei.billing import calendar as cal
from huabei.billing.rules import BillingError
from huabei.config import BillingTerms, InstallmentTerms
from huabei.money import Fen, round_fen

__all__ = [
    "EarlyRepayment",
    "InstallmentPeriod",
    "InstallmentSchedule",
    "can_convert_bill",
    "can_convert_purchase",
    "check_bill_conversion",
    "check_convertible_amount",
    "check_purchase_conversion",
    "convertible_amount",
    "early_repayment",
    "first_due_date_for_bill",
    "first_due_date_for_purchase",
    "quote_installments",
]


def _require_int(value: object, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int, not {type(value).__name__}")
    return value


def _require_date(value: object, name: str) -> dt.date:
    if not isinstance(value, dt.date) or isinstance(value, dt.datetime):
        raise TypeError(f"{name} must be a datetime.date, not {type(value).__name__}")
    return value


@dataclass(frozen=True)
class InstallmentPeriod:
    """One period of a plan: its number (1-based), due date, principal and fee (fen)."""

    number: int
    due_date: dt.date
    principal: Fen
    fee: Fen

    @property
    def total(self) -> Fen:
        return self.principal + self.fee


@dataclass(frozen=True)
class InstallmentSchedule:
    """A quoted installment plan. ``total == principal + total_fee``; the periods add up
    to ``principal`` and ``total_fee`` exactly."""

    principal: Fen
    term: int
    fee_rate: Decimal
    fee_waived: bool
    periods: tuple[InstallmentPeriod, ...]
    total_fee: Fen
    total: Fen

    def unbilled_principal(self, periods_billed: int) -> Fen:
        """Principal of the periods not yet billed — it keeps occupying the credit limit."""
        _check_periods_billed(self, periods_billed)
        return sum(p.principal for p in self.periods[periods_billed:])


def quote_installments(
    principal_fen: Fen,
    term: int,
    first_due_date: dt.date,
    terms: InstallmentTerms,
    fee_waived: bool = False,
    *,
    due_day: int | None = None,
) -> InstallmentSchedule:
    """Quote an installment plan of ``principal_fen`` over ``term`` periods.

    ``first_due_date`` is the due date of period 1; later periods fall due monthly on
    ``due_day`` (default ``first_due_date.day``), clamped to the month's end.
    ``fee_waived`` (免息) quotes a zero fee.

    Raises ``BillingError`` ``installment_term_not_offered`` for a term without a configured
    fee rate and ``installment_amount_too_small`` for a principal under one fen per period
    (which includes zero and negative amounts).
    """
    _require_int(principal_fen, "principal_fen")
    _require_int(term, "term")
    _require_date(first_due_date, "first_due_date")
    if term not in terms.fee_rates:
        raise BillingError(
            "installment_term_not_offered",
            "this number of installment periods is not offered",
            term=term,
            offered=sorted(terms.fee_rates),
        )
    if principal_fen < term:
        raise BillingError(
            "installment_amount_too_small",
            "the amount is too small to divide into this many periods",
            principal_fen=principal_fen,
            term=term,
            minimum_fen=term,
        )
    fee_rate = terms.fee_rates[term]
    total_fee = 0 if fee_waived else round_fen(Decimal(principal_fen) * fee_rate)
    due_dates = cal.monthly_dates(first_due_date, term, day_of_month=due_day)
    base_principal, principal_rest = divmod(principal_fen, term)
    base_fee, fee_rest = divmod(total_fee, term)
    periods = tuple(
        InstallmentPeriod(
            number=k,
            due_date=due_dates[k - 1],
            principal=base_principal + (principal_rest if k == term else 0),
            fee=base_fee + (fee_rest if k == term else 0),
        )
        for k in range(1, term + 1)
    )
    return InstallmentSchedule(
        principal=principal_fen,
        term=term,
        fee_rate=fee_rate,
        fee_waived=bool(fee_waived),
        periods=periods,
        total_fee=total_fee,
        total=principal_fen + total_fee,
    )


# --------------------------------------------------------------------------- conversion windows


def can_convert_bill(statement_date: dt.date, due_date: dt.date, on_date: dt.date) -> bool:
    """账单分期 window: a bill may be converted from its statement date to its due date,
    both included."""
    _require_date(statement_date, "statement_date")
    _require_date(due_date, "due_date")
    _require_date(on_date, "on_date")
    if due_date < statement_date:
        raise ValueError("due_date precedes statement_date")
    return statement_date <= on_date <= due_date


def check_bill_conversion(statement_date: dt.date, due_date: dt.date, on_date: dt.date) -> None:
    """:func:`can_convert_bill`, raising ``BillingError("installment_window_closed")``."""
    if not can_convert_bill(statement_date, due_date, on_date):
        raise BillingError(
            "installment_window_closed",
            "a bill can be converted into installments only from its statement date to its due date",
            window_start=statement_date.isoformat(),
            window_end=due_date.isoformat(),
            on_date=on_date.isoformat(),
        )


def first_due_date_for_bill(period: str, due_day: int, terms: BillingTerms) -> dt.date:
    """Period 1 of a converted bill falls due on the next bill's due date."""
    return cal.due_date(cal.next_period(period), due_day, terms)


def can_convert_purchase(
    purchase_date: dt.date,
    on_date: dt.date,
    due_day: int,
    terms: BillingTerms,
    *,
    bill_settled: bool = False,
) -> bool:
    """交易分期 window for one purchase on ``on_date``.

    True while the purchase is on no bill yet (``on_date`` before the statement date of the
    bill it lands on), or while it is on that bill, the bill is not settled (repaid in full)
    and its due date has not passed (the due date itself is included, like the bill window).
    """
    _require_date(purchase_date, "purchase_date")
    _require_date(on_date, "on_date")
    if on_date < purchase_date:
        raise ValueError(f"on_date {on_date} precedes the purchase date {purchase_date}")
    period = cal.bill_period_for(purchase_date, terms)
    if on_date < cal.statement_date(period, terms):
        return True
    return not bill_settled and on_date <= cal.due_date(period, due_day, terms)


def check_purchase_conversion(
    purchase_date: dt.date,
    on_date: dt.date,
    due_day: int,
    terms: BillingTerms,
    *,
    bill_settled: bool = False,
) -> None:
    """:func:`can_convert_purchase`, raising ``BillingError("installment_window_closed")``."""
    if not can_convert_purchase(purchase_date, on_date, due_day, terms, bill_settled=bill_settled):
        period = cal.bill_period_for(purchase_date, terms)
        raise BillingError(
            "installment_window_closed",
            "a purchase can be converted only before its bill is repaid and due",
            period=period,
            window_end=cal.due_date(period, due_day, terms).isoformat(),
            on_date=on_date.isoformat(),
            bill_settled=bill_settled,
        )


def first_due_date_for_purchase(purchase_date: dt.date, on_date: dt.date, due_day: int, terms: BillingTerms) -> dt.date:
    """Period 1 of a purchase plan: the due date of the bill the purchase lands on when it
    is converted before that bill closes, otherwise (already billed) of the next bill."""
    _require_date(on_date, "on_date")
    period = cal.bill_period_for(purchase_date, terms)
    if on_date >= cal.statement_date(period, terms):
        period = cal.next_period(period)
    return cal.due_date(period, due_day, terms)


def convertible_amount(amount_fen: Fen, on_temporary_limit_fen: Fen) -> Fen:
    """The part of ``amount_fen`` that may be converted: all of it except what was spent on a
    temporary limit (临时额度: "no installments on it")."""
    _require_int(amount_fen, "amount_fen")
    _require_int(on_temporary_limit_fen, "on_temporary_limit_fen")
    if amount_fen < 0 or on_temporary_limit_fen < 0:
        raise ValueError("amounts must be >= 0")
    if on_temporary_limit_fen > amount_fen:
        raise ValueError("the temporary-limit part cannot exceed the amount")
    return amount_fen - on_temporary_limit_fen


def check_convertible_amount(requested_fen: Fen, convertible_fen: Fen) -> None:
    """Refuse converting more than the convertible amount
    (``BillingError("installment_exceeds_convertible_amount")``)."""
    _require_int(requested_fen, "requested_fen")
    _require_int(convertible_fen, "convertible_fen")
    if requested_fen > convertible_fen:
        raise BillingError(
            "installment_exceeds_convertible_amount",
            "spending on a temporary limit cannot be converted into installments",
            requested_fen=requested_fen,
            convertible_fen=convertible_fen,
        )


# --------------------------------------------------------------------------- early repayment


def _check_periods_billed(schedule: InstallmentSchedule, periods_billed: int) -> None:
    _require_int(periods_billed, "periods_billed")
    if not 0 <= periods_billed <= schedule.term:
        raise ValueError(f"periods billed must be 0..{schedule.term}, not {periods_billed}")


@dataclass(frozen=True)
class EarlyRepayment:
    """提前还款 of a plan: what is due at once and what is waived.

    ``periods`` are the numbers of the periods settled (those not billed yet);
    ``total == principal + fee_charged``.
    """

    on_date: dt.date
    periods: tuple[int, ...]
    principal: Fen
    fee_charged: Fen
    fee_waived: Fen
    total: Fen


def early_repayment(
    schedule: InstallmentSchedule,
    periods_already_billed: int,
    on_date: dt.date,
    terms: InstallmentTerms,
) -> EarlyRepayment:
    """Settle the rest of a plan on ``on_date``.

    The principal of every period not yet billed is due at once. Their fees are waived when
    ``terms.early_repayment_waives_unbilled_fees`` (the default), otherwise charged too.
    Periods already billed are on bills and are repaid through those bills, not here.

    Raises ``BillingError("installment_fully_billed")`` when every period is billed already;
    ``ValueError`` when ``on_date`` is on or after the due date of the first period said to
    be unbilled (storage and date disagree).
    """
    _require_date(on_date, "on_date")
    _check_periods_billed(schedule, periods_already_billed)
    rest = schedule.periods[periods_already_billed:]
    if not rest:
        raise BillingError(
            "installment_fully_billed",
            "every period of this plan is already billed; repay the bills instead",
            term=schedule.term,
        )
    if on_date >= rest[0].due_date:
        raise ValueError(f"period {rest[0].number} falls due on {rest[0].due_date} and cannot be unbilled on {on_date}")
    principal = sum(p.principal for p in rest)
    fees = sum(p.fee for p in rest)
    waive = terms.early_repayment_waives_unbilled_fees
    fee_charged = 0 if waive else fees
    return EarlyRepayment(
        on_date=on_date,
        periods=tuple(p.number for p in rest),
        principal=principal,
        fee_charged=fee_charged,
        fee_waived=fees - fee_charged,
        total=principal + fee_charged,
    )
