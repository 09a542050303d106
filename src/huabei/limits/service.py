"""Use cases of the limit policy (额度): the opening decision, periodic re-evaluation, raise
applications (申请提额), temporary limits by scenario, limit history.

Temporary limits end on their expiry date through the billing engine's EOD step
``expire_temporary_limits`` (the change is recorded with ``temporary_limit_expired``).

The rules are pure (:mod:`huabei.limits.policy`); this module reads facts and scores
(:mod:`huabei.scoring.service`), applies the rules and records every change in
``limit_changes`` with old value, new value, reason codes, the policy version and the actor.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from huabei import errors
from huabei.config import ProductTerms
from huabei.events import LimitRaiseApplied
from huabei.limits import policy as lp
from huabei.lines.rules import BLOCK_OVERDUE, LimitChange
from huabei.lines.service import record_limit_change
from huabei.money import format_yuan
from huabei.platform.unit_of_work import Huabei, UnitOfWork
from huabei.scoring import collect
from huabei.scoring import service as scoring

ACTOR_SYSTEM = "system"
ACTOR_APPLICANT = "applicant"


# ---------------------------------------------------------------------------------------
# Opening (开通)
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class OpeningDecision:
    """The automatic opening decision: eligible with a base limit and the policy's reasons,
    or declined with the reasons (the first ones say why; the score's own reasons follow
    when the score is below the threshold)."""

    eligible: bool
    base_limit: int
    reasons: tuple[str, ...]
    score: int
    policy_version: str
    params: dict[str, Any]


def decide_opening(uow: UnitOfWork, user_id: str) -> OpeningDecision:
    """Decide an opening inside ``uow``: rescore the user (stored, trigger ``opening``) and
    apply :func:`~huabei.limits.policy.opening_declines` — a verified real name, a
    valid identity document when one is known, score ≥ ``scoring.opening_threshold``,
    nothing overdue now, no days overdue beyond ``scoring.opening_max_days_overdue_12m`` in
    12 months, and no active restriction of a cause in ``scoring.opening_disqualifying_causes``
    on any of the user's lines. One user is :func:`decide_openings` of one."""
    pop = collect.collect_facts(uow, user_ids=[user_id])
    if len(pop) == 0:
        raise errors.not_found("user_not_found", user_id=user_id)
    return decide_openings(uow, [user_id], pop)[user_id]


def decide_openings(
    uow: UnitOfWork, user_ids: list[str], pop: collect.Population | None = None
) -> dict[str, OpeningDecision]:
    """The opening decisions of many (existing) users at once, set-based: their facts collected
    together (``pop``, or read here), scored as a batch and stored (trigger ``opening``), then
    the same rules as one by one for each."""
    terms = uow.terms
    if pop is None:
        pop = collect.collect_facts(uow, user_ids=user_ids)
    scoring.refresh_scores(uow, trigger="opening", user_ids=user_ids, population=pop)
    views = {r.user_id: scoring.score_view(r, terms.scoring) for r in uow.scores.latest_by_user(user_ids)}
    causes = uow.credit_record.active_restriction_causes_of(user_ids)
    version = lp.policy_version(terms.limits)
    out: dict[str, OpeningDecision] = {}
    eligible: list[tuple[str, dict[str, Any], int, dict[str, Any]]] = []
    for user_id in user_ids:
        i = pop.index(user_id)
        facts, view = pop.facts_of(i), views[user_id]
        score = view["score"]
        declines = lp.opening_declines(
            score,
            [r["code"] for r in view["reasons"]],
            facts,
            bool(pop.overdue_now[i]),
            causes.get(user_id, []),
            terms.scoring,
        )
        params = {"threshold": terms.scoring.opening_threshold, "score": score}
        if declines:
            out[user_id] = OpeningDecision(False, 0, declines, score, version, params)
        else:
            eligible.append((user_id, facts, score, params))
    if eligible:
        # the policy's base limits of every eligible user as one batch (propose_base_limit is
        # one row of it: the same limit and reasons row by row)
        batch = lp.propose_batch(
            np.array([score for _, _, score, _ in eligible], dtype=np.int64),
            {name: [facts[name] for _, facts, _, _ in eligible] for name in eligible[0][1]},
            terms.limits,
        )
        for i, (user_id, _, score, params) in enumerate(eligible):
            held, pushed = batch.reasons(i, terms.limits)
            out[user_id] = OpeningDecision(True, int(batch.limit[i]), held + pushed, score, version, params)
    return {user_id: out[user_id] for user_id in user_ids}


# ---------------------------------------------------------------------------------------
# Periodic re-evaluation (EOD)
# ---------------------------------------------------------------------------------------


def _block(line: Any, pop: collect.Population) -> str | None:
    """The line's block code, or ``account_overdue`` when the user is overdue right now."""
    return line.block_code or (BLOCK_OVERDUE if bool(pop.overdue_now[0]) else None)


def _latest_scores(uow: UnitOfWork, pop: collect.Population, user_ids: list[str] | None) -> np.ndarray:
    """Each user's latest stored score; a user never scored is scored now (not stored)."""
    latest = collect.Aligner(pop.user_ids)(
        uow.scores.latest_points(user_ids),
        ["score", "band", "credit_history", "behaviour", "capacity", "identity", "connections"],
    )["score"]
    missing = np.equal(latest, None)
    scores = np.where(missing, 0, latest).astype(np.int64)
    if missing.any():
        fresh = scoring.score_population(pop.subset(missing), collect.card_in_force(uow))
        scores[missing] = fresh.scores
    return scores


def _ages(uow: UnitOfWork, sub: collect.Population, account_ids: list[int] | None) -> tuple[np.ndarray, np.ndarray]:
    """Days each line has been open, and days since its last base-limit change (−1: none)."""
    today = np.datetime64(uow.today(), "D")
    days_open = np.where(np.isnat(sub.opened_on), 0, (today - sub.opened_on).astype(np.int64))
    changes = uow.limit_changes.last_base_changes(account_ids)
    since = np.full(len(sub), -1, dtype=np.int64)
    if changes:
        index = pd.Index(sub.account_id)
        pos = index.get_indexer(np.array([r[0] for r in changes], dtype=np.int64))
        last = collect.dates_of([r[1] for r in changes])
        keep = pos >= 0
        since[pos[keep]] = (today - last[keep]).astype(np.int64)
    return days_open, since


@dataclass(frozen=True)
class ReviewSnapshot:
    """What a limit review reads, one row per open line: the owner's facts (``lines``: the
    population of users with an open line), each owner's latest score, the days each line has
    been open and the days since its last base-limit change (-1: none)."""

    lines: collect.Population
    scores: np.ndarray
    days_open: np.ndarray
    since_change: np.ndarray


@dataclass(frozen=True)
class BaseLimitChange:
    """A reviewed line's new base limit, with the reason codes of the change."""

    account_id: int
    old_value: int
    new_value: int
    reasons: list[str]


@dataclass(frozen=True)
class ReviewDecisions:
    """The changes a review decided (lines whose limit stays are not listed) under a policy version."""

    policy_version: str
    changes: list[BaseLimitChange]


def read_review(
    uow: UnitOfWork,
    day: dt.date,
    *,
    population: collect.Population | None = None,
    user_ids: list[str] | None = None,
    scores: np.ndarray | None = None,
) -> ReviewSnapshot:
    """The snapshot of a limit review as of ``day`` (the unit of work's business date), set-based."""
    pop = population if population is not None else collect.collect_facts(uow, as_of=day, user_ids=user_ids)
    all_scores = scores if scores is not None else _latest_scores(uow, pop, user_ids)
    mask = pop.account_id > 0
    sub = pop.subset(mask)
    if not mask.any():
        none = np.array([], dtype=np.int64)
        return ReviewSnapshot(sub, none, none, none)
    days_open, since_change = _ages(uow, sub, None if user_ids is None else sub.account_id.tolist())
    return ReviewSnapshot(sub, all_scores[mask], days_open, since_change)


def decide_review(snapshot: ReviewSnapshot, terms: ProductTerms, day: dt.date) -> ReviewDecisions:
    """The policy over every line of the snapshot (pure): :func:`~huabei.limits.policy.propose_batch`
    and :func:`~huabei.limits.policy.review_batch` in numpy, reason codes per change."""
    lt = terms.limits
    version = lp.policy_version(lt)
    sub = snapshot.lines
    if len(sub) == 0:
        return ReviewDecisions(version, [])
    proposal = lp.propose_batch(snapshot.scores, sub.columns, lt)
    blocked = ~np.equal(sub.block_code, None) | sub.overdue_now
    causes = [lp.cut_cause(b, lt) for b in sub.block_code.tolist()]
    cause_cut = np.not_equal(np.array(causes, dtype=object), None)
    rev = lp.review_batch(
        sub.base_limit,
        sub.used,
        proposal.limit,
        blocked,
        cause_cut,
        lt,
        due=lp.review_due(snapshot.days_open, snapshot.since_change, lt),
    )
    rows = np.flatnonzero(rev.action != lp.NONE)
    # many lines share a combination of factors: their reason lists are built once
    factor_names = list(proposal.multipliers)
    keys = np.column_stack(
        [
            proposal.band_index[rows],
            *(proposal.multipliers[f][rows] for f in factor_names),
            proposal.stepped[rows],
            rev.action[rows],
            rev.capped[rows],
            rev.limited_to_used[rows],
        ]
    )
    cache: dict[tuple[Any, ...], list[str]] = {}
    changes: list[BaseLimitChange] = []
    for k, i in enumerate(rows.tolist()):
        cause = causes[i]
        key = (*keys[k].tolist(), cause)
        codes = cache.get(key)
        if codes is None:
            held, pushed = proposal.reasons(i, lt)
            codes = list(
                lp.review_reasons(
                    int(rev.action[i]), bool(rev.capped[i]), bool(rev.limited_to_used[i]), cause, held, pushed
                )
            )
            cache[key] = codes
        changes.append(BaseLimitChange(int(sub.account_id[i]), int(sub.base_limit[i]), int(rev.new_limit[i]), codes))
    return ReviewDecisions(version, changes)


def write_review(uow: UnitOfWork, decisions: ReviewDecisions) -> int:
    """Apply the changes with one conditional ``UPDATE … FROM`` per 50,000 (a line whose base
    limit moved meanwhile keeps it), then batched inserts of the limit changes and
    ``LimitChanged`` events of the lines changed. Returns how many lines changed."""
    todo = decisions.changes
    if not todo:
        return 0
    applied = set(
        uow.accounts.apply_base_limits(
            [c.account_id for c in todo], [c.old_value for c in todo], [c.new_value for c in todo]
        )
    )
    done = [c for c in todo if c.account_id in applied]
    if not done:
        return 0
    uow.limit_changes.record(
        [
            LimitChange(
                c.account_id, "base", c.old_value, c.new_value, tuple(c.reasons), decisions.policy_version, ACTOR_SYSTEM
            )
            for c in done
        ],
        uow.today(),
        uow.now(),
    )
    return len(done)


def reevaluate_limits(
    uow: UnitOfWork,
    *,
    population: collect.Population | None = None,
    user_ids: list[str] | None = None,
    scores: np.ndarray | None = None,
) -> int:
    """Review every open line (or those of ``user_ids``) against the policy now, set-based
    (read -> decide -> write, as the end-of-day step). Returns the number of lines whose base
    limit changed."""
    day = uow.today()
    snapshot = read_review(uow, day, population=population, user_ids=user_ids, scores=scores)
    return write_review(uow, decide_review(snapshot, uow.terms, day))


def review_due(terms: ProductTerms, day: dt.date) -> bool:
    """The end-of-day review runs on its scheduled day (``limits.reevaluation_cadence`` / ``reevaluation_day``)."""
    return scoring.is_scheduled(day, terms.limits.reevaluation_cadence, terms.limits.reevaluation_day)


def reevaluate_all(system: Huabei, user_ids: list[str] | None = None) -> int:
    """Operator: run the review now."""
    with system.uow() as uow:
        n = reevaluate_limits(uow, user_ids=user_ids)
        uow.commit()
        return n


def evaluate_account(system: Huabei, account_id: int) -> dict[str, Any]:
    """What the policy says about a line today (read only): the proposed base limit with its
    factors and reasons, and what a review would do."""
    with system.uow(readonly=True) as uow:
        line = uow.accounts.get(account_id)
        if line is None:
            raise errors.not_found("account_not_found", account_id=account_id)
        lt = uow.terms.limits
        pop = collect.collect_facts(uow, user_ids=[line.user_id])
        score = int(_latest_scores(uow, pop, [line.user_id])[0])
        proposal = lp.propose_base_limit(score, pop.facts_of(0), lt)
        block = _block(line, pop)
        days_open, since = _ages(uow, pop, [account_id])
        review = lp.review(
            line.base_limit,
            line.used,
            proposal,
            block,
            lt,
            not_due=lp.not_due_reason(int(days_open[0]), int(since[0]), lt),
        )
        return {
            "account_id": account_id,
            "user_id": line.user_id,
            "as_of": uow.today().isoformat(),
            "score": score,
            "band": proposal.band,
            "base_limit": line.base_limit,
            "used": line.used,
            "proposed_limit": proposal.limit,
            "band_amount": proposal.band_amount,
            "multipliers": {k: f"{v / 1000:.3f}" for k, v in proposal.multipliers.items()},
            "held_down": scoring.reason_items(proposal.held_down),
            "pushed_up": scoring.reason_items(proposal.pushed_up),
            "review": {
                "action": review.action,
                "new_limit": review.new_limit,
                "reasons": scoring.reason_items(review.reasons, scoring.reason_params(uow.terms)),
            },
            "policy_version": proposal.version,
        }


# ---------------------------------------------------------------------------------------
# Raise applications (申请提额)
# ---------------------------------------------------------------------------------------


def apply_for_raise(system: Huabei, account_id: int, *, requested_limit: int | None = None) -> dict[str, Any]:
    """Decide a raise application at once, with reasons.

    1. Within ``raises.application_cooldown_days`` of the user's last *considered*
       application → declined ``too_frequent`` (one considered application per 30 days by
       default; the refused one still counts: frequent applications lower the score
       through ``raise_applications_90d``).
    2. An overdue or frozen line, or one using more than its base limit → declined
       (``raise_blocked_overdue`` / ``raise_blocked_frozen`` / ``raise_blocked_over_limit``).
    3. The user is rescored now (this application counted); below the opening threshold →
       declined ``score_below_threshold`` with the score's reasons.
    4. The policy's limit, at most one raise step (``limits.max_raise_ratio``) and at most
       ``requested_limit``: above the current base limit → approved and applied
       (``raise_application_approved``); else declined ``no_raise_available`` with what
       holds the limit down.
    """
    with system.uow() as uow:
        line = uow.accounts.get(account_id, for_update=True)
        if line is None:
            raise errors.not_found("account_not_found", account_id=account_id)
        if line.state.value != "open":
            raise errors.unprocessable("account_closed")
        uow.facts.lock_user(line.user_id)
        terms, today = uow.terms, uow.today()
        lt = terms.limits
        version = lp.policy_version(lt)
        old = line.base_limit
        new = old
        score: int | None = None
        last = uow.applications.last_considered_on(line.user_id)
        cooldown = terms.raises.application_cooldown_days
        if last is not None and (today - last).days < cooldown:
            codes: list[str] = ["too_frequent", "too_many_raise_applications"]
        else:

            def count_this_application(pop: collect.Population) -> None:
                col = pop.columns["raise_applications_90d"]
                pop.columns["raise_applications_90d"] = np.ma.masked_array(col.data + 1, mask=np.zeros(len(col), bool))

            pop, view = scoring.score_user(uow, line.user_id, "application", adjust=count_this_application)
            score = view["score"]
            block = _block(line, pop)
            if block is not None or line.used > old:
                codes = list(lp.blocked_raise_reasons(block, line.used > old))
            elif below := lp.score_declines(score, [r["code"] for r in view["reasons"]], terms.scoring):
                codes = list(below)
            else:
                proposal = lp.propose_base_limit(score, pop.facts_of(0), lt)
                target, capped = lp.application_raise(old, proposal, lt, requested_limit)
                if target > old:
                    new = target
                    codes = ["raise_application_approved", *proposal.pushed_up] + (
                        ["raise_step_capped"] if capped else []
                    )
                    uow.accounts.set_base_limit(account_id, new)
                    record_limit_change(
                        uow, account_id, "base", old, new, codes, actor=ACTOR_APPLICANT, policy_version=version
                    )
                else:
                    codes = ["no_raise_available", *proposal.held_down]
        decision = "approved" if new > old else "declined"
        application_id = uow.applications.add(
            account_id=account_id,
            user_id=line.user_id,
            applied_on=today,
            decision=decision,
            primary_reason=codes[0],
            old_limit=old,
            new_limit=new,
            requested_limit=requested_limit,
            score=score,
            reasons=codes,
            policy_version=version,
            created_at=uow.now(),
        )
        uow.events.record(
            LimitRaiseApplied(
                account_id=account_id,
                user_id=line.user_id,
                application_id=application_id,
                decision=decision,
                old_limit=old,
                new_limit=new,
                reasons=codes,
            ),
            business_date=today,
            now=uow.now(),
        )
        uow.commit()
        return application_view(uow.applications.get(application_id), terms)


def application_view(row: Any, terms: Any) -> dict[str, Any]:
    return {
        "application_id": row.application_id,
        "account_id": row.account_id,
        "user_id": row.user_id,
        "decision": row.decision,
        "old_limit": row.old_limit,
        "new_limit": row.new_limit,
        "requested_limit": row.requested_limit,
        "score": row.score,
        "reasons": scoring.reason_items(row.reasons, scoring.reason_params(terms)),
        "applied_on": row.applied_on.isoformat(),
        "policy_version": row.policy_version,
    }


def list_applications(system: Huabei, account_id: int, limit: int = 50) -> list[dict[str, Any]]:
    with system.uow(readonly=True) as uow:
        if uow.accounts.get(account_id) is None:
            raise errors.not_found("account_not_found", account_id=account_id)
        return [application_view(r, uow.terms) for r in uow.applications.for_account(account_id, limit)]


# ---------------------------------------------------------------------------------------
# Temporary limits (临时额度): by scenario, and expiry
# ---------------------------------------------------------------------------------------


def grant_temporary(
    uow: UnitOfWork, account_id: int, amount: int, days: int, codes: list[str], actor: str
) -> dict[str, Any]:
    """Add a temporary limit to a line inside ``uow`` (stacked on a live one, see
    :func:`~huabei.limits.policy.stack_temporary`) and record the change."""
    line = uow.accounts.get(account_id, for_update=True)
    assert line is not None
    today = uow.today()
    lt = uow.terms.limits
    new_amount, expires = lp.stack_temporary(
        line.temporary_limit, line.temporary_limit_expires_on, today, amount, days, lt
    )
    uow.accounts.set_temporary_limit(account_id, new_amount, expires)
    record_limit_change(
        uow,
        account_id,
        "temporary",
        line.temporary_limit_on(today),
        new_amount,
        codes,
        actor=actor,
        policy_version=lp.policy_version(lt),
        expires_on=expires,
    )
    return {"account_id": account_id, "temporary_limit": new_amount, "expires_on": expires.isoformat()}


def grant_scenario_temporary_limits(
    system: Huabei, *, category: str, amount: int, days: int, window_days: int = 90, min_score: int | None = None
) -> dict[str, Any]:
    """Temporary limits by scenario (场景临时额度): every open, unblocked line that paid in
    ``category`` in the last ``window_days`` days (and whose user's latest score reaches
    ``min_score``) gets ``amount`` more for ``days`` days."""
    with system.uow() as uow:
        terms = uow.terms
        lt = terms.limits
        if category not in terms.categories.allowed:
            raise errors.invalid("invalid_category", category=category)
        if not 0 < amount <= lt.max_temporary_limit or not 0 < days <= lt.max_temporary_limit_days or window_days < 1:
            raise errors.unprocessable(
                "temporary_limit_out_of_range",
                maximum=format_yuan(lt.max_temporary_limit),
                days=lt.max_temporary_limit_days,
            )
        today = uow.today()
        rows = uow.accounts.open_unblocked_spenders(category, today - dt.timedelta(days=window_days - 1), today)
        if min_score is not None and rows:
            latest = {r[0]: r[1] for r in uow.scores.latest_points(sorted({r.user_id for r in rows}))}
            rows = [r for r in rows if latest.get(r.user_id, -1) >= min_score]
        for r in rows:
            grant_temporary(
                uow, r.account_id, amount, days, ["scenario_temporary_limit", "temporary_limit_granted"], ACTOR_SYSTEM
            )
        uow.commit()
        return {"category": category, "granted": len(rows), "amount": amount, "days": days}


# ---------------------------------------------------------------------------------------
# Limit history
# ---------------------------------------------------------------------------------------


def limit_changes(system: Huabei, account_id: int) -> list[dict[str, Any]]:
    """Every limit change of a line, newest first, reasons with their texts."""
    with system.uow(readonly=True) as uow:
        if uow.accounts.get(account_id) is None:
            raise errors.not_found("account_not_found", account_id=account_id)
        params = scoring.reason_params(uow.terms)
        out = []
        for r in reversed(uow.limit_changes.for_account(account_id)):
            p = {**params, "expires_on": r.expires_on.isoformat() if r.expires_on else ""}
            out.append(
                {
                    "change_id": r.change_id,
                    "limit_kind": r.limit_kind,
                    "old_value": r.old_value,
                    "new_value": r.new_value,
                    "expires_on": r.expires_on.isoformat() if r.expires_on else None,
                    "reasons": scoring.reason_items(r.reasons, p),
                    "policy_version": r.policy_version,
                    "actor": r.actor,
                    "business_date": r.business_date.isoformat(),
                }
            )
        return out
