"""The synthetic population: who the users are, deterministically from (seed, N, config).

* Profile counts are apportioned exactly from the mix (largest remainder), then assigned to
  user indices by a permutation derived from the seed: the same seed and mix always give
  the same users the same profiles.
* Everything else about a user (arrival day, facts, operator limit, when a delinquent stops
  paying) is drawn from that user's own generator ``derive(seed, "user", user_id)``.
* User ids are ``sim<seed>-<index>`` (zero-padded), so sorting by id is sorting by index.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from huabei.config import ProductTerms
from huabei.simulation.profiles import (
    ApplicantFacts,
    BehaviourProfile,
    PopulationConfig,
)
from huabei.simulation.rng import (
    apportion,
    between,
    chance,
    derive,
    pick_keyed,
    pick_weighted,
)

FactValue = int | bool | str | None


@dataclass(frozen=True)
class SyntheticUser:
    index: int
    user_id: str
    profile: str
    #: Day number (1 = the first simulated day) the user applies for a credit line.
    arrival_day: int
    real_name_verified: bool
    name: str
    phone: str
    #: Profile fields given at registration (``services.accounts.PROFILE_FIELDS``).
    profile_fields: dict[str, Any]
    #: Host facts the score and limit policy read (``None`` = not provided).
    facts: dict[str, FactValue]
    #: Base limit an operator would open the line with (core mode).
    operator_limit: int
    #: After how many bills a delinquent stops paying for good (None: never).
    stop_after_bills: int | None = None
    tags: tuple[str, ...] = field(default_factory=tuple)


def user_id_for(seed: int, index: int) -> str:
    return f"sim{seed}-{index:07d}"


def _facts(r: Any, a: ApplicantFacts, verified: bool) -> dict[str, FactValue]:
    declared = chance(r, a.income_declared_per_mille)
    income = pick_weighted(r, a.monthly_income) if declared else None
    education = pick_keyed(r, a.education)
    occupation = pick_keyed(r, a.occupation)
    contacts = between(r, a.verified_contacts)
    lo, hi = a.contacts_good_standing_per_mille
    return {
        "real_name_verified": verified,
        "monthly_income": income,
        "income_verified": (chance(r, a.income_verified_per_mille) if declared else None),
        "assets": pick_weighted(r, a.assets),
        "education": None if education == "undeclared" else education,
        "occupation": None if occupation == "undeclared" else occupation,
        "bank_card_bound": chance(r, a.bank_card_bound_per_mille),
        "id_document_valid": chance(r, a.id_document_valid_per_mille),
        "contact_details_complete": chance(r, a.contact_details_complete_per_mille),
        "credit_authorised": chance(r, a.credit_authorised_per_mille),
        "verified_contacts": contacts,
        "contacts_good_standing_ratio": (between(r, (lo, hi)) if contacts else None),
        "utility_payments_12m": between(r, a.utility_payments_per_year),
        "credit_card_repayments_12m": between(r, a.credit_card_repayments_per_year),
        "credit_services_12m": between(r, a.credit_services_per_year),
        "active_days_90d": between(r, a.active_days_per_90),
    }


def operator_limit_for(r: Any, profile: BehaviourProfile, terms: ProductTerms) -> int:
    lt = terms.limits
    amount = pick_weighted(r, profile.operator_limit)
    amount = amount // lt.limit_step * lt.limit_step
    lo = -(-lt.min_base_limit // lt.limit_step) * lt.limit_step
    hi = lt.max_base_limit // lt.limit_step * lt.limit_step
    return max(lo, min(hi, amount))


def build_population(
    seed: int, users: int, days: int, config: PopulationConfig, terms: ProductTerms
) -> list[SyntheticUser]:
    """``users`` synthetic users for a run of ``days`` days, sorted by user id."""
    counts = apportion(users, config.mix)
    labels = [name for name in sorted(counts) for _ in range(counts[name])]
    derive(seed, "mix").shuffle(labels)
    initial = users * config.initial_share_percent // 100
    window = min(config.initial_window_days, days)
    out: list[SyntheticUser] = []
    for index, profile_name in enumerate(labels):
        uid = user_id_for(seed, index)
        profile = config.profiles[profile_name]
        r = derive(seed, "user", uid)
        # the first ``initial`` users (by a seeded order, not by index) apply in the opening window
        arrival = r.randint(1, window) if _rank(seed, uid, users) < initial else r.randint(1, days)
        verified = chance(r, profile.applicant.real_name_verified_per_mille)
        facts = _facts(r, profile.applicant, verified)
        fields: dict[str, Any] = {"bank_card_bound": facts["bank_card_bound"]}
        if facts["education"]:
            fields["education"] = facts["education"]
        if facts["occupation"]:
            fields["occupation"] = facts["occupation"]
        if facts["contact_details_complete"]:
            fields["email"] = f"{uid}@example.invalid"
        stop = between(r, profile.repayment.stop_after_bills) if profile.repayment.stop_after_bills else None
        out.append(
            SyntheticUser(
                index=index,
                user_id=uid,
                profile=profile_name,
                arrival_day=arrival,
                real_name_verified=verified,
                name=f"模拟用户{index}",
                phone=f"139{r.randrange(10**8):08d}",
                profile_fields=fields,
                facts=facts,
                operator_limit=operator_limit_for(r, profile, terms),
                stop_after_bills=stop,
            )
        )
    return out


def _rank(seed: int, uid: str, users: int) -> int:
    """A position in 0 … users-1 from the user's own hash: about ``initial`` users fall under
    ``initial`` (uniform), independently of iteration order."""
    return derive(seed, "arrival-rank", uid).randrange(max(1, users))


def calendar(start: dt.date, months: int) -> list[dt.date]:
    """Every simulated date: ``months`` calendar months from ``start``."""
    from huabei.billing.calendar import add_months

    end = add_months(start, months)
    return [start + dt.timedelta(days=i) for i in range((end - start).days)]
