"""The billing cycle through storage, on SQLite and PostgreSQL: repayment allocation, refunds
against bills, credit balances, overdue blocks, month ends and leap years, temporary
limits, the repayment day and fee waivers."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy import select, update
from tests.conftest import buy, make_system, new_account

from huabei.batch import books, eod
from huabei.billing import calendar as cal
from huabei.billing import service as billing
from huabei.billing import tables as tb
from huabei.config import FeeWaiverCampaign, InstallmentTerms, ProductTerms
from huabei.errors import HuabeiError
from huabei.lines import service as accounts
from huabei.money import yuan
from huabei.payments import service as purchases
from huabei.platform import schema as t
from huabei.restrictions import service as restrictions

D = dt.date


def run_until(system, day):
    eod.run_eod(system, until=day)
    report = books.ledger_check(system)
    assert report.ok, report.findings


def code(fn, *a, **kw) -> str:
    with pytest.raises(HuabeiError) as e:
        fn(*a, **kw)
    return e.value.code


def amounts(bill, kind):
    return [x["amount"] for x in bill["lines"] if x["kind"] == kind]


@pytest.fixture
def at(db_url):
    made = []

    def make(start: dt.date, terms: ProductTerms | None = None):
        s = make_system(db_url, terms=terms, start=start)
        made.append(s)
        return s

    yield make
    for s in made:
        s.engine.dispose()


@pytest.mark.smoke
def test_overdue_bill_is_paid_before_the_current_one_penalty_first_and_blocks_until_repaid(at):
    s = at(D(2026, 10, 28))
    acct = new_account(s, yuan("5000.00"))
    run_until(s, D(2026, 10, 28))
    buy(s, acct, yuan("1000.00"))
    run_until(s, D(2026, 11, 11))  # bill 2026-11 unpaid by 11-10: overdue
    assert accounts.account_view(s, acct)["status"] == "overdue"
    assert code(buy, s, acct, 100) == "account_overdue"
    # a freeze outranks the overdue block, and the overdue block returns when it lifts
    r = restrictions.place_restriction(s, acct, cause="wrong_password_lockout")
    assert accounts.account_view(s, acct)["status"] == "frozen" and code(buy, s, acct, 100) == "account_frozen"
    restrictions.lift_restriction(s, r["restriction_id"])
    assert accounts.account_view(s, acct)["status"] == "overdue"
    run_until(s, D(2026, 12, 1))  # penalty of Nov 11 … 30: 20 × 0.50 = 10.00 on bill 2026-12
    bill = billing.get_bill(s, acct, "2026-12")
    assert sum(amounts(bill, "penalty")) == yuan("10.00") and bill["total_due"] == yuan("10.00")
    # 1,005.00: the overdue bill first (its principal), then the current bill's penalty
    out = purchases.repay(s, acct, yuan("1005.00"), "pay-1")
    assert out.body["bills"] == [
        {"period": "2026-11", "component": "principal", "amount": yuan("1000.00")},
        {"period": "2026-12", "component": "penalty", "amount": yuan("5.00")},
    ]
    assert out.body["allocation"] == {"customer_penalty": yuan("5.00"), "customer_principal": yuan("1000.00")}
    # nothing past due any more; reported overdue (21 days), the line stays frozen until the next
    # end of day lifts overdue_reported (no cool-off after at most 30 days late: docs/risk.md)
    assert accounts.account_view(s, acct)["status"] == "frozen"
    assert billing.get_bill(s, acct, "2026-11")["status"] == "paid"
    assert [a["source"] for a in billing.get_bill(s, acct, "2026-12")["allocations"]] == ["repayment"]
    # within one bill: penalty, then interest, then fees, then principal (domain order), shown
    # on the bill; the remaining 5.00 of penalty and 12-01's penalty are repaid next
    out = purchases.repay(s, acct, yuan("5.50"), "pay-2")
    assert out.body["bills"][0] == {"period": "2026-12", "component": "penalty", "amount": yuan("5.00")}
    assert out.body["bills"][1]["component"] == "credit"
    run_until(s, D(2026, 12, 2))
    assert accounts.account_view(s, acct)["status"] == "active"


def test_statement_date_month_end_and_leap_year(at):
    s = at(D(2028, 1, 30))
    acct = new_account(s, yuan("5000.00"))
    run_until(s, D(2028, 1, 31))
    buy(s, acct, yuan("10.00"))  # the last day of January: bill 2028-02
    run_until(s, D(2028, 2, 1))
    buy(s, acct, yuan("20.00"))  # on the statement date: bill 2028-03
    purchases.repay(s, acct, yuan("1.00"), "min")  # the minimum of bill 2028-02, early
    run_until(s, D(2028, 2, 29))
    buy(s, acct, yuan("30.00"))  # the leap day: bill 2028-03
    run_until(s, D(2028, 3, 1))
    feb, mar = billing.get_bill(s, acct, "2028-02"), billing.get_bill(s, acct, "2028-03")
    assert (feb["statement_date"], feb["due_date"], amounts(feb, "purchase")) == ("2028-02-01", "2028-02-10", [1000])
    assert cal.bill_cycle("2028-03", s.terms.billing) == (D(2028, 2, 1), D(2028, 2, 29))
    assert [x["date"] for x in mar["lines"] if x["kind"] == "purchase"] == ["2028-02-01", "2028-02-29"]
    # revolving interest on the 9.00 left runs Feb 11 … 29: 19 days of the leap February
    interest = [x for x in mar["lines"] if x["kind"] == "interest"]
    assert len(interest) <= 19 and sum(x["amount"] for x in interest) == 9  # 900 × 0.0005 × 19 = 8.55 → 9
    assert amounts(mar, "carried_balance") == [900]


def test_bill_with_only_refunds_has_a_credit_balance_applied_to_the_next_bill(at):
    s = at(D(2026, 10, 31))
    acct = new_account(s, yuan("5000.00"))
    run_until(s, D(2026, 10, 31))
    pid = buy(s, acct, yuan("100.00")).body["purchase_id"]
    run_until(s, D(2026, 11, 2))
    purchases.repay(s, acct, yuan("100.00"), "all")
    assert code(purchases.repay, s, acct, 1, "more") == "nothing_owed"
    out = purchases.refund_purchase(s, pid, yuan("40.00"), "refund-1")  # after repaying: a credit balance
    assert out.body["to_credit_balance"] == yuan("40.00")
    run_until(s, D(2026, 12, 1))
    bill = billing.get_bill(s, acct, "2026-12")
    assert [x["kind"] for x in bill["lines"]] == ["refund"]
    assert (bill["total_due"], bill["minimum_due"], bill["credit_balance"], bill["status"]) == (
        0,
        0,
        yuan("40.00"),
        "paid",
    )
    assert bill["closing_balance"] == -yuan("40.00")
    run_until(s, D(2026, 12, 2))
    buy(s, acct, yuan("100.00"))
    run_until(s, D(2027, 1, 1))
    bill = billing.get_bill(s, acct, "2027-01")
    assert amounts(bill, "carried_credit") == [yuan("40.00")] and bill["opening_balance"] == -yuan("40.00")
    assert (bill["total_due"], bill["minimum_due"]) == (yuan("60.00"), yuan("6.00"))
    view = accounts.account_view(s, acct)
    assert (view["credit_balance"], view["used"]) == (0, yuan("60.00"))  # the credit was applied at the close


def test_refunds_against_bills(at):
    s = at(D(2026, 10, 25))
    acct = new_account(s, yuan("5000.00"))
    run_until(s, D(2026, 10, 25))
    billed = buy(s, acct, yuan("300.00")).body["purchase_id"]
    run_until(s, D(2026, 11, 2))
    unbilled = buy(s, acct, yuan("200.00")).body["purchase_id"]
    # a refund of a billed purchase pays its bill's principal — but only a repayment pays the
    # minimum: 30.00 is still asked for
    purchases.refund_purchase(s, billed, yuan("250.00"), "r-billed")
    bill = billing.get_bill(s, acct, "2026-11")
    assert (bill["unpaid"], bill["paid_by_due_date"], bill["minimum_unpaid"]) == (yuan("50.00"), 0, yuan("30.00"))
    assert [(a["source"], a["component"], a["amount"]) for a in bill["allocations"]] == [
        ("refund", "principal", yuan("250.00"))
    ]
    # a refund of a purchase not billed yet is a refund line on the next bill
    purchases.refund_purchase(s, unbilled, yuan("80.00"), "r-unbilled")
    assert billing.get_bill(s, acct, "2026-11")["unpaid"] == yuan("50.00")
    purchases.repay(s, acct, yuan("30.00"), "the-minimum")
    run_until(s, D(2026, 11, 11))  # the 30.00 minimum was repaid by the due date
    assert billing.get_bill(s, acct, "2026-11")["regime"] == "revolving"
    assert accounts.account_view(s, acct)["status"] == "active"
    run_until(s, D(2026, 12, 1))
    bill = billing.get_bill(s, acct, "2026-12")
    assert amounts(bill, "purchase") == [yuan("200.00")] and amounts(bill, "refund") == [yuan("80.00")]
    assert amounts(bill, "carried_balance") == [yuan("20.00")]


def test_a_refund_does_not_pay_the_minimum(at):
    """The simulator's find: buy, repay the minimum, buy again, refund the second purchase once
    it is billed, repay nothing. The refund must not count as the second bill's minimum (its
    revolving interest is still unpaid): the bill goes overdue, and every later close works."""
    s = at(D(2026, 10, 20))
    acct = new_account(s, yuan("5000.00"))
    run_until(s, D(2026, 10, 20))
    buy(s, acct, yuan("1000.00"))
    run_until(s, D(2026, 11, 2))
    purchases.repay(s, acct, billing.get_bill(s, acct, "2026-11")["minimum_unpaid"], "min-1")
    run_until(s, D(2026, 11, 15))
    second = buy(s, acct, yuan("500.00")).body["purchase_id"]
    run_until(s, D(2026, 12, 2))
    bill = billing.get_bill(s, acct, "2026-12")
    assert bill["unpaid_interest"] > 0 and amounts(bill, "carried_balance")
    purchases.refund_purchase(s, second, yuan("500.00"), "refund-2")
    bill = billing.get_bill(s, acct, "2026-12")
    assert bill["paid_by_due_date"] == 0 and bill["minimum_unpaid"] == bill["minimum_due"]
    assert bill["unpaid_interest"] > 0  # a refund pays principal only
    run_until(s, D(2027, 2, 2))  # overdue from 12-11; the 2027-01 and 2027-02 closes work
    assert billing.get_bill(s, acct, "2026-12")["status"] == "overdue"
    # reported overdue (past the grace days): the risk policy froze the line (docs/risk.md)
    view = accounts.account_view(s, acct)
    assert view["status"] == "frozen" and [r["cause"] for r in view["restrictions"]] == ["overdue_reported"]


def test_a_bill_refunded_below_its_minimum_asks_only_for_what_is_left(at):
    s2 = at(D(2026, 10, 20))
    other = new_account(s2, yuan("5000.00"), user_id="refunded")
    run_until(s2, D(2026, 10, 20))
    pid = buy(s2, other, yuan("300.00")).body["purchase_id"]
    run_until(s2, D(2026, 11, 2))
    purchases.refund_purchase(s2, pid, yuan("290.00"), "refund-most")
    bill = billing.get_bill(s2, other, "2026-11")
    assert (bill["minimum_due"], bill["unpaid"], bill["minimum_unpaid"]) == (
        yuan("30.00"),
        yuan("10.00"),
        yuan("10.00"),
    )
    purchases.repay(s2, other, yuan("10.00"), "the-rest")
    run_until(s2, D(2026, 11, 12))
    assert billing.get_bill(s2, other, "2026-11")["status"] == "paid"
    assert accounts.account_view(s2, other)["status"] == "active"


def test_temporary_limit_spending_is_not_convertible_and_the_limit_expires(at):
    s = at(D(2026, 10, 20))
    acct = new_account(s, yuan("1000.00"))
    accounts.grant_temporary_limit(s, acct, amount=yuan("500.00"), expires_on=D(2026, 11, 15))
    run_until(s, D(2026, 10, 20))
    pid = buy(s, acct, yuan("1200.00")).body["purchase_id"]  # 200.00 on the temporary limit
    with s.engine.connect() as c:
        assert c.execute(select(t.purchases.c.on_temporary_limit)).scalar() == yuan("200.00")
    assert billing.quote_purchase_installments(s, pid, 3)["principal"] == yuan("1000.00")
    assert (
        code(billing.quote_purchase_installments, s, pid, 3, yuan("1200.00"))
        == "installment_exceeds_convertible_amount"
    )
    assert code(billing.quote_purchase_installments, s, pid, 5) == "installment_term_not_offered"
    run_until(s, D(2026, 11, 1))
    bill = billing.get_bill(s, acct, "2026-11")
    assert bill["temporary_limit_part"] == yuan("200.00")
    # the temporary-limit part is owed in full: 10 % of 1,000.00 + 200.00
    assert (bill["minimum_rated_base"], bill["minimum_in_full"], bill["minimum_due"]) == (
        yuan("1000.00"),
        yuan("200.00"),
        yuan("300.00"),
    )
    assert billing.quote_bill_installments(s, acct, "2026-11", 6)["principal"] == yuan("1000.00")
    run_until(s, D(2026, 11, 15))
    with s.engine.connect() as c:
        change = c.execute(
            select(t.limit_changes)
            .where(t.limit_changes.c.limit_kind == "temporary")
            .order_by(t.limit_changes.c.change_id.desc())
        ).first()
        assert (change.old_value, change.new_value, change.reasons) == (yuan("500.00"), 0, ["temporary_limit_expired"])
        assert c.execute(select(t.credit_accounts.c.temporary_limit)).scalar() == 0


def test_due_day_choice_cooloff_and_bills_on_the_new_day(at):
    s = at(D(2026, 10, 20))
    acct = new_account(s, yuan("1000.00"))
    assert code(billing.change_due_day, s, acct, 15) == "due_day_not_offered"
    assert billing.change_due_day(s, acct, 9)["changed"] is True
    assert billing.change_due_day(s, acct, 9)["changed"] is False  # the same day: nothing to change
    assert code(billing.change_due_day, s, acct, 10) == "due_day_change_too_soon"
    run_until(s, D(2026, 10, 20))
    buy(s, acct, yuan("100.00"))
    run_until(s, D(2026, 11, 1))
    assert billing.get_bill(s, acct, "2026-11")["due_date"] == "2026-11-09"
    run_until(s, D(2026, 11, 10))  # not repaid by the 9th: overdue from the 10th
    assert billing.get_bill(s, acct, "2026-11")["status"] == "overdue"


def test_fee_waiver_campaign_and_purchase_installments_on_the_bill(at):
    waiver = FeeWaiverCampaign(
        code="double11", terms=(3,), kinds=("purchase",), merchant_ids=("m-tmall",), ends_on=D(2026, 11, 11)
    )
    s = at(D(2026, 10, 25), ProductTerms(installments=InstallmentTerms(fee_waivers=(waiver,))))
    acct = new_account(s, yuan("5000.00"))
    run_until(s, D(2026, 10, 25))
    tmall = buy(s, acct, yuan("900.00"), merchant="m-tmall").body["purchase_id"]
    other = buy(s, acct, yuan("600.00"), merchant="m-jd").body["purchase_id"]
    q = billing.quote_purchase_installments(s, tmall, 3)
    assert (q["fee_waived"], q["campaign"], q["total_fee"]) == (True, "double11", 0)
    assert billing.quote_purchase_installments(s, tmall, 6)["total_fee"] == round(yuan("900.00") * Decimal("0.045"))
    assert billing.quote_purchase_installments(s, other, 3)["fee_waived"] is False
    # converted before its bill closes: period 1 falls due on that bill
    plan = billing.create_purchase_installments(s, tmall, 3, "tmall-3").body
    assert (plan["converted_from"], plan["periods"][0]["due_date"]) == ("unbilled_purchase", "2026-11-10")
    run_until(s, D(2026, 11, 1))
    bill = billing.get_bill(s, acct, "2026-11")
    assert amounts(bill, "purchase") == [yuan("600.00")]  # the converted purchase is not a purchase line
    assert amounts(bill, "installment_principal") == [yuan("300.00")] and amounts(bill, "installment_fee") == []
    assert (bill["total_due"], bill["minimum_due"]) == (yuan("900.00"), yuan("360.00"))
    # a purchase on an open bill, inside its window: the bill shrinks, period 1 on the next bill
    plan = billing.create_purchase_installments(s, other, 6, "jd-6").body
    assert (plan["converted_from"], plan["periods"][0]["due_date"]) == ("billed_purchase", "2026-12-10")
    bill = billing.get_bill(s, acct, "2026-11")
    assert (bill["unpaid"], bill["converted"], bill["minimum_due"]) == (yuan("300.00"), yuan("600.00"), yuan("300.00"))
    run_until(s, D(2026, 11, 11))
    assert code(billing.quote_bill_installments, s, acct, "2026-11", 3) == "installment_window_closed"


def test_ledger_check_proves_the_billing_invariants(at):
    s = at(D(2026, 10, 25))
    acct = new_account(s, yuan("5000.00"))
    run_until(s, D(2026, 10, 25))
    buy(s, acct, yuan("100.00"))
    run_until(s, D(2026, 11, 12))
    assert books.ledger_check(s).ok
    with s.engine.begin() as c:
        c.execute(update(tb.bill_lines).where(tb.bill_lines.c.kind == "purchase").values(amount=9_999))
    assert {f.invariant for f in books.ledger_check(s).findings} == {"bill_lines_add_up"}
    with s.engine.begin() as c:
        c.execute(update(tb.bill_lines).where(tb.bill_lines.c.kind == "purchase").values(amount=yuan("100.00")))
        c.execute(update(tb.bills).values(unpaid_penalty=tb.bills.c.unpaid_penalty + 1))
    found = {f.invariant for f in books.ledger_check(s).findings}
    assert found == {"bill_adds_up", "receivables_equal_bills"}
