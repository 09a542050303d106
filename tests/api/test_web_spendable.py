"""The customer's pages tell what can be spent right now, on SQLite and PostgreSQL: 我的花呗 (/me)
and the line's page (/accounts/{id}) show ``spendable_now`` beside the limits — 0.00 on an overdue
line that still has 4000.00 available, with the reason and the days past due; the whole available
limit on a usable line — and the line's installment plans, in Chinese and in English."""

from __future__ import annotations

import datetime as dt
import re
import warnings

from tests.api.conftest import key_for
from tests.api.test_web_login import login
from tests.conftest import buy, new_account

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

from huabei.batch import eod
from huabei.billing import service as billing
from huabei.entrypoints.http.app import create_app
from huabei.money import yuan
from huabei.payments import service as payments
from huabei.platform.unit_of_work import Huabei


def _spendable(page: str) -> str:
    m = re.search(r"id='spendable-now'>([^<]+)<", page)
    assert m, page
    return m.group(1)


def test_an_overdue_line_shows_it_can_spend_nothing_now_and_why(system: Huabei) -> None:
    late = new_account(system, yuan("5000.00"), user_id="late")
    fine = new_account(system, yuan("2000.00"), user_id="fine")
    start = dt.date.fromisoformat(eod.status(system)["business_date"])
    eod.run_eod(system, until=start)
    buy(system, late, yuan("1000.00"))
    bought = buy(system, fine, yuan("600.00")).body["purchase_id"]
    billing.create_purchase_installments(system, bought, 3, "plan-1")
    eod.run_eod(system, until=dt.date(2026, 12, 2))
    fine_bill = billing.list_bills(system, fine)[0]
    payments.repay(system, fine, fine_bill["total_due"], "repay-fine")  # `fine` pays its 12-01 bill
    eod.run_eod(system, until=dt.date(2026, 12, 12))  # the 12-01 bill of `late`, due 12-10, unpaid

    with TestClient(create_app(system), raise_server_exceptions=False) as c:
        assert login(c, key_for(system, "customer", "late")).status_code == 303
        for path in ("/me", f"/accounts/{late}"):
            zh = c.get(f"{path}?lang=zh").text
            assert "4000.00" in zh  # the available limit is still there …
            assert "当前可消费" in zh and _spendable(zh) == "0.00"  # … but nothing can be spent now
            assert "data-code='account_overdue'" in zh and "您的花呗有逾期账单，暂停新的消费。" in zh
            assert "已逾期 2 天" in zh
            en = c.get(f"{path}?lang=en").text
            assert "Spendable now" in en and _spendable(en) == "0.00"
            assert "Your credit line has an overdue bill, so new purchases are paused." in en
            assert "2 days past due" in en and "当前可消费" not in en

    with TestClient(create_app(system), raise_server_exceptions=False) as c:
        assert login(c, key_for(system, "customer", "fine")).status_code == 303
        zh = c.get("/me?lang=zh").text
        # usable: everything available can be spent, no reason shown
        assert _spendable(zh) == re.search(r"id='available'>([^<]+)<", zh).group(1)  # type: ignore[union-attr]
        assert "id='blocked-reason'" not in zh
        plans = zh.split("id='plans'")[1]
        assert "我的分期" in zh and "消费 " in plans and "600.00 分 3 期" in plans and "还款中" in plans
        assert "已出账 1/3 期" in plans  # the first installment went on the 12-01 bill
        assert _spendable(c.get(f"/accounts/{fine}?lang=zh").text) == _spendable(zh)
        en = c.get("/me?lang=en").text.split("id='plans'")[1]
        assert "My installment plans" in en and "600.00 in 3 monthly installments" in en
        assert "1 of 3 billed" in en and "repaying" in en
