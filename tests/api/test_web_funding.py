"""信用购 on the pages, on SQLite and PostgreSQL: after brand isolation moved a partner's balance
off 花呗, 我的花呗 shows both lines — the 信用购 line with its funder, its bills and a repay form
that repays that line."""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterator

import pytest
from tests.api.conftest import key_for
from tests.api.test_web_login import csrf, login
from tests.conftest import buy, make_system

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

from huabei.closures import service as closures
from huabei.config import FundingPartner, FundingTerms, ProductTerms
from huabei.entrypoints.http.app import create_app
from huabei.funding import service as funding
from huabei.lines import service as accounts
from huabei.onboarding import service as onboarding
from huabei.platform.unit_of_work import Huabei

TERMS = ProductTerms(funding=FundingTerms(partners=(FundingPartner(code="bank_a", name="Bank A", name_zh="甲银行"),)))


@pytest.fixture
def fsystem(db_url: str) -> Iterator[Huabei]:
    s = make_system(db_url, TERMS)
    yield s
    s.engine.dispose()


def test_my_huabei_shows_the_xinyonggou_line_and_repays_it(fsystem: Huabei) -> None:
    s = fsystem
    accounts.register_user(s, user_id="u1", name="测试用户", phone="13800000000", real_name_verified=True)
    a = onboarding.open_account(s, user_id="u1", base_limit=500_000, funding_source="bank_a")["account_id"]
    buy(s, a, 30_000)
    n = funding.migrate(s, partner="bank_a")["lines"][0]["to_account_id"]
    with TestClient(create_app(s), raise_server_exceptions=False) as c:
        assert login(c, key_for(s, "customer", "u1")).status_code == 303
        page = c.get("/me").text
        assert "id='xinyonggou'" in page and "信用购（甲银行出资）" in page
        assert re.search(r"id='owed-xinyonggou'>300\.00<", page) and re.search(r"id='owed'>0\.00<", page)
        assert "信用购, funded by Bank A" in c.get("/me?lang=en").text
        done = c.post(
            "/me/repay",
            data={"csrf": csrf(page), "product": "xinyonggou", "amount": "100.00", "key": "web-repay-1"},
            follow_redirects=False,
        )
        assert done.status_code == 303
        assert re.search(r"id='owed-xinyonggou'>200\.00<", c.get(done.headers["location"]).text)
    assert accounts.account_view(s, n)["used"] == 20_000 and accounts.account_view(s, a)["used"] == 0


def test_my_huabei_shows_a_closed_xinyonggou_line_with_when_and_why(fsystem: Huabei) -> None:
    """A 花呗 line closed by a regulatory sweep still owes 300.00 to its funder; brand isolation
    opens its 信用购 line closed. The user has no open line, yet 我的花呗 shows that 信用购 line, says
    it is closed since the move and why, and its repay form repays that very line."""
    s = fsystem
    accounts.register_user(s, user_id="u1", name="测试用户", phone="13800000000", real_name_verified=True)
    a = onboarding.open_account(s, user_id="u1", base_limit=500_000, funding_source="bank_a")["account_id"]
    buy(s, a, 30_000)
    with s.uow() as uow:
        closures.close(uow, a, actor="ops", reason="policy notice", by="sweep")
        uow.commit()
    n = funding.migrate(s, partner="bank_a")["lines"][0]["to_account_id"]
    assert accounts.account_view(s, n)["status"] == "closed"
    today = accounts.account_view(s, n)["as_of"]
    assert closures.closing(s, n) == {"closed_on": today, "by": "funding", "reason": "huabei_line_closed"}
    assert closures.closing(s, a) == {"closed_on": today, "by": "sweep", "reason": "policy notice"}
    with TestClient(create_app(s), raise_server_exceptions=False) as c:
        assert login(c, key_for(s, "customer", "u1")).status_code == 303
        page = c.get("/me?lang=zh").text
        card = page.split(f"id='xinyonggou-{n}'")[1]
        assert "信用购（甲银行出资）" in card and f"已于 {today} 关闭，不能再消费" in card
        assert "data-reason='huabei_line_closed'" in card and "原来所在的花呗已经关闭" in card
        assert re.search(rf"id='owed-xinyonggou-{n}'>300\.00<", card)
        assert "当前登录身份没有" not in page and "no credit line" not in page
        en = c.get("/me?lang=en").text.split(f"id='xinyonggou-{n}'")[1]
        assert f"Closed on {today}: no new purchases" in en
        assert "the Huabei line these balances came from had been closed" in en
        done = c.post(
            "/me/repay",
            data={
                "csrf": csrf(page),
                "product": "xinyonggou",
                "line": str(n),
                "amount": "100.00",
                "key": "web-repay-2",
            },
            follow_redirects=False,
        )
        assert done.status_code == 303, done.text
        assert re.search(rf"id='owed-xinyonggou-{n}'>200\.00<", c.get(done.headers["location"]).text)
        # a line that is not one of the user's 信用购 lines: not found, nothing repaid
        other = c.post(
            "/me/repay",
            data={"csrf": csrf(page), "product": "xinyonggou", "line": str(a), "amount": "1.00", "key": "web-repay-3"},
            follow_redirects=False,
        )
        assert other.status_code == 404
    assert accounts.account_view(s, n)["used"] == 20_000
