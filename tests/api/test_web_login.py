"""The web login on SQLite and PostgreSQL: a key becomes a session cookie (HttpOnly, SameSite=Strict),
every form carries a CSRF token, pages without a session go to the login form, a revoked key ends
its sessions, login attempts are rate limited."""

from __future__ import annotations

import re
import warnings

from tests.api.conftest import key_for
from tests.conftest import make_system, new_account

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

from huabei.access import service as access
from huabei.config import ProductTerms
from huabei.entrypoints.http.app import create_app
from huabei.platform.unit_of_work import Huabei


def csrf(page: str) -> str:
    m = re.search(r"name='csrf' value='([^']+)'", page)
    assert m, page
    return m.group(1)


def login(c: TestClient, key: str) -> object:
    form = c.get("/login")
    return c.post("/login", data={"key": key, "csrf": csrf(form.text)}, follow_redirects=False)


def test_login_session_csrf_and_logout(system: Huabei) -> None:
    acct = new_account(system, user_id="u1")
    agent = key_for(system, "agent")
    with TestClient(create_app(system), raise_server_exceptions=False) as c:
        r = c.get("/", follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"].startswith("/login")
        page = c.get("/login")
        assert page.status_code == 200 and "登录" in page.text  # Chinese first
        assert "Log in" in c.get("/login?lang=en").text
        # no CSRF token: refused, nothing set
        r = c.post("/login", data={"key": agent}, follow_redirects=False)
        assert r.status_code == 403 and r.json()["error"]["code"] == "csrf_failed"
        r = login(c, "hb_" + "z" * 43)
        assert r.status_code == 401 and "login-error" in r.text
        r = login(c, agent)
        assert r.status_code == 303 and r.headers["location"].startswith("/console")
        cookie = r.headers.get_list("set-cookie")
        session = next(h for h in cookie if h.startswith("hb_session="))
        assert "HttpOnly" in session and "SameSite=strict" in session and agent not in session
        r = c.get(f"/accounts/{acct}?lang=en")
        assert r.status_code == 200 and "customer service agent" in r.text
        # a state change over the session needs the CSRF token too
        r = c.post(f"/v1/accounts/{acct}/restrictions", json={"cause": "operator_hold", "note": "x"})
        assert r.status_code == 403 and r.json()["error"]["code"] == "csrf_failed"
        token = csrf(c.get(f"/accounts/{acct}").text)
        r = c.post(
            f"/v1/accounts/{acct}/restrictions",
            json={"cause": "operator_hold", "note": "x"},
            headers={"X-CSRF-Token": token},
        )
        assert r.status_code == 201, r.text
        assert c.post("/logout", follow_redirects=False).status_code == 403
        assert c.post("/logout", data={"csrf": token}, follow_redirects=False).status_code == 303
        assert c.get("/", follow_redirects=False).status_code == 303


def test_revoking_the_key_ends_its_sessions(system: Huabei) -> None:
    new_account(system, user_id="u1")
    made = access.create_key(system, "customer", user_id="u1")
    with TestClient(create_app(system), raise_server_exceptions=False) as c:
        assert login(c, made["key"]).status_code == 303
        assert c.get("/accounts/1").status_code == 200
        access.revoke_key(system, made["key_id"])
        assert c.get("/accounts/1", follow_redirects=False).status_code == 303


def test_login_attempts_are_rate_limited(db_url: str) -> None:
    system = make_system(db_url, terms=ProductTerms.model_validate({"access": {"login_attempts": 2}}))
    try:
        with TestClient(create_app(system), raise_server_exceptions=False) as c:
            assert [login(c, "hb_" + "q" * 43).status_code for _ in range(3)] == [401, 401, 429]
    finally:
        system.engine.dispose()


def test_api_documentation_is_served_offline(system: Huabei) -> None:
    with TestClient(create_app(system), raise_server_exceptions=False) as c:
        for page, asset in (("/docs", "/static/swagger-ui-bundle.js"), ("/redoc", "/static/redoc.standalone.js")):
            r = c.get(page)
            assert r.status_code == 200 and asset in r.text and "/openapi.json" in r.text
            assert not re.search(r"(src|href)=['\"]https?://", r.text), "no CDN at run time"
            assert c.get(asset).status_code == 200
        assert c.get("/static/chart.umd.min.js").status_code == 200
        doc = c.get("/openapi.json").json()
        assert doc["components"]["securitySchemes"]["HTTPBearer"]["scheme"] == "bearer"
