"""A database that is not migrated (empty, or at an older revision) is named as such with the
command that fixes it — by the CLI (no traceback) and by the HTTP API (503, /healthz included)
— on both databases; once migrated everything answers."""

from __future__ import annotations

from fastapi.testclient import TestClient
from tests.api.conftest import auth_headers, key_for
from typer.testing import CliRunner

from huabei.entrypoints.cli.main import app as cli
from huabei.entrypoints.http.app import create_app
from huabei.platform import migrate
from huabei.platform.db import make_engine
from huabei.platform.unit_of_work import Huabei


def test_an_unmigrated_database_says_run_db_upgrade(db_url):
    migrate.downgrade(db_url, "base")
    try:
        r = CliRunner().invoke(cli, ["--db", db_url, "accounts", "show", "1"])
        assert r.exit_code == 5, r.output
        assert "database_not_migrated" in r.output and "huabei db upgrade" in r.output
        assert "Traceback" not in r.output

        system = Huabei(engine=make_engine(db_url, pool_size=2))
        client = TestClient(create_app(system), raise_server_exceptions=False)
        h = client.get("/healthz")
        assert h.status_code == 503 and h.json()["status"] == "database_not_migrated"
        assert h.json()["fix"] == "huabei db upgrade"
        r2 = client.get("/v1/users/u1", headers={"Authorization": "Bearer hb_not_checkable_yet"})
        assert r2.status_code == 503 and r2.json()["error"]["code"] == "database_not_migrated"
        assert "huabei db upgrade" in r2.json()["error"]["remedy"]

        up = CliRunner().invoke(cli, ["db", "upgrade", "--db", db_url])
        assert up.exit_code == 0, up.output
        assert client.get("/healthz").status_code == 200
        admin = auth_headers(key_for(system, "admin"))
        assert client.get("/v1/users/u1", headers=admin).json()["error"]["code"] == "user_not_found"
        system.engine.dispose()
    finally:
        migrate.upgrade(db_url)
