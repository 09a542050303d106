"""``huabei risk sweep`` and ``huabei accounts close`` from the command line, on SQLite and PostgreSQL."""

from __future__ import annotations

import json

import pytest
from tests.test_cli import open_line, plain_output, refused, run, run_json, show  # noqa: F401


def test_risk_sweep_dry_run_apply_and_bad_rule(db_url: str) -> None:
    aid = open_line(db_url)
    run(db_url, "purchase", str(aid), "10.00", "--merchant", "m-1", "--category", "retail", "--key", "k1")
    out = run(
        db_url, "risk", "sweep", "--rule", "used > 0", "--action", "cut:50", "--reason", "notice", "--dry-run"
    ).stdout
    assert "1 line(s) match" in out and "dry run: nothing changed" in out and "500.00" in out
    assert show(db_url, aid)["base_limit"] == "1000.00"
    rep = run_json(
        db_url, "risk", "sweep", "--rule", "used > 0", "--action", "cut:50", "--reason", "notice", "--operator", "ops"
    )
    assert (rep["matched"], rep["applied"]) == (1, 1)
    assert show(db_url, aid)["base_limit"] == "500.00"
    again = run_json(db_url, "risk", "sweep", "--rule", "used > 0", "--action", "cut:50", "--reason", "notice")
    assert again["applied"] == 0
    refused(
        db_url, "risk", "sweep", "--rule", "used >", "--action", "close", "--reason", "r", code=2, reason="invalid_rule"
    )
    refused(
        db_url,
        "risk",
        "sweep",
        "--rule",
        "used > 0",
        "--action",
        "ban",
        "--reason",
        "r",
        code=2,
        reason="invalid_sweep_action",
    )


def test_accounts_close(db_url: str) -> None:
    aid = open_line(db_url)
    closed = json.loads(run(db_url, "accounts", "close", str(aid), "--reason", "not needed", "--json").stdout)
    assert closed["status"] == "closed"
    refused(db_url, "accounts", "close", str(aid), code=5, reason="account_already_closed")


@pytest.fixture(autouse=True)
def _plain(plain_output: None) -> None:  # noqa: F811
    pass
