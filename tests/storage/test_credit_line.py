"""The credit line's behaviour through the service layer, on SQLite and PostgreSQL."""

import datetime as dt

import pytest
from sqlalchemy import func, select
from tests.conftest import START_DATE, buy, new_account

from huabei.batch import books
from huabei.errors import HuabeiError
from huabei.lines import queries
from huabei.lines import service as accounts
from huabei.onboarding import service as onboarding
from huabei.payments import service as purchases
from huabei.platform import admin
from huabei.platform import schema as t
from huabei.restrictions import service as restrictions


def _count(system, table):
    with system.engine.connect() as c:
        return c.execute(select(func.count()).select_from(table)).scalar_one()


def _code(fn, *a, **kw):
    with pytest.raises(HuabeiError) as e:
        fn(*a, **kw)
    return e.value.code


def test_opening_requires_real_name_and_one_open_line_per_user(system):
    accounts.register_user(system, user_id="anon", name="x", phone="1380000", real_name_verified=False)
    assert _code(onboarding.open_account, system, user_id="anon", base_limit=100_000) == "real_name_required"
    assert _code(onboarding.open_account, system, user_id="ghost", base_limit=100_000) == "user_not_found"
    aid = new_account(system, user_id="u-one")
    assert _code(onboarding.open_account, system, user_id="u-one", base_limit=100_000) == "account_exists"
    assert (
        _code(accounts.register_user, system, user_id="u-one", name="x", phone="1", real_name_verified=True)
        == "user_exists"
    )
    view = accounts.account_view(system, aid)
    assert view["status"] == "active" and view["available"] == 100_000 and view["restrictions"] == []
    assert _count(system, t.limit_changes) == 1


def test_base_limit_bounds_come_from_the_terms(system):
    accounts.register_user(system, user_id="b", name="x", phone="1380000", real_name_verified=True)
    assert _code(onboarding.open_account, system, user_id="b", base_limit=49_999) == "base_limit_out_of_range"
    assert _code(onboarding.open_account, system, user_id="b", base_limit=5_000_001) == "base_limit_out_of_range"


@pytest.mark.smoke
def test_purchase_uses_limit_and_decline_writes_only_an_audit_record(system):
    aid = new_account(system, 100_000)
    ok = buy(system, aid, 96_000)
    assert ok.status == 201 and ok.body["available"] == 4_000
    entries = _count(system, t.journal_entries)
    assert _code(buy, system, aid, 4_001) == "insufficient_limit"
    assert _code(buy, system, aid, 100, category="cash_withdrawal") == "category_not_allowed"
    assert _count(system, t.journal_entries) == entries and _count(system, t.purchases) == 1
    assert _count(system, t.purchase_declines) == 2
    assert buy(system, aid, 4_000).body["available"] == 0
    assert accounts.account_view(system, aid)["used"] == 100_000
    assert books.ledger_check(system).ok


def test_temporary_limit_expires_by_the_business_clock(system):
    aid = new_account(system, 100_000)
    expires = START_DATE + dt.timedelta(days=30)
    view = accounts.grant_temporary_limit(system, aid, amount=5_000, expires_on=expires)
    assert view["total_limit"] == 105_000 and view["temporary_limit_expires_on"] == expires.isoformat()
    buy(system, aid, 102_000)
    admin.set_business_date(system, expires - dt.timedelta(days=1))
    assert accounts.account_view(system, aid)["available"] == 3_000
    admin.set_business_date(system, expires)
    view = accounts.account_view(system, aid)
    # spent on the temporary limit stays owed; the line simply has nothing available
    assert view["temporary_limit"] == 0 and view["total_limit"] == 100_000 and view["used"] == 102_000
    assert view["available"] == 0
    assert _code(buy, system, aid, 1) == "insufficient_limit"
    assert (
        _code(accounts.grant_temporary_limit, system, aid, amount=5_000, expires_on=expires + dt.timedelta(days=91))
        == "temporary_limit_out_of_range"
    )


def test_limit_cut_below_used_leaves_no_available_limit(system):
    aid = new_account(system, 100_000)
    buy(system, aid, 80_000)
    view = accounts.set_base_limit(system, aid, base_limit=50_000)
    assert view["used"] == 80_000 and view["available"] == 0
    changes = [(c.old_value, c.new_value, c.reasons) for c in _limit_changes(system, aid)]
    assert changes[-1] == (100_000, 50_000, ["operator_set"])


def _limit_changes(system, aid):
    with system.uow(readonly=True) as uow:
        return uow.limit_changes.for_account(aid)


def test_refunds_partial_full_and_never_more_than_paid(system):
    aid = new_account(system, 100_000)
    pid = buy(system, aid, 10_000).body["purchase_id"]
    r1 = purchases.refund_purchase(system, pid, 3_000, "r-1")
    assert r1.body["available"] == 93_000 and r1.body["refunded_total"] == 3_000
    assert _code(purchases.refund_purchase, system, pid, 7_001, "r-2") == "refund_exceeds_purchase"
    r3 = purchases.refund_purchase(system, pid, 7_000, "r-3")
    assert r3.body["available"] == 100_000
    assert _code(purchases.refund_purchase, system, pid, 1, "r-4") == "refund_exceeds_purchase"
    assert _code(purchases.refund_purchase, system, 999, 1, "r-5") == "purchase_not_found"
    assert books.ledger_check(system).ok


def test_refund_after_repayment_becomes_a_credit_balance(system):
    aid = new_account(system, 100_000)
    pid = buy(system, aid, 10_000).body["purchase_id"]
    purchases.repay(system, aid, 10_000, "pay-1")
    out = purchases.refund_purchase(system, pid, 4_000, "r-1")
    assert out.body["to_credit_balance"] == 4_000
    view = accounts.account_view(system, aid)
    assert view["used"] == 0 and view["credit_balance"] == 4_000 and view["available"] == 100_000
    assert books.ledger_check(system).ok


def test_repayment_restores_limit_and_cannot_exceed_what_is_owed(system):
    aid = new_account(system, 100_000)
    assert _code(purchases.repay, system, aid, 100, "p-0") == "nothing_owed"
    buy(system, aid, 30_000)
    assert _code(purchases.repay, system, aid, 30_001, "p-1") == "repayment_exceeds_balance"
    out = purchases.repay(system, aid, 12_345, "p-2")
    assert out.body["owed"] == 17_655 and out.body["available"] == 82_345
    assert out.body["allocation"] == {"customer_principal": 12_345}
    assert _code(purchases.repay, system, 999, 1, "p-3") == "account_not_found"
    assert books.ledger_check(system).ok


@pytest.mark.smoke
def test_freeze_declines_with_its_cause_and_lifting_restores_purchases(system):
    aid = new_account(system, 100_000)
    r = restrictions.place_restriction(
        system, aid, cause="cash_out_suspected", evidence={"pattern": "round-amount purchases at one merchant"}
    )
    assert r["lifts_on"] == (START_DATE + dt.timedelta(days=60)).isoformat()
    view = accounts.account_view(system, aid)
    assert view["status"] == "frozen" and view["restrictions"][0]["cause"] == "cash_out_suspected"
    with pytest.raises(HuabeiError) as e:
        buy(system, aid, 100)
    assert e.value.code == "account_frozen" and e.value.params["cause"] == "cash_out_suspected"
    # repayments still work while frozen
    restrictions.lift_restriction(system, r["restriction_id"], reason="appeal_upheld")
    assert accounts.account_view(system, aid)["status"] == "active"
    assert buy(system, aid, 100).status == 201
    assert _code(restrictions.lift_restriction, system, r["restriction_id"]) == "restriction_not_found"
    assert _code(restrictions.place_restriction, system, aid, cause="because") == "invalid_request"


def test_non_purchase_blocking_cause_does_not_freeze_purchases_until_lift_date(system):
    aid = new_account(system, 100_000)
    restrictions.place_restriction(system, aid, cause="wrong_password_lockout")
    assert _code(buy, system, aid, 100) == "account_frozen"
    admin.set_business_date(system, START_DATE + dt.timedelta(days=1))
    with system.uow() as uow:
        assert restrictions.lift_due_restrictions(uow) == 1
        uow.commit()
    assert buy(system, aid, 100).status == 201
    with system.uow(readonly=True) as uow:
        kinds = [e.event_type for e in uow.events.for_account(aid)]
    assert kinds == ["AccountOpened", "RestrictionPlaced", "RestrictionLifted"]


def test_history_pages_walk_every_entry_once(system):
    aid = new_account(system, 1_000_000)
    for i in range(7):
        buy(system, aid, 100 + i)
    seen, cursor = [], None
    while True:
        page = queries.transactions(system, aid, limit=3, starting_after=cursor)
        seen += [x["transaction_id"] for x in page["data"]]
        if not page["has_more"]:
            break
        cursor = page["next_cursor"]
    assert len(seen) == 7 and seen == sorted(seen, reverse=True)
    postings = queries.postings(system, aid, limit=100)
    assert sum(p["amount"] for p in postings["data"]) == sum(100 + i for i in range(7))
    assert _code(queries.transactions, system, aid, limit=0) == "invalid_request"


def test_clock_never_moves_backwards(system):
    assert admin.business_date(system) == START_DATE
    assert _code(admin.set_business_date, system, START_DATE - dt.timedelta(days=1)) == "clock_backwards"
    admin.set_business_date(system, START_DATE + dt.timedelta(days=3))
    assert admin.business_date(system) == START_DATE + dt.timedelta(days=3)
