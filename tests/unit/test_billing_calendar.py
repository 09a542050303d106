"""The billing calendar: periods, statement and due dates, cycles, days past due."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from huabei.billing import calendar as cal
from huabei.billing.rules import BillingError
from huabei.config import BillingTerms

D = dt.date
TERMS = BillingTerms()


# ----------------------------------------------------------------------------- periods


def test_period_of_statement_formats_year_and_month():
    assert cal.period_of_statement(D(2026, 11, 1)) == "2026-11"
    assert cal.period_of_statement(D(999, 1, 1)) == "0999-01"


@pytest.mark.parametrize("bad", ["2026-13", "2026-00", "2026-1", "26-11", "2026/11", "", "0000-05", " 2026-11"])
def test_malformed_period_is_a_billing_error(bad):
    with pytest.raises(BillingError) as exc:
        cal.parse_period(bad)
    assert exc.value.code == "invalid_period"
    assert exc.value.params == {"period": bad}


def test_period_must_be_a_string():
    with pytest.raises(BillingError):
        cal.parse_period(202611)  # type: ignore[arg-type]


def test_next_and_previous_period_cross_year_ends():
    assert cal.next_period("2026-12") == "2027-01"
    assert cal.next_period("2026-01") == "2026-02"
    assert cal.previous_period("2027-01") == "2026-12"
    assert cal.previous_period("2026-03") == "2026-02"


def test_statement_and_due_date_default_terms():
    assert cal.statement_date("2026-11", TERMS) == D(2026, 11, 1)
    assert cal.due_date("2026-11", 10, TERMS) == D(2026, 11, 10)
    assert cal.due_date("2026-11", 9, TERMS) == D(2026, 11, 9)


def test_due_date_in_next_month_when_due_day_not_after_statement_day():
    terms = BillingTerms(statement_day=25, due_day_choices=(10, 25), default_due_day=10)
    assert cal.statement_date("2026-12", terms) == D(2026, 12, 25)
    assert cal.due_date("2026-12", 10, terms) == D(2027, 1, 10)
    # equal day: a month later, never the statement date itself
    assert cal.due_date("2026-12", 25, terms) == D(2027, 1, 25)


@pytest.mark.parametrize("bad", [0, 29, 31, -1, True])
def test_due_day_outside_1_to_28_is_refused(bad):
    with pytest.raises(ValueError):
        cal.due_date("2026-11", bad, TERMS)


def test_check_due_day_against_offered_choices():
    cal.check_due_day(9, TERMS)
    cal.check_due_day(10, TERMS)
    with pytest.raises(BillingError) as exc:
        cal.check_due_day(15, TERMS)
    assert exc.value.code == "due_day_not_offered"
    assert exc.value.params == {"due_day": 15, "choices": [9, 10]}


@pytest.mark.parametrize("period", ["2026-11", "2026-12", "2027-01", "2028-02"])
@pytest.mark.parametrize("due_day", [9, 10])
def test_period_of_due_date_inverts_due_date(period, due_day):
    assert cal.period_of_due_date(cal.due_date(period, due_day, TERMS), TERMS) == period


def test_period_of_due_date_with_due_day_before_statement_day():
    terms = BillingTerms(statement_day=25, due_day_choices=(10,), default_due_day=10)
    assert cal.period_of_due_date(D(2027, 1, 10), terms) == "2026-12"


# ----------------------------------------------------------------------------- cycles


def test_bill_cycle_is_the_previous_month_with_default_terms():
    assert cal.bill_cycle("2026-11", TERMS) == (D(2026, 10, 1), D(2026, 10, 31))
    assert cal.bill_cycle("2027-01", TERMS) == (D(2026, 12, 1), D(2026, 12, 31))
    assert cal.bill_cycle("2028-03", TERMS) == (D(2028, 2, 1), D(2028, 2, 29))  # leap year
    assert cal.bill_cycle("2027-03", TERMS) == (D(2027, 2, 1), D(2027, 2, 28))


@pytest.mark.parametrize(
    ("activity", "period"),
    [
        (D(2026, 10, 1), "2026-11"),
        (D(2026, 10, 31), "2026-11"),
        (D(2026, 11, 1), "2026-12"),  # ON the statement date: next bill
        (D(2026, 12, 31), "2027-01"),  # year end
        (D(2027, 1, 1), "2027-02"),
        (D(2028, 2, 29), "2028-03"),  # leap day
        (D(2028, 2, 28), "2028-03"),
        (D(2028, 3, 1), "2028-04"),
        (D(2027, 2, 28), "2027-03"),
    ],
)
def test_bill_period_for_default_terms(activity, period):
    assert cal.bill_period_for(activity, TERMS) == period


def test_bill_period_for_mid_month_statement_day():
    terms = BillingTerms(statement_day=15, due_day_choices=(25,), default_due_day=25)
    assert cal.bill_period_for(D(2026, 11, 14), terms) == "2026-11"
    assert cal.bill_period_for(D(2026, 11, 15), terms) == "2026-12"
    assert cal.bill_period_for(D(2026, 12, 31), terms) == "2027-01"
    assert cal.bill_period_for(D(2026, 12, 15), terms) == "2027-01"
    assert cal.bill_period_for(D(2028, 2, 29), terms) == "2028-03"


def test_datetime_is_not_a_business_date():
    with pytest.raises(TypeError):
        cal.bill_period_for(dt.datetime(2026, 11, 1, 12, 0), TERMS)


@given(
    activity=st.dates(min_value=D(1900, 2, 1), max_value=D(9999, 11, 30)),
    statement_day=st.integers(min_value=1, max_value=28),
)
def test_activity_falls_in_the_cycle_of_its_bill(activity, statement_day):
    terms = BillingTerms(statement_day=statement_day)
    period = cal.bill_period_for(activity, terms)
    first, last = cal.bill_cycle(period, terms)
    assert first <= activity <= last
    assert cal.statement_date(period, terms) == last + dt.timedelta(days=1)
    assert cal.statement_date(period, terms) > activity
    # the previous bill closed on or before the activity
    assert cal.statement_date(cal.previous_period(period), terms) <= activity


@given(
    year=st.integers(min_value=1900, max_value=9998),
    month=st.integers(min_value=1, max_value=12),
    statement_day=st.integers(min_value=1, max_value=28),
    due_day=st.integers(min_value=1, max_value=28),
)
def test_due_date_strictly_after_statement_and_before_next_due(year, month, statement_day, due_day):
    terms = BillingTerms(statement_day=statement_day)
    period = f"{year:04d}-{month:02d}"
    due = cal.due_date(period, due_day, terms)
    assert due.day == due_day
    assert cal.statement_date(period, terms) < due
    assert (due - cal.statement_date(period, terms)).days <= 31
    assert due < cal.due_date(cal.next_period(period), due_day, terms)
    assert cal.period_of_due_date(due, terms) == period


@given(st.integers(min_value=1900, max_value=9998), st.integers(min_value=1, max_value=12))
def test_cycles_tile_the_calendar(year, month):
    period = f"{year:04d}-{month:02d}"
    _, last = cal.bill_cycle(period, TERMS)
    first_next, _ = cal.bill_cycle(cal.next_period(period), TERMS)
    assert first_next == last + dt.timedelta(days=1)


def test_longest_interest_free_time_is_about_41_days():
    spent = D(2026, 10, 1)  # a statement date: the first day of bill 2026-11's cycle
    due = cal.due_date(cal.bill_period_for(spent, TERMS), 10, TERMS)
    assert due == D(2026, 11, 10)
    assert (due - spent).days + 1 == 41  # both days counted


# ----------------------------------------------------------------------------- months


def test_add_months_clamps_to_month_end():
    assert cal.add_months(D(2026, 1, 31), 1) == D(2026, 2, 28)
    assert cal.add_months(D(2028, 1, 31), 1) == D(2028, 2, 29)
    assert cal.add_months(D(2026, 12, 10), 1) == D(2027, 1, 10)
    assert cal.add_months(D(2026, 3, 31), -1) == D(2026, 2, 28)
    assert cal.add_months(D(2026, 2, 28), 1, day_of_month=31) == D(2026, 3, 31)


def test_monthly_dates_keep_their_anchor_day():
    assert cal.monthly_dates(D(2027, 1, 31), 4) == (D(2027, 1, 31), D(2027, 2, 28), D(2027, 3, 31), D(2027, 4, 30))
    assert cal.monthly_dates(D(2027, 11, 30), 4) == (D(2027, 11, 30), D(2027, 12, 30), D(2028, 1, 30), D(2028, 2, 29))
    assert cal.monthly_dates(D(2027, 2, 28), 2, day_of_month=31) == (D(2027, 2, 28), D(2027, 3, 31))
    assert cal.monthly_dates(D(2027, 1, 10), 0) == ()
    with pytest.raises(ValueError):
        cal.monthly_dates(D(2027, 3, 10), 2, day_of_month=31)


@pytest.mark.parametrize(
    ("year", "month", "days"),
    [(2026, 2, 28), (2028, 2, 29), (2100, 2, 28), (2000, 2, 29), (2026, 4, 30), (2026, 12, 31)],
)
def test_days_in_month(year, month, days):
    assert cal.days_in_month(year, month) == days


# ----------------------------------------------------------------------------- delinquency


def test_days_past_due():
    due = D(2026, 11, 10)
    assert cal.days_past_due(due, D(2026, 11, 1)) == 0
    assert cal.days_past_due(due, due) == 0
    assert cal.days_past_due(due, D(2026, 11, 11)) == 1
    assert cal.days_past_due(due, D(2026, 12, 20)) == 40
    assert cal.days_past_due(D(2028, 2, 10), D(2028, 3, 10)) == 29  # leap February


@pytest.mark.parametrize(
    ("dpd", "bucket"),
    [
        (0, "current"),
        (1, "dpd_1_30"),
        (30, "dpd_1_30"),
        (31, "dpd_31_60"),
        (60, "dpd_31_60"),
        (61, "dpd_61_90"),
        (90, "dpd_61_90"),
        (91, "dpd_90_plus"),
        (4000, "dpd_90_plus"),
    ],
)
def test_dpd_bucket_boundaries(dpd, bucket):
    assert cal.dpd_bucket(dpd) == bucket


@pytest.mark.parametrize("bad", [-1, 1.0, True, None])
def test_dpd_bucket_refuses_non_counts(bad):
    with pytest.raises(ValueError):
        cal.dpd_bucket(bad)


def test_reportable_after_the_grace_days():
    assert not cal.is_reportable(0, TERMS)
    assert not cal.is_reportable(3, TERMS)
    assert cal.is_reportable(4, TERMS)
    assert cal.reportable_from(D(2026, 11, 10), TERMS) == D(2026, 11, 14)
    strict = BillingTerms(grace_days=0)
    assert cal.is_reportable(1, strict)
    assert cal.reportable_from(D(2026, 11, 10), strict) == D(2026, 11, 11)


def test_delinquency_on_a_date():
    due = D(2026, 11, 10)
    assert cal.delinquency(due, D(2026, 11, 13), TERMS) == cal.Delinquency(3, "dpd_1_30", False)
    assert cal.delinquency(due, D(2026, 11, 14), TERMS) == cal.Delinquency(4, "dpd_1_30", True)
    assert cal.delinquency(due, D(2026, 12, 20), TERMS) == cal.Delinquency(40, "dpd_31_60", True)
    assert cal.delinquency(due, D(2027, 2, 9), TERMS).bucket == "dpd_90_plus"  # 91 days


@given(st.dates(min_value=D(2000, 1, 1), max_value=D(2100, 1, 1)), st.integers(min_value=0, max_value=2000))
def test_reportable_from_agrees_with_is_reportable(due, offset):
    on = due + dt.timedelta(days=offset)
    dpd = cal.days_past_due(due, on)
    assert dpd == offset
    assert cal.is_reportable(dpd, TERMS) == (on >= cal.reportable_from(due, TERMS))
    assert cal.dpd_bucket(dpd) in cal.DPD_BUCKETS
