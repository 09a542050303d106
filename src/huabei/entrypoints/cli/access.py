"""``huabei keys``: API keys (create, list, revoke) and ``huabei demo keys``.

``keys create`` prints the new key as the last word of its last line — the only time it is shown.
"""

from __future__ import annotations

import json
import sys
from typing import Annotated

import typer
from rich.table import Table

from huabei.access import service as access
from huabei.entrypoints.cli.common import DbOpt, JsonOpt, console
from huabei.entrypoints.cli.common import check_id as _id
from huabei.entrypoints.cli.common import date as _date
from huabei.entrypoints.cli.common import run as _run
from huabei.entrypoints.cli.common import system as _system

keys_app = typer.Typer(help="API keys (Authorization: Bearer KEY) and their roles.", no_args_is_help=True)


@keys_app.command("create")
def keys_create(
    role: Annotated[str, typer.Option("--role", help="customer | agent | risk | admin | gateway")],
    user: Annotated[str | None, typer.Option("--user", help="The user a customer key is bound to")] = None,
    label: Annotated[str, typer.Option("--label", help="What the key is for")] = "",
    expires: Annotated[
        str | None, typer.Option("--expires", help="Last valid business date is the day before (YYYY-MM-DD)")
    ] = None,
    db: DbOpt = None,
) -> None:
    """Create a key; it is shown once, as the last word of the last line."""
    expires_on = _date(expires) if expires else None
    out = _run(access.create_key, _system(db), role, user_id=user, label=label, expires_on=expires_on)
    who = f" for user {user}" if user else ""
    until = f", expires {out['expires_at'].date().isoformat()}" if out["expires_at"] else ""
    console.print(f"key {out['key_id']} ({out['role']}{who}{until}); shown once, store it now:")
    console.print(out["key"], soft_wrap=True, highlight=False)


@keys_app.command("list")
def keys_list(
    all_keys: Annotated[bool, typer.Option("--all", help="Include revoked keys")] = False,
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """The keys (never their secret part): id, prefix, role, user, label, created, expiry, revoked."""
    rows = _run(access.list_keys, _system(db), include_revoked=all_keys)
    if as_json:
        print(json.dumps(rows, default=str, ensure_ascii=False, indent=2))
        return
    t = Table("id", "prefix", "role", "user", "label", "created", "expires", "revoked")
    for r in rows:
        t.add_row(
            str(r["key_id"]), r["prefix"] + "…", r["role"], r["user_id"] or "", r["label"],
            str(r["created_at"])[:19], str(r["expires_at"] or "")[:19], str(r["revoked_at"] or "")[:19],
        )  # fmt: skip
    console.print(t)


@keys_app.command("revoke")
def keys_revoke(
    key_id: Annotated[int, typer.Argument(help="The key's id (huabei keys list).")], db: DbOpt = None
) -> None:
    """Revoke a key: it is refused (401) from the next request on."""
    _id(key_id, "api_key_not_found", "key_id")
    out = _run(access.revoke_key, _system(db), key_id)
    console.print(f"key {out['key_id']} ({out['role']}) revoked")


staff_app = typer.Typer(help="Staff users: a name and a password for the web login.", no_args_is_help=True)


def _password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\n")
    return str(typer.prompt("Password", hide_input=True, confirmation_prompt=True))


StaffArg = Annotated[str, typer.Argument(help="The staff user's login name (huabei staff list).")]
PasswordStdin = Annotated[bool, typer.Option("--password-stdin", help="Read the password from standard input")]


@staff_app.command("create")
def staff_create(
    name: Annotated[str, typer.Argument(help="The login name (lower case)")],
    role: Annotated[str, typer.Option("--role", help="agent | risk | admin")],
    password_stdin: PasswordStdin = False,
    db: DbOpt = None,
) -> None:
    """Create a staff user who logs in to the web pages with a name and a password (asked twice)."""
    out = _run(access.create_staff, _system(db), name, role, _password(password_stdin))
    console.print(f"staff user {out['name']} ({out['role']}, key {out['key_id']}) created")


@staff_app.command("password")
def staff_password(name: StaffArg, password_stdin: PasswordStdin = False, db: DbOpt = None) -> None:
    """Set a staff user's password."""
    out = _run(access.set_staff_password, _system(db), name, _password(password_stdin))
    console.print(f"staff user {out['name']}: password changed")


@staff_app.command("list")
def staff_list(db: DbOpt = None, as_json: JsonOpt = False) -> None:
    """The staff users: name, role, key, created, password changed, disabled."""
    rows = _run(access.list_staff, _system(db))
    if as_json:
        print(json.dumps(rows, default=str, ensure_ascii=False, indent=2))
        return
    t = Table("name", "role", "key", "created", "password changed", "disabled")
    for r in rows:
        t.add_row(
            r["name"], r["role"], str(r["key_id"]), str(r["created_at"])[:19],
            str(r["password_changed_at"])[:19], str(r["disabled_at"] or "")[:19],
        )  # fmt: skip
    console.print(t)


@staff_app.command("disable")
def staff_disable(name: StaffArg, db: DbOpt = None) -> None:
    """Disable a staff user (their key is revoked: sessions end, no more logins)."""
    out = _run(access.disable_staff, _system(db), name)
    console.print(f"staff user {out['name']} disabled")


#: The demo's customer key is bound to this demo user (entrypoints/demo.py).
DEMO_CUSTOMER = "demo-lihua"


def demo_keys(db: DbOpt = None) -> None:
    """Create one key per role for the demo (the customer's bound to demo-lihua) and print them."""
    system = _system(db)
    for role in ("customer", "agent", "risk", "admin", "gateway"):
        out = _run(access.create_key, system, role, user_id=DEMO_CUSTOMER if role == "customer" else None, label="demo")
        console.print(f"{role:<9} {out['key']}", soft_wrap=True, highlight=False)
