"""The end-of-day job through storage, on SQLite and PostgreSQL: replays change nothing, a
crash rolls back only the step it hit and a rerun resumes, money movements wait for the
day's run, concurrent runs do the work once, and the credit-bureau file."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from sqlalchemy import func, select
from tests.conftest import buy, make_system, new_account

from huabei.batch import books, eod
from huabei.billing import bureau
from huabei.billing import service as billing
from huabei.billing import tables as tb
from huabei.config import BillingTerms, ProductTerms
from huabei.errors import HuabeiError
from huabei.lines import service as accounts
from huabei.money import format_yuan, yuan
from huabei.payments import service as purchases
from huabei.platform import admin
from huabei.platform import schema as t
from huabei.platform.schema import metadata
from huabei.platform.unit_of_work import ClockMode, Huabei

D = dt.date


@pytest.fixture
def s(db_url):
    system = make_system(db_url, start=D(2026, 10, 25))
    yield system
    system.engine.dispose()


def code(fn, *a, **kw) -> str:
    with pytest.raises(HuabeiError) as e:
        fn(*a, **kw)
    return e.value.code


def snapshot(system: Huabei) -> dict[str, list]:
    """Every row of every table, timestamps left out."""
    out = {}
    with system.engine.connect() as c:
        for table in metadata.sorted_tables:
            cols = [
                col
                for col in table.c
                if col.name not in ("created_at", "started_at", "finished_at", "completed_at", "updated_at")
            ]
            out[table.name] = [tuple(r) for r in c.execute(select(*cols).order_by(*table.primary_key.columns))]
    return out


def overdue_account(system: Huabei) -> int:
    """1,000.00 billed on 2026-11-01 and never repaid: penalty 0.50 a day from 11-11."""
    acct = new_account(system, yuan("5000.00"))
    eod.run_eod(system, until=D(2026, 10, 25))
    buy(system, acct, yuan("1000.00"))
    return acct


def test_replaying_a_day_changes_nothing(s):
    acct = overdue_account(s)
    eod.run_eod(s, until=D(2026, 11, 12))
    purchases.repay(s, acct, yuan("10.00"), "part")
    before = snapshot(s)
    for day in (D(2026, 11, 1), D(2026, 11, 11), D(2026, 11, 12)):
        report = eod.run_eod(s, date=day)
        assert {st.status for st in report.days[0].steps} == {"done_before"}
        assert [st.name for st in report.days[0].steps] == [st.name for st in eod.STEPS]
    assert eod.run_eod(s, until=D(2026, 11, 12)).days == []
    assert snapshot(s) == before


def test_a_crash_rolls_back_the_step_and_a_rerun_resumes(s):
    overdue_account(s)
    eod.run_eod(s, until=D(2026, 11, 12))

    def power_cut(step, uow):  # the step did its work, then the process "dies" before committing
        if step == "accrue_penalty":
            raise RuntimeError("power cut")

    with pytest.raises(RuntimeError):
        eod.run_eod(s, until=D(2026, 11, 13), after_step=power_cut)
    with s.engine.connect() as c:
        steps = set(c.execute(select(t.eod_runs.c.step).where(t.eod_runs.c.business_date == D(2026, 11, 13))).scalars())
        assert "accrue_penalty" not in steps and "delinquency" not in steps
        assert (
            c.execute(
                select(func.count())
                .select_from(tb.bill_accruals)
                .where(tb.bill_accruals.c.business_date == D(2026, 11, 13))
            ).scalar()
            == 0
        )
        assert c.execute(select(func.max(t.eod_days.c.business_date))).scalar() == D(2026, 11, 12)
    assert code(purchases.repay, s, 1, 100, "during") == "eod_pending"  # the day is not finished
    report = eod.run_eod(s, until=D(2026, 11, 13))
    ran = {st.name: st.status for st in report.days[0].steps}
    assert ran["accrue_penalty"] == "ran" and ran["delinquency"] == "ran"
    with s.engine.connect() as c:
        per_day = c.execute(
            select(tb.bill_accruals.c.business_date, func.sum(tb.bill_accruals.c.amount))
            .group_by(tb.bill_accruals.c.business_date)
            .order_by(tb.bill_accruals.c.business_date)
        ).all()
    assert per_day == [(D(2026, 11, 11), 50), (D(2026, 11, 12), 50), (D(2026, 11, 13), 50)]
    assert books.ledger_check(s).ok


@pytest.mark.smoke
def test_the_job_refreshes_scores_and_reviews_limits_on_their_day(s):
    """The score and limit policy's steps run inside the job, after the delinquency step (the
    day's overdue events count), on their scheduled day (the 2nd, monthly), as recorded steps."""
    from huabei.scoring import tables as ts

    names = [st.name for st in eod.STEPS]
    assert names.index("delinquency") < names.index("refresh_scores") < names.index("reevaluate_limits")
    assert names.index("lift_restrictions") < names.index("settle_campaigns")
    acct = overdue_account(s)
    eod.run_eod(s, until=D(2026, 11, 1))
    with s.engine.connect() as c:
        assert c.execute(select(func.count()).select_from(ts.credit_scores)).scalar() == 0
    report = eod.run_eod(s, until=D(2026, 12, 2))
    counts = {d.business_date: {st.name: st.counts for st in d.steps} for d in report.days}
    assert counts[D(2026, 11, 2)]["refresh_scores"] == {"scored": 1}
    assert counts[D(2026, 11, 3)]["refresh_scores"] == {"scored": 0}
    assert counts[D(2026, 12, 2)]["refresh_scores"] == {"scored": 1}
    # a line open five weeks is not reviewed yet (seasoning): it keeps its opening limit
    assert counts[D(2026, 12, 2)]["reevaluate_limits"] == {"changed": 0}
    assert accounts.account_view(s, acct)["base_limit"] == yuan("5000.00")
    with s.engine.connect() as c:
        scores = c.execute(
            select(ts.credit_scores.c.as_of, ts.credit_scores.c.score).order_by(ts.credit_scores.c.as_of)
        ).all()
    assert [r.as_of for r in scores] == [D(2026, 11, 2), D(2026, 12, 2)]
    assert scores[1].score < scores[0].score  # overdue since 11-11 (days past due 21 by 12-02)


def test_money_movements_wait_for_the_days_run_purchases_do_not(s):
    acct = overdue_account(s)
    eod.run_eod(s, until=D(2026, 11, 2))
    assert code(admin.set_business_date, s, D(2026, 11, 4)) == "clock_jump_over_eod"  # 11-03 never ran
    admin.set_business_date(s, D(2026, 11, 3))  # the clock moved on without the job
    assert code(purchases.repay, s, acct, 100, "r") == "eod_pending"
    assert code(billing.create_bill_installments, s, acct, "2026-11", 3, "i") == "eod_pending"
    assert code(eod.run_eod, s, date=D(2026, 11, 4)) == "eod_days_pending"
    assert code(eod.run_eod, s) == "invalid_request"
    buy(s, acct, yuan("1.00"))  # a purchase dated 11-03 is on a later bill whatever the job did
    eod.run_eod(s, until=D(2026, 11, 4))
    assert purchases.repay(s, acct, 100, "r").status == 201
    production = Huabei(engine=s.engine, terms=s.terms, clock_mode=ClockMode.SYSTEM)
    assert code(eod.run_eod, production, date=D(2999, 1, 1)) == "eod_date_in_future"
    assert books.ledger_check(s).ok


def test_concurrent_runs_of_the_job_do_the_work_once(s):
    overdue_account(s)
    eod.run_eod(s, until=D(2026, 11, 10))
    errors: list[BaseException] = []

    def run():
        try:
            eod.run_eod(s, until=D(2026, 11, 14))
        except BaseException as e:
            errors.append(e)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(timeout=120)
    assert not errors, errors
    with s.engine.connect() as c:
        per_day = c.execute(
            select(tb.bill_accruals.c.business_date, func.count()).group_by(tb.bill_accruals.c.business_date)
        ).all()
        events = c.execute(
            select(func.count()).select_from(t.domain_events).where(t.domain_events.c.event_type == "BecameOverdue")
        ).scalar()
    assert sorted(per_day) == [(D(2026, 11, d), 1) for d in range(11, 15)] and events == 1
    assert books.ledger_check(s).ok


def test_bureau_records_file_and_corrections(s):
    late = overdue_account(s)
    fine = new_account(s, yuan("2000.00"))
    buy(s, fine, yuan("100.00"))
    eod.run_eod(s, until=D(2026, 11, 2))
    purchases.repay(s, fine, yuan("100.00"), "fine")
    assert code(bureau.export, s, "2026-11") == "bureau_month_not_reported"
    assert code(bureau.export, s, "2026-13") == "invalid_month"
    report = eod.run_eod(s, until=D(2026, 12, 1))
    steps = {st.name: st.counts for st in report.days[-1].steps}
    assert steps["bureau_records"] == {"month": "2026-11", "records": 2}
    text = bureau.export(s, "2026-11")
    lines = text.splitlines()
    assert lines[0].startswith("H|HUABEI-BUREAU|1|2026-11|2026-12-01|2")
    assert lines[-1] == "T|2|1010.50|1000.00"  # the overdue 1,000.00 plus 10.50 of penalty posted; 0 for the other
    rec = {int(x.split("|")[3]): x.split("|") for x in lines[1:-1]}
    # the limit reported is the line's limit after the day's re-evaluation (an overdue line may be cut)
    late_limit = format_yuan(accounts.account_view(s, late)["total_limit"])
    assert rec[late][1:3] == ["A", "1"] and rec[late][7:] == [
        late_limit,
        "1010.50",
        "1000.00",
        "21",
        "dpd_1_30",
        "dpd_1_30",
        "overdue",
    ]
    assert rec[fine][7:] == ["2000.00", "0.00", "0.00", "0", "current", "current", "normal"]
    fixed = bureau.correct_record(
        s,
        late,
        "2026-11",
        reason="repayment_posted_late",
        changes={
            "amount_overdue": 0,
            "days_past_due": 0,
            "bucket": "current",
            "worst_bucket": "current",
            "account_status": "normal",
        },
    )
    assert (fixed["seq"], fixed["action"]) == (2, "C")
    lines = bureau.export(s, "2026-11").splitlines()
    corrected = [x for x in lines if x.startswith("D|") and x.split("|")[3] == str(late)]
    assert len(corrected) == 1 and corrected[0].split("|")[1:3] == ["C", "2"]
    assert corrected[0].endswith("|0.00|0|current|current|normal")
    assert len(bureau.records(s, "2026-11")) == 2
    assert code(bureau.correct_record, s, late, "2026-11", reason="x", changes={"colour": "red"}) == "invalid_request"
    eod.run_eod(s, date=D(2026, 12, 1))  # a replay writes no second record
    with s.engine.connect() as c:
        assert (
            c.execute(
                select(func.count()).select_from(tb.bureau_records).where(tb.bureau_records.c.month == "2026-11")
            ).scalar()
            == 3
        )


def test_the_bureau_sees_a_delinquency_only_past_the_grace_days(db_url):
    terms = ProductTerms(billing=BillingTerms(statement_day=20, due_day_choices=(28,), default_due_day=28))
    system = make_system(db_url, terms=terms, start=D(2026, 11, 15))
    try:
        acct = new_account(system, yuan("2000.00"))
        eod.run_eod(system, until=D(2026, 11, 15))
        buy(system, acct, yuan("100.00"))
        eod.run_eod(system, until=D(2026, 12, 1))  # due 11-28, overdue from 11-29: 3 days past due
        assert billing.get_bill(system, acct, "2026-11")["status"] == "overdue"
        assert billing.billing_status(system, acct)["days_past_due"] == 3
        rec = bureau.records(system, "2026-11")[0]
        assert (
            rec["days_past_due"],
            rec["bucket"],
            rec["worst_bucket"],
            rec["amount_overdue"],
            rec["account_status"],
        ) == (0, "current", "current", 0, "normal")
        assert books.ledger_check(system).ok
    finally:
        system.engine.dispose()
