"""芝麻信用分 / credit score: a points-based scorecard whose parameters are data.

A :class:`Scorecard` is a list of :class:`Feature` s. Each feature reads one *fact*
about a user (``credit_history_months``, ``education``, ...), puts its value in exactly
one :class:`Bin` and awards that bin's points. The score is::

    score = clip(intercept + Σ points of the bins the facts fall in, min_score, max_score)

Every feature belongs to one of the five dimensions of the Sesame-style score
(信用历史 credit history, 行为偏好 behaviour, 履约能力 capacity, 身份特质 identity,
人脉关系 connections); :class:`ScoreResult` reports the points each dimension
contributed and the reason codes of the features that held the score down most.

The module is pure: no I/O, no clock, no database, no pandas. Scalar scoring is plain
Python; :meth:`Scorecard.score_batch` is vectorised with numpy so a nightly rescore of a
million users is a handful of array operations per feature. Both paths bin with the same
cut points, and the tests check they agree row by row.

A scorecard is data: :meth:`Scorecard.to_dict` / :meth:`Scorecard.from_dict` round-trip
through JSON or YAML (rates and odds as decimal strings, never binary floats), and
construction validates it: known dimensions, every numeric feature's intervals
contiguous from −∞ to +∞ with no overlap, categorical value sets disjoint, exactly one
"missing" bin per feature.

:func:`default_scorecard` builds the product's hand-set card over the facts in
:data:`FACTS` from :class:`huabei.config.ScoringTerms`: each dimension's points spread
is its configured weight share of the score range (credit history 35 % of 600 = 210
points, ...). :func:`population_stability_index` compares two dates' score distributions.
"""

from __future__ import annotations

import bisect
import hashlib
import itertools
import json
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Literal

import numpy as np

from huabei.config import ScoringTerms
from huabei.i18n import N_, translate
from huabei.reasons import SCORE_REASON_CODES
from huabei.reasons import get as _get_reason


def _reason_remedy(code: str) -> str:
    reason = _get_reason(code)
    if reason is None or reason.remedy is None:
        raise RuntimeError(f"score reason {code!r} is not registered with a remedy in huabei.reasons")
    return reason.remedy


# ---------------------------------------------------------------------------------------
# Dimensions, bands, reason texts
# ---------------------------------------------------------------------------------------

#: The five dimensions of the score, in display order.
DIMENSIONS: tuple[str, ...] = ("credit_history", "behaviour", "capacity", "identity", "connections")

#: The dimensions' names (gettext msgids; :data:`DIMENSION_ZH` gives the Chinese users see).
DIMENSION_NAMES: dict[str, str] = {
    "credit_history": N_("Credit history"),
    "behaviour": N_("Behaviour"),
    "capacity": N_("Capacity to repay"),
    "identity": N_("Identity"),
    "connections": N_("Connections"),
}

#: Score bands as (code, lowest score of the band). A band runs from its lower bound
#: (inclusive) to the next band's lower bound (exclusive): 350–549 poor, 550–599 fair,
#: 600–649 good, 650–699 very good, 700–950 excellent. 600, the opening threshold, is
#: therefore the first "good" score.
BANDS: tuple[tuple[str, int], ...] = (
    ("poor", 350),
    ("fair", 550),
    ("good", 600),
    ("very_good", 650),
    ("excellent", 700),
)

#: The band names (gettext msgids; :data:`BAND_ZH` gives the Chinese users see).
BAND_NAMES: dict[str, str] = {
    "poor": N_("Poor"),
    "fair": N_("Fair"),
    "good": N_("Good"),
    "very_good": N_("Very good"),
    "excellent": N_("Excellent"),
}

#: At most this many reason codes are returned with a score.
MAX_REASONS = 4

#: What to do about each reason code, in English: the remedies registered with the reason
#: codes in :mod:`huabei.reasons` (the gettext msgids). Codes are stable API.
REASON_TEXT: dict[str, str] = {code: _reason_remedy(code) for code in SCORE_REASON_CODES}


class _TranslatedTexts(Mapping[str, str]):
    """The same texts in one locale, looked up in the gettext catalog on access (the module
    stays free of I/O at import)."""

    def __init__(self, texts: Mapping[str, str], locale: str):
        self._texts, self._locale = texts, locale

    def __getitem__(self, code: str) -> str:
        return translate(self._texts[code], self._locale)

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter(self._texts)

    def __len__(self) -> int:
        return len(self._texts)


#: 中文 / the same reason texts in Chinese, from the zh_CN catalog.
REASON_TEXT_ZH: Mapping[str, str] = _TranslatedTexts(REASON_TEXT, "zh_CN")
#: The dimensions' and the bands' names in Chinese, from the zh_CN catalog.
DIMENSION_ZH: Mapping[str, str] = _TranslatedTexts(DIMENSION_NAMES, "zh_CN")
BAND_ZH: Mapping[str, str] = _TranslatedTexts(BAND_NAMES, "zh_CN")

_SNAKE = re.compile(r"^[a-z][a-z0-9_]*$")

FactValue = int | str | bool | None


_BAND_LOWS = np.array([lower for _, lower in BANDS], dtype=np.int64)
_BAND_CODES = np.array([code for code, _ in BANDS], dtype=object)


def band_indices(scores: Any) -> np.ndarray:
    """The index into :data:`BANDS` of each score: the band with the largest lower bound at
    or below it (below every bound: the first band). The one statement of the banding rule."""
    idx = np.searchsorted(_BAND_LOWS, np.asarray(scores, dtype=np.int64), side="right") - 1
    return np.clip(idx, 0, len(BANDS) - 1)


def bands_of(scores: Any) -> np.ndarray:
    """:func:`band_of` over an array of scores (an object array of band codes)."""
    return _BAND_CODES[band_indices(scores)]


def band_of(score: int) -> str:
    """The band code (``poor`` … ``excellent``) of a score; :data:`BAND_ZH` names it."""
    return BANDS[int(band_indices(score))][0]


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

_PER_MILLE = dict(minimum=0, maximum=1000)

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
        **_PER_MILLE,
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
        **_PER_MILLE,
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
        **_PER_MILLE,
    ),
)

FACT_SPECS: dict[str, FactSpec] = {f.name: f for f in FACTS}


class FactError(ValueError):
    """A fact that is unknown, of the wrong type or out of range. ``code``/``field`` are stable."""

    def __init__(self, code: str, field_name: str, detail: str):
        super().__init__(f"{field_name}: {detail}")
        self.code = code
        self.field = field_name
        self.detail = detail


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
            raise FactError("unknown_fact", name, "is not a known fact")
        if value is not None:
            if spec.type is int:
                if isinstance(value, bool) or not isinstance(value, int):
                    raise FactError("invalid_fact", name, "must be an integer")
                if spec.minimum is not None and value < spec.minimum:
                    raise FactError("invalid_fact", name, f"must be at least {spec.minimum}")
                if spec.maximum is not None and value > spec.maximum:
                    raise FactError("invalid_fact", name, f"must be at most {spec.maximum}")
            elif spec.type is bool:
                if not isinstance(value, bool):
                    raise FactError("invalid_fact", name, "must be true or false")
            else:
                if not isinstance(value, str) or value not in spec.values:
                    raise FactError("invalid_fact", name, "must be one of " + ", ".join(spec.values))
        out[name] = value
    return out


# ---------------------------------------------------------------------------------------
# Bins, features, scorecards
# ---------------------------------------------------------------------------------------


class ScorecardError(ValueError):
    """A scorecard that is not valid data (overlapping bins, unknown dimension, ...)."""


BinKind = Literal["interval", "values", "other", "missing"]


@dataclass(frozen=True)
class Bin:
    """One bin of a feature.

    * ``interval``: integers ``lo <= x < hi``; ``lo=None`` is −∞, ``hi=None`` is +∞.
    * ``values``: a set of categorical values (strings, or ``True`` / ``False``).
    * ``other``: categorical values not listed in any ``values`` bin (optional; without
      it an unlisted value is an error).
    * ``missing``: the fact is ``None`` (unknown / not provided). Every feature has one.
    """

    kind: BinKind
    lo: int | None = None
    hi: int | None = None
    values: tuple[str | bool, ...] = ()

    @classmethod
    def interval(cls, lo: int | None, hi: int | None) -> Bin:
        return cls("interval", lo=lo, hi=hi)

    @classmethod
    def of(cls, *values: str | bool) -> Bin:
        return cls("values", values=tuple(values))

    @classmethod
    def other(cls) -> Bin:
        return cls("other")

    @classmethod
    def missing(cls) -> Bin:
        return cls("missing")

    def __post_init__(self) -> None:
        if self.kind == "interval":
            for end in (self.lo, self.hi):
                if end is not None and (isinstance(end, bool) or not isinstance(end, int)):
                    raise ScorecardError("interval ends must be integers or None")
            if self.lo is not None and self.hi is not None and self.lo >= self.hi:
                raise ScorecardError(f"empty interval [{self.lo}, {self.hi})")
            if self.values:
                raise ScorecardError("an interval bin has no values")
        elif self.kind == "values":
            if not self.values:
                raise ScorecardError("a values bin needs at least one value")
            if not (all(isinstance(v, str) for v in self.values) or all(isinstance(v, bool) for v in self.values)):
                raise ScorecardError("bin values must be all strings or all booleans")
            if len(set(self.values)) != len(self.values):
                raise ScorecardError(f"repeated value in bin {self.values!r}")
            if self.lo is not None or self.hi is not None:
                raise ScorecardError("a values bin has no interval")
        elif self.kind in ("other", "missing"):
            if self.values or self.lo is not None or self.hi is not None:
                raise ScorecardError(f"an {self.kind} bin has no interval and no values")
        else:
            raise ScorecardError(f"unknown bin kind {self.kind!r}")

    def label(self) -> str:
        """Human-readable label: ``[3, 6)``, ``< 1``, ``≥ 48``, ``bachelor, master``, ``missing``."""
        if self.kind == "interval":
            if self.lo is None and self.hi is None:
                return "any"
            if self.lo is None:
                return f"< {self.hi}"
            if self.hi is None:
                return f"≥ {self.lo}"
            if self.hi == self.lo + 1:
                return f"= {self.lo}"
            return f"[{self.lo}, {self.hi})"
        if self.kind == "values":
            return ", ".join(str(v).lower() if isinstance(v, bool) else v for v in self.values)
        return self.kind

    def to_dict(self) -> dict[str, Any]:
        if self.kind == "interval":
            return {"lo": self.lo, "hi": self.hi}
        if self.kind == "values":
            return {"values": list(self.values)}
        return {self.kind: True}


@dataclass(frozen=True)
class Feature:
    """A scored fact: its bins, the points of each bin (``points[i]`` for ``bins[i]``),
    its dimension and the reason code cited when it holds the score down.

    A feature is *numeric* (interval bins covering −∞..+∞ without gaps or overlaps,
    plus the missing bin) or *categorical* (disjoint value bins, optionally an ``other``
    bin, plus the missing bin).
    """

    name: str
    dimension: str
    bins: tuple[Bin, ...]
    points: tuple[int, ...]
    reason: str
    description: str = ""
    # Lookup tables derived from the bins (not part of equality or the data form).
    _cuts: tuple[int, ...] = field(init=False, repr=False, compare=False, default=())
    _interval_idx: tuple[int, ...] = field(init=False, repr=False, compare=False, default=())
    _value_idx: dict[str | bool, int] = field(init=False, repr=False, compare=False, default_factory=dict)
    _missing_idx: int = field(init=False, repr=False, compare=False, default=-1)
    _other_idx: int | None = field(init=False, repr=False, compare=False, default=None)
    _kind: str = field(init=False, repr=False, compare=False, default="")
    _value_type: type | None = field(init=False, repr=False, compare=False, default=None)

    def __post_init__(self) -> None:
        object.__setattr__(self, "bins", tuple(self.bins))
        object.__setattr__(self, "points", tuple(self.points))
        where = f"feature {self.name!r}"
        if not isinstance(self.name, str) or not self.name:
            raise ScorecardError("a feature needs a name")
        if self.dimension not in DIMENSIONS:
            raise ScorecardError(f"{where}: unknown dimension {self.dimension!r} (one of {', '.join(DIMENSIONS)})")
        if not isinstance(self.reason, str) or not _SNAKE.match(self.reason):
            raise ScorecardError(f"{where}: reason code {self.reason!r} must be snake_case")
        if len(self.points) != len(self.bins):
            raise ScorecardError(f"{where}: {len(self.bins)} bins but {len(self.points)} points")
        for p in self.points:
            if isinstance(p, bool) or not isinstance(p, int):
                raise ScorecardError(f"{where}: points must be integers")
        kinds = [b.kind for b in self.bins]
        if kinds.count("missing") != 1:
            raise ScorecardError(f"{where}: needs exactly one missing bin")
        missing_idx = kinds.index("missing")
        intervals = [i for i, k in enumerate(kinds) if k == "interval"]
        valued = [i for i, k in enumerate(kinds) if k in ("values", "other")]
        if intervals and valued:
            raise ScorecardError(f"{where}: mixes interval and categorical bins")
        if not intervals and not valued:
            raise ScorecardError(f"{where}: needs at least one bin besides the missing bin")
        object.__setattr__(self, "_missing_idx", missing_idx)
        if intervals:
            order = sorted(intervals, key=lambda i: -math.inf if self.bins[i].lo is None else self.bins[i].lo)
            first, last = self.bins[order[0]], self.bins[order[-1]]
            if first.lo is not None:
                raise ScorecardError(f"{where}: the first interval must start at -infinity (lo: null)")
            if last.hi is not None:
                raise ScorecardError(f"{where}: the last interval must end at +infinity (hi: null)")
            for a, b in itertools.pairwise(order):
                hi, lo = self.bins[a].hi, self.bins[b].lo
                if hi is None or lo is None or hi != lo:
                    raise ScorecardError(
                        f"{where}: intervals {self.bins[a].label()} and {self.bins[b].label()} "
                        + ("overlap" if hi is None or lo is None or hi > lo else "leave a gap")
                    )
            object.__setattr__(self, "_cuts", tuple(self.bins[i].lo for i in order[1:]))  # type: ignore[misc]
            object.__setattr__(self, "_interval_idx", tuple(order))
            object.__setattr__(self, "_kind", "numeric")
        else:
            if kinds.count("other") > 1:
                raise ScorecardError(f"{where}: at most one other bin")
            lookup: dict[str | bool, int] = {}
            types = set()
            for i in valued:
                for v in self.bins[i].values:
                    types.add(type(v))
                    if v in lookup:
                        raise ScorecardError(f"{where}: value {v!r} is in two bins")
                    lookup[v] = i
            if len(types) > 1:
                raise ScorecardError(f"{where}: mixes string and boolean values")
            object.__setattr__(self, "_value_idx", lookup)
            object.__setattr__(self, "_other_idx", kinds.index("other") if "other" in kinds else None)
            object.__setattr__(self, "_value_type", types.pop() if types else str)
            object.__setattr__(self, "_kind", "categorical")

    # -- facts → bins ------------------------------------------------------------------

    @property
    def kind(self) -> str:
        """``numeric`` or ``categorical``."""
        return self._kind

    @property
    def best_points(self) -> int:
        return max(self.points)

    @property
    def worst_points(self) -> int:
        return min(self.points)

    @property
    def spread(self) -> int:
        """Points between the feature's worst and best bin."""
        return self.best_points - self.worst_points

    def bin_index(self, value: FactValue) -> int:
        """Index into :attr:`bins` of the bin holding ``value``."""
        if value is None:
            return self._missing_idx
        if self._kind == "numeric":
            if isinstance(value, bool) or not isinstance(value, int):
                raise TypeError(f"{self.name}: expected an integer or None, got {type(value).__name__}")
            return self._interval_idx[bisect.bisect_right(self._cuts, value)]
        if not isinstance(value, self._value_type) or (self._value_type is str and isinstance(value, bool)):
            raise TypeError(f"{self.name}: expected {self._value_type.__name__} or None, got {type(value).__name__}")
        idx = self._value_idx.get(value)
        if idx is None:
            if self._other_idx is None:
                raise ValueError(f"{self.name}: unknown value {value!r}")
            return self._other_idx
        return idx

    def points_for(self, value: FactValue) -> int:
        return self.points[self.bin_index(value)]

    def bin_indices(self, column: Any, n: int) -> np.ndarray:
        """Vectorised :meth:`bin_index` over a column of ``n`` values (see :meth:`Scorecard.score_batch`)."""
        out = np.full(n, self._missing_idx, dtype=np.intp)
        if column is None:
            return out
        data, missing = _split_missing(column, n, self.name)
        present = ~missing
        if not present.any():
            return out
        values = data[present]
        if self._kind == "numeric":
            if values.dtype.kind == "O":
                # Convenience path: let numpy infer the type once (ints stay int64).
                values = np.array(values.tolist())
            if values.dtype.kind == "f":
                if not np.all(np.floor(values) == values):
                    raise ValueError(f"{self.name}: numeric facts must be whole numbers")
            elif values.dtype.kind not in "iu":
                raise TypeError(f"{self.name}: expected integers or None, got dtype {values.dtype}")
            cuts = np.array(self._cuts, dtype=np.int64)
            order = np.array(self._interval_idx, dtype=np.intp)
            out[present] = order[np.searchsorted(cuts, values, side="right")]
            return out
        # categorical: one vectorised comparison per listed value (a card lists few values).
        if self._value_type is bool:
            if values.dtype.kind == "f":  # 0.0 / 1.0 with NaN for missing
                if not np.all((values == 0) | (values == 1)):
                    raise TypeError(f"{self.name}: expected booleans or None")
            elif values.dtype.kind == "O":
                for v in set(values.tolist()):  # the distinct objects' types, checked once
                    if not isinstance(v, (bool, np.bool_)):
                        raise TypeError(f"{self.name}: expected booleans or None, got {v!r}")
            elif values.dtype.kind != "b":
                raise TypeError(f"{self.name}: expected a boolean column, got dtype {values.dtype}")
            values = values.astype(bool)
            res = np.empty(values.shape, dtype=np.intp)
            for flag in (True, False):
                rows = values == flag
                if rows.any():
                    res[rows] = self._index_or_raise(flag)
            out[present] = res
            return out
        if values.dtype.kind == "O":
            for v in set(values.tolist()):  # the distinct objects' types, checked once
                if not isinstance(v, str):
                    raise TypeError(f"{self.name}: expected strings or None, got {v!r}")
            values = values.astype(str)
        elif values.dtype.kind not in "UT":
            raise TypeError(f"{self.name}: expected strings or None, got dtype {values.dtype}")
        res = np.empty(values.shape, dtype=np.intp)
        assigned = np.zeros(values.shape, dtype=bool)
        for value, idx in self._value_idx.items():
            rows = values == value
            res[rows] = idx
            assigned |= rows
        if not assigned.all():
            if self._other_idx is None:
                raise ValueError(f"{self.name}: unknown value {values[~assigned][0]!r}")
            res[~assigned] = self._other_idx
        out[present] = res
        return out

    def _index_or_raise(self, value: str | bool) -> int:
        idx = self._value_idx.get(value)
        if idx is None:
            if self._other_idx is None:
                raise ValueError(f"{self.name}: unknown value {value!r}")
            return self._other_idx
        return idx

    # -- data form ---------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"name": self.name, "dimension": self.dimension, "reason": self.reason}
        if self.description:
            d["description"] = self.description
        d["bins"] = [{**b.to_dict(), "points": p} for b, p in zip(self.bins, self.points)]
        return d

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Feature:
        _expect_keys(data, required={"name", "dimension", "reason", "bins"}, optional={"description"}, where="feature")
        name = data["name"]
        bins: list[Bin] = []
        points: list[int] = []
        if not isinstance(data["bins"], Sequence) or isinstance(data["bins"], (str, bytes)):
            raise ScorecardError(f"feature {name!r}: bins must be a list")
        for raw in data["bins"]:
            if not isinstance(raw, Mapping):
                raise ScorecardError(f"feature {name!r}: each bin must be a mapping")
            where = f"feature {name!r} bin"
            p = raw.get("points")
            if isinstance(p, bool) or not isinstance(p, int):
                raise ScorecardError(f"{where}: points must be an integer")
            if "values" in raw:
                _expect_keys(raw, required={"values", "points"}, optional=set(), where=where)
                if not isinstance(raw["values"], Sequence) or isinstance(raw["values"], (str, bytes)):
                    raise ScorecardError(f"{where}: values must be a list")
                bins.append(Bin.of(*raw["values"]))
            elif "missing" in raw or "other" in raw:
                key = "missing" if "missing" in raw else "other"
                _expect_keys(raw, required={key, "points"}, optional=set(), where=where)
                if raw[key] is not True:
                    raise ScorecardError(f"{where}: {key} must be true")
                bins.append(Bin(key))
            else:
                _expect_keys(raw, required={"lo", "hi", "points"}, optional=set(), where=where)
                bins.append(Bin.interval(raw["lo"], raw["hi"]))
            points.append(p)
        return cls(
            name=name,
            dimension=data["dimension"],
            bins=tuple(bins),
            points=tuple(points),
            reason=data["reason"],
            description=data.get("description", ""),
        )


def _split_missing(column: Any, n: int, name: str) -> tuple[np.ndarray, np.ndarray]:
    """A column as (values, missing mask). Missing: masked entries of a masked array,
    NaN in a float array, None (or NaN) in an object array."""
    if np.ma.isMaskedArray(column):
        missing = np.ma.getmaskarray(column).copy()
        data = np.asarray(column.data)
    else:
        data = np.asarray(column)
        missing = np.zeros(data.shape, dtype=bool)
    if data.ndim != 1 or data.shape[0] != n:
        raise ValueError(f"{name}: column has shape {data.shape}, expected ({n},)")
    if data.dtype.kind == "f":
        missing |= np.isnan(data)
    elif data.dtype.kind == "O":
        missing |= np.equal(data, None)
        # NaN float objects (as pandas leaves them) also mean missing: NaN != NaN.
        missing |= np.not_equal(data, data)
    return data, missing


def _expect_keys(data: Mapping[str, Any], *, required: set[str], optional: set[str], where: str) -> None:
    keys = set(data)
    if missing := required - keys:
        raise ScorecardError(f"{where}: missing {', '.join(sorted(missing))}")
    if unknown := keys - required - optional:
        raise ScorecardError(f"{where}: unknown key(s) {', '.join(sorted(unknown))}")


@dataclass(frozen=True)
class ScoreResult:
    """One user's score.

    ``dimensions`` maps each of the five dimensions to the points its features
    contributed (the intercept belongs to none), ``feature_points`` each feature to its
    points, ``reasons`` the reason codes of the features that lost the most points
    against their best bin (most first, at most :data:`MAX_REASONS`, none when nothing
    was lost).
    """

    score: int
    band: str
    dimensions: dict[str, int]
    reasons: tuple[str, ...]
    version: str
    feature_points: dict[str, int]

    @property
    def band_zh(self) -> str:
        return BAND_ZH[self.band]


@dataclass(frozen=True)
class BatchScores:
    """:meth:`Scorecard.score_batch_explained`: scores, points per dimension, and each row's
    reasons as indices into ``reason_codes`` (``reason_index[i]``, −1 = no reason)."""

    scores: np.ndarray
    dimensions: dict[str, np.ndarray]
    reason_codes: tuple[str, ...]
    reason_index: np.ndarray

    def reasons_of(self, i: int) -> tuple[str, ...]:
        return tuple(self.reason_codes[j] for j in self.reason_index[i] if j >= 0)

    def reason_lists(self) -> list[list[str]]:
        """Every row's reason codes as a list (for storage). Rows with the same reasons share
        one list object: treat them as read-only."""
        cache: dict[tuple[int, ...], list[str]] = {}
        out = []
        for row in self.reason_index.tolist():
            key = tuple(row)
            codes = cache.get(key)
            if codes is None:
                codes = cache[key] = [self.reason_codes[j] for j in row if j >= 0]
            out.append(codes)
        return out


_FORMAT = "huabei.scorecard/1"


@dataclass(frozen=True)
class Scorecard:
    """A points scorecard. ``score = clip(intercept + Σ feature points, min_score, max_score)``.

    Scaling parameters (standard scorecard scaling, 评分卡刻度): ``base_points`` is the
    score at good:bad odds ``base_odds``, and every ``pdo`` points double the odds. A
    fitted card derives its points from them (``factor = pdo / ln 2``,
    ``offset = base_points − factor · ln(base_odds)``); :meth:`odds_at` reads them back.
    For the hand-set default card they are nominal (not calibrated to observed odds).
    """

    features: tuple[Feature, ...]
    version: str
    intercept: int = 350
    base_points: int = 600
    pdo: Decimal = Decimal(20)
    base_odds: Decimal = Decimal(50)
    min_score: int = 350
    max_score: int = 950

    def __post_init__(self) -> None:
        object.__setattr__(self, "features", tuple(self.features))
        if not isinstance(self.version, str) or not self.version:
            raise ScorecardError("a scorecard needs a version")
        for name in ("intercept", "base_points", "min_score", "max_score"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int):
                raise ScorecardError(f"{name} must be an integer")
        for name in ("pdo", "base_odds"):
            v = getattr(self, name)
            if not isinstance(v, Decimal) or not v.is_finite() or v <= 0:
                raise ScorecardError(f"{name} must be a positive Decimal")
        if self.min_score >= self.max_score:
            raise ScorecardError("min_score must be below max_score")
        if not self.features:
            raise ScorecardError("a scorecard needs at least one feature")
        names = [f.name for f in self.features]
        if len(set(names)) != len(names):
            raise ScorecardError("feature names must be unique")

    # -- structure ---------------------------------------------------------------------

    def missing_dimensions(self) -> tuple[str, ...]:
        """Dimensions with no feature (a production card has none)."""
        present = {f.dimension for f in self.features}
        return tuple(d for d in DIMENSIONS if d not in present)

    def validate(self, *, require_all_dimensions: bool = True) -> Scorecard:
        """Raise :class:`ScorecardError` unless every dimension has a feature (when required)."""
        if require_all_dimensions and (missing := self.missing_dimensions()):
            raise ScorecardError("no feature in dimension(s): " + ", ".join(missing))
        return self

    def dimension_spreads(self) -> dict[str, int]:
        """Points between the worst and the best profile, per dimension."""
        out = dict.fromkeys(DIMENSIONS, 0)
        for f in self.features:
            out[f.dimension] += f.spread
        return out

    def feature(self, name: str) -> Feature:
        for f in self.features:
            if f.name == name:
                return f
        raise KeyError(name)

    # -- scoring -----------------------------------------------------------------------

    def score(self, facts: Mapping[str, FactValue]) -> ScoreResult:
        """Score one user. A fact absent from ``facts`` counts as missing (``None``)."""
        dims = dict.fromkeys(DIMENSIONS, 0)
        per_feature: dict[str, int] = {}
        losses: list[tuple[int, int, str]] = []
        total = self.intercept
        for pos, f in enumerate(self.features):
            p = f.points_for(facts.get(f.name))
            per_feature[f.name] = p
            dims[f.dimension] += p
            total += p
            lost = f.best_points - p
            if lost > 0:
                losses.append((-lost, pos, f.reason))
        losses.sort()
        reasons: list[str] = []
        for _, _, code in losses:
            if code not in reasons:
                reasons.append(code)
            if len(reasons) == MAX_REASONS:
                break
        score = min(max(total, self.min_score), self.max_score)
        return ScoreResult(
            score=score,
            band=band_of(score),
            dimensions=dims,
            reasons=tuple(reasons),
            version=self.version,
            feature_points=per_feature,
        )

    def score_batch(self, columns: Mapping[str, Any]) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        """Score many users at once: one numpy array per fact, all of the same length.

        A column may be an integer / boolean array (no missing values), a float array
        holding whole numbers with NaN for missing, a ``numpy.ma`` masked array (masked =
        missing), or an object array with ``None`` for missing; string facts come as
        object or string arrays. A fact without a column is missing for everyone.
        Returns the int64 scores and, per dimension, the int64 points it contributed —
        the same numbers as :meth:`score` row by row.
        """
        lengths = {len(c) for c in columns.values() if c is not None}
        if len(lengths) > 1:
            raise ValueError("all columns must have the same length")
        n = lengths.pop() if lengths else 0
        dims = {d: np.zeros(n, dtype=np.int64) for d in DIMENSIONS}
        total = np.full(n, self.intercept, dtype=np.int64)
        for f in self.features:
            idx = f.bin_indices(columns.get(f.name), n)
            pts = np.asarray(f.points, dtype=np.int64)[idx]
            dims[f.dimension] += pts
            total += pts
        return np.clip(total, self.min_score, self.max_score), dims

    def score_batch_explained(self, columns: Mapping[str, Any]) -> BatchScores:
        """:meth:`score_batch` plus each row's reason codes, vectorised (no loop over rows).

        The reasons are exactly those :meth:`score` gives: per reason code, the largest
        number of points any of its features lost against its best bin (the earliest such
        feature on ties); codes ranked by those losses, then by that feature's position in
        the card; at most :data:`MAX_REASONS`, only codes that lost points.
        """
        lengths = {len(c) for c in columns.values() if c is not None}
        if len(lengths) > 1:
            raise ValueError("all columns must have the same length")
        n = lengths.pop() if lengths else 0
        codes: list[str] = []
        for f in self.features:
            if f.reason not in codes:
                codes.append(f.reason)
        k = len(codes)
        dims = {d: np.zeros(n, dtype=np.int64) for d in DIMENSIONS}
        total = np.full(n, self.intercept, dtype=np.int64)
        loss = np.zeros((n, k), dtype=np.int64)
        pos = np.zeros((n, k), dtype=np.int64)
        for p, f in enumerate(self.features):
            idx = f.bin_indices(columns.get(f.name), n)
            pts = np.asarray(f.points, dtype=np.int64)[idx]
            dims[f.dimension] += pts
            total += pts
            c = codes.index(f.reason)
            lost = f.best_points - pts
            better = lost > loss[:, c]
            loss[:, c] = np.where(better, lost, loss[:, c])
            pos[:, c] = np.where(better, p, pos[:, c])
        key = -loss * (len(self.features) + 1) + pos
        top = min(MAX_REASONS, k)
        order = np.argsort(key, axis=1, kind="stable")[:, :top]
        kept = np.take_along_axis(loss, order, axis=1) > 0
        return BatchScores(
            scores=np.clip(total, self.min_score, self.max_score),
            dimensions=dims,
            reason_codes=tuple(codes),
            reason_index=np.where(kept, order, -1).astype(np.int16),
        )

    def odds_at(self, score: int) -> Decimal:
        """Good:bad odds the scaling assigns to ``score``: ``base_odds · 2^((score − base_points)/pdo)``."""
        odds = self.base_odds * (Decimal(2) ** (Decimal(score - self.base_points) / self.pdo))
        return odds.quantize(Decimal("0.000001"), rounding=ROUND_HALF_UP)

    # -- data form ---------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """The card as plain data (JSON/YAML-able; Decimals as strings)."""
        return {
            "format": _FORMAT,
            "version": self.version,
            "intercept": self.intercept,
            "base_points": self.base_points,
            "pdo": str(self.pdo),
            "base_odds": str(self.base_odds),
            "min_score": self.min_score,
            "max_score": self.max_score,
            "features": [f.to_dict() for f in self.features],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, require_all_dimensions: bool = True) -> Scorecard:
        """Build and validate a card from :meth:`to_dict` data. Unknown keys are an error."""
        if not isinstance(data, Mapping):
            raise ScorecardError("a scorecard must be a mapping")
        _expect_keys(
            data,
            required={"version", "intercept", "base_points", "pdo", "base_odds", "min_score", "max_score", "features"},
            optional={"format"},
            where="scorecard",
        )
        if data.get("format", _FORMAT) != _FORMAT:
            raise ScorecardError(f"unsupported scorecard format {data['format']!r}")
        decimals = {}
        for name in ("pdo", "base_odds"):
            v = data[name]
            if isinstance(v, (float, bool)):
                raise ScorecardError(f"write {name} as a string, never a binary float")
            try:
                decimals[name] = Decimal(str(v))
            except Exception as exc:
                raise ScorecardError(f"{name} is not a number") from exc
        features = data["features"]
        if not isinstance(features, Sequence) or isinstance(features, (str, bytes)):
            raise ScorecardError("features must be a list")
        card = cls(
            features=tuple(Feature.from_dict(f) for f in features),
            version=data["version"],
            intercept=data["intercept"],
            base_points=data["base_points"],
            pdo=decimals["pdo"],
            base_odds=decimals["base_odds"],
            min_score=data["min_score"],
            max_score=data["max_score"],
        )
        return card.validate(require_all_dimensions=require_all_dimensions)

    def fingerprint(self) -> str:
        """SHA-256 of the card's content (everything but the version): equal parameters, equal fingerprint."""
        content = self.to_dict()
        del content["version"]
        blob = json.dumps(content, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
        return hashlib.sha256(blob.encode("utf-8")).hexdigest()


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
        ),
        _FeatureSpec(
            "overdue_episodes_12m",
            _D("0.15"),
            "recent_overdue",
            (_iv(None, 1, "1"), _iv(1, 2, "0.6"), _iv(2, 3, "0.35"), _iv(3, 6, "0.1"), _iv(6, None, "0"), _miss("0.6")),
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


def default_scorecard(terms: ScoringTerms | None = None) -> Scorecard:
    """The product's hand-set scorecard, its points derived from ``terms`` (:class:`ScoringTerms`).

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
          yet) → 0.5.
        * ``max_days_overdue_12m`` (0.25, worst days past due; ``recent_overdue``):
          0 → 1; 1–3 (within the grace days) → 0.75; 4–30 → 0.4; 31–90 → 0.15; ≥91 → 0;
          missing → 0.6.
        * ``overdue_episodes_12m`` (0.15; ``recent_overdue``): 0 → 1; 1 → 0.6; 2 → 0.35;
          3–5 → 0.1; ≥6 → 0; missing → 0.6.
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
          → 1; >950 (offline only) → 0.4; missing (no payments) → 0.
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
          limit: overspending) → 0; missing (no statement yet) → 0.6.

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
          <500 → 0; 500–699 → 0.4; 700–899 → 0.7; ≥900 → 1; missing (no contacts) → 0.

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
    return replace(card, version="default-" + card.fingerprint()[:12])


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
            if s.reason not in REASON_TEXT or s.reason not in REASON_TEXT_ZH:
                raise ScorecardError(f"default card: reason {s.reason} has no text")
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
                lines.append(f"| {dimension} | `{f.name}` | {label} | {p} | `{f.reason}` |")
    return "\n".join(lines)


def _yuan_label(b: Bin) -> str:
    def y(fen: int) -> str:
        return f"{fen // _YUAN:,}" if fen % _YUAN == 0 else f"{fen / _YUAN:,.2f}"  # display only

    if b.lo is None:
        return f"< {y(b.hi)} yuan"  # type: ignore[arg-type]
    if b.hi is None:
        return f"≥ {y(b.lo)} yuan"
    return f"[{y(b.lo)}, {y(b.hi)}) yuan"


# ---------------------------------------------------------------------------------------
# Population stability
# ---------------------------------------------------------------------------------------

PSI_EPSILON = 0.0001


def population_stability_index(expected_scores: Any, actual_scores: Any, bins: int | Sequence[int] = 10) -> Decimal:
    """PSI between two score distributions (e.g. last month's and this month's rescore).

    ``PSI = Σ (a_i − e_i) · ln(a_i / e_i)`` over the bins, with ``e_i`` / ``a_i`` the
    shares of the expected and actual populations in bin ``i``; an empty bin's share
    is replaced by ``0.0001`` so the logarithm stays finite. ``bins`` is either a number
    of quantile bins cut on the expected distribution (deciles by default; repeated cut
    points collapse) or an explicit sorted list of cut points (bins ``[c_{k-1}, c_k)``,
    open at both ends). Returns a ``Decimal`` rounded half-up to 4 places.
    """
    e = np.asarray(expected_scores, dtype=np.float64).reshape(-1)
    a = np.asarray(actual_scores, dtype=np.float64).reshape(-1)
    if e.size == 0 or a.size == 0:
        raise ValueError("both score distributions must be non-empty")
    if np.isnan(e).any() or np.isnan(a).any():
        raise ValueError("scores must not be NaN")
    if isinstance(bins, (int, np.integer)) and not isinstance(bins, bool):
        if bins < 2:
            raise ValueError("at least two bins")
        cuts = np.unique(np.quantile(e, np.linspace(0, 1, int(bins) + 1)[1:-1]))
    else:
        cuts = np.asarray(list(bins), dtype=np.float64)
        if cuts.size == 0 or np.any(np.diff(cuts) <= 0):
            raise ValueError("cut points must be strictly increasing")
    k = cuts.size + 1
    e_share = np.bincount(np.searchsorted(cuts, e, side="right"), minlength=k) / e.size
    a_share = np.bincount(np.searchsorted(cuts, a, side="right"), minlength=k) / a.size
    e_share = np.where(e_share == 0, PSI_EPSILON, e_share)
    a_share = np.where(a_share == 0, PSI_EPSILON, a_share)
    psi = float(np.sum((a_share - e_share) * np.log(a_share / e_share)))
    return Decimal(repr(psi)).quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP)


PSI_STABLE = Decimal("0.1")
PSI_MODERATE = Decimal("0.25")


def psi_interpretation(psi: Decimal) -> Literal["stable", "moderate", "shift"]:
    """``stable`` below 0.1, ``moderate`` below 0.25, ``shift`` from 0.25 on (rescale or refit)."""
    if psi < PSI_STABLE:
        return "stable"
    if psi < PSI_MODERATE:
        return "moderate"
    return "shift"
