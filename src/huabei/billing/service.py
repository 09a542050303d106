"""The billing cycle in storage: the use cases entrypoints and the end-of-day job call
(docs/billing.md, "Storage and the end-of-day job"). This module is their one door; they live in
:mod:`~huabei.billing.positions` (a line's position, allocating money in),
:mod:`~huabei.billing.closing` (closing bills), :mod:`~huabei.billing.daily` (accruals, overdue,
delinquency), :mod:`~huabei.billing.views` (what is shown) and :mod:`~huabei.billing.plans`
(installments).

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

from huabei.billing.allocation import allocation_view, plan_refund, plan_repayment
from huabei.billing.closing import close_bills_step
from huabei.billing.daily import (
    accrue_interest_step,
    accrue_penalty_step,
    delinquency_step,
    expire_temporary_limits_step,
    mark_overdue_step,
)
from huabei.billing.plans import (
    create_bill_installments,
    create_purchase_installments,
    get_plan,
    list_plans,
    quote_bill_installments,
    quote_early_repayment,
    quote_purchase_installments,
    repay_installments_early,
)
from huabei.billing.positions import apply_application, position, require_eod_current
from huabei.billing.views import billing_status, change_due_day, get_bill, list_bills, unbilled_view

__all__ = [
    "accrue_interest_step",
    "accrue_penalty_step",
    "allocation_view",
    "apply_application",
    "billing_status",
    "change_due_day",
    "close_bills_step",
    "create_bill_installments",
    "create_purchase_installments",
    "delinquency_step",
    "expire_temporary_limits_step",
    "get_bill",
    "get_plan",
    "list_bills",
    "list_plans",
    "mark_overdue_step",
    "plan_refund",
    "plan_repayment",
    "position",
    "quote_bill_installments",
    "quote_early_repayment",
    "quote_purchase_installments",
    "repay_installments_early",
    "require_eod_current",
    "unbilled_view",
]
