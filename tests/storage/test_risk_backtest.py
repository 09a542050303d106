"""Backtest and shadow mode on both databases: replaying the live policy over the book's own
history reproduces its decisions exactly (from the first day or from any day in the middle); a
candidate policy's backtest and shadow run show what it would do, and shadow decisions are never
acted on."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import update
from tests.conftest import buy, make_system, new_account

from huabei.appeals import service as appeals
from huabei.batch import eod
from huabei.billing import service as billing
from huabei.config import default_terms
from huabei.lines import service as accounts
from huabei.payments import service as payments
from huabei.platform import schema as t
from huabei.risk import backtest
from huabei.risk import service as risk
from huabei.risk.service import DEFAULT_POLICY

D = dt.date
START = D(2026, 10, 25)


@pytest.fixture
def s(db_url):
    system = make_system(db_url, start=START)
    yield system
    system.engine.dispose()


def _book(s) -> dict[str, int]:
    ring, late, churn, three = (new_account(s, 1_000_000) for _ in range(4))
    eod.run_eod(s, until=START)
    for _ in range(5):
        buy(s, ring, 50_000, merchant="m-ring")
    for _ in range(3):
        buy(s, three, 20_000, merchant="m-three")
    for acct in (ring, three):
        payments.repay(s, acct, billing.billing_status(s, acct)["owed"], f"repay-{acct}")
    buy(s, late, 100_000)
    for device in ("a", "b", "c"):
        buy(s, churn, 1_000, device=device)
    eod.run_eod(s, until=START + dt.timedelta(days=45))
    return {"ring": ring, "late": late, "churn": churn, "three": three}


def _candidate(tmp_path) -> str:
    text = DEFAULT_POLICY.read_text(encoding="utf-8")
    text = text.replace('version: "2026.11-default"', 'version: "candidate-3"')
    text = text.replace("round_purchases_one_merchant_30d >= 5", "round_purchases_one_merchant_30d >= 3")
    path = tmp_path / "candidate.yaml"
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_the_live_policy_replayed_reproduces_its_decisions_exactly(s) -> None:
    _book(s)
    end = START + dt.timedelta(days=45)
    whole = backtest.backtest(s, START + dt.timedelta(days=1), end)
    assert whole["identical"] and whole["decisions"] == whole["live_decisions"] > 0
    rules = whole["rules"]
    assert rules["cash_out_round_amounts"]["would_restrict"] == rules["cash_out_round_amounts"]["live_restrict"] == 1
    assert rules["overdue_this_line"]["would_restrict"] == 2  # late, and churn never repaid its 30 yuan
    # from a day in the middle: what the rules held open then is where it starts
    middle = backtest.backtest(s, START + dt.timedelta(days=20), end)
    assert middle["identical"]


def test_a_candidate_in_backtest_and_in_shadow_is_never_acted_on(s, tmp_path) -> None:
    book = _book(s)
    end = START + dt.timedelta(days=45)
    candidate = risk.load_file(_candidate(tmp_path), default_terms())
    bt = backtest.backtest(s, START + dt.timedelta(days=1), end, candidate)
    row = bt["rules"]["cash_out_round_amounts"]
    assert (row["would_restrict"], row["live_restrict"], row["overlap_restrict"]) == (2, 1, 1)
    assert not bt["identical"] and row["precision"] is None and bt["labels"] is None  # no labels yet
    # in shadow beside the active policy: its decisions are recorded, never acted on
    risk.activate(s, _candidate(tmp_path), actor="alice", role="shadow")
    for _ in range(3):
        buy(s, book["three"], 30_000, merchant="m-three-again")
    payments.repay(s, book["three"], billing.billing_status(s, book["three"])["owed"], "repay-again")
    eod.run_eod(s, until=end + dt.timedelta(days=1))
    assert accounts.account_view(s, book["three"])["restrictions"] == []  # live: 3 < 5
    report = backtest.shadow_report(s)
    assert report["shadow"] == "candidate-3"
    assert report["rules"]["cash_out_round_amounts"]["would_restrict"] == 1
    assert report["rules"]["cash_out_round_amounts"]["live_restrict"] == 1  # the ring, long ago


def test_precision_and_recall_against_appeal_outcomes(s, tmp_path) -> None:
    book = _book(s)
    end = START + dt.timedelta(days=45)
    (ring,) = [r for r in accounts.account_view(s, book["ring"])["restrictions"] if r["cause"] == "cash_out_suspected"]
    filed = appeals.file_appeal(s, book["ring"], restriction_id=ring["restriction_id"], statement="不是套现")
    appeals.decide(s, filed["appeal_id"], decision="uphold", reason="同一商户整额循环", outcome="confirmed")
    candidate = risk.load_file(_candidate(tmp_path), default_terms())
    row = backtest.backtest(s, START + dt.timedelta(days=1), end, candidate)["rules"]["cash_out_round_amounts"]
    # it would restrict the ring (confirmed) and "three" (no label): 1 of 1 labelled is right
    assert (row["would_restrict"], row["labelled"], row["precision"], row["recall"]) == (2, 1, 1.0, 1.0)
    # the same restriction judged wrong instead: precision 0, and no confirmed one to recall
    with s.engine.begin() as c:
        c.execute(update(t.appeals).values(outcome="false_positive"))
    bt = backtest.backtest(s, START + dt.timedelta(days=1), end, candidate)
    row = bt["rules"]["cash_out_round_amounts"]
    assert (row["labelled"], row["precision"], row["recall"]) == (1, 0.0, None)
    assert bt["labels"] == {"false_positive": 1}
    assert bt["rules"]["overdue_this_line"]["precision"] is None  # no label on that rule


def test_the_cli_backtest_and_shadow_report(s, tmp_path, monkeypatch) -> None:
    import json

    from tests.conftest import plain_consoles
    from typer.testing import CliRunner

    from huabei.entrypoints.cli import common
    from huabei.entrypoints.cli.main import app

    _book(s)
    plain_consoles(monkeypatch, common)
    monkeypatch.setenv("HUABEI_DATABASE_URL", str(s.engine.url.render_as_string(hide_password=False)))
    end = (START + dt.timedelta(days=45)).isoformat()
    out = CliRunner().invoke(app, ["risk", "backtest", "--from", "2026-10-26", "--to", end, "--json"])
    assert out.exit_code == 0, out.output
    assert json.loads(out.output)["identical"] is True
    args = ["risk", "backtest", "--from", "2026-10-26", "--to", end, "--policy", _candidate(tmp_path)]
    out = CliRunner().invoke(app, [*args, "--json"])
    assert out.exit_code == 0 and json.loads(out.output)["rules"]["cash_out_round_amounts"]["would_restrict"] == 2
    out = CliRunner().invoke(app, args)
    assert out.exit_code == 0 and "candidate-3" in out.output
    assert CliRunner().invoke(app, ["risk", "backtest", "--from", end, "--to", "2026-10-26"]).exit_code == 2
    out = CliRunner().invoke(app, ["risk", "shadow-report"])
    assert out.exit_code == 0 and "no shadow policy has run" in out.output
