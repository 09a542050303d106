"""``huabei diagnose ACCOUNT`` and ``huabei advise ACCOUNT`` ``[--lang zh-CN|en] [--json]`` (registered by ``cli/main.py``).

Prints the line's state, each finding (what was seen, the evidence, what to do, when it lifts)
and the checks, in the reader's language (``--lang``, else ``$LANG``, else English); ``--json``
prints the structured diagnosis as the API returns it.
"""

from __future__ import annotations

import json
import os
from typing import Annotated, Any

import typer

from huabei.diagnosis import render
from huabei.diagnosis import service as diagnosis
from huabei.entrypoints.cli.common import AccountArg, DbOpt, JsonOpt, console
from huabei.entrypoints.cli.common import check_id as _id
from huabei.entrypoints.cli.common import run as _run
from huabei.entrypoints.cli.common import system as _system

LangOpt = Annotated[str | None, typer.Option("--lang", help="zh-CN or en (default: $LANG, else en)")]


def _locale(lang: str | None) -> str:
    return render.negotiate(lang, os.environ.get("LANG", "").split(".")[0].replace("_", "-") or None)


def _print_json(data: Any) -> None:
    console.print_json(json.dumps(data, ensure_ascii=False, default=str))


def diagnose_command(account_id: AccountArg, lang: LangOpt = None, db: DbOpt = None, as_json: JsonOpt = False) -> None:
    """Why this credit line can or cannot be used, what to do and when it lifts (诊断)."""
    locale = _locale(lang)
    out = _run(diagnosis.diagnosis, _system(db), _id(account_id, "account_not_found", "account_id"), locale)
    if as_json:
        _print_json(out)
        return
    label = render.labels(locale)
    sep = "：" if locale == "zh_CN" else ": "
    console.print(f"[bold]{out['summary']}[/bold]", highlight=False)
    for n, f in enumerate(out["findings"], 1):
        console.print(f"\n[bold]{n}. {f['message']}[/bold]  [dim]({f['code']})[/dim]", highlight=False)
        for line in f["evidence"]:
            console.print(f"   · {line}", highlight=False)
        if f["remedy"]:
            console.print(f"   {label['action']}{sep}{f['remedy']}", highlight=False)
        if f["lifts"]:
            console.print(f"   {label['lifts']}{sep}{f['lifts']}", highlight=False)
    console.print(f"\n[bold]{label['checks']}[/bold]", highlight=False)
    for c in out["checks"]:
        console.print(f"   · {c['text']}", highlight=False)


def advise_command(account_id: AccountArg, lang: LangOpt = None, db: DbOpt = None, as_json: JsonOpt = False) -> None:
    """How to raise this line's limit (提额建议): actions ranked by their effect under the real policy."""
    locale = _locale(lang)
    out = _run(diagnosis.limit_advice, _system(db), _id(account_id, "account_not_found", "account_id"), locale)
    if as_json:
        _print_json(out)
        return
    label = render.labels(locale)
    for line in out["summary"]:
        console.print(f"[bold]{line}[/bold]", highlight=False)
    for n, x in enumerate(out["actions"], 1):
        console.print(f"\n{n}. {x['message']}  [dim]({x['code']})[/dim]", highlight=False)
        console.print(f"   {x['effect']}", highlight=False)
    if out["held_down_by"]:
        console.print(f"\n[bold]{label['held_down']}[/bold]", highlight=False)
    for x in out["held_down_by"]:
        console.print(f"   · {x['message']} {x['evidence']}", highlight=False)
    if out["warnings"]:
        console.print(f"\n[bold]{label['warnings']}[/bold]", highlight=False)
    for w in out["warnings"]:
        console.print(f"\n! {w['message']}  [dim]({w['code']})[/dim]", highlight=False)
        for line in w["evidence"]:
            console.print(f"   · {line}", highlight=False)
        console.print(f"   {w['remedy']}", highlight=False)


def register(main: typer.Typer) -> None:
    main.command("diagnose")(diagnose_command)
    main.command("advise")(advise_command)
