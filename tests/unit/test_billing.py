"""Bills, minimum repayment, interest and penalty accrual, repayment allocation."""

from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import ROUND_HALF_UP, Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from huabei.billing import calendar as cal
from huabei.billing import rules as b
from huabei.billing.rules import (
    AccrualState,
    BillingError,
    BillLine,
    BillState,
    Component,
    Due,
    LineKind,
    Regime,
)
from huabei.config import BillingTerms
from huabei.money import format_yuan, yuan

D = dt.date
TERMS = BillingTerms()
RATE = TERMS.revolving_daily_rate
PENALTY = TERMS.penalty_daily_rate


def day_range(first: dt.date, last: dt.date):
    d = first
    while d <= last:
        yield d
        d += dt.timedelta(days=1)


def october_bill() -> b.BillStatement:
    lines = [
        BillLine("purchase", yuan("1234.56"), D(2026, 10, 3), "p-1"),
        BillLine("purchase", yuan("89.90"), D(2026, 10, 12), "p-2"),
        BillLine("purchase", yuan("2000.00"), D(2026, 10, 20), "p-3"),
        BillLine("refund", yuan("200.00"), D(2026, 10, 25), "r-1"),
    ]
    return b.compose_bill("2026-11", lines, TERMS, due_day=10)


def post_daily(state: AccrualState, base: int, rate: Decimal, days, kind: str, ref: str):
    """What the end-of-day job does: one line per day on which a whole fen is posted."""
    lines = []
    for day in days:
        state, post = b.accrue(state, base, rate, 1)
        if post:
            lines.append(BillLine(kind, post, day, ref))
    return state, lines


# ============================================================================ worked examples


def test_worked_example_a_month_of_purchases_and_a_refund():
    """docs/billing.md, example (a)."""
    bill = october_bill()
    assert bill.period == "2026-11"
    assert bill.statement_date == D(2026, 11, 1)
    assert bill.due_date == D(2026, 11, 10)
    assert format_yuan(bill.total_due) == "3124.46"
    assert bill.minimum_rated_base == 312446 and bill.minimum_in_full == 0
    assert format_yuan(bill.minimum_due) == "312.45"  # 31,244.6 fen, rounded half-up once
    assert bill.credit_balance == 0
    assert sum(line.signed_fen for line in bill.lines) == bill.total_due
    assert b.dues_of_bill(bill) == (Due("2026-11", D(2026, 11, 10), Component.PRINCIPAL, 312446),)
    # a purchase ON the statement date belongs to the next bill
    assert cal.bill_period_for(D(2026, 11, 1), TERMS) == "2026-12"
    with pytest.raises(ValueError, match="not in the cycle"):
        b.compose_bill("2026-11", [*bill.lines, BillLine("purchase", 100, D(2026, 11, 1), "p-4")], TERMS, 10)


def test_worked_example_b_minimum_repayment_and_revolving_interest():
    """docs/billing.md, example (b)."""
    nov = october_bill()
    # 2026-11-10: the customer repays exactly the minimum
    paid = b.allocate_repayment(nov.minimum_due, b.dues_of_bill(nov))
    assert paid.allocated_fen == 31245 and paid.unallocated_fen == 0
    rest = paid.lines[0].remaining_fen
    assert format_yuan(rest) == "2812.01"
    state = BillState(
        due_date=nov.due_date,
        total_due=nov.total_due,
        minimum_due=nov.minimum_due,
        paid_by_due_date=31245,
        unpaid_principal=rest,
    )
    assert b.accrual_basis(state, D(2026, 11, 10), TERMS) == b.AccrualBasis(Regime.NOT_DUE, RATE, 0)
    basis = b.accrual_basis(state, D(2026, 11, 11), TERMS)
    assert basis == b.AccrualBasis(Regime.REVOLVING, Decimal("0.0005"), 281201)
    assert b.daily_accrual(281201, RATE) == Decimal("140.6005")

    # 2026-11-11 .. 2026-11-30: 20 days, posted day by day
    acc, interest_lines = post_daily(
        AccrualState(),
        basis.base_fen,
        basis.rate,
        day_range(D(2026, 11, 11), D(2026, 11, 30)),
        "interest",
        "bill-2026-11",
    )
    posts = [line.amount_fen for line in interest_lines]
    assert posts[:4] == [141, 140, 141, 140]
    assert sum(posts) == 2812 and acc.exact == Decimal("2812.0100") and acc.posted == 2812
    assert b.accrue(AccrualState(), 281201, RATE, 20) == (acc, 2812)  # one 20-day run: the same

    dec = b.compose_bill(
        "2026-12",
        [
            BillLine("carried_balance", rest, D(2026, 11, 10), "bill-2026-11"),
            BillLine("purchase", yuan("500.00"), D(2026, 11, 15), "p-5"),
            *interest_lines,
        ],
        TERMS,
        10,
    )
    assert format_yuan(dec.amount_of("interest")) == "28.12"
    assert format_yuan(dec.total_due) == "3340.13"
    assert dec.minimum_rated_base == 331201 and dec.minimum_in_full == 2812
    assert format_yuan(dec.minimum_due) == "359.32"  # 10 % × 3,312.01 = 331.201 → 331.20, + 28.12
    assert dec.due_date == D(2026, 12, 10)
    # the carried balance never gets a new interest-free period: it accrues from 12-01 on
    dec_state = BillState(
        due_date=dec.due_date,
        total_due=dec.total_due,
        minimum_due=dec.minimum_due,
        paid_by_due_date=0,
        unpaid_principal=331201,
        unpaid_interest=2812,
        unpaid_carried_principal=rest,
    )
    assert b.accrual_basis(dec_state, D(2026, 12, 1), TERMS) == b.AccrualBasis(Regime.NOT_DUE, RATE, 281201)
    assert b.accrue(acc, 281201, RATE, 1) == (AccrualState(Decimal("2952.6105"), 2953), 141)


def test_worked_example_d_forty_days_overdue():
    """docs/billing.md, example (d)."""
    nov = october_bill()
    state = BillState(
        due_date=nov.due_date,
        total_due=nov.total_due,
        minimum_due=nov.minimum_due,
        paid_by_due_date=0,
        unpaid_principal=nov.total_due,
    )
    basis = b.accrual_basis(state, D(2026, 11, 11), TERMS)
    assert basis == b.AccrualBasis(Regime.OVERDUE, PENALTY, 312446)

    # penalty for 2026-11-11 .. 2026-11-30 is posted on bill 2026-12
    acc, nov_penalty = post_daily(
        AccrualState(),
        basis.base_fen,
        basis.rate,
        day_range(D(2026, 11, 11), D(2026, 11, 30)),
        "penalty",
        "bill-2026-11",
    )
    assert sum(line.amount_fen for line in nov_penalty) == 3124  # 3,124.46 fen → 31.24
    dec = b.compose_bill("2026-12", nov_penalty, TERMS, 10)
    assert format_yuan(dec.total_due) == "31.24" and dec.minimum_due == dec.total_due  # penalty in full

    # 2026-12-01 .. 2026-12-20 (a repayment on 12-20 still pays that day: 40 days in all)
    acc, dec_penalty = post_daily(
        acc, basis.base_fen, basis.rate, day_range(D(2026, 12, 1), D(2026, 12, 20)), "penalty", "bill-2026-11"
    )
    assert sum(line.amount_fen for line in dec_penalty) == 3125  # not 3,124: the cumulative total is rounded
    assert acc == AccrualState(Decimal("6248.9200"), 6249)
    assert format_yuan(acc.posted) == "62.49"
    assert acc.posted == b.accrue(AccrualState(), 312446, PENALTY, 40)[1]

    # the delinquency on 2026-12-20
    assert cal.delinquency(nov.due_date, D(2026, 12, 20), TERMS) == cal.Delinquency(40, "dpd_31_60", True)
    assert cal.reportable_from(nov.due_date, TERMS) == D(2026, 11, 14)
    # bill 2026-12 (only penalty) is overdue too, but penalty bears no penalty
    dec_state = BillState(
        due_date=dec.due_date,
        total_due=dec.total_due,
        minimum_due=dec.minimum_due,
        paid_by_due_date=0,
        unpaid_principal=0,
        unpaid_penalty=dec.total_due,
    )
    assert b.accrual_basis(dec_state, D(2026, 12, 11), TERMS) == b.AccrualBasis(Regime.OVERDUE, PENALTY, 0)

    # 2026-12-20: the customer repays 3,200.00
    repayment = b.allocate_repayment(yuan("3200.00"), [*b.dues_of_bill(dec), *b.dues_of_bill(nov)])
    assert [(line.period, line.component, format_yuan(line.amount_fen)) for line in repayment.lines] == [
        ("2026-11", Component.PRINCIPAL, "3124.46"),
        ("2026-12", Component.PENALTY, "31.24"),
    ]
    assert format_yuan(repayment.unallocated_fen) == "44.30"
    # the overpayment is a credit on bill 2027-01, next to the penalty of December
    jan = b.compose_bill(
        "2027-01", [*dec_penalty, BillLine("repayment", repayment.unallocated_fen, D(2026, 12, 20), "rp-1")], TERMS, 10
    )
    assert jan.total_due == 0 and jan.minimum_due == 0
    assert format_yuan(jan.credit_balance) == "13.05"


# ============================================================================ bill lines


def test_bill_line_validation():
    assert BillLine("refund", 10, D(2026, 10, 1)).kind is LineKind.REFUND
    assert BillLine(LineKind.PURCHASE, 10, D(2026, 10, 1)).signed_fen == 10
    assert BillLine("refund", 10, D(2026, 10, 1)).signed_fen == -10
    assert BillLine("carried_credit", 10, D(2026, 10, 1)).is_credit
    with pytest.raises(ValueError, match="unknown bill line kind"):
        BillLine("cashback", 10, D(2026, 10, 1))
    with pytest.raises(ValueError):
        BillLine("purchase", -1, D(2026, 10, 1))
    with pytest.raises(TypeError):
        BillLine("purchase", 1.5, D(2026, 10, 1))  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        BillLine("purchase", True, D(2026, 10, 1))  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        BillLine("purchase", 1, dt.datetime(2026, 10, 1, 9, 0))
    with pytest.raises(dataclasses.FrozenInstanceError):
        BillLine("purchase", 1, D(2026, 10, 1)).amount_fen = 2  # type: ignore[misc]


def test_refunds_only_give_a_credit_balance():
    bill = b.compose_bill("2026-11", [BillLine("refund", yuan("88.80"), D(2026, 10, 5), "r")], TERMS, 10)
    assert (bill.total_due, bill.minimum_due, bill.credit_balance) == (0, 0, 8880)
    assert bill.net_fen == -8880
    assert b.dues_of_bill(bill) == ()


def test_more_refunds_than_purchases():
    lines = [BillLine("purchase", 5000, D(2026, 10, 5), "p"), BillLine("refund", 7000, D(2026, 10, 6), "r")]
    bill = b.compose_bill("2026-11", lines, TERMS, 10)
    assert (bill.total_due, bill.minimum_due, bill.credit_balance) == (0, 0, 2000)


def test_carried_credit_offsets_the_next_bill():
    lines = [
        BillLine("carried_credit", 2000, D(2026, 11, 1), "bill-2026-11"),
        BillLine("purchase", 10000, D(2026, 11, 3), "p"),
    ]
    bill = b.compose_bill("2026-12", lines, TERMS, 10)
    assert bill.total_due == 8000 and bill.minimum_due == 800


def test_empty_bill():
    bill = b.compose_bill("2026-11", [], TERMS, 9)
    assert (bill.total_due, bill.minimum_due, bill.credit_balance, bill.lines) == (0, 0, 0, ())
    assert bill.due_date == D(2026, 11, 9)


def test_lines_are_kept_in_date_order():
    lines = [BillLine("purchase", 1, D(2026, 10, 9), "b"), BillLine("purchase", 2, D(2026, 10, 2), "a")]
    assert [line.ref for line in b.compose_bill("2026-11", lines, TERMS, 10).lines] == ["a", "b"]


def test_repayment_line_outside_the_cycle_is_refused():
    with pytest.raises(ValueError):
        b.compose_bill("2026-11", [BillLine("repayment", 1, D(2026, 9, 30), "x")], TERMS, 10)


def test_compose_bill_refuses_non_lines_and_bad_periods():
    with pytest.raises(TypeError):
        b.compose_bill("2026-11", [("purchase", 1, D(2026, 10, 1), "x")], TERMS, 10)  # type: ignore[list-item]
    with pytest.raises(BillingError):
        b.compose_bill("2026-13", [], TERMS, 10)


# ============================================================================ minimum repayment


def test_minimum_counts_installments_interest_and_penalty_in_full():
    lines = [
        BillLine("purchase", yuan("1000.00"), D(2026, 10, 5), "p"),
        BillLine("installment_principal", yuan("500.00"), D(2026, 11, 10), "plan-1/3"),
        BillLine("installment_fee", yuan("44.00"), D(2026, 11, 10), "plan-1/3"),
        BillLine("interest", yuan("12.34"), D(2026, 10, 31), "bill-2026-10"),
        BillLine("penalty", yuan("5.00"), D(2026, 10, 31), "bill-2026-09"),
    ]
    bill = b.compose_bill("2026-11", lines, TERMS, 10)
    assert bill.total_due == yuan("1561.34")
    assert bill.minimum_due == yuan("100.00") + yuan("561.34")


def test_minimum_rounds_half_up_once():
    bill = b.compose_bill("2026-11", [BillLine("purchase", 5, D(2026, 10, 5), "p")], TERMS, 10)
    assert bill.minimum_due == 1  # 0.5 fen → 1
    bill = b.compose_bill("2026-11", [BillLine("purchase", 4, D(2026, 10, 5), "p")], TERMS, 10)
    assert bill.minimum_due == 0  # 0.4 fen → 0


def test_minimum_never_exceeds_the_bill():
    lines = [
        BillLine("installment_principal", 50000, D(2026, 11, 10), "i"),
        BillLine("refund", 30000, D(2026, 10, 5), "r"),
    ]
    bill = b.compose_bill("2026-11", lines, TERMS, 10)
    assert bill.total_due == 20000 and bill.minimum_due == 20000


def test_prepayment_lowers_the_rated_part():
    lines = [BillLine("purchase", 100000, D(2026, 10, 5), "p"), BillLine("repayment", 40000, D(2026, 10, 20), "rp")]
    bill = b.compose_bill("2026-11", lines, TERMS, 10)
    assert bill.total_due == 60000 and bill.minimum_due == 6000


def test_temporary_limit_spending_counts_in_full_in_the_minimum():
    lines = [BillLine("purchase", 120000, D(2026, 10, 5), "p"), BillLine("refund", 10000, D(2026, 10, 9), "r")]
    bill = b.compose_bill("2026-11", lines, TERMS, 10, full_principal=20000)  # 200.00 on a temporary limit
    assert (bill.minimum_rated_base, bill.minimum_in_full) == (90000, 20000)
    assert bill.minimum_due == 9000 + 20000
    # never more than the rated base: a bill refunded below its temporary-limit part
    bill = b.compose_bill("2026-11", [BillLine("purchase", 5000, D(2026, 10, 5), "p")], TERMS, 10, full_principal=20000)
    assert (bill.minimum_rated_base, bill.minimum_in_full, bill.minimum_due) == (0, 5000, 5000)
    with pytest.raises(ValueError):
        b.compose_bill("2026-11", lines, TERMS, 10, full_principal=-1)


def test_minimum_rate_is_a_product_term():
    terms = BillingTerms(minimum_repayment_rate=Decimal("0.05"))
    bill = b.compose_bill("2026-11", [BillLine("purchase", 100000, D(2026, 10, 5), "p")], terms, 10)
    assert bill.minimum_due == 5000


_cycle_dates = st.dates(min_value=D(2026, 10, 1), max_value=D(2026, 10, 31))
_lines = st.lists(
    st.builds(
        BillLine,
        kind=st.sampled_from(list(LineKind)),
        amount_fen=st.integers(min_value=0, max_value=10_000_000),
        activity_date=_cycle_dates,
        ref=st.text(max_size=5),
    ),
    max_size=25,
)


@given(_lines)
def test_bill_lines_sum_to_the_total_and_minimum_is_bounded(lines):
    bill = b.compose_bill("2026-11", lines, TERMS, 10)
    assert sum(line.signed_fen for line in bill.lines) == bill.total_due - bill.credit_balance
    assert sorted(map(id, bill.lines)) == sorted(map(id, lines))
    assert bill.total_due >= 0 and bill.credit_balance >= 0
    assert bill.total_due == 0 or bill.credit_balance == 0
    assert 0 <= bill.minimum_due <= bill.total_due
    # the formula, computed independently
    rated = sum(
        line.signed_fen
        for line in lines
        if line.kind
        in {LineKind.PURCHASE, LineKind.REFUND, LineKind.REPAYMENT, LineKind.CARRIED_BALANCE, LineKind.CARRIED_CREDIT}
    )
    in_full = sum(
        line.amount_fen
        for line in lines
        if line.kind in {LineKind.INSTALLMENT_PRINCIPAL, LineKind.INSTALLMENT_FEE, LineKind.INTEREST, LineKind.PENALTY}
    )
    raw = int((Decimal("0.10") * max(rated, 0)).quantize(Decimal(1), ROUND_HALF_UP)) + in_full
    assert bill.minimum_due == min(raw, bill.total_due)
    dues = b.dues_of_bill(bill)
    assert sum(d.amount_fen for d in dues) == bill.total_due
    assert all(d.amount_fen > 0 for d in dues)


# ============================================================================ accrual


def test_daily_accrual_is_exact():
    assert b.daily_accrual(312446, PENALTY) == Decimal("156.2230")
    assert b.daily_accrual(1, Decimal("0.0005")) == Decimal("0.0005")
    assert b.daily_accrual(0, RATE) == 0
    with pytest.raises(TypeError):
        b.daily_accrual(100, 0.0005)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        b.daily_accrual(-1, RATE)


def test_small_balances_post_nothing_until_a_whole_fen_accrues():
    state, post = b.accrue(AccrualState(), 999, RATE, 1)  # 0.4995 fen
    assert post == 0
    state, post = b.accrue(state, 999, RATE, 1)  # 0.999 fen → 1
    assert post == 1 and state.posted == 1
    _, post = b.accrue(state, 999, RATE, 0)
    assert post == 0


def test_accrue_validation():
    with pytest.raises(ValueError):
        b.accrue(AccrualState(), 100, RATE, -1)
    with pytest.raises(ValueError):
        b.accrue(AccrualState(Decimal("1.2"), 5), 100, RATE, 1)  # posted more than accrued
    with pytest.raises(TypeError):
        b.accrue(AccrualState(), 100, 0.0005, 1)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        AccrualState(Decimal("-1"), 0)


@given(
    base=st.integers(min_value=0, max_value=10_000_000 * 100),
    cuts=st.lists(st.integers(min_value=0, max_value=120), max_size=8),
    rate=st.sampled_from([Decimal("0.0005"), Decimal("0.00035"), Decimal("0.000333"), Decimal("0")]),
)
def test_accrual_over_a_gap_equals_day_by_day(base, cuts, rate):
    total_days = sum(cuts)
    daily_state, daily_total = AccrualState(), 0
    for _ in range(total_days):
        daily_state, post = b.accrue(daily_state, base, rate, 1)
        assert post >= 0
        daily_total += post
    split_state, split_total = AccrualState(), 0
    for days in cuts:
        split_state, post = b.accrue(split_state, base, rate, days)
        split_total += post
    gap_state, gap_total = b.accrue(AccrualState(), base, rate, total_days)
    assert daily_state == split_state == gap_state
    assert daily_total == split_total == gap_total == gap_state.posted
    expected = int((Decimal(base) * rate * total_days).quantize(Decimal(1), ROUND_HALF_UP))
    assert gap_total == expected


@given(
    st.lists(
        st.tuples(st.integers(min_value=0, max_value=5_000_000), st.integers(min_value=0, max_value=40)), max_size=10
    )
)
def test_posted_is_the_rounded_cumulative_total_for_changing_bases(segments):
    state, posted = AccrualState(), 0
    exact = Decimal(0)
    for base, days in segments:
        state, post = b.accrue(state, base, RATE, days)
        posted += post
        exact += Decimal(base) * RATE * days
        assert posted == state.posted == int(exact.quantize(Decimal(1), ROUND_HALF_UP))
        assert abs(Decimal(posted) - exact) <= Decimal("0.5")


# ============================================================================ regimes


def _state(**kw) -> BillState:
    base = dict(
        due_date=D(2026, 11, 10), total_due=100000, minimum_due=10000, paid_by_due_date=0, unpaid_principal=100000
    )
    base.update(kw)
    return BillState(**base)


def test_regime_paid():
    s = _state(paid_by_due_date=100000, unpaid_principal=0)
    assert b.accrual_basis(s, D(2026, 12, 1), TERMS) == b.AccrualBasis(Regime.PAID, Decimal(0), 0)
    assert not b.accrual_basis(s, D(2026, 12, 1), TERMS).accrues


def test_regime_not_due_is_interest_free():
    basis = b.accrual_basis(_state(), D(2026, 11, 10), TERMS)
    assert basis.regime is Regime.NOT_DUE and basis.base_fen == 0 and not basis.accrues


def test_regime_revolving_on_unpaid_principal_only():
    s = _state(paid_by_due_date=10000, unpaid_principal=90000)
    assert b.accrual_basis(s, D(2026, 11, 11), TERMS) == b.AccrualBasis(Regime.REVOLVING, RATE, 90000)


def test_regime_overdue_on_whole_unpaid_bill_except_penalty():
    s = _state(
        total_due=110000,
        minimum_due=20000,
        paid_by_due_date=19999,
        unpaid_principal=85000,
        unpaid_fee=3000,
        unpaid_interest=2001,
        unpaid_penalty=1000,
    )
    basis = b.accrual_basis(s, D(2026, 11, 11), TERMS)
    assert basis == b.AccrualBasis(Regime.OVERDUE, PENALTY, 90001)


def test_late_minimum_does_not_cure_an_overdue_bill():
    s = _state(paid_by_due_date=0, unpaid_principal=85000)  # 150.00 paid after the due date
    assert b.accrual_basis(s, D(2026, 11, 20), TERMS).regime is Regime.OVERDUE


def test_penalty_rate_is_a_product_term():
    terms = BillingTerms(penalty_daily_rate=Decimal("0.0003"))
    assert b.accrual_basis(_state(), D(2026, 11, 11), terms).rate == Decimal("0.0003")


def test_bill_state_validation():
    with pytest.raises(ValueError):
        _state(unpaid_principal=100001)
    with pytest.raises(ValueError):
        _state(minimum_due=100001)
    with pytest.raises(ValueError):
        _state(unpaid_principal=10, unpaid_carried_principal=11)
    with pytest.raises(TypeError):
        _state(unpaid_principal=10.0)


# ============================================================================ allocation


NOV, DEC = D(2026, 11, 10), D(2026, 12, 10)


def test_allocation_order_within_a_bill():
    dues = [
        Due("2026-12", DEC, "principal", 1000),
        Due("2026-12", DEC, "fee", 100),
        Due("2026-12", DEC, "interest", 10),
        Due("2026-12", DEC, "penalty", 1),
    ]
    alloc = b.allocate_repayment(561, dues)
    assert [(line.component, line.amount_fen, line.remaining_fen) for line in alloc.lines] == [
        (Component.PENALTY, 1, 0),
        (Component.INTEREST, 10, 0),
        (Component.FEE, 100, 0),
        (Component.PRINCIPAL, 450, 550),
    ]
    assert alloc.allocated_fen == 561 and alloc.unallocated_fen == 0


def test_overdue_bill_before_the_current_one_and_overpayment():
    dues = [Due("2026-12", DEC, "penalty", 500), Due("2026-11", NOV, "principal", 2000)]
    alloc = b.allocate_repayment(3000, dues)
    assert [(line.period, line.component, line.amount_fen) for line in alloc.lines] == [
        ("2026-11", Component.PRINCIPAL, 2000),
        ("2026-12", Component.PENALTY, 500),
    ]
    assert alloc.unallocated_fen == 500
    assert alloc.for_period("2026-11") == 2000


def test_allocation_edge_cases():
    assert b.allocate_repayment(0, [Due("2026-11", NOV, "principal", 5)]) == b.Allocation((), 0, 0)
    assert b.allocate_repayment(7, []) == b.Allocation((), 0, 7)
    alloc = b.allocate_repayment(7, [Due("2026-11", NOV, "fee", 0), Due("2026-11", NOV, "principal", 5)])
    assert [line.component for line in alloc.lines] == [Component.PRINCIPAL]
    with pytest.raises(ValueError):
        b.allocate_repayment(-1, [])
    with pytest.raises(ValueError):
        Due("2026-11", NOV, "tip", 5)
    with pytest.raises(BillingError):
        Due("2026-XI", NOV, "fee", 5)
    with pytest.raises(TypeError):
        b.allocate_repayment(5, [("2026-11", NOV, "fee", 5)])  # type: ignore[list-item]


_dues = st.lists(
    st.builds(
        Due,
        period=st.sampled_from(["2026-10", "2026-11", "2026-12"]),
        due_date=st.sampled_from([D(2026, 10, 10), NOV, DEC]),
        component=st.sampled_from(list(Component)),
        amount_fen=st.integers(min_value=0, max_value=100_000),
    ),
    max_size=15,
)


@given(amount=st.integers(min_value=0, max_value=1_000_000), dues=_dues)
def test_allocation_never_over_allocates_nor_leaves_dues_while_money_remains(amount, dues):
    alloc = b.allocate_repayment(amount, dues)
    total_due = sum(d.amount_fen for d in dues)
    assert alloc.allocated_fen + alloc.unallocated_fen == amount
    assert alloc.allocated_fen == min(amount, total_due) == sum(line.amount_fen for line in alloc.lines)
    assert all(line.amount_fen > 0 and line.remaining_fen >= 0 for line in alloc.lines)
    if alloc.unallocated_fen > 0:
        assert alloc.allocated_fen == total_due  # everything paid
    # at most one due partly paid, and it is the last one that received money
    partial = [line for line in alloc.lines if line.remaining_fen > 0]
    assert len(partial) <= 1 and (not partial or partial[0] is alloc.lines[-1])
    # order: due date, then penalty < interest < fee < principal
    order = list(Component)
    keys = [(line.due_date, line.period, order.index(line.component)) for line in alloc.lines]
    assert keys == sorted(keys)
    # no due later in the order received money while an earlier one was left unpaid
    ordered = sorted((d for d in dues if d.amount_fen), key=lambda d: (d.due_date, d.period, order.index(d.component)))
    received = len(alloc.lines)
    assert all(line.amount_fen == d.amount_fen for line, d in zip(alloc.lines[:-1], ordered, strict=False))
    assert sum(d.amount_fen for d in ordered[:received]) >= alloc.allocated_fen


def test_billing_error_carries_code_and_params():
    err = BillingError("installment_window_closed", "closed", on_date="2026-11-11")
    assert err.code == "installment_window_closed"
    assert err.params == {"on_date": "2026-11-11"}
    assert str(err) == "closed"
    assert "installment_window_closed" in repr(err)
