import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from huabei.config import ProductTerms, RestrictionTerms
from huabei.errors import ErrorKind, HuabeiError
from huabei.ledger import rules as ledger
from huabei.lines.purchase_rules import (
    Channel,
    PurchaseRequest,
    check_purchase,
    explain_failed_debit,
)
from huabei.lines.rules import AccountState, CreditLine, available, temporary_limit_on
from huabei.restrictions.causes import (
    CAUSES,
    SEVERITY,
    Capability,
    block_code_for,
    default_lift_date,
)

D = dt.date(2026, 11, 10)
TERMS = ProductTerms()


def test_temporary_limit_applies_until_the_day_before_expiry():
    assert temporary_limit_on(1000, D, D - dt.timedelta(days=1)) == 1000
    assert temporary_limit_on(1000, D, D) == 0
    assert temporary_limit_on(1000, None, D) == 0


@given(
    base=st.integers(0, 10**7),
    temp=st.integers(0, 10**7),
    used=st.integers(0, 2 * 10**7),
    offset=st.integers(-100, 100),
)
def test_available_is_total_minus_used_never_negative(base, temp, used, offset):
    exp = D + dt.timedelta(days=offset)
    a = available(base, temp, exp, used, D)
    total = base + (temp if exp > D else 0)
    assert a == max(0, total - used)
    assert 0 <= a <= total


def test_credit_line_status_is_derived():
    line = CreditLine(1, "u", AccountState.OPEN, 1000, 0, None, 0, 0, None, 10, D)
    assert line.status().value == "active"
    assert (
        line.__class__(**{**line.__dict__, "block_code": "account_frozen:cash_out_suspected"}).status().value
        == "frozen"
    )
    assert line.__class__(**{**line.__dict__, "block_code": "account_overdue"}).status().value == "overdue"
    assert line.__class__(**{**line.__dict__, "state": AccountState.CLOSED}).status().value == "closed"


@pytest.mark.parametrize("category", ["transfer", "cash_withdrawal", "gambling", "virtual_currency"])
def test_non_consumption_is_declined(category):
    with pytest.raises(HuabeiError) as e:
        check_purchase(PurchaseRequest(1, 100, "m", category, Channel.ONLINE), TERMS)
    assert e.value.code == "category_not_allowed" and e.value.kind is ErrorKind.DECLINED


@pytest.mark.parametrize("category", ["retail", "dining", "travel", "utilities"])
def test_consumption_is_allowed(category):
    check_purchase(PurchaseRequest(1, 100, "m", category, Channel.OFFLINE), TERMS)


def test_unknown_category_is_an_input_error():
    with pytest.raises(HuabeiError) as e:
        check_purchase(PurchaseRequest(1, 100, "m", "spaceships", Channel.ONLINE), TERMS)
    assert e.value.kind is ErrorKind.INVALID_REQUEST


def test_single_purchase_cap():
    cap = TERMS.authorisation.max_single_purchase
    check_purchase(PurchaseRequest(1, cap, "m", "retail", Channel.ONLINE), TERMS)
    with pytest.raises(HuabeiError) as e:
        check_purchase(PurchaseRequest(1, cap + 1, "m", "retail", Channel.ONLINE), TERMS)
    assert e.value.code == "amount_over_single_limit"


def test_failed_debit_explanations_most_severe_first():
    kw = dict(amount=500, available=100)
    assert (
        explain_failed_debit(state="closed", block_code="account_overdue", block_cause=None, **kw).code
        == "account_closed"
    )
    assert (
        explain_failed_debit(state="open", block_code="account_overdue", block_cause=None, **kw).code
        == "account_overdue"
    )
    e = explain_failed_debit(state="open", block_code="account_frozen:x", block_cause="cash_out_suspected", **kw)
    assert e.code == "account_frozen" and e.params["cause"] == "cash_out_suspected"
    e = explain_failed_debit(state="open", block_code=None, block_cause=None, **kw)
    assert e.code == "insufficient_limit" and e.params == {"amount": "5.00", "available": "1.00"}


def test_every_seed_cause_is_catalogued_with_a_severity():
    seed_causes = {
        "overdue_reported",
        "cash_out_suspected",
        "score_brushing_suspected",
        "score_below_threshold",
        "inactive_account",
        "account_takeover_suspected",
        "maintenance_window",
        "brand_isolation",
        "wrong_password_lockout",
        "regulatory_tightening",
    }
    assert seed_causes <= set(CAUSES)
    assert set(CAUSES) == set(SEVERITY)


def test_block_code_picks_the_most_severe_purchase_blocking_cause():
    assert block_code_for([]) == (None, None)
    assert block_code_for(["maintenance_window", "cash_out_suspected"]) == (
        "account_frozen:cash_out_suspected",
        "cash_out_suspected",
    )
    # brand isolation blocks purchases but bills and repayment continue
    assert Capability.PURCHASE in CAUSES["brand_isolation"].blocks


def test_password_lock_lifts_next_day_and_cash_out_after_review_period():
    terms = RestrictionTerms()
    assert default_lift_date(CAUSES["wrong_password_lockout"], D, terms) == D + dt.timedelta(days=1)
    assert default_lift_date(CAUSES["cash_out_suspected"], D, terms) == D + dt.timedelta(days=60)
    assert default_lift_date(CAUSES["score_brushing_suspected"], D, terms) == D + dt.timedelta(days=30)
    assert default_lift_date(CAUSES["overdue_reported"], D, terms) is None
    # the configured terms are honoured, not a duration written beside them
    longer = RestrictionTerms(cash_out_review_days=45, wrong_password_lock_hours=49)
    assert default_lift_date(CAUSES["cash_out_suspected"], D, longer) == D + dt.timedelta(days=45)
    assert default_lift_date(CAUSES["wrong_password_lockout"], D, longer) == D + dt.timedelta(days=3)


def test_entries_balance_and_unbalanced_are_refused():
    e = ledger.purchase_entry(1, "m", 8880, D, 7)
    assert e.is_balanced() and {p.ledger_account for p in e.postings} == {
        ledger.LedgerAccount.CUSTOMER_PRINCIPAL,
        ledger.LedgerAccount.MERCHANT_SETTLEMENT,
    }
    r = ledger.refund_entry(1, "m", 500, 300, D, 8)
    assert r.is_balanced() and len(r.postings) == 3
    assert len(ledger.refund_entry(1, "m", 500, 0, D, 9).postings) == 2  # zero postings dropped
    with pytest.raises(ledger.UnbalancedEntry):
        ledger.entry(ledger.EntryKind.FEE, D, [ledger.Posting(ledger.LedgerAccount.FUNDING, 1)])


def test_validate_reports_each_broken_invariant():
    rep = ledger.validate(
        unbalanced_entries=[(3, 1, 2)],
        balance_mismatches=[(1, "used", 10, 9)],
        over_refunded=[(4, 100, 101)],
        negative_balances=[(2, "used", -1)],
        counts=(1, 2, 3),
    )
    assert not rep.ok
    assert [f.invariant for f in rep.findings] == [
        "entry_balances",
        "balance_equals_postings",
        "refund_not_above_purchase",
        "balance_not_negative",
    ]
    assert ledger.validate(
        unbalanced_entries=[], balance_mismatches=[], over_refunded=[], negative_balances=[], counts=(0, 0, 0)
    ).ok
