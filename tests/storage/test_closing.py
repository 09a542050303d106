"""Closing a line and applying again, on SQLite and PostgreSQL: a user closes a line owing
nothing; a closed line refuses purchases while its bills stay due and payable; the user opens
a new line (the automatic decision) instead of meeting 409 account_exists."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select
from tests.conftest import buy, new_account

from huabei.batch import books, eod
from huabei.billing import views as billing_views
from huabei.closures import service as closures
from huabei.errors import HuabeiError
from huabei.lines import service as accounts
from huabei.onboarding import service as onboarding
from huabei.payments import service as payments
from huabei.platform import admin
from huabei.platform import schema as t
from huabei.platform.unit_of_work import Huabei


def _code(fn, *args, **kw) -> str:  # type: ignore[no-untyped-def]
    with pytest.raises(HuabeiError) as ei:
        fn(*args, **kw)
    return ei.value.code


def test_a_user_closes_a_line_owing_nothing_and_applies_again(system: Huabei) -> None:
    aid = new_account(system, user_id="closer")
    buy(system, aid, 5_000)
    assert _code(closures.close_by_user, system, aid) == "balance_outstanding"
    payments.repay(system, aid, 5_000, "repay-all")
    view = closures.close_by_user(system, aid, reason="no longer needed")
    assert view["status"] == "closed"
    assert _code(closures.close_by_user, system, aid) == "account_already_closed"
    assert _code(closures.close_by_user, system, 99_999) == "account_not_found"
    assert buy_code(system, aid) == "account_closed"
    with system.engine.connect() as c:
        ev = c.execute(
            select(t.domain_events.c.payload).where(t.domain_events.c.event_type == "AccountClosed")
        ).scalar_one()
        closed_on = c.execute(
            select(t.credit_accounts.c.closed_on).where(t.credit_accounts.c.account_id == aid)
        ).scalar_one()
    assert ev["by"] == "user" and ev["reason"] == "no longer needed" and closed_on == dt.date(2026, 11, 2)
    assert accounts.get_user(system, "closer")["account_id"] is None
    # applying again: an operator-given limit, and (after closing that one too) the automatic decision
    again = onboarding.open_account(system, user_id="closer", base_limit=200_000)
    assert again["account_id"] != aid and again["status"] == "active"
    assert accounts.get_user(system, "closer")["account_id"] == again["account_id"]
    assert _code(onboarding.open_account, system, user_id="closer", base_limit=200_000) == "account_exists"
    assert books.ledger_check(system).ok


def buy_code(system: Huabei, aid: int) -> str:
    try:
        buy(system, aid, 1_000)
        return "approved"
    except HuabeiError as e:
        return e.code


def test_a_swept_line_keeps_its_bills_due_and_payable(system: Huabei) -> None:
    eod.run_eod(system, until=dt.date(2026, 11, 2))
    aid = new_account(system)
    buy(system, aid, 30_000)
    with system.uow() as uow:
        assert closures.close(uow, aid, actor="ops-1", reason="rule x", by="sweep", evidence={"sweep_id": 1})
        assert not closures.close(uow, aid, actor="ops-1", reason="rule x", by="sweep")
        uow.commit()
    view = accounts.account_view(system, aid)
    (r,) = view["restrictions"]
    assert view["status"] == "closed" and r["cause"] == "regulatory_tightening"
    assert r["lifts_on"] == (dt.date(2026, 11, 2) + dt.timedelta(days=90)).isoformat()
    assert buy_code(system, aid) == "account_closed"
    # the end-of-day job bills the closed line; the bill is due and payable
    eod.run_eod(system, until=dt.date(2026, 12, 1))
    admin.set_business_date(system, dt.date(2026, 12, 2))
    eod.run_eod(system, until=dt.date(2026, 12, 2))
    (bill,) = billing_views.list_bills(system, aid)
    assert bill["total_due"] == 30_000
    payments.repay(system, aid, 10_000, "part")
    assert accounts.account_view(system, aid)["used"] == 20_000
    assert books.ledger_check(system).ok
