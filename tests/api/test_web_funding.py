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
