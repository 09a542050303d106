"""Installments (分期) in storage: quotes, conversions of a bill or a purchase, plans, early repayment, fee waivers."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from huabei import errors
from huabei.billing import installments as inst
from huabei.billing.positions import as_huabei_error, last_close_date, parse_period, require_eod_current
from huabei.billing.rules import (
    BillingError,
    minimum_from_parts,
)
from huabei.config import FeeWaiverCampaign, ProductTerms
from huabei.events import InstallmentPlanCreated, InstallmentRepaidEarly
from huabei.ledger import rules as ledger
from huabei.ledger.rules import LedgerAccount
from huabei.platform.idempotency import PUBLIC_CALLER, Outcome, run_idempotent
from huabei.platform.unit_of_work import Huabei, UnitOfWork

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
    uow.events.record(
        InstallmentPlanCreated(
            account_id=c.account_id,
            plan_id=plan_id,
            kind=c.kind,
            principal=s.principal,
            term=s.term,
            total_fee=s.total_fee,
            campaign=c.campaign,
            reasons=["fee_waived"] if s.fee_waived else [],
        ),
        business_date=today,
        now=now,
    )
    return plan_view_of(uow, plan_id)


def create_bill_installments(
    system: Huabei,
    account_id: int,
    period: str,
    term: int,
    idempotency_key: str | None,
    amount: int | None = None,
    *,
    caller: str = PUBLIC_CALLER,
) -> Outcome:
    """账单分期: turn (the convertible part of) a bill into ``term`` monthly periods."""
    request = {"account_id": account_id, "period": period, "term": term, "amount": amount}

    def work(uow: UnitOfWork) -> Outcome:
        require_eod_current(uow)
        if uow.accounts.get(account_id, for_update=True) is None:
            raise errors.not_found("account_not_found", account_id=account_id)
        return Outcome(201, _create_plan(uow, _bill_conversion(uow, account_id, period, term, amount)))

    return run_idempotent(system, "installment", idempotency_key, request, work, caller=caller)


def create_purchase_installments(
    system: Huabei,
    purchase_id: int,
    term: int,
    idempotency_key: str | None,
    amount: int | None = None,
    *,
    caller: str = PUBLIC_CALLER,
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

    return run_idempotent(system, "installment", idempotency_key, request, work, caller=caller)


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


def repay_installments_early(
    system: Huabei, plan_id: int, idempotency_key: str | None, *, caller: str = PUBLIC_CALLER
) -> Outcome:
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
        uow.events.record(
            InstallmentRepaidEarly(
                account_id=plan.account_id,
                plan_id=plan_id,
                repayment_id=repayment_id,
                principal=e.principal,
                fee_charged=e.fee_charged,
                fee_waived=e.fee_waived,
            ),
            business_date=today,
            now=now,
        )
        return Outcome(201, {**_early_view(plan, e), "repayment_id": repayment_id, "status": "repaid_early"})

    return run_idempotent(system, "early_repayment", idempotency_key, {"plan_id": plan_id}, work, caller=caller)
