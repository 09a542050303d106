"""Property: over any sequence of purchases, refunds and repayments the books balance,
every balance equals its postings, and the line's figures match a simple model."""

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import update
from tests.conftest import buy, new_account

from huabei.batch import books
from huabei.errors import HuabeiError
from huabei.lines import service as accounts
from huabei.payments import service as purchases
from huabei.platform import schema as t

LIMIT = 200_000

op = st.one_of(
    st.tuples(st.just("buy"), st.integers(1, 80_000)),
    st.tuples(st.just("refund"), st.integers(1, 50_000)),
    st.tuples(st.just("repay"), st.integers(1, 120_000)),
    st.tuples(st.just("retry"), st.integers(0, 10)),
)


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=st.lists(op, min_size=1, max_size=25))
def test_random_activity_keeps_the_books(system, ops):
    aid = new_account(system, LIMIT)
    used = credit = 0
    bought: list[tuple[int, int]] = []  # purchase_id, refundable
    keys: list[tuple[str, int]] = []
    for i, (kind, amount) in enumerate(ops):
        try:
            if kind == "buy":
                key = f"{aid}-b{i}"
                out = buy(system, aid, amount, key=key)
                keys.append((key, amount))
                used += amount
                bought.append((out.body["purchase_id"], amount))
            elif kind == "refund" and bought:
                pid, left = bought[-1]
                purchases.refund_purchase(system, pid, amount, f"{aid}-r{i}")
                bought[-1] = (pid, left - amount)
                to_p = min(amount, used)
                used -= to_p
                credit += amount - to_p
            elif kind == "repay":
                purchases.repay(system, aid, amount, f"{aid}-p{i}")
                used -= amount
            elif kind == "retry" and keys:
                key, amt = keys[amount % len(keys)]
                assert buy(system, aid, amt, key=key).replayed
        except HuabeiError as e:
            expected = {
                "buy": {"insufficient_limit"},
                "refund": {"refund_exceeds_purchase"},
                "repay": {"repayment_exceeds_balance", "nothing_owed"},
            }[kind]
            assert e.code in expected
            if e.code == "insufficient_limit":
                assert amount > LIMIT - used
            if e.code == "refund_exceeds_purchase":
                assert amount > bought[-1][1]
            if e.code in ("repayment_exceeds_balance", "nothing_owed"):
                assert amount > used
        view = accounts.account_view(system, aid)
        assert (view["used"], view["credit_balance"]) == (used, credit)
        assert view["available"] == max(0, LIMIT - used)
    report = books.ledger_check(system)
    assert report.ok, report.findings


def test_ledger_check_catches_a_tampered_posting(system):
    aid = new_account(system)
    buy(system, aid, 1_000)
    assert books.ledger_check(system).ok
    with system.engine.begin() as c:
        c.execute(update(t.postings).where(t.postings.c.posting_id == 1).values(amount=t.postings.c.amount + 1))
    rep = books.ledger_check(system)
    assert {f.invariant for f in rep.findings} == {"entry_balances", "balance_equals_postings"}


def test_ledger_check_catches_a_balance_changed_without_postings(system):
    aid = new_account(system)
    with system.engine.begin() as c:
        c.execute(update(t.credit_accounts).where(t.credit_accounts.c.account_id == aid).values(used=5))
    rep = books.ledger_check(system)
    assert [f.invariant for f in rep.findings] == ["balance_equals_postings"]
    assert rep.findings[0].credit_account_id == aid
