"""Restrictions (冻结) and how they lift (解封).

A restriction is placed on a credit line for one *cause* — the nine causes of the
second seed document, plus an agent's hold — with evidence (what the system saw),
a remedy (what the user can do) and a lifting rule. While any restriction that
blocks purchases is active the line is *frozen* and purchases are declined with
``account_frozen``; the code of the cause travels with the decline so the
explanation layer can say why and what to do.

This module is the catalogue of causes: what each blocks, how it lifts, whether it can be
appealed. ``huabei.restrictions.service`` places and lifts them (an operator, or a rule
engine through ``place(uow, …)``) and lifts them by date at end of day.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from dataclasses import dataclass
from enum import StrEnum

from huabei.config import RestrictionTerms
from huabei.lines.rules import frozen_block


class Capability(StrEnum):
    """What a restriction can block."""

    PURCHASE = "purchase"
    INSTALLMENT = "installment"
    LIMIT_RAISE = "limit_raise"


class LiftRule(StrEnum):
    AUTOMATIC_AFTER = "automatic_after"  # lifts by itself on a date (password lock, risk period)
    WHEN_CONDITION_CLEARS = "when_condition_clears"  # e.g. nothing overdue, score back over 600
    WHEN_WINDOW_ENDS = "when_window_ends"  # maintenance, brand isolation
    ON_VERIFICATION = "on_verification"  # re-verify identity
    ON_REAPPLICATION = "on_reapplication"  # closed for weak credit; reapply later
    BY_AGENT = "by_agent"


@dataclass(frozen=True)
class Cause:
    code: str  # reason code, see huabei.reasons
    blocks: frozenset[Capability]
    lift_rule: LiftRule
    appealable: bool
    #: The ``restrictions`` term (``huabei.config.RestrictionTerms``) that gives its default
    #: duration, in hours (``*_hours``) or days (``*_days``); None: no default lifting date.
    duration_term: str | None = None


ALL = frozenset(Capability)

CAUSES: dict[str, Cause] = {
    c.code: c
    for c in (
        Cause("overdue_reported", ALL, LiftRule.WHEN_CONDITION_CLEARS, appealable=False),
        Cause(
            "cash_out_suspected", ALL, LiftRule.AUTOMATIC_AFTER, appealable=True, duration_term="cash_out_review_days"
        ),
        Cause(
            "score_brushing_suspected",
            ALL,
            LiftRule.AUTOMATIC_AFTER,
            appealable=True,
            duration_term="score_brushing_review_days",
        ),
        Cause("score_below_threshold", ALL, LiftRule.WHEN_CONDITION_CLEARS, appealable=False),
        Cause("inactive_account", ALL, LiftRule.WHEN_CONDITION_CLEARS, appealable=True),
        Cause("account_takeover_suspected", ALL, LiftRule.ON_VERIFICATION, appealable=True),
        Cause(
            "maintenance_window",
            frozenset({Capability.PURCHASE, Capability.INSTALLMENT}),
            LiftRule.WHEN_WINDOW_ENDS,
            appealable=False,
        ),
        Cause(
            "brand_isolation",
            frozenset({Capability.PURCHASE, Capability.INSTALLMENT}),
            LiftRule.WHEN_WINDOW_ENDS,
            appealable=False,
        ),
        Cause(
            "wrong_password_lockout",
            frozenset({Capability.PURCHASE}),
            LiftRule.AUTOMATIC_AFTER,
            appealable=False,
            duration_term="wrong_password_lock_hours",
        ),
        Cause("regulatory_tightening", ALL, LiftRule.ON_REAPPLICATION, appealable=False),
        Cause("operator_hold", ALL, LiftRule.BY_AGENT, appealable=True),
    )
}

#: When several restrictions are active, the one reported first (most severe first).
SEVERITY = (
    "regulatory_tightening",
    "overdue_reported",
    "cash_out_suspected",
    "score_brushing_suspected",
    "account_takeover_suspected",
    "score_below_threshold",
    "inactive_account",
    "wrong_password_lockout",
    "operator_hold",
    "brand_isolation",
    "maintenance_window",
)


def default_lift_date(cause: Cause, placed_on: dt.date, terms: RestrictionTerms) -> dt.date | None:
    """The business date a restriction lifts by itself, if its cause has a default duration
    (the configured term its ``duration_term`` names).

    Durations shorter than a day (the 24-hour password lock) round up to whole
    business days: a lock placed on day D lifts on D+1.
    """
    if cause.duration_term is None:
        return None
    value = int(getattr(terms, cause.duration_term))
    days = -(-value // 24) if cause.duration_term.endswith("_hours") else value
    return placed_on + dt.timedelta(days=days)


def block_code_for(active_causes: list[str]) -> tuple[str | None, str | None]:
    """(block code, leading cause) of a line with these active restriction causes."""
    blocking = [c for c in active_causes if Capability.PURCHASE in CAUSES[c].blocks]
    if not blocking:
        return None, None
    lead = min(blocking, key=lambda c: SEVERITY.index(c) if c in SEVERITY else len(SEVERITY))
    return frozen_block(lead), lead


#: The reason codes an agent may give to lift a soft risk-rule restriction early (a fixed list, so
#: lifts can be counted and audited; free text goes in an appeal's decision reason).
AGENT_LIFT_REASONS = ("false_positive", "resolved_by_user", "goodwill", "appeal_lifted", "operator_error")


def severity_for_agent(cause: str, rule_severity: str | None, policy_severities: Collection[str]) -> str:
    """``soft`` if a customer-service agent may place and lift a restriction of ``cause``, else ``hard``.

    One placed by a risk rule has its rule's severity (``rule_severity``). Otherwise: an operator
    hold (lifted by an agent) is soft; a cause the risk policy in force has rules for takes their
    severity (``policy_severities``: hard if any of them is hard); a cause no rule names is
    governed by the system (overdue, maintenance, a password lock, regulation) and is hard."""
    if rule_severity is not None:
        return "hard" if rule_severity == "hard" else "soft"
    c = CAUSES.get(cause)
    if c is not None and c.lift_rule is LiftRule.BY_AGENT:
        return "soft"
    if policy_severities and "hard" not in policy_severities:
        return "soft"
    return "hard"
