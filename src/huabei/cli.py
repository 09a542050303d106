"""The ``huabei`` command (Typer + Rich). Thin: parse, call a use case, print.

``HUABEI_DATABASE_URL`` (or ``--db``) selects the database; amounts are yuan
strings as on the API ("88.80"). Exit codes: 0 ok, 1 ledger check failed,
2 bad input, 3 declined or refused by a rule, 4 not found, 5 conflict.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from typing import Annotated, Any

import click
import typer
from rich.console import Console
from rich.table import Table

from huabei import reasons
from huabei.domain.purchases import Channel, PurchaseRequest
from huabei.errors import ErrorKind, HuabeiError
from huabei.money import AmountError, format_yuan, parse_yuan
from huabei.services.unit_of_work import Huabei

app = typer.Typer(help="huabei: an open-source consumer credit line (花呗).", no_args_is_help=True,
                  pretty_exceptions_enable=False)
db_app = typer.Typer(help="Database schema (Alembic migrations).", no_args_is_help=True)
clock_app = typer.Typer(help="The business clock (simulated mode).", no_args_is_help=True)
ledger_app = typer.Typer(help="The double-entry ledger.", no_args_is_help=True)
users_app = typer.Typer(help="Users.", no_args_is_help=True)
accounts_app = typer.Typer(help="Credit lines (花呗账户).", no_args_is_help=True)
restr_app = typer.Typer(help="Restrictions (冻结 / 解封).", no_args_is_help=True)
demo_app = typer.Typer(help="Demo data.", no_args_is_help=True)
for sub, name in ((db_app, "db"), (clock_app, "clock"), (ledger_app, "ledger"), (users_app, "users"),
                  (accounts_app, "accounts"), (restr_app, "restrictions"), (demo_app, "demo")):
    app.add_typer(sub, name=name)

console = Console()
err_console = Console(stderr=True)
EXIT = {ErrorKind.INVALID_REQUEST: 2, ErrorKind.DECLINED: 3, ErrorKind.UNPROCESSABLE: 3,
        ErrorKind.NOT_FOUND: 4, ErrorKind.CONFLICT: 5, ErrorKind.FORBIDDEN: 6}

DbOpt = Annotated[str | None, typer.Option("--db", help="Database URL (default: $HUABEI_DATABASE_URL or sqlite:///huabei.db)")]
KeyOpt = Annotated[str | None, typer.Option("--key", help="Idempotency key (a fresh one if omitted)")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON")]


#: ``huabei --db URL COMMAND``: the database given before the command (each command's own ``--db`` wins).
_global: dict[str, str | None] = {"db": None}


@app.callback()
def _main(db: DbOpt = None) -> None:
    _global["db"] = db


def _db(db: str | None) -> str | None:
    return db or _global["db"]


def _system(db: str | None) -> Huabei:
    system = Huabei.from_env(_db(db))
    ctx = click.get_current_context(silent=True)
    if ctx is not None:  # give the pooled connections back when the command ends
        ctx.call_on_close(system.engine.dispose)
    return system


#: Ids are BIGINT in the database; a larger number cannot name anything (and would not even bind).
MAX_ID = 2**63 - 1


def _id(value: int, code: str, field: str) -> int:
    if not 1 <= value <= MAX_ID:
        _fail(HuabeiError(code, ErrorKind.NOT_FOUND, **{field: value}))
    return value


def _fail(e: HuabeiError) -> None:
    t = reasons.render(e.code, e.params)
    err_console.print(f"[bold red]{e.code}[/]: {t['message']}\n{t['message_zh']}")
    if t["remedy"]:
        err_console.print(f"[yellow]{t['remedy']}[/]\n[yellow]{t['remedy_zh']}[/]")
    raise typer.Exit(EXIT.get(e.kind, 1))


def _amount(text: str) -> int:
    try:
        return parse_yuan(text)
    except AmountError as e:
        _fail(HuabeiError("invalid_amount", ErrorKind.INVALID_REQUEST, detail=e.detail))
        raise  # unreachable


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        _fail(HuabeiError("invalid_date", ErrorKind.INVALID_REQUEST))
        raise


MONEY_KEYS = {"amount", "available", "base_limit", "temporary_limit", "total_limit", "used", "credit_balance",
              "refunded_total", "to_credit_balance", "owed"}


def _yuan_fields(data: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in data.items():
        if k in MONEY_KEYS and isinstance(v, int) and not isinstance(v, bool):
            out[k] = format_yuan(v)
        elif k == "allocation" and isinstance(v, dict):  # fen per ledger account, like the API: yuan
            out[k] = {acct: format_yuan(fen) if isinstance(fen, int) else fen for acct, fen in v.items()}
        else:
            out[k] = v
    return out


def _show(data: dict[str, Any], as_json: bool) -> None:
    shown = _yuan_fields(data)
    if as_json:
        console.print_json(json.dumps(shown, default=str, ensure_ascii=False))
        return
    table = Table(show_header=False)
    for k, v in shown.items():
        table.add_row(k, json.dumps(v, ensure_ascii=False, default=str) if isinstance(v, (dict, list)) else str(v))
    console.print(table)


def _run(fn: Any, *args: Any, **kwargs: Any) -> Any:
    try:
        return fn(*args, **kwargs)
    except HuabeiError as e:
        _fail(e)


# --- db, clock, serve ----------------------------------------------------------------

@db_app.command("upgrade")
def db_upgrade(db: DbOpt = None, revision: str = "heads") -> None:
    """Migrate the database to the newest schema (the only way the schema is created)."""
    from huabei.store import migrate

    migrate.upgrade(_db(db), revision)
    console.print(f"database at revision {migrate.current(_db(db))}")


@clock_app.command("show")
def clock_show(db: DbOpt = None) -> None:
    from huabei.services import admin

    system = _system(db)
    console.print(f"{admin.business_date(system).isoformat()} ({system.clock_mode.value})")


@clock_app.command("set")
def clock_set(date: str, db: DbOpt = None) -> None:
    """Set the simulated business date (never backwards)."""
    from huabei.services import admin

    out = _run(admin.set_business_date, _system(db), _date(date))
    console.print(f"business date is now {out['business_date']}")


@app.command()
def serve(db: DbOpt = None, host: str = "127.0.0.1", port: int = 8000, workers: int = 1) -> None:
    """Serve the HTTP API and web pages (OpenAPI page at /docs)."""
    import os

    import uvicorn

    if _db(db):
        os.environ["HUABEI_DATABASE_URL"] = _db(db)  # type: ignore[assignment]
    uvicorn.run("huabei.api.main:app", host=host, port=port, workers=workers, log_level="info")


# --- users and accounts --------------------------------------------------------------

@users_app.command("add")
def users_add(user_id: str, name: str = typer.Option(...), phone: str = typer.Option(...),
              verified: bool = typer.Option(True, "--verified/--unverified"), db: DbOpt = None,
              as_json: JsonOpt = False) -> None:
    from huabei.services import accounts

    _show(_run(accounts.register_user, _system(db), user_id=user_id, name=name, phone=phone,
               real_name_verified=verified), as_json)


@accounts_app.command("open")
def accounts_open(user_id: str, base_limit: str = typer.Option(..., help="yuan, e.g. 5000.00"), db: DbOpt = None,
                  as_json: JsonOpt = False) -> None:
    from huabei.services import accounts

    _show(_run(accounts.open_account, _system(db), user_id=user_id, base_limit=_amount(base_limit)), as_json)


@accounts_app.command("show")
def accounts_show(account_id: int, db: DbOpt = None, as_json: JsonOpt = False) -> None:
    from huabei.services import accounts

    _show(_run(accounts.account_view, _system(db), _id(account_id, "account_not_found", "account_id")), as_json)


@accounts_app.command("set-limit")
def accounts_set_limit(account_id: int, base_limit: str, db: DbOpt = None, as_json: JsonOpt = False) -> None:
    from huabei.services import accounts

    _show(_run(accounts.set_base_limit, _system(db), _id(account_id, "account_not_found", "account_id"),
               base_limit=_amount(base_limit)), as_json)


@accounts_app.command("grant-temporary")
def accounts_grant_temporary(account_id: int, amount: str, expires_on: str, db: DbOpt = None,
                             as_json: JsonOpt = False) -> None:
    """Grant a temporary limit (临时额度) usable until the day before EXPIRES_ON."""
    from huabei.services import accounts

    _show(_run(accounts.grant_temporary_limit, _system(db), _id(account_id, "account_not_found", "account_id"),
               amount=_amount(amount), expires_on=_date(expires_on)), as_json)


# --- money ---------------------------------------------------------------------------

@app.command()
def purchase(account_id: int, amount: str, merchant: str = typer.Option(..., "--merchant"),
             category: str = typer.Option("retail"), channel: Channel = typer.Option(Channel.ONLINE),
             key: KeyOpt = None, db: DbOpt = None, as_json: JsonOpt = False) -> None:
    """Authorise a purchase (消费)."""
    from huabei.services import purchases

    req = PurchaseRequest(_id(account_id, "account_not_found", "account_id"), _amount(amount), merchant, category,
                          channel)
    _show(_run(purchases.authorise_purchase, _system(db), req, key or str(uuid.uuid4())).body, as_json)


@app.command()
def refund(purchase_id: int, amount: str, key: KeyOpt = None, db: DbOpt = None, as_json: JsonOpt = False) -> None:
    """Refund (退款) all or part of a purchase."""
    from huabei.services import purchases

    _show(_run(purchases.refund_purchase, _system(db), _id(purchase_id, "purchase_not_found", "purchase_id"),
               _amount(amount), key or str(uuid.uuid4())).body, as_json)


@app.command()
def repay(account_id: int, amount: str, key: KeyOpt = None, db: DbOpt = None, as_json: JsonOpt = False) -> None:
    """Repay (还款)."""
    from huabei.services import purchases

    _show(_run(purchases.repay, _system(db), _id(account_id, "account_not_found", "account_id"), _amount(amount),
               key or str(uuid.uuid4())).body, as_json)


# --- restrictions --------------------------------------------------------------------

@restr_app.command("place")
def restrictions_place(account_id: int, cause: str, note: str | None = None, lifts_on: str | None = None,
                       db: DbOpt = None, as_json: JsonOpt = False) -> None:
    from huabei.services import restrictions

    _show(_run(restrictions.place_restriction, _system(db), _id(account_id, "account_not_found", "account_id"),
               cause=cause, note=note, lifts_on=_date(lifts_on) if lifts_on else None), as_json)


@restr_app.command("lift")
def restrictions_lift(restriction_id: int, reason: str = "lifted_by_agent", db: DbOpt = None,
                      as_json: JsonOpt = False) -> None:
    from huabei.services import restrictions

    rid = _id(restriction_id, "restriction_not_found", "restriction_id")
    _show(_run(restrictions.lift_restriction, _system(db), rid, reason=reason), as_json)


# --- ledger --------------------------------------------------------------------------

@ledger_app.command("check")
def ledger_check(db: DbOpt = None) -> None:
    """Prove every entry balances and every balance equals the sum of its postings."""
    from huabei.services import admin

    rep = admin.ledger_check(_system(db))
    console.print(f"checked {rep.entries} entries, {rep.postings} postings, {rep.accounts} credit lines")
    if rep.ok:
        console.print("[bold green]ledger OK[/]: every entry balances; every balance equals its postings")
        return
    table = Table("invariant", "detail", title=f"{len(rep.findings)} broken invariant(s)")
    for f in rep.findings:
        table.add_row(f.invariant, f.detail)
    console.print(table)
    raise typer.Exit(1)


# --- demo ----------------------------------------------------------------------------

@demo_app.command("load")
def demo_load(db: DbOpt = None) -> None:
    """Load the demo book into an empty database: six users living two simulated months
    (bills, installments, a minimum payer, an overdue and a frozen line, a declined applicant).
    A second run does nothing."""
    from huabei.demo import load_demo

    try:
        for line in load_demo(_system(db)):
            console.print(line)
    except HuabeiError as e:
        _fail(e)


# --- the other issues' commands ----------------------------------------------------
def _register_commands() -> None:
    from huabei import cli_billing
    from huabei.cli_scoring import campaigns_app, limits_app, score_app
    from huabei.cli_simulate import simulate

    cli_billing.register(app)  # eod, bills, installments, bureau
    app.add_typer(score_app, name="score")
    app.add_typer(limits_app, name="limits")
    app.add_typer(campaigns_app, name="campaigns")
    app.command("simulate")(simulate)


_register_commands()


if __name__ == "__main__":  # pragma: no cover
    app()
