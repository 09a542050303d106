"""The staff's line page on SQLite and PostgreSQL: restrictions with evidence, the score and limit
history chart, transactions and the audit trail; an agent places and lifts soft restrictions only —
a hard one (the risk policy's severity, or a cause the system governs) is refused with a clear
message on the page and over the API, nothing changed; a risk analyst may."""

from __future__ import annotations

import warnings

from tests.api.conftest import auth_headers, key_for
from tests.api.test_web_login import csrf, login
from tests.conftest import buy, new_account

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

from huabei.entrypoints.http.app import create_app
from huabei.platform.unit_of_work import Huabei
from huabei.restrictions import service as restrictions
from huabei.restrictions.causes import severity_for_agent


def test_severity_for_an_agent() -> None:
    assert severity_for_agent("cash_out_suspected", "hard", {"soft"}) == "hard"  # the rule that placed it says
    assert severity_for_agent("overdue_reported", "soft", {"hard"}) == "soft"
    assert severity_for_agent("operator_hold", None, set()) == "soft"  # an agent's own hold
    assert severity_for_agent("cash_out_suspected", None, {"soft"}) == "soft"
    assert severity_for_agent("overdue_reported", None, {"hard", "soft"}) == "hard"
    assert severity_for_agent("maintenance_window", None, set()) == "hard"  # no rule: the system's


def test_agent_line_page_and_soft_freezes(system: Huabei) -> None:
    aid = new_account(system, user_id="u1")
    other = new_account(system, user_id="u2")
    buy(system, aid, 12_345)
    hard = restrictions.place_restriction(system, aid, cause="overdue_reported", actor="test")
    soft = restrictions.place_restriction(system, aid, cause="cash_out_suspected", evidence={"round": 5}, actor="test")
    elsewhere = restrictions.place_restriction(system, other, cause="operator_hold", actor="test")
    agent, risk = key_for(system, "agent"), key_for(system, "risk")
    app = create_app(system)

    with TestClient(app, raise_server_exceptions=False) as c:
        assert login(c, agent).status_code == 303
        page = c.get(f"/accounts/{aid}").text
        assert "id='line-history'" in page and "data-chart=" in page
        assert "id='transactions'" in page and "123.45" in page and "消费" in page
        assert "<code>round</code>: 5" in page  # the evidence as recorded
        assert "data-agent='hard'" in page and "硬性限制" in page and "data-agent='soft'" in page
        assert page.count("lift-form") == 1  # only the soft one has a lift form for an agent
        place_form = page.split("id='place-form'")[1]
        assert "value='operator_hold'" in place_form and "value='overdue_reported'" not in place_form
        token = csrf(page)

        # a hard one: refused with the reason, on the page, nothing changed
        r = c.post(
            f"/accounts/{aid}/restrictions/{hard['restriction_id']}/lift", data={"csrf": token, "reason": "goodwill"}
        )
        assert r.status_code == 409 and "这是硬性限制" in r.text and "id='error'" in r.text
        r = c.post(f"/accounts/{aid}/restrictions", data={"csrf": token, "cause": "overdue_reported", "note": "x"})
        assert r.status_code == 409 and "这是硬性限制" in r.text
        r = c.post(f"/accounts/{aid}/restrictions", data={"csrf": token, "cause": "operator_hold", "note": " "})
        assert r.status_code == 400  # a freeze needs a reason
        # another line's restriction through this line's page: not found
        r = c.post(f"/accounts/{aid}/restrictions/{elsewhere['restriction_id']}/lift", data={"csrf": token})
        assert r.status_code == 404
        # soft ones: placed and lifted, each with its actor
        r = c.post(
            f"/accounts/{aid}/restrictions",
            data={"csrf": token, "cause": "operator_hold", "note": "用户来电要求暂停使用"},
            follow_redirects=False,
        )
        assert r.status_code == 303
        assert "已设置" in c.get(r.headers["location"]).text
        r = c.post(
            f"/accounts/{aid}/restrictions/{soft['restriction_id']}/lift",
            data={"csrf": token, "reason": "false_positive"},
            follow_redirects=False,
        )
        assert r.status_code == 303
        page = c.get(r.headers["location"]).text
        assert f"限制 {soft['restriction_id']} 已解除。" in page
        assert "Audit trail" in c.get(f"/accounts/{aid}?lang=en").text
        audit = page.split("id='audit'")[1]
        assert f"/accounts/{aid}/restrictions" in audit and "restriction_hard_for_agent" in audit

        # the same over the API with an agent's key; a risk analyst may
        r = c.post(
            f"/v1/restrictions/{hard['restriction_id']}/lift", json={"reason": "goodwill"}, headers=auth_headers(agent)
        )
        assert r.status_code == 409 and r.json()["error"]["code"] == "restriction_hard_for_agent"
        assert "客服只能" in r.json()["error"]["message_zh"]
        r = c.post(
            f"/v1/accounts/{aid}/restrictions", json={"cause": "maintenance_window"}, headers=auth_headers(agent)
        )
        assert r.status_code == 409
        r = c.post(
            f"/v1/restrictions/{hard['restriction_id']}/lift", json={"reason": "goodwill"}, headers=auth_headers(risk)
        )
        assert r.status_code == 200, r.text

    with system.uow(readonly=True) as uow:
        rows = {x.cause: x for x in uow.restrictions.since(aid, uow.today())}
        assert not rows["cash_out_suspected"].active
        assert rows["cash_out_suspected"].lifted_by.startswith("agent:")
        assert rows["operator_hold"].placed_by.startswith("agent:") and rows["operator_hold"].active
        assert rows["overdue_reported"].lifted_by.startswith("risk:")

    with TestClient(app, raise_server_exceptions=False) as c:  # a risk analyst sees every lift form
        assert login(c, risk).status_code == 303
        page = c.get(f"/accounts/{aid}").text
        assert page.count("lift-form") == 1 and "data-agent='soft'" in page  # the hold: lift form
        assert "value='overdue_reported'" in page.split("id='place-form'")[1]
