"""Access control over HTTP, on SQLite and PostgreSQL: the role x endpoint matrix generated from
the app's routes (a route without a declaration fails it), 401 vs 403 with the error shape,
customers confined to their own lines, the audit log, rate limits with Retry-After, and the
``huabei keys`` commands."""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import create_engine, select
from tests.api.conftest import auth_headers, key_for
from tests.conftest import make_system, new_account, plain_consoles
from typer.testing import CliRunner

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

from fastapi.routing import APIRoute

from huabei.access import service as access
from huabei.access.roles import ROLES, Role
from huabei.config import ProductTerms
from huabei.entrypoints.auth import api_routes, declared_policy
from huabei.entrypoints.cli import main as cli
from huabei.entrypoints.http.app import create_app
from huabei.platform import schema
from huabei.platform.unit_of_work import Huabei

#: Path parameter values of the matrix: what customer u-own owns (account 1 ...).
PATH_VALUES = {
    "account_id": "1",
    "user_id": "u-own",
    "purchase_id": "1",
    "restriction_id": "1",
    "plan_id": "1",
    "period": "2026-11",
    "month": "2026-11",
    "code": "none",
}


def routes(app: Any) -> list[tuple[str, str, APIRoute]]:
    return api_routes(app)


def test_every_route_declares_who_may_call_it() -> None:
    app = create_app(Huabei(engine=create_engine("sqlite://")))
    undeclared = [f"{m} {path}" for m, path, r in routes(app) if declared_policy(r) is None]
    assert not undeclared, f"routes without allow(...): {undeclared} (see docs/access.md)"
    public = [f"{m} {path}" for m, path, r in routes(app) if declared_policy(r).public]  # type: ignore[union-attr]
    assert sorted(public) == ["GET /docs", "GET /healthz", "GET /login", "GET /redoc", "POST /login", "POST /logout"]


def test_a_route_without_a_declaration_is_closed_to_everyone(system: Huabei) -> None:
    from fastapi import APIRouter

    app = create_app(system)
    extra = APIRouter(prefix="/v1")

    @extra.get("/forgotten")
    def forgotten() -> dict[str, str]:
        return {"oops": "open"}

    app.include_router(extra)
    admin = key_for(system, "admin")
    with TestClient(app, raise_server_exceptions=False) as c:
        r = c.get("/v1/forgotten", headers=auth_headers(admin))
        assert r.status_code == 403 and r.json()["error"]["code"] == "route_not_declared"
    assert [p for m, p, r in routes(app) if declared_policy(r) is None] == ["/v1/forgotten"]


#: The matrix sends hundreds of requests from one address: no rate limit gets in its way.
UNLIMITED = ProductTerms.model_validate(
    {"access": {"failed_auth_attempts": 0, "key_requests_per_minute": dict.fromkeys(ROLES, 0)}}
)


@pytest.fixture
def world(db_url: str) -> Iterator[tuple[TestClient, dict[str, str]]]:
    """Customer ``u-own`` owns account 1; ``u-other`` owns account 2; one key per role."""
    system = make_system(db_url, terms=UNLIMITED)
    assert new_account(system, user_id="u-own") == 1
    new_account(system, user_id="u-other")
    keys = {role: key_for(system, role, user_id="u-own" if role == "customer" else None) for role in ROLES}
    keys["other_customer"] = key_for(system, "customer", user_id="u-other")
    with TestClient(create_app(system), raise_server_exceptions=False) as c:
        yield c, keys
    system.engine.dispose()


def _call(c: TestClient, method: str, path: str, key: str | None) -> Any:
    url = re.sub(r"\{(\w+)\}", lambda m: PATH_VALUES.get(m.group(1), "x"), path)
    headers = auth_headers(key) if key else {}
    body = {} if method in ("POST", "PUT", "PATCH") else None
    return c.request(method, url, headers=headers, json=body, follow_redirects=False)


@pytest.mark.smoke
def test_role_by_endpoint_matrix(world: tuple[TestClient, dict[str, str]]) -> None:
    """Each role against every route of the app: allowed (any answer but 401/403) or 403 ``forbidden``;
    without a key 401; a customer on another user's line 403 ``not_owner``."""
    c, keys = world
    wrong: list[str] = []
    for method, path, route in routes(c.app):
        p = declared_policy(route)
        assert p is not None
        r = _call(c, method, path, None)
        if p.public:
            continue
        if path.startswith("/v1/") or method != "GET":
            if r.status_code != 401 or r.json()["error"]["code"] != "unauthenticated":
                wrong.append(f"no key: {method} {path} -> {r.status_code}")
        elif r.status_code != 303 or not r.headers["location"].startswith("/login"):  # a page: to the login form
            wrong.append(f"no key: {method} {path} -> {r.status_code}")
        for role in ROLES:
            r = _call(c, method, path, keys[role])
            allowed = Role(role) in p.roles
            got = r.status_code
            if got >= 500 or (allowed and got in (401, 403)) or (not allowed and got != 403):
                wrong.append(f"{role}: {method} {path} -> {got} {r.text[:120]}")
            if not allowed and got == 403 and r.json()["error"]["code"] != "forbidden":
                wrong.append(f"{role}: {method} {path} -> {r.json()['error']['code']}")
        if Role.CUSTOMER in p.roles and p.own in ("account_id", "user_id"):
            r = _call(c, method, path, keys["other_customer"])
            if r.status_code != 403 or r.json()["error"]["code"] != "not_owner":
                wrong.append(f"other customer: {method} {path} -> {r.status_code}")
    assert not wrong, "\n".join(wrong)


def test_401_and_403_have_the_error_shape_and_are_audited(system: Huabei) -> None:
    acct = new_account(system, user_id="u1")
    agent = key_for(system, "agent")
    with TestClient(create_app(system), raise_server_exceptions=False) as c:
        r = c.get(f"/v1/accounts/{acct}")
        assert r.status_code == 401 and r.headers["WWW-Authenticate"] == "Bearer"
        body = r.json()["error"]
        assert body["code"] == "unauthenticated" and body["message"] and body["message_zh"]
        r = c.get(f"/v1/accounts/{acct}", headers=auth_headers("hb_" + "x" * 43))
        assert r.status_code == 401 and r.json()["error"]["code"] == "invalid_api_key"
        r = c.post(f"/v1/accounts/{acct}/repayments", headers=auth_headers(agent), json={"amount": "1.00"})
        assert r.status_code == 403 and r.json()["error"]["code"] == "forbidden"
        assert "agent" in r.json()["error"]["message"]
        r = c.post(
            f"/v1/accounts/{acct}/restrictions",
            headers=auth_headers(agent),
            json={"cause": "operator_hold", "note": "x"},
        )
        assert r.status_code == 201, r.text
    with system.engine.connect() as conn:
        rows = [dict(x._mapping) for x in conn.execute(select(schema.audit_log).order_by(schema.audit_log.c.audit_id))]
    http = [x for x in rows if x["method"] != "CLI"]
    assert [(x["status"], x["outcome"], x["code"]) for x in http] == [
        (401, "denied", "unauthenticated"),
        (401, "denied", "invalid_api_key"),
        (403, "denied", "forbidden"),
        (201, "ok", None),
    ]
    assert (
        http[2]["route"] == "/v1/accounts/{account_id}/repayments"
        and http[2]["path"] == f"/v1/accounts/{acct}/repayments"
    )
    agent_id = http[3]["key_id"]
    assert http[2]["key_id"] == agent_id and http[3]["role"] == "agent" and agent_id is not None
    # each row names the line it is about and who acted (a denial with no valid key: nobody)
    assert [x["account_id"] for x in http] == [acct] * 4
    assert [x["actor"] for x in http] == [None, None, f"agent:{agent_id}", f"agent:{agent_id}"]
    assert all(x["at"] is not None for x in http)


def test_a_customer_reaches_only_their_own_line(system: Huabei) -> None:
    mine = new_account(system, user_id="u1")
    theirs = new_account(system, user_id="u2")
    key = key_for(system, "customer", user_id="u1")
    with TestClient(create_app(system), raise_server_exceptions=False, headers=auth_headers(key)) as c:
        assert c.get(f"/v1/accounts/{mine}").status_code == 200
        assert c.get(f"/v1/accounts/{theirs}").json()["error"]["code"] == "not_owner"
        assert c.get("/v1/users/u2/score").status_code == 403
        assert c.get("/v1/accounts/999").status_code == 404  # nobody's: the route's own 404
        r = c.post("/v1/accounts", json={"user_id": "u2"})  # opening a line for someone else
        assert r.status_code == 403 and r.json()["error"]["code"] == "not_owner"
        assert c.post(f"/v1/accounts/{theirs}/purchases", json={}).status_code == 403  # purchases: the gateway's


def test_revoked_and_expired_keys_are_refused(system: Huabei) -> None:
    new_account(system, user_id="u1")
    made = access.create_key(system, "agent", label="temp", expires_on=system_today(system).replace(day=10))
    revoked = key_for(system, "risk")
    with TestClient(create_app(system), raise_server_exceptions=False) as c:
        assert c.get("/v1/accounts/1", headers=auth_headers(made["key"])).status_code == 200
        assert c.get("/v1/accounts/1", headers=auth_headers(revoked)).status_code == 200
        access.revoke_key(system, access.list_keys(system)[-1]["key_id"])
        assert c.get("/v1/accounts/1", headers=auth_headers(revoked)).json()["error"]["code"] == "invalid_api_key"
        from huabei.platform import admin

        admin.set_business_date(system, system_today(system).replace(day=10))
        assert c.get("/v1/accounts/1", headers=auth_headers(made["key"])).status_code == 401
    with pytest.raises(Exception, match="key_expiry_in_past"):
        access.create_key(system, "agent", expires_on=system_today(system))
    with pytest.raises(Exception, match="customer_key_needs_user"):
        access.create_key(system, "customer")
    with pytest.raises(Exception, match="user_not_found"):
        access.create_key(system, "customer", user_id="nobody")


def test_a_key_revoked_by_another_process_is_refused_within_the_cache_bound(db_url: str, system: Huabei) -> None:
    """The server trusts a key it found valid for ``access.key_cache_seconds`` (no transaction per
    request): revoked by the command line or another worker (here: another system on the same
    database), it is refused once that bound has passed; with 0, at the next request."""
    new_account(system, user_id="u1")
    other = make_system(db_url)  # another process: its own services, the same database
    now = [1000.0]
    try:
        for seconds in (1.0, 0.0):
            terms = ProductTerms.model_validate({"access": {"key_cache_seconds": seconds}})
            served = Huabei(engine=system.engine, terms=terms, clock_mode=system.clock_mode)
            access._key_cache(served).clock = lambda: now[0]
            key = key_for(system, "agent")
            key_id = access.list_keys(system)[-1]["key_id"]
            with TestClient(create_app(served), raise_server_exceptions=False) as c:
                assert c.get("/v1/accounts/1", headers=auth_headers(key)).status_code == 200
                access.revoke_key(other, key_id)
                r = c.get("/v1/accounts/1", headers=auth_headers(key))
                if seconds:
                    assert r.status_code == 200  # trusted for at most key_cache_seconds more
                    now[0] += seconds
                    r = c.get("/v1/accounts/1", headers=auth_headers(key))
                assert r.status_code == 401 and r.json()["error"]["code"] == "invalid_api_key"
                # revoked in the serving process itself: refused at the next request, cached or not
                key2 = key_for(system, "agent")
                assert c.get("/v1/accounts/1", headers=auth_headers(key2)).status_code == 200
                access.revoke_key(served, access.list_keys(system)[-1]["key_id"])
                assert c.get("/v1/accounts/1", headers=auth_headers(key2)).status_code == 401
    finally:
        other.engine.dispose()


def test_a_trusted_key_needs_no_transaction(system: Huabei) -> None:
    """Within ``access.key_cache_seconds`` a key's requests read nothing of the keys table."""
    from sqlalchemy import event

    new_account(system, user_id="u1")
    key = key_for(system, "agent")
    reads: list[str] = []

    def capture(conn, cursor, statement, params, context, executemany) -> None:  # type: ignore[no-untyped-def]
        if "api_keys" in statement:
            reads.append(statement)

    with TestClient(create_app(system), raise_server_exceptions=False) as c:
        assert c.get("/v1/accounts/1", headers=auth_headers(key)).status_code == 200
        event.listen(system.engine, "before_cursor_execute", capture)
        try:
            for _ in range(3):
                assert c.get("/v1/accounts/1", headers=auth_headers(key)).status_code == 200
        finally:
            event.remove(system.engine, "before_cursor_execute", capture)
    assert reads == []


def system_today(system: Huabei) -> Any:
    from huabei.platform import admin

    return admin.business_date(system)


def test_key_bursts_and_failed_logins_are_rate_limited(db_url: str) -> None:
    terms = ProductTerms.model_validate(
        {"access": {"key_requests_per_minute": {"customer": 3}, "failed_auth_attempts": 2}}
    )
    system = make_system(db_url, terms=terms)
    try:
        acct = new_account(system, user_id="u1")
        key = key_for(system, "customer", user_id="u1")
        with TestClient(create_app(system), raise_server_exceptions=False) as c:
            for _ in range(3):
                assert c.get(f"/v1/accounts/{acct}", headers=auth_headers(key)).status_code == 200
            r = c.get(f"/v1/accounts/{acct}", headers=auth_headers(key))
            assert r.status_code == 429 and r.json()["error"]["code"] == "rate_limited"
            assert 1 <= int(r.headers["Retry-After"]) <= 60 and r.json()["error"]["message_zh"]
            bad = auth_headers("hb_" + "y" * 43)
            assert [c.get("/v1/accounts/1", headers=bad).status_code for _ in range(3)] == [401, 401, 429]
    finally:
        system.engine.dispose()


def test_keys_commands(db_url: str, system: Huabei, monkeypatch: pytest.MonkeyPatch) -> None:
    from huabei.entrypoints.cli import access as cli_access

    plain_consoles(monkeypatch, cli, cli_access)
    new_account(system, user_id="u1")
    runner = CliRunner()
    r = runner.invoke(cli.app, ["keys", "create", "--role", "customer", "--user", "u1", "--db", db_url])
    assert r.exit_code == 0, r.output
    key = r.stdout.strip().splitlines()[-1].split()[-1]
    assert key.startswith("hb_")
    assert access.authenticate(system, key).user_id == "u1"
    r = runner.invoke(cli.app, ["keys", "list", "--json", "--db", db_url])
    assert r.exit_code == 0 and key not in r.stdout and '"role": "customer"' in r.stdout
    key_id = access.authenticate(system, key).key_id
    assert runner.invoke(cli.app, ["keys", "revoke", str(key_id), "--db", db_url]).exit_code == 0
    assert runner.invoke(cli.app, ["keys", "revoke", "999", "--db", db_url]).exit_code == 4
    assert runner.invoke(cli.app, ["keys", "create", "--role", "boss", "--db", db_url]).exit_code == 2
    with pytest.raises(Exception, match="invalid_api_key"):
        access.authenticate(system, key)
    with system.engine.connect() as conn:
        stored = [x.digest for x in conn.execute(select(schema.api_keys))]
    assert key not in stored and all(len(d) == 64 for d in stored)
