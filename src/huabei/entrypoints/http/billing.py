"""HTTP endpoints of the billing cycle: bills, repayment day, installments, end-of-day job,
credit-bureau file. ``router(system)`` is included by ``huabei.entrypoints.http.app.create_app``.

Amounts are yuan strings as everywhere in the API; errors are the app's
``{"error": {"code", "message", "message_zh", …}}`` with stable codes (the app's exception
handlers answer them). Money-moving POSTs (installments, early repayment) need an
``Idempotency-Key`` header.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path
from fastapi.responses import JSONResponse, PlainTextResponse
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
)

from huabei.batch import eod
from huabei.billing import bureau
from huabei.billing import service as billing
from huabei.billing.calendar import DPD_BUCKETS
from huabei.entrypoints.auth import allow
from huabei.entrypoints.http.common import (
    ERRORS,
    MAX_ID,
    AccountId,
    Caller,
    IdemKey,
    Month,
    Period,
    PlanId,
    PurchaseId,
    outcome_response,
)
from huabei.entrypoints.http.eod_jobs import EodJobs
from huabei.entrypoints.http.schemas import (
    IsoDate,
    SignedYuan,
    WholeNumber,
    Yuan,
    YuanIn,
    YuanLimitIn,
    _In,
    whole_number,
)
from huabei.platform.unit_of_work import Huabei


class _Out(BaseModel):
    model_config = ConfigDict(extra="ignore")


# --- bills ----------------------------------------------------------------------------


class BillLineOut(_Out):
    kind: str
    amount: Yuan
    date: dt.date
    ref: str


class AllocationOut(_Out):
    date: dt.date
    source: str
    source_id: int
    component: str
    amount: Yuan


class BillOut(_Out):
    period: str = Field(description="YYYY-MM of the statement date")
    statement_date: dt.date
    due_date: dt.date
    status: Literal["open", "paid", "overdue"]
    regime: str = Field(description="not_due, revolving, overdue or paid: what accrues on the bill today")
    opening_balance: SignedYuan = Field(description="balance brought forward: carried balance − carried credit")
    closing_balance: SignedYuan = Field(description="total_due − credit_balance: what the lines add up to")
    total_due: Yuan
    minimum_due: Yuan
    minimum_unpaid: Yuan
    unpaid: Yuan
    paid: Yuan
    paid_by_due_date: Yuan
    credit_balance: Yuan
    converted: Yuan = Field(description="turned into installments")
    carried_out: Yuan = Field(description="carried onto a later bill after a minimum repayment")
    carried_to: str | None
    unpaid_principal: Yuan
    unpaid_fee: Yuan
    unpaid_interest: Yuan
    unpaid_penalty: Yuan
    minimum_rated_base: SignedYuan
    minimum_in_full: Yuan
    temporary_limit_part: Yuan
    overdue_since: dt.date | None
    days_past_due: int
    bucket: str
    lines: list[BillLineOut]
    allocations: list[AllocationOut]


class UnbilledOut(_Out):
    period: str
    statement_date: dt.date
    due_date: dt.date
    as_of: dt.date
    total_due: Yuan
    minimum_due: Yuan
    credit_balance: Yuan
    lines: list[BillLineOut]


class BillingStatusOut(_Out):
    account_id: int
    owed: Yuan
    billed_unpaid: Yuan
    unbilled_principal: Yuan
    installment_principal_unbilled: Yuan
    unbilled_interest: Yuan
    unbilled_penalty: Yuan
    credit_balance: Yuan
    due_day: int
    days_past_due: int
    bucket: str
    worst_bucket: str
    as_of: dt.date


class DueDayIn(_In):
    due_day: WholeNumber


class DueDayOut(_Out):
    account_id: int
    due_day: int
    choices: list[int]
    changed: bool
    as_of: dt.date


# --- installments ---------------------------------------------------------------------


class InstallmentIn(_In):
    term: WholeNumber = Field(ge=1, le=120, description="number of periods: 3, 6, 9 or 12 by default")
    amount: YuanIn | None = Field(default=None, description="part to convert (default: all that can be)")


class SchedulePeriodOut(_Out):
    number: int
    due_date: dt.date
    principal: Yuan
    fee: Yuan
    total: Yuan
    status: str | None = None


class ScheduleOut(_Out):
    kind: str
    account_id: int
    period: str | None = None
    purchase_id: int | None = None
    quoted_on: dt.date
    principal: Yuan
    term: int
    fee_rate: str
    fee_waived: bool
    campaign: str | None
    total_fee: Yuan
    total: Yuan
    periods: list[SchedulePeriodOut]


class PlanOut(_Out):
    plan_id: int
    account_id: int
    kind: str
    converted_from: str
    purchase_id: int | None
    period: str | None
    principal: Yuan
    term: int
    fee_rate: str
    fee_waived: bool
    campaign: str | None
    total_fee: Yuan
    total: Yuan
    status: str
    periods_billed: int
    created_on: dt.date
    periods: list[SchedulePeriodOut]


class EarlyRepaymentOut(_Out):
    plan_id: int
    account_id: int
    on_date: dt.date
    periods: list[int]
    principal: Yuan
    fee_charged: Yuan
    fee_waived: Yuan
    amount: Yuan
    repayment_id: int | None = None
    status: str | None = None


# --- admin ----------------------------------------------------------------------------


class EodIn(_In):
    """Exactly one of ``date`` (that day's run) and ``until`` (every day not run yet up to it)."""

    model_config = ConfigDict(
        json_schema_extra={
            "oneOf": [
                {"required": ["date"], "properties": {"date": {"type": "string"}}},
                {"required": ["until"], "properties": {"until": {"type": "string"}}},
            ]
        }
    )

    until: IsoDate | None = None
    date: IsoDate | None = None


class QuarantinedOut(_Out):
    kind: Literal["user", "account"] = Field(description="what the record's key names")
    record: str = Field(description="the record's key in the step's population (a user id or an account id)")
    error: str


class EodStepOut(_Out):
    name: str
    status: str
    counts: dict[str, Any]
    seconds: float
    quarantined: list[QuarantinedOut] = Field(default=[], description="records the step set aside this run")


class EodDayOut(_Out):
    business_date: dt.date
    steps: list[EodStepOut]


class EodOut(_Out):
    last_completed: dt.date | None
    business_date: dt.date
    days: list[EodDayOut]


class QuarantineRowOut(QuarantinedOut):
    quarantine_id: int = Field(description="its number, to retry it: POST /v1/admin/eod/quarantine/{id}/retry")
    business_date: dt.date
    step: str
    retried_at: dt.datetime | None = Field(default=None, description="when it was run again and went through")
    retry_counts: dict[str, Any] | None = Field(default=None, description="what the step did when retried")


class EodJobOut(_Out):
    run: str
    status: Literal["running", "done", "failed", "cancelled", "interrupted"] = Field(
        description="interrupted: its server stopped (killed, restarted) while it ran; the days done are kept "
        "and the next run continues from there"
    )
    until: dt.date
    days_total: int
    days_done: int
    last_completed: dt.date | None
    error: dict[str, str] | None
    cancel_requested: bool = Field(default=False, description="a cancel was asked: it stops after the day it runs")
    started_at: dt.datetime | None = None
    finished_at: dt.datetime | None = None
    url: str


class EodStatusOut(_Out):
    last_completed: dt.date | None
    business_date: dt.date
    steps: list[dict[str, str]]
    quarantined: list[QuarantineRowOut] = Field(
        default=[], description="the latest records set aside and not yet retried"
    )


class BureauRecordOut(_Out):
    account_id: int
    user_id: str
    month: str
    seq: int
    action: Literal["A", "C"]
    format_version: str
    as_of: dt.date
    credit_limit: Yuan
    balance: SignedYuan
    amount_overdue: Yuan
    days_past_due: int
    bucket: str
    worst_bucket: str
    account_status: str
    reason: str | None


class BureauChangesIn(_In):
    """The fields corrected: at least one, not null (400 invalid_request otherwise)."""

    model_config = ConfigDict(
        json_schema_extra={
            "anyOf": [{"required": [k], "properties": {k: {"not": {"type": "null"}}}} for k in bureau.CORRECTABLE]
        }
    )

    credit_limit: YuanLimitIn | None = None
    balance: YuanLimitIn | None = None
    amount_overdue: YuanLimitIn | None = None
    # the bounds inside the Annotated (before the validator), so the document states them as minimum/maximum
    days_past_due: Annotated[int, Field(ge=0, le=MAX_ID), BeforeValidator(whole_number)] | None = None
    bucket: Literal[DPD_BUCKETS] | None = None  # type: ignore[valid-type]
    worst_bucket: Literal[DPD_BUCKETS] | None = None  # type: ignore[valid-type]
    account_status: Literal[bureau.ACCOUNT_STATUSES] | None = None  # type: ignore[valid-type]


class BureauCorrectionIn(_In):
    account_id: WholeNumber = Field(ge=1, le=MAX_ID)
    reason: str = Field(min_length=1, max_length=64)
    changes: BureauChangesIn


_outcome = outcome_response


def router(system: Huabei) -> APIRouter:
    r = APIRouter(prefix="/v1", responses=ERRORS)

    # --- bills --------------------------------------------------------------------------
    @r.get(
        "/accounts/{account_id}/bills",
        dependencies=[allow("customer", "agent", "risk", own="account_id")],
        response_model=list[BillOut],
        tags=["bills"],
    )
    def list_bills(account_id: AccountId) -> Any:
        """账单: every closed bill of the line, newest first."""
        return billing.list_bills(system, account_id)

    @r.get(
        "/accounts/{account_id}/bills/unbilled",
        dependencies=[allow("customer", "agent", "risk", own="account_id")],
        response_model=UnbilledOut,
        tags=["bills"],
    )
    def unbilled(account_id: AccountId) -> Any:
        """未出账: what the next bill holds so far."""
        return billing.unbilled_view(system, account_id)

    @r.get(
        "/accounts/{account_id}/bills/{period}",
        dependencies=[allow("customer", "agent", "risk", own="account_id")],
        response_model=BillOut,
        tags=["bills"],
    )
    def get_bill(account_id: AccountId, period: Period) -> Any:
        return billing.get_bill(system, account_id, period)

    @r.get(
        "/accounts/{account_id}/billing",
        dependencies=[allow("customer", "agent", "risk", own="account_id")],
        response_model=BillingStatusOut,
        tags=["bills"],
    )
    def billing_status(account_id: AccountId) -> Any:
        """What the line owes (billed and not), its credit balance and delinquency."""
        return billing.billing_status(system, account_id)

    @r.put(
        "/accounts/{account_id}/due-day",
        dependencies=[allow("customer", own="account_id")],
        response_model=DueDayOut,
        tags=["bills"],
    )
    def change_due_day(account_id: AccountId, body: DueDayIn) -> Any:
        """还款日: one of the offered days, changed at most once per cool-off period."""
        return billing.change_due_day(system, account_id, body.due_day)

    # --- installments -------------------------------------------------------------------
    @r.post(
        "/accounts/{account_id}/bills/{period}/installment-quotes",
        response_model=ScheduleOut,
        tags=["installments"],
        dependencies=[allow("customer", "agent", own="account_id")],
    )
    def quote_bill(account_id: AccountId, period: Period, body: InstallmentIn) -> Any:
        """账单分期 quote: the schedule, nothing changed."""
        return billing.quote_bill_installments(system, account_id, period, body.term, body.amount)

    @r.post(
        "/accounts/{account_id}/bills/{period}/installments",
        dependencies=[allow("customer", own="account_id")],
        status_code=201,
        response_model=PlanOut,
        tags=["installments"],
    )
    def convert_bill(
        account_id: AccountId, period: Period, body: InstallmentIn, caller: Caller, idempotency_key: IdemKey
    ) -> Any:
        return _outcome(
            billing.create_bill_installments(
                system, account_id, period, body.term, idempotency_key, body.amount, caller=caller
            ),
            PlanOut,
        )

    @r.post(
        "/purchases/{purchase_id}/installment-quotes",
        dependencies=[allow("customer", "agent", own="purchase_id")],
        response_model=ScheduleOut,
        tags=["installments"],
    )
    def quote_purchase(purchase_id: PurchaseId, body: InstallmentIn) -> Any:
        """交易分期 quote: the schedule, nothing changed."""
        return billing.quote_purchase_installments(system, purchase_id, body.term, body.amount)

    @r.post(
        "/purchases/{purchase_id}/installments",
        dependencies=[allow("customer", own="purchase_id")],
        status_code=201,
        response_model=PlanOut,
        tags=["installments"],
    )
    def convert_purchase(purchase_id: PurchaseId, body: InstallmentIn, caller: Caller, idempotency_key: IdemKey) -> Any:
        return _outcome(
            billing.create_purchase_installments(
                system, purchase_id, body.term, idempotency_key, body.amount, caller=caller
            ),
            PlanOut,
        )

    @r.get(
        "/accounts/{account_id}/installments",
        dependencies=[allow("customer", "agent", "risk", own="account_id")],
        response_model=list[PlanOut],
        tags=["installments"],
    )
    def list_plans(account_id: AccountId) -> Any:
        return billing.list_plans(system, account_id)

    @r.get(
        "/installments/{plan_id}",
        dependencies=[allow("customer", "agent", "risk", own="plan_id")],
        response_model=PlanOut,
        tags=["installments"],
    )
    def get_plan(plan_id: PlanId) -> Any:
        return billing.get_plan(system, plan_id)

    @r.post(
        "/installments/{plan_id}/early-repayment-quote",
        dependencies=[allow("customer", "agent", own="plan_id")],
        response_model=EarlyRepaymentOut,
        tags=["installments"],
    )
    def quote_early(plan_id: PlanId) -> Any:
        """提前还款 quote: what repaying the rest of the plan now costs."""
        return billing.quote_early_repayment(system, plan_id)

    @r.post(
        "/installments/{plan_id}/early-repayment",
        dependencies=[allow("customer", own="plan_id")],
        status_code=201,
        response_model=EarlyRepaymentOut,
        tags=["installments"],
    )
    def repay_early(plan_id: PlanId, caller: Caller, idempotency_key: IdemKey) -> Any:
        return _outcome(
            billing.repay_installments_early(system, plan_id, idempotency_key, caller=caller), EarlyRepaymentOut
        )

    # --- admin: end-of-day job and credit bureau -----------------------------------------
    jobs = EodJobs(system)

    @r.post(
        "/admin/eod",
        dependencies=[allow()],
        response_model=EodOut,
        responses={202: {"model": EodJobOut, "description": "a long run started as a job; follow it at its url"}},
        tags=["admin"],
    )
    def run_eod(body: EodIn) -> Any:
        """Run the end-of-day job for ``date``, or for every day not run yet up to ``until``. Over
        more than ``operations.eod_inline_days`` days the run is a job: 202 with its id and url."""
        if body.until is not None and body.date is None:
            n = eod.pending_days(system, until=body.until)
            if n > system.terms.operations.eod_inline_days:
                most = system.terms.operations.eod_max_days_per_run
                if n > most:  # the same refusal the run would give
                    eod.run_eod(system, until=body.until)
                job = jobs.start(body.until, n)
                return JSONResponse(status_code=202, content={**job, "url": f"/v1/admin/eod/{job['run']}"})
        return eod.run_eod(system, date=body.date, until=body.until).as_dict()

    @r.get("/admin/eod/{run}", dependencies=[allow("risk", "agent")], response_model=EodJobOut, tags=["admin"])
    def eod_job(run: Annotated[str, Path(pattern=EodJobs.RUN_PATTERN)]) -> Any:
        """A long end-of-day run started by ``POST /v1/admin/eod``: days done of days to run. The
        job is kept in the database: it answers after a restart (``interrupted`` if its server
        died while it ran, with the days done)."""
        return {**jobs.get(run), "url": f"/v1/admin/eod/{run}"}

    @r.post(
        "/admin/eod/{run}/cancel",
        dependencies=[allow()],
        status_code=202,
        response_model=EodJobOut,
        tags=["admin"],
    )
    def cancel_eod_job(run: Annotated[str, Path(pattern=EodJobs.RUN_PATTERN)]) -> Any:
        """Stop a running job after the day it is running (the days done are kept): it then reads
        ``cancelled``. 409 ``eod_job_not_running`` when it is not running any more."""
        return {**jobs.cancel(run), "url": f"/v1/admin/eod/{run}"}

    @r.get("/admin/eod", dependencies=[allow("risk", "agent")], response_model=EodStatusOut, tags=["admin"])
    def eod_status() -> Any:
        return eod.status(system)

    @r.post(
        "/admin/eod/quarantine/{quarantine_id}/retry",
        dependencies=[allow()],
        response_model=QuarantineRowOut,
        tags=["admin"],
    )
    def retry_quarantined(quarantine_id: Annotated[int, Path(ge=1, le=MAX_ID)]) -> Any:
        """Run the step again for a record the end-of-day job set aside, as of the day it failed
        on (once the record is fixed). 409 ``eod_quarantine_retry_failed`` when it still fails
        (nothing changed), ``eod_quarantine_retried`` when it was retried already."""
        return eod.retry_quarantined(system, quarantine_id, "api")

    @r.get("/admin/bureau/{month}", dependencies=[allow("risk")], response_class=PlainTextResponse, tags=["admin"])
    def bureau_file(month: Month) -> Any:
        """The month's credit-bureau file (format version 1, see docs/billing.md)."""
        return PlainTextResponse(bureau.export(system, month), media_type="text/plain; charset=utf-8")

    @r.get(
        "/admin/bureau/{month}/records",
        dependencies=[allow("risk")],
        response_model=list[BureauRecordOut],
        tags=["admin"],
    )
    def bureau_records(month: Month) -> Any:
        return bureau.records(system, month)

    @r.post(
        "/admin/bureau/{month}/corrections",
        dependencies=[allow("risk")],
        status_code=201,
        response_model=BureauRecordOut,
        tags=["admin"],
    )
    def bureau_correct(month: Month, body: BureauCorrectionIn) -> Any:
        """A corrected record: it supersedes the line's current record of the month."""
        changes = body.changes.model_dump(exclude_none=True)
        return bureau.correct_record(system, body.account_id, month, reason=body.reason, changes=changes)

    return r
