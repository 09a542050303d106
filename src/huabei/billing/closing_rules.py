"""Closing one line's bill, as a pure function (:func:`compute_close`), and the cycle it closes
(:class:`Cycle`): the end-of-day job's closing step (:mod:`huabei.billing.closing`) and the
unbilled view (:mod:`huabei.billing.views`) both call it, so the bill a user is shown before the
statement date is the bill the job writes on it. Inputs and outputs are typed records: the
stored bills it carries or settles (:class:`~huabei.billing.allocation.BillRow`), the new bill
(:class:`NewBill`) and its itemized lines (:class:`StoredLine`)."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol, TypedDict

from huabei.billing import calendar as cal
from huabei.billing.allocation import COMPONENT_ACCOUNT, UNPAID_COLUMN, BillRow, pay_bill
from huabei.billing.rules import (
    BillLine,
    BillStatement,
    Component,
    Due,
    LineKind,
    allocate_repayment,
    compose_bill,
    dues_of_bill,
    minimum_met,
)
from huabei.config import BillingTerms
from huabei.ledger.rules import LedgerAccount


class StoredLine(TypedDict):
    """One itemized line of a bill as stored (``bill_lines``) and shown: its kind
    (:class:`~huabei.billing.rules.LineKind` value), amount in fen, the day of the activity and
    a reference to what it came from (``purchase:12``, ``bill:2026-03``, ``plan:4/2``, ``credit``)."""

    kind: str
    amount: int
    activity_date: dt.date
    ref: str


class NewBill(TypedDict):
    """The row of ``bills`` a close writes (its id is the table's). Money in fen.

    ``opening_balance``: the revolving principal carried in less the credit brought forward;
    ``closing_balance``: what the bill asks less the credit left; ``total_due`` / ``minimum_due``:
    the bill's totals (:func:`~huabei.billing.rules.compose_bill`); ``minimum_rated_base`` and
    ``minimum_in_full``: how the minimum was worked out; ``temporary_limit_part``: spending on the
    temporary limit (due in full); ``unpaid_*``: what the bill is owed for, per component;
    ``status`` ``paid`` with ``cleared_on`` when nothing is owed, else ``open``."""

    account_id: int
    period: str
    statement_date: dt.date
    due_date: dt.date
    opening_balance: int
    closing_balance: int
    total_due: int
    minimum_due: int
    credit_balance: int
    minimum_rated_base: int
    minimum_in_full: int  # the part of the minimum counted in full, not at the minimum rate
    temporary_limit_part: int
    installment_principal: int
    unpaid_principal: int
    unpaid_fee: int
    unpaid_interest: int
    unpaid_penalty: int
    unpaid_carried_principal: int
    status: str
    cleared_on: dt.date | None


class CycleTotals(Protocol):
    """A line's sums over the cycle being closed (one row of the closing step's streamed query)."""

    purchases: int
    temp: int
    pool_credits: int
    credit_credits: int
    interest: int
    penalty: int
    installment_principal: int
    installment_fee: int


class UnbilledPurchase(Protocol):
    purchase_id: int
    amount: int
    converted: int
    on_temporary_limit: int
    business_date: dt.date


class UnbilledCredit(Protocol):
    """Money of the cycle not applied to a bill: ``component`` ``unbilled_principal`` (paid the
    open cycle's purchases) or ``credit`` (became a credit balance)."""

    source_kind: str
    source_id: int
    component: str
    amount: int
    business_date: dt.date


class UnbilledAccrual(Protocol):
    kind: str  # interest | penalty
    amount: int
    business_date: dt.date
    period: str


class DuePeriod(Protocol):
    plan_id: int
    number: int
    principal: int
    fee: int
    due_date: dt.date


@dataclass
class Cycle:
    """What one line's bill holds before balances are carried: the lines ``compose_bill``
    reads and their sums per kind (the ledger follows the sums). The end-of-day job builds
    it from per-kind sums (:func:`cycle_from_totals`, one line per kind: the totals and the
    minimum depend on the sums only) and writes the itemized lines set-based; the unbilled
    view builds it item by item (:func:`cycle_from_items`)."""

    lines: list[BillLine] = field(default_factory=list)
    stored: list[StoredLine] = field(default_factory=list)  # itemized, for display
    purchases: int = 0
    temp: int = 0
    pool_credits: int = 0
    credit_credits: int = 0
    interest: int = 0
    penalty: int = 0
    installment_principal: int = 0
    installment_fee: int = 0


def periods_before(period: str, terms: BillingTerms) -> dt.date:
    """Installment periods due before this date fall due on bill ``period`` (or an earlier
    one): ``period_of_due_date(d) <= period`` exactly when ``d`` is before the day after the
    next statement date."""
    return cal.statement_date(cal.next_period(period), terms) + dt.timedelta(days=1)


def cycle_from_totals(r: CycleTotals, period: str, terms: BillingTerms, first: dt.date | None = None) -> Cycle:
    first = first or cal.bill_cycle(period, terms)[0]
    c = Cycle(
        purchases=r.purchases,
        temp=r.temp,
        pool_credits=r.pool_credits,
        credit_credits=r.credit_credits,
        interest=r.interest,
        penalty=r.penalty,
        installment_principal=r.installment_principal,
        installment_fee=r.installment_fee,
    )
    for kind, amount in (
        (LineKind.PURCHASE, r.purchases),
        (LineKind.REPAYMENT, r.pool_credits + r.credit_credits),
        (LineKind.INTEREST, r.interest),
        (LineKind.PENALTY, r.penalty),
        (LineKind.INSTALLMENT_PRINCIPAL, r.installment_principal),
        (LineKind.INSTALLMENT_FEE, r.installment_fee),
    ):
        if amount:
            c.lines.append(BillLine(kind, amount, first, "sum"))
    return c


def cycle_from_items(
    period: str,
    terms: BillingTerms,
    *,
    purchases: Sequence[UnbilledPurchase],
    credits: Sequence[UnbilledCredit],
    accruals: Sequence[UnbilledAccrual],
    periods: Sequence[DuePeriod],
) -> Cycle:
    first, _ = cal.bill_cycle(period, terms)
    before = periods_before(period, terms)
    c = Cycle()

    def add(kind: LineKind, amount: int, day: dt.date, ref: str, *, cycle: bool = False) -> None:
        c.lines.append(BillLine(kind, amount, max(day, first) if cycle else day, ref))
        c.stored.append({"kind": kind.value, "amount": amount, "activity_date": day, "ref": ref})

    for p in purchases:
        amt = p.amount - p.converted
        if amt > 0:
            add(LineKind.PURCHASE, amt, p.business_date, f"purchase:{p.purchase_id}", cycle=True)
            c.purchases += amt
            c.temp += min(p.on_temporary_limit, amt)
    grouped: dict[tuple[str, int, dt.date], int] = defaultdict(int)
    for x in credits:
        grouped[(x.source_kind, x.source_id, x.business_date)] += x.amount
        if x.component == "unbilled_principal":
            c.pool_credits += x.amount
        else:
            c.credit_credits += x.amount
    for (kind, source_id, day), amt in sorted(grouped.items(), key=lambda g: (g[0][2], g[0][1])):
        add(LineKind(kind), amt, day, f"{kind}:{source_id}", cycle=True)
    for a in accruals:
        add(LineKind(a.kind), a.amount, a.business_date, f"bill:{a.period}")
        if a.kind == "interest":
            c.interest += a.amount
        else:
            c.penalty += a.amount
    for d in periods:
        if d.due_date >= before:
            continue
        add(LineKind.INSTALLMENT_PRINCIPAL, d.principal, d.due_date, f"plan:{d.plan_id}/{d.number}")
        c.installment_principal += d.principal
        if d.fee:
            add(LineKind.INSTALLMENT_FEE, d.fee, d.due_date, f"plan:{d.plan_id}/{d.number}")
            c.installment_fee += d.fee
    return c


@dataclass
class CloseResult:
    """What closing one line's bill writes (pure computation: :func:`compute_close`)."""

    account_id: int
    statement: BillStatement
    bill: NewBill  # the bills row, without bill_id
    lines: list[StoredLine]  # itemized lines (the unbilled view only; the job writes them set-based)
    carried: list[BillRow]  # older bills settled by the carry (updated rows)
    brought: int  # the credit balance brought forward (a carried_credit line)
    credit_older: list[tuple[BillRow, Component, int]]  # leftover credit applied to older bills
    fee: int
    credit_applied: dict[LedgerAccount, int]
    used_delta: int
    credit_delta: int


def compute_close(
    *,
    account_id: int,
    period: str,
    due_day: int,
    credit_balance: int,
    terms: BillingTerms,
    cycle: Cycle,
    unpaid_bills: Sequence[BillRow],
    preview: bool = False,
    dates: tuple[dt.date, dt.date] | None = None,
) -> CloseResult | None:
    """Close bill ``period`` of one line (a pure function).

    Lines: the cycle's purchases (less what was turned into installments before billing),
    the money of the cycle not applied to a bill (``repayment`` / ``refund``), interest and
    penalty posted in the cycle, the installment periods falling due on this bill, the
    unpaid rest of revolving bills (``carried_balance``) and the credit balance brought
    forward (``carried_credit``). ``compose_bill`` gives the totals and the minimum,
    ``dues_of_bill`` what the bill is owed for. The ledger then follows the bill: the
    installment fees are charged (a ``fee`` entry) and the credit balance is applied to what
    the lines net it against (a ``credit_applied`` entry), then to older bills still owed
    something. ``None`` when nothing would be on the bill (a credit balance alone stays).
    """
    # the statement date and the first day of the cycle (the job passes them, once per step)
    closes, first = dates or (cal.statement_date(period, terms), cal.bill_cycle(period, terms)[0])
    lines = list(cycle.lines)
    stored = list(cycle.stored)
    carried_rows: list[BillRow] = []
    carried = 0
    for b in unpaid_bills:
        revolving = (
            b["status"] == "open"
            and b["due_date"] < closes
            and minimum_met(b["paid_by_due_date"], b["minimum_due"])
            and b["unpaid_principal"] > 0
        )
        if revolving:
            if b["unpaid_fee"] or b["unpaid_interest"] or b["unpaid_penalty"]:  # pragma: no cover - allocation order
                raise AssertionError(f"revolving bill {b['bill_id']} owes more than principal")
            lines.append(BillLine(LineKind.CARRIED_BALANCE, b["unpaid_principal"], first, f"bill:{b['period']}"))
            stored.append(
                {
                    "kind": "carried_balance",
                    "amount": b["unpaid_principal"],
                    "activity_date": first,
                    "ref": f"bill:{b['period']}",
                }
            )
            carried += b["unpaid_principal"]
            carried_rows.append(b)
    brought = credit_balance - cycle.credit_credits
    if brought < 0:  # pragma: no cover - the ledger check reports it
        raise AssertionError(f"account {account_id}: credit balance {credit_balance} below the cycle's credits")
    if not lines:
        return None
    if brought:
        lines.append(BillLine(LineKind.CARRIED_CREDIT, brought, first, "credit"))
        stored.append({"kind": "carried_credit", "amount": brought, "activity_date": first, "ref": "credit"})
    statement = compose_bill(period, lines, terms, due_day, cycle.temp if terms.temporary_limit_repaid_in_full else 0)
    dues = dict.fromkeys(Component, 0)
    for d in dues_of_bill(statement):
        dues[d.component] += d.amount_fen
    gross_principal = cycle.purchases + cycle.installment_principal + carried
    attributed = {
        Component.PRINCIPAL: gross_principal - cycle.pool_credits,
        Component.FEE: cycle.installment_fee,
        Component.INTEREST: cycle.interest,
        Component.PENALTY: cycle.penalty,
    }
    applied = {c: attributed[c] - dues[c] for c in Component}
    if any(v < 0 for v in applied.values()) or sum(applied.values()) != credit_balance - statement.credit_balance:
        raise AssertionError(
            f"account {account_id}: bill {period} does not follow the ledger: "  # pragma: no cover
            f"{attributed} vs {dues}"
        )
    unpaid_carried = max(0, carried - (gross_principal - dues[Component.PRINCIPAL]))
    total = statement.total_due
    bill: NewBill = {
        "account_id": account_id,
        "period": period,
        "statement_date": statement.statement_date,
        "due_date": statement.due_date,
        "opening_balance": carried - brought,
        "closing_balance": total - statement.credit_balance,
        "total_due": total,
        "minimum_due": statement.minimum_due,
        "credit_balance": statement.credit_balance,
        "minimum_rated_base": statement.minimum_rated_base,
        "minimum_in_full": statement.minimum_in_full,
        "temporary_limit_part": cycle.temp,
        "installment_principal": cycle.installment_principal,
        "unpaid_principal": dues[Component.PRINCIPAL],
        "unpaid_fee": dues[Component.FEE],
        "unpaid_interest": dues[Component.INTEREST],
        "unpaid_penalty": dues[Component.PENALTY],
        "unpaid_carried_principal": unpaid_carried,
        "status": "paid" if total == 0 else "open",
        "cleared_on": closes if total == 0 else None,
        # converted, carried_out, paid, paid_by_due_date and the accrual states start at their
        # column defaults (0, "0"); carried_to and overdue_since at NULL
    }
    carried_updates: list[BillRow] = []
    for b in carried_rows:
        row = b.copy()
        row["carried_out"] += row["unpaid_principal"]
        row["unpaid_principal"] = row["unpaid_carried_principal"] = 0
        row["status"], row["carried_to"], row["cleared_on"] = "paid", period, closes
        carried_updates.append(row)
    credit_older: list[tuple[BillRow, Component, int]] = []
    leftover = statement.credit_balance
    if leftover and not preview:
        carried_ids = {b["bill_id"] for b in carried_rows}
        older = [b.copy() for b in unpaid_bills if b["bill_id"] not in carried_ids]
        dues_older = [
            Due(b["period"], b["due_date"], c, b[UNPAID_COLUMN[c]])
            for b in older
            for c in Component
            if b[UNPAID_COLUMN[c]] > 0
        ]
        by_period = {b["period"]: b for b in older}
        for x in allocate_repayment(leftover, dues_older).lines:
            b = by_period[x.period]
            pay_bill(b, x.component, x.amount_fen, closes, repayment=False)
            credit_older.append((b, x.component, x.amount_fen))
    ledger_applied: dict[LedgerAccount, int] = defaultdict(int)
    for c, amt in applied.items():
        if amt:
            ledger_applied[COMPONENT_ACCOUNT[c]] += amt
    for _, c, amt in credit_older:
        ledger_applied[COMPONENT_ACCOUNT[c]] += amt
    used_delta = -ledger_applied.get(LedgerAccount.CUSTOMER_PRINCIPAL, 0)
    credit_delta = -sum(ledger_applied.values())
    return CloseResult(
        account_id=account_id,
        statement=statement,
        bill=bill,
        lines=stored,
        carried=carried_updates,
        brought=brought,
        credit_older=credit_older,
        fee=cycle.installment_fee,
        credit_applied=dict(ledger_applied),
        used_delta=used_delta,
        credit_delta=credit_delta,
    )
