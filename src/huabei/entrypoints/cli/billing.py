"""Commands of the billing cycle: ``huabei eod``, ``huabei bills …``, ``huabei installments …``,
``huabei bureau …``. ``register(app)`` adds them to the ``huabei`` command; ``app`` here
holds them too (tests invoke it directly).

Amounts are yuan strings as on the API; exit codes as the rest of the CLI: 0 ok, 2 bad
input, 3 refused by a rule, 4 not found, 5 conflict (e.g. ``eod_pending``).
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from huabei.billing.rules import CREDIT_KINDS
from huabei.entrypoints.cli.common import (
    AccountArg,
    DbOpt,
    JsonOpt,
    KeyOpt,
    PeriodArg,
    PlanArg,
    PurchaseArg,
    console,
    err_console,
)
from huabei.entrypoints.cli.common import date as _date
from huabei.entrypoints.cli.common import fail as _fail
from huabei.entrypoints.cli.common import optional_amount as _amount
from huabei.entrypoints.cli.common import print_json as _print_json
from huabei.entrypoints.cli.common import run as _run
from huabei.entrypoints.cli.common import show as _show
from huabei.entrypoints.cli.common import system as _system
from huabei.errors import ErrorKind, HuabeiError
from huabei.money import format_yuan, parse_yuan

app = typer.Typer(
    help="Billing cycle: bills, installments, end-of-day job, credit bureau.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
bills_app = typer.Typer(help="Bills (账单), the repayment day (还款日).", no_args_is_help=True)
installments_app = typer.Typer(help="Installments (分期): quotes, conversions, early repayment.", no_args_is_help=True)
bureau_app = typer.Typer(help="Credit-bureau reporting (征信).", no_args_is_help=True)

TermOpt = Annotated[int, typer.Option("--term", help="Number of monthly installments (default terms: 3, 6, 9 or 12).")]
ConvertAmountOpt = Annotated[
    str | None,
    typer.Option("--amount", help="Convert only this much, in yuan (default: all that can be converted)."),
]


def _lines_table(title: str, lines: list[dict[str, Any]]) -> Table:
    table = Table("date", "line", "amount", "ref", title=title)
    for line in lines:
        sign = "-" if line["kind"] in CREDIT_KINDS else ""
        table.add_row(line["date"], line["kind"], sign + format_yuan(line["amount"]), line["ref"])
    return table


def _bill_status(b: dict[str, Any]) -> str:
    """The bill's status as a user reads it: a past-due bill whose minimum was repaid is open
    but revolving (interest accrues on what is unpaid), not plainly open."""
    if b["status"] == "open" and b.get("regime") == "revolving":
        return "revolving (minimum paid; interest accrues on the rest)"
    return str(b["status"])


def _show_bill(b: dict[str, Any]) -> None:
    console.print(f"bill {b['period']}  statement {b['statement_date']}  due {b['due_date']}")
    console.print(f"status {_bill_status(b)}")
    console.print(
        f"total {format_yuan(b['total_due'])}  minimum {format_yuan(b['minimum_due'])}  "
        f"unpaid {format_yuan(b['unpaid'])}  credit {format_yuan(b['credit_balance'])}"
    )
    console.print(_lines_table("lines", b["lines"]))
    if b["allocations"]:
        t = Table("date", "source", "component", "amount", title="repayments allocated to this bill")
        for a in b["allocations"]:
            t.add_row(a["date"], f"{a['source']} {a['source_id']}", a["component"], format_yuan(a["amount"]))
        console.print(t)


# --- the end-of-day job ------------------------------------------------------------------


eod_app = typer.Typer(
    help="The end-of-day job (日终): run it, see where it stands, retry a record it set aside.",
    invoke_without_command=True,
    pretty_exceptions_enable=False,
)


def _print_quarantined(rows: list[dict[str, Any]]) -> None:
    for q in rows:
        err_console.print(
            f"  set aside #{q['quarantine_id']}: {q['step']} {q['business_date']} {q['kind']} {q['record']}: "
            f"{q['error']}",
            highlight=False,
        )
    if rows:
        err_console.print("  fix the record, then: huabei eod retry ID", highlight=False)


def _eod_run(date: str | None, until: str | None, db: str | None, as_json: bool) -> None:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from huabei.batch import eod
    from huabei.batch.steps import idle

    if (date is None) == (until is None):
        _fail(HuabeiError("invalid_request", ErrorKind.INVALID_REQUEST, detail="give exactly one of --date or --until"))
    system = _system(db)
    total = eod.pending_days(system, until=_date(until)) if until else 1
    bar = Progress(
        TextColumn("end of day {task.fields[day]}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err_console,
        transient=False,
        disable=total <= 1,
    )
    task = bar.add_task("eod", total=total, day="…")

    def progress(day: eod.DayReport) -> None:  # on stderr, as each day completes
        bar.update(task, advance=1, day=str(day.business_date))

    with bar:
        rep = _run(
            eod.run_eod,
            system,
            date=_date(date) if date else None,
            until=_date(until) if until else None,
            on_day=progress,
        )
    out = rep.as_dict()
    if as_json:
        console.print_json(json.dumps(out, ensure_ascii=False))
        return
    for day in out["days"]:
        ran = [s for s in day["steps"] if s["status"] == "ran"]
        done = " (already run: nothing changed)" if not ran else ""
        steps = day["steps"]
        if total > 1 and ran:  # a run of many days: only the steps that did something
            steps = [s for s in steps if s["status"] == "ran" and not idle(s["counts"])]
            if not steps:
                continue
        console.print(f"{day['business_date']}{done}")
        for s in steps:
            counts = ", ".join(f"{k} {v}" for k, v in s["counts"].items())
            console.print(f"  {s['name']:<24} {s['status']:<12} {counts}", overflow="fold")
            for q in s.get("quarantined", []):
                console.print(f"    set aside {q['kind']} {q['record']}: {q['error']}", overflow="fold")
    console.print(f"end of day completed through {out['last_completed']}; business date {out['business_date']}")
    if any(q for d in out["days"] for s in d["steps"] for q in s.get("quarantined", [])):
        _print_quarantined(eod.status(system)["quarantined"])


DateOpt = Annotated[str | None, typer.Option("--date", help="Run this business date (YYYY-MM-DD).")]
UntilOpt = Annotated[
    str | None, typer.Option("--until", help="Run every day not run yet up to this date (YYYY-MM-DD), with progress.")
]


@eod_app.callback()
def eod_command(
    ctx: typer.Context,
    date: DateOpt = None,
    until: UntilOpt = None,
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Run the end-of-day job (日终): close bills, accrue interest, mark overdue, accrue penalty,
    delinquency buckets, rescoring, risk rules, limit review, expire temporary limits, lift
    restrictions, settle campaigns, bureau records. ``huabei eod --until D`` is ``huabei eod run --until D``."""
    if ctx.invoked_subcommand is None:
        _eod_run(date, until, db, as_json)


@eod_app.command("run")
def eod_run_command(date: DateOpt = None, until: UntilOpt = None, db: DbOpt = None, as_json: JsonOpt = False) -> None:
    """Run the end-of-day job for one date (--date) or every day up to a date (--until)."""
    _eod_run(date, until, db, as_json)


@eod_app.command("status")
def eod_status_command(db: DbOpt = None, as_json: JsonOpt = False) -> None:
    """The last day completed, the business date, and the records set aside not yet retried."""
    from huabei.batch import eod

    st = eod.status(_system(db))
    if as_json:
        _print_json(st)
        return
    console.print(f"end of day completed through {st['last_completed']}; business date {st['business_date']}")
    if not st["quarantined"]:
        console.print("no record set aside")
    _print_quarantined(st["quarantined"])


@eod_app.command("retry")
def eod_retry_command(
    quarantine_id: Annotated[int, typer.Argument(help="The number of the record set aside (huabei eod status).")],
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Run a step again for a record it set aside, as of the day it failed, once the record is fixed."""
    from huabei.batch import eod

    q = _run(eod.retry_quarantined, _system(db), quarantine_id, "cli")
    if as_json:
        _print_json(q)
        return
    counts = ", ".join(f"{k} {v}" for k, v in (q["retry_counts"] or {}).items())
    console.print(f"#{q['quarantine_id']} {q['step']} {q['business_date']} {q['kind']} {q['record']}: done ({counts})")


# --- bills ---------------------------------------------------------------------------------


@bills_app.command("list")
def bills_list(account_id: AccountArg, db: DbOpt = None, as_json: JsonOpt = False) -> None:
    """Every closed bill of a credit line, newest first."""
    from huabei.billing import service as billing

    bills = _run(billing.list_bills, _system(db), account_id)
    if as_json:
        _print_json(bills)
        return
    t = Table("period", "statement", "due", "total", "minimum", "unpaid", "status")
    for b in bills:
        t.add_row(
            b["period"],
            b["statement_date"],
            b["due_date"],
            format_yuan(b["total_due"]),
            format_yuan(b["minimum_due"]),
            format_yuan(b["unpaid"]),
            "revolving" if _bill_status(b).startswith("revolving") else b["status"],
        )
    console.print(t)


@bills_app.command("show")
def bills_show(account_id: AccountArg, period: PeriodArg, db: DbOpt = None, as_json: JsonOpt = False) -> None:
    """One bill with its lines and the repayments allocated to it."""
    from huabei.billing import service as billing

    b = _run(billing.get_bill, _system(db), account_id, period)
    if as_json:
        _print_json(b)
    else:
        _show_bill(b)


@bills_app.command("unbilled")
def bills_unbilled(account_id: AccountArg, db: DbOpt = None, as_json: JsonOpt = False) -> None:
    """What the next bill holds so far (未出账)."""
    from huabei.billing import service as billing

    u = _run(billing.unbilled_view, _system(db), account_id)
    if as_json:
        _print_json(u)
        return
    console.print(
        f"next bill {u['period']} (statement {u['statement_date']}, due {u['due_date']}) as of {u['as_of']}: "
        f"total {format_yuan(u['total_due'])}, minimum {format_yuan(u['minimum_due'])}"
    )
    console.print(_lines_table("unbilled", u["lines"]))


@bills_app.command("status")
def bills_status(account_id: AccountArg, db: DbOpt = None, as_json: JsonOpt = False) -> None:
    """What the line owes, billed and not, and its delinquency."""
    from huabei.billing import service as billing

    _show(_run(billing.billing_status, _system(db), account_id), as_json)


@bills_app.command("due-day")
def bills_due_day(
    account_id: AccountArg,
    due_day: Annotated[int, typer.Argument(help="The new repayment day of the month (one of the offered days).")],
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Choose the repayment day (还款日) among the offered ones."""
    from huabei.billing import service as billing

    _show(_run(billing.change_due_day, _system(db), account_id, due_day), as_json)


# --- installments ----------------------------------------------------------------------------


def _show_schedule(s: dict[str, Any], as_json: bool) -> None:
    if as_json:
        _print_json(s)
        return
    waived = f" (fee waived: {s['campaign']})" if s.get("fee_waived") else ""
    console.print(
        f"{s['term']} periods of {format_yuan(s['principal'])}, fee {format_yuan(s['total_fee'])}"
        f"{waived}, total {format_yuan(s['total'])}"
    )
    t = Table("period", "due", "principal", "fee", "total")
    for p in s["periods"]:
        t.add_row(
            str(p["number"]), p["due_date"], format_yuan(p["principal"]), format_yuan(p["fee"]), format_yuan(p["total"])
        )
    console.print(t)


@installments_app.command("quote-bill")
def inst_quote_bill(
    account_id: AccountArg,
    period: PeriodArg,
    term: TermOpt,
    amount: ConvertAmountOpt = None,
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """账单分期 quote: the schedule, nothing changed."""
    from huabei.billing import service as billing

    _show_schedule(
        _run(billing.quote_bill_installments, _system(db), account_id, period, term, _amount(amount)), as_json
    )


@installments_app.command("convert-bill")
def inst_convert_bill(
    account_id: AccountArg,
    period: PeriodArg,
    term: TermOpt,
    amount: ConvertAmountOpt = None,
    key: KeyOpt = None,
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """账单分期: convert a bill into installments."""
    from huabei.billing import service as billing

    out = _run(
        billing.create_bill_installments,
        _system(db),
        account_id,
        period,
        term,
        key or str(uuid.uuid4()),
        _amount(amount),
    )
    _show_schedule(out.body, as_json)


@installments_app.command("quote-purchase")
def inst_quote_purchase(
    purchase_id: PurchaseArg,
    term: TermOpt,
    amount: ConvertAmountOpt = None,
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """交易分期 quote: the schedule, nothing changed."""
    from huabei.billing import service as billing

    _show_schedule(_run(billing.quote_purchase_installments, _system(db), purchase_id, term, _amount(amount)), as_json)


@installments_app.command("convert-purchase")
def inst_convert_purchase(
    purchase_id: PurchaseArg,
    term: TermOpt,
    amount: ConvertAmountOpt = None,
    key: KeyOpt = None,
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """交易分期: convert one purchase into installments."""
    from huabei.billing import service as billing

    out = _run(
        billing.create_purchase_installments, _system(db), purchase_id, term, key or str(uuid.uuid4()), _amount(amount)
    )
    _show_schedule(out.body, as_json)


@installments_app.command("list")
def inst_list(account_id: AccountArg, db: DbOpt = None, as_json: JsonOpt = False) -> None:
    """A line's installment plans: kind, principal, term, fee, periods billed, status."""
    from huabei.billing import service as billing

    plans = _run(billing.list_plans, _system(db), account_id)
    if as_json:
        _print_json(plans)
        return
    t = Table("plan", "kind", "principal", "term", "fee", "billed", "status")
    for p in plans:
        t.add_row(
            str(p["plan_id"]),
            p["kind"],
            format_yuan(p["principal"]),
            str(p["term"]),
            format_yuan(p["total_fee"]),
            str(p["periods_billed"]),
            p["status"],
        )
    console.print(t)


@installments_app.command("early-quote")
def inst_early_quote(plan_id: PlanArg, db: DbOpt = None, as_json: JsonOpt = False) -> None:
    """提前还款 quote: what repaying the rest of a plan now would cost; nothing changed."""
    from huabei.billing import service as billing

    _show(_run(billing.quote_early_repayment, _system(db), plan_id), as_json)


@installments_app.command("early-repay")
def inst_early_repay(plan_id: PlanArg, key: KeyOpt = None, db: DbOpt = None, as_json: JsonOpt = False) -> None:
    """提前还款: repay the rest of a plan now."""
    from huabei.billing import service as billing

    _show(_run(billing.repay_installments_early, _system(db), plan_id, key or str(uuid.uuid4())).body, as_json)


# --- credit bureau -----------------------------------------------------------------------------


@bureau_app.command("export")
def bureau_export(
    month: str = typer.Option(..., "--month", help="The reporting month, YYYY-MM."),
    out: Path | None = typer.Option(None, "--out", help="Write the file here (default: standard output)."),
    db: DbOpt = None,
) -> None:
    """The month's credit-bureau file (format version 1)."""
    from huabei.billing import bureau

    text = _run(bureau.export, _system(db), month)
    if out is None:
        typer.echo(text, nl=False)
    else:
        out.write_text(text, encoding="utf-8")
        console.print(f"wrote {out}")


@bureau_app.command("correct")
def bureau_correct(
    account_id: AccountArg,
    month: str = typer.Option(..., "--month", help="The month of the record to correct, YYYY-MM."),
    reason: str = typer.Option(..., "--reason", help="Why it is corrected (recorded with the new record)."),
    set_: list[str] = typer.Option(
        ...,
        "--set",
        help="A corrected field, field=value (money in yuan), e.g. bucket=current or balance=0.00; repeatable.",
    ),
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Correct a line's record of a month: a new record supersedes the wrong one."""
    from huabei.billing import bureau

    changes: dict[str, Any] = {}
    for item in set_:
        k, _, v = item.partition("=")
        if k in ("credit_limit", "balance", "amount_overdue"):
            changes[k] = parse_yuan(v, allow_zero=True) if v else None
        elif k == "days_past_due":
            changes[k] = int(v) if v.isdigit() else v
        else:
            changes[k] = v
    _show(_run(bureau.correct_record, _system(db), account_id, month, reason=reason, changes=changes), as_json)


app.add_typer(eod_app, name="eod")
app.add_typer(bills_app, name="bills")
app.add_typer(installments_app, name="installments")
app.add_typer(bureau_app, name="bureau")


def register(main: typer.Typer) -> None:
    """Add the billing commands to the ``huabei`` command."""
    main.add_typer(eod_app, name="eod")
    main.add_typer(bills_app, name="bills")
    main.add_typer(installments_app, name="installments")
    main.add_typer(bureau_app, name="bureau")
