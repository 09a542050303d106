"""Fitting scorecards: German credit validation against plain logistic regression, determinism, tables.

Fitting takes seconds per test (two minutes of CPU for the module), so the fits are marked
``slow``: the whole suite runs them, ``make test-fast`` keeps the cheap checks of the fitting code."""

from __future__ import annotations

import json
from decimal import Decimal

import numpy as np
import pandas as pd
import pytest

from huabei.scoring import training
from huabei.scoring.default_card import DEFAULT_SCORECARD
from huabei.scoring.dimensions import DIMENSIONS
from huabei.scoring.scorecard import Scorecard
from huabei.scoring.training import (
    GERMAN_CREDIT_DIMENSIONS,
    GERMAN_TARGET,
    Metrics,
    evaluate,
    fit_scorecard,
    frame_columns,
    german_credit,
    german_credit_split,
    plain_logistic_metrics,
    ranking_metrics,
    train_from_table,
    validate_on_german_credit,
)


@pytest.fixture(scope="module")
def german_split():
    return german_credit_split(42)


@pytest.fixture(scope="module")
def german_card(german_split):
    train, _ = german_split
    return fit_scorecard(train, GERMAN_TARGET, dimension_of=GERMAN_CREDIT_DIMENSIONS, seed=42)


@pytest.mark.slow
def test_german_credit_target_encoding():
    df = german_credit()
    assert len(df) == 1000
    assert int(df[GERMAN_TARGET].sum()) == 300  # "bad" is the default class, 30 %
    assert set(GERMAN_CREDIT_DIMENSIONS) == set(df.columns) - {GERMAN_TARGET}
    assert set(GERMAN_CREDIT_DIMENSIONS.values()) == set(DIMENSIONS)


@pytest.mark.slow
def test_split_is_stratified_and_fixed(german_split):
    train, test = german_split
    assert (len(train), len(test)) == (700, 300)
    assert (int(train[GERMAN_TARGET].sum()), int(test[GERMAN_TARGET].sum())) == (210, 90)
    again_train, _ = german_credit_split(42)
    pd.testing.assert_frame_equal(train, again_train)


@pytest.mark.slow
def test_scorecard_beats_plain_logistic_on_held_out_data():
    ours, plain = validate_on_german_credit(seed=42)
    assert ours.n == plain.n == 300
    assert ours.auc >= plain.auc, (ours, plain)
    assert ours.auc > 0.75 and ours.ks > 0.35  # a real model, not a lucky tie


@pytest.mark.slow
def test_fit_is_deterministic(german_split, german_card):
    train, test = german_split
    again = fit_scorecard(train, GERMAN_TARGET, dimension_of=GERMAN_CREDIT_DIMENSIONS, seed=42)
    assert again.to_dict() == german_card.to_dict()
    assert again.version == german_card.version
    assert evaluate(again, test, GERMAN_TARGET) == evaluate(german_card, test, GERMAN_TARGET)


@pytest.mark.slow
def test_fitted_card_is_valid_data(german_card):
    card = german_card
    assert card.version.startswith("fit-") and card.version[4:] == card.fingerprint()[:12]
    for f in card.features:
        assert f.dimension == GERMAN_CREDIT_DIMENSIONS[f.name]
    again = Scorecard.from_dict(json.loads(json.dumps(card.to_dict())), require_all_dimensions=False)
    assert again == card


@pytest.mark.slow
def test_fitted_points_follow_the_risk(german_split, german_card):
    """Bins with more bads earn fewer points (the WOE → points direction is right)."""
    train, _ = german_split
    cols = frame_columns(german_card, train)
    y = train[GERMAN_TARGET].to_numpy()
    for f in german_card.features:
        idx = f.bin_indices(cols[f.name], len(train))
        rates = {k: y[idx == k].mean() for k in np.unique(idx) if (idx == k).sum() >= 30}
        ks = sorted(rates, key=lambda k: f.points[k])
        assert rates[ks[0]] > rates[ks[-1]], f.name


@pytest.mark.slow
def test_batch_scores_equal_row_scores_on_german_data(german_split, german_card):
    _, test = german_split
    scores, _ = german_card.score_batch(frame_columns(german_card, test))
    for i in range(0, len(test), 7):
        row = {k: (v.item() if hasattr(v, "item") else v) for k, v in test.iloc[i].items()}
        row = {k: (str(v) if isinstance(v, str) else v) for k, v in row.items()}
        assert scores[i] == german_card.score(row).score


@pytest.mark.slow
def test_scaling_parameters_shift_and_stretch_the_points(german_split, german_card):
    train, test = german_split
    wide = fit_scorecard(
        train, GERMAN_TARGET, dimension_of=GERMAN_CREDIT_DIMENSIONS, seed=42, pdo=Decimal(40), base_points=700
    )
    assert (wide.pdo, wide.base_points) == (Decimal(40), 700)
    assert sum(f.spread for f in wide.features) > 1.8 * sum(f.spread for f in german_card.features)
    assert abs(evaluate(wide, test, GERMAN_TARGET).auc - evaluate(german_card, test, GERMAN_TARGET).auc) < 0.01


def test_metrics_by_hand():
    m = ranking_metrics(np.array([0, 0, 1, 1]), np.array([0.1, 0.4, 0.35, 0.8]))
    assert m == Metrics(auc=0.75, ks=0.5, n=4)


@pytest.mark.slow
def test_plain_logistic_baseline_is_a_real_model(german_split):
    train, test = german_split
    m = plain_logistic_metrics(train, test, GERMAN_TARGET)
    assert 0.7 < m.auc < 0.9


def _synthetic_facts(n: int, seed: int) -> pd.DataFrame:
    """Users whose risk truly depends on overdue days, history length and utilisation."""
    rng = np.random.default_rng(seed)
    dpd = rng.choice([0, 0, 0, 0, 2, 10, 45, 120], n)
    months = rng.integers(0, 72, n)
    util = rng.integers(0, 1200, n)
    education = rng.choice(np.array(["bachelor", "secondary", "master"], dtype=object), n)
    education[rng.random(n) < 0.2] = None
    verified = rng.random(n) < 0.8
    logit = -1.5 + 0.03 * dpd - 0.02 * months + 0.0015 * util - 0.4 * verified
    bad = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    return pd.DataFrame(
        {
            "max_days_overdue_12m": dpd,
            "credit_history_months": months,
            "utilisation_ratio": util,
            "education": education,
            "real_name_verified": verified,
            "noise_feature": rng.integers(0, 5, n),
            "label": bad,
        }
    )


@pytest.mark.slow
def test_train_from_table_on_product_facts(tmp_path):
    path = tmp_path / "facts.csv"
    _synthetic_facts(2000, seed=5).to_csv(path, index=False)
    card, train_m, test_m = train_from_table(path, target="label", seed=11)
    assert (train_m.n, test_m.n) == (1400, 600)
    assert test_m.auc > 0.65
    names = {f.name for f in card.features}
    assert {"max_days_overdue_12m", "credit_history_months", "utilisation_ratio"} <= names
    for f in card.features:  # product facts keep their dimension and reason code
        if f.name in {s.name for s in DEFAULT_SCORECARD.features}:
            assert f.dimension == DEFAULT_SCORECARD.feature(f.name).dimension
            assert f.reason == DEFAULT_SCORECARD.feature(f.name).reason
        else:
            assert f.dimension == "behaviour"
    dpd = card.feature("max_days_overdue_12m")
    assert dpd.points_for(0) > dpd.points_for(100)
    assert (
        card.score({"max_days_overdue_12m": 0, "credit_history_months": 60, "utilisation_ratio": 100}).score
        > card.score({"max_days_overdue_12m": 100, "credit_history_months": 1, "utilisation_ratio": 1100}).score
    )
    again, _, test_again = train_from_table(path, target="label", seed=11)
    assert again == card and test_again == test_m


@pytest.mark.slow
def test_train_from_table_reads_german_credit_csv(tmp_path):
    path = tmp_path / "german.csv"
    german_credit().rename(columns={GERMAN_TARGET: "label"}).to_csv(path, index=False)
    _card, train_m, test_m = train_from_table(path, seed=42)
    assert test_m.n == 300 and test_m.auc > 0.75 and train_m.auc >= test_m.auc - 0.05


def test_fit_refuses_bad_inputs():
    df = _synthetic_facts(500, seed=1)
    with pytest.raises(ValueError, match="fractional"):
        fit_scorecard(df.assign(ratio=np.linspace(0, 1, len(df))), "label", ["ratio"])
    with pytest.raises(ValueError, match="1 = bad"):
        fit_scorecard(df.assign(label=df["label"] * 2), "label")
    with pytest.raises(ValueError, match="1 = bad"):
        fit_scorecard(df.assign(label=np.where(df["label"] == 1, "bad", "good")), "label")
    with pytest.raises(ValueError, match="dimension"):
        fit_scorecard(df, "label", dimension_of={"education": "charm"})
    with pytest.raises(ValueError, match="no feature column"):
        fit_scorecard(df, "label", ["nope"])
    with pytest.raises(ValueError):
        train_from_table("data.xlsx")


# --------------------------------------------------------------------------- behavioural cards


def _behaviour_book(n: int = 1500, seed: int = 5) -> pd.DataFrame:
    """A synthetic replayed book: the recent overdue and the share below the minimum drive default."""
    rng = np.random.default_rng(seed)
    late = rng.random(n) < 0.3
    df = pd.DataFrame(
        {
            "bills_due_6m": np.where(rng.random(n) < 0.1, 0, 6),
            "dpd_now": np.where(late & (rng.random(n) < 0.3), rng.integers(1, 60, n), 0),
            "worst_dpd_3m": np.where(late, rng.integers(1, 40, n), 0),
            "worst_dpd_6m": np.where(late, rng.integers(1, 60, n), 0),
            "months_since_overdue": np.where(late, rng.integers(0, 6, n), 99_999),
            "paid_in_full_share_6m": rng.integers(0, 1001, n),
            "below_minimum_share_6m": np.where(late, rng.integers(100, 1001, n), 0),
            "minimum_only_share_6m": rng.integers(0, 1001, n),
            "repaid_share_last_bill": rng.integers(0, 1001, n),
            "revolving_months_12m": rng.integers(0, 7, n),
            "temp_limit_statements_12m": 0,
            "utilisation_last_statement": rng.integers(0, 1100, n),
            "utilisation_trend": rng.integers(-300, 300, n),
        }
    )
    df.loc[df["bills_due_6m"] == 0, ["dpd_now"]] = 0
    risk = 0.05 + 0.5 * late + 0.2 * (df["utilisation_last_statement"] > 800)
    df["bad"] = (rng.random(n) < risk).astype(int)
    return df


@pytest.mark.slow
def test_a_behavioural_card_keeps_its_reasons_honest_and_ranks():
    from huabei.scoring.facts import BEHAVIOUR_FACT_SPECS

    book = _behaviour_book()
    frame = training.behaviour_frame(book)
    assert set(frame.columns) == set(BEHAVIOUR_FACT_SPECS)
    unknown = (book["bills_due_6m"] == 0) & (book["dpd_now"] == 0)
    assert frame[unknown].isna().all().all() and not frame[~unknown].isna().any().any()
    df = frame.assign(bad=book["bad"].to_numpy())
    card = training.fit_scorecard(df, "bad", seed=1, min_iv=0.02)
    names = {f.name for f in card.features}
    assert "worst_dpd_3m" in names or "below_minimum_share_6m" in names
    for f in card.features:
        assert f.dimension == BEHAVIOUR_FACT_SPECS[f.name].dimension
        assert f.reason_if_missing in ("no_repayment_record", "no_statement_yet")
    # a user with no bill yet is told so, never that they repaid late
    newcomer = card.score({})
    assert not {"late_repayments", "recent_overdue", "high_utilisation"} & set(newcomer.reasons)
    # a few days late last month scores below never late (the rest equal)
    base = dict.fromkeys(names, 0) | {"months_since_overdue": 99_999} if "months_since_overdue" in names else {}
    base = dict.fromkeys(names, 0) | base
    late = base | {k: v for k, v in {"worst_dpd_3m": 5, "worst_dpd_6m": 5, "below_minimum_share_6m": 200}.items()}
    late = {k: v for k, v in late.items() if k in names}
    assert card.score(late).score < card.score(base).score
    # held-out style figures: AUC above chance for the card; calibration counts every row
    metrics = training.evaluate(card, df, "bad")
    assert metrics.auc > 0.7
    scores = training.score_frame(card, df)
    bands = training.calibration_by_band(scores, df["bad"].to_numpy())
    assert sum(b["n"] for b in bands) == len(df) and sum(b["bad"] for b in bands) == int(df["bad"].sum())
    dims = training.dimension_metrics(card, df, "bad")
    assert all(m.auc > 0.5 for m in dims.values())  # every dimension ranks the right way round


def test_the_worst_delay_rule_and_the_forbidden_columns():
    df = pd.DataFrame({"PAY_0": [0, 2, -1, 1], "PAY_2": [0, 0, -1, 3], "y": [0, 1, 0, 1]})
    assert training.worst_delay_metrics(df, "y", ["PAY_0", "PAY_2"]).auc == 1.0
    assert {"SEX", "MARRIAGE", "AGE"} <= training.FORBIDDEN_COLUMNS


@pytest.mark.slow
def test_neutral_missing_bins_and_risk_trends_are_the_fits_constraints():
    """``neutral_missing``: an unknown value earns the book's average (0 points), whatever the few
    unknown training rows did; ``trends``: a feature is binned only the way round the risk must go,
    so data that say the opposite leave it flat (and it is dropped)."""
    rng = np.random.default_rng(11)
    n = 3000
    dpd = rng.choice([0, 0, 0, 0, 3, 10, 40], n).astype(float)
    noise = rng.integers(0, 1000, n).astype(float)
    bad = (rng.random(n) < 0.05 + 0.5 * (dpd > 5)).astype(int)
    dpd[:150] = np.nan  # the unknown rows: mostly bad, on purpose
    bad[:150] = (rng.random(150) < 0.8).astype(int)
    # a feature the data say lowers risk as it grows, declared as raising it
    safer = np.where(bad == 1, rng.integers(0, 300, n), rng.integers(200, 1000, n)).astype(float)
    df = pd.DataFrame({"worst_dpd_3m": dpd, "utilisation_trend": safer, "noise_x": noise, "bad": bad})

    measured = fit_scorecard(df, "bad", ["worst_dpd_3m"], seed=1)
    f = measured.feature("worst_dpd_3m")
    assert f.points[f.missing_index] < 0  # by default the unknown rows' WOE (mostly bad) is kept
    card = fit_scorecard(
        df, "bad", ["worst_dpd_3m", "utilisation_trend"], seed=1, neutral_missing=True,
        trends={"worst_dpd_3m": "ascending", "utilisation_trend": "ascending"},
    )  # fmt: skip
    f = card.feature("worst_dpd_3m")
    assert f.points[f.missing_index] == 0 and f.worst_points < 0 < f.best_points
    present = [p for b, p in zip(f.bins, f.points) if b.kind == "interval"]
    assert present == sorted(present, reverse=True)  # more days past due, fewer points
    assert "utilisation_trend" not in {g.name for g in card.features}  # data against the declared trend
    unconstrained = fit_scorecard(df, "bad", ["utilisation_trend"], seed=1)
    g = unconstrained.feature("utilisation_trend")
    present = [p for b, p in zip(g.bins, g.points) if b.kind == "interval"]
    assert present == sorted(present) and g.spread > 0  # left to the data, it ranks the other way
