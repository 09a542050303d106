"""``huabei score …``, ``huabei limits …``, ``huabei campaigns …`` invoked through their Typer apps."""

from __future__ import annotations

import json
import re

import numpy as np
import pandas as pd
from tests.conftest import new_account
from typer.testing import CliRunner

from huabei.entrypoints.cli.scoring import campaigns_app, limits_app, score_app
from huabei.lines import service as accounts
from huabei.scoring.scorecard import Scorecard

runner = CliRunner()
LAST_LINE = re.compile(r"^AUC=0\.\d{3} KS=0\.\d{3}$")


def run(app, *args: str, code: int = 0) -> str:
    r = runner.invoke(app, list(args))
    assert r.exit_code == code, r.output
    return r.output


def test_validate_prints_auc_and_ks_last():
    out = run(score_app, "validate").strip().splitlines()
    assert LAST_LINE.match(out[-1]), out[-1]
    auc = float(out[-1].split()[0].split("=")[1])
    assert auc >= 0.79  # at least the plain logistic baseline on the same split (0.794)


def test_train_writes_a_card_that_loads(tmp_path):
    rng = np.random.default_rng(7)
    n = 800
    df = pd.DataFrame(
        {
            "payments_90d": rng.integers(0, 60, n),
            "max_days_overdue_12m": rng.integers(0, 90, n),
            "assets": rng.integers(0, 5_000_000, n),
        }
    )
    risk = 0.03 * df["max_days_overdue_12m"] - 0.05 * df["payments_90d"] + rng.normal(0, 1, n)
    df["label"] = (risk > np.quantile(risk, 0.7)).astype(int)
    data = tmp_path / "train.csv"
    df.to_csv(data, index=False)
    card_path = tmp_path / "card.json"
    out = run(score_app, "train", str(data), "--out", str(card_path)).strip().splitlines()
    assert LAST_LINE.match(out[-1])
    card = Scorecard.from_dict(json.loads(card_path.read_text()), require_all_dimensions=False)
    assert card.version.startswith("fit-") and {f.name for f in card.features} <= set(df.columns)
    assert "no target column" in run(score_app, "train", str(data), "--target", "bad", code=2)
    assert run(score_app, "train", str(tmp_path / "missing.csv"), code=2)
    assert run(score_app, "train", code=2)  # neither a table nor --from-book


def test_train_from_book_refuses_what_it_cannot_read(system, db_url):
    new_account(system, base_limit=100_000)
    db = ["--db", db_url]
    assert "--as-of" in run(score_app, "train", "--from-book", *db, code=2)
    # the horizon has not passed: nothing to learn from yet (a clear refusal, not a crash)
    assert "horizon" in run(score_app, "train", "--from-book", "--as-of", "2026-11-02", "--horizon", "3", *db, code=2)


def test_operator_commands(system, db_url):
    db = ["--db", db_url]
    acct = new_account(system, base_limit=100_000, user_id="u1")
    out = run(
        score_app,
        "set-facts",
        "u1",
        "monthly_income=12000.00",
        "income_verified=true",
        "assets=50000",
        "credit_authorised=true",
        "education=bachelor",
        *db,
    )
    assert "monthly_income" in out
    run(score_app, "set-facts", "u1", "payments_90d=3", *db, code=2)
    run(score_app, "set-facts", "u1", "assets=12.345", *db, code=2)
    assert "12000.00" in run(score_app, "facts", "u1", *db)
    run(score_app, "refresh", "--user", "u1", *db)
    assert "scored 1 users" in run(score_app, "refresh", *db)
    shown = run(score_app, "show", "u1", *db)
    assert "信用历史" in shown and "credit_history" in shown
    assert json.loads(run(score_app, "show", "u1", "--json", *db))["user_id"] == "u1"
    assert len(json.loads(run(score_app, "history", "u1", "--json", *db))["data"]) == 2
    psi = json.loads(run(score_app, "psi", "--from", "2026-11-02", "--to", "2026-11-02", "--json", *db))
    assert psi["psi"] == "0.0000"
    run(score_app, "psi", "--from", "2026-11-01", "--to", "2026-11-02", *db, code=3)
    run(score_app, "show", "nobody", *db, code=4)

    applied = json.loads(run(limits_app, "apply", str(acct), "--json", *db))
    assert applied["decision"] in ("approved", "declined") and re.match(r"^\d+\.\d\d$", applied["new_limit"])
    assert "too_frequent" in run(limits_app, "apply", str(acct), *db)
    assert "account_opened" in run(limits_app, "changes", str(acct), "--json", *db)
    run(limits_app, "changes", str(acct), *db)
    assert "proposed_limit" in run(limits_app, "evaluate", str(acct), *db)
    assert "base limit(s) changed" in run(limits_app, "review", *db)
    assert "granted 0" in run(
        limits_app, "grant-scenario", "--category", "travel", "--amount", "500", "--days", "30", *db
    )
    run(limits_app, "apply", "999", *db, code=4)

    assert "spend_challenge" in run(campaigns_app, "list", *db)
    run(campaigns_app, "enrol", str(acct), "spend_challenge", *db)
    run(campaigns_app, "enrol", str(acct), "spend_challenge", *db, code=5)
    assert "0/10" in run(campaigns_app, "progress", str(acct), *db)
    assert "0 enrolment(s) settled" in run(campaigns_app, "settle", *db)
    assert accounts.account_view(system, acct)["base_limit"] >= 100_000
