"""The bureau step of ``batch run`` on both databases: the Python figures
(``billing.calendar.bureau_figures``) over the snapshot give exactly the records the end-of-day
step's ``INSERT … SELECT`` wrote for the same book (the SQL twin), with lines overdue past the
grace days among them; applied, the batch writes the month's records once."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from sqlalchemy import delete
from tests.conftest import buy, make_system, new_account

from huabei import errors
from huabei.batch import engines, eod, runs, snapshot
from huabei.billing import tables as tb
from huabei.billing.calendar import BureauFigures, bureau_figures
from huabei.config import BillingTerms

START = dt.date(2026, 9, 2)
DAY = dt.date(2026, 11, 1)
MONTH = "2026-10"
FIELDS = (
    "account_id",
    "user_id",
    "month",
    "format_version",
    "credit_limit",
    "balance",
    "amount_overdue",
    "days_past_due",
    "bucket",
    "worst_bucket",
    "account_status",
)


def _records(system) -> list[dict]:
    with system.uow(readonly=True) as uow:
        return [{k: getattr(r, k) for k in FIELDS} for r in uow.bureau.records(MONTH)]


def test_the_figures_in_python_equal_the_records_the_end_of_day_sql_wrote(db_url, tmp_path) -> None:
    system = make_system(db_url, start=START)
    try:
        for i in range(4):
            acct = new_account(system, base_limit=500_000 * (i + 1), user_id=f"bureau-u{i}")
            for k in range(i + 1):
                buy(system, acct, 20_000 * (k + 1), key=f"bureau-buy-{i}-{k}")
        new_account(system, user_id="bureau-idle")
        eod.run_eod(system, until=DAY)
        written = _records(system)
        assert len(written) == 5 and {r["account_status"] for r in written} >= {"overdue"}
        assert max(r["days_past_due"] for r in written) > system.terms.billing.grace_days

        snapshot.export(system, as_of=DAY, out=tmp_path / "snap", steps=["bureau"])
        rows = engines.decide_local(tmp_path / "snap", "bureau", system.terms)
        decided = [{**json.loads(r[4]), "account_id": r[0], "user_id": r[1]} for r in rows]
        assert sorted(decided, key=lambda r: r["account_id"]) == written

        with system.engine.begin() as c:  # as if the end-of-day step had not written the month
            c.execute(delete(tb.bureau_records).where(tb.bureau_records.c.month == MONTH))
        report = runs.run(system, "bureau", as_of=DAY, snapshot_dir=tmp_path / "snap")
        assert report["counts"] == {"records": 5}
        assert _records(system) == written
        assert runs.run(system, "bureau", as_of=DAY)["status"] == "done_before"
        with pytest.raises(errors.HuabeiError):
            runs.run(system, "bureau", as_of=DAY - dt.timedelta(days=1))  # not the first of a month
    finally:
        system.engine.dispose()


def test_a_line_keeps_the_record_the_end_of_day_step_wrote(db_url, tmp_path) -> None:
    system = make_system(db_url, start=START)
    try:
        acct = new_account(system, user_id="bureau-kept")
        buy(system, acct, 30_000, key="bureau-kept-buy")
        eod.run_eod(system, until=DAY)
        written = _records(system)
        report = runs.run(system, "bureau", as_of=DAY)
        assert report["decisions"] == 1 and report["counts"] == {"records": 0}
        assert _records(system) == written
    finally:
        system.engine.dispose()


def test_the_bureau_figures_rule() -> None:
    terms = BillingTerms()
    g = terms.grace_days
    within = bureau_figures(
        closed=False, frozen=True, overdue=5_000, dpd=g, bucket="dpd_1_30", month_worst=None, terms=terms
    )
    assert within == BureauFigures(0, 0, "current", "current", "frozen")  # not reported yet
    past = bureau_figures(
        closed=False, frozen=True, overdue=5_000, dpd=g + 1, bucket="dpd_1_30", month_worst="dpd_31_60", terms=terms
    )
    assert past == BureauFigures(5_000, g + 1, "dpd_1_30", "dpd_31_60", "overdue")
    closed = bureau_figures(closed=True, frozen=False, overdue=0, dpd=0, bucket=None, month_worst=None, terms=terms)
    assert closed.account_status == "closed" and closed.bucket == "current"
