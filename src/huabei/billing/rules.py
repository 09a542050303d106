"""Bills (账单), minimum repayment (最低还款), interest (利息), penalty interest (逾期利息)
and repayment allocation — the pure rules; storage and the end-of-day job call them.

All amounts are ``int`` fen, rates ``Decimal``; every fractional fen goes through
:func:`huabei.money.round_fen` exactly once. See ``docs/billing.md`` for the formulas and
worked examples.

Bill lines
----------
A :class:`BillLine` carries a non-negative magnitude ``amount_fen``; its *sign* comes from
its kind: ``refund``, ``repayment`` and ``carried_credit`` are credits (−), every other kind
is a debit (+). ``signed_fen`` gives the signed amount. The lines of a bill always add up,
signed, to ``total_due - credit_balance``.

* ``purchase`` / ``refund`` / ``repayment`` are activity of the bill's cycle
  (:func:`huabei.billing.calendar.bill_period_for`). A ``repayment`` line is money that was
  *not* allocated to an earlier bill (a prepayment or an overpayment): repayments of an
  existing bill are allocated to it (:func:`allocate_repayment`) and do not appear as lines.
* ``installment_principal`` / ``installment_fee``: the installment periods falling due on
  this bill's due date.
* ``interest``: revolving interest posted during the cycle (on the unpaid rest of earlier
  bills whose minimum was repaid).
* ``penalty``: penalty interest posted during the cycle on overdue bills.
* ``carried_balance``: the unpaid rest of the previous bill after a minimum repayment
  (pure principal: see :func:`allocate_repayment` — a minimum repayment always clears the
  interest, fees and penalty first).
* ``carried_credit``: the credit balance of the previous bill (more refunds than debits),
  carried forward as a credit.

Minimum repayment
-----------------
::

    rated   = purchases − refunds − repayments − carried_credit + carried_balance
    in_full = installment_principal + installment_fee + interest + penalty
    minimum = min(total_due, max(0, round_fen(minimum_rate × max(rated, 0) + in_full)))

One rounding (half-up), never more than the bill. Credits lower the rated part first.

Interest, penalty and the posting rule
--------------------------------------
Interest of one day is ``base × daily_rate`` fen, exact (:func:`daily_accrual`). Exact daily
amounts are summed as ``Decimal`` in an :class:`AccrualState`; what is posted on a day is
``round_fen(cumulative exact) − already posted`` (:func:`accrue`). ``round_fen`` of the
cumulative total is therefore the only rounding point, no fraction of a fen is ever lost or
charged twice, and accruing a gap of *n* days at once posts exactly what *n* one-day runs
post in total (the end-of-day job may catch up after downtime). Which base and rate apply
on a day is decided by :func:`accrual_basis`.

Allocation
----------
:func:`allocate_repayment` pays dues oldest bill first (so every overdue bill before the
current one, whose due date is later), and within a bill penalty, then interest, then fees,
then principal. Whatever exceeds the dues is returned as unallocated (an overpayment).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, Inexact, localcontext
from enum import StrEnum

from huabei.billing import calendar as cal
from huabei.billing.calendar import BillingError
from huabei.config import BillingTerms
from huabei.money import Fen, round_fen

__all__ = [
    "CREDIT_KINDS",
    "AccrualBasis",
    "AccrualState",
    "Allocation",
    "AllocationLine",
    "BillLine",
    "BillState",
    "BillStatement",
    "BillingError",
    "Component",
    "Due",
    "LineKind",
    "Regime",
    "accrual_basis",
    "accrue",
    "allocate_repayment",
    "compose_bill",
    "daily_accrual",
    "dues_of_bill",
    "minimum_from_parts",
    "minimum_met",
    "minimum_repayment",
    "minimum_unpaid",
]


def _require_fen(value: object, name: str) -> Fen:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int number of fen, not {type(value).__name__}")
    if value < 0:
        raise ValueError(f"{name} must be >= 0, not {value}")
    return value


def _require_rate(value: object, name: str = "rate") -> Decimal:
    if not isinstance(value, Decimal):
        raise TypeError(f"{name} must be a Decimal, not {type(value).__name__}")
    if not value.is_finite() or value < 0:
        raise ValueError(f"{name} must be a finite, non-negative Decimal, not {value}")
    return value


def _require_date(value: object, name: str) -> dt.date:
    if not isinstance(value, dt.date) or isinstance(value, dt.datetime):
        raise TypeError(f"{name} must be a datetime.date, not {type(value).__name__}")
    return value


# =========================================================================== bills


class LineKind(StrEnum):
    """The kinds of bill line. Values are the stable strings stored and shown by the API."""

    PURCHASE = "purchase"
    REFUND = "refund"
    INSTALLMENT_PRINCIPAL = "installment_principal"
    INSTALLMENT_FEE = "installment_fee"
    INTEREST = "interest"
    PENALTY = "penalty"
    REPAYMENT = "repayment"
    CARRIED_BALANCE = "carried_balance"
    CARRIED_CREDIT = "carried_credit"


#: Kinds whose amount is subtracted from the bill.
CREDIT_KINDS: frozenset[LineKind] = frozenset({LineKind.REFUND, LineKind.REPAYMENT, LineKind.CARRIED_CREDIT})
#: Kinds dated by the activity itself, which must fall inside the bill's cycle.
_CYCLE_KINDS: frozenset[LineKind] = frozenset({LineKind.PURCHASE, LineKind.REFUND, LineKind.REPAYMENT})
#: Kinds counted at ``minimum_repayment_rate`` (debits +, credits −).
_RATED_KINDS: frozenset[LineKind] = frozenset(
    {LineKind.PURCHASE, LineKind.REFUND, LineKind.REPAYMENT, LineKind.CARRIED_CREDIT, LineKind.CARRIED_BALANCE}
)
#: Kinds counted in full in the minimum repayment.
_IN_FULL_KINDS: frozenset[LineKind] = frozenset(
    {LineKind.INSTALLMENT_PRINCIPAL, LineKind.INSTALLMENT_FEE, LineKind.INTEREST, LineKind.PENALTY}
)
_KIND_ORDER = {kind: i for i, kind in enumerate(LineKind)}


@dataclass(frozen=True)
class BillLine:
    """One line of a bill: ``kind`` (a :class:`LineKind` or its string), a non-negative
    magnitude ``amount_fen`` (the kind gives the sign), the date of the activity or posting,
    and ``ref`` — the id of the purchase, refund, repayment, installment period … it comes from.
    """

    kind: LineKind
    amount_fen: Fen
    activity_date: dt.date
    ref: str = ""

    def __post_init__(self) -> None:
        try:
            kind = LineKind(self.kind)
        except ValueError:
            raise ValueError(f"unknown bill line kind {self.kind!r}") from None
        object.__setattr__(self, "kind", kind)
        _require_fen(self.amount_fen, "amount_fen")
        _require_date(self.activity_date, "activity_date")
        if not isinstance(self.ref, str):
            raise TypeError("ref must be a str")

    @property
    def is_credit(self) -> bool:
        return self.kind in CREDIT_KINDS

    @property
    def signed_fen(self) -> Fen:
        """The amount with its sign: credits negative, debits positive."""
        return -self.amount_fen if self.is_credit else self.amount_fen


@dataclass(frozen=True)
class BillStatement:
    """A closed bill (账单).

    ``total_due`` is what must be repaid by ``due_date`` (never negative); when the credits
    exceed the debits the bill has ``total_due == 0``, ``minimum_due == 0`` and the excess
    as ``credit_balance`` (to carry onto the next bill as a ``carried_credit`` line, or to
    refund). Invariant: ``sum(line.signed_fen) == total_due - credit_balance``.
    """

    period: str
    statement_date: dt.date
    due_date: dt.date
    lines: tuple[BillLine, ...]
    total_due: Fen
    minimum_due: Fen
    credit_balance: Fen
    #: The part of the minimum counted at the minimum rate (before the rate), and the part
    #: counted in full; shown on the bill so the customer can check the minimum.
    minimum_rated_base: Fen = field(default=0)
    minimum_in_full: Fen = field(default=0)

    @property
    def net_fen(self) -> Fen:
        """Signed sum of the lines: ``total_due`` or ``-credit_balance``."""
        return self.total_due - self.credit_balance

    def amount_of(self, kind: LineKind | str) -> Fen:
        """Sum of the (unsigned) amounts of the lines of one kind."""
        k = LineKind(kind)
        return sum(line.amount_fen for line in self.lines if line.kind is k)


def _sum_kind(lines: Iterable[BillLine], kinds: frozenset[LineKind]) -> Fen:
    return sum(line.signed_fen for line in lines if line.kind in kinds)


def minimum_repayment(lines: Sequence[BillLine], terms: BillingTerms, full_principal: Fen = 0) -> tuple[Fen, Fen, Fen]:
    """最低还款 of a bill made of ``lines``: returns ``(minimum, rated_base, in_full)``.

    ``minimum = min(total, max(0, round_fen(rate × max(rated_base, 0) + in_full)))`` where
    ``rated_base = purchases − refunds − repayments − carried_credit + carried_balance − full``
    and ``in_full = installment principal + installment fee + interest + penalty + full``
    (the reference: "10 % of the bill's amount, fees, interest and installment parts due
    counted in full"). ``full`` is the part of the purchases owed in full whatever the
    minimum — spending on a temporary limit (临时额度, "must be repaid in full when due"):
    ``full_principal``, at most the rated base. One rounding, half-up; never more than the
    bill, never negative.
    """
    _require_fen(full_principal, "full_principal")
    total = sum(line.signed_fen for line in lines)
    rated = _sum_kind(lines, _RATED_KINDS)
    full = min(full_principal, max(rated, 0))
    rated -= full
    in_full = _sum_kind(lines, _IN_FULL_KINDS) + full
    return minimum_from_parts(rated, in_full, total, terms), rated, in_full


def minimum_from_parts(rated_base: Fen, in_full: Fen, total: Fen, terms: BillingTerms) -> Fen:
    """The minimum repayment formula itself, from a bill's parts (the one place it lives)::

        minimum = min(max(total, 0), max(0, round_fen(rate × max(rated_base, 0) + in_full)))

    :func:`minimum_repayment` feeds it a new bill's sums; an installment conversion of
    (part of) a closed bill feeds it the stored parts less what was converted.
    """
    rate = _require_rate(terms.minimum_repayment_rate, "minimum_repayment_rate")
    raw = round_fen(rate * Decimal(max(rated_base, 0)) + Decimal(in_full))
    return min(max(total, 0), max(raw, 0))


def compose_bill(
    period: str, lines: Iterable[BillLine], terms: BillingTerms, due_day: int, full_principal: Fen = 0
) -> BillStatement:
    """Close bill ``period`` (``"YYYY-MM"``) with ``lines`` for an account due on ``due_day``.
    ``full_principal``: the purchases' part owed in full (:func:`minimum_repayment`).

    Purchases, refunds and repayment lines must be dated inside the bill's cycle
    (:func:`~huabei.billing.calendar.bill_cycle`); a line dated elsewhere is a caller bug and
    raises ``ValueError``. Lines are kept in date order (stable for equal dates).
    """
    closes = cal.statement_date(period, terms)
    due = cal.due_date(period, due_day, terms)
    first, last = cal.bill_cycle(period, terms)
    given = tuple(lines)
    for line in given:
        if not isinstance(line, BillLine):
            raise TypeError(f"bill lines must be BillLine, not {type(line).__name__}")
    ordered = tuple(sorted(given, key=lambda line: line.activity_date))
    for line in ordered:
        if line.kind in _CYCLE_KINDS and not first <= line.activity_date <= last:
            raise ValueError(
                f"{line.kind.value} {line.ref!r} dated {line.activity_date} is not in the cycle "
                f"of bill {period} ({first} .. {last})"
            )
    net = sum(line.signed_fen for line in ordered)
    minimum, rated, in_full = minimum_repayment(ordered, terms, full_principal)
    return BillStatement(
        period=period,
        statement_date=closes,
        due_date=due,
        lines=ordered,
        total_due=max(net, 0),
        minimum_due=minimum,
        credit_balance=max(-net, 0),
        minimum_rated_base=rated,
        minimum_in_full=in_full,
    )


# =========================================================================== interest


def daily_accrual(principal_fen: Fen, rate: Decimal) -> Decimal:
    """One day's interest on ``principal_fen`` at daily ``rate``: an exact, unrounded
    ``Decimal`` number of fen (``281201 × 0.0005 = 140.6005``)."""
    _require_fen(principal_fen, "principal_fen")
    _require_rate(rate)
    with localcontext() as ctx:
        ctx.prec = 60
        ctx.traps[Inexact] = True
        return Decimal(principal_fen) * rate


@dataclass(frozen=True)
class AccrualState:
    """Running state of one accrual (one bill's interest, or its penalty).

    ``exact`` is the cumulative exact accrual in fen (a ``Decimal``, never rounded);
    ``posted`` is what has been posted so far, always ``round_fen(exact)`` after
    :func:`accrue`. Storage keeps both (``exact`` as a NUMERIC / decimal string).
    """

    exact: Decimal = Decimal(0)
    posted: Fen = 0

    def __post_init__(self) -> None:
        if not isinstance(self.exact, Decimal) or not self.exact.is_finite() or self.exact < 0:
            raise ValueError("exact must be a finite, non-negative Decimal")
        _require_fen(self.posted, "posted")


def accrue(state: AccrualState, principal_fen: Fen, rate: Decimal, days: int) -> tuple[AccrualState, Fen]:
    """Accrue ``days`` days of interest on ``principal_fen`` at daily ``rate``.

    Returns the new state and the whole fen to post now::

        exact'  = exact + days × principal × rate          (Decimal, exact)
        post    = round_fen(exact') − posted
        posted' = posted + post

    Because only the cumulative total is rounded, posting day by day and posting a gap of
    days at once give the same total for any split of the days (as long as the principal
    is the same over the gap). ``days == 0`` posts nothing new.
    """
    if not isinstance(state, AccrualState):
        raise TypeError("state must be an AccrualState")
    if isinstance(days, bool) or not isinstance(days, int) or days < 0:
        raise ValueError(f"days must be a non-negative int, not {days!r}")
    per_day = daily_accrual(principal_fen, rate)
    with localcontext() as ctx:
        ctx.prec = 60
        ctx.traps[Inexact] = True
        exact = state.exact + per_day * days
    target = round_fen(exact)
    post = target - state.posted
    if post < 0:  # only possible with a corrupted state (posted > round_fen(exact))
        raise ValueError(f"accrual state posted {state.posted} fen, more than its exact total {state.exact}")
    return AccrualState(exact=exact, posted=target), post


class Regime(StrEnum):
    """Which rule governs a bill's unpaid amount on a day."""

    #: Nothing unpaid.
    PAID = "paid"
    #: On or before the due date: interest-free (免息期), except an unpaid carried balance,
    #: which is already revolving and never gets a new interest-free period.
    NOT_DUE = "not_due"
    #: After the due date, at least the minimum repaid by the due date: revolving interest
    #: on the unpaid principal.
    REVOLVING = "revolving"
    #: After the due date, less than the minimum repaid by the due date: the whole unpaid
    #: bill is overdue (逾期) and carries penalty interest.
    OVERDUE = "overdue"


@dataclass(frozen=True)
class BillState:
    """A bill's repayment state, as storage knows it on a date.

    ``paid_by_due_date`` counts repayments allocated to the bill up to and including the due
    date; repayments after it do not change the regime (a bill overdue stays overdue until
    repaid in full). The unpaid amount is split by component as allocated
    (:func:`allocate_repayment`); ``unpaid_carried_principal`` is the part of
    ``unpaid_principal`` that is a carried balance from an earlier bill.
    """

    due_date: dt.date
    total_due: Fen
    minimum_due: Fen
    paid_by_due_date: Fen
    unpaid_principal: Fen
    unpaid_fee: Fen = 0
    unpaid_interest: Fen = 0
    unpaid_penalty: Fen = 0
    unpaid_carried_principal: Fen = 0

    def __post_init__(self) -> None:
        _require_date(self.due_date, "due_date")
        for name in (
            "total_due",
            "minimum_due",
            "paid_by_due_date",
            "unpaid_principal",
            "unpaid_fee",
            "unpaid_interest",
            "unpaid_penalty",
            "unpaid_carried_principal",
        ):
            _require_fen(getattr(self, name), name)
        if self.minimum_due > self.total_due:
            raise ValueError("minimum_due cannot exceed total_due")
        if self.unpaid > self.total_due:
            raise ValueError(f"unpaid {self.unpaid} exceeds the bill's total {self.total_due}")
        if self.unpaid_carried_principal > self.unpaid_principal:
            raise ValueError("unpaid_carried_principal cannot exceed unpaid_principal")

    @property
    def unpaid(self) -> Fen:
        return self.unpaid_principal + self.unpaid_fee + self.unpaid_interest + self.unpaid_penalty


def minimum_met(paid_by_due_date: Fen, minimum_due: Fen) -> bool:
    """Whether a bill's minimum was repaid by its due date: after the due date it revolves
    (interest on the unpaid principal) instead of being overdue. Storage's set-based
    ``mark_overdue`` query states the negation in SQL (``paid_by_due_date < minimum_due``)."""
    return paid_by_due_date >= minimum_due


def minimum_unpaid(minimum_due: Fen, paid_by_due_date: Fen, unpaid: Fen) -> Fen:
    """What is still to repay of the minimum: never more than the bill still owes."""
    return min(unpaid, max(0, minimum_due - paid_by_due_date))


@dataclass(frozen=True)
class AccrualBasis:
    """What accrues on a bill for one day: the regime, the daily rate and the base (fen)."""

    regime: Regime
    rate: Decimal
    base_fen: Fen

    @property
    def accrues(self) -> bool:
        return self.base_fen > 0 and self.rate > 0


def accrual_basis(state: BillState, on_date: dt.date, terms: BillingTerms) -> AccrualBasis:
    """The regime of a bill on ``on_date`` (the day whose interest is being accrued) and
    the base to accrue on.

    * ``paid`` — nothing unpaid: base 0.
    * ``not_due`` — ``on_date`` ≤ due date: interest-free, except the unpaid carried
      balance, which keeps accruing revolving interest.
    * ``revolving`` — after the due date, ``paid_by_due_date ≥ minimum_due``:
      ``revolving_daily_rate`` on the unpaid principal (interest, fees and penalty are not
      interest-bearing; a minimum repayment has cleared them anyway).
    * ``overdue`` — after the due date, less than the minimum repaid by it:
      ``penalty_daily_rate`` on the whole unpaid bill except its own unpaid penalty (no
      penalty on penalty). Revolving interest does not run on top of the penalty.

    Interest and penalty start the day after the due date; the grace days only delay
    bureau reporting (:func:`huabei.billing.calendar.is_reportable`).

    Day convention: pass the state as it stood at the *start* of ``on_date`` (before that
    day's repayments). A bill repaid ``n`` days past due thus pays ``n`` days of penalty,
    and a bill repaid on its due date pays none.
    """
    _require_date(on_date, "on_date")
    if state.unpaid == 0:
        return AccrualBasis(Regime.PAID, Decimal(0), 0)
    if on_date <= state.due_date:
        return AccrualBasis(Regime.NOT_DUE, _require_rate(terms.revolving_daily_rate), state.unpaid_carried_principal)
    if minimum_met(state.paid_by_due_date, state.minimum_due):
        return AccrualBasis(Regime.REVOLVING, _require_rate(terms.revolving_daily_rate), state.unpaid_principal)
    return AccrualBasis(Regime.OVERDUE, _require_rate(terms.penalty_daily_rate), state.unpaid - state.unpaid_penalty)


# =========================================================================== allocation


class Component(StrEnum):
    """Components of what a bill is owed for, in allocation order within a bill."""

    PENALTY = "penalty"
    INTEREST = "interest"
    FEE = "fee"
    PRINCIPAL = "principal"


_COMPONENT_ORDER = {c: i for i, c in enumerate(Component)}


@dataclass(frozen=True)
class Due:
    """An amount owed: one component of one bill."""

    period: str
    due_date: dt.date
    component: Component
    amount_fen: Fen

    def __post_init__(self) -> None:
        try:
            component = Component(self.component)
        except ValueError:
            raise ValueError(f"unknown due component {self.component!r}") from None
        object.__setattr__(self, "component", component)
        cal.parse_period(self.period)
        _require_date(self.due_date, "due_date")
        _require_fen(self.amount_fen, "amount_fen")


@dataclass(frozen=True)
class AllocationLine:
    """Part of a repayment applied to one due; ``remaining_fen`` is what is left of it."""

    period: str
    due_date: dt.date
    component: Component
    amount_fen: Fen
    remaining_fen: Fen


@dataclass(frozen=True)
class Allocation:
    """The result of :func:`allocate_repayment`."""

    lines: tuple[AllocationLine, ...]
    allocated_fen: Fen
    unallocated_fen: Fen

    def for_period(self, period: str) -> Fen:
        """Total allocated to one bill."""
        return sum(line.amount_fen for line in self.lines if line.period == period)


def _allocation_key(due: Due) -> tuple[dt.date, str, int]:
    return due.due_date, due.period, _COMPONENT_ORDER[due.component]


def allocate_repayment(amount_fen: Fen, dues: Sequence[Due]) -> Allocation:
    """Split a repayment over what is owed.

    Order: bills by due date, oldest first — every overdue bill has an earlier due date than
    any bill not yet overdue, so overdue bills are paid before current ones — then, within a
    bill, penalty (逾期利息), interest (利息), fees (手续费), principal. Dues of the same
    bill and component keep their given order. A due is paid in full before the next
    one receives anything; what is left once every due is paid is ``unallocated_fen`` (an
    overpayment, to be kept as a credit). Dues of zero receive no line.
    """
    _require_fen(amount_fen, "amount_fen")
    for due in dues:
        if not isinstance(due, Due):
            raise TypeError(f"dues must be Due, not {type(due).__name__}")
    remaining = amount_fen
    lines: list[AllocationLine] = []
    for due in sorted(dues, key=_allocation_key):
        if remaining == 0:
            break
        if due.amount_fen == 0:
            continue
        paid = min(remaining, due.amount_fen)
        remaining -= paid
        lines.append(AllocationLine(due.period, due.due_date, due.component, paid, due.amount_fen - paid))
    return Allocation(lines=tuple(lines), allocated_fen=amount_fen - remaining, unallocated_fen=remaining)


def dues_of_bill(statement: BillStatement) -> tuple[Due, ...]:
    """What a freshly closed bill is owed for, by component (before any repayment).

    Debit lines map to components: ``penalty`` → penalty, ``interest`` → interest,
    ``installment_fee`` → fee, and purchases, installment principal and carried balance →
    principal. Credit lines (refunds, prepayments, carried credit) reduce the principal
    first and any excess the other components in allocation order, so the dues always add
    up to ``total_due``. Zero components are left out.
    """
    gross = {
        Component.PENALTY: statement.amount_of(LineKind.PENALTY),
        Component.INTEREST: statement.amount_of(LineKind.INTEREST),
        Component.FEE: statement.amount_of(LineKind.INSTALLMENT_FEE),
        Component.PRINCIPAL: statement.amount_of(LineKind.PURCHASE)
        + statement.amount_of(LineKind.INSTALLMENT_PRINCIPAL)
        + statement.amount_of(LineKind.CARRIED_BALANCE),
    }
    credits = sum(line.amount_fen for line in statement.lines if line.is_credit)
    offset = min(credits, gross[Component.PRINCIPAL])
    gross[Component.PRINCIPAL] -= offset
    credits -= offset
    for component in (Component.PENALTY, Component.INTEREST, Component.FEE):
        offset = min(credits, gross[component])
        gross[component] -= offset
        credits -= offset
    dues = tuple(
        Due(statement.period, statement.due_date, component, amount)
        for component, amount in gross.items()
        if amount > 0
    )
    assert sum(d.amount_fen for d in dues) == statement.total_due
    return tuple(sorted(dues, key=_allocation_key))
