"""Every end-of-day step isolates a bad record: the billing steps, the lifting, the campaigns,
the bureau and the risk rules run over a part of the book (an account id range) as well as over
all of it, so a line the step fails on is set aside (quarantined, reported by the run, by
``GET /v1/admin/eod`` and ``huabei eod status``) and every other line is done; once fixed,
``retry`` runs the step for it as of its day and it ends as if nothing had happened.

Three identical lines live the same days; the middle one is poisoned for one step on the day
that step has work: its work is done and then fails (as a database refusing a row would), so a
step that did not keep to its range would leave the part's writes behind or touch the others."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import func, select
from tests.conftest import buy, make_system, new_account
from typer.testing import CliRunner

from huabei.batch import books, eod
from huabei.billing import tables as tb
from huabei.entrypoints.cli.main import app as cli
from huabei.errors import HuabeiError
from huabei.lines import service as lines
from huabei.money import yuan
from huabei.payments import service as payments
from huabei.platform import schema as t
from huabei.platform.sql import AccountRange
from huabei.platform.unit_of_work import Huabei
from huabei.restrictions import service as restrictions

D = dt.date
START = D(2026, 10, 25)


def line_state(system: Huabei, acct: int) -> dict[str, Any]:
    """What the steps change of one line, without ids and timestamps."""
    b, li, ac = tb.bills.c, tb.bill_lines.c, tb.bill_accruals.c
    a, r, d, br = t.credit_accounts.c, t.restrictions.c, tb.account_delinquency.c, tb.bureau_records.c
    with system.engine.connect() as c:
        return {
            "line": tuple(
                c.execute(
                    select(a.used, a.credit_balance, a.block_code, a.temporary_limit).where(a.account_id == acct)
                ).one()
            ),
            "bills": [
                tuple(x)
                for x in c.execute(
                    select(
                        b.period,
                        b.status,
                        b.total_due,
                        b.minimum_due,
                        b.unpaid_principal,
                        b.interest_posted,
                        b.penalty_posted,
                        b.interest_exact,
                        b.penalty_exact,
                    )
                    .where(b.account_id == acct)
                    .order_by(b.period)
                )
            ],
            "bill_lines": [
                tuple(x)
                for x in c.execute(
                    select(li.kind, func.count(), func.sum(li.amount))
                    .select_from(tb.bill_lines.join(tb.bills, b.bill_id == li.bill_id))
                    .where(b.account_id == acct)
                    .group_by(li.kind)
                    .order_by(li.kind)
                )
            ],
            "accruals": [
                tuple(x)
                for x in c.execute(
                    select(ac.kind, ac.business_date, ac.amount).where(ac.account_id == acct).order_by(ac.accrual_id)
                )
            ],
            "delinquency": [tuple(x) for x in c.execute(select(d.days_past_due, d.bucket).where(d.account_id == acct))],
            "restrictions": [
                tuple(x)
                for x in c.execute(select(r.cause, r.active).where(r.account_id == acct).order_by(r.restriction_id))
            ],
            "bureau": [
                tuple(x)
                for x in c.execute(
                    select(br.month, br.balance, br.days_past_due, br.account_status)
                    .where(br.account_id == acct)
                    .order_by(br.month, br.seq)
                )
            ],
        }


def _never_repaid(system: Huabei, accts: list[int]) -> None:
    for a in accts:
        buy(system, a, yuan("1000.00"))


def _minimum_repaid(system: Huabei, accts: list[int]) -> None:
    _never_repaid(system, accts)
    eod.run_eod(system, until=D(2026, 11, 2))
    for a in accts:
        payments.repay(system, a, yuan("100.00"), f"min-{a}")


def _lifting_date(system: Huabei, accts: list[int]) -> None:
    for a in accts:
        restrictions.place_restriction(system, a, cause="operator_hold", note="held", lifts_on=D(2026, 10, 28))


def _temporary_limit(system: Huabei, accts: list[int]) -> None:
    for a in accts:
        lines.grant_temporary_limit(system, a, amount=yuan("500.00"), expires_on=D(2026, 10, 28))


#: step -> (the lines' story, the day the step has work on)
CASES: dict[str, tuple[Callable[[Huabei, list[int]], None], dt.date]] = {
    "close_bills": (_never_repaid, D(2026, 11, 1)),
    "accrue_interest": (_minimum_repaid, D(2026, 11, 11)),
    "mark_overdue": (_never_repaid, D(2026, 11, 11)),
    "accrue_penalty": (_never_repaid, D(2026, 11, 12)),
    "delinquency": (_never_repaid, D(2026, 11, 11)),
    "expire_temporary_limits": (_temporary_limit, D(2026, 10, 28)),
    "lift_restrictions": (_lifting_date, D(2026, 10, 28)),
    "bureau_records": (_never_repaid, D(2026, 12, 1)),
}


class Poison(ValueError):
    pass


def _poison(monkeypatch: pytest.MonkeyPatch, name: str, day: dt.date, acct: int) -> None:
    """Step ``name`` does its work and then fails on ``day`` whenever its part holds ``acct``."""
    steps = list(eod.STEPS)
    i = next(i for i, s in enumerate(steps) if s.name == name)
    real = steps[i].work  # type: ignore[attr-defined]

    def work(uow: Any, d: dt.date, accounts: AccountRange | None = None) -> dict[str, Any]:
        counts = real(uow, d, accounts=accounts)
        if d == day and (accounts is None or accounts.first <= acct <= accounts.last):
            raise Poison(f"cannot take line {acct}")
        return counts

    steps[i] = dataclasses.replace(steps[i], work=work)
    monkeypatch.setattr(eod, "STEPS", tuple(steps))


@pytest.fixture
def s(db_url):
    system = make_system(db_url, start=START)
    yield system
    system.engine.dispose()


@pytest.mark.parametrize("step", sorted(CASES))
def test_a_line_a_step_fails_on_is_set_aside_and_retried_once_fixed(s, monkeypatch, step):
    story, day = CASES[step]
    first, poisoned, last = (new_account(s, yuan("5000.00")) for _ in range(3))
    eod.run_eod(s, until=START)
    story(s, [first, poisoned, last])
    eod.run_eod(s, until=day - dt.timedelta(days=1))
    _poison(monkeypatch, step, day, poisoned)

    report = eod.run_eod(s, date=day)

    assert report.last_completed == day  # the day completed for everyone else
    ran = next(x for x in report.days[0].steps if x.name == step)
    assert ran.counts["quarantined"] == 1
    assert ran.quarantined == [{"kind": "account", "record": str(poisoned), "error": ran.quarantined[0]["error"]}]
    assert "Poison" in ran.quarantined[0]["error"]
    assert line_state(s, first) == line_state(s, last)
    assert line_state(s, poisoned) != line_state(s, first), "the step had no work for the poisoned line"
    (q,) = eod.status(s)["quarantined"]
    assert (q["step"], q["kind"], q["record"], q["business_date"]) == (step, "account", str(poisoned), str(day))

    with pytest.raises(HuabeiError) as still:  # not fixed yet: nothing changes
        eod.retry_quarantined(s, q["quarantine_id"])
    assert still.value.code == "eod_quarantine_retry_failed"
    monkeypatch.undo()  # fixed
    done = eod.retry_quarantined(s, q["quarantine_id"])

    assert done["retried_at"] is not None and done["retry_counts"] is not None, done
    eod.run_eod(s, date=day + dt.timedelta(days=1))  # the next day brings the line level
    assert line_state(s, poisoned) == line_state(s, first) == line_state(s, last)
    assert eod.status(s)["quarantined"] == []
    with pytest.raises(HuabeiError) as again:
        eod.retry_quarantined(s, q["quarantine_id"])
    assert again.value.code == "eod_quarantine_retried"
    assert books.ledger_check(s).ok


def test_the_risk_rules_set_a_line_aside_too(s, monkeypatch):
    accts = [new_account(s, yuan("5000.00")) for _ in range(4)]
    eod.run_eod(s, until=START)
    steps = list(eod.STEPS)
    i = next(i for i, x in enumerate(steps) if x.name == "risk_rules")
    real = steps[i].decide  # type: ignore[attr-defined]

    def decide(snap: Any, terms: Any, day: dt.date) -> Any:
        if accts[2] in snap.values:
            raise Poison("a feature cannot be read")
        return real(snap, terms, day)

    steps[i] = dataclasses.replace(steps[i], decide=decide)
    monkeypatch.setattr(eod, "STEPS", tuple(steps))
    report = eod.run_eod(s, date=START + dt.timedelta(days=1))
    ran = next(x for x in report.days[0].steps if x.name == "risk_rules")
    assert [q["record"] for q in ran.quarantined] == [str(accts[2])]
    assert report.last_completed == START + dt.timedelta(days=1)


def test_the_cli_and_the_api_report_what_was_set_aside(s, monkeypatch, db_url):
    story, day = CASES["mark_overdue"]
    accts = [new_account(s, yuan("5000.00")) for _ in range(2)]
    eod.run_eod(s, until=START)
    story(s, accts)
    eod.run_eod(s, until=day - dt.timedelta(days=1))
    _poison(monkeypatch, "mark_overdue", day, accts[1])
    eod.run_eod(s, date=day)
    monkeypatch.undo()

    out = CliRunner().invoke(cli, ["eod", "status", "--db", db_url])
    assert out.exit_code == 0, out.output
    assert f"mark_overdue {day} account {accts[1]}" in out.output and "huabei eod retry" in out.output
