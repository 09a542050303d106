"""The simulator's only door into huabei: the service layer, the same functions the API calls.

:class:`ServiceGateway` wraps every use case the synthetic users and the operator need.
It is the simulation's main extension point:

* it drives every capability (the end-of-day job, bills and installments, the automatic
  opening, raise applications, campaigns, host facts), or the credit-line core alone when
  asked (``core_only``; see :data:`Capabilities`);
* tests replace it (a subclass) to break something on purpose and prove the invariant
  checks catch it on the day it happens;
* the fault injector wraps its money-moving calls (a retry with the same idempotency key
  must answer the same and move nothing twice).

Money-moving calls return a :class:`Result`: the use case's :class:`Outcome` or the
:class:`HuabeiError` it refused with (a declined purchase is an answer, not a failure).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from huabei.batch import eod
from huabei.billing import calendar as cal
from huabei.billing import service as billing
from huabei.errors import HuabeiError
from huabei.limits import campaign_service as campaigns
from huabei.limits import service as limits
from huabei.lines import service as accounts
from huabei.lines.purchase_rules import Channel, PurchaseRequest
from huabei.money import apply_rate
from huabei.onboarding import service as onboarding
from huabei.payments import service as purchases
from huabei.platform import admin
from huabei.platform.idempotency import Outcome
from huabei.platform.unit_of_work import Huabei
from huabei.restrictions import service as restrictions
from huabei.risk import evaluation as risk_evaluation
from huabei.risk import service as risk_service
from huabei.scoring import service as scoring


@dataclass(frozen=True)
class Result:
    outcome: Outcome | None = None
    error: HuabeiError | None = None

    @property
    def ok(self) -> bool:
        return self.outcome is not None and not self.outcome.replayed

    @property
    def code(self) -> str:
        return self.error.code if self.error is not None else "ok"

    @property
    def body(self) -> dict[str, Any]:
        return self.outcome.body if self.outcome is not None else {}

    def same_answer(self, other: Result) -> bool:
        """A replay answers exactly what the first call answered."""
        if self.error is not None or other.error is not None:
            return (
                self.error is not None
                and other.error is not None
                and self.error.code == other.error.code
                and self.error.params == other.error.params
            )
        assert self.outcome is not None and other.outcome is not None
        return self.outcome.status == other.outcome.status and self.outcome.body == other.outcome.body


def attempt(fn: Callable[..., Outcome], *args: Any, **kwargs: Any) -> Result:
    try:
        return Result(outcome=fn(*args, **kwargs))
    except HuabeiError as e:
        return Result(error=e)


@dataclass(frozen=True)
class BillView:
    """What a user reads on the statement: the bill to repay."""

    period: str
    due_date: dt.date
    total_due: int
    minimum_due: int
    #: The bill may still be turned into installments (账单分期) until this date (inclusive).
    convertible_until: dt.date | None = None


@dataclass(frozen=True)
class Capabilities:
    """Which parts of huabei the simulation drives (reported, so a report says what it covered):
    all of them, or none but the credit-line core (``core_only``)."""

    eod: bool = False  # the end-of-day job (bills, accrual, delinquency, scoring steps)
    bills: bool = False  # bills, minimum repayment, bill and purchase installments
    opening: bool = False  # automatic opening decision (score + limit policy)
    raises: bool = False  # raise applications
    campaigns: bool = False  # raise campaigns
    facts: bool = False  # host facts posted to the score

    def as_dict(self) -> dict[str, bool]:
        return {k: getattr(self, k) for k in ("eod", "bills", "opening", "raises", "campaigns", "facts")}


@dataclass
class ServiceGateway:
    """The service-layer calls of the simulation (core first; billing and scoring when present)."""

    system: Huabei
    #: Turn integrations off (``core_only=True``): the simulation then drives the credit-line
    #: core alone — operator openings, no end-of-day job, no bills — even when billing and
    #: scoring are installed.
    core_only: bool = False
    capabilities: Capabilities = field(init=False)

    def __post_init__(self) -> None:
        on = not self.core_only
        self._eod = eod
        self._billing = billing
        self._scoring = scoring
        self._limits = limits
        self._campaigns = campaigns
        self.capabilities = Capabilities(eod=on, bills=on, opening=on, raises=on, campaigns=on, facts=on)

    @property
    def terms(self) -> Any:
        return self.system.terms

    # --- clock and end of day ---------------------------------------------------------------

    def set_date(self, day: dt.date, *, first: bool = False) -> None:
        admin.set_business_date(self.system, day, allow_backwards=first)

    def eod_steps(self, day: dt.date) -> list[str]:
        """The end-of-day steps a crash can be injected into (none in the core's daily close)."""
        if not self.capabilities.eod:
            return []
        return [s.name for s in self._eod.STEPS]

    def end_of_day(self, day: dt.date, *, hook: Callable[[str], None] | None = None) -> dict[str, Any]:
        """The end-of-day job for ``day`` and every earlier day not run yet. huabei's job for a
        day books that day *before* its activity (bills closing on the statement date, the
        day's interest, overdue marking, …), so the simulation runs it first thing each day.

        ``hook(step)`` is called inside each step's transaction after its work, before the
        commit: raising there kills the run mid-way (the step rolls back) — the ``eod_crash``
        fault. Core only (``core_only``): the daily close lifts the restrictions whose
        lifting date has come."""
        if not self.capabilities.eod:
            self.set_date(day)
            with self.system.uow() as uow:
                lifted = restrictions.lift_due_restrictions(uow)
                uow.commit()
            return {"lift_due_restrictions": lifted}
        after = None if hook is None else (lambda name, _uow: hook(name))
        report = self._eod.run_eod(self.system, until=day, after_step=after)
        return {"days": len(report.days)}

    # --- users and lines ---------------------------------------------------------------------

    def register(self, *, user_id: str, name: str, phone: str, verified: bool, profile: dict[str, Any]) -> Result:
        return attempt(
            _as_outcome(accounts.register_user),
            self.system,
            user_id=user_id,
            name=name,
            phone=phone,
            real_name_verified=verified,
            profile=profile,
        )

    def post_facts(self, user_id: str, facts: dict[str, Any]) -> Result:
        if not self.capabilities.facts:
            return Result(outcome=Outcome(200, {}))
        return attempt(_as_outcome(self._scoring.post_facts), self.system, user_id, facts)

    def open_line(self, user_id: str, *, operator_limit: int, key: str) -> Result:
        """开通: the automatic decision (score and limit policy) when available, else an
        operator opening with ``operator_limit``."""
        if self.capabilities.opening:
            return attempt(_as_outcome(onboarding.open_account), self.system, user_id=user_id)
        return attempt(_as_outcome(onboarding.open_account), self.system, user_id=user_id, base_limit=operator_limit)

    def open_lines(self, applicants: list[tuple[str, int]]) -> list[Result]:
        """开通 for many applicants (user id, operator limit) at once: the automatic decisions in
        one transaction (``onboarding.open_accounts``: the same answers as :meth:`open_line` one
        by one), or operator openings one by one when the automatic decision is not there."""
        if not self.capabilities.opening:
            return [self.open_line(uid, operator_limit=limit, key="") for uid, limit in applicants]
        answers = onboarding.open_accounts(self.system, [uid for uid, _ in applicants])
        return [Result(error=a) if isinstance(a, HuabeiError) else Result(outcome=Outcome(200, a)) for a in answers]

    def account(self, account_id: int) -> dict[str, Any]:
        return accounts.account_view(self.system, account_id)

    def grant_temporary_limit(self, account_id: int, amount: int, expires_on: dt.date) -> Result:
        return attempt(
            _as_outcome(accounts.grant_temporary_limit),
            self.system,
            account_id,
            amount=amount,
            expires_on=expires_on,
            reasons=["temporary_limit_campaign"],
            actor="simulation",
        )

    def lock_out(self, account_id: int) -> Result:
        """Too many wrong payment passwords: a 24-hour lock (lifts at the next end of day)."""
        return attempt(
            _as_outcome(restrictions.place_restriction),
            self.system,
            account_id,
            cause="wrong_password_lockout",
            evidence={"attempts": self.terms.restrictions.wrong_password_attempts},
            actor="simulation",
        )

    # --- money -------------------------------------------------------------------------------

    def purchase(
        self,
        account_id: int,
        amount: int,
        merchant_id: str,
        category: str,
        channel: Channel,
        key: str,
        device_id: str | None = None,
    ) -> Result:
        req = PurchaseRequest(account_id, amount, merchant_id, category, channel, device_id=device_id)
        return attempt(purchases.authorise_purchase, self.system, req, key)

    def refund(self, purchase_id: int, amount: int, key: str) -> Result:
        return attempt(purchases.refund_purchase, self.system, purchase_id, amount, key)

    def repay(self, account_id: int, amount: int, key: str) -> Result:
        return attempt(purchases.repay, self.system, account_id, amount, key)

    def owed(self, account_id: int) -> int:
        """Everything the user owes now (the most a repayment may be)."""
        if self.capabilities.bills:
            return int(self._billing.billing_status(self.system, account_id)["owed"])
        return int(self.account(account_id)["used"])

    # --- bills -------------------------------------------------------------------------------

    def statement_day(self) -> int:
        """Day of the month from which a user reads the new bill."""
        return self.terms.billing.statement_day

    def statement(self, account_id: int, day: dt.date) -> BillView | None:
        """The bill that closed on the statement date ``day``. With billing: the bill itself
        (None when the line had nothing to bill). Core (no bills): what was used at the start
        of the statement date, its minimum by the product's rate, due on the line's due day."""
        period = cal.period_of_statement(day)
        if self.capabilities.bills:
            try:
                b = self._billing.get_bill(self.system, account_id, period)
            except HuabeiError as e:
                if e.code == "bill_not_found":
                    return None
                raise
            return BillView(
                period=period,
                due_date=dt.date.fromisoformat(b["due_date"]),
                total_due=int(b["total_due"]),
                minimum_due=int(b["minimum_due"]),
                convertible_until=dt.date.fromisoformat(b["due_date"]),
            )
        view = self.account(account_id)
        total = int(view["used"])
        due = cal.due_date(period, int(view["due_day"]), self.terms.billing)
        minimum = min(total, apply_rate(total, self.terms.billing.minimum_repayment_rate))
        return BillView(period=period, due_date=due, total_due=total, minimum_due=minimum)

    def repayment_amount(self, account_id: int, kind: str, bill: BillView | None) -> int:
        """What a repayment of ``kind`` comes to now: ``all`` = everything owed; ``full`` =
        every bill in full (overdue ones included); ``minimum`` = the minimum still unpaid on
        the bills not yet due plus everything on overdue bills."""
        if not self.capabilities.bills:
            owed = self.owed(account_id)
            if kind == "all" or bill is None:
                return owed
            return min(owed, bill.total_due if kind == "full" else bill.minimum_due)
        status = self._billing.billing_status(self.system, account_id)
        owed = int(status["owed"])
        if kind == "all":
            return owed
        if kind == "full":
            return min(owed, int(status["billed_unpaid"]))
        need = 0
        for b in self._billing.list_bills(self.system, account_id):
            if b["status"] == "overdue":
                need += int(b["unpaid"])
            elif b["status"] == "open":
                need += int(b["minimum_unpaid"])
        return min(owed, need)

    def convert_bill(self, account_id: int, period: str, term: int, key: str) -> Result | None:
        """账单分期 (None when billing's installments are not available)."""
        if not self.capabilities.bills:
            return None
        return attempt(self._billing.create_bill_installments, self.system, account_id, period, term, key)

    def convert_purchase(self, account_id: int, purchase_id: int, term: int, key: str) -> Result | None:
        """交易分期 (None when billing's installments are not available)."""
        if not self.capabilities.bills:
            return None
        return attempt(self._billing.create_purchase_installments, self.system, purchase_id, term, key)

    def repay_installments_early(self, plan_id: int, key: str) -> Result | None:
        """提前还款 of one plan (None when billing's installments are not available)."""
        if not self.capabilities.bills:
            return None
        return attempt(self._billing.repay_installments_early, self.system, plan_id, key)

    # --- scoring -----------------------------------------------------------------------------

    def apply_for_raise(self, account_id: int, key: str) -> Result | None:
        """申请提额 (None when not available). The answer's ``decision`` is approved / declined."""
        if not self.capabilities.raises:
            return None
        return attempt(_as_outcome(self._limits.apply_for_raise), self.system, account_id)

    def enrol_campaign(self, account_id: int, code: str, key: str) -> Result | None:
        """提额活动 (None when not available)."""
        if not self.capabilities.campaigns:
            return None
        return attempt(_as_outcome(self._campaigns.enrol), self.system, account_id, code)

    # --- the host's risk inputs (the fraud schemes, simulation.fraud) ---------------------------

    def change_contact(self, user_id: str, *, phone: str | None = None, bank_card: str | None = None) -> Result:
        """换绑 (``PATCH /v1/users/{id}``)."""
        return attempt(_as_outcome(accounts.update_contact), self.system, user_id, phone=phone, bank_card=bank_card)

    def verify_identity(self, user_id: str) -> Result:
        """身份核验 by the host (``POST /v1/users/{id}/verifications``)."""
        return attempt(_as_outcome(risk_evaluation.verify_identity), self.system, user_id, method="face")

    def report_external_credit(self, user_id: str, days_past_due: int, amount_overdue: int) -> Result:
        """The host's report of the user's standing on another credit product."""
        return attempt(
            _as_outcome(risk_service.report_external_credit),
            self.system,
            user_id,
            product="jiebei",
            days_past_due=days_past_due,
            amount_overdue=amount_overdue,
        )


def _as_outcome(fn: Callable[..., dict[str, Any]]) -> Callable[..., Outcome]:
    def call(*args: Any, **kwargs: Any) -> Outcome:
        return Outcome(200, fn(*args, **kwargs))

    return call
