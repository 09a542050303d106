"""What entrypoints show of billing: bills, the unbilled cycle, the billing status; the due-day change."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from huabei import errors
from huabei.billing import book
from huabei.billing import calendar as cal
from huabei.billing.allocation import unpaid_total
from huabei.billing.closing_rules import compute_close, cycle_from_items
from huabei.billing.daily import bill_state
from huabei.billing.positions import (
    as_huabei_error,
    bill_row,
    last_close_date,
    parse_period,
    position,
    positions_of_book,
)
from huabei.billing.rules import (
    BillingError,
    Regime,
    accrual_basis,
    minimum_unpaid,
)
from huabei.config import BillingTerms
from huabei.events import DueDayChanged
from huabei.platform.unit_of_work import Huabei

# =========================================================================== views


def _line_view(r: Any) -> dict[str, Any]:
    return {"kind": r["kind"], "amount": r["amount"], "date": r["activity_date"].isoformat(), "ref": r["ref"]}


def bill_view(
    b: Any, lines: Iterable[Any], allocations: Iterable[Any], today: dt.date, terms: BillingTerms
) -> dict[str, Any]:
    g = dict(b._mapping) if hasattr(b, "_mapping") else dict(b)
    unpaid = unpaid_total(g)
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
            purchases=book.unbilled_purchases(uow.conn, account_id, since),
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
            unpaid_bills=[bill_row(b) for b in repo.unpaid_bills(account_id)],
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


def repayment_positions(system: Huabei) -> dict[int, dict[str, Any]]:
    """Every line's repayment position in one read-only unit of work, set-based (a replay or a
    batch reads the whole book once instead of :func:`billing_status` per line): what is owed and
    billed unpaid (the same :class:`~huabei.billing.allocation.Position` rules), and the latest
    bill's ``total_due``, ``minimum_due`` and ``paid`` (``None`` before the line's first bill)."""
    with system.uow(readonly=True) as uow:
        latest = uow.billing.latest_bills_of_book()
        out: dict[int, dict[str, Any]] = {}
        for a, pos in positions_of_book(uow).items():
            b = latest.get(a)
            out[a] = {
                "account_id": a,
                "owed": pos.owed,
                "billed_unpaid": pos.billed_dues,
                "latest_bill": None
                if b is None
                else {"total_due": b.total_due, "minimum_due": b.minimum_due, "paid": b.paid},
            }
        return out


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
            uow.accounts.set_due_day(account_id, due_day)
            uow.billing.add_due_day_change(
                account_id=account_id, old_day=line.due_day, new_day=due_day, business_date=today, created_at=uow.now()
            )
            uow.events.record(
                DueDayChanged(account_id=account_id, old_day=line.due_day, new_day=due_day),
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
