"""``huabei replay taiwan``: clients of the Taiwan table (here a few hand-made rows of its form)
lived through the real services for six months, on both databases; the replay's features follow
what the table recorded; a database that is not empty and a file that is not the table are
refused. ``evaluate`` on a synthetic replayed book."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
from typer.testing import CliRunner

from huabei.entrypoints.cli.replay import replay_app
from huabei.scoring.book_card import parse_block
from huabei.scoring.default_card import default_scorecard
from huabei.simulation import replay as rp

STATUS = ["PAY_0", "PAY_2", "PAY_3", "PAY_4", "PAY_5", "PAY_6"]


def _client(cid: int, status: int, default: int) -> dict[str, int]:
    """A client with a 40,000 NT$ limit billing 4,000 NT$ a month; ``status`` every month (−1 paid
    in full, 2 two months late paying nothing), paying the whole bill when current."""
    row = {"ID": cid, "LIMIT_BAL": 40_000, "SEX": 2, "EDUCATION": 2, "MARRIAGE": 1, "AGE": 30}
    row.update(dict.fromkeys(STATUS, status))
    row.update({f"BILL_AMT{i}": 4_000 for i in range(1, 7)})
    row.update({f"PAY_AMT{i}": 0 if status > 0 else 4_000 for i in range(1, 7)})
    row["default_next_month"] = default
    return row


def test_clients_are_replayed_through_the_product(db_url: str, tmp_path: Path) -> None:
    data = tmp_path / "clients.csv"
    pd.DataFrame([_client(2, -1, 0), _client(4, 2, 1), _client(6, -1, 0)]).to_csv(data, index=False)
    out = tmp_path / "replay.csv"
    runner = CliRunner()
    args = ["taiwan", "--data", str(data), "--clients", "3", "--db", db_url, "--out", str(out), "--json"]
    r = runner.invoke(replay_app, args)
    assert r.exit_code == 0, r.output
    run = json.loads(r.output)["run"]
    assert run["clients"] == 3 and run["operations"] > 0 and len(run["load_average_before"]) == 3
    df = pd.read_csv(out).set_index("ID")
    # the payer stays current; the client the bank recorded late is overdue in the product too
    assert df.loc[2, "dpd_now"] == 0 and df.loc[2, "worst_dpd_6m"] == 0
    assert df.loc[4, "dpd_now"] > 30 and df.loc[4, "shipped_score"] < df.loc[2, "shipped_score"]
    assert {"default_next_month", "paid_in_full_share_6m", "shipped_credit_history"} <= set(df.columns)
    # the repayment record as the card reads it, and the application-time points, for the fit
    assert df.loc[4, "max_days_overdue_12m"] > 30 and df.loc[2, "max_days_overdue_12m"] == 0
    assert df.loc[2, "on_time_repayment_ratio"] == 1000 and df.loc[4, "overdue_episodes_12m"] >= 1
    assert df.loc[2, "application_identity"] == df.loc[4, "application_identity"] > 0
    # the same database again: not empty, refused; a file that is not the table: refused
    again = runner.invoke(replay_app, args)
    assert again.exit_code == 2 and "empty" in " ".join(again.output.split())
    bad = tmp_path / "bad.csv"
    bad.write_text("a,b\n1,2\n")
    r = runner.invoke(replay_app, ["taiwan", "--data", str(bad), "--clients", "1"])
    assert r.exit_code == 2 and "not the Taiwan credit-default table" in " ".join(r.output.split())


def _synthetic_book(n: int = 600) -> pd.DataFrame:
    rng = np.random.default_rng(3)
    worst = rng.integers(-1, 4, n)
    df = pd.DataFrame({"ID": range(n), "LIMIT_BAL": rng.integers(1, 50, n) * 10_000, "EDUCATION": 2})
    for i, s in enumerate(STATUS):
        df[s] = np.clip(worst - (i % 2), -2, 8)
    for i in range(1, 7):
        df[f"BILL_AMT{i}"] = rng.integers(0, 50_000, n)
        df[f"PAY_AMT{i}"] = rng.integers(0, 5_000, n)
    df["default_next_month"] = (rng.random(n) < 0.05 + 0.5 * (worst > 0)).astype(int)
    df["bills_due_6m"] = 6
    df["dpd_now"] = np.where(worst > 0, worst * 30, 0)
    for name in ("worst_dpd_3m", "worst_dpd_6m"):
        df[name] = df["dpd_now"] + rng.integers(0, 5, n)
    df["months_since_overdue"] = np.where(worst > 0, 0, 99999)
    df["paid_in_full_share_6m"] = np.where(worst > 0, 0, 1000)
    df["below_minimum_share_6m"] = np.where(worst > 0, 500, 0)
    df["repaid_share_last_bill"] = np.where(worst > 0, 100, 1000)
    df["minimum_only_share_6m"] = 0
    df["revolving_months_12m"] = 0
    df["temp_limit_statements_12m"] = 0
    df["utilisation_last_statement"] = rng.integers(0, 1000, n)
    df["utilisation_trend"] = rng.integers(-100, 100, n)
    df["shipped_score"] = np.where(worst > 0, 500, 650) + rng.integers(0, 50, n)
    df["shipped_credit_history"] = np.where(worst > 0, 50, 150)
    df["on_time_repayment_ratio"] = np.where(worst > 0, 500, 1000)
    df["max_days_overdue_12m"] = df["worst_dpd_6m"]
    df["overdue_episodes_12m"] = (worst > 0).astype(int)
    df["utilisation_ratio"] = df["utilisation_last_statement"]
    for d in ("credit_history", "behaviour", "capacity", "identity", "connections"):
        df[f"application_{d}"] = 40
    return df


def test_the_evaluation_sets_the_models_side_by_side_on_the_same_clients() -> None:
    n = 600
    df = _synthetic_book(n)
    out, card = rp.evaluate(df, seed=1)
    assert out["clients"] == n and out["held_out"] == 180
    names = set(out["auc"])
    assert {"worst-delay rule (raw table)", "fitted behavioural card", "shipped card (replayed facts)"} <= names
    assert out["auc"]["fitted behavioural card"] > 0.6  # the delay drives default: the fitted card sees it
    assert sum(b["n"] for b in out["calibration_held_out"]) == 180
    assert all(f[0] not in ("SEX", "AGE", "MARRIAGE") for f in out["card_features"])
    assert card.features


def test_the_shipped_block_is_fitted_on_one_part_and_measured_on_the_other() -> None:
    """``bench/ship_card.py``: training clients ID ≡ 2 (mod 4), held out ID ≡ 0 (mod 4); the block's
    missing bins are neutral; the side-by-side of one run names every model on the same clients."""
    df = _synthetic_book(1200)
    df["ID"] = np.arange(len(df)) * 2
    train, test = rp.split_by_id(df)
    assert set(train["ID"] % 4) == {2} and set(test["ID"] % 4) == {0} and len(train) + len(test) == len(df)
    block = rp.fit_block(train, seed=1)
    assert block.card.features and block.fitted_on["training_clients"] == len(train)
    for f in block.card.features:
        assert f.points[f.missing_index] == 0 and f.spread > 0
        assert f.reason_if_missing in ("no_repayment_record", "no_statement_yet")
    again = parse_block(block.to_yaml())
    assert again.card == block.card
    out = rp.compare(train, test, block)
    assert out["held_out_clients"] == len(test)
    names = set(out["auc"])
    assert {
        "worst-delay rule (raw table)",
        "logistic regression (raw columns, no sex/age/marriage)",
        "hand-set card (before)",
        "default card (fitted block)",
        "default card: credit_history alone",
    } <= names
    assert out["auc"]["default card (fitted block)"] > 0.6
    assert "default card: identity alone" not in names  # constant on these clients: ranks nobody
    # the product's scores: the application-time points plus the fitted features
    card = default_scorecard(block=block)
    scores, dims = rp.product_scores(card, test)
    assert (dims["identity"] == 40).all()
    assert (scores == np.clip(card.intercept + sum(dims.values()), 350, 950)).all()
