"""分期: quotes, conversion windows, temporary-limit refusal, early repayment."""

from __future__ import annotations

import datetime as dt
import itertools
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from huabei.billing import calendar as cal
from huabei.billing import installments as inst
from huabei.billing.rules import BillingError
from huabei.config import BillingTerms, InstallmentTerms
from huabei.money import format_yuan, yuan

D = dt.date
BILLING = BillingTerms()
TERMS = InstallmentTerms()


# ----------------------------------------------------------------------------- worked example (c)


def test_worked_example_c_twelve_periods_of_6000_yuan():
    """docs/billing.md, example (c): bill 2026-11 of 6,000.00 converted into 12 periods."""
    closes, due = cal.statement_date("2026-11", BILLING), cal.due_date("2026-11", 10, BILLING)
    inst.check_bill_conversion(closes, due, D(2026, 11, 5))
    first_due = inst.first_due_date_for_bill("2026-11", 10, BILLING)
    assert first_due == D(2026, 12, 10)
    plan = inst.quote_installments(yuan("6000.00"), 12, first_due, TERMS)
    assert plan.fee_rate == Decimal("0.088")
    assert format_yuan(plan.total_fee) == "528.00"
    assert format_yuan(plan.total) == "6528.00"
    assert [format_yuan(p.principal) for p in plan.periods] == ["500.00"] * 12
    assert [format_yuan(p.fee) for p in plan.periods] == ["44.00"] * 12
    assert [format_yuan(p.total) for p in plan.periods] == ["544.00"] * 12
    assert [p.number for p in plan.periods] == list(range(1, 13))
    assert [p.due_date for p in plan.periods] == [
        D(2026, 12, 10),
        D(2027, 1, 10),
        D(2027, 2, 10),
        D(2027, 3, 10),
        D(2027, 4, 10),
        D(2027, 5, 10),
        D(2027, 6, 10),
        D(2027, 7, 10),
        D(2027, 8, 10),
        D(2027, 9, 10),
        D(2027, 10, 10),
        D(2027, 11, 10),
    ]
    # each period lands on the bill falling due that day
    assert [cal.period_of_due_date(p.due_date, BILLING) for p in plan.periods][:2] == ["2026-12", "2027-01"]

    # early repayment on 2027-03-15: periods 1-4 are billed (period 4 closed on 2027-03-01)
    early = inst.early_repayment(plan, 4, D(2027, 3, 15), TERMS)
    assert early.periods == (5, 6, 7, 8, 9, 10, 11, 12)
    assert format_yuan(early.principal) == "4000.00"
    assert early.fee_charged == 0
    assert format_yuan(early.fee_waived) == "352.00"
    assert format_yuan(early.total) == "4000.00"
    assert plan.unbilled_principal(4) == yuan("4000.00")


def test_worked_example_c_remainders_go_on_the_last_period():
    """docs/billing.md, example (c), second plan: 1,000.00 over 3 periods."""
    plan = inst.quote_installments(yuan("1000.00"), 3, D(2026, 12, 10), TERMS)
    assert plan.total_fee == 2500  # 1000.00 × 2.5 % = 25.00
    assert [p.principal for p in plan.periods] == [33333, 33333, 33334]
    assert [p.fee for p in plan.periods] == [833, 833, 834]
    assert plan.total == 102500


# ----------------------------------------------------------------------------- quote


def test_fee_is_rounded_once_half_up():
    # 123.45 yuan × 2.5 % = 308.625 fen → 309 fen (half-up, once)
    plan = inst.quote_installments(12345, 3, D(2026, 12, 10), TERMS)
    assert plan.total_fee == 309
    assert [p.fee for p in plan.periods] == [103, 103, 103]
    assert [p.principal for p in plan.periods] == [4115, 4115, 4115]
    # 100.02 yuan × 4.5 % = 450.09 fen → 450
    plan6 = inst.quote_installments(10002, 6, D(2026, 12, 10), TERMS)
    assert plan6.total_fee == 450
    assert [p.principal for p in plan6.periods] == [1667] * 6
    assert [p.fee for p in plan6.periods] == [75] * 6


def test_fee_smaller_than_term_lands_on_last_period():
    plan = inst.quote_installments(100, 12, D(2026, 12, 10), TERMS)  # 1.00 yuan × 8.8 % = 8.8 → 9 fen
    assert plan.total_fee == 9
    assert [p.fee for p in plan.periods] == [0] * 11 + [9]
    assert [p.principal for p in plan.periods] == [8] * 11 + [12]


def test_fee_waiver_gives_zero_fee():
    plan = inst.quote_installments(yuan("6000.00"), 12, D(2026, 12, 10), TERMS, fee_waived=True)
    assert plan.fee_waived is True
    assert plan.total_fee == 0
    assert all(p.fee == 0 for p in plan.periods)
    assert plan.total == yuan("6000.00")


def test_term_not_offered():
    with pytest.raises(BillingError) as exc:
        inst.quote_installments(yuan("600.00"), 24, D(2026, 12, 10), TERMS)
    assert exc.value.code == "installment_term_not_offered"
    assert exc.value.params == {"term": 24, "offered": [3, 6, 9, 12]}


def test_operator_configured_terms_are_honoured():
    terms = InstallmentTerms(fee_rates={24: Decimal("0.16")})
    plan = inst.quote_installments(yuan("2400.00"), 24, D(2026, 12, 10), terms)
    assert plan.total_fee == yuan("384.00")
    with pytest.raises(BillingError):
        inst.quote_installments(yuan("2400.00"), 12, D(2026, 12, 10), terms)


@pytest.mark.parametrize(("principal", "term"), [(0, 3), (-500, 3), (2, 3), (11, 12)])
def test_amount_too_small(principal, term):
    with pytest.raises(BillingError) as exc:
        inst.quote_installments(principal, term, D(2026, 12, 10), TERMS)
    assert exc.value.code == "installment_amount_too_small"
    assert exc.value.params["minimum_fen"] == term


def test_smallest_amount_gives_one_fen_per_period():
    plan = inst.quote_installments(3, 3, D(2026, 12, 10), TERMS)
    assert [p.principal for p in plan.periods] == [1, 1, 1]


def test_money_must_be_int_fen():
    with pytest.raises(TypeError):
        inst.quote_installments(600.0, 3, D(2026, 12, 10), TERMS)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        inst.quote_installments(True, 3, D(2026, 12, 10), TERMS)  # type: ignore[arg-type]


def test_periods_fall_due_on_the_due_day_across_month_ends():
    plan = inst.quote_installments(yuan("300.00"), 3, D(2027, 12, 31), TERMS)
    assert [p.due_date for p in plan.periods] == [D(2027, 12, 31), D(2028, 1, 31), D(2028, 2, 29)]
    plan = inst.quote_installments(yuan("300.00"), 3, D(2027, 2, 28), TERMS, due_day=30)
    assert [p.due_date for p in plan.periods] == [D(2027, 2, 28), D(2027, 3, 30), D(2027, 4, 30)]


@given(
    principal=st.integers(min_value=1, max_value=10_000_000 * 100),
    term=st.sampled_from(sorted(TERMS.fee_rates)),
    first_due=st.dates(min_value=D(2000, 1, 1), max_value=D(2090, 12, 31)),
    waived=st.booleans(),
)
def test_periods_sum_exactly_to_principal_and_fee(principal, term, first_due, waived):
    if principal < term:
        with pytest.raises(BillingError):
            inst.quote_installments(principal, term, first_due, TERMS, fee_waived=waived)
        return
    plan = inst.quote_installments(principal, term, first_due, TERMS, fee_waived=waived)
    assert len(plan.periods) == term
    assert sum(p.principal for p in plan.periods) == principal
    assert sum(p.fee for p in plan.periods) == plan.total_fee
    assert plan.total == principal + plan.total_fee
    expected_fee = (
        0 if waived else int((Decimal(principal) * TERMS.fee_rates[term]).quantize(Decimal(1), "ROUND_HALF_UP"))
    )
    assert plan.total_fee == expected_fee
    assert all(p.principal >= 1 for p in plan.periods)
    first = plan.periods[0]
    assert all(p.principal == first.principal and p.fee == first.fee for p in plan.periods[:-1])
    assert 0 <= plan.periods[-1].principal - first.principal < term
    assert 0 <= plan.periods[-1].fee - first.fee < term
    dates = [p.due_date for p in plan.periods]
    assert dates[0] == first_due
    assert all(a < b for a, b in itertools.pairwise(dates))
    assert all(d.day == min(first_due.day, cal.days_in_month(d.year, d.month)) for d in dates)


# ----------------------------------------------------------------------------- windows


def test_bill_conversion_window_is_statement_to_due_date_inclusive():
    closes, due = D(2026, 11, 1), D(2026, 11, 10)
    assert not inst.can_convert_bill(closes, due, D(2026, 10, 31))
    assert inst.can_convert_bill(closes, due, closes)
    assert inst.can_convert_bill(closes, due, D(2026, 11, 5))
    assert inst.can_convert_bill(closes, due, due)
    assert not inst.can_convert_bill(closes, due, D(2026, 11, 11))
    inst.check_bill_conversion(closes, due, due)
    with pytest.raises(BillingError) as exc:
        inst.check_bill_conversion(closes, due, D(2026, 11, 11))
    assert exc.value.code == "installment_window_closed"
    assert exc.value.params["window_end"] == "2026-11-10"


def test_purchase_conversion_window():
    bought = D(2026, 10, 20)  # lands on bill 2026-11 (closes 11-01, due 11-10)
    assert inst.can_convert_purchase(bought, bought, 10, BILLING)
    assert inst.can_convert_purchase(bought, D(2026, 10, 31), 10, BILLING)  # not billed yet
    assert inst.can_convert_purchase(bought, D(2026, 11, 1), 10, BILLING)  # on the unpaid bill
    assert inst.can_convert_purchase(bought, D(2026, 11, 10), 10, BILLING)
    assert not inst.can_convert_purchase(bought, D(2026, 11, 11), 10, BILLING)
    # an account due on the 9th: the 9th is the last day
    assert inst.can_convert_purchase(bought, D(2026, 11, 9), 9, BILLING)
    assert not inst.can_convert_purchase(bought, D(2026, 11, 10), 9, BILLING)
    # bill repaid in full: only convertible while unbilled
    assert inst.can_convert_purchase(bought, D(2026, 10, 31), 10, BILLING, bill_settled=True)
    assert not inst.can_convert_purchase(bought, D(2026, 11, 2), 10, BILLING, bill_settled=True)
    with pytest.raises(BillingError) as exc:
        inst.check_purchase_conversion(bought, D(2026, 11, 11), 10, BILLING)
    assert exc.value.code == "installment_window_closed"
    assert exc.value.params["period"] == "2026-11"
    with pytest.raises(ValueError):
        inst.can_convert_purchase(bought, D(2026, 10, 19), 10, BILLING)


def test_first_due_date_of_a_purchase_plan():
    bought = D(2026, 10, 20)
    assert inst.first_due_date_for_purchase(bought, D(2026, 10, 25), 10, BILLING) == D(2026, 11, 10)
    assert inst.first_due_date_for_purchase(bought, D(2026, 11, 3), 10, BILLING) == D(2026, 12, 10)
    assert inst.first_due_date_for_purchase(D(2026, 12, 31), D(2026, 12, 31), 9, BILLING) == D(2027, 1, 9)


def test_temporary_limit_spending_is_not_convertible():
    assert inst.convertible_amount(yuan("1000.00"), yuan("300.00")) == yuan("700.00")
    inst.check_convertible_amount(yuan("700.00"), yuan("700.00"))
    with pytest.raises(BillingError) as exc:
        inst.check_convertible_amount(yuan("700.01"), yuan("700.00"))
    assert exc.value.code == "installment_exceeds_convertible_amount"
    assert exc.value.params == {"requested_fen": 70001, "convertible_fen": 70000}
    # a purchase made wholly on the temporary limit
    with pytest.raises(BillingError):
        inst.check_convertible_amount(1, inst.convertible_amount(yuan("50.00"), yuan("50.00")))
    with pytest.raises(ValueError):
        inst.convertible_amount(100, 101)


# ----------------------------------------------------------------------------- early repayment


def test_early_repayment_charging_unbilled_fees_when_configured():
    plan = inst.quote_installments(yuan("1000.00"), 3, D(2026, 12, 10), TERMS)
    charging = InstallmentTerms(early_repayment_waives_unbilled_fees=False)
    early = inst.early_repayment(plan, 1, D(2026, 12, 20), charging)
    assert early.periods == (2, 3)
    assert early.principal == 33333 + 33334
    assert early.fee_charged == 833 + 834
    assert early.fee_waived == 0
    assert early.total == early.principal + early.fee_charged


def test_early_repayment_before_anything_is_billed():
    plan = inst.quote_installments(yuan("1000.00"), 3, D(2026, 12, 10), TERMS)
    early = inst.early_repayment(plan, 0, D(2026, 11, 5), TERMS)
    assert early.principal == yuan("1000.00")
    assert early.fee_waived == plan.total_fee
    assert early.total == yuan("1000.00")


def test_early_repayment_refusals():
    plan = inst.quote_installments(yuan("1000.00"), 3, D(2026, 12, 10), TERMS)
    with pytest.raises(BillingError) as exc:
        inst.early_repayment(plan, 3, D(2027, 2, 5), TERMS)
    assert exc.value.code == "installment_fully_billed"
    with pytest.raises(ValueError):
        inst.early_repayment(plan, 4, D(2027, 2, 5), TERMS)
    with pytest.raises(ValueError):  # period 2 is due 2027-01-10: it cannot still be unbilled
        inst.early_repayment(plan, 1, D(2027, 1, 10), TERMS)


@given(
    principal=st.integers(min_value=12, max_value=5_000_000),
    term=st.sampled_from(sorted(TERMS.fee_rates)),
    billed=st.integers(min_value=0, max_value=11),
    waive=st.booleans(),
)
def test_early_repayment_plus_billed_periods_is_the_plan(principal, term, billed, waive):
    billed = min(billed, term - 1)
    plan = inst.quote_installments(principal, term, D(2026, 12, 10), TERMS)
    terms = InstallmentTerms(early_repayment_waives_unbilled_fees=waive)
    early = inst.early_repayment(plan, billed, plan.periods[billed].due_date - dt.timedelta(days=20), terms)
    billed_principal = sum(p.principal for p in plan.periods[:billed])
    billed_fee = sum(p.fee for p in plan.periods[:billed])
    assert billed_principal + early.principal == plan.principal
    assert billed_fee + early.fee_charged + early.fee_waived == plan.total_fee
    assert (early.fee_waived == 0) if not waive else (early.fee_charged == 0)
    assert early.principal == plan.unbilled_principal(billed)
