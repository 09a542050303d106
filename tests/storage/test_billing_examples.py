"""docs/billing.md worked examples, end to end: purchases, the end-of-day job, repayments and
installments through storage, on SQLite and PostgreSQL, checked to the fen (the pure rules
are checked by tests/unit/test_billing.py and test_installments.py)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
from tests.conftest import buy, make_system, new_account

from huabei.batch import books, eod
from huabei.billing import service as billing
from huabei.errors import HuabeiError
from huabei.lines import queries
from huabei.lines import service as accounts
from huabei.money import yuan
from huabei.payments import service as purchases
from huabei.platform import schema as t
from huabei.platform.unit_of_work import Huabei

D = dt.date


@pytest.fixture
def october(db_url: str) -> Iterator[Huabei]:
    s = make_system(db_url, start=D(2026, 10, 1))
    yield s
    s.engine.dispose()


def run_until(system: Huabei, day: dt.date) -> None:
    eod.run_eod(system, until=day)
    report = books.ledger_check(system)
    assert report.ok, report.findings


def amounts(bill: dict, kind: str) -> list[int]:
    return [line["amount"] for line in bill["lines"] if line["kind"] == kind]


def signed_sum(bill: dict) -> int:
    return sum(
        -x["amount"] if x["kind"] in ("refund", "repayment", "carried_credit") else x["amount"] for x in bill["lines"]
    )


def events(system: Huabei, account_id: int, kind: str) -> list:
    with system.engine.connect() as c:
        return list(
            c.execute(
                t.domain_events.select()
                .where(t.domain_events.c.account_id == account_id, t.domain_events.c.event_type == kind)
                .order_by(t.domain_events.c.event_id)
            )
        )


def code(fn, *a, **kw) -> str:
    with pytest.raises(HuabeiError) as e:
        fn(*a, **kw)
    return e.value.code


def test_worked_examples_a_b_d_purchases_minimum_repayment_and_forty_days_overdue(october):
    s = october
    a = new_account(s, yuan("10000.00"), user_id="ex-a")  # (a) then (b): pays the minimum
    d = new_account(s, yuan("10000.00"), user_id="ex-d")  # (a) then (d): pays nothing
    c = new_account(s, yuan("10000.00"), user_id="ex-c")  # a purchase on the statement date
    refunds = {}
    for day, amount in ((D(2026, 10, 3), "1234.56"), (D(2026, 10, 12), "89.90"), (D(2026, 10, 20), "2000.00")):
        run_until(s, day)
        for acct in (a, d):
            refunds[acct] = buy(s, acct, yuan(amount)).body["purchase_id"]
    run_until(s, D(2026, 10, 25))
    for acct in (a, d):
        purchases.refund_purchase(s, refunds[acct], yuan("200.00"), f"refund-{acct}")
    run_until(s, D(2026, 10, 31))
    buy(s, c, yuan("100.00"))
    run_until(s, D(2026, 11, 1))
    buy(s, c, yuan("50.00"))  # on the statement date: the next bill

    # (a) bill 2026-11 closes 2026-11-01, due 2026-11-10: 3,124.46, minimum 312.45
    for acct in (a, d):
        bill = billing.get_bill(s, acct, "2026-11")
        assert (bill["statement_date"], bill["due_date"], bill["status"]) == ("2026-11-01", "2026-11-10", "open")
        assert amounts(bill, "purchase") == [yuan("1234.56"), yuan("89.90"), yuan("2000.00")]
        assert amounts(bill, "refund") == [yuan("200.00")]
        assert (bill["total_due"], bill["minimum_due"], bill["unpaid"]) == (
            yuan("3124.46"),
            yuan("312.45"),
            yuan("3124.46"),
        )
        assert signed_sum(bill) == bill["closing_balance"] == bill["total_due"]
    assert [b["total_due"] for b in billing.list_bills(s, c)] == [yuan("100.00")]
    assert billing.unbilled_view(s, c)["lines"][0]["amount"] == yuan("50.00")

    # (b) the minimum repaid on the due date goes to principal; 2,812.01 revolves from 11-11
    run_until(s, D(2026, 11, 10))
    out = purchases.repay(s, a, yuan("312.45"), "min-a")
    assert out.body["bills"] == [{"period": "2026-11", "component": "principal", "amount": yuan("312.45")}]
    bill = billing.get_bill(s, a, "2026-11")
    assert bill["allocations"][0]["amount"] == yuan("312.45") and bill["unpaid"] == yuan("2812.01")
    assert bill["minimum_unpaid"] == 0
    run_until(s, D(2026, 11, 11))
    assert billing.get_bill(s, a, "2026-11")["regime"] == "revolving"
    # (d) nothing repaid: overdue from 11-11, purchases refused
    assert billing.get_bill(s, d, "2026-11")["status"] == "overdue"
    assert accounts.account_view(s, d)["status"] == "overdue"
    assert code(buy, s, d, 100) == "account_overdue"
    assert [e.payload["days_past_due"] for e in events(s, d, "BecameOverdue")] == [1]
    run_until(s, D(2026, 11, 15))
    buy(s, a, yuan("500.00"))
    run_until(s, D(2026, 12, 1))

    bill = billing.get_bill(s, a, "2026-12")
    daily = amounts(bill, "interest")
    assert len(daily) == 20 and daily[:4] == [141, 140, 141, 140] and sum(daily) == yuan("28.12")
    assert amounts(bill, "carried_balance") == [yuan("2812.01")] and amounts(bill, "purchase") == [yuan("500.00")]
    assert (bill["total_due"], bill["minimum_due"]) == (yuan("3340.13"), yuan("359.32"))
    assert signed_sum(bill) == bill["total_due"]
    old = billing.get_bill(s, a, "2026-11")
    assert (old["status"], old["carried_to"], old["unpaid"], old["carried_out"]) == (
        "paid",
        "2026-12",
        0,
        yuan("2812.01"),
    )
    # on 2026-12-01 the carried balance keeps accruing: 1.41 that day, on the next bill
    assert [x["amount"] for x in billing.unbilled_view(s, a)["lines"] if x["kind"] == "interest"] == [141]
    assert billing.get_bill(s, a, "2026-12")["regime"] == "not_due"

    # (d) penalty of Nov 11 … 30 (20 days): 31.24, on bill 2026-12, whose minimum is that penalty
    bill = billing.get_bill(s, d, "2026-12")
    assert sum(amounts(bill, "penalty")) == yuan("31.24") and len(amounts(bill, "penalty")) == 20
    assert (bill["total_due"], bill["minimum_due"]) == (yuan("31.24"), yuan("31.24"))
    run_until(s, D(2026, 12, 20))
    status = billing.billing_status(s, d)
    assert (status["days_past_due"], status["bucket"]) == (40, "dpd_31_60")
    assert status["unbilled_penalty"] == yuan("31.25")  # Dec 1 … 20: 6,249 − 3,124 fen, no fen lost
    assert yuan("31.24") + yuan("31.25") == yuan("62.49")
    changed = events(s, d, "DelinquencyBucketChanged")
    assert [(e.business_date, e.payload["to_bucket"]) for e in changed] == [(D(2026, 12, 11), "dpd_31_60")]
    # bill 2026-12 holds only penalty: overdue after 12-10 but accrues nothing itself
    assert billing.get_bill(s, d, "2026-12")["status"] == "overdue"

    # a cash repayment is capped at the payoff amount (3,186.95 here); the allocation pays the
    # overdue bill's principal, then bill 2026-12's penalty; the rest waits for the next bill
    assert code(purchases.repay, s, d, yuan("3200.00"), "d-too-much") == "repayment_exceeds_balance"
    # reported overdue, the line is frozen (overdue_reported, the risk policy: docs/risk.md); this
    # worked example's operator sets no cool-off after an overdue of up to 90 days (the default
    # waits restrictions.overdue_cooloff_days_up_to_90), so the end of day after the repayment lifts it
    assert accounts.account_view(s, d)["status"] == "frozen" and code(buy, s, d, 100) == "account_frozen"
    s.terms = s.terms.model_copy(
        update={"restrictions": s.terms.restrictions.model_copy(update={"overdue_cooloff_days_up_to_90": 0})}
    )
    out = purchases.repay(s, d, yuan("3186.95"), "d-all")
    assert out.body["bills"] == [
        {"period": "2026-11", "component": "principal", "amount": yuan("3124.46")},
        {"period": "2026-12", "component": "penalty", "amount": yuan("31.24")},
        {"period": None, "component": "credit", "amount": yuan("31.25")},
    ]
    assert accounts.account_view(s, d)["status"] == "frozen"
    run_until(s, D(2026, 12, 21))
    assert accounts.account_view(s, d)["status"] == "active"
    assert buy(s, d, 100).status == 201
    assert [e.payload["from_bucket"] for e in events(s, d, "DelinquencyCured")] == ["dpd_31_60"]
    run_until(s, D(2027, 1, 1))
    bill = billing.get_bill(s, d, "2027-01")
    assert sum(amounts(bill, "penalty")) == yuan("31.25") and amounts(bill, "repayment") == [yuan("31.25")]
    assert amounts(bill, "purchase") == [100]
    assert (bill["total_due"], bill["credit_balance"]) == (100, 0)
    assert accounts.account_view(s, d)["credit_balance"] == 0
    kinds = {x["type"] for x in queries.transactions(s, d, limit=100)["data"]}
    assert {"penalty", "repayment", "credit_applied"} <= kinds


def test_worked_example_c_twelve_periods_and_early_repayment(db_url):
    s = make_system(db_url, start=D(2026, 10, 31))
    try:
        acct = new_account(s, yuan("8000.00"))
        run_until(s, D(2026, 10, 31))
        buy(s, acct, yuan("6000.00"))
        run_until(s, D(2026, 11, 5))
        quote = billing.quote_bill_installments(s, acct, "2026-11", 12)
        assert (quote["total_fee"], quote["total"], quote["fee_rate"]) == (yuan("528.00"), yuan("6528.00"), "0.088")
        assert [(p["due_date"], p["principal"], p["fee"]) for p in quote["periods"][:2]] == [
            ("2026-12-10", yuan("500.00"), yuan("44.00")),
            ("2027-01-10", yuan("500.00"), yuan("44.00")),
        ]
        assert quote["periods"][-1]["due_date"] == "2027-11-10"
        assert billing.get_bill(s, acct, "2026-11")["converted"] == 0  # a quote changes nothing
        plan = billing.create_bill_installments(s, acct, "2026-11", 12, "plan-1")
        assert plan.status == 201 and plan.body["status"] == "active"
        assert billing.create_bill_installments(s, acct, "2026-11", 12, "plan-1").replayed
        assert code(billing.create_bill_installments, s, acct, "2026-11", 6, "plan-2") == "installment_plan_exists"
        bill = billing.get_bill(s, acct, "2026-11")
        assert (bill["converted"], bill["unpaid"], bill["minimum_due"], bill["status"]) == (
            yuan("6000.00"),
            0,
            0,
            "paid",
        )
        # installment principal not yet billed keeps occupying the limit
        assert accounts.account_view(s, acct)["available"] == yuan("2000.00")
        run_until(s, D(2026, 12, 1))
        bill = billing.get_bill(s, acct, "2026-12")
        assert amounts(bill, "installment_principal") == [yuan("500.00")]
        assert amounts(bill, "installment_fee") == [yuan("44.00")]
        assert (bill["total_due"], bill["minimum_due"], bill["due_date"]) == (
            yuan("544.00"),
            yuan("544.00"),
            "2026-12-10",
        )
        purchases.repay(s, acct, yuan("544.00"), "period-1")
        assert accounts.account_view(s, acct)["available"] == yuan("2500.00")
        run_until(s, D(2026, 12, 15))
        early = billing.quote_early_repayment(s, plan.body["plan_id"])
        assert early["periods"] == list(range(2, 13))
        assert (early["principal"], early["fee_waived"], early["fee_charged"]) == (
            yuan("5500.00"),
            11 * yuan("44.00"),
            0,
        )
        done = billing.repay_installments_early(s, plan.body["plan_id"], "early-1")
        assert done.body["status"] == "repaid_early" and done.body["amount"] == yuan("5500.00")
        assert billing.repay_installments_early(s, plan.body["plan_id"], "early-1").replayed
        view = accounts.account_view(s, acct)
        assert (view["used"], view["available"]) == (0, yuan("8000.00"))
        assert billing.get_plan(s, plan.body["plan_id"])["status"] == "repaid_early"
        assert not [x for x in billing.unbilled_view(s, acct)["lines"] if x["kind"].startswith("installment")]
        # the remainders go on the last period: 1,000.00 over 3 periods
        p = buy(s, acct, yuan("1000.00")).body["purchase_id"]
        q = billing.quote_purchase_installments(s, p, 3)
        assert [(x["principal"], x["fee"]) for x in q["periods"]] == [(33333, 833), (33333, 833), (33334, 834)]
    finally:
        s.engine.dispose()
