"""``huabei risk …``: the risk policy (validate, show, activate) and its decisions.

Registered by ``huabei.entrypoints.cli.main``. Exit codes as elsewhere: 2 an invalid policy or
bad input, 4 not found, 5 a version already stored with another text.
"""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from huabei.config import default_terms
from huabei.entrypoints.cli.common import AccountArg, DbOpt, JsonOpt, console, print_json
from huabei.entrypoints.cli.common import run as _run
from huabei.entrypoints.cli.common import system as _system
from huabei.risk import service as risk

risk_app = typer.Typer(
    help="Risk engine (风控): policies as data, decisions, shadow and backtest.", no_args_is_help=True
)
policy_app = typer.Typer(help="Risk policies: validate, show, activate.", no_args_is_help=True)
risk_app.add_typer(policy_app, name="policy")

ActorOpt = Annotated[str, typer.Option("--actor", help="Who activates it (recorded)")]
PolicyFileArg = Annotated[str, typer.Argument(help="The policy file (YAML: rules in CEL over risk features).")]


@policy_app.command("validate")
def policy_validate(path: PolicyFileArg, as_json: JsonOpt = False) -> None:
    """Check a policy file (keys, causes, features, CEL syntax and types); exit 2 naming file and line."""
    out = _run(risk.validate, path, default_terms())
    if as_json:
        print_json(out)
        return
    console.print(f"{path}: valid policy {out['version']} ({len(out['rules'])} rules, sha256 {out['digest'][:12]})")


@policy_app.command("show")
def policy_show(
    version: Annotated[str | None, typer.Option("--version", help="A stored version instead of the active one")] = None,
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """The policy in force (or a stored version), its rules and every activation (who, when)."""
    out = _run(risk.show, _system(db), version)
    if as_json:
        print_json(out)
        return
    p = out["policy"]
    console.print(f"policy {p['version']} ({out['source']}: {out['path']}), shadow: {out['shadow'] or '-'}")
    table = Table("rule", "cause", "severity", "mode", "trigger", "lift")
    for r in p["rules"]:
        lift = " + ".join(
            x for x in (r["lift"]["when"], r["lift"]["after_days"] and f"{r['lift']['after_days']} days") if x
        )
        table.add_row(r["id"], r["cause"], r["severity"], r["mode"], r["trigger"], str(lift))
    console.print(table)
    if out["activations"]:
        hist = Table("version", "role", "actor", "business date", "at")
        for a in out["activations"]:
            hist.add_row(a["version"], a["role"], a["actor"], a["business_date"], a["created_at"])
        console.print(hist)


@policy_app.command("activate")
def policy_activate(
    path: PolicyFileArg,
    actor: ActorOpt = "operator",
    shadow: Annotated[bool, typer.Option("--shadow", help="Run it in shadow beside the active one")] = False,
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Validate and activate a policy file (recorded with who and when; earlier versions stay queryable)."""
    out = _run(risk.activate, _system(db), path, actor=actor, role="shadow" if shadow else "active")
    if as_json:
        print_json(out)
        return
    console.print(f"policy {out['version']} is now {out['role']} (by {out['actor']})")


def _rules_table(out: dict) -> Table:
    table = Table("rule", "cause", "would restrict", "would lift", "live restrict", "live lift", "overlap", "same")
    for rule_id, r in out["rules"].items():
        table.add_row(
            rule_id,
            r["cause"] or "-",
            str(r["would_restrict"]),
            str(r["would_lift"]),
            str(r["live_restrict"]),
            str(r["live_lift"]),
            str(r["overlap_restrict"]),
            "yes" if r["same_decisions"] else "no",
        )
    return table


@risk_app.command("backtest")
def risk_backtest(
    date_from: Annotated[str, typer.Option("--from", help="First day (YYYY-MM-DD)")],
    date_to: Annotated[str, typer.Option("--to", help="Last day (YYYY-MM-DD)")],
    policy: Annotated[str | None, typer.Option("--policy", help="A policy file (default: the active one)")] = None,
    engine: Annotated[
        str, typer.Option("--engine", help="local: in this process; spark: the lines replayed by partition on Spark")
    ] = "local",
    partitions: Annotated[int | None, typer.Option("--partitions", min=1, help="Spark partitions")] = None,
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Replay each day of stored history through a policy with point-in-time features; per rule:
    accounts it would restrict and lift, overlap with the live decisions, and whether they are the same."""
    from huabei.entrypoints.cli.common import date as _date
    from huabei.risk import backtest

    if engine not in ("local", "spark"):
        raise typer.BadParameter("local or spark", param_hint="--engine")
    system = _system(db)
    candidate = _run(risk.load_file, policy, system.terms) if policy else None
    replayer = None
    if engine == "spark":
        from huabei.batch import engines

        replayer = engines.backtest_spark(engines.spark_session(partitions=partitions), partitions)
    out = _run(backtest.backtest, system, _date(date_from), _date(date_to), candidate, replayer)
    if as_json:
        print_json(out)
        return
    console.print(
        f"policy {out['policy']} from {out['from']} to {out['to']}: {out['decisions']} decisions, "
        f"live {out['live_decisions']}, identical: {'yes' if out['identical'] else 'no'}; labels: none stored"
    )
    console.print(_rules_table(out))


@risk_app.command("shadow-report")
def risk_shadow_report(
    date_from: Annotated[str | None, typer.Option("--from", help="First day (YYYY-MM-DD)")] = None,
    date_to: Annotated[str | None, typer.Option("--to", help="Last day (YYYY-MM-DD)")] = None,
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """The shadow policy's recorded decisions (never acted on) against the live ones."""
    from huabei.entrypoints.cli.common import date as _date
    from huabei.risk import backtest

    out = _run(
        backtest.shadow_report,
        _system(db),
        _date(date_from) if date_from else None,
        _date(date_to) if date_to else None,
    )
    if as_json:
        print_json(out)
        return
    if out["shadow"] is None:
        console.print("no shadow policy has run")
        return
    console.print(f"shadow {out['shadow']}: {out['decisions']} decisions, live {out['live_decisions']}")
    console.print(_rules_table(out))


@risk_app.command("decisions")
def risk_decisions(account_id: AccountArg, db: DbOpt = None, as_json: JsonOpt = False) -> None:
    """Every decision of the risk policies on a line (live and shadow), with evidence."""
    from huabei.risk import evaluation

    with _system(db).uow(readonly=True) as uow:
        rows = evaluation.decisions_for(uow, account_id)
    if as_json:
        print_json({"data": rows})
        return
    table = Table("day", "mode", "run", "policy", "rule", "action", "inputs")
    for d in rows:
        table.add_row(
            d["business_date"],
            d["mode"],
            d["run"],
            d["policy_version"],
            d["rule_id"],
            d["action"],
            ", ".join(f"{k}={v}" for k, v in d["evidence"].get("inputs", {}).items()),
        )
    console.print(table)
