"""Every command of ``huabei`` explains itself: the whole Typer command tree is walked, and every
command, option and argument must have help text, and no flag may be shown in ``--help`` as if it
took a value (typer 0.29's Rich help printed ``--json <bool>``). Needs no database."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from huabei.entrypoints.cli import main as cli

pytestmark = pytest.mark.smoke

runner = CliRunner()


def _walk(command: Any, ctx: Any, path: tuple[str, ...]) -> Iterator[tuple[tuple[str, ...], Any, Any]]:
    """(the command's words, the command, its context) for the app and every command below it."""
    yield path, command, ctx
    if hasattr(command, "list_commands"):
        for name in command.list_commands(ctx):
            sub = command.get_command(ctx, name)
            assert sub is not None, (path, name)
            yield from _walk(sub, typer.Context(sub, info_name=name, parent=ctx), (*path, name))


def _tree() -> list[tuple[tuple[str, ...], Any, Any]]:
    root = typer.main.get_command(cli.app)
    return list(_walk(root, typer.Context(root, info_name="huabei"), ()))


def _is_flag(param: Any) -> bool:
    return bool(getattr(param, "is_flag", False) or getattr(param, "count", False))


def test_the_tree_is_the_whole_cli() -> None:
    """The walk reaches the nested groups (a walk that stopped at the top would pass vacuously)."""
    paths = {" ".join(p) for p, _, _ in _tree()}
    assert {"", "users add", "accounts close", "eod run", "keys create", "risk sweep", "demo keys"} <= paths
    assert len(paths) > 100


def test_every_command_option_and_argument_has_help() -> None:
    missing: list[str] = []
    for path, command, ctx in _tree():
        where = "huabei " + " ".join(path)
        if not (command.help or command.short_help or "").strip():
            missing.append(f"{where}: the command")
        for param in command.get_params(ctx):
            if not (getattr(param, "help", None) or "").strip():
                missing.append(f"{where}: {'/'.join(param.opts) or param.name}")
    assert not missing, f"{len(missing)} without help:\n" + "\n".join(missing)


def test_no_flag_is_shown_with_a_value() -> None:
    """In the rendered ``--help`` of every command, a flag's row holds no ``<type>`` metavar, while
    an option that takes a value still shows its type."""
    wrong: list[str] = []
    valued_seen = 0
    for path, command, ctx in _tree():
        page = runner.invoke(cli.app, [*path, "--help"], terminal_width=200, env={"COLUMNS": "200"}).stdout
        rows = page.splitlines()
        for param in command.get_params(ctx):
            if param.param_type_name != "option":
                continue
            opts = [o for o in (*param.opts, *param.secondary_opts) if o.startswith("--")]
            starts = re.compile(rf"^\W*\s(\*\s+)?{re.escape(opts[0])}(?![\w-])")  # the row, not a mention
            row = next((r for r in rows if starts.match(r)), None)
            assert row is not None, (path, opts, page)
            after = row.split(opts[-1], 1)[1]
            shows_value = re.match(r"\s+<[^>]+>", after) is not None
            if _is_flag(param) and (shows_value or param.display_type_rich(ctx) is not None):
                wrong.append(f"huabei {' '.join(path)} {'/'.join(opts)}: {row.strip()}")
            elif not _is_flag(param) and shows_value:
                valued_seen += 1
    assert not wrong, "flags shown as taking a value:\n" + "\n".join(wrong)
    assert valued_seen > 50  # the check reads the type column: options with values still show theirs


def test_a_command_gives_its_connections_back(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The system a command opens is disposed of when the command ends. Typer 0.26+ runs on its own
    vendored Click, so the installed Click's ``get_current_context()`` never saw the command and its
    pool was left open (0 disposals before the fix)."""
    from sqlalchemy.engine import Engine

    db = f"sqlite:///{tmp_path / 'h.db'}"
    assert runner.invoke(cli.app, ["db", "upgrade", "--db", db]).exit_code == 0
    disposed: list[Engine] = []
    dispose = Engine.dispose
    monkeypatch.setattr(Engine, "dispose", lambda self, *a, **k: (disposed.append(self), dispose(self, *a, **k))[1])
    result = runner.invoke(cli.app, ["clock", "show", "--db", db])
    assert result.exit_code == 0, result.output
    assert len(disposed) == 1
