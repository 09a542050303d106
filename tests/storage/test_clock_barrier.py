"""Time does not race: moving the business date (``clock set``, the end-of-day job) waits for
every transaction still writing under the old date, so a purchase dated the day before a
statement date that commits late is still on that bill; the clock never jumps over a day whose
end-of-day run is due; and the clock and the job are bounded."""

from __future__ import annotations

import datetime as dt
import threading
import time

import pytest
from tests.conftest import buy, make_system, new_account

from huabei.batch import books, eod
from huabei.billing import service as billing
from huabei.errors import HuabeiError
from huabei.ledger import rules as ledger_rules
from huabei.payments import service as payments
from huabei.platform import admin

D = dt.date


@pytest.fixture
def s(db_url):
    system = make_system(db_url, start=D(2026, 11, 29))
    yield system
    system.engine.dispose()


def test_a_clock_move_waits_for_a_purchase_in_flight(s, monkeypatch):
    acct = new_account(s, 500_000)
    eod.run_eod(s, until=D(2026, 11, 30))
    in_tx, release = threading.Event(), threading.Event()
    real = ledger_rules.purchase_entry

    def slow_entry(*a, **kw):  # inside the purchase's transaction, after it read the date
        in_tx.set()
        assert release.wait(20)
        return real(*a, **kw)

    monkeypatch.setattr(payments.ledger, "purchase_entry", slow_entry)
    result: dict[str, object] = {}
    t_purchase = threading.Thread(target=lambda: result.setdefault("p", buy(s, acct, 10_000)))
    t_purchase.start()
    assert in_tx.wait(20)

    done = threading.Event()

    def move_then_close() -> None:
        admin.set_business_date(s, D(2026, 12, 1))  # the operator moves the clock...
        eod.run_eod(s, until=D(2026, 12, 1))  # ...then runs the statement date's job
        done.set()

    t_clock = threading.Thread(target=move_then_close)
    t_clock.start()
    time.sleep(0.8)
    assert not done.is_set(), "the clock moved while a purchase dated the old day was writing"
    release.set()
    t_purchase.join(20)
    t_clock.join(30)
    assert done.is_set()
    assert result["p"].body["business_date"] == "2026-11-30"  # type: ignore[attr-defined]
    bill = billing.get_bill(s, acct, "2026-12")
    assert [x["amount"] for x in bill["lines"] if x["kind"] == "purchase"] == [10_000]
    assert books.ledger_check(s).ok


def test_the_clock_never_jumps_over_a_day_whose_job_did_not_run(s):
    new_account(s)
    eod.run_eod(s, until=D(2026, 11, 30))
    with pytest.raises(HuabeiError) as e:
        admin.set_business_date(s, D(2027, 1, 5))
    assert e.value.code == "clock_jump_over_eod"
    assert e.value.params["first"] == "2026-12-01" and e.value.params["last"] == "2027-01-04"
    assert admin.business_date(s) == D(2026, 11, 30)  # nothing moved
    admin.set_business_date(s, D(2026, 12, 1))  # the next day is the normal step
    eod.run_eod(s, until=D(2027, 1, 5))  # the job moves the date and runs every day
    assert admin.business_date(s) == D(2027, 1, 5)


def test_the_clock_and_the_job_are_bounded(s):
    for far in (D(9999, 12, 30), D(2028, 1, 1)):
        with pytest.raises(HuabeiError) as e:
            admin.set_business_date(s, far)
        assert e.value.code == "clock_jump_too_far"
    with pytest.raises(HuabeiError) as e:
        eod.run_eod(s, until=D(2615, 1, 4))
    assert e.value.code == "eod_range_too_long"
    assert admin.business_date(s) == D(2026, 11, 29)


def test_a_job_that_cannot_pass_the_barrier_changes_nothing_and_says_so(s, backend, monkeypatch):
    """A transaction that keeps writing under the old date: on PostgreSQL the job gives up after
    ``operations.clock_barrier_timeout_seconds`` with ``eod_busy`` (the date not moved, the days
    run kept); SQLite's writers are serialised, so there the job simply runs after it."""
    new_account(s)
    eod.run_eod(s, until=D(2026, 11, 30))
    ops = s.terms.operations.model_copy(update={"clock_barrier_timeout_seconds": 0.5})
    monkeypatch.setattr(s, "terms", s.terms.model_copy(update={"operations": ops}))
    holding, release = threading.Event(), threading.Event()

    def writer() -> None:
        with s.uow() as uow:
            uow.today()  # a writing transaction that read 11-30
            holding.set()
            release.wait(20)

    t = threading.Thread(target=writer)
    t.start()
    assert holding.wait(10)
    try:
        if backend == "postgresql":
            with pytest.raises(HuabeiError) as e:
                eod.run_eod(s, until=D(2026, 12, 1))
            err = e.value
            assert err.code == "eod_busy"
            assert (err.params["business_date"], err.params["last_completed"]) == ("2026-11-30", "2026-11-30")
            assert admin.business_date(s) == D(2026, 11, 30)
            from huabei import reasons

            text = reasons.render("eod_busy", err.params)["message"]
            assert "not moved" in text and "2026-11-30" in text
        else:
            threading.Timer(0.5, release.set).start()
            eod.run_eod(s, until=D(2026, 12, 1))
            assert admin.business_date(s) == D(2026, 12, 1)
    finally:
        release.set()
        t.join(20)
