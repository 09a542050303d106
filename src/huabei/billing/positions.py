"""A line's position and money coming in: what a line owes, where a repayment or a refund goes,
and writing that allocation (docs/billing.md). The order is documented in :mod:`huabei.billing.service`."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any

from huabei import errors
from huabei.billing import calendar as cal
from huabei.billing.allocation import (
    BILL_STATE_COLUMNS,
    COMPONENT_ACCOUNT,
    Application,
    BillRow,
    Position,
    pay_bill,
)
from huabei.billing.rules import BillingError
from huabei.errors import ErrorKind, HuabeiError
from huabei.ledger import rules as ledger
from huabei.ledger.rules import LedgerAccount
from huabei.money import format_yuan
from huabei.platform.unit_of_work import UnitOfWork

#: Rows of an end-of-day step processed between two batched writes.
BATCH_ACCOUNTS = 2_000

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


def position(uow: UnitOfWork, account_id: int, *, for_update: bool = True) -> Position:
    """The line's position, under its row lock unless ``for_update`` is false (a read-only view)."""
    line = uow.accounts.get(account_id, for_update=for_update)
    if line is None:
        raise errors.not_found("account_not_found", account_id=account_id)
    last_close = last_close_date(uow)
    totals = uow.billing.accrual_totals(account_id, last_close or dt.date.min)
    return Position(
        line=line,
        bills=[bill_row(r) for r in uow.billing.unpaid_bills(account_id)],
        plan_unbilled=uow.installments.unbilled_principal(account_id),
        unbilled_interest=totals["interest"],
        unbilled_penalty=totals["penalty"],
        last_close=last_close,
    )


def positions_of_book(uow: UnitOfWork) -> dict[int, Position]:
    """:func:`position` of every line, read-only, set-based: one query each for the lines, the
    unpaid bills, the unbilled installment principal and the accruals since the last close (the
    same :class:`Position`, so what is owed follows the same rule)."""
    last_close = last_close_date(uow)
    lines = uow.accounts.get_many(uow.accounts.every_id())
    bills = uow.billing.unpaid_bills_of_book()
    plans = uow.installments.unbilled_principal_of_book()
    totals = uow.billing.accrual_totals_of_book(last_close or dt.date.min)
    none = {"interest": 0, "penalty": 0}
    return {
        a: Position(
            line=line,
            bills=[bill_row(r) for r in bills.get(a, [])],
            plan_unbilled=plans.get(a, 0),
            unbilled_interest=totals.get(a, none)["interest"],
            unbilled_penalty=totals.get(a, none)["penalty"],
            last_close=last_close,
        )
        for a, line in lines.items()
    }


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


def bill_row(r: Any) -> BillRow:
    """A stored bill (a row of ``bills``) as the allocator's :class:`BillRow` (a mutable copy of every column)."""
    row: BillRow = dict(r._mapping)  # type: ignore[assignment]
    return row
