"""The diagnosis of freezes the risk engine placed through normal use (never by hand), on SQLite
and PostgreSQL: each names its evidence from the engine's ids (the bills, the flagged purchases,
the devices), what to do, and when it lifts — for a rule that lifts by a condition, the day its
own condition, run forward, first holds."""

from __future__ import annotations

import datetime as dt

import pytest
from tests.conftest import buy, make_system, new_account

from huabei.batch import eod
from huabei.billing import service as billing
from huabei.diagnosis import service as diagnosis
from huabei.payments import service as payments

D = dt.date


@pytest.fixture
def s(db_url):
    system = make_system(db_url, start=D(2026, 10, 25))
    yield system
    system.engine.dispose()


def finding(view, code: str) -> dict:
    (hit,) = [f for f in view["findings"] if f["code"] == code]
    return hit


def test_overdue_reported_then_repaid_says_when_the_cooloff_ends(s) -> None:
    acct = new_account(s, 500_000)
    eod.run_eod(s, until=D(2026, 10, 25))
    buy(s, acct, 100_000)
    eod.run_eod(s, until=D(2026, 12, 15))  # 35 days late: reported, frozen by the risk engine
    en = diagnosis.diagnosis(s, acct, "en")
    f = finding(en, "overdue_reported")
    assert f["data"]["evidence"]["rule_id"] == "overdue_this_line"
    assert "35 days overdue" in f["message"] and "credit bureau" in f["message"]
    assert f["remedy"].startswith("Repay everything overdue now: ") and len(f["evidence"]) == 2  # two bills overdue
    assert not [x for x in en["findings"] if x["code"] == "bill_overdue"]  # listed once, under the freeze
    payments.repay(s, acct, billing.billing_status(s, acct)["owed"], "pay-all")
    en = diagnosis.diagnosis(s, acct, "en")
    zh = diagnosis.diagnosis(s, acct, "zh_CN")
    f, zf = finding(en, "overdue_reported"), finding(zh, "overdue_reported")
    assert en["state"] == "frozen" and "has been repaid since" in f["message"]
    # the rule's own lift condition run forward: 35 days late -> a 90-day cool-off from 12-15, seen
    # by the end-of-day run of the next day (it reads the features as of the day before)
    expected = (
        "After a late repayment a cool-off follows: it should lift on March 16, 2027, if nothing else becomes overdue."
    )
    assert f["lifts"] == expected
    assert "2027年3月16日" in zf["lifts"]
    eod.run_eod(s, until=D(2027, 3, 15))
    assert [x["code"] for x in diagnosis.diagnosis(s, acct)["findings"]] == ["overdue_reported"]
    eod.run_eod(s, until=D(2027, 3, 16))
    assert diagnosis.diagnosis(s, acct)["findings"] == []  # and so it did


def test_cash_out_round_amounts_list_the_flagged_purchases(s) -> None:
    acct = new_account(s, 1_000_000)
    eod.run_eod(s, until=D(2026, 10, 25))
    ids = [buy(s, acct, 50_000, merchant="m-ring").body["purchase_id"] for _ in range(5)]
    payments.repay(s, acct, billing.billing_status(s, acct)["owed"], "ring-repaid")
    eod.run_eod(s, until=D(2026, 10, 26))
    en = diagnosis.diagnosis(s, acct, "en")
    zh = diagnosis.diagnosis(s, acct, "zh_CN")
    f, zf = finding(en, "cash_out_suspected"), finding(zh, "cash_out_suspected")
    assert f["message"] == "5 purchases looked like cash-out (套现), which Huabei does not allow."
    assert f["evidence"] == [f"Purchase {i}: 500.00 yuan at m-ring on October 25, 2026." for i in ids]
    assert f["appealable"] and "appeal" in f["remedy"]
    lifts_on = D(2026, 10, 26) + dt.timedelta(days=s.terms.restrictions.cash_out_review_days)
    assert f["lifts_on"] == lifts_on.isoformat()
    assert (
        f["lifts"]
        == "It lifts by itself on December 25, 2026, 60 days after your last flagged transaction (October 26, 2026)."
    )
    assert zf["message"] == "有5笔消费疑似套现，花呗不允许套现。" and "m-ring" in zf["evidence"][0]
    advice = diagnosis.limit_advice(s, acct, "en")
    (w,) = [w for w in advice["warnings"] if w["code"] == "cash_out_suspected_pattern"]
    assert len(w["evidence"]) == 5


def test_device_churn_names_the_devices(s) -> None:
    acct = new_account(s, 300_000)
    eod.run_eod(s, until=D(2026, 10, 25))
    for device in ("dev-a", "dev-b", "dev-c"):
        buy(s, acct, 1_000, device=device)
    en = diagnosis.diagnosis(s, acct, "en")
    zh = diagnosis.diagnosis(s, acct, "zh_CN")
    f, zf = finding(en, "account_takeover_suspected"), finding(zh, "account_takeover_suspected")
    assert f["message"].startswith("Payments came from 3 different devices")
    assert "A payment of 10.00 yuan from device dev-c on October 25, 2026." in f["evidence"]
    assert "Verify your identity" in f["remedy"] and "验证身份" in zf["remedy"]
    assert "3台不同的设备" in zf["message"]


def test_inactivity_names_the_last_purchase(s) -> None:
    acct = new_account(s, 300_000)
    buy(s, acct, 1_000)
    # the end-of-day run reads the features as of the day before: the day after the threshold
    eod.run_eod(s, until=D(2026, 10, 26) + dt.timedelta(days=s.terms.restrictions.inactivity_days))
    en = diagnosis.diagnosis(s, acct, "en")
    f = finding(en, "inactive_account")
    assert f["message"] == "Huabei was rarely used (last purchase on October 25, 2026), so the limit was reclaimed."
    assert "花呗很少使用" in finding(diagnosis.diagnosis(s, acct, "zh_CN"), "inactive_account")["message"]
