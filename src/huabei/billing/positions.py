"""A line's position and money coming in: what a line owes, where a repayment or a refund goes,
and writing that allocation (docs/billing.md). The order is documented in :mod:`huabei.billing.service`."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from huabei import errors
from huabei.billing import calendar as cal
from huabei.billing.rules import (
    BillingError,
    Component,
    Due,
    allocate_repayment,
)
from huabei.errors import ErrorKind, HuabeiError
from huabei.ledger import rules as ledger
from huabei.ledger.rules import LedgerAccount
from huabei.lines.rules import CreditLine
from huabei.money import format_yuan
from huabei.platform.unit_of_work import UnitOfWork

#: Rows of an end-of-day step processed between two batched writes.
BATCH_ACCOUNTS = 2_000

COMPONENT_ACCOUNT = {
    Component.PENALTY: LedgerAccount.CUSTOMER_PENALTY,
    Component.INTEREST: LedgerAccount.CUSTOMER_INTEREST,
    Component.FEE: LedgerAccount.CUSTOMER_FEE,
    Component.PRINCIPAL: LedgerAccount.CUSTOMER_PRINCIPAL,
}
UNPAID_COLUMN = {c: f"unpaid_{c.value}" for c in Component}

#: BillingError codes and how entrypoints answer them.
ERROR_KIND = {
    "invalid_period": ErrorKind.INVALID_REQUEST,
    "due_day_not_offered": ErrorKind.UNPROCESSABLE,
    "installment_term_not_offered": ErrorKind.UNPROCESSABLE,
    "installment_amount_too_small": ErrorKind.UNPROCESSABLE,
    "installment_window_closed": ErrorKind.UNPROCESSABLE,
    "installment_exceeds_convertible_amount": ErrorKind.UNPROCESSABLE,
    "installment_fully_billed": ErrorKind.UNPROCESSABLE,
}
#: Params of a BillingError that are fen (shown in yuan in messages).
FEN_PARAMS = ("principal_fen", "minimum_fen", "requested_fen", "convertible_fen")


def as_huabei_error(e: BillingError) -> HuabeiError:
    """A domain refusal as the stable, translated error entrypoints answer."""
    params: dict[str, Any] = {}
    for k, v in e.params.items():
        if k in FEN_PARAMS and isinstance(v, int):
            params[k.removesuffix("_fen")] = format_yuan(v)
        elif isinstance(v, (list, tuple)):
            params[k] = ", ".join(str(x) for x in v)
        else:
            params[k] = v
    return HuabeiError(e.code, ERROR_KIND.get(e.code, ErrorKind.UNPROCESSABLE), **params)


def parse_period(period: str) -> str:
    try:
        cal.parse_period(period)
    except BillingError as e:
        raise as_huabei_error(e) from None
    return period


# =========================================================================== calendar of closes


def last_close_date(uow: UnitOfWork) -> dt.date | None:
    """The statement date of the latest bill closing the end-of-day job ran (every bill of
    every line closes on the same statement date). Activity dated on or after it is not on
    a bill yet. ``None`` before the first closing."""
    return uow.eod.last_close()


def require_eod_current(uow: UnitOfWork) -> None:
    """Refuse (409 ``eod_pending``) money movements dated a business day whose end-of-day
    run has not finished: the bills they pay may not be closed yet. Before the job has
    ever run there are no bills and nothing waits."""
    last = uow.eod.last_completed()
    if last is not None and last < uow.today():
        raise errors.conflict("eod_pending", date=(last + dt.timedelta(days=1)).isoformat())


# =========================================================================== a line's position


@dataclass
class Position:
    """What one credit line owes, as the allocator sees it (under the line's row lock)."""

    line: CreditLine
    bills: list[dict[str, Any]]  # unpaid bills, oldest due date first
    plan_unbilled: int
    unbilled_interest: int
    unbilled_penalty: int
    last_close: dt.date | None

    @property
    def billed_dues(self) -> int:
        return sum(unpaid_total(b) for b in self.bills)

    @property
    def billed_principal(self) -> int:
        return sum(b["unpaid_principal"] for b in self.bills)

    @property
    def pool(self) -> int:
        """Principal not on any bill yet and not in an installment plan: the open cycle's
        purchases less what already paid them."""
        return self.line.used - self.billed_principal - self.plan_unbilled

    @property
    def owed(self) -> int:
        """The most a repayment may be: everything billed, the unbilled principal, and what
        a credit balance will pay when the next bills close — installment principal not yet
        billed, interest and penalty posted this cycle — less the credit already held."""
        later = self.unbilled_interest + self.unbilled_penalty + self.plan_unbilled
        return self.billed_dues + max(self.pool, 0) + max(0, later - self.line.credit_balance)

    def dues(self) -> list[Due]:
        out = []
        for b in self.bills:
            for c in Component:
                if b[UNPAID_COLUMN[c]] > 0:
                    out.append(Due(b["period"], b["due_date"], c, b[UNPAID_COLUMN[c]]))
        return out

    def bill(self, period: str) -> dict[str, Any]:
        return next(b for b in self.bills if b["period"] == period)


def unpaid_total(b: Any) -> int:
    g = b.__getitem__ if isinstance(b, dict) else (lambda k: getattr(b, k))
    return g("unpaid_principal") + g("unpaid_fee") + g("unpaid_interest") + g("unpaid_penalty")


def position(uow: UnitOfWork, account_id: int, *, for_update: bool = True) -> Position:
    """The line's position, under its row lock unless ``for_update`` is false (a read-only view)."""
    line = uow.accounts.get(account_id, for_update=for_update)
    if line is None:
        raise errors.not_found("account_not_found", account_id=account_id)
    last_close = last_close_date(uow)
    totals = uow.billing.accrual_totals(account_id, last_close or dt.date.min)
    return Position(
        line=line,
        bills=[dict(r._mapping) for r in uow.billing.unpaid_bills(account_id)],
        plan_unbilled=uow.installments.unbilled_principal(account_id),
        unbilled_interest=totals["interest"],
        unbilled_penalty=totals["penalty"],
        last_close=last_close,
    )


@dataclass
class Application:
    """Where money coming in goes: bill components, unbilled principal, credit."""

    to_bills: list[tuple[str, Component, int]] = field(default_factory=list)  # period, component, fen
    to_pool: int = 0
    to_credit: int = 0
    credit_to_bills: list[tuple[str, Component, int]] = field(default_factory=list)

    def ledger_allocation(self) -> dict[LedgerAccount, int]:
        """Customer ledger accounts credited by the money itself (credit applied excluded)."""
        out: dict[LedgerAccount, int] = defaultdict(int)
        for _, c, amt in self.to_bills:
            out[COMPONENT_ACCOUNT[c]] += amt
        if self.to_pool:
            out[LedgerAccount.CUSTOMER_PRINCIPAL] += self.to_pool
        if self.to_credit:
            out[LedgerAccount.CUSTOMER_CREDIT] += self.to_credit
        order = (
            LedgerAccount.CUSTOMER_PENALTY,
            LedgerAccount.CUSTOMER_INTEREST,
            LedgerAccount.CUSTOMER_FEE,
            LedgerAccount.CUSTOMER_PRINCIPAL,
            LedgerAccount.CUSTOMER_CREDIT,
        )
        return {k: out[k] for k in order if out.get(k)}

    def principal(self) -> int:
        return sum(a for _, c, a in self.to_bills if c is Component.PRINCIPAL) + self.to_pool


def plan_repayment(pos: Position, amount: int) -> Application:
    """还款 allocation (see the module docstring): bills, then unbilled principal, then credit."""
    alloc = allocate_repayment(amount, pos.dues())
    app = Application(to_bills=[(x.period, x.component, x.amount_fen) for x in alloc.lines])
    rest = alloc.unallocated_fen
    app.to_pool = min(rest, max(pos.pool, 0))
    app.to_credit = rest - app.to_pool
    return app


def plan_refund(pos: Position, amount: int, purchase_date: dt.date, own_period: str | None = None) -> Application:
    """退款 allocation: principal only — the bill holding the purchase (``own_period``) first,
    or the unbilled principal while the purchase is on no bill — then credit; the credit is
    applied at once to what the bills still owe (penalty, interest, fees)."""
    app = Application()
    billed = pos.last_close is not None and purchase_date < pos.last_close
    own = next((b for b in pos.bills if b["period"] == own_period), None) if billed else None
    rest = amount

    def take_bill(b: dict[str, Any]) -> None:
        nonlocal rest
        x = min(
            rest,
            b["unpaid_principal"] - sum(a for p, c, a in app.to_bills if p == b["period"] and c is Component.PRINCIPAL),
        )
        if x > 0:
            app.to_bills.append((b["period"], Component.PRINCIPAL, x))
            rest -= x

    def take_pool() -> None:
        nonlocal rest
        x = min(rest, max(pos.pool, 0))
        app.to_pool += x
        rest -= x

    if not billed:
        take_pool()
    if own is not None:
        take_bill(own)
    for b in pos.bills:
        if rest and b is not own:
            take_bill(b)
    if billed:
        take_pool()
    app.to_credit = rest
    if rest:
        paid = {(p, c): a for p, c, a in app.to_bills}
        dues = [
            Due(d.period, d.due_date, d.component, d.amount_fen - paid.get((d.period, d.component), 0))
            for d in pos.dues()
            if d.component is not Component.PRINCIPAL
        ]
        credit = allocate_repayment(rest, [d for d in dues if d.amount_fen > 0])
        app.credit_to_bills = [(x.period, x.component, x.amount_fen) for x in credit.lines]
    return app


def pay_bill(b: dict[str, Any], component: Component, amount: int, day: dt.date, *, repayment: bool) -> None:
    """Pay ``amount`` of a bill's ``component``. Only a repayment (``repayment``) counts
    towards the minimum (``paid_by_due_date``): a refund or a credit balance lowers what is
    unpaid but is not the customer paying — as on a credit card, the minimum still asks for
    a repayment, capped at what is left unpaid (``minimum_unpaid``)."""
    col = UNPAID_COLUMN[component]
    if amount > b[col]:
        raise AssertionError(f"paying {amount} of {component} beyond the {b[col]} unpaid on bill {b['period']}")
    b[col] -= amount
    if component is Component.PRINCIPAL:
        # a carried balance accrues interest, so it is paid first
        b["unpaid_carried_principal"] = max(0, b["unpaid_carried_principal"] - amount)
    b["paid"] += amount
    if repayment and day <= b["due_date"]:
        b["paid_by_due_date"] += amount
    if unpaid_total(b) == 0:
        b["status"] = "paid"
        b["cleared_on"] = day


BILL_STATE_COLUMNS = (
    "unpaid_principal",
    "unpaid_fee",
    "unpaid_interest",
    "unpaid_penalty",
    "unpaid_carried_principal",
    "paid",
    "paid_by_due_date",
    "status",
    "cleared_on",
)


def apply_application(
    uow: UnitOfWork, pos: Position, app: Application, source_kind: str, source_id: int, ledger_ref: int
) -> None:
    """Write an :class:`Application`: bill rows, allocation records, the line's balances and
    (for credit applied to bills) a ``credit_applied`` entry. The money's own entry
    (repayment, refund) is the caller's."""
    today, now = uow.today(), uow.now()
    rows: list[dict[str, Any]] = []
    touched: set[str] = set()

    def record(period: str | None, component: str, amount: int, kind: str) -> None:
        b = pos.bill(period) if period else None
        rows.append(
            {
                "account_id": pos.line.account_id,
                "bill_id": b["bill_id"] if b else None,
                "component": component,
                "amount": amount,
                "source_kind": kind,
                "source_id": source_id,
                "business_date": today,
                "by_due_date": bool(b and today <= b["due_date"]),
            }
        )

    for period, c, amt in app.to_bills:
        pay_bill(pos.bill(period), c, amt, today, repayment=source_kind == "repayment")
        record(period, c.value, amt, source_kind)
        touched.add(period)
    if app.to_pool:
        record(None, "unbilled_principal", app.to_pool, source_kind)
    credit_left = app.to_credit - sum(a for _, _, a in app.credit_to_bills)
    if credit_left:
        record(None, "credit", credit_left, source_kind)
    applied: dict[LedgerAccount, int] = defaultdict(int)
    for period, c, amt in app.credit_to_bills:
        pay_bill(pos.bill(period), c, amt, today, repayment=False)
        record(period, c.value, amt, source_kind)
        applied[COMPONENT_ACCOUNT[c]] += amt
        touched.add(period)
    for period in touched:
        b = pos.bill(period)
        uow.billing.update_bill(b["bill_id"], **{k: b[k] for k in BILL_STATE_COLUMNS})
    uow.billing.add_allocations(rows)
    used = app.principal() + applied.get(LedgerAccount.CUSTOMER_PRINCIPAL, 0)
    credit = app.to_credit - sum(applied.values())
    uow.accounts.change_balances(pos.line.account_id, used=-used, credit_balance=credit)
    if applied:
        uow.ledger.post(
            ledger.credit_applied_entry(
                pos.line.account_id, dict(applied), today, ledger_ref, memo=f"{source_kind} {source_id}"
            ),
            now,
        )


def allocation_view(app: Application) -> list[dict[str, Any]]:
    out = [{"period": p, "component": c.value, "amount": a} for p, c, a in app.to_bills + app.credit_to_bills]
    if app.to_pool:
        out.append({"period": None, "component": "unbilled_principal", "amount": app.to_pool})
    credit = app.to_credit - sum(a for _, _, a in app.credit_to_bills)
    if credit:
        out.append({"period": None, "component": "credit", "amount": credit})
    return out
