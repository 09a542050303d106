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

:mod:`huabei.scoring.facts` holds the facts a card reads; :mod:`huabei.scoring.default_card`
builds the product's hand-set card; :mod:`huabei.scoring.stability` compares two dates' score
distributions (PSI).
"""

from __future__ import annotations

import bisect
import hashlib
import itertools
import json
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Literal

import numpy as np

from huabei.scoring.dimensions import BAND_ZH, DIMENSIONS, MAX_REASONS, band_of

_SNAKE = re.compile(r"^[a-z][a-z0-9_]*$")

FactValue = int | str | bool | None

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

    ``missing_reason`` is the code cited when the fact is *missing* and its missing bin
    holds the score down (defaults to ``reason``). A reason must never claim what the
    data does not show: a user with no bill yet was not late, so a repayment-record
    feature gives its missing bin a neutral code (``no_repayment_record``) instead of
    ``late_repayments``.

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
    missing_reason: str = ""  # "" = the same as ``reason``
    # Lookup tables derived from the bins (not part of equality or the data form).
    _cuts: tuple[int, ...] = field(init=False, repr=False, compare=False, default=())
    _interval_idx: tuple[int, ...] = field(init=False, repr=False, compare=False, default=())
    _value_idx: dict[str | bool, int] = field(init=False, repr=False, compare=False, default_factory=dict)
    _missing_idx: int = field(init=False, repr=False, compare=False, default=-1)
    _other_idx: int | None = field(init=False, repr=False, compare=False, default=None)
    _kind: str = field(init=False, repr=False, compare=False, default="")
    _value_type: type = field(init=False, repr=False, compare=False, default=str)

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
        if not isinstance(self.missing_reason, str) or (self.missing_reason and not _SNAKE.match(self.missing_reason)):
            raise ScorecardError(f"{where}: missing reason code {self.missing_reason!r} must be snake_case")
        if self.missing_reason == self.reason:
            object.__setattr__(self, "missing_reason", "")
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
            order = sorted(intervals, key=lambda i: _lower_end(self.bins[i]))
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
            object.__setattr__(self, "_cuts", tuple(self.bins[i].lo for i in order[1:]))
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
    def reason_if_missing(self) -> str:
        """The reason code cited when the fact is missing and that loses points."""
        return self.missing_reason or self.reason

    def reason_for_bin(self, idx: int) -> str:
        """The reason code cited when a value in bin ``idx`` loses points."""
        return self.reason_if_missing if idx == self._missing_idx else self.reason

    @property
    def missing_index(self) -> int:
        return self._missing_idx

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
        idx = self._value_idx.get(value) if isinstance(value, (str, bool)) else None
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
        data, missing = split_missing(column, n, self.name)
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
        if self.missing_reason:
            d["missing_reason"] = self.missing_reason
        if self.description:
            d["description"] = self.description
        d["bins"] = [{**b.to_dict(), "points": p} for b, p in zip(self.bins, self.points)]
        return d

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Feature:
        _expect_keys(
            data,
            required={"name", "dimension", "reason", "bins"},
            optional={"description", "missing_reason"},
            where="feature",
        )
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
                bins.append(Bin("missing" if key == "missing" else "other"))
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
            missing_reason=data.get("missing_reason", ""),
        )


#: ``None`` as a 0-d object array: compared element-wise with an object column, vectorised.
_NONE = np.array(None, dtype=object)


def _lower_end(b: Bin) -> float:
    """An interval bin's lower end for ordering (-infinity when open)."""
    return -math.inf if b.lo is None else b.lo


def split_missing(column: Any, n: int, name: str) -> tuple[np.ndarray, np.ndarray]:
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
        missing |= np.equal(data, _NONE)
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
        lost_by: dict[str, list[int]] = {}  # code -> [points lost by its features, first position]
        total = self.intercept
        for pos, f in enumerate(self.features):
            idx = f.bin_index(facts.get(f.name))
            p = f.points[idx]
            per_feature[f.name] = p
            dims[f.dimension] += p
            total += p
            lost = f.best_points - p
            if lost > 0:
                entry = lost_by.setdefault(f.reason_for_bin(idx), [0, pos])
                entry[0] += lost
        ranked = sorted(lost_by.items(), key=lambda kv: (-kv[1][0], kv[1][1]))
        reasons = [code for code, _ in ranked[:MAX_REASONS]]
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

        The reasons are exactly those :meth:`score` gives: per reason code, the points all
        its features lost against their best bins, added up; codes ranked by those losses, then
        by the position in the card of the first feature that lost points for it; at most
        :data:`MAX_REASONS`, only codes that lost points.
        """
        lengths = {len(c) for c in columns.values() if c is not None}
        if len(lengths) > 1:
            raise ValueError("all columns must have the same length")
        n = lengths.pop() if lengths else 0
        codes: list[str] = []
        for f in self.features:
            for code in (f.reason, f.reason_if_missing):
                if code not in codes:
                    codes.append(code)
        k = len(codes)
        dims = {d: np.zeros(n, dtype=np.int64) for d in DIMENSIONS}
        total = np.full(n, self.intercept, dtype=np.int64)
        loss = np.zeros((n, k), dtype=np.int64)
        pos = np.full((n, k), len(self.features), dtype=np.int64)  # first feature losing for the code
        for p, f in enumerate(self.features):
            idx = f.bin_indices(columns.get(f.name), n)
            pts = np.asarray(f.points, dtype=np.int64)[idx]
            dims[f.dimension] += pts
            total += pts
            lost = f.best_points - pts
            is_missing = idx == f.missing_index
            for code, rows in ((f.reason, ~is_missing), (f.reason_if_missing, is_missing)):
                c = codes.index(code)
                losing = rows & (lost > 0)
                loss[:, c] += np.where(losing, lost, 0)
                pos[:, c] = np.where(losing, np.minimum(pos[:, c], p), pos[:, c])
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
