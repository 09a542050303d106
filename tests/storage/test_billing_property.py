"""Properties over random weeks of activity crossing a statement date and a due date, on
SQLite and PostgreSQL:

* the books balance and every billing invariant holds (``ledger check``), bills add up;
* no money is created or lost: income equals the interest, penalty and fees charged,
  funding equals the repayments, merchants are owed the purchases less the refunds;
* the end-of-day job is idempotent: replaying any day already run changes no row;
* running the job over gaps of days (``--until``) gives the same database, row for row, as
  running it day by day.
"""

from __future__ import annotations

import datetime as dt

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from tests.storage.test_billing_eod import snapshot

from huabei.batch import books, eod
from huabei.billing import service as billing
from huabei.billing import tables as tb
from huabei.errors import HuabeiError
from huabei.lines import service as accounts
from huabei.lines.purchase_rules import Channel, PurchaseRequest
from huabei.onboarding import service as onboarding
from huabei.payments import service as purchases
from huabei.platform import admin
from huabei.platform import schema as t
from huabei.platform.schema import metadata

START = dt.date(2026, 10, 27)
DAYS = 21  # to 2026-11-16: the 11-01 statement date, the 11-10 due date, overdue days after it
ACCOUNTS = 2

op = st.one_of(
    st.tuples(st.just("buy"), st.integers(0, ACCOUNTS - 1), st.integers(1, 300_000)),
    st.tuples(st.just("refund"), st.integers(0, ACCOUNTS - 1), st.integers(1, 200_000)),
    st.tuples(st.just("repay"), st.integers(0, ACCOUNTS - 1), st.integers(1, 400_000)),
    st.tuples(st.just("repay_minimum"), st.integers(0, ACCOUNTS - 1), st.just(0)),
    st.tuples(st.just("convert"), st.integers(0, ACCOUNTS - 1), st.sampled_from([3, 6])),
)
activity = st.dictionaries(st.integers(0, DAYS - 1), st.lists(op, min_size=1, max_size=3), max_size=8)


def _reset(system) -> None:
    with system.engine.begin() as c:
        if c.dialect.name == "postgresql":
            c.exec_driver_sql(
                "TRUNCATE " + ", ".join(x.name for x in metadata.sorted_tables) + " RESTART IDENTITY CASCADE"
            )
        else:
            for table in reversed(metadata.sorted_tables):
                c.execute(table.delete())
    admin.set_business_date(system, START, allow_backwards=True)
    for i in range(ACCOUNTS):
        accounts.register_user(system, user_id=f"p-{i}", name="x", phone="13800000000", real_name_verified=True)
        onboarding.open_account(system, user_id=f"p-{i}", base_limit=500_000)


def _apply(system, day_index: int, ops: list) -> list[str]:
    outcomes = []
    for j, (kind, who, n) in enumerate(ops):
        acct = who + 1
        key = f"{day_index}-{j}"
        try:
            if kind == "buy":
                purchases.authorise_purchase(system, PurchaseRequest(acct, n, "m-1", "retail", Channel.ONLINE), key)
            elif kind == "refund":
                with system.engine.connect() as c:
                    p = c.execute(
                        select(t.purchases)
                        .where(t.purchases.c.account_id == acct)
                        .order_by(t.purchases.c.purchase_id.desc())
                    ).first()
                if p is None or p.amount == p.refunded:
                    continue
                purchases.refund_purchase(system, p.purchase_id, min(n, p.amount - p.refunded), key)
            elif kind == "repay":
                owed = billing.billing_status(system, acct)["owed"]
                if owed:
                    purchases.repay(system, acct, min(n, owed), key)
            elif kind == "repay_minimum":
                due = [b for b in billing.list_bills(system, acct) if b["minimum_unpaid"]]
                if due:
                    purchases.repay(system, acct, due[0]["minimum_unpaid"], key)
            elif kind == "convert":
                with system.engine.connect() as c:
                    p = c.execute(
                        select(t.purchases.c.purchase_id)
                        .where(t.purchases.c.account_id == acct)
                        .order_by(t.purchases.c.purchase_id)
                    ).first()
                if p is not None:
                    billing.create_purchase_installments(system, p[0], n, key)
            outcomes.append(f"{kind}:ok")
        except HuabeiError as e:
            assert e.kind.value in ("declined", "unprocessable", "conflict"), e
            outcomes.append(f"{kind}:{e.code}")
    return outcomes


def _scenario(system, plan: dict[int, list], *, gaps: bool) -> tuple[dict, list[str]]:
    _reset(system)
    outcomes: list[str] = []
    for i in range(DAYS):
        day = START + dt.timedelta(days=i)
        if not gaps:
            eod.run_eod(system, date=day)
        if i in plan:
            if gaps:
                eod.run_eod(system, until=day)
            outcomes += _apply(system, i, plan[i])
    eod.run_eod(system, until=START + dt.timedelta(days=DAYS - 1))
    return snapshot(system), outcomes


def _conservation(system) -> None:
    with system.engine.connect() as c:
        bal = dict(
            c.execute(
                select(t.postings.c.ledger_account, func.sum(t.postings.c.amount)).group_by(t.postings.c.ledger_account)
            ).all()
        )
        bought = c.execute(select(func.coalesce(func.sum(t.purchases.c.amount), 0))).scalar()
        refunded = c.execute(select(func.coalesce(func.sum(t.refunds.c.amount), 0))).scalar()
        repaid = c.execute(select(func.coalesce(func.sum(t.repayments.c.amount), 0))).scalar()
        accrued = dict(
            c.execute(
                select(tb.bill_accruals.c.kind, func.sum(tb.bill_accruals.c.amount)).group_by(tb.bill_accruals.c.kind)
            ).all()
        )
        fees = c.execute(
            select(func.coalesce(func.sum(tb.bill_lines.c.amount), 0)).where(tb.bill_lines.c.kind == "installment_fee")
        ).scalar()
        owed = c.execute(select(func.sum(t.credit_accounts.c.used - t.credit_accounts.c.credit_balance))).scalar()
    assert -bal.get("merchant_settlement", 0) == bought - refunded
    assert bal.get("funding", 0) == repaid
    assert -bal.get("income_interest", 0) == accrued.get("interest", 0)
    assert -bal.get("income_penalty", 0) == accrued.get("penalty", 0)
    assert -bal.get("income_fee", 0) == fees
    charges = sum(bal.get(f"customer_{k}", 0) for k in ("fee", "interest", "penalty"))
    assert owed + charges == bought - refunded + fees + sum(accrued.values()) - repaid


@settings(
    max_examples=3, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)
@given(plan=activity, replay=st.integers(0, DAYS - 1))
def test_random_weeks_bills_add_up_money_is_kept_eod_is_idempotent_and_gaps_equal_days(system, plan, replay):
    daily, outcomes_daily = _scenario(system, plan, gaps=False)
    report = books.ledger_check(system)
    assert report.ok, report.findings
    _conservation(system)
    eod.run_eod(system, date=START + dt.timedelta(days=replay))
    assert snapshot(system) == daily
    gapped, outcomes_gapped = _scenario(system, plan, gaps=True)
    assert outcomes_gapped == outcomes_daily
    assert gapped == daily
