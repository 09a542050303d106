"""A bureau correction must agree with the line: days past due a line never reached, a bucket
that does not match the days past due, an amount overdue without days past due, an overdue
status on a current bucket, a closed status on an open line are refused with 422
``bureau_correction_inconsistent`` (naming the field and what it contradicts) and change nothing;
a month with no record (before the line opened) is 404 ``bureau_record_not_found``."""

from __future__ import annotations

import datetime as dt

import pytest
from tests.conftest import buy, make_system, new_account

from huabei.batch import eod
from huabei.billing import bureau
from huabei.errors import HuabeiError
from huabei.money import yuan
from huabei.payments import service as payments

D = dt.date


@pytest.fixture
def s(db_url):
    system = make_system(db_url, start=D(2026, 10, 25))
    yield system
    system.engine.dispose()


def refused(s, acct, month, changes) -> HuabeiError:
    with pytest.raises(HuabeiError) as e:
        bureau.correct_record(s, acct, month, reason="agent_review", changes=changes)
    return e.value


def test_a_correction_that_contradicts_the_line_is_refused(s):
    never = new_account(s, yuan("2000.00"))
    late = new_account(s, yuan("5000.00"))
    eod.run_eod(s, until=D(2026, 10, 25))
    buy(s, never, yuan("100.00"))
    buy(s, late, yuan("1000.00"))
    eod.run_eod(s, until=D(2026, 11, 2))
    payments.repay(s, never, yuan("100.00"), "in-full")  # never overdue
    eod.run_eod(s, until=D(2026, 12, 1))  # late: 1,000.00 due 11-10, never repaid
    before = bureau.records(s, "2026-11")

    e = refused(s, never, "2026-11", {"days_past_due": 30, "bucket": "dpd_1_30", "account_status": "overdue"})
    assert e.code == "bureau_correction_inconsistent" and e.kind.value == "unprocessable"
    assert (e.params["field"], e.params["basis"], e.params["basis_value"]) == (
        "days_past_due",
        "days_past_due_reached",
        "0",
    )
    assert refused(s, never, "2026-11", {"bucket": "dpd_31_60"}).params["field"] == "bucket"
    assert refused(s, never, "2026-11", {"amount_overdue": 5000}).params["field"] == "amount_overdue"
    assert refused(s, never, "2026-11", {"account_status": "overdue"}).params["field"] == "account_status"
    assert refused(s, never, "2026-11", {"account_status": "closed"}).params["basis"] == "line_state"
    assert refused(s, late, "2026-11", {"days_past_due": 45, "bucket": "dpd_31_60"}).params["basis_value"] == "21"
    assert refused(s, late, "2026-11", {"worst_bucket": "current"}).params["field"] == "worst_bucket"
    missing = refused(s, never, "2026-09", {"balance": 0})  # before the line opened: no record
    assert missing.code == "bureau_record_not_found"
    assert bureau.records(s, "2026-11") == before  # nothing written

    ok = bureau.correct_record(s, late, "2026-11", reason="agent_review", changes={"days_past_due": 15})
    assert (ok["seq"], ok["days_past_due"], ok["bucket"]) == (2, 15, "dpd_1_30")
    fixed = bureau.correct_record(
        s,
        never,
        "2026-11",
        reason="agent_review",
        changes={"balance": 0, "credit_limit": 300_000},
    )
    assert fixed["seq"] == 2
