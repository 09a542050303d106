"""The README's CLI walk-through runs as written: every command of its first ``sh`` block under
"## Using it" (but ``serve``, and the ``export`` the test replaces with its own fresh database)
succeeds, on SQLite and PostgreSQL, and the books balance afterwards."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
from tests.conftest import plain_consoles
from typer.testing import CliRunner

from huabei.entrypoints.cli import main as cli

README = Path(__file__).resolve().parents[1] / "README.md"


def walkthrough() -> list[list[str]]:
    text = README.read_text(encoding="utf-8")
    section = text[text.index("## Using it") :]
    block = re.search(r"```sh\n(.*?)```", section, re.S)
    assert block is not None, "the README's walk-through block is gone"
    commands = []
    for line in block.group(1).splitlines():
        code = line.split(" #", 1)[0].strip()
        for part in filter(None, (p.strip() for p in code.split(";"))):
            words = shlex.split(part)
            if words[0] == "export" or words[1:2] == ["serve"]:
                continue
            assert words[0] == "huabei", part
            commands.append(words[1:])
    return commands


def test_the_block_is_found_and_has_the_commands_a_newcomer_tries() -> None:
    names = [" ".join(c[:2]) for c in walkthrough()]
    for expected in ("db upgrade", "purchase 1", "repay 1", "ledger check", "accounts close"):
        assert any(n.startswith(expected) for n in names), (expected, names)


def test_the_readme_walkthrough_runs_as_written(db_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    plain_consoles(monkeypatch, cli)
    for var in ("HUABEI_CLOCK", "HUABEI_CONFIG", "FORCE_COLOR"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("HUABEI_DATABASE_URL", db_url)
    runner = CliRunner()
    for args in walkthrough():
        result = runner.invoke(cli.app, args)
        assert result.exit_code == 0, (args, result.exit_code, result.stdout, result.stderr, result.exception)
    assert runner.invoke(cli.app, ["ledger", "check"]).exit_code == 0
