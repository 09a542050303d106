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
    division, so the scalar path (:func:`propose_base_limit`) and the vectorised one
    (:func:`propose_batch`) give identical fen; no float ever touches the amount.

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
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Literal

import numpy as np

from huabei.config import LimitTerms
from huabei.domain.scorecard import BANDS, FactError, FactSpec, FactValue, _split_missing, band_of

POLICY_FORMAT = "limit-v1"

#: Facts the policy (not the score) reads, accepted from the host app like the scorecard's.
POLICY_FACTS: tuple[FactSpec, ...] = (
    FactSpec("credit_authorised", bool, "identity", "host", "flag",
             "The user authorised credit-report queries (芝麻信用授权); one of the profile completeness items."),
)
POLICY_FACT_SPECS: dict[str, FactSpec] = {f.name: f for f in POLICY_FACTS}

#: Profile completeness (个人资料完善度): an item counts when the flag is true or, for
#: education and occupation, when anything is declared.
COMPLETENESS_ITEMS: tuple[str, ...] = (
    "real_name_verified", "id_document_valid", "bank_card_bound", "education", "occupation",
    "contact_details_complete", "credit_authorised",
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


def check_policy_facts(facts: Mapping[str, Any]) -> dict[str, FactValue]:
    """Validate facts of :data:`POLICY_FACTS` (same rules as :func:`~huabei.domain.scorecard.check_facts`)."""
    out: dict[str, FactValue] = {}
    for name, value in facts.items():
        spec = POLICY_FACT_SPECS.get(name)
        if spec is None:
            raise FactError("unknown_fact", name, "is not a known fact")
        if value is not None and spec.type is bool and not isinstance(value, bool):
            raise FactError("invalid_fact", name, "must be true or false")
        out[name] = value
    return out


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


def floor_to_step(amount: int, step: int) -> int:
    return amount // step * step


def ceil_to_step(amount: int, step: int) -> int:
    return -(-amount // step) * step


# ---------------------------------------------------------------------------------------
# Policy inputs
# ---------------------------------------------------------------------------------------


def completeness(facts: Mapping[str, FactValue]) -> int:
    """How many of :data:`COMPLETENESS_ITEMS` are complete."""
    n = 0
    for item in COMPLETENESS_ITEMS:
        v = facts.get(item)
        n += (v is not None) if item in _DECLARED_ITEMS else (v is True)
    return n


def effective_income(monthly_income: int | None, verified: bool | None, terms: LimitTerms) -> int | None:
    """Verified income in full, unverified at ``unverified_income_share`` (floored to the fen)."""
    if monthly_income is None:
        return None
    if verified is True:
        return monthly_income
    return monthly_income * per_mille(terms.unverified_income_share) // _PER_MILLE


def factor_values(facts: Mapping[str, FactValue], terms: LimitTerms) -> dict[str, int | None]:
    """The value each factor looks up in its table."""
    return {
        "income": effective_income(facts.get("monthly_income"), facts.get("income_verified"), terms),  # type: ignore[arg-type]
        "assets": facts.get("assets"),  # type: ignore[dict-item]
        "activity": facts.get("payments_90d"),  # type: ignore[dict-item]
        "history": facts.get("credit_history_months"),  # type: ignore[dict-item]
        "completeness": completeness(facts),
        "diversity": facts.get("merchant_categories_90d"),  # type: ignore[dict-item]
    }


def _table(terms: LimitTerms, factor: _Factor) -> tuple[np.ndarray, np.ndarray]:
    rows = getattr(terms, factor.table)
    return (np.array([lo for lo, _ in rows], dtype=np.int64),
            np.array([per_mille(m) for _, m in rows], dtype=np.int64))


def multiplier(terms: LimitTerms, factor: _Factor, value: int | None) -> int:
    """The factor's multiplier per mille for ``value`` (missing → the first row)."""
    rows = getattr(terms, factor.table)
    chosen = rows[0][1]
    if value is not None:
        for lo, m in rows:
            if value >= lo:
                chosen = m
    return per_mille(chosen)


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
    """The policy's base limit for a user with ``score`` and ``facts`` (see the module docstring)."""
    band = band_of(score)
    amount = terms.band_base_limits[band]
    band_amount = amount
    values = factor_values(facts, terms)
    mults: dict[str, int] = {}
    for factor in FACTORS:
        m = multiplier(terms, factor, values[factor.name])
        mults[factor.name] = m
        amount = amount * m // _PER_MILLE
    lo, hi = _bounds(terms)
    stepped = floor_to_step(amount, terms.limit_step)
    limit = min(max(stepped, lo), hi)
    held, pushed = _reasons(band, mults, stepped, lo, hi)
    return LimitProposal(limit=limit, band=band, band_amount=band_amount, multipliers=mults, held_down=held,
                         pushed_up=pushed, version=policy_version(terms))


def _reasons(band: str, mults: Mapping[str, int], stepped: int, lo: int, hi: int) -> tuple[tuple[str, ...], tuple[str, ...]]:
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


def reasons_of_row(band: str, mults: Mapping[str, int], stepped: int, terms: LimitTerms) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Held-down and pushed-up codes of one row of :func:`propose_batch` (same rule as the scalar path)."""
    lo, hi = _bounds(terms)
    return _reasons(band, mults, stepped, lo, hi)


def _int_column(column: Any, n: int, name: str) -> tuple[np.ndarray, np.ndarray]:
    """(int64 values with 0 where missing, missing mask) of a numeric fact column."""
    if column is None:
        return np.zeros(n, dtype=np.int64), np.ones(n, dtype=bool)
    data, missing = _split_missing(column, n, name)
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
    data, missing = _split_missing(column, n, name)
    if data.dtype.kind == "O":
        truth = np.equal(data, True)
    else:
        truth = data.astype(bool)
    return truth & ~missing


def _declared_column(column: Any, n: int, name: str) -> np.ndarray:
    if column is None:
        return np.zeros(n, dtype=bool)
    _, missing = _split_missing(column, n, name)
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
        return reasons_of_row(self.band(i), {k: int(v[i]) for k, v in self.multipliers.items()},
                              int(self.stepped[i]), terms)


def propose_batch(scores: np.ndarray, columns: Mapping[str, Any], terms: LimitTerms) -> BatchProposal:
    """:func:`propose_base_limit` for a whole population at once (numpy; same fen row by row).

    ``columns`` are fact columns as :meth:`Scorecard.score_batch` takes them.
    """
    scores = np.asarray(scores, dtype=np.int64)
    n = scores.shape[0]
    band_lows = np.array([lo for _, lo in BANDS], dtype=np.int64)
    band_index = np.clip(np.searchsorted(band_lows, scores, side="right") - 1, 0, len(BANDS) - 1)
    band_amounts = np.array([terms.band_base_limits[b] for b, _ in BANDS], dtype=np.int64)
    amount = band_amounts[band_index]

    income, income_missing = _int_column(columns.get("monthly_income"), n, "monthly_income")
    verified = _flag_column(columns.get("income_verified"), n, "income_verified")
    share = per_mille(terms.unverified_income_share)
    income = np.where(verified, income, income * share // _PER_MILLE)
    done = np.zeros(n, dtype=np.int64)
    for item in COMPLETENESS_ITEMS:
        col = columns.get(item)
        done += (_declared_column(col, n, item) if item in _DECLARED_ITEMS else _flag_column(col, n, item))
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
    stepped = amount // terms.limit_step * terms.limit_step
    return BatchProposal(limit=np.clip(stepped, lo, hi), stepped=stepped, band_index=band_index, multipliers=mults)


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
    if block_code.startswith("account_frozen"):
        cause = block_code.split(":", 1)[1] if ":" in block_code else ""
        return ("raise_blocked_frozen",) + ((cause,) if cause else ())
    return ("raise_blocked_overdue",)


def raise_cap(current: int, terms: LimitTerms) -> int:
    """The largest limit one raise may reach from ``current``: ``current × (1 + max_raise_ratio)``
    floored to the step, at least one step above ``current``, at most the maximum."""
    step = terms.limit_step
    cap = floor_to_step(current * (_PER_MILLE + per_mille(terms.max_raise_ratio)) // _PER_MILLE, step)
    return min(max(cap, current + step), _bounds(terms)[1])


def review(current: int, used: int, proposal: LimitProposal, block_code: str | None, terms: LimitTerms,
           not_due: str | None = None) -> Review:
    """The periodic review of one base limit (see the module docstring). ``not_due`` names why
    the line is not reviewed now (:func:`review_due`), if so."""
    if not_due is not None:
        return Review(action="none", new_limit=current, reasons=(not_due,))
    cause = _cut_cause(block_code, terms)
    out = review_batch(np.array([current]), np.array([used]), np.array([proposal.limit]),
                       np.array([block_code is not None]), np.array([cause is not None]), terms)
    action = int(out.action[0])
    codes = review_reasons(action, bool(out.capped[0]), bool(out.limited_to_used[0]), cause,
                           proposal.held_down, proposal.pushed_up)
    if action == NONE and proposal.limit > current:
        codes = blocked_raise_reasons(block_code, used > current)
    name: Action = ("none", "raise", "cut")[action]  # type: ignore[assignment]
    return Review(action=name, new_limit=int(out.new_limit[0]), reasons=codes)


def review_reasons(action: int, capped: bool, limited_to_used: bool, cause: str | None,
                   held_down: tuple[str, ...], pushed_up: tuple[str, ...]) -> tuple[str, ...]:
    """The reason codes recorded with a review's change: a raise gives
    ``periodic_review_raise``, what pushed the limit up and ``raise_step_capped`` when
    capped; a cut gives ``periodic_review_cut``, the restriction cause (a cause cut), what
    held the limit down and ``cut_limited_to_used`` when the cut stopped at what is used."""
    if action == RAISE:
        return ("periodic_review_raise", *pushed_up) + (("raise_step_capped",) if capped else ())
    if action == CUT:
        return (("periodic_review_cut",) + ((cause,) if cause else ()) + held_down
                + (("cut_limited_to_used",) if limited_to_used else ()))
    return ()


def _cut_cause(block_code: str | None, terms: LimitTerms) -> str | None:
    if block_code and block_code.startswith("account_frozen:"):
        cause = block_code.split(":", 1)[1]
        if cause in terms.cut_on_restriction_causes:
            return cause
    return None


@dataclass(frozen=True)
class BatchReview:
    new_limit: np.ndarray  # int64
    action: np.ndarray  # int8: 0 none, 1 raise, 2 cut
    capped: np.ndarray  # bool: the raise was capped by max_raise_ratio
    limited_to_used: np.ndarray  # bool: the cut stopped at what is used


NONE, RAISE, CUT = 0, 1, 2


def review_due(days_open: np.ndarray, days_since_change: np.ndarray, terms: LimitTerms) -> np.ndarray:
    """Which lines a review may change: open at least ``review_seasoning_days`` and with no
    base-limit change in the last ``review_cooldown_days`` (``days_since_change`` < 0: never
    changed since opening)."""
    days_open = np.asarray(days_open)
    since = np.asarray(days_since_change)
    return (days_open >= terms.review_seasoning_days) & ((since < 0) | (since >= terms.review_cooldown_days))


def not_due_reason(days_open: int, days_since_change: int, terms: LimitTerms) -> str | None:
    """``line_too_new`` / ``limit_recently_changed`` when a review may not change the line, else None."""
    if days_open < terms.review_seasoning_days:
        return "line_too_new"
    if 0 <= days_since_change < terms.review_cooldown_days:
        return "limit_recently_changed"
    return None


def review_batch(current: np.ndarray, used: np.ndarray, target: np.ndarray, blocked: np.ndarray,
                 cause_cut: np.ndarray, terms: LimitTerms, due: np.ndarray | None = None) -> BatchReview:
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
    lo, hi = _bounds(terms)
    raise_thr = per_mille(terms.raise_threshold)
    cut_thr = per_mille(terms.cut_threshold)
    max_raise = per_mille(terms.max_raise_ratio)
    max_cut = per_mille(terms.max_cut_ratio)

    # raises
    cap = np.minimum(np.maximum(current * (_PER_MILLE + max_raise) // _PER_MILLE // step * step, current + step), hi)
    wants_raise = (target * _PER_MILLE >= current * (_PER_MILLE + raise_thr)) & (target > current)
    due = np.ones(current.shape, dtype=bool) if due is None else np.asarray(due, dtype=bool)
    do_raise = wants_raise & ~blocked & ~cause_cut & (used <= current) & due  # not while over the base limit
    raised = np.minimum(target, cap)
    do_raise &= raised > current

    # cuts
    deepest = -(-(current * (_PER_MILLE - max_cut) // _PER_MILLE) // step) * step  # ceil to the step
    deepest = np.maximum(deepest, lo)
    cut_target = np.where(cause_cut, np.minimum(target, deepest), target)
    wants_cut = cause_cut | (target * _PER_MILLE <= current * (_PER_MILLE - cut_thr))
    used_floor = -(-used // step) * step
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


def application_raise(current: int, proposal: LimitProposal, terms: LimitTerms,
                      requested: int | None = None) -> tuple[int, bool]:
    """(new limit, capped) for an application the rules allow: the policy's limit, at most
    one raise step (:func:`raise_cap`) and at most ``requested`` (floored to the step);
    ``new limit <= current`` means no raise is available."""
    new = min(proposal.limit, raise_cap(current, terms))
    capped = new < proposal.limit
    if requested is not None:
        new = min(new, floor_to_step(requested, terms.limit_step))
    return new, capped


def stack_temporary(current_amount: int, current_expires: dt.date | None, today: dt.date, amount: int, days: int,
                    terms: LimitTerms) -> tuple[int, dt.date]:
    """A temporary-limit reward on top of the current grant: the amounts add up (capped at
    ``max_temporary_limit``) and the grant lasts until the later of the two expiry dates
    (at most ``max_temporary_limit_days`` from today)."""
    live = current_amount if current_expires is not None and today < current_expires else 0
    expires = today + dt.timedelta(days=min(days, terms.max_temporary_limit_days))
    if live and current_expires is not None:
        expires = max(expires, min(current_expires, today + dt.timedelta(days=terms.max_temporary_limit_days)))
    return min(live + amount, terms.max_temporary_limit), expires
