"""The ``huabei`` command, run in-process with Typer's CliRunner on SQLite and PostgreSQL.

Exit codes: 0 ok, 1 ledger check failed, 2 bad input, 3 declined/refused, 4 not found, 5 conflict.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result
from sqlalchemy import text
from tests.conftest import plain_consoles
from typer.testing import CliRunner

from huabei.entrypoints.cli import main as cli
from huabei.platform import migrate
from huabei.platform.db import make_engine

runner = CliRunner()
CJK = re.compile(r"[\u4e00-\u9fff]")


@pytest.fixture(autouse=True)
def plain_output(monkeypatch: pytest.MonkeyPatch) -> None:
    """No colours and a wide console, so output can be parsed; no stray configuration from the shell."""
    plain_consoles(monkeypatch, cli)
    for var in ("HUABEI_DATABASE_URL", "HUABEI_CLOCK", "HUABEI_CONFIG", "FORCE_COLOR"):
        monkeypatch.delenv(var, raising=False)


def run(db: str, *args: str, code: int = 0, positional: tuple[str, ...] = ()) -> Result:
    """``huabei ARGS --db DB [-- POSITIONAL]`` (after ``--`` an argument may start with "-")."""
    result = runner.invoke(cli.app, [*args, "--db", db, *(("--", *positional) if positional else ())])
    assert result.exit_code == code, (args, result.exit_code, result.stdout, result.stderr, result.exception)
    return result


def run_json(db: str, *args: str) -> dict[str, Any]:
    return json.loads(run(db, *args, "--json").stdout)


def refused(db: str, *args: str, code: int, reason: str, positional: tuple[str, ...] = ()) -> str:
    """Run a command that must fail with ``code``; its stderr names ``reason`` in English and Chinese."""
    result = run(db, *args, code=code, positional=positional)
    assert result.stderr.startswith(f"{reason}: "), result.stderr
    assert CJK.search(result.stderr), result.stderr
    return result.stderr


def open_line(db: str, base_limit: str = "1000.00", user_id: str = "u1") -> int:
    run(db, "clock", "set", "2026-11-02")
    run(db, "users", "add", user_id, "--name", "李雷", "--phone", "13800000000")
    return run_json(db, "accounts", "open", user_id, "--base-limit", base_limit)["account_id"]


def show(db: str, account_id: int) -> dict[str, Any]:
    return run_json(db, "accounts", "show", str(account_id))


def ledger_ok(db: str) -> None:
    assert "ledger OK" in run(db, "ledger", "check").stdout


# --- schema and clock ----------------------------------------------------------------


def test_db_upgrade_is_idempotent_and_keeps_data(db_url):
    eng = make_engine(db_url, pool_size=1)
    head = migrate.current(engine=eng)
    eng.dispose()
    assert head
    aid = open_line(db_url)
    for _ in range(2):
        assert run(db_url, "db", "upgrade").stdout.strip() == f"database at revision {head}"
    assert show(db_url, aid)["base_limit"] == "1000.00"


def test_db_upgrade_creates_the_schema_of_a_new_database(tmp_path: Path):
    url = f"sqlite:///{tmp_path / 'new.db'}"
    refusal = runner.invoke(cli.app, ["--db", url, "users", "add", "u1", "--name", "Li", "--phone", "13800000000"])
    assert refusal.exit_code != 0  # no schema yet
    result = runner.invoke(cli.app, ["--db", url, "db", "upgrade"])  # the global form of --db
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("database at revision ")
    assert runner.invoke(cli.app, ["db", "upgrade", "--db", url]).exit_code == 0
    eng = make_engine(url, pool_size=1)
    with eng.connect() as c:
        assert c.execute(text("SELECT count(*) FROM credit_accounts")).scalar_one() == 0
    eng.dispose()


def test_clock_set_and_show(db_url, monkeypatch):
    run(db_url, "clock", "set", "2026-11-05")
    assert run(db_url, "clock", "show").stdout.strip() == "2026-11-05 (simulated)"
    assert run(db_url, "clock", "set", "2026-12-01").stdout.strip() == "business date is now 2026-12-01"
    assert "2026-11-30" in refused(db_url, "clock", "set", "2026-11-30", code=5, reason="clock_backwards")
    refused(db_url, "clock", "set", "1st of December", code=2, reason="invalid_date")
    refused(db_url, "clock", "set", "2026-02-30", code=2, reason="invalid_date")
    assert run(db_url, "clock", "show").stdout.strip() == "2026-12-01 (simulated)"
    # the database may also come from the environment or before the command
    monkeypatch.setenv("HUABEI_DATABASE_URL", db_url)
    assert runner.invoke(cli.app, ["clock", "show"]).stdout.strip() == "2026-12-01 (simulated)"
    monkeypatch.delenv("HUABEI_DATABASE_URL")
    assert runner.invoke(cli.app, ["--db", db_url, "clock", "show"]).stdout.strip() == "2026-12-01 (simulated)"


# --- money ---------------------------------------------------------------------------


@pytest.mark.smoke
def test_open_purchase_refund_repay_with_json(db_url):
    run(db_url, "clock", "set", "2026-11-02")
    user = run_json(db_url, "users", "add", "u1", "--name", "李雷", "--phone", "13800000000")
    assert (user["user_id"], user["name"], user["real_name_verified"]) == ("u1", "李雷", True)
    acct = run_json(db_url, "accounts", "open", "u1", "--base-limit", "1000.00")
    aid = acct["account_id"]
    assert (acct["status"], acct["total_limit"], acct["available"]) == ("active", "1000.00", "1000.00")

    bought = run_json(
        db_url,
        "purchase",
        str(aid),
        "88.80",
        "--merchant",
        "m-taobao",
        "--category",
        "dining",
        "--channel",
        "offline",
        "--key",
        "k-1",
    )
    assert (bought["amount"], bought["available"], bought["status"]) == ("88.80", "911.20", "approved")
    again = run_json(
        db_url,
        "purchase",
        str(aid),
        "88.80",
        "--merchant",
        "m-taobao",
        "--category",
        "dining",
        "--channel",
        "offline",
        "--key",
        "k-1",
    )
    assert again == bought  # replayed, not bought twice
    assert show(db_url, aid)["used"] == "88.80"

    ref = run_json(db_url, "refund", str(bought["purchase_id"]), "8.80")
    assert (ref["amount"], ref["refunded_total"], ref["to_credit_balance"], ref["available"]) == (
        "8.80",
        "8.80",
        "0.00",
        "920.00",
    )
    paid = run_json(db_url, "repay", str(aid), "50.00")
    assert (paid["amount"], paid["owed"], paid["available"], paid["allocation"]) == (
        "50.00",
        "30.00",
        "970.00",
        {"customer_principal": "50.00"},
    )
    view = show(db_url, aid)
    assert (view["used"], view["available"], view["credit_balance"]) == ("30.00", "970.00", "0.00")
    ledger_ok(db_url)

    table = run(db_url, "accounts", "show", str(aid)).stdout  # the human-readable form
    assert re.search(r"available\s*│\s*970\.00", table), table


def test_declined_purchase_exits_3_and_moves_nothing(db_url):
    aid = open_line(db_url, "1000.00")
    before = show(db_url, aid)
    err = refused(db_url, "purchase", str(aid), "1000.01", "--merchant", "m", code=3, reason="insufficient_limit")
    assert "1000.01" in err and "Repay part of your bill" in err  # message and remedy
    refused(
        db_url,
        "purchase",
        str(aid),
        "10.00",
        "--merchant",
        "m",
        "--category",
        "cash_withdrawal",
        code=3,
        reason="category_not_allowed",
    )
    refused(db_url, "purchase", str(aid), "50000.01", "--merchant", "m", code=3, reason="amount_over_single_limit")
    assert show(db_url, aid) == before
    ledger_ok(db_url)


BAD_AMOUNTS = ["abc", "1.234", "-1", "-1.00", "0", "0.00", "1e3", " 1.00", "", "1,000.00"]


def test_bad_amount_exits_2_and_changes_nothing(db_url):
    aid = open_line(db_url, "1000.00")
    pid = run_json(db_url, "purchase", str(aid), "100.00", "--merchant", "m")["purchase_id"]
    before = show(db_url, aid)
    for amount in BAD_AMOUNTS:
        refused(db_url, "purchase", "--merchant", "m", code=2, reason="invalid_amount", positional=(str(aid), amount))
        refused(db_url, "repay", code=2, reason="invalid_amount", positional=(str(aid), amount))
        refused(db_url, "refund", code=2, reason="invalid_amount", positional=(str(pid), amount))
        refused(db_url, "accounts", "set-limit", code=2, reason="invalid_amount", positional=(str(aid), amount))
    too_large = "99999999999.00"  # well written, over the maximum: says so
    refused(db_url, "repay", code=2, reason="amount_too_large", positional=(str(aid), too_large))
    assert show(db_url, aid) == before
    ledger_ok(db_url)


def test_other_bad_input_exits_2(db_url):
    aid = open_line(db_url, "1000.00")
    before = show(db_url, aid)
    refused(
        db_url,
        "purchase",
        str(aid),
        "1.00",
        "--merchant",
        "m",
        "--category",
        "rockets",
        code=2,
        reason="invalid_category",
    )
    refused(db_url, "accounts", "grant-temporary", str(aid), "100.00", "someday", code=2, reason="invalid_date")
    refused(db_url, "restrictions", "place", str(aid), "bad_luck", code=2, reason="invalid_request")
    assert run(db_url, "purchase", "one", "1.00", "--merchant", "m", code=2).stderr  # usage error
    assert run(db_url, "purchase", str(aid), "1.00", "--merchant", "m", "--channel", "mail", code=2).stderr
    assert show(db_url, aid) == before
    ledger_ok(db_url)


def test_not_found_exits_4_and_conflict_exits_5(db_url):
    aid = open_line(db_url, "1000.00")
    pid = run_json(db_url, "purchase", str(aid), "10.00", "--merchant", "m", "--key", "k-1")["purchase_id"]
    for missing in ("999", "0", "99999999999999999999"):
        refused(db_url, "accounts", "show", missing, code=4, reason="account_not_found")
        refused(db_url, "purchase", missing, "1.00", "--merchant", "m", code=4, reason="account_not_found")
        refused(db_url, "repay", missing, "1.00", code=4, reason="account_not_found")
        refused(db_url, "refund", missing, "1.00", code=4, reason="purchase_not_found")
        refused(db_url, "restrictions", "lift", missing, code=4, reason="restriction_not_found")
    refused(db_url, "accounts", "open", "ghost", "--base-limit", "1000.00", code=4, reason="user_not_found")

    refused(db_url, "users", "add", "u1", "--name", "Other", "--phone", "13900000000", code=5, reason="user_exists")
    refused(db_url, "accounts", "open", "u1", "--base-limit", "500.00", code=5, reason="account_exists")
    refused(
        db_url, "purchase", str(aid), "11.00", "--merchant", "m", "--key", "k-1", code=5, reason="idempotency_conflict"
    )
    # refused by a rule: exit 3
    refused(db_url, "refund", str(pid), "10.01", code=3, reason="refund_exceeds_purchase")
    refused(db_url, "repay", str(aid), "10.01", code=3, reason="repayment_exceeds_balance")
    assert show(db_url, aid)["used"] == "10.00"
    ledger_ok(db_url)


def test_limits_and_restrictions(db_url):
    aid = open_line(db_url, "1000.00")
    assert run_json(db_url, "accounts", "set-limit", str(aid), "2000.00")["total_limit"] == "2000.00"
    refused(db_url, "accounts", "set-limit", str(aid), "100.00", code=3, reason="base_limit_out_of_range")
    temp = run_json(db_url, "accounts", "grant-temporary", str(aid), "500.00", "2026-11-10")
    assert (temp["temporary_limit"], temp["total_limit"], temp["temporary_limit_expires_on"]) == (
        "500.00",
        "2500.00",
        "2026-11-10",
    )

    placed = run_json(db_url, "restrictions", "place", str(aid), "wrong_password_lockout", "--note", "5 tries")
    assert placed["active"] is True and placed["lifts_on"] == "2026-11-03"
    assert show(db_url, aid)["status"] == "frozen"
    err = refused(db_url, "purchase", str(aid), "1.00", "--merchant", "m", code=3, reason="account_frozen")
    assert "wrong payment password" in err and "24 hours" in err  # the cause and its remedy
    lifted = run_json(db_url, "restrictions", "lift", str(placed["restriction_id"]), "--reason", "password_reset")
    assert (lifted["active"], lifted["lift_reason"]) == (False, "password_reset")
    assert run_json(db_url, "purchase", str(aid), "2400.00", "--merchant", "m")["available"] == "100.00"
    ledger_ok(db_url)


# --- ledger check and demo -----------------------------------------------------------


def test_ledger_check_passes_then_reports_a_corrupted_posting(db_url):
    aid = open_line(db_url, "1000.00")
    run(db_url, "purchase", str(aid), "88.80", "--merchant", "m")
    clean = run(db_url, "ledger", "check").stdout
    assert "checked 1 entries, 2 postings, 1 credit lines" in clean and "ledger OK" in clean

    eng = make_engine(db_url, pool_size=1)
    with eng.begin() as c:
        assert c.execute(text("UPDATE postings SET amount = amount + 1 WHERE posting_id = 1")).rowcount == 1
    eng.dispose()

    broken = run(db_url, "ledger", "check", code=1).stdout
    assert "ledger OK" not in broken
    assert "2 broken invariant(s)" in broken
    assert "entry_balances" in broken and "entry 1: postings sum to 1 fen" in broken
    assert "balance_equals_postings" in broken
    assert f"account {aid}: used is 8880 fen but its postings sum to 8881 fen" in broken


def test_demo_load_lives_two_months_and_is_repeatable(db_url):
    first = run(db_url, "demo", "load").stdout
    assert "demo-lihua: credit line" in first and "(automatic decision)" in first
    assert "demo-zhaolei: not eligible (identity_not_verified" in first
    assert "converted bill 2026-10 into 6 installments" in first and "only the minimum" in first
    assert "demo-chenjing: never repaid — frozen" in first and "locked" in first
    assert "the ledger check: ok" in first
    second = run(db_url, "demo", "load").stdout
    assert "demo data already loaded (business date 2026-11-20): nothing to do" in second
    ledger_ok(db_url)


def test_demo_load_refuses_a_database_that_has_lived(db_url):
    run(db_url, "eod", "--date", "2026-11-02")
    refused(db_url, "demo", "load", code=2, reason="demo_needs_empty_database")
