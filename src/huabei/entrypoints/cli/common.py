"""What every command group of the ``huabei`` CLI shares: the options, the system a command
runs on, how an error is printed (code, English and Chinese, remedy, reasons) with its exit
code, how input amounts and dates are parsed, and how output shows money (yuan strings,
like the API).

Exit codes: 0 ok, 2 bad input, 3 refused by a rule, 4 not found, 5 conflict, 6 forbidden.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import getpass
import json
import os
from typing import Annotated, Any, NoReturn

import typer
from rich.console import Console
from rich.table import Table
from typer.core import TyperGroup, TyperOption

from huabei import reasons
from huabei.errors import ErrorKind, HuabeiError
from huabei.money import MAX_AMOUNT_FEN, AmountError, format_yuan, parse_yuan
from huabei.platform import request_audit
from huabei.platform.unit_of_work import Huabei

console = Console()
err_console = Console(stderr=True)
EXIT = {
    ErrorKind.INVALID_REQUEST: 2,
    ErrorKind.DECLINED: 3,
    ErrorKind.UNPROCESSABLE: 3,
    ErrorKind.NOT_FOUND: 4,
    ErrorKind.CONFLICT: 5,
    ErrorKind.FORBIDDEN: 6,
}

DbOpt = Annotated[
    str | None, typer.Option("--db", help="Database URL (default: $HUABEI_DATABASE_URL or sqlite:///huabei.db)")
]
KeyOpt = Annotated[
    str | None,
    typer.Option(
        "--key", help="Idempotency key: a retry with the same key is not applied twice (default: a fresh one)."
    ),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table (money as yuan strings).")]
AccountArg = Annotated[int, typer.Argument(help="The credit line's account id (huabei accounts list).")]
PurchaseArg = Annotated[int, typer.Argument(help="The purchase's id (as huabei purchase printed it).")]
PlanArg = Annotated[int, typer.Argument(help="The installment plan's id (huabei installments list).")]
UserArg = Annotated[str, typer.Argument(help="The user's id (huabei users list).")]
PeriodArg = Annotated[str, typer.Argument(help="The bill's month, YYYY-MM (e.g. 2026-11).")]
AmountArg = Annotated[str, typer.Argument(help="Amount in yuan, at most two decimals (e.g. 88.80).")]
DateArg = Annotated[str, typer.Argument(help="A date, YYYY-MM-DD.")]

#: Ids are BIGINT in the database; a larger number cannot name anything (and would not even bind).
MAX_ID = 2**63 - 1

#: ``huabei --db URL COMMAND``: the database given before the command (each command's own ``--db`` wins).
_global: dict[str, str | None] = {"db": None, "actor": None}


def set_global_db(db: str | None) -> None:
    _global["db"] = db


#: options whose values are never written to the audit log (secrets, the database URL)
_UNLOGGED = ("password", "secret", "--db")


def operator_name(given: str | None = None) -> str:
    """Who runs the command: ``given`` (a command's ``--operator``), else ``huabei --actor``, else
    ``$HUABEI_ACTOR``, else the OS user."""
    given = given or _global["actor"]
    if given:
        return given[:64]
    env = os.environ.get("HUABEI_ACTOR")
    if env:
        return env[:64]
    try:
        return getpass.getuser()[:64]
    except (KeyError, OSError):  # no user entry (a bare container)
        return "operator"


def _flags_show_no_value() -> None:
    """Typer 0.26 vendored Click (``typer._click``) and, up to at least 0.29.2, its Rich help asks
    every option for its type (``display_type_rich``) — a flag too, so ``--json`` read
    ``--json <bool>`` as if it took a value. Its plain-text help already leaves flags out
    (``TyperOption.get_help_record``: ``if not self.is_flag and not self.count``); this applies the
    same rule to the Rich help, once, here where the CLI is wired. tests/test_cli_help.py walks the
    whole command tree and fails on any flag shown with a value."""
    shown = TyperOption.display_type_rich
    if getattr(shown, "_huabei_flags", False):
        return

    def display_type_rich(self: TyperOption, ctx: Any) -> str | None:
        if self.is_flag or self.count:
            return None
        return shown(self, ctx)

    display_type_rich._huabei_flags = True  # type: ignore[attr-defined]
    TyperOption.display_type_rich = display_type_rich  # type: ignore[method-assign]


_flags_show_no_value()


class AuditedGroup(TyperGroup):
    """The ``huabei`` command group: keeps the command line it was given (``ctx.meta``) for the
    audit row of the command (:func:`start_audit`)."""

    def resolve_command(self, ctx: Any, args: list[str]) -> Any:
        ctx.meta["huabei.argv"] = list(args)
        return super().resolve_command(ctx, args)


def _command_line(ctx: typer.Context) -> tuple[str, str]:
    """(the command's name, e.g. ``funding migrate``; the command line with the values of secret
    options — a password, the database URL — masked)."""
    args: list[str] = ctx.meta.get("huabei.argv", [])
    words: list[str] = []
    cmd: Any = ctx.command
    for a in args:
        sub = cmd.get_command(ctx, a) if hasattr(cmd, "get_command") else None
        if sub is None:
            break
        words.append(a)
        cmd = sub
    shown: list[str] = []
    hide = False
    for a in args[len(words) :]:
        if hide:
            shown.append("***")
            hide = False
            continue
        name = a.split("=", 1)[0]
        if name.startswith("--") and any(u in name for u in _UNLOGGED):
            hide = "=" not in a
            shown.append(name + ("=***" if "=" in a else ""))
            continue
        shown.append(a)
    route = " ".join(words) or "?"
    return route, " ".join([route, *shown])


#: The command line's context (set by the app's callback; cleared when it closes): what
#: :func:`system` hands its connection pool back on. Typer 0.26+ runs on its own vendored Click,
#: so ``click.get_current_context()`` of the separately installed Click never sees it.
_command: list[typer.Context] = []


def start_audit(ctx: typer.Context, actor: str | None) -> None:
    """Audit the command about to run (called before every command, by the app's callback): the
    first commit that changes state writes its row — the operator as the actor, the command and its
    arguments — in the same transaction (``huabei.platform.request_audit``). Reads write nothing."""
    _global["actor"] = actor
    _command[:] = [ctx]
    ctx.call_on_close(_command.clear)
    route, line = _command_line(ctx)
    fields = {
        "key_id": None,
        "role": "operator",
        "user_id": None,
        "actor": operator_name(actor),
        "account_id": None,  # the first line the change's events name (huabei.platform.unit_of_work)
        "method": "CLI",
        "route": route[:200],
        "path": line[:500],
        "status": 200,
        "outcome": "ok",
        "code": None,
    }
    token = request_audit.current.set(request_audit.RequestAudit(fields=lambda: dict(fields)))

    def _end() -> None:
        with contextlib.suppress(ValueError):  # closed in another context: nothing of ours to reset
            request_audit.current.reset(token)

    ctx.call_on_close(_end)


def database(db: str | None) -> str | None:
    """The command's ``--db``, else the one given before the command (else the environment's)."""
    return db or _global["db"]


def system(db: str | None) -> Huabei:
    """The system a command runs on; its pooled connections are given back when the command ends."""
    s = Huabei.from_env(database(db))
    if _command:
        _command[0].call_on_close(s.engine.dispose)
    require_migrated(s)
    return s


def require_migrated(s: Huabei) -> None:
    """An unmigrated (or older) database is ``database_not_migrated`` with the command that
    fixes it, not a traceback."""
    from huabei.platform import migrate

    behind = migrate.pending(engine=s.engine)
    if behind is not None:
        fail(HuabeiError("database_not_migrated", ErrorKind.CONFLICT, current=behind[0] or "empty", head=behind[1]))


def fail(e: HuabeiError) -> NoReturn:
    """Print the error (code, message in English and Chinese, remedy, every reason) and exit
    with its code. Texts are printed as they are (no Rich markup: a message may hold brackets)."""
    t = reasons.render(e.code, e.params)
    err_console.print(f"{e.code}: {t['message']}\n{t['message_zh']}", markup=False, highlight=False)
    if t["remedy"]:
        err_console.print(f"{t['remedy']}\n{t['remedy_zh']}", markup=False, highlight=False)
    for code in e.params.get("reasons") or []:
        r = reasons.render(code, e.params)
        err_console.print(f"  - {code}: {r['message']} / {r['message_zh']}", markup=False, highlight=False)
    raise typer.Exit(EXIT.get(e.kind, 1))


def run(fn: Any, *args: Any, **kwargs: Any) -> Any:
    """Call a use case; a refusal becomes the printed error and its exit code."""
    try:
        return fn(*args, **kwargs)
    except HuabeiError as e:
        fail(e)


def check_id(value: int, code: str, field: str) -> int:
    if not 1 <= value <= MAX_ID:
        fail(HuabeiError(code, ErrorKind.NOT_FOUND, **{field: value}))
    return value


def amount(text: str) -> int:
    """A yuan string (at most two decimals) in fen; ``invalid_amount`` otherwise."""
    try:
        return parse_yuan(text)
    except AmountError as e:
        fail(HuabeiError(e.code, ErrorKind.INVALID_REQUEST, detail=e.detail, maximum=format_yuan(MAX_AMOUNT_FEN)))


def optional_amount(text: str | None) -> int | None:
    return None if text is None else amount(text)


def date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        fail(HuabeiError("invalid_date", ErrorKind.INVALID_REQUEST))


#: Output fields that hold fen, shown as yuan strings (as the API shows them).
MONEY_KEYS = frozenset(
    {
        # credit line
        "amount",
        "available",
        "spendable_now",
        "base_limit",
        "temporary_limit",
        "total_limit",
        "used",
        "credit_balance",
        "refunded_total",
        "to_credit_balance",
        "owed",
        # bills and installments
        "total_due",
        "minimum_due",
        "minimum_unpaid",
        "unpaid",
        "paid",
        "paid_by_due_date",
        "converted",
        "carried_out",
        "unpaid_principal",
        "unpaid_fee",
        "unpaid_interest",
        "unpaid_penalty",
        "minimum_rated_base",
        "minimum_in_full",
        "temporary_limit_part",
        "opening_balance",
        "closing_balance",
        "principal",
        "fee",
        "total",
        "total_fee",
        "fee_charged",
        "fee_waived_amount",
        "billed_unpaid",
        "fee_waived",
        "unbilled_principal",
        "installment_principal_unbilled",
        "unbilled_interest",
        "unbilled_penalty",
        "credit_limit",
        "balance",
        "amount_overdue",
        # limits and facts
        "old_limit",
        "new_limit",
        "requested_limit",
        "proposed_limit",
        "band_amount",
        "old_value",
        "new_value",
        "min_payment",
        "monthly_income",
        "assets",
    }
)
#: Fields holding fen per ledger account (e.g. a repayment's allocation).
MONEY_MAPS = frozenset({"allocation"})


def yuan(data: Any, key: str | None = None) -> Any:
    """Money fields (fen) as yuan strings, recursively."""
    if isinstance(data, dict):
        if key in MONEY_MAPS:
            return {k: format_yuan(v) if isinstance(v, int) and not isinstance(v, bool) else v for k, v in data.items()}
        return {k: yuan(v, k) for k, v in data.items()}
    if isinstance(data, list):
        return [yuan(v, key) for v in data]
    if key in MONEY_KEYS and isinstance(data, int) and not isinstance(data, bool):
        return format_yuan(data)
    return data


def print_json(data: Any) -> None:
    console.print_json(json.dumps(yuan(data), default=str, ensure_ascii=False))


def _reason_lines(items: list[dict[str, Any]]) -> str:
    return "\n".join(f"{r['code']}: {r['message']}" for r in items)


def show(data: dict[str, Any], as_json: bool) -> None:
    """One record: JSON, or a two-column table (reason lists as one line per reason)."""
    if as_json:
        print_json(data)
        return
    table = Table(show_header=False)
    for k, v in yuan(data).items():
        if isinstance(v, list) and v and isinstance(v[0], dict) and "code" in v[0] and "message" in v[0]:
            v = _reason_lines(v)
        elif isinstance(v, (dict, list)):
            v = json.dumps(v, ensure_ascii=False, default=str)
        table.add_row(k, str(v))
    console.print(table)
