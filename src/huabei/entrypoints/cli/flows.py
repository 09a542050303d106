"""Commands of the freeze flows: closing a line (``huabei accounts close``), a regulatory sweep
(``huabei risk sweep``), the brand-isolation move (``huabei funding migrate``)."""

from __future__ import annotations

import typer
from rich.table import Table

from huabei.entrypoints.cli.common import (
    AccountArg,
    DbOpt,
    JsonOpt,
    check_id,
    console,
    operator_name,
    print_json,
    run,
    show,
    system,
)
from huabei.money import format_yuan


def accounts_close(
    account_id: AccountArg,
    reason: str = typer.Option(None, help="Why the user closes it (recorded)."),
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """关闭花呗: close a line that owes nothing; the user may apply again later."""
    from huabei.closures import service as closures

    show(
        run(closures.close_by_user, system(db), check_id(account_id, "account_not_found", "account_id"), reason=reason),
        as_json,
    )


def risk_sweep(
    rule: str = typer.Option(
        ..., "--rule", help="CEL over line columns and risk features, e.g. 'latest_score < 550 && used == 0'"
    ),
    action: str = typer.Option(..., "--action", help="close | cut:PCT"),
    reason: str = typer.Option(..., "--reason", help="why (recorded with the operator and the rule)"),
    dry_run: bool = typer.Option(False, "--dry-run", help="report the matching lines and the effect; change nothing"),
    operator: str = typer.Option(None, "--operator", help="who runs it (recorded; default: the --actor)"),
    batch_size: int = typer.Option(None, "--batch-size", help="lines per transaction (default: sweeps.batch_size)"),
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """平台监管变严: close or cut the lines a rule matches, in batches, recorded; a rerun applies nothing twice."""
    from huabei.sweeps import service as sweeps

    rep = run(
        sweeps.sweep,
        system(db),
        rule=rule,
        action=action,
        reason=reason,
        operator=operator_name(operator),
        dry_run=dry_run,
        batch_size=batch_size,
    )
    if as_json:
        print_json(rep)
        return
    table = Table("account", "user", "base limit", "used", "credit balance", "effect", "done before")
    for line in rep["lines"]:
        effect = "close" if line["effect"] == "close" else f"limit -> {format_yuan(line['new_limit'])}"
        table.add_row(
            str(line["account_id"]),
            line["user_id"],
            format_yuan(line["base_limit"]),
            format_yuan(line["used"]),
            format_yuan(line["credit_balance"]),
            effect,
            "yes" if line["already_applied"] else "",
        )
    console.print(table)
    what = (
        "dry run: nothing changed"
        if rep["dry_run"]
        else f"sweep {rep['sweep_id']}: applied {rep['applied']}, failed {rep['failed']}"
    )
    console.print(f"{rep['matched']} line(s) match {rep['rule']!r} ({rep['action']}); {what}")


funding_app = typer.Typer(help="Funding partners (资金方) and brand isolation (品牌隔离).", no_args_is_help=True)


@funding_app.command("migrate")
def funding_migrate(
    partner: str = typer.Option(..., "--partner", help="the partner of funding.partners whose balances move"),
    dry_run: bool = typer.Option(False, "--dry-run", help="report the lines and the effect; change nothing"),
    reason: str = typer.Option("brand isolation", "--reason", help="why (recorded)"),
    operator: str = typer.Option(None, "--operator", help="who runs it (recorded; default: the --actor)"),
    batch_size: int = typer.Option(None, "--batch-size", help="lines per transaction (default: funding.batch_size)"),
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """品牌隔离: move a partner's funded balances off its 花呗 lines to a 信用购 line of the same
    user, pausing purchases on each line while it moves; resumable, a rerun moves nothing twice."""
    from huabei.funding import service as funding

    rep = run(
        funding.migrate,
        system(db),
        partner=partner,
        dry_run=dry_run,
        reason=reason,
        operator=operator_name(operator),
        batch_size=batch_size,
    )
    if as_json:
        print_json(rep)
        return
    table = Table("account", "user", "used", "owed", "effect", "花呗 limit", "信用购 limit", "信用购 line")
    for line in rep["lines"]:
        effect = line.get("error") or line["effect"]
        xyg = line["xinyonggou_limit"]
        table.add_row(
            str(line["account_id"]),
            line["user_id"],
            format_yuan(line["used"]),
            format_yuan(line["owed"]),
            effect,
            format_yuan(line["huabei_limit"]),
            format_yuan(xyg) if xyg is not None else "",
            str(line.get("to_account_id") or ""),
        )
    console.print(table)
    what = (
        "dry run: nothing changed"
        if rep["dry_run"]
        else f"migration {rep['migration_id']}: moved {rep['moved']}, failed {rep['failed']}"
    )
    console.print(f"{rep['matched']} line(s) funded by {rep['partner']}; {what}")


def register(app: typer.Typer, accounts_app: typer.Typer, risk_app: typer.Typer) -> None:
    accounts_app.command("close")(accounts_close)
    risk_app.command("sweep")(risk_sweep)
    app.add_typer(funding_app, name="funding")
