"""The public contracts of huabei as data: the OpenAPI document and the CLI's command tree.

``snapshot/openapi.json`` and ``snapshot/cli.json`` were taken from main before the capability
packages were reorganised (commit ec4dd20). ``test_contracts.py`` checks that everything in them
is still there, unchanged; what is *added* (new routes, commands, options, responses, schema
keywords) passes. A deliberate contract change is recorded by regenerating the snapshot
(``python tests/contracts/contract.py --update``) in the same commit, so the diff shows it.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

SNAPSHOT = Path(__file__).parent / "snapshot"


def openapi_document() -> dict[str, Any]:
    """The served OpenAPI document (the app is built on an engine that is never connected)."""
    from sqlalchemy import create_engine

    from huabei.entrypoints.http.app import create_app
    from huabei.platform.unit_of_work import Huabei

    app = create_app(Huabei(engine=create_engine("sqlite://")))
    return json.loads(json.dumps(app.openapi()))


def _param(p: Any) -> dict[str, Any]:
    out: dict[str, Any] = {
        "kind": p.param_type_name,
        "opts": list(p.opts),
        "secondary_opts": list(p.secondary_opts),
        "type": p.bare_type(),
        "required": p.required,
        "multiple": p.multiple,
        "nargs": p.nargs,
        "default": None if callable(p.default) else json.loads(json.dumps(p.default, default=str)),
        "min": getattr(p, "min", None),
        "max": getattr(p, "max", None),
        "help": getattr(p, "help", None) or "",
    }
    if p.param_type_name == "option":
        out["is_flag"] = p.is_flag
    return out


def _command(cmd: Any) -> dict[str, Any]:
    out: dict[str, Any] = {
        "help": (cmd.help or "").strip(),
        "params": {p.name: _param(p) for p in cmd.params if p.name},
        "hidden": cmd.hidden,
    }
    if hasattr(cmd, "commands"):
        out["commands"] = {name: _command(sub) for name, sub in sorted(cmd.commands.items())}
    return out


def cli_tree() -> dict[str, Any]:
    """Every command of ``huabei`` with its arguments and options (names, types, defaults, help)."""
    import typer.main

    from huabei.entrypoints.cli.main import app

    return _command(typer.main.get_command(app))


def missing_or_changed(old: Any, new: Any, path: str = "") -> list[str]:
    """Where ``new`` does not keep ``old``: a key of a mapping that is gone, a value that changed.

    Mappings may gain keys (a new route, command, option, response code or schema keyword);
    lists and scalars must be equal. A text that was empty may be filled in (help added).
    """
    if isinstance(old, dict):
        if not isinstance(new, dict):
            return [f"{path or '/'}: was an object, now {type(new).__name__}"]
        problems: list[str] = []
        for key, value in old.items():
            if key not in new:
                problems.append(f"{path}/{key}: removed")
            else:
                problems.extend(missing_or_changed(value, new[key], f"{path}/{key}"))
        return problems
    if old == "" and isinstance(new, str):
        return []
    if old != new:
        return [
            f"{path}: was {json.dumps(old, ensure_ascii=False)[:200]}, now {json.dumps(new, ensure_ascii=False)[:200]}"
        ]
    return []


def _write(name: str, data: Any) -> None:
    (SNAPSHOT / name).write_text(
        json.dumps(data, ensure_ascii=False, indent=1, sort_keys=True) + "\n", encoding="utf-8"
    )


if __name__ == "__main__":
    if sys.argv[1:] != ["--update"]:
        sys.exit("usage: python tests/contracts/contract.py --update   (records the current contracts)")
    SNAPSHOT.mkdir(exist_ok=True)
    _write("openapi.json", openapi_document())
    _write("cli.json", cli_tree())
    print(f"wrote {SNAPSHOT}/openapi.json and cli.json")
