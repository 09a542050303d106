"""The appeal on the pages, on SQLite and PostgreSQL: the customer reads why the line is frozen,
what to do and how to raise the limit, files an appeal from 我的花呗 and follows its status; the
agent decides it from the queue (the restriction lifts, the decision names the agent); a second
decision, another user's restriction and a risk analyst's decision are refused."""

from __future__ import annotations

import re
import warnings

from sqlalchemy import select
from tests.api.conftest import key_for
from tests.api.test_web_login import csrf, login
from tests.conftest import new_account

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

from huabei.access import tables as at
from huabei.appeals import service as appeals
from huabei.entrypoints.http.app import create_app
from huabei.platform.unit_of_work import Huabei
from huabei.restrictions import service as restrictions


def test_customer_appeals_and_agent_decides_on_the_pages(system: Huabei) -> None:
    mine = new_account(system, user_id="u1")
    theirs = new_account(system, user_id="u2")
    r = restrictions.place_restriction(system, mine, cause="cash_out_suspected", actor="test")
    other = restrictions.place_restriction(system, theirs, cause="cash_out_suspected", actor="test")
    customer, agent, risk = key_for(system, "customer", "u1"), key_for(system, "agent"), key_for(system, "risk")
    app = create_app(system)

    with TestClient(app, raise_server_exceptions=False) as c:
        assert login(c, customer).status_code == 303
        page = c.get("/me").text
        assert "有交易疑似套现" in page and "解决方法" in page  # why, and what to do
        assert "id='advice'" in page and "如何提升额度" in page  # the ranked limit advice
        assert "appeal-form" in page
        token = csrf(page)
        # another user's restriction: not found from this line, nothing filed
        bad = c.post("/me/appeals", data={"csrf": token, "restriction_id": other["restriction_id"], "statement": "x"})
        assert bad.status_code == 404 and "限制" in bad.text
        # no CSRF token: refused
        assert c.post("/me/appeals", data={"restriction_id": r["restriction_id"], "statement": "x"}).status_code == 403
        assert appeals.listing(system) == []
        done = c.post(
            "/me/appeals",
            data={"csrf": token, "restriction_id": r["restriction_id"], "statement": "我没有套现，是给家人买的。"},
            follow_redirects=False,
        )
        assert done.status_code == 303
        page = c.get(done.headers["location"]).text
        assert "申诉 1 已提交" in page and "我的申诉" in page and "处理中" in page
        assert "appeal-form" not in page  # one open appeal per restriction
        assert "正在由客服处理" in page
        assert "Being handled".lower() in c.get("/me?lang=en").text.lower()
        filed = appeals.get_appeal(system, 1)
        assert filed["statement"] == "我没有套现，是给家人买的。"

    with TestClient(app, raise_server_exceptions=False) as c:  # the risk analyst reads, cannot decide
        assert login(c, risk).status_code == 303
        page = c.get("/console/appeals").text
        assert "我没有套现" in page and "decide-form" not in page
        refused = c.post(
            "/console/appeals/1/decision", data={"csrf": csrf(page), "choice": "lift:goodwill", "reason": "x"}
        )
        assert refused.status_code == 403

    with TestClient(app, raise_server_exceptions=False) as c:
        assert login(c, agent).status_code == 303
        page = c.get("/console/appeals").text
        assert "申诉 1" in page and "我没有套现" in page and "decide-form" in page
        token = csrf(page)
        # a label of the other decision: a clear 400, nothing decided
        wrong = c.post(
            "/console/appeals/1/decision", data={"csrf": token, "choice": "lift:confirmed", "reason": "核实"}
        )
        assert wrong.status_code == 400 and "id='error'" in wrong.text
        assert appeals.get_appeal(system, 1)["status"] == "open"
        done = c.post(
            "/console/appeals/1/decision",
            data={"csrf": token, "choice": "lift:false_positive", "reason": "核实为家庭消费"},
            follow_redirects=False,
        )
        assert done.status_code == 303
        page = c.get(done.headers["location"]).text
        assert "申诉 1 已处理：已解除" in page and "id='queue-empty'" in page and "核实为家庭消费" in page
        again = c.post("/console/appeals/1/decision", data={"csrf": token, "choice": "uphold:confirmed", "reason": "x"})
        assert again.status_code == 409 and "已处理完毕" in again.text
        assert c.get("/console/appeals/1/decision").status_code == 405

    decided = appeals.get_appeal(system, 1)
    assert decided["status"] == "lifted" and decided["outcome"] == "false_positive"
    with system.uow(readonly=True) as uow:
        lifted = uow.restrictions.get(r["restriction_id"])
        assert not lifted.active and lifted.lifted_by.startswith("agent:")
        rows = uow.conn.execute(select(at.audit_log).where(at.audit_log.c.route.like("%appeals%"))).all()
    assert {(x.route, x.status) for x in rows} >= {("/me/appeals", 303), ("/console/appeals/{appeal_id}/decision", 303)}

    with TestClient(app, raise_server_exceptions=False) as c:
        assert login(c, customer).status_code == 303
        page = c.get("/me").text
        assert "申诉成功，限制已解除" in page and "核实为家庭消费" in page
        assert not re.search(r"data-code='cash_out_suspected'", page.split("id='appeals'")[0])
