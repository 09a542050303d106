"""The ``huabei`` command (Typer + Rich). Thin: parse, call a use case, print.

``HUABEI_DATABASE_URL`` (or ``--db``) selects the database; amounts are yuan
strings as on the API ("88.80"). Exit codes: 0 ok, 1 ledger check failed,
2 bad input, 3 declined or refused by a rule, 4 not found, 5 conflict.
"""

from __future__ import annotations

import threading
import uuid
from typing import Annotated, Any

import typer
from rich.table import Table

from huabei.entrypoints.cli.common import (
    AccountArg,
    AmountArg,
    AuditedGroup,
    DbOpt,
    JsonOpt,
    KeyOpt,
    PurchaseArg,
    console,
    err_console,
    operator_name,
    set_global_db,
    start_audit,
)
from huabei.entrypoints.cli.common import amount as _amount
from huabei.entrypoints.cli.common import check_id as _id
from huabei.entrypoints.cli.common import database as _db
from huabei.entrypoints.cli.common import date as _date
from huabei.entrypoints.cli.common import fail as _fail
from huabei.entrypoints.cli.common import print_json as _print_json
from huabei.entrypoints.cli.common import run as _run
from huabei.entrypoints.cli.common import show as _show
from huabei.entrypoints.cli.common import system as _system
from huabei.errors import HuabeiError
from huabei.lines.purchase_rules import Channel, PurchaseRequest

app = typer.Typer(
    help="huabei: an open-source consumer credit line (花呗).",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    cls=AuditedGroup,
)
db_app = typer.Typer(help="Database schema (Alembic migrations).", no_args_is_help=True)
clock_app = typer.Typer(help="The business clock (simulated mode).", no_args_is_help=True)
ledger_app = typer.Typer(help="The double-entry ledger.", no_args_is_help=True)
users_app = typer.Typer(help="Users.", no_args_is_help=True)
accounts_app = typer.Typer(help="Credit lines (花呗账户).", no_args_is_help=True)
restr_app = typer.Typer(help="Restrictions (冻结 / 解封).", no_args_is_help=True)
demo_app = typer.Typer(help="Demo data.", no_args_is_help=True)
for sub, name in (
    (db_app, "db"),
    (clock_app, "clock"),
    (ledger_app, "ledger"),
    (users_app, "users"),
    (accounts_app, "accounts"),
    (restr_app, "restrictions"),
    (demo_app, "demo"),
):
    app.add_typer(sub, name=name)


def _print_version(value: bool) -> None:
    if value:
        from huabei import __version__

        console.print(f"huabei {__version__}")
        raise typer.Exit()


@app.callback()
def _main(
    ctx: typer.Context,
    db: DbOpt = None,
    actor: str = typer.Option(
        None, "--actor", help="Who runs the command, for the audit log (default: $HUABEI_ACTOR, else the OS user)."
    ),
    version: bool = typer.Option(
        False, "--version", help="Print the version and exit.", callback=_print_version, is_eager=True
    ),
) -> None:
    set_global_db(db)
    start_audit(ctx, actor)


# --- db, clock, serve ----------------------------------------------------------------


@db_app.command("upgrade")
def db_upgrade(
    db: DbOpt = None,
    revision: Annotated[
        str, typer.Option(help="The Alembic revision to migrate to (default: the newest, heads).")
    ] = "heads",
) -> None:
    """Migrate the database to the newest schema (the only way the schema is created)."""
    from huabei.platform import migrate

    migrate.upgrade(_db(db), revision)
    console.print(f"database at revision {migrate.current(_db(db))}")


@clock_app.command("show")
def clock_show(db: DbOpt = None) -> None:
    """The business date and the clock's mode (simulated or system)."""
    from huabei.platform import admin

    system = _system(db)
    console.print(f"{admin.business_date(system).isoformat()} ({system.clock_mode.value})")


@clock_app.command("set")
def clock_set(
    date: Annotated[str, typer.Argument(help="The new business date, YYYY-MM-DD.")], db: DbOpt = None
) -> None:
    """Set the simulated business date (never backwards; days whose end-of-day has not run are refused
    with the command that runs them)."""
    from huabei.platform import admin

    out = _run(admin.set_business_date, _system(db), _date(date))
    console.print(f"business date is now {out['business_date']}")


@app.command()
def serve(
    db: DbOpt = None,
    host: Annotated[str, typer.Option(help="Address to listen on (0.0.0.0: every interface).")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port to listen on.")] = 8000,
    workers: Annotated[int, typer.Option(help="Server processes (uvicorn workers).")] = 1,
) -> None:
    """Serve the HTTP API and web pages (OpenAPI page at /docs)."""
    import os

    import uvicorn

    if _db(db):
        os.environ["HUABEI_DATABASE_URL"] = _db(db)  # type: ignore[assignment]
    threading.Thread(target=_announce_when_ready, args=(host, port), daemon=True).start()
    uvicorn.run("huabei.entrypoints.http.main:app", host=host, port=port, workers=workers, log_level="info")


def _announce_when_ready(host: str, port: int, wait_seconds: float = 120.0) -> None:
    """Once the server answers ``/healthz``, print where to go: the page (Chinese and English)
    and the API's documentation."""
    import time
    import urllib.error
    import urllib.request

    shown = "127.0.0.1" if host in ("0.0.0.0", "::") else host
    base = f"http://{shown}:{port}"
    deadline = time.monotonic() + wait_seconds
    problem = None
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{base}/healthz", timeout=2):
                break
        except urllib.error.HTTPError as e:  # it is up, but says what is wrong (no database, not migrated)
            problem = _health_problem(e)
            break
        except OSError:  # not listening yet
            time.sleep(0.25)
    else:
        return
    if problem is not None:
        err_console.print(
            f"\nhuabei answers on {base}, but it cannot serve yet: {problem}\n"
            "  check --db (or HUABEI_DATABASE_URL), run `huabei db upgrade` with the same database, "
            "then start it again\n",
            highlight=False,
            markup=False,
        )
        return
    err_console.print(
        f"\nhuabei is ready:\n  the page     {base}/?lang=zh  (English: {base}/?lang=en)\n"
        f"  the API      {base}/docs\n  log in with a key (huabei demo keys prints one per role)\n",
        highlight=False,
        markup=False,
    )


def _health_problem(e: Any) -> str:
    """What a failing ``/healthz`` answer says: its status and detail (``database_unreachable: …``)."""
    import json

    try:
        body = json.loads(e.read() or b"{}")
    except ValueError:
        body = {}
    status = body.get("status") or f"HTTP {e.code}"
    detail = body.get("detail")
    return f"{status}: {detail}" if detail else str(status)


# --- users and accounts --------------------------------------------------------------


@users_app.command("add")
def users_add(
    user_id: Annotated[str, typer.Argument(help="The new user's id (at most 64 characters).")],
    name: str = typer.Option(..., help="The user's name."),
    phone: str = typer.Option(..., help="The user's mobile number."),
    verified: bool = typer.Option(
        True, "--verified/--unverified", help="Whether the user's real name is verified (实名认证)."
    ),
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Register a user (the person a credit line is opened for)."""
    from huabei.lines import service as accounts

    _show(
        _run(accounts.register_user, _system(db), user_id=user_id, name=name, phone=phone, real_name_verified=verified),
        as_json,
    )


@accounts_app.command("open")
def accounts_open(
    user_id: Annotated[str, typer.Argument(help="The user the line is opened for.")],
    base_limit: Annotated[
        str | None,
        typer.Option(
            help="An operator-given limit in yuan (e.g. 5000.00); without it the automatic decision "
            "(real name, score, record) grants the policy's limit or refuses with its reasons"
        ),
    ] = None,
    funding_source: Annotated[
        str, typer.Option("--funding-source", help="who funds the line: platform or a partner of funding.partners")
    ] = "platform",
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Open a credit line (开通) for a user."""
    from huabei.onboarding import service as onboarding

    limit = _amount(base_limit) if base_limit is not None else None
    _show(
        _run(onboarding.open_account, _system(db), user_id=user_id, base_limit=limit, funding_source=funding_source),
        as_json,
    )


PageLimit = Annotated[int, typer.Option("--limit", min=1, max=100, help="How many to list")]


@users_app.command("list")
def users_list(
    limit: PageLimit = 20,
    after: Annotated[str | None, typer.Option("--after", help="List the users after this user id")] = None,
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Users in id order, with their open credit line."""
    from huabei.lines import queries

    page = _run(queries.list_users, _system(db), limit=limit, starting_after=after)
    if as_json:
        _print_json(page)
        return
    t = Table("user", "name", "verified", "since", "line")
    for u in page["data"]:
        t.add_row(
            u["user_id"],
            u["name"],
            "yes" if u["real_name_verified"] else "no",
            u["created_on"],
            str(u["account_id"] or "-"),
        )
    console.print(t)
    if page["has_more"]:
        console.print(f"more: huabei users list --after {page['next_cursor']}")


@accounts_app.command("list")
def accounts_list(
    limit: PageLimit = 20,
    after: Annotated[int | None, typer.Option("--after", help="List the lines after this account id")] = None,
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Credit lines, newest first: status, limits, used and available (yuan)."""
    from huabei.lines import queries
    from huabei.money import format_yuan

    page = _run(queries.list_accounts, _system(db), limit=limit, starting_after=after)
    if as_json:
        _print_json(page)
        return
    t = Table("line", "user", "status", "limit", "used", "available")
    for a in page["data"]:
        t.add_row(
            str(a["account_id"]),
            a["user_id"],
            a["status"],
            format_yuan(a["total_limit"]),
            format_yuan(a["used"]),
            format_yuan(a["available"]),
        )
    console.print(t)
    if page["has_more"]:
        console.print(f"more: huabei accounts list --after {page['next_cursor']}")


@accounts_app.command("show")
def accounts_show(account_id: AccountArg, db: DbOpt = None, as_json: JsonOpt = False) -> None:
    """One credit line: status, limits, used, available and what can be spent right now (yuan)."""
    from huabei.lines import service as accounts

    _show(_run(accounts.account_view, _system(db), _id(account_id, "account_not_found", "account_id")), as_json)


@accounts_app.command("set-limit")
def accounts_set_limit(
    account_id: AccountArg,
    base_limit: Annotated[str, typer.Argument(help="The new base limit in yuan (e.g. 8000.00).")],
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Set a line's base limit (固定额度) as an operator, within the product's bounds."""
    from huabei.lines import service as accounts

    _show(
        _run(
            accounts.set_base_limit,
            _system(db),
            _id(account_id, "account_not_found", "account_id"),
            base_limit=_amount(base_limit),
        ),
        as_json,
    )


@accounts_app.command("grant-temporary")
def accounts_grant_temporary(
    account_id: AccountArg,
    amount: Annotated[str, typer.Argument(help="The temporary limit in yuan, on top of the base limit.")],
    expires_on: Annotated[str, typer.Argument(help="The day it expires, YYYY-MM-DD (usable until the day before).")],
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Grant a temporary limit (临时额度) usable until the day before EXPIRES_ON."""
    from huabei.lines import service as accounts

    _show(
        _run(
            accounts.grant_temporary_limit,
            _system(db),
            _id(account_id, "account_not_found", "account_id"),
            amount=_amount(amount),
            expires_on=_date(expires_on),
        ),
        as_json,
    )


# --- money ---------------------------------------------------------------------------


@app.command()
def purchase(
    account_id: AccountArg,
    amount: AmountArg,
    merchant: str = typer.Option(..., "--merchant", help="The merchant's id."),
    category: str = typer.Option("retail", help="The merchant category (e.g. retail, travel)."),
    channel: Channel = typer.Option(Channel.ONLINE, help="Where the purchase is made."),
    device: str | None = typer.Option(None, "--device", help="The payment device the host saw"),
    key: KeyOpt = None,
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Authorise a purchase (消费)."""
    from huabei.payments import service as purchases

    req = PurchaseRequest(
        _id(account_id, "account_not_found", "account_id"),
        _amount(amount),
        merchant,
        category,
        channel,
        device_id=device,
    )
    _show(_run(purchases.authorise_purchase, _system(db), req, key or str(uuid.uuid4())).body, as_json)


@app.command()
def refund(
    purchase_id: PurchaseArg,
    amount: Annotated[str, typer.Argument(help="How much to refund in yuan (at most what is left to refund).")],
    key: KeyOpt = None,
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Refund (退款) all or part of a purchase."""
    from huabei.payments import service as purchases

    _show(
        _run(
            purchases.refund_purchase,
            _system(db),
            _id(purchase_id, "purchase_not_found", "purchase_id"),
            _amount(amount),
            key or str(uuid.uuid4()),
        ).body,
        as_json,
    )


@app.command()
def repay(
    account_id: AccountArg, amount: AmountArg, key: KeyOpt = None, db: DbOpt = None, as_json: JsonOpt = False
) -> None:
    """Repay (还款): oldest bill first, then what is not billed yet; anything beyond what is owed
    becomes a credit balance."""
    from huabei.payments import service as purchases

    _show(
        _run(
            purchases.repay,
            _system(db),
            _id(account_id, "account_not_found", "account_id"),
            _amount(amount),
            key or str(uuid.uuid4()),
        ).body,
        as_json,
    )


# --- restrictions --------------------------------------------------------------------


@restr_app.command("place")
def restrictions_place(
    account_id: AccountArg,
    cause: Annotated[
        str,
        typer.Argument(help="Why: a cause code (e.g. operator_hold, cash_out_suspected); it decides what is blocked."),
    ],
    note: Annotated[str | None, typer.Option(help="A note for the record (shown to agents).")] = None,
    lifts_on: Annotated[
        str | None, typer.Option(help="Lift it automatically on this day, YYYY-MM-DD (default: until lifted).")
    ] = None,
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Place a restriction (冻结) on a line."""
    from huabei.restrictions import service as restrictions

    _show(
        _run(
            restrictions.place_restriction,
            _system(db),
            _id(account_id, "account_not_found", "account_id"),
            cause=cause,
            note=note,
            lifts_on=_date(lifts_on) if lifts_on else None,
            actor=operator_name(),
        ),
        as_json,
    )


@restr_app.command("lift")
def restrictions_lift(
    restriction_id: Annotated[int, typer.Argument(help="The restriction's id (huabei accounts show).")],
    reason: Annotated[
        str,
        typer.Option(
            help="Why it is lifted, recorded (for a soft restriction: false_positive, resolved_by_user, goodwill, appeal_lifted or operator_error)."
        ),
    ] = "lifted_by_agent",
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Lift a restriction (解封); the line is usable again once nothing else holds it."""
    from huabei.restrictions import service as restrictions

    rid = _id(restriction_id, "restriction_not_found", "restriction_id")
    _show(_run(restrictions.lift_restriction, _system(db), rid, reason=reason, actor=operator_name()), as_json)


# --- ledger --------------------------------------------------------------------------


@ledger_app.command("check")
def ledger_check(db: DbOpt = None) -> None:
    """Prove every entry balances and every balance equals the sum of its postings."""
    from huabei.batch import books

    rep = books.ledger_check(_system(db))
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
    from huabei.entrypoints.demo import load_demo

    try:
        for line in load_demo(_system(db)):
            console.print(line)
    except HuabeiError as e:
        _fail(e)


# --- billing, score and limits, simulation: their command groups ---------------------
def _register_commands() -> None:
    from huabei.entrypoints.cli import billing as cli_billing
    from huabei.entrypoints.cli import diagnosis as cli_diagnosis
    from huabei.entrypoints.cli import flows as cli_flows
    from huabei.entrypoints.cli.access import demo_keys, keys_app, staff_app
    from huabei.entrypoints.cli.batch import batch_app, snapshot_app
    from huabei.entrypoints.cli.replay import replay_app
    from huabei.entrypoints.cli.risk import risk_app
    from huabei.entrypoints.cli.scoring import campaigns_app, limits_app, score_app
    from huabei.entrypoints.cli.simulate import simulate

    cli_billing.register(app)  # eod, bills, installments, bureau
    app.add_typer(score_app, name="score")
    app.add_typer(limits_app, name="limits")
    app.add_typer(campaigns_app, name="campaigns")
    app.add_typer(risk_app, name="risk")
    app.command("simulate")(simulate)
    app.add_typer(replay_app, name="replay")
    cli_diagnosis.register(app)  # diagnose, advise
    cli_flows.register(app, accounts_app, risk_app)  # accounts close, risk sweep, funding migrate
    app.add_typer(keys_app, name="keys")
    app.add_typer(snapshot_app, name="snapshot")
    app.add_typer(batch_app, name="batch")
    app.add_typer(staff_app, name="staff")
    demo_app.command("keys")(demo_keys)


_register_commands()


if __name__ == "__main__":  # pragma: no cover
    app()
