"""Fraud schemes in the simulation: the ground truth it records, each risk rule's precision and
recall against it in the report, and two risk policies compared on the same simulated book."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import yaml

from huabei.config import ProductTerms
from huabei.platform.db import make_engine
from huabei.platform.unit_of_work import ClockMode, Huabei
from huabei.risk.service import DEFAULT_POLICY
from huabei.simulation import RunSpec, Simulator
from huabei.simulation.profiles import population_from_dict
from huabei.simulation.report import risk_section

#: Honest transactors beside the four schemes, each scheme starting in the line's first days.
FRAUD_MIX = {
    "mix": {"transactor": 4, "cash_out_ring": 3, "score_brusher": 3, "takeover_victim": 3, "overdue_elsewhere": 3},
    "activity_percent": 40,
    "profiles": {
        **{
            name: {"fraud": {"starts_after_days": [1, 6]}}
            for name in ("cash_out_ring", "takeover_victim", "overdue_elsewhere")
        },
        "score_brusher": {"fraud": {"starts_after_days": [1, 6], "bursts_per_month_per_mille": 1000}},
    },
}


def test_precision_and_recall_count_users_against_the_truth() -> None:
    out = risk_section(
        "v1",
        [("r_a", "cash_out_suspected"), ("r_b", "cash_out_suspected"), ("r_s", "score_below_threshold")],
        [(1, "r_a"), (2, "r_a"), (2, "r_b"), (3, "r_s")],
        {1: "u1", 2: "u2", 3: "u3", 4: "u4"},
        {"u1": ("cash_out_suspected",), "u4": ("cash_out_suspected",), "u9": ("cash_out_suspected",)},
        ["cash_out_suspected"],
    )
    assert out["truth"] == {"cash_out_suspected": 2}  # u9 never had a line: not counted
    assert out["rules"]["r_a"] == {
        "cause": "cash_out_suspected",
        "restricted": 2,
        "true_positives": 1,
        "precision_percent": "50.00",
        "recall_percent": "50.00",
    }
    assert out["rules"]["r_b"]["precision_percent"] == "0.00" and out["rules"]["r_b"]["recall_percent"] == "0.00"
    assert out["causes"]["cash_out_suspected"]["restricted"] == 2  # users, not decisions
    # no label for the cause: nothing is claimed
    assert out["rules"]["r_s"]["precision_percent"] is None and out["rules"]["r_s"]["recall_percent"] is None


def test_the_fraud_schemes_are_lived_recorded_and_measured(db_url: str) -> None:
    system = Huabei(engine=make_engine(db_url), terms=ProductTerms(), clock_mode=ClockMode.SIMULATED)
    try:
        sim = Simulator(
            system,
            RunSpec(users=16, months=1, seed=11, start=dt.date(2026, 10, 1)),
            population_from_dict(FRAUD_MIX),
        )
        rep = sim.run()
        truth = sim.fraud.truth()
    finally:
        system.engine.dispose()
    risk = rep["risk"]
    assert risk["policy"] == "2026.11-default"
    # every scheme started for every schemer with a line, and is the truth the report counts
    for cause in ("cash_out_suspected", "score_brushing_suspected", "account_takeover_suspected"):
        assert risk["truth"][cause] >= 1, cause
        assert risk["causes"][cause]["true_positives"] >= 1, (cause, risk["causes"].get(cause))
    assert risk["truth"]["overdue_reported"] >= 1
    assert risk["rules"]["overdue_elsewhere"]["true_positives"] >= 1
    assert all(u.startswith("sim11-") for u in truth)
    # honest transactors are never taken for fraudsters
    for rule in ("cash_out_round_amounts", "score_brushing_tiny_bursts", "takeover_detail_churn"):
        m = risk["rules"][rule]
        assert m["restricted"] == m["true_positives"], (rule, m)
    acts = rep["totals"]
    assert acts["purchases"] > 0
    months = rep["months"]
    assert sum(m["activity"].get("fraud_contact_changes", 0) for m in months) >= 1
    assert sum(m["activity"].get("external_overdue_reported", 0) for m in months) >= 1


def test_two_risk_policies_compared_on_the_same_simulated_book(db_url: str, tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from huabei.entrypoints.cli.simulate import app

    strict = yaml.safe_load(DEFAULT_POLICY.read_text(encoding="utf-8"))
    strict["version"] = "2026.11-strict"
    for rule in strict["rules"]:
        if rule["id"] == "cash_out_round_amounts":
            rule["trigger"] = "round_purchases_one_merchant_30d >= 2"
    a, b = tmp_path / "default.yaml", tmp_path / "strict.yaml"
    a.write_text(DEFAULT_POLICY.read_text(encoding="utf-8"))
    b.write_text(yaml.safe_dump(strict, allow_unicode=True, sort_keys=False))
    pop = tmp_path / "pop.yaml"
    pop.write_text(yaml.safe_dump(FRAUD_MIX))
    out = tmp_path / "cmp.json"
    res = CliRunner().invoke(
        app,
        [
            "--compare",
            str(a),
            str(b),
            "--users",
            "10",
            "--months",
            "1",
            "--seed",
            "12",
            "--start",
            "2026-10-01",
            "--until-day",
            "20",
            "--population",
            str(pop),
            "--db",
            db_url,  # each policy runs on its own scratch database of this server
            "--report",
            str(out),
        ],
    )
    assert res.exit_code == 0, res.output
    assert "rules against the simulated truth" in res.output
    cmp = json.loads(out.read_text())
    risk = cmp["risk"]
    assert risk["policies"] == ["2026.11-default", "2026.11-strict"]
    row = risk["rules"]["cash_out_round_amounts"]
    assert row["restricted"][1] >= row["restricted"][0] >= 0
    assert cmp["reports"][0]["risk"]["truth"] == cmp["reports"][1]["risk"]["truth"]  # the same population


def test_a_broken_risk_policy_is_refused_before_simulating(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from huabei.entrypoints.cli.simulate import app

    bad = yaml.safe_load(DEFAULT_POLICY.read_text(encoding="utf-8"))
    bad["rules"][0]["trigger"] = "no_such_feature > 1"
    a, b = tmp_path / "default.yaml", tmp_path / "bad.yaml"
    a.write_text(DEFAULT_POLICY.read_text(encoding="utf-8"))
    b.write_text(yaml.safe_dump(bad))
    res = CliRunner().invoke(
        app, ["--compare", str(b), str(a), "--users", "2", "--months", "1", "--db", f"sqlite:///{tmp_path}/x.db"]
    )
    assert res.exit_code == 2 and "no_such_feature" in res.output


def test_the_backtest_over_the_simulated_book_reproduces_the_live_decisions_exactly(db_url: str) -> None:
    """The simulated book (fraud schemes beside honest users, inline and daily rules, re-verifications)
    replayed through the active policy gives exactly the decisions the live runs made, day by day."""
    from huabei.risk import backtest

    system = Huabei(engine=make_engine(db_url), terms=ProductTerms(), clock_mode=ClockMode.SIMULATED)
    try:
        start = dt.date(2026, 10, 1)
        Simulator(system, RunSpec(users=16, months=1, seed=11, start=start), population_from_dict(FRAUD_MIX)).run()
        with system.uow(readonly=True) as uow:
            end = uow.today()
            live = len([r for r in uow.risk_decisions.listing(mode="live", start=start, end=end) if r.run == "daily"])
        out = backtest.backtest(system, start, end)
    finally:
        system.engine.dispose()
    assert out["identical"], {k: v for k, v in out["rules"].items() if not v["same_decisions"]}
    assert out["decisions"] == out["live_decisions"] == live
    restricted = {r["cause"] for r in out["rules"].values() if r["would_restrict"]}
    assert {"cash_out_suspected", "score_brushing_suspected", "overdue_reported"} <= restricted
