"""提额建议: how this user can raise the limit, each action's effect computed by the real policy (pure).

:func:`advise` takes the user's facts as of today (the same facts the score and the limit policy
read, :class:`AdviceFacts`) and, for each action the first seed recommends, changes the facts the
action would change (a counterfactual), then runs the **real** scorecard
(:class:`huabei.scoring.scorecard.Scorecard`) and limit policy
(:func:`huabei.limits.policy.propose_base_limit`, :func:`huabei.limits.policy.review`) on them:

========================  ===============================================================
action                    facts changed
========================  ===============================================================
``complete_profile``      every missing profile item of ``limits.policy.COMPLETENESS_ITEMS``
                          set (flags true, education / occupation declared)
``one_more_scenario``     ``merchant_categories_90d`` + 1
``repay_on_time``         ``horizon_months`` more months of on-time repayments:
                          ``credit_history_months`` + N; ``on_time_repayment_ratio`` as if the
                          newest N of the 12 months were on time (1000 if nothing fell due yet);
                          nothing overdue in 12 months if nothing has fallen due yet (an overdue
                          still inside the window is kept: the estimate is conservative)
``lower_utilisation``     ``utilisation_ratio`` down to ``utilisation_target`` and ``used`` down
                          by the repayment that takes (advised only above the target)
``stop_applying``         ``raise_applications_90d`` to 0 (from the day the last one turns 90 days)
``pay_utility_bills``     ``utility_payments_12m`` + N (one bill a month for the horizon)
========================  ===============================================================

Each action carries the score points it adds, how much the policy's limit for the user moves,
and what the next review (on ``next_review``) would do to the base limit — a review caps a raise
at ``max_raise_ratio`` and gives none while the line is overdue, frozen or over its base limit.
Actions that would change none of the three are not shown; the rest are ranked by the review's
change, then the policy's limit, then the points. The facts each action changed are in its data
(``changes``), so anyone can re-run the policy on them. The first seed's **warnings** that apply
(frequent raise applications, spending beyond the base limit on a temporary limit, cash-out-like
purchases) come with their evidence. Nothing here reads a clock or a database.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from huabei.config import ProductTerms
from huabei.diagnosis.explainers import flagged_purchases, purchase_sentences
from huabei.diagnosis.vocabulary import Code, Fen, PurchaseFact, RestrictionFact, Sentence, Term, TermList, say, say_n
from huabei.i18n import N_
from huabei.limits import policy as lp
from huabei.scoring.dimensions import BAND_NAMES, band_of
from huabei.scoring.facts import EDUCATION_LEVELS, OCCUPATIONS
from huabei.scoring.scorecard import FactValue, Scorecard

#: The profile items, in words (the completeness items of the limit policy).
PROFILE_ITEMS: dict[str, str] = {
    "real_name_verified": N_("real-name verification"),
    "id_document_valid": N_("a valid identity document"),
    "bank_card_bound": N_("a bound bank card"),
    "education": N_("your education"),
    "occupation": N_("your occupation"),
    "contact_details_complete": N_("your contact details"),
    "credit_authorised": N_("credit-report authorisation"),
}
_DECLARED = {"education": EDUCATION_LEVELS[0], "occupation": OCCUPATIONS[0]}


@dataclass(frozen=True)
class ApplicationFact:
    application_id: int
    applied_on: dt.date
    decision: str


@dataclass(frozen=True)
class AdviceFacts:
    """What the advice reads about one line and its owner, as of ``today``."""

    account_id: int
    user_id: str
    today: dt.date
    base_limit: int
    used: int
    total_limit: int  # base plus the temporary limit in force
    block_code: str | None
    facts: Mapping[str, FactValue]  # the score's and the policy's facts, as of today
    stored_score: int | None
    next_review: dt.date
    applications_90d: tuple[ApplicationFact, ...] = ()  # newest first
    temporary_purchases: tuple[PurchaseFact, ...] = ()  # recent purchases made on a temporary limit
    flagged: tuple[RestrictionFact, ...] = ()  # cash-out / score-brushing restrictions, active or recent
    purchases: tuple[PurchaseFact, ...] = ()  # the purchases the flagged restrictions' evidence names


@dataclass(frozen=True)
class Effect:
    score: int
    policy_limit: int
    review_limit: int


@dataclass(frozen=True)
class Action:
    code: str
    changes: Mapping[str, FactValue]  # the facts the action changes (the counterfactual)
    used: int  # what is used after the action (changed by lower_utilisation only)
    data: Mapping[str, Any]
    says: Sentence
    before: Effect
    after: Effect

    @property
    def score_points(self) -> int:
        return self.after.score - self.before.score

    @property
    def policy_limit_change(self) -> int:
        return self.after.policy_limit - self.before.policy_limit

    @property
    def review_limit_change(self) -> int:
        return self.after.review_limit - self.before.review_limit

    def effect(self, next_review: dt.date) -> Sentence:
        pts, review, pol = self.score_points, self.review_limit_change, self.policy_limit_change
        if review < 0:
            return say(
                N_(
                    "Estimated effect: {points} more points, but with less of your limit in use the review on {date} could lower it by {amount} yuan more."
                ),
                points=pts,
                amount=Fen(-review),
                date=next_review,
            )
        if review > 0 and pts > 0:
            return say(
                N_("Estimated effect: {points} more points and {amount} yuan more limit at the review on {date}."),
                points=pts,
                amount=Fen(review),
                date=next_review,
            )
        if review > 0:
            return say(
                N_("Estimated effect: {amount} yuan more limit at the review on {date}."),
                amount=Fen(review),
                date=next_review,
            )
        if pol > 0 and pts > 0:
            return say(
                N_(
                    "Estimated effect: {points} more points, and the policy's limit for you rises by {amount} yuan, though the next review would not raise your limit yet."
                ),
                points=pts,
                amount=Fen(pol),
            )
        if pol > 0:
            return say(
                N_(
                    "Estimated effect: the policy's limit for you rises by {amount} yuan, though the next review would not raise your limit yet."
                ),
                amount=Fen(pol),
            )
        return say(N_("Estimated effect: {points} more points; not enough to change your limit yet."), points=pts)


@dataclass(frozen=True)
class Warning:
    code: str
    data: Mapping[str, Any]
    says: Sentence
    evidence: tuple[Sentence, ...]
    remedy: Sentence


@dataclass(frozen=True)
class Factor:
    """What holds the limit down: a reason code of the policy (``held_down``), the multiplier it
    applied (per mille; None for the band and the maximum) and the user's value behind it."""

    code: str
    multiplier: int | None
    data: Mapping[str, Any]
    evidence: Sentence


@dataclass(frozen=True)
class Advice:
    account_id: int
    user_id: str
    as_of: dt.date
    next_review: dt.date
    baseline: Effect
    stored_score: int | None
    base_limit: int
    raise_blocked_by: tuple[str, ...]
    summary: tuple[Sentence, ...]
    actions: tuple[Action, ...]
    warnings: tuple[Warning, ...]
    factors: tuple[Factor, ...] = ()


# --- the policy, run as it runs -------------------------------------------------------------


def evaluate(a: AdviceFacts, facts: Mapping[str, FactValue], used: int, card: Scorecard, terms: ProductTerms) -> Effect:
    """Score ``facts`` with ``card``, the policy's base limit for that score and facts, and the
    base limit the review would give the line (due: the review on ``next_review``)."""
    score = card.score(facts).score
    proposal = lp.propose_base_limit(score, facts, terms.limits)
    review = lp.review(a.base_limit, used, proposal, a.block_code, terms.limits)
    return Effect(score=score, policy_limit=proposal.limit, review_limit=review.new_limit)


# --- the counterfactuals --------------------------------------------------------------------


def _int(v: FactValue) -> int | None:
    return v if isinstance(v, int) and not isinstance(v, bool) else None


def _complete_profile(
    a: AdviceFacts, terms: ProductTerms
) -> tuple[dict[str, FactValue], int, dict[str, Any], Sentence] | None:
    missing = [k for k in lp.COMPLETENESS_ITEMS if not a.facts.get(k)]
    if not missing:
        return None
    changes: dict[str, FactValue] = {k: _DECLARED.get(k, True) for k in missing}
    words = TermList(tuple(Term(PROFILE_ITEMS[k]) for k in missing if k in PROFILE_ITEMS))
    return changes, a.used, {"items": missing}, say(N_("Complete your profile: {items}."), items=words)


def _one_more_scenario(
    a: AdviceFacts, terms: ProductTerms
) -> tuple[dict[str, FactValue], int, dict[str, Any], Sentence] | None:
    now = _int(a.facts.get("merchant_categories_90d")) or 0
    return (
        {"merchant_categories_90d": now + 1},
        a.used,
        {"scenarios_90d": now},
        say_n(
            now,
            N_(
                "Use Huabei in one more kind of place, such as dining, travel or utilities (one kind in the last 90 days)."
            ),
            N_(
                "Use Huabei in one more kind of place, such as dining, travel or utilities ({count} kinds in the last 90 days)."
            ),
        ),
    )


def _repay_on_time(
    a: AdviceFacts, terms: ProductTerms
) -> tuple[dict[str, FactValue], int, dict[str, Any], Sentence] | None:
    n = terms.diagnosis.horizon_months
    ratio = _int(a.facts.get("on_time_repayment_ratio"))
    changes: dict[str, FactValue] = {
        "credit_history_months": (_int(a.facts.get("credit_history_months")) or 0) + n,
        "on_time_repayment_ratio": 1000 if ratio is None else min(1000, ratio + (1000 - ratio) * min(n, 12) // 12),
    }
    for name in ("max_days_overdue_12m", "overdue_episodes_12m"):
        if a.facts.get(name) is None:
            changes[name] = 0
    return (
        changes,
        a.used,
        {"months": n},
        say(N_("Repay every bill in full and on time for the next {months} months."), months=n),
    )


def _lower_utilisation(
    a: AdviceFacts, terms: ProductTerms
) -> tuple[dict[str, FactValue], int, dict[str, Any], Sentence] | None:
    target = lp.per_mille(terms.diagnosis.utilisation_target)
    ratio = _int(a.facts.get("utilisation_ratio"))
    if ratio is None or ratio <= target or a.total_limit <= 0:
        return None
    used_after = a.total_limit * target // 1000
    repay = a.used - used_after
    if repay <= 0:
        return None
    percent = int(Decimal(target) / 10)
    return (
        {"utilisation_ratio": target},
        used_after,
        {"repay": Fen(repay), "target_per_mille": target},
        say(
            N_("Keep what you use below {percent}% of your limit: repay {amount} yuan now."),
            percent=percent,
            amount=Fen(repay),
        ),
    )


def _stop_applying(
    a: AdviceFacts, terms: ProductTerms
) -> tuple[dict[str, FactValue], int, dict[str, Any], Sentence] | None:
    count = _int(a.facts.get("raise_applications_90d")) or 0
    if count <= 0:
        return None
    last = a.applications_90d[0].applied_on if a.applications_90d else a.today
    clear_on = last + dt.timedelta(days=90)
    return (
        {"raise_applications_90d": 0},
        a.used,
        {"applications_90d": count, "counts_until": clear_on},
        say_n(
            count,
            N_("Stop applying for raises: your application of the last 90 days stops counting on {date}."),
            N_("Stop applying for raises: your {count} applications of the last 90 days stop counting on {date}."),
            date=clear_on,
        ),
    )


def _pay_utility_bills(
    a: AdviceFacts, terms: ProductTerms
) -> tuple[dict[str, FactValue], int, dict[str, Any], Sentence] | None:
    n = terms.diagnosis.horizon_months
    now = _int(a.facts.get("utility_payments_12m")) or 0
    return (
        {"utility_payments_12m": now + n},
        a.used,
        {"months": n, "utility_payments_12m": now},
        say(
            N_("Pay your water, electricity, gas or phone bills in the app, once a month for {months} months."),
            months=n,
        ),
    )


#: The actions of the first seed, each a counterfactual (see the module docstring).
ACTIONS = (
    ("complete_profile", _complete_profile),
    ("one_more_scenario", _one_more_scenario),
    ("repay_on_time", _repay_on_time),
    ("lower_utilisation", _lower_utilisation),
    ("stop_applying", _stop_applying),
    ("pay_utility_bills", _pay_utility_bills),
)


# --- the warnings of the first seed -----------------------------------------------------------


def _warnings(a: AdviceFacts, terms: ProductTerms) -> list[Warning]:
    out: list[Warning] = []
    apps = a.applications_90d
    if len(apps) >= terms.diagnosis.frequent_applications:
        out.append(
            Warning(
                code="frequent_raise_applications",
                data={"count": len(apps), "application_ids": [x.application_id for x in apps]},
                says=say(
                    N_(
                        "You applied for a raise {count} times in the last 90 days; frequent applications lower your score."
                    ),
                    count=len(apps),
                ),
                evidence=tuple(
                    say(N_("Application on {date}: {decision}."), date=x.applied_on, decision=_decision(x.decision))
                    for x in apps
                ),
                remedy=say(
                    N_(
                        "Stop applying: your limit is reviewed automatically, and one application per {days} days is considered."
                    ),
                    days=terms.raises.application_cooldown_days,
                ),
            )
        )
    if a.used > a.base_limit and a.temporary_purchases:
        over = a.used - a.base_limit
        out.append(
            Warning(
                code="temporary_limit_overspent",
                data={"over_base_limit": Fen(over), "purchase_ids": [p.purchase_id for p in a.temporary_purchases]},
                says=say(
                    N_("You owe {amount} yuan more than your base limit, spent on a temporary limit."), amount=Fen(over)
                ),
                evidence=tuple(
                    say(
                        N_("Purchase {purchase_id}: {amount} yuan on the temporary limit on {date}."),
                        purchase_id=p.purchase_id,
                        amount=Fen(p.on_temporary_limit),
                        date=p.business_date,
                    )
                    for p in a.temporary_purchases
                ),
                remedy=say(
                    N_("Repay at least {amount} yuan: while you owe more than your base limit, no raise is given."),
                    amount=Fen(over),
                ),
            )
        )
    for r in a.flagged:
        flagged = flagged_purchases(r, a.purchases)
        cut = r.cause in terms.limits.cut_on_restriction_causes
        out.append(
            Warning(
                code=f"{r.cause}_pattern",
                data={"restriction_id": r.restriction_id, "placed_on": r.placed_on, "evidence": dict(r.evidence)},
                says=say(
                    N_("Purchases on {date} looked like cash-out or score brushing, which lowers your limit."),
                    date=r.placed_on,
                )
                if cut
                else say(N_("Activity on {date} was flagged by risk control."), date=r.placed_on),
                evidence=purchase_sentences(flagged),
                remedy=say(
                    N_(
                        "Pay only for real goods and services at real merchants; each review cuts the limit by up to {percent}% while this lasts."
                    ),
                    percent=int(Decimal(lp.per_mille(terms.limits.max_cut_ratio)) / 10),
                ),
            )
        )
    return out


#: An application's decision, in words.
DECISIONS: dict[str, str] = {"approved": N_("approved"), "declined": N_("declined")}


def _decision(decision: str) -> Term | str:
    return Term(DECISIONS[decision]) if decision in DECISIONS else decision


# --- what holds the limit down -----------------------------------------------------------------

#: The policy factor behind each held-down reason code (``limits.policy.FACTORS``).
_FACTOR_OF = {f.held_down: f.name for f in lp.FACTORS}


def _factor_evidence(code: str, a: AdviceFacts, score: int, terms: ProductTerms) -> tuple[dict[str, Any], Sentence]:
    facts = a.facts
    if code == "low_income":
        income = _int(facts.get("monthly_income"))
        if income is None:
            return {"monthly_income": None}, say(N_("No monthly income is on file."))
        verified = facts.get("income_verified") is True
        data = {"monthly_income": Fen(income), "income_verified": verified}
        if verified:
            return data, say(N_("Monthly income on file: {amount} yuan, verified."), amount=Fen(income))
        return data, say(N_("Monthly income on file: {amount} yuan, not verified."), amount=Fen(income))
    if code == "low_assets":
        assets = _int(facts.get("assets"))
        if assets is None:
            return {"assets": None}, say(N_("No savings or fund balances are on file."))
        return {"assets": Fen(assets)}, say(N_("Savings and funds in the app: {amount} yuan."), amount=Fen(assets))
    if code == "low_activity":
        n = _int(facts.get("payments_90d")) or 0
        return {"payments_90d": n}, say(N_("Payments with the app in the last 90 days: {count}."), count=n)
    if code == "short_credit_history":
        n = _int(facts.get("credit_history_months")) or 0
        return {"credit_history_months": n}, say(N_("Credit history: {months} months."), months=n)
    if code == "incomplete_profile":
        done = [k for k in lp.COMPLETENESS_ITEMS if facts.get(k)]
        missing = TermList(tuple(Term(PROFILE_ITEMS[k]) for k in lp.COMPLETENESS_ITEMS if not facts.get(k)))
        return (
            {"complete": len(done), "of": len(lp.COMPLETENESS_ITEMS)},
            say(
                N_("Profile: {done} of {total} items complete; missing: {items}."),
                done=len(done),
                total=len(lp.COMPLETENESS_ITEMS),
                items=missing,
            ),
        )
    if code == "few_scenarios":
        n = _int(facts.get("merchant_categories_90d")) or 0
        return {"merchant_categories_90d": n}, say(
            N_("Kinds of places paid with Huabei in the last 90 days: {count}."), count=n
        )
    if code == "limit_score_band":
        band = band_of(score)
        start = terms.limits.band_base_limits[band]
        return (
            {"score": score, "band": band, "band_amount": Fen(start)},
            say(
                N_("Credit score {score}, band “{band}”: the limit starts from {amount} yuan."),
                score=score,
                band=Term(BAND_NAMES[band]),
                amount=Fen(start),
            ),
        )
    if code == "limit_at_maximum":
        return {"maximum": Fen(terms.limits.max_base_limit)}, say(
            N_("The product's maximum is {amount} yuan."), amount=Fen(terms.limits.max_base_limit)
        )
    return {}, say(N_("This factor holds the limit down."))


def factors_of(a: AdviceFacts, score: int, card_proposal: lp.LimitProposal, terms: ProductTerms) -> tuple[Factor, ...]:
    out = []
    for code in card_proposal.held_down:
        data, sentence = _factor_evidence(code, a, score, terms)
        factor = _FACTOR_OF.get(code)
        mult = card_proposal.multipliers.get(factor) if factor else None
        out.append(Factor(code, mult, data, sentence))
    return tuple(out)


# --- the advice -------------------------------------------------------------------------------


def advise(a: AdviceFacts, card: Scorecard, terms: ProductTerms) -> Advice:
    """The advice for one line (see the module docstring)."""
    before = evaluate(a, a.facts, a.used, card, terms)
    proposal = lp.propose_base_limit(before.score, a.facts, terms.limits)
    actions: list[Action] = []
    for code, make in ACTIONS:
        made = make(a, terms)
        if made is None:
            continue
        changes, used, data, sentence = made
        after = evaluate(a, {**a.facts, **changes}, used, card, terms)
        act = Action(code, changes, used, {**data, "changes": dict(changes)}, sentence, before, after)
        if act.score_points > 0 or act.policy_limit_change > 0 or act.review_limit_change > 0:
            actions.append(act)
    actions.sort(key=lambda x: (-x.review_limit_change, -x.policy_limit_change, -x.score_points))
    blocked = lp.blocked_raise_reasons(a.block_code, a.used > a.base_limit)
    summary = [
        say(
            N_("Your base limit is {base} yuan; with your data today the policy would set it at {policy} yuan."),
            base=Fen(a.base_limit),
            policy=Fen(before.policy_limit),
        )
    ]
    if before.review_limit > a.base_limit:
        summary.append(
            say(
                N_("At the next review, on {date}, it would rise to {amount} yuan."),
                date=a.next_review,
                amount=Fen(before.review_limit),
            )
        )
    elif before.review_limit < a.base_limit:
        summary.append(
            say(
                N_("At the next review, on {date}, it would be lowered to {amount} yuan."),
                date=a.next_review,
                amount=Fen(before.review_limit),
            )
        )
    else:
        summary.append(
            say(N_("The next review is on {date}; as things stand it would not change your limit."), date=a.next_review)
        )
    if blocked:
        summary.append(say(N_("No raise is possible for now: {reason}"), reason=Code(blocked[0])))
    if not actions:
        summary.append(say(N_("None of the usual steps would raise your score or your limit now.")))
    return Advice(
        account_id=a.account_id,
        user_id=a.user_id,
        as_of=a.today,
        next_review=a.next_review,
        baseline=before,
        stored_score=a.stored_score,
        base_limit=a.base_limit,
        raise_blocked_by=blocked,
        summary=tuple(summary),
        actions=tuple(actions),
        warnings=tuple(_warnings(a, terms)),
        factors=factors_of(a, before.score, proposal, terms),
    )


__all__ = ["Action", "Advice", "AdviceFacts", "ApplicationFact", "Effect", "Factor", "Warning", "advise", "evaluate"]
