"""The behavioural features (how a line is used and repaid) on hand-built histories lived through
the real services, on both databases: each ranks the behaviours the right way round, and a value
as of a date ignores everything that happened after it (point in time)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
from sqlalchemy import select
from tests.conftest import START_DATE, buy, new_account

from huabei.batch.eod import run_eod
from huabei.billing.views import billing_status
from huabei.payments import service as payments
from huabei.platform import schema as s
from huabei.risk import features
from huabei.risk.catalog import FEATURES, NEVER_DAYS
from huabei.scoring import service as scoring
from huabei.scoring.collect import behaviour_columns
from huabei.scoring.default_card import DEFAULT_SCORECARD
from huabei.scoring.facts import BEHAVIOUR_FACT_SPECS

BEHAVIOUR = [
    "bills_due_6m",
    "dpd_now",
    "worst_dpd_3m",
    "worst_dpd_6m",
    "worst_dpd_12m",
    "months_since_overdue",
    "paid_in_full_share_6m",
    "minimum_only_share_6m",
    "below_minimum_share_6m",
    "repaid_share_last_bill",
    "utilisation_last_statement",
    "utilisation_trend",
    "revolving_months_12m",
    "temp_limit_statements_12m",
]
assert set(BEHAVIOUR_FACT_SPECS) <= set(BEHAVIOUR)

DEC_DUE = dt.date(2026, 12, 10)
JAN_DUE = dt.date(2027, 1, 10)


def _minimum_left(system, account_id: int) -> int:
    with system.engine.connect() as c:
        b = s.bills.c
        row = c.execute(
            select(b.minimum_due, b.paid).where(b.account_id == account_id).order_by(b.bill_id.desc()).limit(1)
        ).one()
    return max(row.minimum_due - row.paid, 0)


def _live(system, until: dt.date, plan) -> None:
    day = START_DATE
    while day <= until:
        run_eod(system, until=day)
        plan(day)
        day += dt.timedelta(days=1)


def _book(system):
    """Four lines of 3,000 yuan from 2026-11-02: each spends 600 yuan in November and in December
    (bills due 12-10 and 01-10) and repays its own way."""
    full, revolver, late, never = (
        new_account(system, base_limit=300_000, user_id=f"beh-{name}") for name in ("full", "revolver", "late", "never")
    )
    lines = {"full": full, "revolver": revolver, "late": late, "never": never}

    def plan(day: dt.date) -> None:
        if day in (START_DATE, dt.date(2026, 12, 2)):
            for a in lines.values():
                buy(system, a, 60_000)
        if day in (dt.date(2026, 12, 5), dt.date(2027, 1, 5)):
            payments.repay(system, full, billing_status(system, full)["billed_unpaid"], f"full-{day}")
            payments.repay(system, revolver, _minimum_left(system, revolver), f"rev-{day}")
        if day == dt.date(2026, 12, 5):
            payments.repay(system, late, billing_status(system, late)["billed_unpaid"], f"late-{day}")
        if day == dt.date(2027, 1, 15):  # five days late on the last bill, then repaid in full
            payments.repay(system, late, billing_status(system, late)["billed_unpaid"], f"late-{day}")

    return lines, plan


def test_behaviour_ranks_the_right_way_round_and_ignores_the_future(system) -> None:
    lines, plan = _book(system)
    mid = dt.date(2026, 12, 20)  # the first bill fell due; the late payer was on time so far
    _live(system, mid, plan)
    with system.engine.connect() as conn:
        at_mid = features.compute(conn, BEHAVIOUR, mid)
    end = dt.date(2027, 1, 20)
    day = mid + dt.timedelta(days=1)
    while day <= end:
        run_eod(system, until=day)
        plan(day)
        day += dt.timedelta(days=1)
    with system.engine.connect() as conn:
        v = {name: row for name, row in ((n, features.compute(conn, BEHAVIOUR, end)[a]) for n, a in lines.items())}
        again_mid = features.compute(conn, BEHAVIOUR, mid)
        ev = features.evidence(conn, "paid_in_full_share_6m", end, [lines["full"]])

    # point in time: as of mid-December nothing of January counts (the late payment, the second bill)
    assert again_mid == at_mid
    assert at_mid[lines["late"]]["worst_dpd_3m"] == 0 and at_mid[lines["late"]]["bills_due_6m"] == 1
    assert at_mid[lines["late"]]["paid_in_full_share_6m"] == 1000

    full, rev, late, never = v["full"], v["revolver"], v["late"], v["never"]
    # two bills fell due for everyone
    assert {r["bills_due_6m"] for r in v.values()} == {2}
    # a full payer: every bill in full, never overdue
    assert full["paid_in_full_share_6m"] == 1000 and full["revolving_months_12m"] == 0
    assert full["repaid_share_last_bill"] == 1000 and full["months_since_overdue"] == NEVER_DAYS
    # a revolver ranks below a full payer: minimum only, balance carried
    assert rev["minimum_only_share_6m"] == 1000 and rev["paid_in_full_share_6m"] == 0
    assert rev["revolving_months_12m"] == 2 and rev["repaid_share_last_bill"] < 1000
    assert rev["utilisation_last_statement"] > full["utilisation_last_statement"]
    assert rev["utilisation_trend"] >= 0 and rev["worst_dpd_3m"] == 0
    # a few days late last month ranks below never late
    assert late["worst_dpd_3m"] == 5 and late["dpd_now"] == 0 and late["months_since_overdue"] == 0
    assert late["below_minimum_share_6m"] == 500 and late["paid_in_full_share_6m"] == 500
    assert full["worst_dpd_3m"] == 0
    # never repaying is worst of all
    assert never["dpd_now"] > late["worst_dpd_3m"] and never["below_minimum_share_6m"] == 1000
    assert never["repaid_share_last_bill"] == 0
    assert never["worst_dpd_6m"] >= never["worst_dpd_3m"] == never["worst_dpd_12m"]
    # nobody spent on a temporary limit; the ids behind a value are the bills
    assert {r["temp_limit_statements_12m"] for r in v.values()} == {0}
    assert len(ev[lines["full"]]) == 2

    # rescoring reads them as facts (for a card that scores them): unknown without a line
    with system.uow(readonly=True) as uow:
        cols = behaviour_columns(uow, end, np.array([lines["late"], 0, lines["full"]]), ["worst_dpd_3m"])
    assert cols["worst_dpd_3m"].tolist() == [5, None, 0]

    # the shipped card scores them the same way round, stored by the rescoring, with true reasons
    scoring.refresh_all(system)
    got = {name: scoring.get_score(system, f"beh-{name}") for name in lines}
    score = {name: g["score"] for name, g in got.items()}
    assert got["full"]["scorecard_version"] == DEFAULT_SCORECARD.version
    assert score["full"] >= score["revolver"]  # the book weighs revolving only near the limit
    assert score["full"] > score["late"] > score["never"]
    assert score["revolver"] > score["never"]
    why = {name: {r["code"] for r in g["reasons"]} for name, g in got.items()}
    claims = {"late_repayments", "recent_overdue"}
    assert not why["full"] & claims and "no_repayment_record" not in why["full"]
    assert why["late"] & claims and why["never"] & claims


def test_a_line_without_bills_has_the_catalogue_defaults(system) -> None:
    a = new_account(system, base_limit=300_000)
    buy(system, a, 10_000)
    with system.engine.connect() as conn:
        row = features.compute(conn, BEHAVIOUR, START_DATE)[a]
    assert row == {n: FEATURES[n].default for n in BEHAVIOUR}
    assert row["bills_due_6m"] == 0  # the shares read as "unknown" (the score's missing bin), not as 0 %


def test_the_book_is_a_training_table_with_its_own_outcomes(system) -> None:
    from huabei.errors import HuabeiError
    from huabei.scoring.collect import book_frame

    lines, plan = _book(system)
    _live(system, dt.date(2027, 1, 20), plan)
    as_of = dt.date(2026, 12, 20)
    with system.uow(readonly=True) as uow:
        frame = book_frame(uow, as_of, horizon_months=1, bad_dpd=1)
        with pytest.raises(HuabeiError):
            book_frame(uow, as_of, horizon_months=2)  # the horizon has not passed yet
    bad = dict(zip(frame["account_id"], frame["bad"]))
    # the outcome is read after the as-of date only: five days late in January, never repaid
    assert bad == {lines["full"]: 0, lines["revolver"]: 0, lines["late"]: 1, lines["never"]: 1}
    row = frame.set_index("account_id").loc[lines["late"]]
    assert row["worst_dpd_3m"] == 0 and row["paid_in_full_share_6m"] == 1000  # as of the date
