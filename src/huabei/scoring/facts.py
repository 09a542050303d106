"""The facts a score reads about a user (:data:`FACTS`): their specs, types, bounds and missing
values, and :func:`check_facts`, which validates a user's facts before scoring. Pure."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from huabei.i18n import N_
from huabei.scoring.scorecard import FactValue

# ---------------------------------------------------------------------------------------
# Facts
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FactSpec:
    """One fact the default scorecard reads.

    ``type`` is ``int``, ``bool`` or ``str``. Integer facts are counts, days, months,
    per-mille ratios (0–1000) or money in fen, bounded by ``minimum`` / ``maximum``;
    string facts take one of ``values``. ``source`` says who supplies it: ``huabei``
    (computed by the storage layer from its own tables) or ``host`` (posted by the host
    app through ``POST /v1/users/{id}/facts``). ``None`` always means "not known", and
    every feature has a bin for it.
    """

    name: str
    type: type
    dimension: str
    source: Literal["huabei", "host"]
    unit: str
    description: str
    minimum: int | None = None
    maximum: int | None = None
    values: tuple[str, ...] = ()


EDUCATION_LEVELS: tuple[str, ...] = (
    "primary",
    "secondary",
    "vocational",
    "associate",
    "bachelor",
    "master",
    "doctorate",
)
OCCUPATIONS: tuple[str, ...] = (
    "employee",
    "civil_servant",
    "self_employed",
    "freelancer",
    "student",
    "retired",
    "farmer",
    "homemaker",
    "unemployed",
    "other",
)

#: The bounds of a per-mille fact (a share, 0–1000).
_PER_MILLE_MIN, _PER_MILLE_MAX = 0, 1000

#: Every fact the default scorecard reads, with its type. The storage layer builds these
#: from its tables (``source="huabei"``) and from host-app facts (``source="host"``).
FACTS: tuple[FactSpec, ...] = (
    # 信用历史 / credit history: the repayment record
    FactSpec(
        "on_time_repayment_ratio",
        int,
        "credit_history",
        "huabei",
        "per mille",
        "Share of the bills that fell due in the last 12 months that did not become overdue, per mille (the "
        "host may report other credit products' ratio: the worse counts); None when nothing has fallen due yet.",
        minimum=_PER_MILLE_MIN,
        maximum=_PER_MILLE_MAX,
    ),
    FactSpec(
        "max_days_overdue_12m",
        int,
        "credit_history",
        "huabei",
        "days",
        "Worst days past due reached in the last 12 months (0 = never overdue); None when nothing has fallen due yet.",
        minimum=0,
    ),
    FactSpec(
        "overdue_episodes_12m",
        int,
        "credit_history",
        "huabei",
        "count",
        "Number of separate overdue episodes started in the last 12 months; None when nothing has fallen due yet.",
        minimum=0,
    ),
    FactSpec(
        "credit_history_months",
        int,
        "credit_history",
        "huabei",
        "months",
        "Months since the user's first credit relationship (the credit line's opening or an earlier known record).",
        minimum=0,
    ),
    FactSpec(
        "raise_applications_90d",
        int,
        "credit_history",
        "huabei",
        "count",
        "Limit-raise applications the user made in the last 90 days (system reviews do not count).",
        minimum=0,
    ),
    # 行为偏好 / behaviour: payment activity
    FactSpec(
        "payments_90d",
        int,
        "behaviour",
        "huabei",
        "count",
        "Payments made with the app in the last 90 days, online and offline.",
        minimum=0,
    ),
    FactSpec(
        "active_days_90d",
        int,
        "behaviour",
        "host",
        "days",
        "Distinct days with any activity in the app in the last 90 days (purchases and the host's activity "
        "events: payments, transfers, collections, services), or the host's own count if larger.",
        minimum=0,
        maximum=90,
    ),
    FactSpec(
        "offline_payment_share",
        int,
        "behaviour",
        "huabei",
        "per mille",
        "Share of the last 90 days' payments made in physical stores (scan-to-pay), per mille; None without payments.",
        minimum=_PER_MILLE_MIN,
        maximum=_PER_MILLE_MAX,
    ),
    FactSpec(
        "merchant_categories_90d",
        int,
        "behaviour",
        "huabei",
        "count",
        "Distinct merchant categories / scenarios paid in the last 90 days (shopping, dining, travel, ...).",
        minimum=0,
    ),
    FactSpec(
        "utility_payments_12m",
        int,
        "behaviour",
        "host",
        "count",
        "Utility bills (water, electricity, gas, phone, broadband) paid in the app in the last 12 months.",
        minimum=0,
    ),
    FactSpec(
        "credit_card_repayments_12m",
        int,
        "behaviour",
        "host",
        "count",
        "Credit-card bills repaid through the app in the last 12 months.",
        minimum=0,
    ),
    FactSpec(
        "credit_services_12m",
        int,
        "behaviour",
        "host",
        "count",
        "Credit services used and settled in the last 12 months: deposit-free rental (信用租赁), "
        "stay-now-pay-later (信用住) and similar.",
        minimum=0,
    ),
    FactSpec(
        "credit_tasks_12m",
        int,
        "behaviour",
        "host",
        "count",
        "Credit tasks and raise challenges (提额挑战) completed in the last 12 months.",
        minimum=0,
    ),
    # 履约能力 / capacity
    FactSpec(
        "monthly_income",
        int,
        "capacity",
        "host",
        "fen",
        "Declared or verified monthly income, fen; None when not declared.",
        minimum=0,
    ),
    FactSpec(
        "income_verified",
        bool,
        "capacity",
        "host",
        "flag",
        "Whether the declared income was verified (payroll, tax or bank statement).",
    ),
    FactSpec(
        "assets",
        int,
        "capacity",
        "host",
        "fen",
        "Savings and fund balances held in the app (30-day average), fen; None when not known.",
        minimum=0,
    ),
    FactSpec(
        "utilisation_ratio",
        int,
        "capacity",
        "huabei",
        "per mille",
        "Used share of the total limit (base plus unexpired temporary limit) on the as-of date, per mille; above "
        "1000 when a temporary limit expired while spent (overspending); None without an open credit line.",
        minimum=0,
        maximum=10_000,
    ),
    # 身份特质 / identity: profile completeness
    FactSpec("real_name_verified", bool, "identity", "host", "flag", "Real-name verification (实名认证) completed."),
    FactSpec(
        "id_document_valid",
        bool,
        "identity",
        "host",
        "flag",
        "An identity document is on file and not expired at the as-of date.",
    ),
    FactSpec("bank_card_bound", bool, "identity", "host", "flag", "At least one bank card is bound to the account."),
    FactSpec(
        "education",
        str,
        "identity",
        "host",
        "category",
        "Highest education declared in the profile; None when not filled in.",
        values=EDUCATION_LEVELS,
    ),
    FactSpec(
        "occupation",
        str,
        "identity",
        "host",
        "category",
        "Occupation declared in the profile; None when not filled in.",
        values=OCCUPATIONS,
    ),
    FactSpec(
        "contact_details_complete",
        bool,
        "identity",
        "host",
        "flag",
        "Verified mobile number plus an e-mail or postal address in the profile.",
    ),
    # 人脉关系 / connections
    FactSpec(
        "verified_contacts",
        int,
        "connections",
        "host",
        "count",
        "Contacts (friends in the app) who are real-name verified.",
        minimum=0,
    ),
    FactSpec(
        "contacts_good_standing_ratio",
        int,
        "connections",
        "host",
        "per mille",
        "Share of those contacts in good standing (score at or above the opening threshold, nothing overdue), "
        "per mille; None without contacts.",
        minimum=_PER_MILLE_MIN,
        maximum=_PER_MILLE_MAX,
    ),
)

FACT_SPECS: dict[str, FactSpec] = {f.name: f for f in FACTS}


#: Facts the policy (not the score) reads, accepted from the host app like the scorecard's.
POLICY_FACTS: tuple[FactSpec, ...] = (
    FactSpec(
        "credit_authorised",
        bool,
        "identity",
        "host",
        "flag",
        "The user authorised credit-report queries (芝麻信用授权); one of the profile completeness items.",
    ),
)
POLICY_FACT_SPECS: dict[str, FactSpec] = {f.name: f for f in POLICY_FACTS}


def _behaviour(name: str, dimension: str, unit: str, minimum: int | None = None) -> FactSpec:
    return FactSpec(name, int, dimension, "huabei", unit, f"Risk feature {name} (docs/risk.md).", minimum=minimum)


#: Behavioural facts: how the line is used and repaid, point in time. Each is a feature of the
#: risk engine's catalogue (one set-based SQL definition in ``huabei.risk.features``), read as a
#: fact by a card that scores it (a fitted card; ``huabei score train --from-book``). Unknown
#: (``None``) for a user without a line or whose line had no bill fall due in the last 6 months.
BEHAVIOUR_FACTS: tuple[FactSpec, ...] = (
    _behaviour("dpd_now", "credit_history", "days", minimum=0),
    _behaviour("worst_dpd_3m", "credit_history", "days", minimum=0),
    _behaviour("worst_dpd_6m", "credit_history", "days", minimum=0),
    _behaviour("months_since_overdue", "credit_history", "months", minimum=0),
    _behaviour("paid_in_full_share_6m", "credit_history", "per mille"),
    _behaviour("below_minimum_share_6m", "credit_history", "per mille"),
    _behaviour("repaid_share_last_bill", "credit_history", "per mille"),
    _behaviour("minimum_only_share_6m", "behaviour", "per mille"),
    _behaviour("revolving_months_12m", "behaviour", "count", minimum=0),
    _behaviour("temp_limit_statements_12m", "behaviour", "count", minimum=0),
    _behaviour("utilisation_last_statement", "capacity", "per mille"),
    _behaviour("utilisation_trend", "capacity", "per mille"),
)
BEHAVIOUR_FACT_SPECS: dict[str, FactSpec] = {f.name: f for f in BEHAVIOUR_FACTS}

#: (reason, missing reason) a fitted card cites for each behavioural fact: a missing value (no
#: bill yet) never cites a claim of behaviour.
BEHAVIOUR_REASONS: dict[str, tuple[str, str]] = {
    "dpd_now": ("recent_overdue", "no_repayment_record"),
    "worst_dpd_3m": ("recent_overdue", "no_repayment_record"),
    "worst_dpd_6m": ("recent_overdue", "no_repayment_record"),
    "months_since_overdue": ("recent_overdue", "no_repayment_record"),
    "paid_in_full_share_6m": ("late_repayments", "no_repayment_record"),
    "below_minimum_share_6m": ("late_repayments", "no_repayment_record"),
    "repaid_share_last_bill": ("late_repayments", "no_repayment_record"),
    "minimum_only_share_6m": ("late_repayments", "no_repayment_record"),
    "revolving_months_12m": ("late_repayments", "no_repayment_record"),
    "temp_limit_statements_12m": ("high_utilisation", "no_statement_yet"),
    "utilisation_last_statement": ("high_utilisation", "no_statement_yet"),
    "utilisation_trend": ("high_utilisation", "no_statement_yet"),
}
assert set(BEHAVIOUR_REASONS) == set(BEHAVIOUR_FACT_SPECS)


class FactError(ValueError):
    """A fact that is unknown, of the wrong type or out of range. ``code``/``field`` are stable."""

    def __init__(self, code: str, field_name: str, detail: str, **params: object):
        super().__init__(f"{field_name}: {detail.format(**params)}")
        self.code = code
        self.field = field_name
        self.detail = detail  # a catalog msgid, its placeholders in ``params``
        self.params = params


#: The largest whole-number fact without a maximum of its own (stored as BIGINT; 2^53-1 is what
#: every JSON reader holds exactly).
FACT_INT_MAX = 2**53 - 1


def fact_maximum(spec: FactSpec) -> int:
    """The largest value an integer fact accepts."""
    return spec.maximum if spec.maximum is not None else FACT_INT_MAX


def check_facts(facts: Mapping[str, Any], *, partial: bool = False) -> dict[str, FactValue]:
    """Validate facts against :data:`FACTS` and return them as a plain dict.

    Unknown names, wrong types (a ``bool`` is not an ``int``; a ``float`` is never
    accepted) and out-of-range values raise :class:`FactError`. Unless ``partial``,
    every fact of :data:`FACTS` appears in the result, ``None`` where not given.
    """
    out: dict[str, FactValue] = {} if partial else dict.fromkeys(FACT_SPECS)
    for name, value in facts.items():
        spec = FACT_SPECS.get(name)
        if spec is None:
            raise FactError("unknown_fact", name, N_("is not a known fact"))
        if value is not None:
            if spec.type is int:
                if isinstance(value, bool) or not isinstance(value, int):
                    raise FactError("invalid_fact", name, N_("must be a whole number"))
                if spec.minimum is not None and value < spec.minimum:
                    raise FactError("invalid_fact", name, N_("must be at least {ge}"), ge=spec.minimum)
                if value > fact_maximum(spec):
                    raise FactError("invalid_fact", name, N_("must be at most {le}"), le=fact_maximum(spec))
            elif spec.type is bool:
                if not isinstance(value, bool):
                    raise FactError("invalid_fact", name, N_("must be true or false"))
            else:
                if not isinstance(value, str) or value not in spec.values:
                    raise FactError(
                        "invalid_fact", name, N_("must be one of {expected}"), expected=", ".join(spec.values)
                    )
        out[name] = value
    return out


def check_policy_facts(facts: Mapping[str, Any]) -> dict[str, FactValue]:
    """Validate facts of :data:`POLICY_FACTS` (same rules as :func:`~huabei.scoring.facts.check_facts`)."""
    out: dict[str, FactValue] = {}
    for name, value in facts.items():
        spec = POLICY_FACT_SPECS.get(name)
        if spec is None:
            raise FactError("unknown_fact", name, N_("is not a known fact"))
        if value is not None and spec.type is bool and not isinstance(value, bool):
            raise FactError("invalid_fact", name, N_("must be true or false"))
        out[name] = value
    return out
