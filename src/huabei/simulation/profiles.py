"""Behaviour profiles and the population mix: data with documented defaults.

A synthetic user follows one :class:`BehaviourProfile`: how often and how much they spend
(:class:`SpendPattern`), how they repay (:class:`RepaymentBehaviour`), whether they turn
bills or purchases into installments (:class:`InstallmentBehaviour`), what they tell the
app about themselves (:class:`ApplicantFacts`, read by the score and the limit policy) and
what limit an operator would give them while automatic opening is not available.

Every probability is an integer per mille, every amount integer fen, every distribution of
amounts a tuple of ``(fen, weight)`` price points plus an integer jitter percentage: no
float ever becomes money. :class:`PopulationConfig` holds the profiles and the mix; a YAML
file overrides any part of the defaults (deep merge, unknown keys are an error), e.g.::

    mix: {transactor: 50, revolver: 20, chronically_delinquent: 10}
    profiles:
      revolver:
        spend: {purchases_per_year: 90}
        repayment: {late_per_mille: 80}

``docs/simulation.md`` documents every default.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

#: (amount in fen, weight) price points.
PricePoints = tuple[tuple[int, int], ...]


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


def _check_points(v: PricePoints) -> PricePoints:
    if not v or any(a < 0 or w < 0 for a, w in v) or sum(w for _, w in v) <= 0:
        raise ValueError("price points are ((fen >= 0, weight >= 0), ...) with a positive total weight")
    return v


#: Spending by month, percent of the average month (Jan … Dec): Spring Festival in Jan/Feb,
#: 618 in June, the National Day golden week in October, Double 11 in November.
DEFAULT_MONTHLY_PERCENT: tuple[int, ...] = (105, 115, 90, 95, 100, 110, 95, 95, 100, 105, 125, 110)
#: Shopping festivals, percent of an ordinary day of the month ("MM-DD": percent).
DEFAULT_PEAK_DAYS: dict[str, int] = {"06-18": 300, "11-11": 600, "12-12": 200}

DEFAULT_CATEGORIES: dict[str, int] = {
    "retail": 30,
    "dining": 20,
    "groceries": 15,
    "transport": 10,
    "digital_goods": 8,
    "entertainment": 5,
    "utilities": 4,
    "telecom": 3,
    "travel": 3,
    "health": 2,
}


class SpendPattern(_Model):
    """How a user spends on the credit line."""

    #: Purchase attempts in an average year (the daily expectation follows the seasonality).
    purchases_per_year: int = Field(default=120, ge=0)
    #: Amount distribution: price points (fen, weight) …
    price_points: PricePoints = ((1_500, 30), (3_500, 30), (8_000, 20), (15_000, 10), (40_000, 7), (120_000, 3))
    #: … each moved by a uniform integer jitter of up to ± this percent.
    jitter_percent: int = Field(default=30, ge=0, le=90)
    #: Merchant categories (scenarios) and their weights.
    categories: dict[str, int] = DEFAULT_CATEGORIES
    #: Share of purchases paid in a store (scan-to-pay) rather than online.
    offline_per_mille: int = Field(default=300, ge=0, le=1000)
    #: Monthly seasonality, percent of an average month, January first (12 numbers).
    monthly_percent: tuple[int, ...] = DEFAULT_MONTHLY_PERCENT
    #: Shopping-festival days ("MM-DD") and their percent of an ordinary day (Double 11 …).
    peak_days: dict[str, int] = DEFAULT_PEAK_DAYS
    #: Share of purchases refunded later, of those the share refunded only in part, and
    #: the delay of a refund after the purchase (days, inclusive).
    refund_per_mille: int = Field(default=40, ge=0, le=1000)
    partial_refund_per_mille: int = Field(default=300, ge=0, le=1000)
    refund_delay_days: tuple[int, int] = (1, 20)
    #: Distinct merchants per category this user shops at.
    merchants_per_category: int = Field(default=5, ge=1)

    @field_validator("price_points")
    @classmethod
    def _points(cls, v: PricePoints) -> PricePoints:
        if any(a <= 0 for a, _ in v):
            raise ValueError("purchase price points must be positive")
        return _check_points(v)

    @field_validator("monthly_percent")
    @classmethod
    def _twelve(cls, v: tuple[int, ...]) -> tuple[int, ...]:
        if len(v) != 12 or any(x < 0 for x in v):
            raise ValueError("monthly_percent holds 12 non-negative percentages, January first")
        return v

    @field_validator("peak_days")
    @classmethod
    def _peaks(cls, v: dict[str, int]) -> dict[str, int]:
        import re

        for k, pct in v.items():
            if not re.fullmatch(r"(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])", k) or pct < 0:
                raise ValueError('peak_days maps "MM-DD" to a non-negative percent')
        return v


class RepaymentBehaviour(_Model):
    """How a user repays each bill (statement)."""

    #: What a month's repayment is: the whole bill (transactor), the minimum (revolver).
    mode: Literal["full", "minimum"] = "full"
    #: When the repayment lands, in days relative to the due date (inclusive; negative = before).
    pay_offset_days: tuple[int, int] = (-7, 0)
    #: Months in which a ``minimum`` payer pays the whole bill instead.
    full_instead_per_mille: int = Field(default=0, ge=0, le=1000)
    #: Months repaid late, and how late (days after the due date, inclusive).
    late_per_mille: int = Field(default=0, ge=0, le=1000)
    late_days: tuple[int, int] = (1, 15)
    #: Months with no repayment at all (the bill goes overdue, paid with the next one).
    skip_per_mille: int = Field(default=0, ge=0, le=1000)
    #: Stops paying for good after this many bills (a number drawn in the range; None = never):
    #: the chronically delinquent roll through every bucket to 90+.
    stop_after_bills: tuple[int, int] | None = None
    #: Once behind, the monthly chance of repaying everything owed (recovering).
    cure_per_mille: int = Field(default=0, ge=0, le=1000)


class InstallmentBehaviour(_Model):
    """分期: converting bills or large purchases into installments."""

    #: Chance of converting a bill of at least ``min_bill`` into installments.
    bill_conversion_per_mille: int = Field(default=0, ge=0, le=1000)
    min_bill: int = Field(default=100_000, ge=0)
    #: Chance of converting a purchase of at least ``min_purchase`` (交易分期).
    purchase_conversion_per_mille: int = Field(default=0, ge=0, le=1000)
    min_purchase: int = Field(default=200_000, ge=0)
    #: Number of periods and their weights.
    terms: dict[int, int] = {3: 40, 6: 30, 12: 30}
    #: Monthly chance, while a plan is running, of repaying one plan early (提前还款).
    early_repayment_per_mille: int = Field(default=0, ge=0, le=1000)


class ApplicantFacts(_Model):
    """What the user tells the app (host facts the score and the limit policy read)."""

    real_name_verified_per_mille: int = Field(default=985, ge=0, le=1000)
    income_declared_per_mille: int = Field(default=800, ge=0, le=1000)
    monthly_income: PricePoints = ((300_000, 25), (600_000, 35), (1_000_000, 25), (2_000_000, 15))
    income_verified_per_mille: int = Field(default=500, ge=0, le=1000)
    assets: PricePoints = ((0, 15), (50_000, 25), (500_000, 30), (2_000_000, 20), (10_000_000, 10))
    education: dict[str, int] = {
        "undeclared": 30,
        "secondary": 15,
        "vocational": 10,
        "associate": 15,
        "bachelor": 22,
        "master": 7,
        "doctorate": 1,
    }
    occupation: dict[str, int] = {
        "undeclared": 25,
        "employee": 45,
        "civil_servant": 5,
        "self_employed": 10,
        "freelancer": 5,
        "student": 6,
        "retired": 4,
    }
    bank_card_bound_per_mille: int = Field(default=850, ge=0, le=1000)
    id_document_valid_per_mille: int = Field(default=950, ge=0, le=1000)
    contact_details_complete_per_mille: int = Field(default=700, ge=0, le=1000)
    credit_authorised_per_mille: int = Field(default=800, ge=0, le=1000)
    verified_contacts: tuple[int, int] = (0, 40)
    contacts_good_standing_per_mille: tuple[int, int] = (500, 950)
    #: App activity outside the credit line, per year (utility bills, credit-card repayments,
    #: credit services such as deposit-free rental) and active days per 90 days.
    utility_payments_per_year: tuple[int, int] = (0, 12)
    credit_card_repayments_per_year: tuple[int, int] = (0, 12)
    credit_services_per_year: tuple[int, int] = (0, 3)
    active_days_per_90: tuple[int, int] = (5, 80)

    @field_validator("monthly_income", "assets")
    @classmethod
    def _points(cls, v: PricePoints) -> PricePoints:
        return _check_points(v)


class FraudBehaviour(_Model):
    """What a fraud profile does besides its ordinary spending (``BehaviourProfile.fraud``).
    The scheme starts ``starts_after_days`` after the line opens (drawn per user); the run
    records, as ground truth, every user whose scheme started (``simulation.fraud``)."""

    kind: Literal["cash_out_ring", "score_brushing", "takeover", "overdue_elsewhere"]
    starts_after_days: tuple[int, int] = (10, 90)
    #: 套现 at colluding merchants: purchases of whole hundreds of yuan, each member at one of
    #: ``ring_merchants`` merchants shared by the whole ring (``m-ring-<k>``).
    ring_merchants: int = Field(default=3, ge=1)
    ring_purchases_per_month: int = Field(default=6, ge=0)
    ring_amounts: PricePoints = ((30_000, 25), (50_000, 30), (80_000, 25), (100_000, 20))
    #: 刷分: bursts of tiny purchases (under 10 yuan) across scenarios, then a raise application.
    bursts_per_month_per_mille: int = Field(default=600, ge=0, le=1000)
    burst_purchases: tuple[int, int] = (5, 10)
    tiny_amount: tuple[int, int] = (100, 900)
    #: 盗用: on the takeover day the phone number and bank card are changed (each a number of
    #: times in the range) and the taker buys from new devices over the next days; the owner
    #: re-verifies their identity after ``reverify_after_days``.
    detail_changes: tuple[int, int] = (1, 2)
    taker_devices: tuple[int, int] = (2, 4)
    taker_purchases: tuple[int, int] = (3, 6)
    taker_amounts: PricePoints = ((20_000, 40), (60_000, 40), (150_000, 20))
    reverify_after_days: tuple[int, int] = (3, 25)
    #: Overdue on another credit product (reported by the host), cleared after a while.
    days_past_due: tuple[int, int] = (31, 120)
    amount_overdue: PricePoints = ((100_000, 40), (500_000, 40), (2_000_000, 20))
    clears_after_days: tuple[int, int] = (20, 90)

    @field_validator("ring_amounts", "taker_amounts", "amount_overdue")
    @classmethod
    def _points(cls, v: PricePoints) -> PricePoints:
        return _check_points(v)


class BehaviourProfile(_Model):
    description: str = ""
    #: The freeze causes this profile truly deserves (the simulation's ground truth the report
    #: measures each risk rule against): static for behaviour (a dormant user, a delinquent one),
    #: from the scheme's first day for a fraud profile.
    truth: tuple[str, ...] = ()
    fraud: FraudBehaviour | None = None
    spend: SpendPattern = SpendPattern()
    repayment: RepaymentBehaviour = RepaymentBehaviour()
    installments: InstallmentBehaviour = InstallmentBehaviour()
    applicant: ApplicantFacts = ApplicantFacts()
    #: Base limit an operator opens the line with when the automatic opening decision is not
    #: driven (``core_only``): price points, clamped to the product's limit bounds and step.
    operator_limit: PricePoints = ((300_000, 30), (500_000, 30), (1_000_000, 25), (2_000_000, 15))
    #: Monthly chance of applying for a limit raise (申请提额) and of joining a raise campaign.
    raise_application_per_mille: int = Field(default=0, ge=0, le=1000)
    campaign_enrol_per_mille: int = Field(default=0, ge=0, le=1000)
    #: Monthly chance of locking the account with wrong payment passwords (lifts the next day).
    lockout_per_mille: int = Field(default=10, ge=0, le=1000)
    #: A declined applicant applies again after this many days (None: never).
    reapply_after_days: int | None = Field(default=90, ge=1)

    @field_validator("operator_limit")
    @classmethod
    def _limits(cls, v: PricePoints) -> PricePoints:
        return _check_points(v)

    @field_validator("truth")
    @classmethod
    def _causes(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        from huabei.restrictions.causes import CAUSES

        unknown = sorted(set(v) - set(CAUSES))
        if unknown:
            raise ValueError(f"truth names unknown freeze causes: {unknown}")
        return v


def _p(**kw: Any) -> BehaviourProfile:
    return BehaviourProfile.model_validate(kw)


#: The default profiles (six behaviours, four fraud schemes). See docs/simulation.md for the reasoning behind each number.
DEFAULT_PROFILES: dict[str, BehaviourProfile] = {
    "transactor": _p(
        description="Pays every bill in full before the due date.",
        spend={"purchases_per_year": 150, "offline_per_mille": 400},
        repayment={"mode": "full", "pay_offset_days": (-7, 0), "late_per_mille": 10, "late_days": (1, 3)},
        applicant={
            "monthly_income": ((600_000, 30), (1_000_000, 35), (2_000_000, 25), (4_000_000, 10)),
            "income_verified_per_mille": 650,
            "contact_details_complete_per_mille": 850,
        },
        operator_limit=((500_000, 30), (1_000_000, 35), (2_000_000, 25), (3_000_000, 10)),
        raise_application_per_mille=30,
        campaign_enrol_per_mille=40,
    ),
    "revolver": _p(
        description="Pays the minimum repayment, now and then the whole bill; carries a balance.",
        spend={
            "purchases_per_year": 130,
            "offline_per_mille": 350,
            "price_points": ((2_000, 25), (5_000, 30), (12_000, 20), (30_000, 15), (80_000, 7), (200_000, 3)),
        },
        repayment={
            "mode": "minimum",
            "pay_offset_days": (-3, 0),
            "full_instead_per_mille": 100,
            "late_per_mille": 40,
            "late_days": (1, 5),
        },
        operator_limit=((300_000, 30), (500_000, 35), (1_000_000, 25), (2_000_000, 10)),
        raise_application_per_mille=80,
        campaign_enrol_per_mille=60,
    ),
    "installment_user": _p(
        description="Buys big tickets and turns bills and purchases into 3/6/12 installments.",
        spend={
            "purchases_per_year": 70,
            "offline_per_mille": 150,
            "price_points": ((5_000, 30), (20_000, 25), (80_000, 20), (200_000, 15), (500_000, 10)),
            "categories": {
                "retail": 40,
                "digital_goods": 25,
                "education": 10,
                "travel": 10,
                "health": 5,
                "services": 10,
            },
            "refund_per_mille": 50,
        },
        repayment={"mode": "full", "pay_offset_days": (-5, 0), "late_per_mille": 20, "late_days": (1, 5)},
        installments={
            "bill_conversion_per_mille": 600,
            "min_bill": 100_000,
            "purchase_conversion_per_mille": 300,
            "min_purchase": 200_000,
            "terms": {3: 35, 6: 35, 12: 30},
            "early_repayment_per_mille": 80,
        },
        operator_limit=((1_000_000, 30), (2_000_000, 40), (3_000_000, 20), (5_000_000, 10)),
        raise_application_per_mille=50,
        campaign_enrol_per_mille=30,
    ),
    "occasionally_late": _p(
        description="Means to pay in full but pays a quarter of bills 1–20 days late and skips some months.",
        spend={"purchases_per_year": 110},
        repayment={
            "mode": "full",
            "pay_offset_days": (-2, 0),
            "late_per_mille": 250,
            "late_days": (1, 20),
            "skip_per_mille": 50,
        },
        applicant={"income_verified_per_mille": 400, "contact_details_complete_per_mille": 600},
        operator_limit=((300_000, 35), (500_000, 35), (1_000_000, 25), (2_000_000, 5)),
        raise_application_per_mille=60,
        campaign_enrol_per_mille=40,
    ),
    "chronically_delinquent": _p(
        description="Spends hard, pays the minimum for one to three bills, then stops paying and rolls to 90+.",
        spend={
            "purchases_per_year": 190,
            "offline_per_mille": 250,
            "price_points": ((3_000, 25), (8_000, 25), (20_000, 25), (50_000, 15), (150_000, 10)),
            "refund_per_mille": 20,
        },
        repayment={
            "mode": "minimum",
            "pay_offset_days": (-1, 3),
            "late_per_mille": 300,
            "late_days": (1, 10),
            "stop_after_bills": (1, 3),
            "cure_per_mille": 20,
        },
        applicant={
            "real_name_verified_per_mille": 950,
            "income_declared_per_mille": 500,
            "monthly_income": ((200_000, 50), (400_000, 40), (800_000, 10)),
            "income_verified_per_mille": 150,
            "assets": ((0, 50), (20_000, 35), (200_000, 15)),
            "bank_card_bound_per_mille": 600,
            "contact_details_complete_per_mille": 350,
            "credit_authorised_per_mille": 500,
            "verified_contacts": (0, 8),
            "contacts_good_standing_per_mille": (200, 700),
            "utility_payments_per_year": (0, 3),
            "credit_card_repayments_per_year": (0, 2),
            "credit_services_per_year": (0, 0),
        },
        operator_limit=((300_000, 50), (500_000, 35), (1_000_000, 15)),
        raise_application_per_mille=250,
        campaign_enrol_per_mille=20,
        lockout_per_mille=30,
        truth=("overdue_reported",),
    ),
    "dormant": _p(
        description="Opens the line and hardly uses it; repays in full when it does.",
        spend={"purchases_per_year": 4, "refund_per_mille": 0},
        repayment={"mode": "full", "pay_offset_days": (-10, -1)},
        applicant={"active_days_per_90": (0, 10), "utility_payments_per_year": (0, 2)},
        operator_limit=((300_000, 50), (500_000, 50)),
        lockout_per_mille=2,
        truth=("inactive_account",),
    ),
    "cash_out_ring": _p(
        description="Shops normally, and cashes the line out at colluding merchants in whole hundreds of yuan.",
        spend={"purchases_per_year": 60},
        repayment={"mode": "minimum", "pay_offset_days": (-3, 0), "late_per_mille": 60, "late_days": (1, 5)},
        raise_application_per_mille=200,
        truth=("cash_out_suspected",),
        fraud={"kind": "cash_out_ring"},
    ),
    "score_brusher": _p(
        description="Brushes the score with bursts of tiny purchases in many scenarios before asking for a raise.",
        spend={"purchases_per_year": 80},
        truth=("score_brushing_suspected",),
        fraud={"kind": "score_brushing"},
    ),
    "takeover_victim": _p(
        description="An ordinary user whose account is taken over once: phone and card changed, buys from new devices.",
        spend={"purchases_per_year": 110},
        truth=("account_takeover_suspected",),
        fraud={"kind": "takeover"},
    ),
    "overdue_elsewhere": _p(
        description="Repays Huabei on time but falls 31–120 days behind on another credit product for a while.",
        spend={"purchases_per_year": 100},
        repayment={"mode": "full", "pay_offset_days": (-3, 0)},
        truth=("overdue_reported",),
        fraud={"kind": "overdue_elsewhere"},
    ),
}

DEFAULT_MIX: dict[str, int] = {
    "transactor": 35,
    "revolver": 20,
    "installment_user": 12,
    "occasionally_late": 15,
    "chronically_delinquent": 6,
    "dormant": 12,
    "cash_out_ring": 2,
    "score_brusher": 2,
    "takeover_victim": 2,
    "overdue_elsewhere": 2,
}


class TemporaryLimitGrant(_Model):
    """An operator campaign: on ``on`` ("MM-DD") every line without a block gets a
    temporary limit (临时额度) of ``percent`` of its base limit for ``days`` days."""

    on: str = Field(pattern=r"^(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$")
    percent: int = Field(gt=0, le=100)
    days: int = Field(gt=0)


class PopulationConfig(_Model):
    """The population: profiles, their mix, and when users arrive."""

    #: Profile name → weight. Counts are apportioned exactly (largest remainder).
    mix: dict[str, int] = DEFAULT_MIX
    profiles: dict[str, BehaviourProfile] = DEFAULT_PROFILES
    #: Share of users who apply in the first ``initial_window_days`` days; the others arrive
    #: uniformly over the whole run.
    initial_share_percent: int = Field(default=70, ge=0, le=100)
    initial_window_days: int = Field(default=7, ge=1)
    #: Scales every profile's purchase frequency (per cent): 100 is the profiles as written;
    #: the in-suite tests use less to stay fast. It changes no other behaviour.
    activity_percent: int = Field(default=100, ge=0, le=1000)
    #: Operator temporary-limit campaigns (before Double 11 by default).
    temporary_limit_grants: tuple[TemporaryLimitGrant, ...] = (TemporaryLimitGrant(on="11-01", percent=30, days=30),)

    @model_validator(mode="after")
    def _mix_names(self) -> PopulationConfig:
        unknown = sorted(set(self.mix) - set(self.profiles))
        if unknown:
            raise ValueError(f"the mix names unknown profiles: {unknown}")
        if any(w < 0 for w in self.mix.values()) or sum(self.mix.values()) <= 0:
            raise ValueError("mix weights are non-negative with a positive total")
        return self


def deep_merge(base: Any, override: Any) -> Any:
    """``override`` over ``base``: mappings merged key by key, recursively; anything else replaced."""
    if isinstance(base, dict) and isinstance(override, dict):
        out = dict(base)
        for k, v in override.items():
            out[k] = deep_merge(base[k], v) if k in base else v
        return out
    return override


def population_from_dict(data: dict[str, Any] | None) -> PopulationConfig:
    """The defaults deep-merged with ``data`` (a profile named in ``profiles`` but not among
    the defaults starts from :class:`BehaviourProfile`'s defaults). ``mix`` replaces the
    default mix as a whole."""
    data = copy.deepcopy(data or {})
    base = PopulationConfig().model_dump(mode="python")
    profiles = data.pop("profiles", {}) or {}
    merged = deep_merge(base, data)
    if "mix" in data:
        merged["mix"] = data["mix"]
    blank = BehaviourProfile().model_dump(mode="python")
    for name, over in profiles.items():
        merged["profiles"][name] = deep_merge(merged["profiles"].get(name, blank), over or {})
    return PopulationConfig.model_validate(merged)


def load_population(path: str | Path | None) -> PopulationConfig:
    if path is None:
        return PopulationConfig()
    return population_from_dict(yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {})
