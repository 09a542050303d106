"""The simulation's pure parts: seeded draws, profiles as data, the population, the report's
arithmetic and the policy comparison. No database."""

from __future__ import annotations

import datetime as dt
import random
from collections import Counter
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from huabei.config import ProductTerms
from huabei.scoring import service as scoring
from huabei.simulation.compare import compare_reports, policy_terms
from huabei.simulation.engine import DEFAULT_START, RunSpec
from huabei.simulation.faults import FaultPlan
from huabei.simulation.population import build_population, calendar
from huabei.simulation.profiles import (
    DEFAULT_MIX,
    DEFAULT_PROFILES,
    PopulationConfig,
    population_from_dict,
)
from huabei.simulation.report import dumps, percent
from huabei.simulation.rng import (
    apportion,
    between,
    chance,
    count_from_per_mille,
    derive,
    jitter,
    pick_weighted,
)

TERMS = ProductTerms()


# --- seeded draws ----------------------------------------------------------------------


def test_a_generator_depends_only_on_what_it_is_for():
    a = derive(7, "day", dt.date(2026, 11, 11), "sim7-0000001")
    b = derive(7, "day", dt.date(2026, 11, 11), "sim7-0000001")
    assert [a.random() for _ in range(5)] == [b.random() for _ in range(5)]
    c = derive(7, "day", dt.date(2026, 11, 11), "sim7-0000002")
    d = derive(8, "day", dt.date(2026, 11, 11), "sim7-0000001")
    first = derive(7, "day", dt.date(2026, 11, 11), "sim7-0000001").random()
    assert c.random() != first and d.random() != first


@given(st.integers(0, 10_000), st.dictionaries(st.sampled_from("abcdefg"), st.integers(0, 50), min_size=1))
def test_apportion_gives_exactly_the_population(total, weights):
    if sum(weights.values()) == 0:
        with pytest.raises(ValueError):
            apportion(total, weights)
        return
    counts = apportion(total, weights)
    assert sum(counts.values()) == total
    wsum = sum(weights.values())
    for k, n in counts.items():
        assert abs(n - total * weights[k] / wsum) < 1  # within one of the exact share


@given(st.integers(1, 10**9), st.integers(0, 90), st.integers(0, 2**32))
def test_amounts_are_whole_fen_within_the_jitter(amount, pct, seed):
    r = random.Random(seed)
    x = jitter(r, amount, pct)
    assert isinstance(x, int)
    spread = amount * pct // 100
    assert amount - spread <= x <= amount + spread


def test_integer_probabilities_and_counts():
    r = random.Random(1)
    assert not chance(r, 0) and chance(r, 1000)
    hits = sum(chance(r, 250) for _ in range(20_000))
    assert 4_500 < hits < 5_500
    counts = [count_from_per_mille(r, 2_300) for _ in range(10_000)]
    assert set(counts) == {2, 3} and 2_700 < sum(counts) - 20_000 < 3_300
    assert between(r, (4, 4)) == 4
    assert pick_weighted(r, [("only", 3)]) == "only"
    with pytest.raises(ValueError):
        pick_weighted(r, [("x", 0)])


# --- profiles as data ------------------------------------------------------------------


def test_the_default_profiles_cover_the_issue():
    assert set(DEFAULT_PROFILES) == {
        "transactor",
        "revolver",
        "installment_user",
        "occasionally_late",
        "chronically_delinquent",
        "dormant",
        # the fraud profiles with ground truth (issue 15): what the risk rules should catch
        "cash_out_ring",
        "score_brusher",
        "takeover_victim",
        "overdue_elsewhere",
    }
    assert set(DEFAULT_MIX) == set(DEFAULT_PROFILES)
    assert DEFAULT_PROFILES["transactor"].repayment.mode == "full"
    assert DEFAULT_PROFILES["revolver"].repayment.mode == "minimum"
    assert DEFAULT_PROFILES["installment_user"].installments.bill_conversion_per_mille > 0
    assert DEFAULT_PROFILES["occasionally_late"].repayment.late_per_mille > 0
    assert DEFAULT_PROFILES["chronically_delinquent"].repayment.stop_after_bills is not None
    assert DEFAULT_PROFILES["dormant"].spend.purchases_per_year < 12
    spend = DEFAULT_PROFILES["transactor"].spend
    assert spend.peak_days["11-11"] > 100 and len(spend.monthly_percent) == 12
    assert all(isinstance(a, int) for a, _ in spend.price_points)


def test_a_yaml_override_merges_into_the_defaults():
    cfg = population_from_dict(
        {
            "mix": {"transactor": 3, "gambler": 1},
            "profiles": {
                "transactor": {"spend": {"purchases_per_year": 12}},
                "gambler": {"description": "new", "repayment": {"mode": "minimum"}},
            },
        }
    )
    assert cfg.profiles["transactor"].spend.purchases_per_year == 12
    assert cfg.profiles["transactor"].repayment.mode == "full"  # untouched
    assert cfg.profiles["transactor"].spend.price_points == DEFAULT_PROFILES["transactor"].spend.price_points
    assert cfg.profiles["gambler"].repayment.mode == "minimum"
    assert cfg.mix == {"transactor": 3, "gambler": 1}


@pytest.mark.parametrize(
    "bad",
    [
        {"mix": {"nobody": 1}},
        {"profiles": {"transactor": {"spend": {"purchases_per_yaer": 3}}}},
        {"profiles": {"transactor": {"spend": {"monthly_percent": [100] * 11}}}},
        {"profiles": {"transactor": {"spend": {"peak_days": {"11/11": 600}}}}},
        {"profiles": {"transactor": {"spend": {"price_points": [[0, 1]]}}}},
        {"profiles": {"revolver": {"repayment": {"mode": "sometimes"}}}},
        {"mix": {"transactor": 0}},
    ],
)
def test_a_bad_override_is_refused(bad):
    with pytest.raises(ValueError):
        population_from_dict(bad)


# --- the population --------------------------------------------------------------------


def test_the_population_is_deterministic_and_follows_the_mix():
    cfg = PopulationConfig()
    days = len(calendar(DEFAULT_START, 3))
    a = build_population(11, 500, days, cfg, TERMS)
    b = build_population(11, 500, days, cfg, TERMS)
    assert a == b
    assert [u.user_id for u in a] == sorted(u.user_id for u in a)
    assert Counter(u.profile for u in a) == Counter(apportion(500, cfg.mix))
    assert all(1 <= u.arrival_day <= days for u in a)
    early = sum(u.arrival_day <= cfg.initial_window_days for u in a)
    assert early >= 500 * cfg.initial_share_percent // 100 - 50
    lt = TERMS.limits
    assert all(
        lt.min_base_limit <= u.operator_limit <= lt.max_base_limit and u.operator_limit % lt.limit_step == 0 for u in a
    )
    c = build_population(12, 500, days, cfg, TERMS)
    assert [u.profile for u in c] != [u.profile for u in a]


def test_the_population_does_not_depend_on_the_order_of_the_mix():
    days = 90
    mix = dict(DEFAULT_MIX)
    reordered = dict(reversed(list(mix.items())))
    a = build_population(3, 200, days, PopulationConfig(mix=mix), TERMS)
    b = build_population(3, 200, days, PopulationConfig(mix=reordered), TERMS)
    assert a == b


def test_generated_facts_are_facts_the_score_accepts():
    for u in build_population(5, 300, 60, PopulationConfig(), TERMS):
        scoring.validate_facts({k: v for k, v in u.facts.items() if v is not None})


def test_the_calendar_runs_whole_months():
    days = calendar(dt.date(2026, 1, 1), 2)
    assert days[0] == dt.date(2026, 1, 1) and days[-1] == dt.date(2026, 2, 28) and len(days) == 59
    assert calendar(dt.date(2027, 12, 15), 1)[-1] == dt.date(2028, 1, 14)


# --- run spec, faults, report arithmetic ------------------------------------------------


def test_the_replay_command_names_everything_that_decides_the_run():
    spec = RunSpec(
        users=300,
        months=3,
        seed=9,
        start=dt.date(2026, 10, 1),
        policy_path="p.yaml",
        population_path="mix.yaml",
        faults_flag=True,
        faults=FaultPlan.default(),
    )
    assert spec.replay_command(42) == (
        "huabei simulate --users 300 --months 3 --seed 9 --start 2026-10-01 "
        "--policy p.yaml --population mix.yaml --faults --until-day 42"
    )
    assert (
        RunSpec(users=1, months=1, seed=0).replay_command(1)
        == "huabei simulate --users 1 --months 1 --seed 0 --until-day 1"
    )


def test_fault_plans():
    assert not FaultPlan().active and FaultPlan.default().active
    t = FaultPlan.transparent()
    assert t.retry_per_mille and t.eod_crash_per_mille and not t.burst_per_mille and not t.skip_days_per_mille


def test_percent_is_exact_decimal_arithmetic():
    assert percent(1, 3) == "33.33" and percent(2, 3) == "66.67" and percent(0, 0) == "0.00"
    assert percent(1, 8) == "12.50"  # half-up: 12.5 exactly


def test_the_json_is_canonical():
    assert (
        dumps({"b": 1, "a": {"z": "就", "y": [2, 1]}})
        == '{\n  "a": {\n    "y": [\n      2,\n      1\n    ],\n    "z": "就"\n  },\n  "b": 1\n}\n'
    )


def _month(volume: int, util: str, declined: int, dpd90: int) -> dict:
    buckets = {
        b: {"accounts": 0, "balance_fen": 0} for b in ("current", "dpd_1_30", "dpd_31_60", "dpd_61_90", "dpd_90_plus")
    }
    buckets["dpd_90_plus"]["balance_fen"] = dpd90
    return {
        "month": "2026-11",
        "accounts": {"opened": 10, "open": 10},
        "activity": {"open_declined:not_eligible": declined},
        "limits": {"total_fen": 100, "used_fen": 50, "utilisation_percent": util},
        "purchases": {"count": 3, "volume_fen": volume, "declined": 0},
        "repayments": {"volume_fen": 0},
        "revenue_fen": {"installment_fees": 0, "interest": 1, "penalty_interest": 2, "total": 3},
        "delinquency": buckets,
        "limit_changes": {"raises": 0, "cuts": 1},
        "scores": {"good": 4, "poor": 1},
    }


def test_the_comparison_sets_figures_side_by_side_with_differences():
    a = {"run": {"policy_fingerprint": "a"}, "months": [_month(1000, "50.00", 2, 10)]}
    b = {"run": {"policy_fingerprint": "b"}, "months": [_month(700, "37.25", 5, 0)]}
    out = compare_reports(["t600", "t650"], [a, b])
    run = out["run"]
    assert run["purchase_volume"] == {"kind": "fen", "values": [1000, 700], "differences": [-300]}
    assert run["accounts_declined"]["differences"] == [3]
    assert run["utilisation_percent"]["differences"] == ["-12.75"]
    assert run["balance_dpd_90_plus"]["values"] == [10, 0]
    assert run["scores_600_plus"]["values"] == [4, 4]
    assert out["months"][0]["metrics"]["purchase_volume"]["differences"] == [-300]


def test_a_policy_file_overrides_the_terms(tmp_path):
    f = tmp_path / "p.yaml"
    f.write_text('scoring: {opening_threshold: 650}\nbilling: {minimum_repayment_rate: "0.15"}\n')
    terms = policy_terms(TERMS, f)
    assert terms.scoring.opening_threshold == 650
    assert terms.billing.minimum_repayment_rate == Decimal("0.15")
    assert terms.billing.statement_day == TERMS.billing.statement_day  # the rest untouched
    f.write_text("scoring: {opening_treshold: 650}\n")
    with pytest.raises(ValueError):
        policy_terms(TERMS, f)
