"""Where money coming into a line goes (还款 and 退款 allocation), as pure functions over the
line's position: its unpaid bills (typed :class:`BillRow` records), the unbilled principal and
the credit balance. :mod:`huabei.billing.positions` reads the position under the line's lock and
writes what these decide; closing a bill (:mod:`huabei.billing.closing_rules`) applies a credit
balance to older bills with the same :func:`pay_bill`. The order is documented in
:mod:`huabei.billing.service` and docs/billing.md."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any, Literal, TypedDict

from huabei.billing.rules import Component, Due, allocate_repayment
from huabei.ledger.rules import LedgerAccount
from huabei.lines.rules import CreditLine

UnpaidColumn = Literal["unpaid_principal", "unpaid_fee", "unpaid_interest", "unpaid_penalty"]


class BillRow(TypedDict):
    """A stored bill as the allocator reads and changes it (the columns of ``bills`` it uses;
    a row read from the table carries the others too and they are written back untouched).

    Money in fen. ``unpaid_*``: what is still owed of each component; ``unpaid_carried_principal``:
    the part of the unpaid principal carried from an earlier revolving bill (it accrues interest,
    so it is paid first); ``paid``: everything paid towards it; ``paid_by_due_date``: what
    repayments (not refunds or credit) paid by its due date, against ``minimum_due``;
    ``carried_out`` / ``carried_to``: principal moved to a later bill when it revolved."""

    bill_id: int
    account_id: int
    period: str
    due_date: dt.date
    minimum_due: int
    unpaid_principal: int
    unpaid_fee: int
    unpaid_interest: int
    unpaid_penalty: int
    unpaid_carried_principal: int
    paid: int
    paid_by_due_date: int
    carried_out: int
    carried_to: str | None
    status: str
    cleared_on: dt.date | None


#: The customer ledger account of each bill component.
COMPONENT_ACCOUNT: dict[Component, LedgerAccount] = {
    Component.PENALTY: LedgerAccount.CUSTOMER_PENALTY,
    Component.INTEREST: LedgerAccount.CUSTOMER_INTEREST,
    Component.FEE: LedgerAccount.CUSTOMER_FEE,
    Component.PRINCIPAL: LedgerAccount.CUSTOMER_PRINCIPAL,
}
#: The bill column holding what is unpaid of each component.
UNPAID_COLUMN: dict[Component, UnpaidColumn] = {
    Component.PRINCIPAL: "unpaid_principal",
    Component.FEE: "unpaid_fee",
    Component.INTEREST: "unpaid_interest",
    Component.PENALTY: "unpaid_penalty",
}


@dataclass
class Position:
    """What one credit line owes, as the allocator sees it (under the line's row lock)."""

    line: CreditLine
    bills: list[BillRow]  # unpaid bills, oldest due date first
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
        out: list[Due] = []
        for b in self.bills:
            for c in Component:
                if b[UNPAID_COLUMN[c]] > 0:
                    out.append(Due(b["period"], b["due_date"], c, b[UNPAID_COLUMN[c]]))
        return out

    def bill(self, period: str) -> BillRow:
        return next(b for b in self.bills if b["period"] == period)


def unpaid_total(b: BillRow) -> int:
    """What is unpaid of a bill, every component."""
    return b["unpaid_principal"] + b["unpaid_fee"] + b["unpaid_interest"] + b["unpaid_penalty"]


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

    def take_bill(b: BillRow) -> None:
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


def pay_bill(b: BillRow, component: Component, amount: int, day: dt.date, *, repayment: bool) -> None:
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


def allocation_view(app: Application) -> list[dict[str, Any]]:
    """Where the money went, as the API shows it (period, component, fen)."""
    out: list[dict[str, Any]] = [
        {"period": p, "component": c.value, "amount": a} for p, c, a in app.to_bills + app.credit_to_bills
    ]
    if app.to_pool:
        out.append({"period": None, "component": "unbilled_principal", "amount": app.to_pool})
    credit = app.to_credit - sum(a for _, _, a in app.credit_to_bills)
    if credit:
        out.append({"period": None, "component": "credit", "amount": credit})
    return out
