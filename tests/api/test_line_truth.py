"""The line's view tells the truth: an overdue or frozen line shows ``spendable_now`` 0.00 beside
its limits and its available limit, with the reason (``blocked_reason``) and the days past due;
a usable line can spend what is available."""

from __future__ import annotations

import datetime as dt

import httpx
from tests.conftest import buy, new_account

from huabei.batch import eod
from huabei.money import yuan
from huabei.restrictions import service as restrictions


def test_an_overdue_or_frozen_line_shows_it_can_spend_nothing_now(api: httpx.Client, system) -> None:
    late = new_account(system, yuan("5000.00"))
    fine = new_account(system, yuan("2000.00"))
    held = new_account(system, yuan("3000.00"))
    start = dt.date.fromisoformat(eod.status(system)["business_date"])
    eod.run_eod(system, until=start)
    buy(system, late, yuan("1000.00"))
    restrictions.place_restriction(system, held, cause="operator_hold", note="checking")
    eod.run_eod(system, until=dt.date(2026, 12, 12))  # the 12-01 bill of late, due 12-10, unpaid

    a = api.get(f"/v1/accounts/{late}").json()
    assert (a["status"], a["blocked_reason"]) == ("overdue", "account_overdue")
    assert a["available"] == "4000.00" and a["spendable_now"] == "0.00"
    assert a["days_past_due"] == 2  # within the grace days: overdue, not yet reported (frozen)
    h = api.get(f"/v1/accounts/{held}").json()
    assert (h["status"], h["blocked_reason"], h["spendable_now"], h["days_past_due"]) == (
        "frozen",
        "operator_hold",
        "0.00",
        0,
    )
    f = api.get(f"/v1/accounts/{fine}").json()
    assert (f["status"], f["blocked_reason"], f["spendable_now"], f["available"]) == (
        "active",
        None,
        "2000.00",
        "2000.00",
    )


def test_the_cli_shows_spendable_now_in_yuan(db_url, system) -> None:
    from typer.testing import CliRunner

    from huabei.entrypoints.cli.main import app

    acct = new_account(system, yuan("2000.00"))
    restrictions.place_restriction(system, acct, cause="operator_hold", note="checking")
    out = CliRunner().invoke(app, ["accounts", "show", str(acct), "--db", db_url], terminal_width=80)
    assert out.exit_code == 0, out.output
    assert "spendable_now" in out.output and "0.00" in out.output and "operator_hold" in out.output
