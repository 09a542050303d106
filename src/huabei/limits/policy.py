"""额度策略: the base-limit policy and the re-evaluation rules — pure, documented, versioned.

Base limit (固定额度)
    ::

        amount = band_base_limits[band of the score]
        for factor in (income, assets, activity, history, completeness, diversity):
            amount = amount × multiplier(factor) // 1        (integer fen, floored at each step)
        limit  = clamp(floor_to_step(amount), ceil_to_step(min_base_limit), floor_to_step(max_base_limit))

    Every multiplier comes from a table in :class:`huabei.config.LimitTerms`
    (``((lowest value, multiplier), ...)``, at most three decimals): a value takes the
    multiplier of the last row at or below it; a missing value takes the first row's. The
    factors read the user's facts (the same facts the score reads):

    ============  ===========================================  ==========  ===========
    factor        value                                        held down   pushed up
    ============  ===========================================  ==========  ===========
    income        ``monthly_income`` (fen); unverified income  low_income  strong_income
                  counts at ``unverified_income_share``
    assets        ``assets`` (savings and funds, fen)          low_assets  substantial_assets
    activity      ``payments_90d``                             low_activity  frequent_use
    history       ``credit_history_months``                    short_credit_history  long_credit_history
    completeness  profile items complete, of                   incomplete_profile  complete_profile
                  :data:`COMPLETENESS_ITEMS` (seven)
    diversity     ``merchant_categories_90d`` (scenarios)      few_scenarios  diverse_scenarios
    ============  ===========================================  ==========  ===========

    A factor whose multiplier is below 1 contributes its "held down" reason code, above 1
    its "pushed up" code; the band contributes ``limit_score_band`` below the top band and
    ``high_score_band`` in it, and a clamp ``limit_at_maximum`` / ``limit_at_minimum``.
    Held-down codes are ordered by how much they cost (smallest multiplier first).

    Multipliers are held as integers per mille and applied one at a time with floor
    division; no float ever touches the amount. The rule is written once, vectorised
    (:func:`propose_batch`); :func:`propose_base_limit` is its one-row case.

Re-evaluation (:func:`review`, :func:`review_batch`)
    * a line is reviewed once it has been open ``review_seasoning_days`` (90) and its base
      limit unchanged for ``review_cooldown_days`` (30): a new line keeps its opening limit
      while it builds a record, and a review never undoes a recent application, operator
      change or campaign reward (``line_too_new`` / ``limit_recently_changed``);
    * **raise** when the policy's limit is at least ``raise_threshold`` above the current
      base limit — never while the line is overdue or frozen (``block_code`` set), nor
      while more than the base limit is used (spending on a temporary limit, or left over
      from one that expired, is repaid first) — by at most ``max_raise_ratio`` of the
      current limit (``raise_step_capped`` when capped);
    * **cut** when the policy's limit is at least ``cut_threshold`` below the current one,
      by at most ``max_cut_ratio``, and **never below what is used** (rounded up to the
      step; ``cut_limited_to_used``): the line then simply has no available limit until
      repaid. A line frozen for a cause in ``cut_on_restriction_causes`` (cash-out, score
      brushing) is cut by ``max_cut_ratio`` at every review, the cause as reason;
    * otherwise nothing changes.

The policy version (:func:`policy_version`) is ``limit-v1-`` plus a fingerprint of the
limit terms, recorded with every limit change the policy makes.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Literal, TypeVar

import numpy as np

from huabei.config import LimitTerms, ScoringTerms
from huabei.lines.rules import frozen_cause, is_frozen, temporary_limit_on
from huabei.scoring.dimensions import BANDS, band_indices
from huabei.scoring.scorecard import FactValue, split_missing

POLICY_FORMAT = "limit-v1"

#: Profile completeness (个人资料完善度): an item counts when the flag is true or, for
#: education and occupation, when anything is declared.
COMPLETENESS_ITEMS: tuple[str, ...] = (
    "real_name_verified",
    "id_document_valid",
    "bank_card_bound",
    "education",
    "occupation",
    "contact_details_complete",
    "credit_authorised",
)
_DECLARED_ITEMS = frozenset({"education", "occupation"})


@dataclass(frozen=True)
class _Factor:
    name: str
    table: str  # LimitTerms attribute
    held_down: str
    pushed_up: str


FACTORS: tuple[_Factor, ...] = (
    _Factor("income", "income_multipliers", "low_income", "strong_income"),
    _Factor("assets", "assets_multipliers", "low_assets", "substantial_assets"),
    _Factor("activity", "activity_multipliers", "low_activity", "frequent_use"),
    _Factor("history", "history_multipliers", "short_credit_history", "long_credit_history"),
    _Factor("completeness", "completeness_multipliers", "incomplete_profile", "complete_profile"),
    _Factor("diversity", "diversity_multipliers", "few_scenarios", "diverse_scenarios"),
)
_PER_MILLE = 1000
_TOP_BAND = BANDS[-1][0]


def per_mille(rate: Decimal) -> int:
    """A multiplier or share with at most three decimals as an integer per mille (exact)."""
    value = rate * _PER_MILLE
    if value != value.to_integral_value():
        raise ValueError(f"{rate} has more than three decimals")
    return int(value)


def policy_version(terms: LimitTerms) -> str:
    """``limit-v1-`` + the first 10 hex digits of the SHA-256 of the limit terms (fits ``limit_changes.policy_version``)."""
    blob = json.dumps(terms.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
    return f"{POLICY_FORMAT}-{hashlib.sha256(blob.encode()).hexdigest()[:10]}"


#: An amount in fen: one line's (``int``) or a whole book's (an ``np.int64`` array).
Amounts = TypeVar("Amounts", int, np.ndarray)


def floor_to_step(amount: Amounts, step: int) -> Amounts:
    """``amount`` rounded down to a multiple of ``step`` (limits are granted in steps)."""
    return amount // step * step


def ceil_to_step(amount: Amounts, step: int) -> Amounts:
    """``amount`` rounded up to a multiple of ``step``."""
    return -(-amount // step) * step


# ---------------------------------------------------------------------------------------
# Policy inputs
# ---------------------------------------------------------------------------------------


def effective_income(monthly_income: int | None, verified: bool | None, terms: LimitTerms) -> int | None:
    """Verified income in full, unverified at ``unverified_income_share`` (floored to the fen)."""
    if monthly_income is None:
        return None
    return int(_effective_incomes(np.array([monthly_income], dtype=np.int64), np.array([verified is True]), terms)[0])


def _effective_incomes(income: np.ndarray, verified: np.ndarray, terms: LimitTerms) -> np.ndarray:
    return np.where(verified, income, income * per_mille(terms.unverified_income_share) // _PER_MILLE)


def _table(terms: LimitTerms, factor: _Factor) -> tuple[np.ndarray, np.ndarray]:
    rows = getattr(terms, factor.table)
    return (np.array([lo for lo, _ in rows], dtype=np.int64), np.array([per_mille(m) for _, m in rows], dtype=np.int64))


# ---------------------------------------------------------------------------------------
# The base limit
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LimitProposal:
    """What the policy grants: ``limit`` (fen), the band and its starting amount, each
    factor's multiplier per mille, and the reason codes that held it down / pushed it up."""

    limit: int
    band: str
    band_amount: int
    multipliers: dict[str, int]
    held_down: tuple[str, ...]
    pushed_up: tuple[str, ...]
    version: str


def _bounds(terms: LimitTerms) -> tuple[int, int]:
    lo = ceil_to_step(terms.min_base_limit, terms.limit_step)
    hi = max(lo, floor_to_step(terms.max_base_limit, terms.limit_step))
    return lo, hi


def propose_base_limit(score: int, facts: Mapping[str, FactValue], terms: LimitTerms) -> LimitProposal:
    """The policy's base limit for a user with ``score`` and ``facts`` (see the module docstring):
    one row of :func:`propose_batch`, so the single-user and the EOD paths cannot diverge."""
    batch = propose_batch(np.array([score]), {name: [value] for name, value in facts.items()}, terms)
    band = batch.band(0)
    held, pushed = batch.reasons(0, terms)
    return LimitProposal(
        limit=int(batch.limit[0]),
        band=band,
        band_amount=terms.band_base_limits[band],
        multipliers={k: int(v[0]) for k, v in batch.multipliers.items()},
        held_down=held,
        pushed_up=pushed,
        version=policy_version(terms),
    )


def reasons_of_row(
    band: str, mults: Mapping[str, int], stepped: int, terms: LimitTerms
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Held-down and pushed-up codes of one row of :func:`propose_batch` (see the module docstring)."""
    lo, hi = _bounds(terms)
    held: list[str] = []
    pushed: list[str] = []
    if band != _TOP_BAND:
        held.append("limit_score_band")
    else:
        pushed.append("high_score_band")
    order = sorted(range(len(FACTORS)), key=lambda k: (mults[FACTORS[k].name], k))
    for k in order:
        f = FACTORS[k]
        m = mults[f.name]
        if m < _PER_MILLE and f.held_down not in held:
            held.append(f.held_down)
    for f in FACTORS:
        if mults[f.name] > _PER_MILLE:
            pushed.append(f.pushed_up)
    if stepped > hi:
        held.append("limit_at_maximum")
    if stepped < lo:
        pushed.append("limit_at_minimum")
    return tuple(held), tuple(pushed)


def _int_column(column: Any, n: int, name: str) -> tuple[np.ndarray, np.ndarray]:
    """(int64 values with 0 where missing, missing mask) of a numeric fact column."""
    if column is None:
        return np.zeros(n, dtype=np.int64), np.ones(n, dtype=bool)
    data, missing = split_missing(column, n, name)
    if data.dtype.kind == "O":
        filled = np.where(missing, 0, data)
        values = np.array(filled.tolist(), dtype=np.int64) if n else np.zeros(0, dtype=np.int64)
    elif data.dtype.kind == "f":
        values = np.where(missing, 0, data).astype(np.int64)
    else:
        values = data.astype(np.int64)
    return np.where(missing, 0, values), missing


def _flag_column(column: Any, n: int, name: str) -> np.ndarray:
    """True where the flag is true (missing = not true)."""
    if column is None:
        return np.zeros(n, dtype=bool)
    data, missing = split_missing(column, n, name)
    if data.dtype.kind == "O":
        truth = np.equal(data, True)
    else:
        truth = data.astype(bool)
    flags: np.ndarray = truth & ~missing
    return flags


def _declared_column(column: Any, n: int, name: str) -> np.ndarray:
    if column is None:
        return np.zeros(n, dtype=bool)
    _, missing = split_missing(column, n, name)
    return ~missing


@dataclass(frozen=True)
class BatchProposal:
    """Vectorised :class:`LimitProposal` s: arrays over the population."""

    limit: np.ndarray  # int64 fen
    stepped: np.ndarray  # before the clamp
    band_index: np.ndarray  # index into BANDS
    multipliers: dict[str, np.ndarray]  # per mille

    def band(self, i: int) -> str:
        return BANDS[int(self.band_index[i])][0]

    def reasons(self, i: int, terms: LimitTerms) -> tuple[tuple[str, ...], tuple[str, ...]]:
        return reasons_of_row(
            self.band(i), {k: int(v[i]) for k, v in self.multipliers.items()}, int(self.stepped[i]), terms
        )


def propose_batch(scores: np.ndarray, columns: Mapping[str, Any], terms: LimitTerms) -> BatchProposal:
    """:func:`propose_base_limit` for a whole population at once (numpy; same fen row by row).

    ``columns`` are fact columns as :meth:`Scorecard.score_batch` takes them.
    """
    scores = np.asarray(scores, dtype=np.int64)
    n = scores.shape[0]
    band_index = band_indices(scores)
    band_amounts = np.array([terms.band_base_limits[b] for b, _ in BANDS], dtype=np.int64)
    amount = band_amounts[band_index]

    income, income_missing = _int_column(columns.get("monthly_income"), n, "monthly_income")
    verified = _flag_column(columns.get("income_verified"), n, "income_verified")
    income = _effective_incomes(income, verified, terms)
    done = np.zeros(n, dtype=np.int64)
    for item in COMPLETENESS_ITEMS:
        col = columns.get(item)
        done += _declared_column(col, n, item) if item in _DECLARED_ITEMS else _flag_column(col, n, item)
    values: dict[str, tuple[np.ndarray, np.ndarray]] = {
        "income": (income, income_missing),
        "assets": _int_column(columns.get("assets"), n, "assets"),
        "activity": _int_column(columns.get("payments_90d"), n, "payments_90d"),
        "history": _int_column(columns.get("credit_history_months"), n, "credit_history_months"),
        "completeness": (done, np.zeros(n, dtype=bool)),
        "diversity": _int_column(columns.get("merchant_categories_90d"), n, "merchant_categories_90d"),
    }
    mults: dict[str, np.ndarray] = {}
    for factor in FACTORS:
        lows, ms = _table(terms, factor)
        v, missing = values[factor.name]
        idx = np.clip(np.searchsorted(lows, v, side="right") - 1, 0, len(lows) - 1)
        idx = np.where(missing, 0, idx)
        m = ms[idx]
        mults[factor.name] = m
        amount = amount * m // _PER_MILLE
    lo, hi = _bounds(terms)
    stepped = floor_to_step(amount, terms.limit_step)
    return BatchProposal(limit=np.clip(stepped, lo, hi), stepped=stepped, band_index=band_index, multipliers=mults)


# ---------------------------------------------------------------------------------------
# Opening (开通)
# ---------------------------------------------------------------------------------------


def opening_declines(
    score: int,
    score_reasons: Sequence[str],
    facts: Mapping[str, FactValue],
    overdue_now: bool,
    restriction_causes: Iterable[str],
    terms: ScoringTerms,
) -> tuple[str, ...]:
    """Why an opening is refused (empty: eligible): ``identity_not_verified`` without a
    verified real name, ``id_document_expired`` when the document is known to be invalid,
    ``overdue_on_record`` when something is overdue now or the worst days overdue in 12
    months exceed ``opening_max_days_overdue_12m``, ``restricted_on_record`` for an active
    restriction of a cause in ``opening_disqualifying_causes``, and ``score_below_threshold``
    below ``opening_threshold`` followed by the score's own reasons."""
    declines: list[str] = []
    if facts.get("real_name_verified") is not True:
        declines.append("identity_not_verified")
    if facts.get("id_document_valid") is False:
        declines.append("id_document_expired")
    if overdue_now or (facts.get("max_days_overdue_12m") or 0) > terms.opening_max_days_overdue_12m:  # type: ignore[operator]
        declines.append("overdue_on_record")
    if set(restriction_causes) & set(terms.opening_disqualifying_causes):
        declines.append("restricted_on_record")
    declines += [code for code in score_declines(score, score_reasons, terms) if code not in declines]
    return tuple(declines)


def score_declines(score: int, score_reasons: Sequence[str], terms: ScoringTerms) -> tuple[str, ...]:
    """``score_below_threshold`` and the score's own reasons below ``opening_threshold``
    (an opening or a raise application needs that score), else nothing."""
    return ("score_below_threshold", *score_reasons) if score < terms.opening_threshold else ()


# ---------------------------------------------------------------------------------------
# Re-evaluation
# ---------------------------------------------------------------------------------------

Action = Literal["raise", "cut", "none"]


@dataclass(frozen=True)
class Review:
    """The outcome of reviewing one base limit: the action, the new limit and why."""

    action: Action
    new_limit: int
    reasons: tuple[str, ...]


def blocked_raise_reasons(block_code: str | None, over_limit: bool = False) -> tuple[str, ...]:
    """Why a line gets no raise: ``raise_blocked_overdue``, ``raise_blocked_frozen`` followed by
    the freeze's cause (whose texts say what to do), or ``raise_blocked_over_limit``."""
    if block_code is None:
        return ("raise_blocked_over_limit",) if over_limit else ()
    if is_frozen(block_code):
        cause = frozen_cause(block_code) or ""
        return ("raise_blocked_frozen",) + ((cause,) if cause else ())
    return ("raise_blocked_overdue",)


def raise_cap(current: int, terms: LimitTerms) -> int:
    """The largest limit one raise may reach from ``current``: ``current × (1 + max_raise_ratio)``
    floored to the step, at least one step above ``current``, at most the maximum."""
    return int(_raise_caps(np.array([current], dtype=np.int64), terms)[0])


def _raise_caps(current: np.ndarray, terms: LimitTerms) -> np.ndarray:
    """:func:`raise_cap` over an array of current limits."""
    step = terms.limit_step
    cap = floor_to_step(current * (_PER_MILLE + per_mille(terms.max_raise_ratio)) // _PER_MILLE, step)
    caps: np.ndarray = np.minimum(np.maximum(cap, current + step), _bounds(terms)[1])
    return caps


def review(
    current: int,
    used: int,
    proposal: LimitProposal,
    block_code: str | None,
    terms: LimitTerms,
    not_due: str | None = None,
) -> Review:
    """The periodic review of one base limit (see the module docstring). ``not_due`` names why
    the line is not reviewed now (:func:`review_due`), if so."""
    if not_due is not None:
        return Review(action="none", new_limit=current, reasons=(not_due,))
    cause = cut_cause(block_code, terms)
    out = review_batch(
        np.array([current]),
        np.array([used]),
        np.array([proposal.limit]),
        np.array([block_code is not None]),
        np.array([cause is not None]),
        terms,
    )
    action = int(out.action[0])
    codes = review_reasons(
        action, bool(out.capped[0]), bool(out.limited_to_used[0]), cause, proposal.held_down, proposal.pushed_up
    )
    if action == NONE and proposal.limit > current:
        codes = blocked_raise_reasons(block_code, used > current)
    name: Action = ("none", "raise", "cut")[action]
    return Review(action=name, new_limit=int(out.new_limit[0]), reasons=codes)


def review_reasons(
    action: int,
    capped: bool,
    limited_to_used: bool,
    cause: str | None,
    held_down: tuple[str, ...],
    pushed_up: tuple[str, ...],
) -> tuple[str, ...]:
    """The reason codes recorded with a review's change: a raise gives
    ``periodic_review_raise``, what pushed the limit up and ``raise_step_capped`` when
    capped; a cut gives ``periodic_review_cut``, the restriction cause (a cause cut), what
    held the limit down and ``cut_limited_to_used`` when the cut stopped at what is used."""
    if action == RAISE:
        return ("periodic_review_raise", *pushed_up) + (("raise_step_capped",) if capped else ())
    if action == CUT:
        return (
            ("periodic_review_cut",)
            + ((cause,) if cause else ())
            + held_down
            + (("cut_limited_to_used",) if limited_to_used else ())
        )
    return ()


def cut_cause(block_code: str | None, terms: LimitTerms) -> str | None:
    """The freeze cause of ``block_code`` (``account_frozen:<cause>``) when it is one of
    ``cut_on_restriction_causes`` (the line is cut at every review), else None."""
    cause = frozen_cause(block_code) if is_frozen(block_code) else None
    if cause is not None and cause in terms.cut_on_restriction_causes:
        return cause
    return None


@dataclass(frozen=True)
class BatchReview:
    new_limit: np.ndarray  # int64
    action: np.ndarray  # int8: 0 none, 1 raise, 2 cut
    capped: np.ndarray  # bool: the raise was capped by max_raise_ratio
    limited_to_used: np.ndarray  # bool: the cut stopped at what is used


NONE, RAISE, CUT = 0, 1, 2


#: Why a review may not change a line, by the codes of :func:`not_due_codes` (0: it may).
NOT_DUE_REASONS: tuple[str | None, ...] = (None, "line_too_new", "limit_recently_changed")


def not_due_codes(days_open: np.ndarray | int, days_since_change: np.ndarray | int, terms: LimitTerms) -> np.ndarray:
    """The seasoning and cool-off rule, stated once: per line, 1 (``line_too_new``) while open
    less than ``review_seasoning_days``, else 2 (``limit_recently_changed``) when its base limit
    changed in the last ``review_cooldown_days`` (``days_since_change`` < 0: never changed
    since opening), else 0 (a review may change it)."""
    days_open = np.asarray(days_open)
    since = np.asarray(days_since_change)
    too_new = days_open < terms.review_seasoning_days
    recent = (since >= 0) & (since < terms.review_cooldown_days)
    codes: np.ndarray = np.where(too_new, 1, np.where(recent, 2, 0)).astype(np.int8)
    return codes


def review_due(days_open: np.ndarray, days_since_change: np.ndarray, terms: LimitTerms) -> np.ndarray:
    """Which lines a review may change (:func:`not_due_codes` is 0)."""
    due: np.ndarray = not_due_codes(days_open, days_since_change, terms) == 0
    return due


def not_due_reason(days_open: int, days_since_change: int, terms: LimitTerms) -> str | None:
    """``line_too_new`` / ``limit_recently_changed`` when a review may not change the line, else None."""
    return NOT_DUE_REASONS[int(not_due_codes(days_open, days_since_change, terms))]


def review_batch(
    current: np.ndarray,
    used: np.ndarray,
    target: np.ndarray,
    blocked: np.ndarray,
    cause_cut: np.ndarray,
    terms: LimitTerms,
    due: np.ndarray | None = None,
) -> BatchReview:
    """:func:`review` over arrays (the EOD re-evaluation of every line at once).

    ``blocked``: the line has a block code (overdue or frozen: no raise). ``cause_cut``:
    it is frozen for a cause of ``cut_on_restriction_causes`` (cut by ``max_cut_ratio``).
    ``due`` (:func:`review_due`; default: every line): lines a review may change.
    """
    current = np.asarray(current, dtype=np.int64)
    used = np.asarray(used, dtype=np.int64)
    target = np.asarray(target, dtype=np.int64)
    blocked = np.asarray(blocked, dtype=bool)
    cause_cut = np.asarray(cause_cut, dtype=bool)
    step = terms.limit_step
    lo, _ = _bounds(terms)
    raise_thr = per_mille(terms.raise_threshold)
    cut_thr = per_mille(terms.cut_threshold)
    max_cut = per_mille(terms.max_cut_ratio)

    # raises
    cap = _raise_caps(current, terms)
    wants_raise = (target * _PER_MILLE >= current * (_PER_MILLE + raise_thr)) & (target > current)
    due = np.ones(current.shape, dtype=bool) if due is None else np.asarray(due, dtype=bool)
    do_raise = wants_raise & ~blocked & ~cause_cut & (used <= current) & due  # not while over the base limit
    raised = np.minimum(target, cap)
    do_raise &= raised > current

    # cuts
    deepest = ceil_to_step(current * (_PER_MILLE - max_cut) // _PER_MILLE, step)
    deepest = np.maximum(deepest, lo)
    cut_target = np.where(cause_cut, np.minimum(target, deepest), target)
    wants_cut = cause_cut | (target * _PER_MILLE <= current * (_PER_MILLE - cut_thr))
    used_floor = ceil_to_step(used, step)
    cut_to = np.maximum(np.maximum(cut_target, deepest), used_floor)
    cut_to = np.maximum(cut_to, lo)
    do_cut = wants_cut & (cut_to < current) & ~do_raise & due

    new = np.where(do_raise, raised, np.where(do_cut, cut_to, current))
    action = np.where(do_raise, RAISE, np.where(do_cut, CUT, NONE)).astype(np.int8)
    capped = do_raise & (raised < target)
    limited = do_cut & (used_floor > np.maximum(cut_target, deepest))
    return BatchReview(new_limit=new, action=action, capped=capped, limited_to_used=limited)


# ---------------------------------------------------------------------------------------
# Raise applications and temporary limits
# ---------------------------------------------------------------------------------------


def application_raise(
    current: int, proposal: LimitProposal, terms: LimitTerms, requested: int | None = None
) -> tuple[int, bool]:
    """(new limit, capped) for an application the rules allow: the policy's limit, at most
    one raise step (:func:`raise_cap`) and at most ``requested`` (floored to the step);
    ``new limit <= current`` means no raise is available."""
    new = min(proposal.limit, raise_cap(current, terms))
    capped = new < proposal.limit
    if requested is not None:
        new = min(new, floor_to_step(requested, terms.limit_step))
    return new, capped


def stack_temporary(
    current_amount: int, current_expires: dt.date | None, today: dt.date, amount: int, days: int, terms: LimitTerms
) -> tuple[int, dt.date]:
    """A temporary-limit reward on top of the current grant: the amounts add up (capped at
    ``max_temporary_limit``) and the grant lasts until the later of the two expiry dates
    (at most ``max_temporary_limit_days`` from today)."""
    live = temporary_limit_on(current_amount, current_expires, today)
    expires = today + dt.timedelta(days=min(days, terms.max_temporary_limit_days))
    if live and current_expires is not None:
        expires = max(expires, min(current_expires, today + dt.timedelta(days=terms.max_temporary_limit_days)))
    return min(live + amount, terms.max_temporary_limit), expires
