"""The billing cycle in storage: bills, repayment allocation, installments, and the
billing steps of the end-of-day job (docs/billing.md, "Storage and the end-of-day job").

Pure rules come from :mod:`huabei.billing.rules`, :mod:`~huabei.billing.calendar` and
:mod:`~huabei.billing.installments`; this module reads what they need, calls them and writes
their results, one transaction per use case (or per end-of-day step).

Money in, in one documented order
---------------------------------
A repayment (还款) pays, in order (``allocate_repayment``): the bills' dues, oldest due date
first (an overdue bill is always older than the current one), within a bill penalty →
interest → fees → principal; then the principal not billed yet (purchases of the open
cycle: it restores the limit); whatever is left is kept as a credit balance (溢缴款) —
possible only while installment principal not billed yet, interest or penalty posted this
cycle remain, never beyond them (``repayment_exceeds_balance``).

A refund (退款) pays principal only: the bill holding its purchase first (or the unbilled
principal when its purchase is not billed yet), then the other bills by due date, then
the unbilled principal; the rest becomes a credit balance, which is at once applied to the
bills' penalty, interest and fees (a ``credit_applied`` entry).

Money not applied to a bill is shown on the next bill as a ``repayment`` / ``refund`` line.
A credit balance is applied when a bill closes (the lines net it) and, if some is left,
to older bills still owed something. So a credit balance and an unpaid bill never coexist
(``credit_not_idle`` in the ledger check).

End-of-day semantics
--------------------
The job for business date ``D`` books what happens *on* ``D`` before any activity of
``D``: it closes the bills whose statement date is ``D`` (their cycle ended on ``D − 1``),
accrues ``D``'s interest and penalty on the bills as they stood at the start of ``D``, marks
overdue the bills whose due date was ``D − 1``, and so on (:mod:`huabei.batch.eod`).
Repayments, refunds and installment conversions dated ``D`` wait until it has finished
(``eod_pending``); purchases do not (a purchase dated ``D`` is on a later bill anyway).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from huabei import errors
from huabei.billing import calendar as cal
from huabei.billing import installments as inst
from huabei.billing.rules import (
    AccrualState,
    BillingError,
    BillLine,
    BillState,
    BillStatement,
    Component,
    Due,
    LineKind,
    Regime,
    accrual_basis,
    accrue,
    allocate_repayment,
    compose_bill,
    dues_of_bill,
    minimum_from_parts,
    minimum_met,
    minimum_unpaid,
)
from huabei.config import BillingTerms, FeeWaiverCampaign, ProductTerms
from huabei.errors import ErrorKind, HuabeiError
from huabei.ledger import rules as ledger
from huabei.ledger.rules import EntryKind, LedgerAccount
from huabei.lines.rules import CreditLine
from huabei.money import format_yuan
from huabei.platform.idempotency import Outcome, run_idempotent
from huabei.platform.sql import merge_by_account
from huabei.platform.unit_of_work import Huabei, UnitOfWork

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
_ERROR_KIND = {
    "invalid_period": ErrorKind.INVALID_REQUEST,
    "due_day_not_offered": ErrorKind.UNPROCESSABLE,
    "installment_term_not_offered": ErrorKind.UNPROCESSABLE,
    "installment_amount_too_small": ErrorKind.UNPROCESSABLE,
    "installment_window_closed": ErrorKind.UNPROCESSABLE,
    "installment_exceeds_convertible_amount": ErrorKind.UNPROCESSABLE,
    "installment_fully_billed": ErrorKind.UNPROCESSABLE,
}
#: Params of a BillingError that are fen (shown in yuan in messages).
_FEN_PARAMS = ("principal_fen", "minimum_fen", "requested_fen", "convertible_fen")


def as_huabei_error(e: BillingError) -> HuabeiError:
    """A domain refusal as the stable, translated error entrypoints answer."""
    params: dict[str, Any] = {}
    for k, v in e.params.items():
        if k in _FEN_PARAMS and isinstance(v, int):
            params[k.removesuffix("_fen")] = format_yuan(v)
        elif isinstance(v, (list, tuple)):
            params[k] = ", ".join(str(x) for x in v)
        else:
            params[k] = v
    return HuabeiError(e.code, _ERROR_KIND.get(e.code, ErrorKind.UNPROCESSABLE), **params)


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
        return sum(_unpaid(b) for b in self.bills)

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


def _unpaid(b: Any) -> int:
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


def _pay_bill(b: dict[str, Any], component: Component, amount: int, day: dt.date, *, repayment: bool) -> None:
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
    if _unpaid(b) == 0:
        b["status"] = "paid"
        b["cleared_on"] = day


_BILL_STATE_COLUMNS = (
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
        _pay_bill(pos.bill(period), c, amt, today, repayment=source_kind == "repayment")
        record(period, c.value, amt, source_kind)
        touched.add(period)
    if app.to_pool:
        record(None, "unbilled_principal", app.to_pool, source_kind)
    credit_left = app.to_credit - sum(a for _, _, a in app.credit_to_bills)
    if credit_left:
        record(None, "credit", credit_left, source_kind)
    applied: dict[LedgerAccount, int] = defaultdict(int)
    for period, c, amt in app.credit_to_bills:
        _pay_bill(pos.bill(period), c, amt, today, repayment=False)
        record(period, c.value, amt, source_kind)
        applied[COMPONENT_ACCOUNT[c]] += amt
        touched.add(period)
    for period in touched:
        b = pos.bill(period)
        uow.billing.update_bill(b["bill_id"], **{k: b[k] for k in _BILL_STATE_COLUMNS})
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


# =========================================================================== closing a bill


@dataclass
class Cycle:
    """What one line's bill holds before balances are carried: the lines ``compose_bill``
    reads and their sums per kind (the ledger follows the sums). The end-of-day job builds
    it from per-kind sums (:func:`cycle_from_totals`, one line per kind: the totals and the
    minimum depend on the sums only) and writes the itemized lines set-based; the unbilled
    view builds it item by item (:func:`cycle_from_items`)."""

    lines: list[BillLine] = field(default_factory=list)
    stored: list[dict[str, Any]] = field(default_factory=list)  # itemized, for display
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


def cycle_from_totals(r: Any, period: str, terms: BillingTerms, first: dt.date | None = None) -> Cycle:
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
    purchases: Sequence[Any],
    credits: Sequence[Any],
    accruals: Sequence[Any],
    periods: Sequence[Any],
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
    for p in periods:
        if p.due_date >= before:
            continue
        add(LineKind.INSTALLMENT_PRINCIPAL, p.principal, p.due_date, f"plan:{p.plan_id}/{p.number}")
        c.installment_principal += p.principal
        if p.fee:
            add(LineKind.INSTALLMENT_FEE, p.fee, p.due_date, f"plan:{p.plan_id}/{p.number}")
            c.installment_fee += p.fee
    return c


@dataclass
class CloseResult:
    """What closing one line's bill writes (pure computation: :func:`compute_close`)."""

    account_id: int
    statement: BillStatement
    bill: dict[str, Any]  # the bills row, without bill_id
    lines: list[dict[str, Any]]  # itemized lines (the unbilled view only; the job writes them set-based)
    carried: list[dict[str, Any]]  # older bills settled by the carry (updated rows)
    brought: int  # the credit balance brought forward (a carried_credit line)
    credit_older: list[tuple[dict[str, Any], Component, int]]  # leftover credit applied to older bills
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
    unpaid_bills: Sequence[Any],
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
    carried_rows = []
    carried = 0
    for b in unpaid_bills:
        revolving = (
            b.status == "open"
            and b.due_date < closes
            and minimum_met(b.paid_by_due_date, b.minimum_due)
            and b.unpaid_principal > 0
        )
        if revolving:
            if b.unpaid_fee or b.unpaid_interest or b.unpaid_penalty:  # pragma: no cover - allocation order
                raise AssertionError(f"revolving bill {b.bill_id} owes more than principal")
            lines.append(BillLine(LineKind.CARRIED_BALANCE, b.unpaid_principal, first, f"bill:{b.period}"))
            stored.append(
                {
                    "kind": "carried_balance",
                    "amount": b.unpaid_principal,
                    "activity_date": first,
                    "ref": f"bill:{b.period}",
                }
            )
            carried += b.unpaid_principal
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
    bill = {
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
    carried_updates = []
    for b in carried_rows:
        row = dict(b._mapping)
        row.update(
            carried_out=row["carried_out"] + row["unpaid_principal"],
            unpaid_principal=0,
            unpaid_carried_principal=0,
            status="paid",
            carried_to=period,
            cleared_on=closes,
        )
        carried_updates.append(row)
    credit_older: list[tuple[dict[str, Any], Component, int]] = []
    leftover = statement.credit_balance
    if leftover and not preview:
        carried_ids = {b.bill_id for b in carried_rows}
        older = [dict(b._mapping) for b in unpaid_bills if b.bill_id not in carried_ids]
        dues_older = [
            Due(b["period"], b["due_date"], c, b[UNPAID_COLUMN[c]])
            for b in older
            for c in Component
            if b[UNPAID_COLUMN[c]] > 0
        ]
        by_period = {b["period"]: b for b in older}
        for x in allocate_repayment(leftover, dues_older).lines:
            b = by_period[x.period]
            _pay_bill(b, x.component, x.amount_fen, closes, repayment=False)
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


class _CloseBatch:
    """Accumulates the writes of many :class:`CloseResult` and flushes them in batches."""

    def __init__(self, uow: UnitOfWork, day: dt.date, period: str):
        self.uow, self.day, self.period, self.now = uow, day, period, uow.now()
        self.results: list[CloseResult] = []
        self.counts = {"bills": 0, "carried": 0, "credit_applied": 0}

    def add(self, r: CloseResult) -> None:
        self.results.append(r)
        if len(self.results) >= BATCH_ACCOUNTS:
            self.flush()

    def flush(self) -> None:
        if not self.results:
            return
        repo, rs, first = self.uow.billing, self.results, cal.bill_cycle(self.period, self.uow.terms.billing)[0]
        repo.add_bills([{**r.bill, "created_at": self.now} for r in rs])
        need = [r.account_id for r in rs if r.brought or r.credit_older or r.fee or r.credit_applied]
        ids = repo.bill_ids(self.period, need)
        repo.insert_lines(
            [
                {
                    "bill_id": ids[r.account_id],
                    "kind": "carried_credit",
                    "amount": r.brought,
                    "activity_date": first,
                    "ref": "credit",
                }
                for r in rs
                if r.brought
            ]
        )
        updates: dict[int, dict[str, Any]] = {}
        allocations = []
        for r in rs:
            for b in r.carried:
                updates[b["bill_id"]] = b
            for b, c, amt in r.credit_older:
                updates[b["bill_id"]] = b
                allocations.append(
                    {
                        "account_id": r.account_id,
                        "bill_id": b["bill_id"],
                        "component": c.value,
                        "amount": amt,
                        "source_kind": "credit",
                        "source_id": ids[r.account_id],
                        "business_date": self.day,
                        "by_due_date": self.day <= b["due_date"],
                    }
                )
        cols = (*_BILL_STATE_COLUMNS, "carried_out", "carried_to")
        repo.update_bills(cols, [{"b_id": k, **{c: v[c] for c in cols}} for k, v in updates.items()])
        repo.add_allocations(allocations)
        repo.change_balances(
            [
                {"a_id": r.account_id, "d_used": r.used_delta, "d_credit": r.credit_delta}
                for r in rs
                if r.used_delta or r.credit_delta
            ]
        )
        repo.post_charge_entries(
            [ledger.fee_entry(r.account_id, r.fee, self.day, ids[r.account_id]) for r in rs if r.fee], self.now
        )
        repo.post_entries(
            [
                ledger.credit_applied_entry(
                    r.account_id, r.credit_applied, self.day, ids[r.account_id], memo=f"bill {self.period}"
                )
                for r in rs
                if r.credit_applied
            ],
            self.now,
        )
        self.counts["bills"] += len(rs)
        self.counts["carried"] += sum(len(r.carried) for r in rs)
        self.counts["credit_applied"] += sum(1 for r in rs if r.credit_applied)
        self.results = []


def close_bills_step(uow: UnitOfWork, day: dt.date) -> dict[str, Any]:
    """EOD step ``close_bills``: on a statement date, close every line's bill. Set-based:
    one streamed query of per-line sums and one of unpaid bills, merged in account order;
    bills written in batches; their itemized lines, the installment periods billed and the
    plans completed by ``INSERT … SELECT`` / ``UPDATE`` over the whole set."""
    terms = uow.terms.billing
    if day.day != terms.statement_day:
        return {"bills": 0}
    period = cal.period_of_statement(day)
    previous = cal.statement_date(cal.previous_period(period), terms)
    # every earlier cycle was closed on its statement date since the job began; the first
    # closing also bills whatever older activity exists
    lower = previous if uow.eod.done(previous, "close_bills") else dt.date.min
    before = periods_before(period, terms)
    repo = uow.billing
    batch = _CloseBatch(uow, day, period)
    dates = (day, cal.bill_cycle(period, terms)[0])
    streams = {"totals": repo.stream_close_inputs(lower, day, before), "bills": repo.stream_unpaid_bills()}
    for account_id, g in merge_by_account(streams):
        if not g["totals"]:  # pragma: no cover - an unpaid bill always puts its line in the totals
            raise AssertionError(f"unpaid bills of line {account_id} missing from the close inputs")
        a = g["totals"][0]
        r = compute_close(
            account_id=account_id,
            period=period,
            due_day=a.due_day,
            credit_balance=a.credit_balance,
            terms=terms,
            cycle=cycle_from_totals(a, period, terms, dates[1]),
            unpaid_bills=g["bills"],
            dates=dates,
        )
        if r is not None:
            batch.add(r)
    batch.flush()
    repo.analyze_bills()
    lines = repo.insert_cycle_lines(period, lower, day, before, cal.bill_cycle(period, terms)[0])
    periods = repo.bill_scheduled_periods(period, before, day)
    return {"period": period, **batch.counts, "lines": lines, "installment_periods": periods}


# =========================================================================== accruals


def bill_state(b: Any) -> BillState:
    return BillState(
        due_date=b.due_date,
        total_due=b.total_due - b.converted,
        minimum_due=b.minimum_due,
        paid_by_due_date=b.paid_by_due_date,
        unpaid_principal=b.unpaid_principal,
        unpaid_fee=b.unpaid_fee,
        unpaid_interest=b.unpaid_interest,
        unpaid_penalty=b.unpaid_penalty,
        unpaid_carried_principal=b.unpaid_carried_principal,
    )


def _accrue_step(uow: UnitOfWork, day: dt.date, regimes: frozenset[Regime], kind: str) -> dict[str, Any]:
    terms = uow.terms.billing
    repo, now = uow.billing, uow.now()
    entry_kind = EntryKind.PENALTY if kind == "penalty" else EntryKind.INTEREST
    counts = {"bills": 0, "posted_bills": 0, "amount": 0}
    updates: list[dict[str, Any]] = []
    pending: dict[int, list[dict[str, Any]]] = defaultdict(list)  # account -> accrual rows

    def flush() -> None:
        repo.update_bills((f"{kind}_exact", f"{kind}_posted"), updates)
        accounts = sorted(pending)
        entries = [ledger.charge_entry(entry_kind, a, sum(x["amount"] for x in pending[a]), day) for a in accounts]
        ids = repo.post_charge_entries(entries, now)
        repo.insert_accruals([{**x, "entry_id": eid} for a, eid in zip(accounts, ids) for x in pending[a]])
        updates.clear()
        pending.clear()

    for b in repo.stream_accruing_bills(day):
        basis = accrual_basis(bill_state(b), day, terms)
        if basis.regime not in regimes or not basis.accrues:
            continue
        state = AccrualState(Decimal(getattr(b, f"{kind}_exact")), getattr(b, f"{kind}_posted"))
        new, post = accrue(state, basis.base_fen, basis.rate, 1)
        updates.append({"b_id": b.bill_id, f"{kind}_exact": str(new.exact), f"{kind}_posted": new.posted})
        counts["bills"] += 1
        if post:
            pending[b.account_id].append(
                {
                    "account_id": b.account_id,
                    "bill_id": b.bill_id,
                    "kind": kind,
                    "regime": basis.regime.value,
                    "base": basis.base_fen,
                    "amount": post,
                    "business_date": day,
                }
            )
            counts["posted_bills"] += 1
            counts["amount"] += post
        if len(updates) >= BATCH_ACCOUNTS:
            flush()
    flush()
    return counts


def accrue_interest_step(uow: UnitOfWork, day: dt.date) -> dict[str, Any]:
    """EOD step ``accrue_interest``: revolving interest of ``day`` (after a minimum
    repayment, and on a carried balance before its new due date)."""
    return _accrue_step(uow, day, frozenset({Regime.NOT_DUE, Regime.REVOLVING}), "interest")


def accrue_penalty_step(uow: UnitOfWork, day: dt.date) -> dict[str, Any]:
    """EOD step ``accrue_penalty``: penalty interest (逾期利息) of ``day`` on overdue bills."""
    return _accrue_step(uow, day, frozenset({Regime.OVERDUE}), "penalty")


def mark_overdue_step(uow: UnitOfWork, day: dt.date) -> dict[str, Any]:
    """EOD step ``mark_overdue``: a bill whose minimum was not repaid by its due date is
    overdue from the day after (penalty runs from then; the grace days only delay bureau
    reporting). Its line is blocked with ``account_overdue`` unless a freeze outranks it."""
    rows = [
        {"b_id": r.bill_id, "since": r.due_date + dt.timedelta(days=1)} for r in uow.billing.overdue_candidates(day)
    ]
    uow.billing.mark_overdue(rows)
    blocked = uow.billing.block_overdue_accounts()
    return {"bills": len(rows), "blocked": blocked}


# =========================================================================== delinquency


def delinquency_step(uow: UnitOfWork, day: dt.date) -> dict[str, Any]:
    """EOD step ``delinquency``: days past due and bucket of every delinquent line; events
    ``BecameOverdue``, ``DelinquencyBucketChanged``, ``DelinquencyCured`` for the risk engine;
    the month's worst bucket (for the bureau); lines cured are unblocked."""
    terms, repo, now = uow.terms.billing, uow.billing, uow.now()
    month = day.strftime("%Y-%m")
    positions = {r.account_id: r for r in repo.stream_overdue_positions()}
    current = {r.account_id: r for r in repo.stream_delinquent()}
    known = dict(current)
    known.update(repo.delinquency_rows([a for a in positions if a not in current]))
    months = repo.delinquency_month_rows(month)
    inserts, updates, m_inserts, m_updates, events = [], [], [], [], []
    counts = {"delinquent": 0, "became_overdue": 0, "bucket_changed": 0, "cured": 0}
    order = cal.DPD_BUCKETS.index
    for account_id in sorted(set(positions) | set(current)):
        pos = positions.get(account_id)
        old = known.get(account_id)
        old_bucket = old.bucket if old else "current"
        if pos is not None:
            dpd = cal.days_past_due(pos.oldest_due, day)
            bucket = cal.dpd_bucket(dpd)
            since = pos.oldest_due + dt.timedelta(days=1)
            amount = int(pos.amount_overdue)
        else:
            dpd, bucket, since, amount = 0, "current", None, 0
        worst = max(old.worst_bucket if old else "current", bucket, key=order)
        row = {"days_past_due": dpd, "bucket": bucket, "overdue_since": since, "worst_bucket": worst, "updated_on": day}
        if old is None:
            inserts.append({"account_id": account_id, **row})
        else:
            updates.append({"a_id": account_id, **row})
        if pos is not None:
            counts["delinquent"] += 1
        if pos is not None and cal.is_reportable(dpd, terms):  # the bureau sees it past the grace days
            m = months.get(account_id)
            if m is None:
                m_inserts.append(
                    {"account_id": account_id, "month": month, "worst_bucket": bucket, "max_days_past_due": dpd}
                )
            else:
                m_updates.append(
                    {
                        "a_id": account_id,
                        "m_month": month,
                        "worst_bucket": max(m.worst_bucket, bucket, key=order),
                        "max_days_past_due": max(m.max_days_past_due, dpd),
                    }
                )
        payload: dict[str, Any] | None = None
        if old_bucket == "current" and bucket != "current":
            kind, counts["became_overdue"] = "BecameOverdue", counts["became_overdue"] + 1
            payload = {
                "reasons": ["minimum_not_repaid"],
                "days_past_due": dpd,
                "bucket": bucket,
                "amount_overdue": amount,
                "overdue_since": since.isoformat() if since else None,
                "reportable": cal.is_reportable(dpd, terms),
            }
        elif old_bucket != "current" and bucket == "current":
            kind, counts["cured"] = "DelinquencyCured", counts["cured"] + 1
            payload = {
                "reasons": ["overdue_repaid"],
                "from_bucket": old_bucket,
                "days_past_due_before": old.days_past_due if old else 0,
            }
        elif old_bucket != bucket:
            kind, counts["bucket_changed"] = "DelinquencyBucketChanged", counts["bucket_changed"] + 1
            payload = {
                "reasons": ["delinquency_bucket_changed"],
                "from_bucket": old_bucket,
                "to_bucket": bucket,
                "days_past_due": dpd,
                "amount_overdue": amount,
                "reportable": cal.is_reportable(dpd, terms),
            }
        if payload is not None:
            events.append(
                {
                    "event_type": kind,
                    "account_id": account_id,
                    "user_id": None,
                    "payload": payload,
                    "business_date": day,
                    "created_at": now,
                }
            )
    repo.upsert_delinquency(inserts, updates)
    repo.upsert_delinquency_months(m_inserts, m_updates)
    repo.add_events(events)
    counts["unblocked"] = repo.unblock_cured_accounts()
    return counts


def expire_temporary_limits_step(uow: UnitOfWork, day: dt.date) -> dict[str, Any]:
    """EOD step ``expire_temporary_limits``: a temporary limit (临时额度) ends on its expiry
    date; the change is recorded (``temporary_limit_expired``) like any limit change."""
    from huabei.platform import schema as t

    now = uow.now()
    rows = uow.billing.expiring_temporary_limits(day)
    uow.billing.insert_rows(
        t.limit_changes,
        [
            {
                "account_id": r.account_id,
                "limit_kind": "temporary",
                "old_value": r.temporary_limit,
                "new_value": 0,
                "expires_on": r.temporary_limit_expires_on,
                "reasons": ["temporary_limit_expired"],
                "policy_version": "eod",
                "actor": "system",
                "business_date": day,
                "created_at": now,
            }
            for r in rows
        ],
    )
    uow.billing.add_events(
        [
            {
                "event_type": "LimitChanged",
                "account_id": r.account_id,
                "user_id": None,
                "payload": {
                    "limit_kind": "temporary",
                    "old_value": r.temporary_limit,
                    "new_value": 0,
                    "reasons": ["temporary_limit_expired"],
                    "expires_on": r.temporary_limit_expires_on.isoformat(),
                },
                "business_date": day,
                "created_at": now,
            }
            for r in rows
        ]
    )
    uow.billing.expire_temporary_limits(day)
    return {"expired": len(rows)}


# =========================================================================== views


def _line_view(r: Any) -> dict[str, Any]:
    return {"kind": r["kind"], "amount": r["amount"], "date": r["activity_date"].isoformat(), "ref": r["ref"]}


def bill_view(
    b: Any, lines: Iterable[Any], allocations: Iterable[Any], today: dt.date, terms: BillingTerms
) -> dict[str, Any]:
    g = dict(b._mapping) if hasattr(b, "_mapping") else dict(b)
    unpaid = _unpaid(g)
    regime = accrual_basis(bill_state(_Obj(g)), today, terms).regime.value if unpaid else Regime.PAID.value
    dpd = cal.days_past_due(g["due_date"], today) if g["status"] == "overdue" else 0
    return {
        "period": g["period"],
        "statement_date": g["statement_date"].isoformat(),
        "due_date": g["due_date"].isoformat(),
        "status": g["status"],
        "regime": regime,
        "opening_balance": g["opening_balance"],
        "closing_balance": g["closing_balance"],
        "total_due": g["total_due"],
        "minimum_due": g["minimum_due"],
        "minimum_unpaid": minimum_unpaid(g["minimum_due"], g["paid_by_due_date"], unpaid),
        "unpaid": unpaid,
        "paid": g["paid"],
        "paid_by_due_date": g["paid_by_due_date"],
        "credit_balance": g["credit_balance"],
        "converted": g["converted"],
        "carried_out": g["carried_out"],
        "carried_to": g["carried_to"],
        "unpaid_principal": g["unpaid_principal"],
        "unpaid_fee": g["unpaid_fee"],
        "unpaid_interest": g["unpaid_interest"],
        "unpaid_penalty": g["unpaid_penalty"],
        "minimum_rated_base": g["minimum_rated_base"],
        "minimum_in_full": g["minimum_in_full"],
        "temporary_limit_part": g["temporary_limit_part"],
        "overdue_since": g["overdue_since"].isoformat() if g["overdue_since"] else None,
        "days_past_due": dpd,
        "bucket": cal.dpd_bucket(dpd),
        "lines": [_line_view(dict(r._mapping)) for r in lines],
        "allocations": [
            {
                "date": r.business_date.isoformat(),
                "source": r.source_kind,
                "source_id": r.source_id,
                "component": r.component,
                "amount": r.amount,
            }
            for r in allocations
        ],
    }


class _Obj:
    def __init__(self, d: dict[str, Any]):
        self.__dict__.update(d)


def list_bills(system: Huabei, account_id: int) -> list[dict[str, Any]]:
    """账单: every closed bill of a line, newest first."""
    with system.uow(readonly=True) as uow:
        if uow.accounts.get(account_id) is None:
            raise errors.not_found("account_not_found", account_id=account_id)
        bills = uow.billing.bills(account_id)
        ids = [b.bill_id for b in bills]
        lines, allocs = defaultdict(list), defaultdict(list)
        for r in uow.billing.lines(ids):
            lines[r.bill_id].append(r)
        for r in uow.billing.allocations(ids):
            allocs[r.bill_id].append(r)
        today = uow.today()
        return [bill_view(b, lines[b.bill_id], allocs[b.bill_id], today, uow.terms.billing) for b in bills]


def get_bill(system: Huabei, account_id: int, period: str) -> dict[str, Any]:
    parse_period(period)
    with system.uow(readonly=True) as uow:
        if uow.accounts.get(account_id) is None:
            raise errors.not_found("account_not_found", account_id=account_id)
        b = uow.billing.bill(account_id, period)
        if b is None:
            raise errors.not_found("bill_not_found", account_id=account_id, period=period)
        return bill_view(
            b, uow.billing.lines([b.bill_id]), uow.billing.allocations([b.bill_id]), uow.today(), uow.terms.billing
        )


def unbilled_view(system: Huabei, account_id: int) -> dict[str, Any]:
    """未出账: what the next bill holds so far (purchases, money not applied to a bill,
    interest and penalty posted, installment periods falling due on it, balances carried)."""
    with system.uow(readonly=True) as uow:
        line = uow.accounts.get(account_id)
        if line is None:
            raise errors.not_found("account_not_found", account_id=account_id)
        terms, today = uow.terms.billing, uow.today()
        since = last_close_date(uow) or dt.date.min
        period = cal.bill_period_for(today, terms)
        repo = uow.billing
        periods = [
            p
            for p in uow.installments.periods([x.plan_id for x in uow.installments.plans(account_id)])
            if p.status == "scheduled"
        ]
        credits = [
            _Obj({**dict(c._mapping), "account_id": account_id}) for c in repo.unbilled_credits(account_id, since)
        ]
        cycle = cycle_from_items(
            period,
            terms,
            purchases=repo.unbilled_purchases(account_id, since),
            credits=credits,
            accruals=repo.unbilled_accruals(account_id, since),
            periods=periods,
        )
        r = compute_close(
            account_id=account_id,
            period=period,
            due_day=line.due_day,
            credit_balance=line.credit_balance,
            terms=terms,
            cycle=cycle,
            unpaid_bills=repo.unpaid_bills(account_id),
            preview=True,
        )
        closes = cal.statement_date(period, terms)
        out = {
            "period": period,
            "statement_date": closes.isoformat(),
            "due_date": cal.due_date(period, line.due_day, terms).isoformat(),
            "as_of": today.isoformat(),
            "lines": [],
            "total_due": 0,
            "minimum_due": 0,
            "credit_balance": line.credit_balance,
        }
        if r is not None:
            out.update(
                lines=[_line_view(x) for x in r.lines],
                total_due=r.statement.total_due,
                minimum_due=r.statement.minimum_due,
                credit_balance=r.statement.credit_balance,
            )
        return out


def billing_status(system: Huabei, account_id: int) -> dict[str, Any]:
    """The line's repayment position: what is owed, billed and not, and its delinquency."""
    with system.uow(readonly=True) as uow:
        pos = position(uow, account_id, for_update=False)
        line = pos.line
        d = uow.billing.delinquency(account_id)
        return {
            "account_id": account_id,
            "owed": pos.owed,
            "billed_unpaid": pos.billed_dues,
            "unbilled_principal": max(pos.pool, 0),
            "installment_principal_unbilled": pos.plan_unbilled,
            "unbilled_interest": pos.unbilled_interest,
            "unbilled_penalty": pos.unbilled_penalty,
            "credit_balance": line.credit_balance,
            "due_day": line.due_day,
            "days_past_due": d.days_past_due if d else 0,
            "bucket": d.bucket if d else "current",
            "worst_bucket": d.worst_bucket if d else "current",
            "as_of": uow.today().isoformat(),
        }


# =========================================================================== due day


def change_due_day(system: Huabei, account_id: int, due_day: int) -> dict[str, Any]:
    """还款日: choose one of the offered days; a change waits ``due_day_change_cooloff_days``
    after the previous one. Bills already closed keep their due dates."""
    with system.uow() as uow:
        line = uow.accounts.get(account_id, for_update=True)
        if line is None:
            raise errors.not_found("account_not_found", account_id=account_id)
        terms, today = uow.terms.billing, uow.today()
        try:
            cal.check_due_day(due_day, terms)
        except BillingError as e:
            raise as_huabei_error(e) from None
        if due_day != line.due_day:
            last = uow.billing.last_due_day_change(account_id)
            if last is not None:
                allowed = last.business_date + dt.timedelta(days=terms.due_day_change_cooloff_days)
                if today < allowed:
                    raise errors.unprocessable("due_day_change_too_soon", next_allowed=allowed.isoformat())
            uow.billing.set_due_day(account_id, due_day)
            uow.billing.add_due_day_change(
                account_id=account_id, old_day=line.due_day, new_day=due_day, business_date=today, created_at=uow.now()
            )
            uow.events.add(
                "DueDayChanged",
                account_id=account_id,
                payload={"old_day": line.due_day, "new_day": due_day},
                business_date=today,
                now=uow.now(),
            )
        uow.commit()
        return {
            "account_id": account_id,
            "due_day": due_day,
            "choices": list(terms.due_day_choices),
            "changed": due_day != line.due_day,
            "as_of": today.isoformat(),
        }


# =========================================================================== installments


def fee_waiver(
    terms: ProductTerms,
    kind: str,
    term: int,
    day: dt.date,
    *,
    merchant_id: str | None = None,
    category: str | None = None,
) -> FeeWaiverCampaign | None:
    """The first 免息 campaign a plan matches, if any."""
    for c in terms.installments.fee_waivers:
        if kind not in c.kinds or (c.terms and term not in c.terms):
            continue
        if (c.starts_on and day < c.starts_on) or (c.ends_on and day > c.ends_on):
            continue
        if c.merchant_ids and merchant_id not in c.merchant_ids:
            continue
        if c.merchant_categories and category not in c.merchant_categories:
            continue
        return c
    return None


def schedule_view(s: inst.InstallmentSchedule, campaign: str | None) -> dict[str, Any]:
    return {
        "principal": s.principal,
        "term": s.term,
        "fee_rate": str(s.fee_rate),
        "fee_waived": s.fee_waived,
        "campaign": campaign,
        "total_fee": s.total_fee,
        "total": s.total,
        "periods": [
            {
                "number": p.number,
                "due_date": p.due_date.isoformat(),
                "principal": p.principal,
                "fee": p.fee,
                "total": p.total,
            }
            for p in s.periods
        ],
    }


@dataclass
class _Conversion:
    kind: str  # bill | purchase
    converted_from: str  # bill | billed_purchase | unbilled_purchase
    account_id: int
    amount: int
    schedule: inst.InstallmentSchedule
    campaign: str | None
    bill: Any = None
    purchase: Any = None


def _requested(amount: int | None, convertible: int) -> int:
    requested = convertible if amount is None else amount
    try:
        inst.check_convertible_amount(requested, convertible)
    except BillingError as e:
        raise as_huabei_error(e) from None
    return requested


def _quote(
    amount: int, term: int, first_due: dt.date, due_day: int, terms: ProductTerms, waiver: FeeWaiverCampaign | None
) -> inst.InstallmentSchedule:
    try:
        return inst.quote_installments(
            amount, term, first_due, terms.installments, fee_waived=waiver is not None, due_day=due_day
        )
    except BillingError as e:
        raise as_huabei_error(e) from None


def _bill_conversion(uow: UnitOfWork, account_id: int, period: str, term: int, amount: int | None) -> _Conversion:
    parse_period(period)
    line = uow.accounts.get(account_id)
    if line is None:
        raise errors.not_found("account_not_found", account_id=account_id)
    b = uow.billing.bill(account_id, period)
    if b is None:
        raise errors.not_found("bill_not_found", account_id=account_id, period=period)
    today, terms = uow.today(), uow.terms
    if uow.installments.plan_of_bill(b.bill_id) is not None:
        raise errors.conflict("installment_plan_exists", what=f"bill {period}")
    try:
        inst.check_bill_conversion(b.statement_date, b.due_date, today)
    except BillingError as e:
        raise as_huabei_error(e) from None
    if b.status == "paid":
        raise errors.unprocessable("bill_settled", period=period)
    convertible = max(0, b.unpaid_principal - b.temporary_limit_part - b.installment_principal)
    requested = _requested(amount, convertible)
    waiver = fee_waiver(terms, "bill", term, today)
    first_due = inst.first_due_date_for_bill(period, line.due_day, terms.billing)
    schedule = _quote(requested, term, first_due, line.due_day, terms, waiver)
    return _Conversion("bill", "bill", account_id, requested, schedule, waiver.code if waiver else None, bill=b)


def _purchase_conversion(uow: UnitOfWork, purchase_id: int, term: int, amount: int | None) -> _Conversion:
    p = uow.purchases.get(purchase_id)
    if p is None:
        raise errors.not_found("purchase_not_found", purchase_id=purchase_id)
    line = uow.accounts.get(p.account_id)
    assert line is not None
    today, terms = uow.today(), uow.terms
    if uow.installments.plan_of_purchase(purchase_id) is not None:
        raise errors.conflict("installment_plan_exists", what=f"purchase {purchase_id}")
    last_close = last_close_date(uow)
    bill = None
    if last_close is not None and p.business_date < last_close:
        bill = uow.billing.bill_of_activity(p.account_id, p.business_date)
        if bill is not None and uow.installments.plan_of_bill(bill.bill_id) is not None:
            raise errors.conflict("installment_plan_exists", what=f"bill {bill.period}")
    try:
        billed = last_close is not None and p.business_date < last_close
        inst.check_purchase_conversion(
            p.business_date,
            today,
            line.due_day,
            terms.billing,
            bill_settled=billed and (bill is None or bill.status == "paid"),
        )
        left = p.amount - p.refunded
        convertible = inst.convertible_amount(left, min(p.on_temporary_limit, left))
    except BillingError as e:
        raise as_huabei_error(e) from None
    if bill is not None:
        if bill.status != "open" or today > bill.due_date:
            raise as_huabei_error(
                BillingError(
                    "installment_window_closed",
                    "the purchase's bill is overdue",
                    period=bill.period,
                    window_end=bill.due_date.isoformat(),
                    on_date=today.isoformat(),
                    bill_settled=False,
                )
            )
        convertible = min(
            convertible, max(0, bill.unpaid_principal - bill.temporary_limit_part - bill.installment_principal)
        )
    else:
        pos_pool = (
            line.used
            - sum(b.unpaid_principal for b in uow.billing.unpaid_bills(p.account_id))
            - uow.installments.unbilled_principal(p.account_id)
        )
        convertible = min(convertible, max(pos_pool, 0))
    requested = _requested(amount, convertible)
    waiver = fee_waiver(terms, "purchase", term, today, merchant_id=p.merchant_id, category=p.merchant_category)
    first_due = inst.first_due_date_for_purchase(p.business_date, today, line.due_day, terms.billing)
    schedule = _quote(requested, term, first_due, line.due_day, terms, waiver)
    return _Conversion(
        "purchase",
        "billed_purchase" if bill is not None else "unbilled_purchase",
        p.account_id,
        requested,
        schedule,
        waiver.code if waiver else None,
        bill=bill,
        purchase=p,
    )


def quote_bill_installments(
    system: Huabei, account_id: int, period: str, term: int, amount: int | None = None
) -> dict[str, Any]:
    """账单分期 quote: the schedule, nothing changed."""
    with system.uow(readonly=True) as uow:
        c = _bill_conversion(uow, account_id, period, term, amount)
        return {
            "kind": "bill",
            "account_id": account_id,
            "period": period,
            "quoted_on": uow.today().isoformat(),
            **schedule_view(c.schedule, c.campaign),
        }


def quote_purchase_installments(
    system: Huabei, purchase_id: int, term: int, amount: int | None = None
) -> dict[str, Any]:
    """交易分期 quote: the schedule, nothing changed."""
    with system.uow(readonly=True) as uow:
        c = _purchase_conversion(uow, purchase_id, term, amount)
        return {
            "kind": "purchase",
            "account_id": c.account_id,
            "purchase_id": purchase_id,
            "quoted_on": uow.today().isoformat(),
            **schedule_view(c.schedule, c.campaign),
        }


def _reduce_bill_by_conversion(uow: UnitOfWork, b: Any, amount: int, plan_id: int, today: dt.date) -> None:
    """A bill (or a purchase on it) turned into installments: its principal leaves the bill,
    and the minimum is what the rest of the bill needs (one rounding, never more than before)."""
    converted = b.converted + amount
    unpaid_principal = b.unpaid_principal - amount
    minimum = min(
        b.minimum_due,
        minimum_from_parts(
            b.minimum_rated_base - converted, b.minimum_in_full, b.total_due - converted, uow.terms.billing
        ),
    )
    values: dict[str, Any] = {
        "converted": converted,
        "unpaid_principal": unpaid_principal,
        "unpaid_carried_principal": min(b.unpaid_carried_principal, unpaid_principal),
        "minimum_due": minimum,
    }
    if unpaid_principal + b.unpaid_fee + b.unpaid_interest + b.unpaid_penalty == 0:
        values.update(status="paid", cleared_on=today)
    uow.billing.update_bill(b.bill_id, **values)
    uow.billing.add_allocations(
        [
            {
                "account_id": b.account_id,
                "bill_id": b.bill_id,
                "component": "principal",
                "amount": amount,
                "source_kind": "installment",
                "source_id": plan_id,
                "business_date": today,
                "by_due_date": False,
            }
        ]
    )


def _create_plan(uow: UnitOfWork, c: _Conversion) -> dict[str, Any]:
    today, now = uow.today(), uow.now()
    s = c.schedule
    plan_id = uow.installments.add_plan(
        account_id=c.account_id,
        kind=c.kind,
        converted_from=c.converted_from,
        source_bill_id=c.bill.bill_id if c.kind == "bill" else None,
        source_purchase_id=c.purchase.purchase_id if c.purchase is not None else None,
        principal=s.principal,
        term=s.term,
        fee_rate=str(s.fee_rate),
        fee_waived=s.fee_waived,
        campaign=c.campaign,
        total_fee=s.total_fee,
        total=s.total,
        first_due_date=s.periods[0].due_date,
        periods_billed=0,
        status="active",
        created_on=today,
        created_at=now,
    )
    uow.installments.add_periods(
        [
            {
                "plan_id": plan_id,
                "number": p.number,
                "account_id": c.account_id,
                "due_date": p.due_date,
                "principal": p.principal,
                "fee": p.fee,
                "status": "scheduled",
                "bill_id": None,
            }
            for p in s.periods
        ]
    )
    if c.bill is not None:
        _reduce_bill_by_conversion(uow, c.bill, s.principal, plan_id, today)
    uow.events.add(
        "InstallmentPlanCreated",
        account_id=c.account_id,
        payload={
            "plan_id": plan_id,
            "kind": c.kind,
            "principal": s.principal,
            "term": s.term,
            "total_fee": s.total_fee,
            "campaign": c.campaign,
            "reasons": ["fee_waived"] if s.fee_waived else [],
        },
        business_date=today,
        now=now,
    )
    return plan_view_of(uow, plan_id)


def create_bill_installments(
    system: Huabei, account_id: int, period: str, term: int, idempotency_key: str | None, amount: int | None = None
) -> Outcome:
    """账单分期: turn (the convertible part of) a bill into ``term`` monthly periods."""
    request = {"account_id": account_id, "period": period, "term": term, "amount": amount}

    def work(uow: UnitOfWork) -> Outcome:
        require_eod_current(uow)
        if uow.accounts.get(account_id, for_update=True) is None:
            raise errors.not_found("account_not_found", account_id=account_id)
        return Outcome(201, _create_plan(uow, _bill_conversion(uow, account_id, period, term, amount)))

    return run_idempotent(system, "installment", idempotency_key, request, work)


def create_purchase_installments(
    system: Huabei, purchase_id: int, term: int, idempotency_key: str | None, amount: int | None = None
) -> Outcome:
    """交易分期: turn (the convertible part of) one purchase into ``term`` monthly periods."""
    request = {"purchase_id": purchase_id, "term": term, "amount": amount}

    def work(uow: UnitOfWork) -> Outcome:
        require_eod_current(uow)
        p = uow.purchases.get(purchase_id)
        if p is None:
            raise errors.not_found("purchase_not_found", purchase_id=purchase_id)
        uow.accounts.get(p.account_id, for_update=True)
        return Outcome(201, _create_plan(uow, _purchase_conversion(uow, purchase_id, term, amount)))

    return run_idempotent(system, "installment", idempotency_key, request, work)


def _schedule_of(plan: Any, periods: Sequence[Any]) -> inst.InstallmentSchedule:
    return inst.InstallmentSchedule(
        principal=plan.principal,
        term=plan.term,
        fee_rate=Decimal(plan.fee_rate),
        fee_waived=plan.fee_waived,
        periods=tuple(inst.InstallmentPeriod(p.number, p.due_date, p.principal, p.fee) for p in periods),
        total_fee=plan.total_fee,
        total=plan.total,
    )


def plan_view_of(uow: UnitOfWork, plan_id: int) -> dict[str, Any]:
    plan = uow.installments.plan(plan_id)
    if plan is None:
        raise errors.not_found("installment_plan_not_found", plan_id=plan_id)
    periods = uow.installments.periods([plan_id])
    return {
        "plan_id": plan.plan_id,
        "account_id": plan.account_id,
        "kind": plan.kind,
        "converted_from": plan.converted_from,
        "purchase_id": plan.source_purchase_id,
        "period": uow.billing.bill_by_id(plan.source_bill_id).period if plan.source_bill_id else None,
        "principal": plan.principal,
        "term": plan.term,
        "fee_rate": plan.fee_rate,
        "fee_waived": plan.fee_waived,
        "campaign": plan.campaign,
        "total_fee": plan.total_fee,
        "total": plan.total,
        "status": plan.status,
        "periods_billed": plan.periods_billed,
        "created_on": plan.created_on.isoformat(),
        "periods": [
            {
                "number": p.number,
                "due_date": p.due_date.isoformat(),
                "principal": p.principal,
                "fee": p.fee,
                "total": p.principal + p.fee,
                "status": p.status,
            }
            for p in periods
        ],
    }


def get_plan(system: Huabei, plan_id: int) -> dict[str, Any]:
    with system.uow(readonly=True) as uow:
        return plan_view_of(uow, plan_id)


def list_plans(system: Huabei, account_id: int) -> list[dict[str, Any]]:
    with system.uow(readonly=True) as uow:
        if uow.accounts.get(account_id) is None:
            raise errors.not_found("account_not_found", account_id=account_id)
        return [plan_view_of(uow, p.plan_id) for p in uow.installments.plans(account_id)]


def _early(uow: UnitOfWork, plan_id: int) -> tuple[Any, inst.EarlyRepayment]:
    plan = uow.installments.plan(plan_id)
    if plan is None:
        raise errors.not_found("installment_plan_not_found", plan_id=plan_id)
    if plan.status == "repaid_early":
        raise errors.unprocessable("installment_plan_closed", plan_id=plan_id)
    periods = uow.installments.periods([plan_id])
    billed = sum(1 for p in periods if p.status == "billed")
    try:
        return plan, inst.early_repayment(_schedule_of(plan, periods), billed, uow.today(), uow.terms.installments)
    except BillingError as e:
        raise as_huabei_error(e) from None


def _early_view(plan: Any, e: inst.EarlyRepayment) -> dict[str, Any]:
    return {
        "plan_id": plan.plan_id,
        "account_id": plan.account_id,
        "on_date": e.on_date.isoformat(),
        "periods": list(e.periods),
        "principal": e.principal,
        "fee_charged": e.fee_charged,
        "fee_waived": e.fee_waived,
        "amount": e.total,
    }


def quote_early_repayment(system: Huabei, plan_id: int) -> dict[str, Any]:
    """提前还款 quote: the principal of every period not billed yet, due at once; their fees
    are waived or charged as the terms say."""
    with system.uow(readonly=True) as uow:
        return _early_view(*_early(uow, plan_id))


def repay_installments_early(system: Huabei, plan_id: int, idempotency_key: str | None) -> Outcome:
    """提前还款: the user pays the rest of a plan now (the periods already billed stay on
    their bills). Moves money: a repayment of principal (and the fees, if charged)."""

    def work(uow: UnitOfWork) -> Outcome:
        require_eod_current(uow)
        plan = uow.installments.plan(plan_id)
        if plan is None:
            raise errors.not_found("installment_plan_not_found", plan_id=plan_id)
        uow.accounts.get(plan.account_id, for_update=True)
        plan, e = _early(uow, plan_id)
        today, now = uow.today(), uow.now()
        allocation = {LedgerAccount.CUSTOMER_PRINCIPAL: e.principal}
        if e.fee_charged:
            uow.ledger.post(ledger.fee_entry(plan.account_id, e.fee_charged, today, plan_id), now)
            allocation[LedgerAccount.CUSTOMER_FEE] = e.fee_charged
        repayment_id = uow.repayments.add(
            account_id=plan.account_id,
            amount=e.total,
            allocation={k.value: v for k, v in allocation.items()},
            business_date=today,
            created_at=now,
        )
        uow.ledger.post(ledger.repayment_entry(plan.account_id, allocation, today, repayment_id), now)
        uow.accounts.change_balances(plan.account_id, used=-e.principal)
        uow.installments.settle_early(plan_id, today)
        uow.events.add(
            "InstallmentRepaidEarly",
            account_id=plan.account_id,
            payload={
                "plan_id": plan_id,
                "repayment_id": repayment_id,
                "principal": e.principal,
                "fee_charged": e.fee_charged,
                "fee_waived": e.fee_waived,
            },
            business_date=today,
            now=now,
        )
        return Outcome(201, {**_early_view(plan, e), "repayment_id": repayment_id, "status": "repaid_early"})

    return run_idempotent(system, "early_repayment", idempotency_key, {"plan_id": plan_id}, work)
