"""The risk dashboard's time series and score stability on SQLite and PostgreSQL: overdue rate and
amount and utilisation by month (the bureau records of each month end) and the PSI of the score
bands month over month, drawn from set-based queries."""

from __future__ import annotations

import datetime as dt
import warnings

from tests.api.conftest import key_for
from tests.api.test_web_login import login
from tests.conftest import buy, new_account

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

from huabei.batch import eod
from huabei.entrypoints.http.app import create_app
from huabei.platform.unit_of_work import Huabei
from huabei.portfolio import queries as portfolio


def test_month_ends() -> None:
    assert portfolio.month_ends(dt.date(2026, 3, 15), 3) == [
        dt.date(2025, 12, 31),
        dt.date(2026, 1, 31),
        dt.date(2026, 2, 28),
        dt.date(2026, 3, 15),
    ]


def test_dashboard_series_and_stability(system: Huabei) -> None:
    risk = key_for(system, "risk")
    with TestClient(create_app(system), raise_server_exceptions=False) as c:
        assert login(c, risk).status_code == 303
        page = c.get("/portfolio").text
        assert "id='series'" in page and "还没有月末记录" in page  # nothing reported yet: said so

    a, b = new_account(system, user_id="u1"), new_account(system, user_id="u2")
    buy(system, a, 40_000)
    buy(system, b, 10_000)
    eod.run_eod(system, until=dt.date(2026, 12, 2))  # the November records are written on 1 December
    months = portfolio.monthly(system)
    assert [m["month"] for m in months] == ["2026-11"]
    nov = months[0]
    assert nov["lines"] == 2 and nov["overdue_rate"] == 0.0 and nov["amount_overdue"] == 0
    assert nov["utilisation"] == 50_000 / 200_000

    with TestClient(create_app(system), raise_server_exceptions=False) as c:
        assert login(c, risk).status_code == 303
        page = c.get("/portfolio").text
        for chart in ("chart-overdue-time", "chart-utilisation-time", "chart-psi", "chart-bands"):
            assert f"id='{chart}'" in page
        assert "2026-11" in page.split("id='series'")[1] and "25.0" in page.split("id='chart-utilisation-time'")[1]
        assert "id='psi-now'" in page and "稳定" in page
        assert "Score stability" in c.get("/portfolio?lang=en").text
