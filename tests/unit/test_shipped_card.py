"""The card that ships: application-time features hand-set, repayment behaviour fitted on real card
holders replayed through the product (src/huabei/scoring/cards/book-behaviour.yaml).

Each fitted feature ranks the right way round; a few days late last month ranks below never late, a
revolver below a full payer, a recent overdue below an old one; a user with no repayment record
scores exactly as under the hand-set card (first openings are decided as before) and is never told
a claim of behaviour the data do not show."""

from __future__ import annotations

from decimal import Decimal

import numpy as np
import pytest
import yaml

from huabei.config import ScoringTerms
from huabei.risk.catalog import NEVER_DAYS
from huabei.scoring.book_card import BOOK_CANDIDATES, BOOK_CARD_FILE, BOOK_FACTS, RISK_TRENDS, parse_block
from huabei.scoring.default_card import DEFAULT_SCORECARD, default_scorecard, hand_set_scorecard
from huabei.scoring.facts import BEHAVIOUR_FACT_SPECS, FACTS
from huabei.scoring.scorecard import ScorecardError

CARD = DEFAULT_SCORECARD
HAND = hand_set_scorecard()
BLOCK = parse_block(BOOK_CARD_FILE.read_text(encoding="utf-8"))
FITTED = [f for f in CARD.features if f.name in BOOK_CANDIDATES]

#: Claims of behaviour (see tests/unit/test_scorecard.py): a missing value may never cite one.
CLAIMS_OF_BEHAVIOUR = {"late_repayments", "recent_overdue", "high_utilisation"}

#: An applicant at the opening: real name, some activity in the app, no line, no bill.
APPLICANT = {
    "real_name_verified": True,
    "id_document_valid": True,
    "bank_card_bound": True,
    "credit_history_months": 0,
    "raise_applications_90d": 0,
    "payments_90d": 20,
    "active_days_90d": 20,
    "offline_payment_share": 300,
    "merchant_categories_90d": 3,
    "assets": 500_000,
}

#: A line's record when every bill was repaid in full on time (two bills due).
FULL_PAYER = {
    "on_time_repayment_ratio": 1000,
    "max_days_overdue_12m": 0,
    "overdue_episodes_12m": 0,
    "utilisation_ratio": 200,
    "dpd_now": 0,
    "worst_dpd_3m": 0,
    "worst_dpd_6m": 0,
    "months_since_overdue": NEVER_DAYS,
    "paid_in_full_share_6m": 1000,
    "below_minimum_share_6m": 0,
    "repaid_share_last_bill": 1000,
    "minimum_only_share_6m": 0,
    "revolving_months_12m": 0,
    "temp_limit_statements_12m": 0,
    "utilisation_last_statement": 200,
    "utilisation_trend": 0,
}


def score(**facts) -> int:
    return CARD.score({**APPLICANT, **facts}).score


def test_the_shipped_block_is_fitted_data_with_where_it_comes_from():
    raw = yaml.safe_load(BOOK_CARD_FILE.read_text(encoding="utf-8"))
    fitted_on = raw["fitted_on"]
    assert fitted_on["training_clients"] > 500 and "ID ≡ 2 (mod 4)" in fitted_on["clients"]
    held = fitted_on["held_out"]["auc"]
    assert held["default card (fitted block)"] > held["worst-delay rule (raw table)"]
    assert held["default card (fitted block)"] >= held["logistic regression (raw columns, no sex/age/marriage)"]
    assert FITTED and all(f.name in BOOK_CANDIDATES for f in BLOCK.card.features)
    assert [f.name for f in FITTED] == [f.name for f in BLOCK.card.features]
    # the card keeps the five dimensions; the hand-set repayment-record bins are gone
    assert not CARD.missing_dimensions()
    for f in HAND.features:
        if f.name not in BOOK_FACTS:
            assert CARD.feature(f.name) == f  # application-time features untouched
    assert CARD.version.startswith("default-") and CARD.version != HAND.version.replace("hand-set-", "default-")


def test_a_block_that_is_not_the_book_or_not_neutral_is_refused():
    raw = yaml.safe_load(BOOK_CARD_FILE.read_text(encoding="utf-8"))
    feature = raw["card"]["features"][0]
    missing = next(b for b in feature["bins"] if b.get("missing"))
    missing["points"] = missing["points"] - 5
    with pytest.raises(ScorecardError, match="neutral"):
        parse_block(yaml.safe_dump(raw))
    raw = yaml.safe_load(BOOK_CARD_FILE.read_text(encoding="utf-8"))
    raw["card"]["features"][0]["name"] = "monthly_income"
    with pytest.raises(ScorecardError, match="not a fact of the book"):
        parse_block(yaml.safe_dump(raw))


@pytest.mark.parametrize("name", [f.name for f in FITTED])
def test_each_fitted_feature_ranks_the_right_way_round(name):
    f = CARD.feature(name)
    present = [(b.lo if b.lo is not None else -(10**9), p) for b, p in zip(f.bins, f.points) if b.kind == "interval"]
    points = [p for _, p in sorted(present)]
    steps = np.diff(points) * (-1 if RISK_TRENDS[name] == "ascending" else 1)  # more risk, fewer points
    assert (steps >= 0).all(), (name, points)
    assert f.spread > 0


@pytest.mark.parametrize("name", [f.name for f in FITTED])
def test_missing_behaviour_is_neutral_and_says_so(name):
    f = CARD.feature(name)
    missing = f.points[f.missing_index]
    assert f.worst_points <= missing <= f.best_points
    if missing < f.best_points:
        assert f.reason_if_missing in {"no_repayment_record", "no_statement_yet"}


def test_first_openings_score_exactly_as_under_the_hand_set_card():
    rng = np.random.default_rng(5)
    application = [s for s in FACTS if s.name not in BOOK_FACTS]
    for _ in range(300):
        row = {}
        for spec in application:
            if rng.random() < 0.3:
                row[spec.name] = None
            elif spec.type is bool:
                row[spec.name] = bool(rng.random() < 0.7)
            elif spec.type is str:
                row[spec.name] = str(rng.choice(spec.values))
            else:
                row[spec.name] = int(rng.integers(spec.minimum or 0, (spec.maximum or 2_000) + 1))
        new, old = CARD.score(row), HAND.score(row)
        assert new.score == old.score, row
        assert not set(new.reasons) & CLAIMS_OF_BEHAVIOUR
    assert CARD.score(APPLICANT).score == HAND.score(APPLICANT).score


def test_a_few_days_late_last_month_ranks_below_never_late():
    late = {
        **FULL_PAYER,
        "on_time_repayment_ratio": 500,
        "max_days_overdue_12m": 5,
        "overdue_episodes_12m": 1,
        "worst_dpd_3m": 5,
        "worst_dpd_6m": 5,
        "months_since_overdue": 0,
        "paid_in_full_share_6m": 500,
        "below_minimum_share_6m": 500,
    }
    assert score(**late) < score(**FULL_PAYER)
    reasons = CARD.score({**APPLICANT, **late}).reasons
    assert set(reasons) & {"recent_overdue", "late_repayments"}
    assert "no_repayment_record" not in reasons


def test_a_revolver_never_ranks_above_a_full_payer():
    """On the replayed book, paying only the minimum adds no risk once the record is known (the fit
    leaves revolving months and minimum-only shares flat); carrying the balance near the limit does
    (utilisation ≥ 88.6 %, the book's cut), and so does leaving the last bill almost unpaid."""
    revolver = {
        **FULL_PAYER,
        "paid_in_full_share_6m": 0,
        "minimum_only_share_6m": 1000,
        "revolving_months_12m": 2,
        "repaid_share_last_bill": 150,
        "utilisation_ratio": 700,
        "utilisation_last_statement": 650,
        "utilisation_trend": 300,
    }
    assert score(**revolver) <= score(**FULL_PAYER)
    assert score(**{**revolver, "utilisation_ratio": 950, "utilisation_last_statement": 950}) < score(**FULL_PAYER)
    assert score(**{**revolver, "repaid_share_last_bill": 20}) < score(**revolver)


def test_a_recent_overdue_weighs_more_than_an_old_one():
    """The same worst delay in the last 12 months: last month's costs more than five months ago's."""
    old = {**FULL_PAYER, "max_days_overdue_12m": 20, "overdue_episodes_12m": 1, "on_time_repayment_ratio": 800}
    old |= {"worst_dpd_6m": 20, "months_since_overdue": 5}
    recent = {**old, "worst_dpd_3m": 20, "months_since_overdue": 0, "repaid_share_last_bill": 0}
    recent |= {"below_minimum_share_6m": 200, "paid_in_full_share_6m": 800}
    old |= {"below_minimum_share_6m": 200, "paid_in_full_share_6m": 800}
    assert score(**recent) < score(**old) < score(**FULL_PAYER)


def test_overdue_now_is_worst_and_the_score_falls_with_the_delay():
    scores = [score(**{**FULL_PAYER, "dpd_now": d, "worst_dpd_3m": d, "worst_dpd_6m": d, "max_days_overdue_12m": d,
                       "overdue_episodes_12m": 1, "months_since_overdue": 0, "repaid_share_last_bill": 0,
                       "below_minimum_share_6m": 500, "paid_in_full_share_6m": 500, "on_time_repayment_ratio": 500})
              for d in (0, 10, 40, 100)]  # fmt: skip
    assert scores == sorted(scores, reverse=True) and scores[0] > scores[-1]


def test_the_hand_set_card_is_still_built_from_the_weights():
    assert HAND.dimension_spreads() == {
        "credit_history": 210,
        "behaviour": 150,
        "capacity": 120,
        "identity": 90,
        "connections": 30,
    }
    assert default_scorecard(block=None) == HAND
    weights = {**ScoringTerms().weights, "credit_history": Decimal("0.40"), "behaviour": Decimal("0.20")}
    other = default_scorecard(ScoringTerms(weights=weights))
    assert other.version != CARD.version
    for f in CARD.features:  # the weights scale the fitted points; the bins are the book's
        if f.name in BOOK_CANDIDATES:
            assert other.feature(f.name).bins == f.bins
    assert other.dimension_spreads()["behaviour"] < CARD.dimension_spreads()["behaviour"]
    assert all(f.name in BEHAVIOUR_FACT_SPECS or f.name in BOOK_FACTS for f in FITTED)


def _evidence(row: dict, code: str) -> bool:
    """What the facts must show for ``code`` to be true."""
    v = {k: x for k, x in row.items() if x is not None}
    if code == "recent_overdue":  # "You had an overdue repayment in the last 12 months."
        return (
            any(v.get(k, 0) > 0 for k in ("dpd_now", "worst_dpd_3m", "worst_dpd_6m", "max_days_overdue_12m"))
            or v.get("overdue_episodes_12m", 0) > 0
            or v.get("months_since_overdue", NEVER_DAYS) < 12
        )
    if code == "late_repayments":  # "Some amounts due ... were not repaid in full by their due date."
        return (
            v.get("on_time_repayment_ratio", 1000) < 1000
            or v.get("below_minimum_share_6m", 0) > 0
            or v.get("repaid_share_last_bill", 1000) < 1000
        )
    if code == "high_utilisation":  # "You use a large share of your credit limit."
        return v.get("utilisation_ratio", 0) >= 800
    return True


def test_reasons_never_claim_what_the_record_does_not_show():
    rng = np.random.default_rng(29)
    specs = [s for s in FACTS if s.name in BOOK_CANDIDATES] + list(BEHAVIOUR_FACT_SPECS.values())
    for _ in range(2000):
        row = dict(APPLICANT)
        for spec in specs:
            if rng.random() < 0.3:
                row[spec.name] = None
            elif spec.name == "months_since_overdue":
                row[spec.name] = int(rng.choice([0, 1, 3, 11, 12, 13, 40, NEVER_DAYS]))
            else:
                row[spec.name] = int(rng.choice([0, 1, 5, 15, 16, 40, 100, 500, 885, 886, 999, 1000, 1400]))
        for code in CARD.score(row).reasons:
            assert _evidence(row, code), (code, row)
    # an overdue longer ago than the 12 months the reason speaks of earns the best bin
    f = CARD.feature("months_since_overdue")
    assert all(f.points_for(m) == f.best_points for m in (12, 13, 40, NEVER_DAYS))
