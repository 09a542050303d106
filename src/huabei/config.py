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

import os
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Annotated

import yaml
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator


def _strict_decimal(v: object) -> object:
    if isinstance(v, float):
        raise ValueError("write rates as strings (\"0.0005\"), never as binary floats")
    return v


Rate = Annotated[Decimal, BeforeValidator(_strict_decimal)]


class _Section(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class MerchantCategoryTerms(_Section):
    """Consumption only (花呗只能用于消费): which merchant categories authorise."""

    allowed: tuple[str, ...] = (
        "retail", "dining", "travel", "utilities", "groceries", "transport", "entertainment",
        "education", "health", "services", "digital_goods", "telecom",
    )
    #: Categories that are not consumption and are always declined (category_not_allowed).
    refused: tuple[str, ...] = (
        "transfer", "cash_withdrawal", "gambling", "virtual_currency", "securities",
        "lottery", "loan_repayment",
    )


class AuthorisationTerms(_Section):
    #: Largest single purchase, whatever the limit (a sanity cap, fen).
    max_single_purchase: int = Field(default=5_000_000, gt=0)  # 50,000 yuan


class BillingTerms(_Section):
    """账单日 / 还款日 and the repayment rules (issue: billing cycle)."""

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
    #: Daily interest on the unpaid rest after a minimum repayment (0.05 %/day).
    revolving_daily_rate: Rate = Decimal("0.0005")
    #: Daily penalty interest on overdue amounts (逾期利息, 0.05 %/day).
    penalty_daily_rate: Rate = Decimal("0.0005")
    #: Days after the due date before a delinquency is reported (宽限期).
    grace_days: int = Field(default=3, ge=0)


class InstallmentTerms(_Section):
    """分期: total fee over the plan as a share of the principal, by number of periods."""

    fee_rates: dict[int, Rate] = {
        3: Decimal("0.025"), 6: Decimal("0.045"), 9: Decimal("0.065"), 12: Decimal("0.088"),
    }

    #: 提前还款: on early repayment, waive the fees of the periods not yet billed (the
    #: remaining principal is due at once either way). Loose rule: public sources say the
    #: unbilled fees are not charged, but it is the operator's choice; ``False`` charges them.
    early_repayment_waives_unbilled_fees: bool = True

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


class RestrictionTerms(_Section):
    """冻结: automatic lifting periods (the risk-control issue builds on these)."""

    wrong_password_attempts: int = Field(default=5, gt=0)
    wrong_password_lock_hours: int = Field(default=24, gt=0)
    cash_out_review_days: int = Field(default=60, gt=0)


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
    restrictions: RestrictionTerms = RestrictionTerms()


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
