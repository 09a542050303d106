"""Commands of the freeze flows: closing a line (``huabei accounts close``)."""

from __future__ import annotations

import typer

from huabei.entrypoints.cli.common import DbOpt, JsonOpt, check_id, run, show, system


def accounts_close(
    account_id: int,
    reason: str = typer.Option(None, help="why the user closes it (recorded)"),
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """关闭花呗: close a line that owes nothing; the user may apply again later."""
    from huabei.closures import service as closures

    show(
        run(closures.close_by_user, system(db), check_id(account_id, "account_not_found", "account_id"), reason=reason),
        as_json,
    )


def register(accounts_app: typer.Typer) -> None:
    accounts_app.command("close")(accounts_close)
