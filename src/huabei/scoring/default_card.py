"""The product's hand-set default scorecard over the facts in :data:`~huabei.scoring.facts.FACTS`,
built from :class:`huabei.config.ScoringTerms`: each dimension's points spread is its configured
weight share of the score range (credit history 35 % of 600 = 210 points, ...); and the card as
Markdown (docs/scoring.md). Pure."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from decimal import ROUND_HALF_UP, Decimal

from huabei.config import ScoringTerms
from huabei.scoring.book_card import BOOK_FACTS, BookBlock, shipped_block
from huabei.scoring.dimensions import DIMENSIONS, REASON_TEXT, REASON_TEXT_ZH
from huabei.scoring.facts import EDUCATION_LEVELS, FACT_SPECS, OCCUPATIONS
from huabei.scoring.scorecard import Bin, Feature, Scorecard, ScorecardError

# ---------------------------------------------------------------------------------------
# The default, hand-set scorecard
# ---------------------------------------------------------------------------------------

_D = Decimal


@dataclass(frozen=True)
class _FeatureSpec:
    name: str
    share: Decimal  # share of its dimension's spread taken by this feature
    reason: str
    bins: tuple[tuple[Bin, Decimal], ...]  # (bin, level): points = level × the feature's maximum
    missing_reason: str = ""  # cited when the fact is missing and that costs points ("" = reason)


def _iv(lo: int | None, hi: int | None, level: str) -> tuple[Bin, Decimal]:
    return (Bin.interval(lo, hi), _D(level))


def _miss(level: str) -> tuple[Bin, Decimal]:
    return (Bin.missing(), _D(level))


def _flag(true_level: str = "1", false_level: str = "0", missing_level: str = "0") -> tuple[tuple[Bin, Decimal], ...]:
    return ((Bin.of(True), _D(true_level)), (Bin.of(False), _D(false_level)), _miss(missing_level))


_YUAN = 100  # fen per yuan, for readable money bins

#: The hand-set card, dimension by dimension. Levels are fractions of each feature's
#: maximum points (1 = best bin, 0 = worst bin); see :func:`default_scorecard`.
_DEFAULT_SPEC: dict[str, tuple[_FeatureSpec, ...]] = {
    "credit_history": (
        _FeatureSpec(
            "on_time_repayment_ratio",
            _D("0.25"),
            "late_repayments",
            (
                _iv(None, 800, "0"),
                _iv(800, 900, "0.3"),
                _iv(900, 950, "0.55"),
                _iv(950, 990, "0.8"),
                _iv(990, 1000, "0.9"),
                _iv(1000, None, "1"),
                _miss("0.5"),
            ),
            "no_repayment_record",
        ),
        _FeatureSpec(
            "max_days_overdue_12m",
            _D("0.25"),
            "recent_overdue",
            (
                _iv(None, 1, "1"),
                _iv(1, 4, "0.75"),
                _iv(4, 31, "0.4"),
                _iv(31, 91, "0.15"),
                _iv(91, None, "0"),
                _miss("0.6"),
            ),
            "no_repayment_record",
        ),
        _FeatureSpec(
            "overdue_episodes_12m",
            _D("0.15"),
            "recent_overdue",
            (_iv(None, 1, "1"), _iv(1, 2, "0.6"), _iv(2, 3, "0.35"), _iv(3, 6, "0.1"), _iv(6, None, "0"), _miss("0.6")),
            "no_repayment_record",
        ),
        _FeatureSpec(
            "credit_history_months",
            _D("0.20"),
            "short_credit_history",
            (
                _iv(None, 3, "0"),
                _iv(3, 6, "0.2"),
                _iv(6, 12, "0.4"),
                _iv(12, 24, "0.6"),
                _iv(24, 48, "0.8"),
                _iv(48, None, "1"),
                _miss("0"),
            ),
        ),
        _FeatureSpec(
            "raise_applications_90d",
            _D("0.15"),
            "too_many_raise_applications",
            (_iv(None, 2, "1"), _iv(2, 3, "0.7"), _iv(3, 5, "0.35"), _iv(5, None, "0"), _miss("1")),
        ),
    ),
    "behaviour": (
        _FeatureSpec(
            "payments_90d",
            _D("0.15"),
            "low_activity",
            (
                _iv(None, 1, "0"),
                _iv(1, 5, "0.25"),
                _iv(5, 15, "0.5"),
                _iv(15, 40, "0.75"),
                _iv(40, None, "1"),
                _miss("0"),
            ),
        ),
        _FeatureSpec(
            "active_days_90d",
            _D("0.15"),
            "low_activity",
            (
                _iv(None, 3, "0"),
                _iv(3, 10, "0.3"),
                _iv(10, 30, "0.6"),
                _iv(30, 60, "0.85"),
                _iv(60, None, "1"),
                _miss("0"),
            ),
        ),
        _FeatureSpec(
            "offline_payment_share",
            _D("0.10"),
            "single_payment_channel",
            (_iv(None, 50, "0.4"), _iv(50, 951, "1"), _iv(951, None, "0.4"), _miss("0")),
            "low_activity",
        ),
        _FeatureSpec(
            "merchant_categories_90d",
            _D("0.20"),
            "few_scenarios",
            (_iv(None, 1, "0"), _iv(1, 2, "0.2"), _iv(2, 4, "0.5"), _iv(4, 7, "0.8"), _iv(7, None, "1"), _miss("0")),
        ),
        _FeatureSpec(
            "utility_payments_12m",
            _D("0.10"),
            "few_bill_payments",
            (_iv(None, 1, "0"), _iv(1, 3, "0.4"), _iv(3, 6, "0.7"), _iv(6, None, "1"), _miss("0")),
        ),
        _FeatureSpec(
            "credit_card_repayments_12m",
            _D("0.10"),
            "few_bill_payments",
            (_iv(None, 1, "0"), _iv(1, 3, "0.4"), _iv(3, 6, "0.7"), _iv(6, None, "1"), _miss("0")),
        ),
        _FeatureSpec(
            "credit_services_12m",
            _D("0.12"),
            "no_credit_services",
            (_iv(None, 1, "0"), _iv(1, 2, "0.5"), _iv(2, 4, "0.8"), _iv(4, None, "1"), _miss("0")),
        ),
        _FeatureSpec(
            "credit_tasks_12m",
            _D("0.08"),
            "no_credit_tasks",
            (_iv(None, 1, "0"), _iv(1, 3, "0.6"), _iv(3, None, "1"), _miss("0")),
        ),
    ),
    "capacity": (
        _FeatureSpec(
            "monthly_income",
            _D("0.25"),
            "low_income",
            (
                _iv(None, 3_000 * _YUAN, "0.2"),
                _iv(3_000 * _YUAN, 6_000 * _YUAN, "0.45"),
                _iv(6_000 * _YUAN, 10_000 * _YUAN, "0.65"),
                _iv(10_000 * _YUAN, 20_000 * _YUAN, "0.85"),
                _iv(20_000 * _YUAN, None, "1"),
                _miss("0"),
            ),
        ),
        _FeatureSpec("income_verified", _D("0.10"), "income_not_verified", _flag()),
        _FeatureSpec(
            "assets",
            _D("0.35"),
            "low_assets",
            (
                _iv(None, 100 * _YUAN, "0"),
                _iv(100 * _YUAN, 1_000 * _YUAN, "0.2"),
                _iv(1_000 * _YUAN, 10_000 * _YUAN, "0.45"),
                _iv(10_000 * _YUAN, 50_000 * _YUAN, "0.7"),
                _iv(50_000 * _YUAN, 200_000 * _YUAN, "0.85"),
                _iv(200_000 * _YUAN, None, "1"),
                _miss("0"),
            ),
        ),
        _FeatureSpec(
            "utilisation_ratio",
            _D("0.30"),
            "high_utilisation",
            (
                _iv(None, 300, "1"),
                _iv(300, 600, "0.8"),
                _iv(600, 800, "0.5"),
                _iv(800, 950, "0.2"),
                _iv(950, None, "0"),
                _miss("0.6"),
            ),
            "no_statement_yet",
        ),
    ),
    "identity": (
        _FeatureSpec("real_name_verified", _D("0.25"), "identity_not_verified", _flag()),
        _FeatureSpec("id_document_valid", _D("0.15"), "id_document_expired", _flag()),
        _FeatureSpec("bank_card_bound", _D("0.15"), "incomplete_profile", _flag()),
        _FeatureSpec("education", _D("0.15"), "incomplete_profile", ((Bin.of(*EDUCATION_LEVELS), _D("1")), _miss("0"))),
        _FeatureSpec("occupation", _D("0.15"), "incomplete_profile", ((Bin.of(*OCCUPATIONS), _D("1")), _miss("0"))),
        _FeatureSpec("contact_details_complete", _D("0.15"), "incomplete_profile", _flag()),
    ),
    "connections": (
        _FeatureSpec(
            "verified_contacts",
            _D("0.40"),
            "few_connections",
            (_iv(None, 1, "0"), _iv(1, 5, "0.4"), _iv(5, 20, "0.75"), _iv(20, None, "1"), _miss("0")),
        ),
        _FeatureSpec(
            "contacts_good_standing_ratio",
            _D("0.60"),
            "contacts_in_poor_standing",
            (_iv(None, 500, "0"), _iv(500, 700, "0.4"), _iv(700, 900, "0.7"), _iv(900, None, "1"), _miss("0")),
            "few_connections",
        ),
    ),
}


def _largest_remainder(total: int, shares: Sequence[Decimal]) -> list[int]:
    """Split ``total`` integer points in proportion to ``shares`` (summing to 1), exactly."""
    raw = [total * s for s in shares]
    base = [int(r) for r in raw]  # r >= 0: int() floors
    rest = total - sum(base)
    order = sorted(range(len(raw)), key=lambda i: (-(raw[i] - base[i]), i))
    for i in order[:rest]:
        base[i] += 1
    return base


_SHIPPED = object()


def default_scorecard(terms: ScoringTerms | None = None, block: BookBlock | object | None = _SHIPPED) -> Scorecard:
    """The product's default card for ``terms``: the hand-set application-time features of
    :func:`hand_set_scorecard` with, in place of the four hand-set repayment-record features
    (:data:`~huabei.scoring.book_card.BOOK_FACTS`), the features fitted on a replayed book
    (``block``, default the shipped :data:`~huabei.scoring.book_card.BOOK_CARD_FILE`; ``None``: the
    hand-set card alone).

    A hand-set repayment-record feature the fit did not keep stays hand-set; one the block marks
    ``hand_weighted`` (the book's bins, no regression weight) keeps its hand-set spread. The fitted
    points are
    scaled so the block spreads exactly the points of the hand-set features it replaces (137 of the
    210 credit-history points at the default weights: the weights keep their meaning), rounded
    half-up, and shifted so each feature's worst bin earns 0; a missing bin is the book's average
    (WOE 0). The intercept is set so that a user with no repayment record (every fitted feature
    missing) scores exactly what the hand-set card gave them: first openings are decided as
    before. The version is ``default-`` plus the card's fingerprint."""
    terms = terms or ScoringTerms()
    hand = hand_set_scorecard(terms)
    chosen = shipped_block() if block is _SHIPPED else block
    if chosen is None:
        return hand
    if not isinstance(chosen, BookBlock):
        raise TypeError("block must be a BookBlock or None")
    names = {f.name for f in chosen.card.features}
    replaced = [f for f in hand.features if f.name in BOOK_FACTS and f.name in names]
    own = set(chosen.fitted_on.get("hand_weighted") or ())  # the book's bins, the hand-set weight
    # the block takes the points spread of the hand-set features it replaces, shared as the fit says
    budget = sum(f.spread for f in replaced if f.name not in own)
    fitted_spread = sum(f.spread for f in chosen.card.features if f.name not in own)
    scale = _D(budget) / _D(fitted_spread) if budget and fitted_spread else _D(1)
    fitted: dict[str, list[Feature]] = {}
    shift = 0
    for f in chosen.card.features:
        k = _D(hand.feature(f.name).spread) / _D(f.spread) if f.name in own else scale
        points = [int((_D(p) * k).quantize(_D(1), rounding=ROUND_HALF_UP)) for p in f.points]
        low = min(points)
        fitted.setdefault(f.dimension, []).append(replace(f, points=tuple(p - low for p in points)))
        shift += low  # the missing bin (0) now earns −low
    no_record = sum(f.points[f.missing_index] for f in replaced)
    kept = [f for f in hand.features if f not in replaced]
    features: list[Feature] = []
    for dimension in DIMENSIONS:
        features.extend(fitted.get(dimension, []))
        features.extend(f for f in kept if f.dimension == dimension)
    card = Scorecard(
        features=tuple(features),
        version="default",
        intercept=hand.intercept + no_record + shift,
        min_score=terms.min_score,
        max_score=terms.max_score,
    )
    card.validate()
    return replace(card, version="default-" + card.fingerprint()[:12])


def hand_set_scorecard(terms: ScoringTerms | None = None) -> Scorecard:
    """The hand-set scorecard, its points derived from ``terms`` (:class:`ScoringTerms`).

    Point allocation
        The score range (``max_score − min_score``, 600 points by default) is split
        between the five dimensions by ``terms.weights`` (largest remainder, so the
        spreads add up to the range exactly): credit history 35 % = 210, behaviour 25 %
        = 150, capacity 20 % = 120, identity 15 % = 90, connections 5 % = 30 points.
        Each dimension's spread is split between its features by the shares below, and
        a bin earns ``level × feature maximum`` points, rounded half-up. Every feature's
        worst bin has level 0 and its best level 1, so the worst possible profile scores
        ``min_score`` (350, the intercept) and the best ``max_score`` (950).

    Bins (level of each bin; "missing" is the fact being unknown / not provided)

    信用历史 / credit history
        * ``on_time_repayment_ratio`` (share 0.25, per mille of amounts due in 12 months
          repaid on time; reason ``late_repayments``): <800 → 0; 800–899 → 0.3;
          900–949 → 0.55; 950–989 → 0.8; 990–999 → 0.9; 1000 → 1; missing (nothing due
          yet) → 0.5, citing the neutral ``no_repayment_record``.
        * ``max_days_overdue_12m`` (0.25, worst days past due; ``recent_overdue``):
          0 → 1; 1–3 (within the grace days) → 0.75; 4–30 → 0.4; 31–90 → 0.15; ≥91 → 0;
          missing → 0.6 (``no_repayment_record``).
        * ``overdue_episodes_12m`` (0.15; ``recent_overdue``): 0 → 1; 1 → 0.6; 2 → 0.35;
          3–5 → 0.1; ≥6 → 0; missing → 0.6 (``no_repayment_record``).
        * ``credit_history_months`` (0.20; ``short_credit_history``): <3 → 0; 3–5 → 0.2;
          6–11 → 0.4; 12–23 → 0.6; 24–47 → 0.8; ≥48 → 1; missing → 0.
        * ``raise_applications_90d`` (0.15; ``too_many_raise_applications``): 0–1 → 1;
          2 → 0.7; 3–4 → 0.35; ≥5 → 0; missing → 1 (none recorded). Frequent
          applications lower the score, as the product warns.

    行为偏好 / behaviour (payment activity)
        * ``payments_90d`` (0.15; ``low_activity``): 0 → 0; 1–4 → 0.25; 5–14 → 0.5;
          15–39 → 0.75; ≥40 → 1; missing → 0.
        * ``active_days_90d`` (0.15; ``low_activity``): <3 → 0; 3–9 → 0.3; 10–29 → 0.6;
          30–59 → 0.85; ≥60 → 1; missing → 0.
        * ``offline_payment_share`` (0.10, per mille of payments made in stores;
          ``single_payment_channel``): <50 (online only) → 0.4; 50–950 (both channels)
          → 1; >950 (offline only) → 0.4; missing (no payments) → 0 (``low_activity``).
        * ``merchant_categories_90d`` (0.20, distinct scenarios; ``few_scenarios``):
          0 → 0; 1 → 0.2; 2–3 → 0.5; 4–6 → 0.8; ≥7 → 1; missing → 0.
        * ``utility_payments_12m`` (0.10; ``few_bill_payments``): 0 → 0; 1–2 → 0.4;
          3–5 → 0.7; ≥6 → 1; missing → 0.
        * ``credit_card_repayments_12m`` (0.10; ``few_bill_payments``): same bins.
        * ``credit_services_12m`` (0.12, credit rental / stays; ``no_credit_services``):
          0 → 0; 1 → 0.5; 2–3 → 0.8; ≥4 → 1; missing → 0.
        * ``credit_tasks_12m`` (0.08; ``no_credit_tasks``): 0 → 0; 1–2 → 0.6; ≥3 → 1;
          missing → 0.

    履约能力 / capacity
        * ``monthly_income`` (0.25, fen; ``low_income``): <3,000 yuan → 0.2;
          3,000–5,999.99 → 0.45; 6,000–9,999.99 → 0.65; 10,000–19,999.99 → 0.85;
          ≥20,000 → 1; missing (not declared) → 0.
        * ``income_verified`` (0.10; ``income_not_verified``): true → 1; false / missing → 0.
        * ``assets`` (0.35, savings + fund balances, fen; ``low_assets``): <100 yuan → 0;
          100–999.99 → 0.2; 1,000–9,999.99 → 0.45; 10,000–49,999.99 → 0.7;
          50,000–199,999.99 → 0.85; ≥200,000 → 1; missing → 0.
        * ``utilisation_ratio`` (0.30, per mille of the limit used; ``high_utilisation``):
          <300 → 1; 300–599 → 0.8; 600–799 → 0.5; 800–949 → 0.2; ≥950 (near or over the
          limit: overspending) → 0; missing (no statement yet) → 0.6 (``no_statement_yet``).

    身份特质 / identity (profile completeness)
        * ``real_name_verified`` (0.25; ``identity_not_verified``): true → 1; false / missing → 0.
        * ``id_document_valid`` (0.15; ``id_document_expired``): true → 1; false / missing → 0.
        * ``bank_card_bound`` (0.15; ``incomplete_profile``): true → 1; false / missing → 0.
        * ``education`` (0.15; ``incomplete_profile``): any declared level → 1; missing → 0.
        * ``occupation`` (0.15; ``incomplete_profile``): any declared occupation → 1; missing → 0.
        * ``contact_details_complete`` (0.15; ``incomplete_profile``): true → 1; false / missing → 0.

        Education and occupation reward *completing* the profile, not a particular
        level or job: the seed names them as profile completeness (个人资料完善度).

    人脉关系 / connections
        * ``verified_contacts`` (0.40; ``few_connections``): 0 → 0; 1–4 → 0.4;
          5–19 → 0.75; ≥20 → 1; missing → 0.
        * ``contacts_good_standing_ratio`` (0.60, per mille; ``contacts_in_poor_standing``):
          <500 → 0; 500–699 → 0.4; 700–899 → 0.7; ≥900 → 1; missing (no contacts) → 0
          (``few_connections``).

    Missing data never produces a negative reason: a missing bin that costs points cites a
    code that is true of missing data (``no_repayment_record``, ``no_statement_yet``, or a
    code such as ``low_income`` whose text says "not declared or low").

    The version is ``default-`` plus the first 12 hex digits of the card's fingerprint,
    so changing a weight changes the version.
    """
    terms = terms or ScoringTerms()
    weights = terms.weights
    if set(weights) != set(DIMENSIONS):
        raise ScorecardError("scoring weights must name exactly: " + ", ".join(DIMENSIONS))
    if any(w < 0 for w in weights.values()) or sum(weights.values()) != 1:
        raise ScorecardError("scoring weights must be non-negative and add up to 1")
    score_range = terms.max_score - terms.min_score
    if score_range <= 0:
        raise ScorecardError("max_score must be above min_score")
    spreads = dict(zip(DIMENSIONS, _largest_remainder(score_range, [weights[d] for d in DIMENSIONS])))
    features: list[Feature] = []
    for dimension in DIMENSIONS:
        specs = _DEFAULT_SPEC[dimension]
        maxima = _largest_remainder(spreads[dimension], [s.share for s in specs])
        for spec, top in zip(specs, maxima):
            fact = FACT_SPECS[spec.name]
            features.append(
                Feature(
                    name=spec.name,
                    dimension=dimension,
                    reason=spec.reason,
                    missing_reason=spec.missing_reason,
                    description=fact.description,
                    bins=tuple(b for b, _ in spec.bins),
                    points=tuple(int((level * top).quantize(_D(1), rounding=ROUND_HALF_UP)) for _, level in spec.bins),
                )
            )
    card = Scorecard(
        features=tuple(features),
        version="default",
        intercept=terms.min_score,
        min_score=terms.min_score,
        max_score=terms.max_score,
    )
    card.validate()
    return replace(card, version="hand-set-" + card.fingerprint()[:12])


def _check_default_spec() -> None:
    """Guard the hand-set table: shares add up to 1 per dimension, levels span 0..1, facts match."""
    names = []
    for dimension, specs in _DEFAULT_SPEC.items():
        if sum(s.share for s in specs) != 1:
            raise ScorecardError(f"default card: shares of {dimension} do not add up to 1")
        for s in specs:
            levels = [lv for _, lv in s.bins]
            if min(levels) != 0 or max(levels) != 1:
                raise ScorecardError(f"default card: {s.name} levels must span 0..1")
            if FACT_SPECS[s.name].dimension != dimension:
                raise ScorecardError(f"default card: {s.name} is in the wrong dimension")
            for code in filter(None, (s.reason, s.missing_reason)):
                if code not in REASON_TEXT or code not in REASON_TEXT_ZH:
                    raise ScorecardError(f"default card: reason {code} has no text")
            names.append(s.name)
    if sorted(names) != sorted(FACT_SPECS):
        raise ScorecardError("default card: features and FACTS differ")


_check_default_spec()

#: The default card for the default :class:`ScoringTerms`.
DEFAULT_SCORECARD: Scorecard = default_scorecard(ScoringTerms())


def scorecard_markdown(card: Scorecard) -> str:
    """Every bin of ``card`` with its points as a Markdown table (used by docs/scoring.md)."""
    lines = ["| dimension | feature | bin | points | reason |", "| --- | --- | --- | --- | --- |"]
    for dimension in DIMENSIONS:
        for f in (f for f in card.features if f.dimension == dimension):
            unit = FACT_SPECS[f.name].unit if f.name in FACT_SPECS else ""
            for b, p in zip(f.bins, f.points):
                label = b.label()
                if unit == "fen" and b.kind == "interval":
                    label = _yuan_label(b)
                reason = f.reason_if_missing if b.kind == "missing" else f.reason
                lines.append(f"| {dimension} | `{f.name}` | {label} | {p} | `{reason}` |")
    return "\n".join(lines)


def _yuan_label(b: Bin) -> str:
    def y(fen: int) -> str:
        return f"{fen // _YUAN:,}" if fen % _YUAN == 0 else f"{fen / _YUAN:,.2f}"  # display only

    if b.lo is None:
        return f"< {y(b.hi)} yuan"  # type: ignore[arg-type]
    if b.hi is None:
        return f"≥ {y(b.lo)} yuan"
    return f"[{y(b.lo)}, {y(b.hi)}) yuan"
