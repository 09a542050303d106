"""A newcomer's CLI: ``huabei --version``, ``users list`` and ``accounts list`` (yuan with two
decimals), and ``accounts open`` without ``--base-limit`` runs the automatic decision."""

from __future__ import annotations

import re

from tests.test_cli import open_line, plain_output, run, run_json  # noqa: F401 - the autouse fixture
from typer.testing import CliRunner

from huabei import __version__
from huabei.entrypoints.cli import main as cli


def test_version() -> None:
    r = CliRunner().invoke(cli.app, ["--version"])
    assert r.exit_code == 0 and r.stdout.strip() == f"huabei {__version__}"


def test_users_and_accounts_list(db_url) -> None:
    aid = open_line(db_url, base_limit="1234.50")
    run(db_url, "users", "add", "u2", "--name", "韩梅梅", "--phone", "13800000001", "--unverified")
    users = run(db_url, "users", "list").stdout
    assert re.search(r"u1\s.*李雷.*yes.*\s1\s", users) and re.search(r"u2\s.*韩梅梅.*no.*-", users)
    page = run_json(db_url, "users", "list", "--limit", "1")
    assert [u["user_id"] for u in page["data"]] == ["u1"] and page["next_cursor"] == "u1"
    assert [u["user_id"] for u in run_json(db_url, "users", "list", "--after", "u1")["data"]] == ["u2"]
    lines = run(db_url, "accounts", "list").stdout
    assert re.search(rf"{aid}\s.*u1\s.*active\s.*1234\.50\s.*0\.00\s.*1234\.50", lines), lines


def test_accounts_open_without_a_limit_runs_the_automatic_decision(db_url) -> None:
    run(db_url, "clock", "set", "2026-11-02")
    run(db_url, "users", "add", "u3", "--name", "张伟", "--phone", "13800000003", "--unverified")
    r = run(db_url, "accounts", "open", "u3", code=3)  # refused by the policy, with its reasons
    assert r.stderr.startswith("not_eligible: ") and "\n  - " in r.stderr
