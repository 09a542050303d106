"""Staff users on SQLite and PostgreSQL: created from the command line with an argon2id password,
they log in to the web pages with a name and a password (a session like a key's, with their role);
a wrong password, an unknown name and a disabled user answer alike; weak passwords and bad names
are refused; every change is audited."""

from __future__ import annotations

import warnings

from sqlalchemy import select
from tests.api.test_web_login import csrf
from typer.testing import CliRunner

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

from huabei.access import service as access
from huabei.access import tables as at
from huabei.entrypoints.cli.main import app as cli
from huabei.entrypoints.http.app import create_app
from huabei.platform.unit_of_work import Huabei

PASSWORD = "correct-horse-42"


def staff_login(c: TestClient, name: str, password: str) -> object:
    form = c.get("/login")
    return c.post("/login", data={"name": name, "password": password, "csrf": csrf(form.text)}, follow_redirects=False)


def test_staff_users_from_the_cli_log_in_with_a_password(system: Huabei, db_url: str) -> None:
    runner = CliRunner()
    made = runner.invoke(
        cli, ["staff", "create", "li.na", "--role", "agent", "--password-stdin", "--db", db_url], input=PASSWORD + "\n"
    )
    assert made.exit_code == 0, made.output
    assert "li.na" in made.output and PASSWORD not in made.output
    weak = runner.invoke(
        cli, ["staff", "create", "wang", "--role", "risk", "--password-stdin", "--db", db_url], input="12345678901234\n"
    )
    assert weak.exit_code == 2 and "weak_staff_password" in weak.output
    bad = runner.invoke(
        cli,
        ["staff", "create", "Bad Name", "--role", "risk", "--password-stdin", "--db", db_url],
        input=PASSWORD + "\n",
    )
    assert bad.exit_code == 2
    assert (
        runner.invoke(
            cli,
            ["staff", "create", "li.na", "--role", "risk", "--password-stdin", "--db", db_url],
            input=PASSWORD + "\n",
        ).exit_code
        == 5
    )
    assert (
        runner.invoke(
            cli,
            ["staff", "create", "zhao", "--role", "customer", "--password-stdin", "--db", db_url],
            input=PASSWORD + "\n",
        ).exit_code
        == 2
    )
    listed = runner.invoke(cli, ["staff", "list", "--json", "--db", db_url])
    assert listed.exit_code == 0 and '"role": "agent"' in listed.output and "password_hash" not in listed.output
    with system.uow(readonly=True) as uow:
        row = uow.staff.by_name("li.na")
        assert row.password_hash.startswith("$argon2id$") and PASSWORD not in row.password_hash

    app = create_app(system)
    with TestClient(app, raise_server_exceptions=False) as c:
        page = c.get("/login").text
        assert "id='staff-login'" in page and "id='key-login'" in page
        assert staff_login(c, "li.na", "wrong-horse-42").status_code == 401
        assert staff_login(c, "nobody", PASSWORD).status_code == 401
        r = staff_login(c, "li.na", PASSWORD)
        assert r.status_code == 303 and r.headers["location"].startswith("/console")
        page = c.get("/console").text
        assert "当前身份：客服" in page

    changed = runner.invoke(
        cli, ["staff", "password", "li.na", "--password-stdin", "--db", db_url], input="another-horse-77\n"
    )
    assert changed.exit_code == 0
    with TestClient(app, raise_server_exceptions=False) as c:
        assert staff_login(c, "li.na", PASSWORD).status_code == 401
        assert staff_login(c, "li.na", "another-horse-77").status_code == 303
        assert runner.invoke(cli, ["staff", "disable", "li.na", "--db", db_url]).exit_code == 0
        assert c.get("/console", follow_redirects=False).status_code == 303  # the session ended
        assert staff_login(c, "li.na", "another-horse-77").status_code == 401

    with system.uow(readonly=True) as uow:
        routes = [r.route for r in uow.conn.execute(select(at.audit_log).order_by(at.audit_log.c.audit_id))]
    assert {"staff create", "staff password", "keys revoke"} <= set(routes)
    assert [x["disabled_at"] is not None for x in access.list_staff(system)] == [True]
