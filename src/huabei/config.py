"""Product terms: one typed configuration with documented defaults.

Every number a product manager or risk analyst may change lives here, not as a
literal in the code. Defaults follow the real product (see
``docs/configuration.md`` and ``shared/reference/huabei-rules.md``). An operator
overrides any of them with a YAML file named by ``HUABEI_CONFIG`` (or passed to
:func:`load_terms`); unknown keys are an error, so a typo never silently falls back
to a default.

Amounts are integer fen; rates are ``Decimal`` (write them as strings in YAML,
``"0.0005"``, so no binary float is ever involved).
"""

from __future__ import annotations

import datetime as dt
import itertools
import os
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal

import yaml
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    field_validator,
    model_validator,
)


def _strict_decimal(v: object) -> object:
    if isinstance(v, float):
        raise ValueError('write rates as strings ("0.0005"), never as binary floats')
    return v


Rate = Annotated[Decimal, BeforeValidator(_strict_decimal)]


class _Section(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class MerchantCategoryTerms(_Section):
    """Consumption only (花呗只能用于消费): which merchant categories authorise."""

    allowed: tuple[str, ...] = (
        "retail",
        "dining",
        "travel",
        "utilities",
        "groceries",
        "transport",
        "entertainment",
        "education",
        "health",
        "services",
        "digital_goods",
        "telecom",
    )
    #: Categories that are not consumption and are always declined (category_not_allowed).
    refused: tuple[str, ...] = (
        "transfer",
        "cash_withdrawal",
        "gambling",
        "virtual_currency",
        "securities",
        "lottery",
        "loan_repayment",
    )


class AuthorisationTerms(_Section):
    #: Largest single purchase, whatever the limit (a sanity cap, fen).
    max_single_purchase: int = Field(default=5_000_000, gt=0)  # 50,000 yuan


class BillingTerms(_Section):
    """账单日 / 还款日 and the repayment rules of the billing cycle."""

    #: Day of month a bill closes (账单日).
    statement_day: int = Field(default=1, ge=1, le=28)
    #: Repayment days an account may choose from (还款日).
    due_day_choices: tuple[int, ...] = (9, 10)
    #: Repayment day of a new account.
    default_due_day: int = 10
    #: Days a repayment-day change must wait after the previous change.
    due_day_change_cooloff_days: int = Field(default=365, ge=0)
    #: Minimum repayment (最低还款) as a share of the bill.
    minimum_repayment_rate: Rate = Decimal("0.10")
    #: Spending on a temporary limit (临时额度) is owed in full when due: the minimum counts
    #: a bill's temporary-limit part in full instead of at ``minimum_repayment_rate``.
    temporary_limit_repaid_in_full: bool = True
    #: Daily interest on the unpaid rest after a minimum repayment (0.05 %/day).
    revolving_daily_rate: Rate = Decimal("0.0005")
    #: Daily penalty interest on overdue amounts (逾期利息, 0.05 %/day).
    penalty_daily_rate: Rate = Decimal("0.0005")
    #: Days after the due date before a delinquency is reported (宽限期).
    grace_days: int = Field(default=3, ge=0)


class FeeWaiverCampaign(_Section):
    """免息: an interest-free installment promotion — the fee of a plan is waived when the plan
    matches every condition given (an empty tuple or ``None`` matches anything)."""

    code: str = Field(pattern=r"^[a-z][a-z0-9_]{0,47}$")
    #: Numbers of periods the waiver applies to (e.g. ``(3, 6)``).
    terms: tuple[int, ...] = ()
    #: ``bill`` (账单分期) and / or ``purchase`` (交易分期).
    kinds: tuple[Literal["bill", "purchase"], ...] = ("bill", "purchase")
    #: Purchase installments only: merchants and merchant categories of the purchase.
    merchant_ids: tuple[str, ...] = ()
    merchant_categories: tuple[str, ...] = ()
    #: First and last day (both included) a plan can be created under the waiver.
    starts_on: dt.date | None = None
    ends_on: dt.date | None = None


class InstallmentTerms(_Section):
    """分期: total fee over the plan as a share of the principal, by number of periods."""

    fee_rates: dict[int, Rate] = {
        3: Decimal("0.025"),
        6: Decimal("0.045"),
        9: Decimal("0.065"),
        12: Decimal("0.088"),
    }

    #: 提前还款: on early repayment, waive the fees of the periods not yet billed (the
    #: remaining principal is due at once either way). Loose rule: public sources say the
    #: unbilled fees are not charged, but it is the operator's choice; ``False`` charges them.
    early_repayment_waives_unbilled_fees: bool = True

    #: 免息 campaigns: fee waivers by term, kind, merchant and dates (none by default).
    fee_waivers: tuple[FeeWaiverCampaign, ...] = ()

    @field_validator("fee_rates")
    @classmethod
    def _terms_positive(cls, v: dict[int, Decimal]) -> dict[int, Decimal]:
        for term, rate in v.items():
            if term < 2 or rate < 0:
                raise ValueError("installment terms must be >= 2 periods with a non-negative fee rate")
        return v


class LimitTerms(_Section):
    """额度: bounds of the base limit and of temporary limits (fen)."""

    min_base_limit: int = Field(default=50_000, ge=0)  # 500 yuan
    max_base_limit: int = Field(default=5_000_000, gt=0)  # 50,000 yuan
    #: Limits are granted in steps of this many fen (100 yuan).
    limit_step: int = Field(default=10_000, gt=0)
    max_temporary_limit: int = Field(default=5_000_000, ge=0)
    #: Longest validity of a temporary limit, days (commonly 30–90).
    max_temporary_limit_days: int = Field(default=90, gt=0)

    # --- the base-limit policy (huabei.limits.policy; docs/scoring.md "Limit policy") ---
    #: Starting amount of the base limit by score band (fen), before the multipliers.
    band_base_limits: dict[str, int] = {
        "poor": 50_000,
        "fair": 100_000,
        "good": 300_000,
        "very_good": 600_000,
        "excellent": 1_200_000,
    }
    #: Each multiplier table is ((lowest value, multiplier), ...), lowest values strictly
    #: increasing from 0; a value takes the multiplier of the last row at or below it and a
    #: missing value the first row's. Multipliers have at most three decimals.
    #: Monthly income (fen; unverified income counts at ``unverified_income_share``).
    income_multipliers: tuple[tuple[int, Rate], ...] = (
        (0, Decimal("0.8")),
        (300_000, Decimal("1.0")),
        (600_000, Decimal("1.2")),
        (1_000_000, Decimal("1.4")),
        (2_000_000, Decimal("1.6")),
    )
    #: Share of a declared but unverified income the policy counts.
    unverified_income_share: Rate = Decimal("0.5")
    #: Savings and fund balances (fen).
    assets_multipliers: tuple[tuple[int, Rate], ...] = (
        (0, Decimal("0.9")),
        (100_000, Decimal("1.0")),
        (1_000_000, Decimal("1.1")),
        (5_000_000, Decimal("1.2")),
        (20_000_000, Decimal("1.3")),
    )
    #: Payments in the last 90 days (activity).
    activity_multipliers: tuple[tuple[int, Rate], ...] = (
        (0, Decimal("0.8")),
        (5, Decimal("0.9")),
        (15, Decimal("1.0")),
        (40, Decimal("1.1")),
    )
    #: Months of credit history.
    history_multipliers: tuple[tuple[int, Rate], ...] = (
        (0, Decimal("0.8")),
        (6, Decimal("0.9")),
        (12, Decimal("1.0")),
        (24, Decimal("1.1")),
        (48, Decimal("1.2")),
    )
    #: Profile items complete, of the seven of ``limit_policy.COMPLETENESS_ITEMS``.
    completeness_multipliers: tuple[tuple[int, Rate], ...] = (
        (0, Decimal("0.8")),
        (4, Decimal("0.9")),
        (6, Decimal("1.0")),
        (7, Decimal("1.05")),
    )
    #: Distinct merchant categories (scenarios) paid in the last 90 days.
    diversity_multipliers: tuple[tuple[int, Rate], ...] = (
        (0, Decimal("0.85")),
        (2, Decimal("0.95")),
        (4, Decimal("1.0")),
        (7, Decimal("1.1")),
    )

    # --- periodic re-evaluation (EOD step ``reevaluate_limits``) ---
    #: ``monthly`` (on ``reevaluation_day`` of the month), ``weekly`` (ISO weekday
    #: ``reevaluation_day``, 1 = Monday) or ``daily``.
    reevaluation_cadence: Literal["daily", "weekly", "monthly"] = "monthly"
    reevaluation_day: int = Field(default=2, ge=1, le=28)
    #: A review raises only when the policy's limit is at least this share above the current one.
    raise_threshold: Rate = Decimal("0.10")
    #: Largest raise of one review or application, as a share of the current base limit.
    max_raise_ratio: Rate = Decimal("0.50")
    #: A review cuts only when the policy's limit is at least this share below the current one.
    cut_threshold: Rate = Decimal("0.20")
    #: Largest cut of one review, as a share of the current base limit (never below what is used).
    max_cut_ratio: Rate = Decimal("0.30")
    #: A line is first reviewed once it has been open this many days (a new line keeps the
    #: limit it opened with while it builds a record).
    review_seasoning_days: int = Field(default=90, ge=0)
    #: No review change within this many days of the line's last base-limit change (an
    #: approved application, an operator's change, a campaign reward, the previous review).
    review_cooldown_days: int = Field(default=30, ge=0)
    #: Restriction causes for which each review cuts by ``max_cut_ratio`` whatever the policy says
    #: (cash-out and score brushing lower the limit, as the first seed warns).
    cut_on_restriction_causes: tuple[str, ...] = ("cash_out_suspected", "score_brushing_suspected")

    @field_validator("band_base_limits")
    @classmethod
    def _bands_known(cls, v: dict[str, int]) -> dict[str, int]:
        if set(v) != {"poor", "fair", "good", "very_good", "excellent"} or any(x < 0 for x in v.values()):
            raise ValueError("band_base_limits needs a non-negative amount for poor, fair, good, very_good, excellent")
        return v

    @field_validator(
        "income_multipliers",
        "assets_multipliers",
        "activity_multipliers",
        "history_multipliers",
        "completeness_multipliers",
        "diversity_multipliers",
    )
    @classmethod
    def _multiplier_table(cls, v: tuple[tuple[int, Decimal], ...]) -> tuple[tuple[int, Decimal], ...]:
        if not v or v[0][0] != 0:
            raise ValueError("a multiplier table starts at 0")
        for (a, _), (b, _) in itertools.pairwise(v):
            if b <= a:
                raise ValueError("multiplier table thresholds must increase")
        for _, m in v:
            if m <= 0 or m.as_tuple().exponent < -3:  # type: ignore[operator]
                raise ValueError("multipliers are positive with at most three decimals")
        return v

    @field_validator("unverified_income_share", "raise_threshold", "max_raise_ratio", "cut_threshold", "max_cut_ratio")
    @classmethod
    def _share(cls, v: Decimal) -> Decimal:
        if not Decimal(0) <= v <= Decimal(1) or v.as_tuple().exponent < -3:  # type: ignore[operator]
            raise ValueError("a share is between 0 and 1 with at most three decimals")
        return v


class ScoringTerms(_Section):
    """芝麻信用分: range, opening threshold and dimension weights (loose: operator data)."""

    min_score: int = 350
    max_score: int = 950
    opening_threshold: int = 600
    weights: dict[str, Rate] = {
        "credit_history": Decimal("0.35"),
        "behaviour": Decimal("0.25"),
        "capacity": Decimal("0.20"),
        "identity": Decimal("0.15"),
        "connections": Decimal("0.05"),
    }
    #: When the EOD step ``refresh_scores`` rescores everyone: ``monthly`` (on ``refresh_day``
    #: of the month; the 2nd, the day after the statement date), ``weekly`` (ISO weekday
    #: ``refresh_day``) or ``daily``.
    refresh_cadence: Literal["daily", "weekly", "monthly"] = "monthly"
    refresh_day: int = Field(default=2, ge=1, le=28)
    #: A scorecard file (JSON or YAML, ``huabei score train --out``) used instead of the
    #: hand-set default card; None = the default card built from ``weights``.
    scorecard_file: str | None = None
    #: Opening (开通) is refused when the worst days past due of the last 12 months exceed this.
    opening_max_days_overdue_12m: int = Field(default=30, ge=0)
    #: Active restrictions of these causes on any of the user's credit lines refuse an opening.
    opening_disqualifying_causes: tuple[str, ...] = (
        "overdue_reported",
        "cash_out_suspected",
        "score_brushing_suspected",
        "account_takeover_suspected",
        "regulatory_tightening",
    )


class CampaignTerms(_Section):
    """提额活动 / 提额挑战: a task (``payments`` purchases of at least ``min_payment`` fen on
    the credit line within ``days`` days of enrolling, across ``categories`` distinct
    merchant categories) and its reward (a ``temporary`` raise of ``reward_amount`` fen for
    ``reward_days`` days, or a ``permanent`` raise of the base limit)."""

    code: str = Field(pattern=r"^[a-z][a-z0-9_]{0,47}$")
    title: str
    title_zh: str
    starts_on: dt.date | None = None
    ends_on: dt.date | None = None  # last day to enrol
    payments: int = Field(gt=0)
    days: int = Field(gt=0, le=366)
    categories: int = Field(default=1, ge=1)
    min_payment: int = Field(default=0, ge=0)
    min_score: int | None = None
    reward_kind: Literal["temporary", "permanent"]
    reward_amount: int = Field(gt=0)
    reward_days: int | None = Field(default=None, gt=0)

    @model_validator(mode="after")
    def _reward_days(self) -> CampaignTerms:
        if (self.reward_kind == "temporary") != (self.reward_days is not None):
            raise ValueError("a temporary reward needs reward_days; a permanent one has none")
        return self


class RaiseTerms(_Section):
    """申请提额 and 提额活动: raise applications and raise campaigns."""

    #: An application within this many days of the user's previous one is declined ``too_frequent``
    #: (and still counts in ``raise_applications_90d``: frequent applications lower the score).
    application_cooldown_days: int = Field(default=30, ge=0)
    campaigns: tuple[CampaignTerms, ...] = (
        CampaignTerms(
            code="spend_challenge",
            title="Raise challenge: 10 purchases in 30 days",
            title_zh="提额挑战:30天内消费10笔",
            payments=10,
            days=30,
            categories=3,
            min_payment=1_000,
            reward_kind="temporary",
            reward_amount=100_000,
            reward_days=30,
        ),
        CampaignTerms(
            code="scenario_explorer",
            title="Use Huabei in 5 scenarios within 60 days",
            title_zh="提额活动:60天内在5个场景使用花呗",
            payments=20,
            days=60,
            categories=5,
            min_payment=1_000,
            reward_kind="permanent",
            reward_amount=50_000,
        ),
    )

    @field_validator("campaigns")
    @classmethod
    def _unique_codes(cls, v: tuple[CampaignTerms, ...]) -> tuple[CampaignTerms, ...]:
        codes = [c.code for c in v]
        if len(set(codes)) != len(codes):
            raise ValueError("campaign codes must be unique")
        return v


class RestrictionTerms(_Section):
    """冻结: the risk policy in force and the durations and thresholds its rules name
    (``cfg.<key>`` in a policy's conditions, or ``after_days: <key>``; docs/risk.md)."""

    #: The risk policy file (YAML, docs/risk.md); None: the policy shipped in the package.
    #: ``HUABEI_RISK_POLICY`` overrides it. ``huabei risk policy activate`` records the one in force.
    risk_policy: str | None = None
    wrong_password_attempts: int = Field(default=5, gt=0)
    #: A password lock (``wrong_password_lockout``) lifts by itself after this many hours.
    wrong_password_lock_hours: int = Field(default=24, gt=0)
    #: A cash-out hold (``cash_out_suspected``) lifts this many days after the last signal.
    cash_out_review_days: int = Field(default=60, gt=0)
    #: A score-brushing hold (``score_brushing_suspected``) lifts this many days after the last signal.
    score_brushing_review_days: int = Field(default=30, gt=0)
    #: Overdue (``overdue_reported``): placed once a bill is more than ``grace_days`` past due;
    #: lifted when nothing is overdue and a cool-off graded by the worst days past due of the
    #: last 12 months has passed since the last overdue bill was repaid (the seed's "three to six
    #: months of good record" for serious cases). Limit raises wait for the same cool-off.
    overdue_cooloff_days_up_to_30: int = Field(default=0, ge=0)
    overdue_cooloff_days_up_to_90: int = Field(default=90, ge=0)
    overdue_cooloff_days_over_90: int = Field(default=180, ge=0)
    #: Inactivity (``inactive_account``): a line with no purchase for this many days (and open at
    #: least as long) has its limit reclaimed; a purchase attempt or other activity restores it at
    #: the next review.
    inactivity_days: int = Field(default=180, gt=0)
    #: Suspected takeover (``account_takeover_suspected``): lifted by re-verification or after this
    #: many stable days (no change of phone, bank card or device).
    takeover_stable_days: int = Field(default=30, gt=0)


class DiagnosisTerms(_Section):
    """诊断与提额建议: the windows and targets of the diagnosis and the limit advice (docs/diagnosis.md)."""

    #: A diagnosis lists the purchases of this many days as "recent".
    recent_days: int = Field(default=30, gt=0, le=366)
    #: The advice's horizon: "repay on time for N months", "pay utility bills in the app for N months".
    horizon_months: int = Field(default=6, gt=0, le=24)
    #: "Bring utilisation down" to this share of the total limit (advised only when above it).
    utilisation_target: Rate = Decimal("0.30")
    #: Raise applications in the last 90 days from which the advice warns (the first seed's warning).
    frequent_applications: int = Field(default=2, gt=0)


class OperationsTerms(_Section):
    """How the system runs: the end-of-day job's isolation of bad records, the clock's barrier and
    the bounds on moving time."""

    #: A step that fails on more records than this in one day is failing for everyone (a bug,
    #: not bad data): it stops the job instead of quarantining the book.
    eod_max_quarantined: int = Field(default=100, ge=0)
    #: How long moving the business date (``clock set``, the end-of-day job) waits for the
    #: transactions still writing under the old date before it gives up, changing nothing.
    clock_barrier_timeout_seconds: float = Field(default=30.0, gt=0)
    #: The furthest the simulated clock may be set ahead of where it stands (or of today).
    max_clock_jump_days: int = Field(default=366, gt=0)
    #: The most days one end-of-day request may run (``until``); a longer catch-up is split.
    eod_max_days_per_run: int = Field(default=366, gt=0)
    #: An end-of-day request over more days than this runs as a job the request starts
    #: (``GET /v1/admin/eod/{run}`` follows it) instead of inside the request.
    eod_inline_days: int = Field(default=31, gt=0)
    #: A running end-of-day job writes a heartbeat this often; one whose heartbeat is older than
    #: ``eod_job_stale_seconds`` lost its server (killed, restarted) and reads ``interrupted``.
    eod_job_heartbeat_seconds: float = Field(default=5.0, gt=0)
    eod_job_stale_seconds: float = Field(default=30.0, gt=0)
    #: ``snapshot export`` reads the book this many users (or lines) at a time and writes each
    #: page as one Parquet file: the memory it holds is bounded by one page (docs/scaling.md).
    batch_page_rows: int = Field(default=20_000, gt=0)
    #: ``batch run`` applies the staged decisions of this many lines (or users) per transaction;
    #: a line's decisions are never split across transactions (docs/scaling.md).
    batch_apply_units: int = Field(default=500, gt=0)
    #: Group commit of purchases (``huabei.payments.group_commit``): concurrent purchases of one
    #: process are decided together in one transaction. Off: each in its own transaction.
    group_commit: bool = True
    #: The most purchases one group-commit batch decides.
    group_commit_max_batch: int = Field(default=100, gt=0, le=1000)
    #: How long a batch waits for purchases still arriving (only while some are: a lone
    #: purchase never waits), in milliseconds.
    group_commit_max_wait_ms: float = Field(default=0.5, ge=0, le=50)
    #: Batches decided at the same time by one process (each on its own connection).
    group_commit_batches: int = Field(default=1, gt=0, le=64)


class PasswordTerms(_Section):
    """支付密码: its format and the cost of storing it (argon2id, ``huabei.passwords.rules``).

    How many wrong ones lock payments and for how long: ``restrictions.wrong_password_attempts``
    and ``restrictions.wrong_password_lock_hours``."""

    #: A payment password is this many digits (支付密码: six digits).
    digits: int = Field(default=6, ge=4, le=12)
    #: argon2id cost. The defaults are RFC 9106's second recommended setting (t=3, 64 MiB, p=4:
    #: 50-300 ms a check). A hash keeps the parameters it was made with, so lowering them
    #: later still verifies old hashes. Tests lower them (t=1, 4 MiB, p=1: about 5 ms a check).
    hash_time_cost: int = Field(default=3, ge=1)
    hash_memory_kib: int = Field(default=65_536, ge=8)
    hash_parallelism: int = Field(default=4, ge=1)


class ClosureTerms(_Section):
    """关闭与重新开通: closing a line and applying again (docs/flows.md)."""

    #: A line closed by a regulatory sweep carries a ``regulatory_tightening`` restriction for
    #: this many days; while it is active the opening decision refuses the user (it is one of
    #: ``scoring.opening_disqualifying_causes``), after it the user may apply again.
    reapply_after_days: int = Field(default=90, ge=0)


class AccessTerms(_Section):
    """Access control: rate limits (requests per window, per process; 0 = unlimited) and web sessions."""

    #: requests per minute per API key, by role (the payment network's gateway is throttled upstream)
    key_requests_per_minute: dict[str, int] = {
        "customer": 120,
        "agent": 600,
        "risk": 600,
        "admin": 1200,
        "gateway": 0,
    }
    #: failed authentications (bad key, bad login) per client address before it must wait
    failed_auth_attempts: int = Field(default=20, ge=0)
    failed_auth_window_seconds: int = Field(default=300, gt=0)
    #: login attempts per client address and user name
    login_attempts: int = Field(default=5, ge=0)
    login_window_seconds: int = Field(default=300, gt=0)
    #: payment-password attempts per user (the 24-hour lock after five wrong ones is restrictions')
    password_attempts: int = Field(default=20, ge=0)
    password_window_seconds: int = Field(default=60, gt=0)
    #: a web session lasts this long after login
    session_hours: int = Field(default=8, gt=0)
    #: an API key found valid is trusted this many seconds by the server process that checked it
    #: (no transaction per request); a key revoked by another process is refused within this
    #: bound, by the same process at once. 0: the database is asked on every request
    key_cache_seconds: float = Field(default=1.0, ge=0, le=60)
    #: a staff user's password (web login): at least this many characters, not only digits or letters
    staff_password_min_length: int = Field(default=12, ge=8, le=128)


class FundingPartner(_Section):
    """A partner institution funding credit lines (资金方)."""

    code: str = Field(pattern=r"^[a-z][a-z0-9_]{0,31}$")
    name: str
    name_zh: str


class FundingTerms(_Section):
    """Who funds the credit lines: the platform (``platform``) or a partner listed here."""

    partners: tuple[FundingPartner, ...] = ()
    #: Lines paused, then moved, per transaction by ``huabei funding migrate``.
    batch_size: int = Field(default=500, gt=0)

    @field_validator("partners")
    @classmethod
    def _unique_partners(cls, v: tuple[FundingPartner, ...]) -> tuple[FundingPartner, ...]:
        codes = [p.code for p in v]
        if len(set(codes)) != len(codes) or "platform" in codes:
            raise ValueError("partner codes are unique and never 'platform'")
        return v

    def codes(self) -> tuple[str, ...]:
        """Every funding source a line may have: ``platform`` and the partners."""
        return ("platform", *(p.code for p in self.partners))


class SweepTerms(_Section):
    """Regulatory sweeps (``huabei risk sweep``, docs/flows.md)."""

    #: Lines changed per transaction.
    batch_size: int = Field(default=500, gt=0)


class ProductTerms(_Section):
    """All product terms. ``ProductTerms()`` is the documented default product."""

    currency: str = "CNY"
    timezone: str = "Asia/Shanghai"
    categories: MerchantCategoryTerms = MerchantCategoryTerms()
    authorisation: AuthorisationTerms = AuthorisationTerms()
    billing: BillingTerms = BillingTerms()
    installments: InstallmentTerms = InstallmentTerms()
    limits: LimitTerms = LimitTerms()
    scoring: ScoringTerms = ScoringTerms()
    raises: RaiseTerms = RaiseTerms()
    restrictions: RestrictionTerms = RestrictionTerms()
    operations: OperationsTerms = OperationsTerms()
    passwords: PasswordTerms = PasswordTerms()
    diagnosis: DiagnosisTerms = DiagnosisTerms()
    closures: ClosureTerms = ClosureTerms()
    access: AccessTerms = AccessTerms()
    funding: FundingTerms = FundingTerms()
    sweeps: SweepTerms = SweepTerms()


def load_terms(path: str | os.PathLike[str] | None = None) -> ProductTerms:
    """Defaults, overridden by the YAML file at ``path`` (or ``$HUABEI_CONFIG``)."""
    path = path or os.environ.get("HUABEI_CONFIG")
    if not path:
        return ProductTerms()
    data = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    return ProductTerms.model_validate(data)


@lru_cache(maxsize=1)
def default_terms() -> ProductTerms:
    return load_terms()
