"""The feature catalogue: every input a risk policy's conditions may read, named and versioned.

A feature is a windowed aggregate over an account's history as of a business date. Its one
definition is set-based SQL in :mod:`huabei.risk.repository` (the same statement serves one
account inline, every account at end of day and any past date in a backtest); this module is
what a policy needs to know of it without a database: its name, CEL type, version, meaning,
the value an account without history has, and sample values to type-check conditions with.

Policies also read ``cfg``: a map of the product terms a rule may refer to
(:func:`config_values`), so a duration or a threshold lives in the configuration only.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from huabei.config import ProductTerms

FeatureType = Literal["int", "bool"]

#: "Never happened" for a days-since feature (a number, so ``>= N`` reads naturally).
NEVER_DAYS = 99_999
#: Whole hundreds of yuan (fen) count as round amounts; under 10 yuan counts as tiny.
ROUND_AMOUNT = 10_000
TINY_AMOUNT = 1_000


@dataclass(frozen=True)
class Feature:
    name: str
    type: FeatureType
    version: int
    description: str
    #: The value of an account with no history for it.
    default: int | bool
    #: The kind of ids kept as evidence behind a value (``purchases``, ``bills`` …), if any.
    evidence: str | None = None


def _f(
    name: str,
    description: str,
    *,
    default: int | bool = 0,
    type_: FeatureType = "int",
    version: int = 1,
    ev: str | None = None,
) -> Feature:
    return Feature(name, type_, version, description, default, ev)


FEATURES: dict[str, Feature] = {
    f.name: f
    for f in (
        _f(
            "dpd_now",
            "days past due of the oldest overdue bill of this line as of the date (0: nothing overdue)",
            ev="bills",
        ),
        _f("worst_dpd_12m", "worst days past due of this line's bills over the 365 days up to the date", ev="bills"),
        _f(
            "days_since_overdue_cleared",
            f"days since the last overdue bill of this line was repaid in full ({NEVER_DAYS}: never overdue)",
            default=NEVER_DAYS,
            ev="bills",
        ),
        _f(
            "overdue_elsewhere_days",
            "days past due the host reports for the user's other credit products (fact overdue_elsewhere_days)",
        ),
        _f(
            "days_since_last_purchase",
            "days since the line's last purchase, or since it opened when it never purchased",
            ev="purchases",
        ),
        _f("account_age_days", "days since the line was opened"),
        _f(
            "round_purchases_one_merchant_30d",
            "the most purchases of a whole number of hundred yuan at one merchant in the last 30 days",
            ev="purchases",
        ),
        _f(
            "limit_spent_pct_7d_after_raise",
            "spending within 7 days after the line's last base-limit raise (in the last 30 days; "
            "the opening is no raise), as a whole percentage of the new limit",
            ev="purchases",
            version=2,
        ),
        _f(
            "refunded_within_3d_30d",
            "purchases of the last 30 days refunded within 3 days of the purchase",
            ev="purchases",
        ),
        _f(
            "tiny_purchase_categories_7d",
            "distinct merchant categories of purchases under 10 yuan in the last 7 days",
            ev="purchases",
        ),
        _f(
            "flagged_share_at_merchant_30d",
            "merchants where many flagged users spend: per mille of the other lines that bought a whole number "
            "of hundred yuan at a merchant in the last 30 days that are restricted for cash-out or score "
            "brushing on the date, at the worst merchant where this line bought such amounts too",
            ev="purchases",
        ),
        _f("raise_applications_30d", "limit-raise applications of the line in the last 30 days"),
        _f("score", "the user's latest credit score on or before the date (0: never scored)"),
        _f("previous_score", "the score before the latest one (0: the latest is the first)"),
        _f(
            "distinct_devices_7d", "distinct payment devices of the line's purchases in the last 7 days", ev="purchases"
        ),
        _f(
            "distinct_devices_30d",
            "distinct payment devices of the line's purchases in the last 30 days",
            ev="purchases",
        ),
        _f("phone_changes_30d", "changes of the user's phone number in the last 30 days", ev="profile_changes"),
        _f("bank_card_changes_30d", "changes of the user's bank card in the last 30 days", ev="profile_changes"),
        _f(
            "days_since_verification",
            f"days since the user last re-verified their identity ({NEVER_DAYS}: never)",
            default=NEVER_DAYS,
        ),
        _f("app_activity_30d", "activity events the host reported for the user in the last 30 days (utility bills …)"),
        # behavioural features (the score's repayment behaviour; docs/scoring.md "Behavioural features")
        _f("worst_dpd_3m", "worst days past due of this line's bills over the 91 days up to the date", ev="bills"),
        _f("worst_dpd_6m", "worst days past due of this line's bills over the 182 days up to the date", ev="bills"),
        _f(
            "months_since_overdue",
            f"whole months (30 days) since a bill of this line last became overdue ({NEVER_DAYS}: never)",
            default=NEVER_DAYS,
            ev="bills",
        ),
        _f("bills_due_6m", "bills with something due that fell due in the 182 days up to the date", ev="bills"),
        _f(
            "paid_in_full_share_6m",
            "per mille of those bills repaid in full by their due date (0 without bills: read bills_due_6m)",
            ev="bills",
        ),
        _f(
            "minimum_only_share_6m",
            "per mille of those bills repaid at least the minimum but not in full by their due date",
            ev="bills",
        ),
        _f(
            "below_minimum_share_6m",
            "per mille of those bills repaid less than the minimum by their due date",
            ev="bills",
        ),
        _f(
            "repaid_share_last_bill",
            "repaid by the due date as per mille of the amount due, of the last bill due on or before the date "
            "(capped at 1000)",
            ev="bills",
        ),
        _f(
            "utilisation_last_statement",
            "the last statement's balance as per mille of the base limit in force on its statement date "
            "(above 1000: over the base limit, on a temporary limit)",
            ev="bills",
        ),
        _f(
            "utilisation_trend",
            "utilisation of the last statement minus that of the statement two periods earlier, per mille "
            "(positive: rising; 0 with fewer than three statements)",
            ev="bills",
        ),
        _f(
            "revolving_months_12m",
            "bills due in the last 365 days repaid at least the minimum but not in full (revolving credit)",
            ev="bills",
        ),
        _f(
            "temp_limit_statements_12m",
            "statements of the last 365 days with spending on a temporary limit (overspending the base limit)",
            ev="bills",
        ),
        _f(
            "declined_attempts_30d",
            "purchase attempts of the line declined in the last 30 days (activity while frozen)",
        ),
    )
}


def sample_values(feature: Feature) -> tuple[int | bool, ...]:
    """Typed values a condition is evaluated with when a policy is validated."""
    if feature.type == "bool":
        return (False, True)
    return (0, 1, 45, NEVER_DAYS)


def config_values(terms: ProductTerms) -> dict[str, int]:
    """``cfg`` of a policy: every integer term of ``restrictions`` plus the opening threshold and
    the grace days (one home for each number; a policy names them instead of repeating them).
    Read on every purchase (the inline rules): worked out once per terms object (they are frozen)
    and handed out as a copy."""
    known = _CFG.get(id(terms))
    if known is None or known[0] is not terms:
        out = {
            k: v for k, v in terms.restrictions.model_dump().items() if isinstance(v, int) and not isinstance(v, bool)
        }
        out["opening_threshold"] = terms.scoring.opening_threshold
        out["grace_days"] = terms.billing.grace_days
        if len(_CFG) >= 64:
            _CFG.clear()
        known = _CFG[id(terms)] = (terms, out)
    return dict(known[1])


#: id(terms) -> (the terms, their cfg); the terms are kept so an id is never reused for others
_CFG: dict[int, tuple[ProductTerms, dict[str, int]]] = {}


def defaults() -> Mapping[str, int | bool]:
    return {name: f.default for name, f in FEATURES.items()}


# --- how a purchase attempt moves a feature -----------------------------------------------------


@dataclass(frozen=True)
class Attempt:
    """A purchase attempt of a line today that leaves a trace: approved (a purchase row), or
    declined with its decline recorded (a ``purchase_declines`` row)."""

    approved: bool
    amount: int
    device_id: str | None = None


#: Features no purchase or decline of the line changes (bills, scores, the user's facts …).
UNMOVED_BY_ATTEMPTS = frozenset(
    {
        "dpd_now", "worst_dpd_12m", "days_since_overdue_cleared", "overdue_elsewhere_days", "account_age_days",
        "refunded_within_3d_30d", "raise_applications_30d", "score", "previous_score", "phone_changes_30d",
        "bank_card_changes_30d", "days_since_verification", "app_activity_30d", "worst_dpd_3m", "worst_dpd_6m",
        "months_since_overdue", "bills_due_6m", "paid_in_full_share_6m", "minimum_only_share_6m",
        "below_minimum_share_6m", "repaid_share_last_bill", "utilisation_last_statement", "utilisation_trend",
        "revolving_months_12m", "temp_limit_statements_12m",
    }
)  # fmt: skip


def after_attempt(values: Mapping[str, Any], at: Attempt) -> dict[str, Any] | None:
    """A line's feature values (as of today) once ``at`` is recorded, worked out from the values
    alone, as reading them again would give — or None when the values alone cannot tell (a new
    device, a round or tiny amount, spending after a raise, what other lines buy). A batch of
    purchases decided at once (``huabei.risk.evaluation.inline_quiet``) reads them once and moves
    them purchase by purchase; None makes it decide one by one instead."""
    out = dict(values)
    for name in values:
        if name in UNMOVED_BY_ATTEMPTS:
            continue
        if name == "declined_attempts_30d":
            if not at.approved:
                out[name] = values[name] + 1
        elif not at.approved:
            if name == "flagged_share_at_merchant_30d":
                return None  # the other lines' purchases of the batch move it too
        elif name == "days_since_last_purchase":
            out[name] = 0
        elif name in ("distinct_devices_7d", "distinct_devices_30d"):
            if at.device_id is not None:
                return None
        elif name == "round_purchases_one_merchant_30d":
            if at.amount % ROUND_AMOUNT == 0:
                return None
        elif name == "tiny_purchase_categories_7d":
            if at.amount < TINY_AMOUNT:
                return None
        else:  # limit_spent_pct_7d_after_raise, flagged_share_at_merchant_30d, a feature added later
            return None
    return out
