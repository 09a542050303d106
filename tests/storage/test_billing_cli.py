"""``huabei eod``, ``huabei bills``, ``huabei installments`` and ``huabei bureau`` through Typer's
CliRunner on SQLite and PostgreSQL (``huabei.entrypoints.cli.billing.app``, registered into ``huabei``)."""

from __future__ import annotations

import datetime as dt
import json

import pytest
import typer
from tests.conftest import buy, make_system, new_account, plain_consoles
from typer.testing import CliRunner

from huabei.entrypoints.cli import billing as cli_billing
from huabei.money import yuan

runner = CliRunner()


@pytest.fixture(autouse=True)
def plain_output(monkeypatch: pytest.MonkeyPatch) -> None:
    plain_consoles(monkeypatch, cli_billing)
    for var in ("HUABEI_DATABASE_URL", "HUABEI_CLOCK", "HUABEI_CONFIG"):
        monkeypatch.delenv(var, raising=False)


def run(db: str, *args: str, code: int = 0):
    result = runner.invoke(cli_billing.app, [*args, "--db", db])
    assert result.exit_code == code, (args, result.exit_code, result.stdout, result.stderr, result.exception)
    return result


def test_eod_bills_installments_and_bureau_commands(db_url):
    s = make_system(db_url, start=dt.date(2026, 10, 28))
    try:
        acct = new_account(s, yuan("5000.00"))
        buy(s, acct, yuan("300.00"))
    finally:
        s.engine.dispose()
    out = run(db_url, "eod", "--until", "2026-11-01").stdout
    assert "close_bills" in out and "end of day completed through 2026-11-01" in out
    assert "already run: nothing changed" in run(db_url, "eod", "--date", "2026-11-01").stdout
    err = run(db_url, "eod", "--date", "2026-11-05", code=5).stderr
    assert err.startswith("eod_days_pending: ") and "日终" in err
    assert run(db_url, "eod", code=2).stderr.startswith("invalid_request: ")
    assert run(db_url, "eod", "--until", "2026-02-30", code=2).stderr.startswith("invalid_date: ")
    report = json.loads(run(db_url, "eod", "--until", "2026-11-02", "--json").stdout)
    assert report["last_completed"] == "2026-11-02"

    bills = json.loads(run(db_url, "bills", "list", str(acct), "--json").stdout)
    assert [(b["period"], b["total_due"], b["minimum_due"], b["status"]) for b in bills] == [
        ("2026-11", "300.00", "30.00", "open")
    ]
    shown = run(db_url, "bills", "show", str(acct), "2026-11").stdout
    assert "bill 2026-11" in shown and "300.00" in shown
    assert run(db_url, "bills", "show", str(acct), "2026-12", code=4).stderr.startswith("bill_not_found: ")
    assert "next bill 2026-12" in run(db_url, "bills", "unbilled", str(acct)).stdout
    assert json.loads(run(db_url, "bills", "status", str(acct), "--json").stdout)["owed"] == "300.00"
    assert run(db_url, "bills", "due-day", str(acct), "15", code=3).stderr.startswith("due_day_not_offered: ")

    quote = json.loads(run(db_url, "installments", "quote-bill", str(acct), "2026-11", "--term", "3", "--json").stdout)
    assert (quote["total_fee"], [p["principal"] for p in quote["periods"]]) == ("7.50", ["100.00"] * 3)
    assert run(db_url, "installments", "quote-bill", str(acct), "2026-11", "--term", "4", code=3).stderr.startswith(
        "installment_term_not_offered: "
    )
    plan = json.loads(
        run(db_url, "installments", "convert-bill", str(acct), "2026-11", "--term", "3", "--key", "k1", "--json").stdout
    )
    assert plan["status"] == "active" and plan["periods_billed"] == 0
    assert "3" in run(db_url, "installments", "list", str(acct)).stdout
    early = json.loads(run(db_url, "installments", "early-quote", str(plan["plan_id"]), "--json").stdout)
    assert early["amount"] == "300.00"

    text = run(db_url, "bureau", "export", "--month", "2026-10").stdout
    assert text.startswith("H|HUABEI-BUREAU|1|2026-10|2026-11-02|1\nD|A|1|") and text.rstrip().endswith("|0.00")
    assert run(db_url, "bureau", "export", "--month", "2026-13", code=2).stderr.startswith("invalid_month: ")
    fixed = json.loads(
        run(
            db_url,
            "bureau",
            "correct",
            str(acct),
            "--month",
            "2026-10",
            "--reason",
            "test",
            "--set",
            "balance=1.00",
            "--json",
        ).stdout
    )
    assert (fixed["seq"], fixed["balance"]) == (2, "1.00")


def test_register_adds_the_commands_to_a_main_app():
    main = typer.Typer()

    @main.command()
    def version() -> None:  # a main app has other commands
        pass

    cli_billing.register(main)
    names = {c.name for c in main.registered_commands} | {g.name for g in main.registered_groups}
    assert {"eod", "bills", "installments", "bureau"} <= names


def test_a_bill_paid_at_its_minimum_reads_revolving(db_url):
    """Past its due date with the minimum repaid, a bill is open but revolving: the CLI says so."""
    from huabei.batch import eod
    from huabei.payments import service as payments

    s = make_system(db_url, start=dt.date(2026, 10, 25))
    try:
        acct = new_account(s, yuan("5000.00"))
        buy(s, acct, yuan("1000.00"))
        eod.run_eod(s, until=dt.date(2026, 11, 2))
        payments.repay(s, acct, yuan("100.00"), "minimum")
        eod.run_eod(s, until=dt.date(2026, 11, 12))
    finally:
        s.engine.dispose()
    shown = run(db_url, "bills", "show", str(acct), "2026-11").stdout
    assert "status revolving (minimum paid; interest accrues on the rest)" in shown
    listed = run(db_url, "bills", "list", str(acct)).stdout
    assert "revolving" in listed
