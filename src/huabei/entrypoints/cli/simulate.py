"""``huabei simulate``: a synthetic population living months through the service layer.

    huabei simulate --users N --months M --seed S [--policy FILE] [--report FILE]
    huabei simulate --compare A.yaml B.yaml [...] --users N --months M --seed S [--report FILE]

Registered on the main app by ``huabei.entrypoints.cli.main`` (``app.command("simulate")(simulate)``); also
runnable alone as ``python -m huabei.entrypoints.cli.simulate``. Exit codes: 0 ok, 1 an invariant broke
(the replay command is printed), 2 bad input or an unusable database.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
)

from huabei.entrypoints.cli.common import console, database, err_console


def _progress() -> Progress:
    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("simulated {task.fields[date]}"),
        TimeElapsedColumn(),
        console=err_console,
        transient=False,
    )


def simulate(
    policies: Annotated[
        list[Path] | None,
        typer.Argument(help="With --compare: two or more policy files (YAML product-terms overrides)"),
    ] = None,
    users: Annotated[int, typer.Option("--users", min=1, help="Synthetic users")] = 1000,
    months: Annotated[int, typer.Option("--months", min=1, help="Calendar months to live")] = 12,
    seed: Annotated[
        int, typer.Option("--seed", min=0, help="The seed: same seed, policy and population, same report")
    ] = 1,
    policy: Annotated[
        Path | None,
        typer.Option(
            "--policy",
            exists=True,
            dir_okay=False,
            help="Product-terms override YAML (e.g. scoring: {opening_threshold: 650})",
        ),
    ] = None,
    report: Annotated[
        Path | None, typer.Option("--report", dir_okay=False, help="Write the report as JSON here")
    ] = None,
    compare: Annotated[
        bool,
        typer.Option(
            "--compare", help="Run the same population under each policy file given as arguments, side by side"
        ),
    ] = False,
    population: Annotated[
        Path | None, typer.Option("--population", exists=True, dir_okay=False, help="Profiles and mix override YAML")
    ] = None,
    faults: Annotated[
        bool, typer.Option("--faults", help="Inject retries, bursts, end-of-day crashes and skipped days")
    ] = False,
    until_day: Annotated[
        int | None, typer.Option("--until-day", min=1, help="Stop after this simulated day (replays)")
    ] = None,
    start: Annotated[str, typer.Option("--start", help="First simulated date")] = "2026-01-01",
    workers: Annotated[
        int, typer.Option("--workers", min=1, max=64, help="Threads sharing each day's users (same report)")
    ] = 1,
    scratch: Annotated[bool, typer.Option("--scratch", help="Run on a throwaway database on the same server")] = False,
    keep: Annotated[bool, typer.Option("--keep", help="Keep scratch databases")] = False,
    core_only: Annotated[
        bool, typer.Option("--core-only", help="Drive the credit-line core only (no end-of-day job, bills, scoring)")
    ] = False,
    checks: Annotated[
        str,
        typer.Option(
            "--checks",
            help="full: the whole ledger check every day; incremental: new postings daily, the whole check at each month end (large runs)",
        ),
    ] = "full",
    db: Annotated[
        str | None, typer.Option("--db", help="Database URL (default: $HUABEI_DATABASE_URL or sqlite:///huabei.db)")
    ] = None,
) -> None:
    """Simulate a synthetic population day by day through the service layer, checking the books every day."""
    from huabei.config import default_terms
    from huabei.simulation import (
        FaultPlan,
        RunSpec,
        SimulationError,
        SimulationViolation,
        load_population,
        run_on,
    )
    from huabei.simulation.compare import (
        compare_reports,
        policy_terms,
        render_comparison,
    )
    from huabei.simulation.databases import prepare, scratch_database
    from huabei.simulation.report import dumps, render

    url = database(db)
    try:
        first = dt.date.fromisoformat(start)
    except ValueError:
        err_console.print(f"[red]--start {start!r} is not a date (YYYY-MM-DD)[/]")
        raise typer.Exit(2) from None
    try:
        pop = load_population(population)
        base_terms = default_terms()
    except (ValueError, OSError) as e:
        err_console.print(f"[red]bad configuration:[/] {e}")
        raise typer.Exit(2) from None
    if checks not in ("full", "incremental"):
        err_console.print("[red]--checks is full or incremental[/]")
        raise typer.Exit(2)
    files = list(policies or [])
    if compare and len(files) < 2:
        err_console.print("[red]--compare needs two or more policy files[/]")
        raise typer.Exit(2)
    if files and not compare:
        err_console.print("[red]policy files as arguments go with --compare (one policy: --policy FILE)[/]")
        raise typer.Exit(2)

    def spec_for(policy_path: Path | None) -> RunSpec:
        return RunSpec(
            users=users,
            months=months,
            seed=seed,
            start=first,
            until_day=until_day,
            faults=FaultPlan.default() if faults else FaultPlan(),
            workers=workers,
            policy_path=str(policy_path) if policy_path else None,
            population_path=str(population) if population else None,
            faults_flag=faults,
            core_only=core_only,
            checks=checks,
        )

    def one(target: str, policy_path: Path | None, progress: Progress, label: str) -> dict[str, Any]:
        terms = policy_terms(base_terms, policy_path)
        spec = spec_for(policy_path)
        task = progress.add_task(label, total=None, date="")

        def tick(day_no: int, total: int, day: dt.date) -> None:
            progress.update(task, completed=day_no, total=total, date=day.isoformat())

        return run_on(target, spec, terms, pop, progress=tick)

    try:
        if compare:
            labels = [p.stem for p in files]
            if len(set(labels)) != len(labels):
                labels = [f"{i + 1}:{p.stem}" for i, p in enumerate(files)]
            reports = []
            with _progress() as progress:
                for i, (label, path) in enumerate(zip(labels, files)):
                    with scratch_database(url, f"{i}_{path.stem}", keep=keep) as target:
                        reports.append(one(target, path, progress, label))
            out = compare_reports(labels, reports)
            render_comparison(out, console)
        else:
            with _progress() as progress:
                if scratch:
                    with scratch_database(url, f"run_{seed}", keep=keep) as target:
                        out = one(target, policy, progress, "simulating")
                else:
                    out = one(prepare(url) if url else prepare_default(), policy, progress, "simulating")
            render(out, console)
    except SimulationViolation as v:
        err_console.print(
            f"[bold red]invariant broken[/] on day {v.day} ({v.date.isoformat()}): [bold]{v.invariant}[/]"
        )
        if v.account_id is not None:
            err_console.print(f"account {v.account_id} (user {v.user_id})")
        err_console.print(v.detail)
        if v.more:
            err_console.print(f"(+{v.more} more violation(s) that day)")
        err_console.print(f"replay: [bold]{v.replay}[/]")
        partial = getattr(v, "report", None)
        if report is not None and partial is not None:
            report.write_text(dumps(partial), encoding="utf-8")
        raise typer.Exit(1) from None
    except (SimulationError, ValueError) as e:
        err_console.print(f"[red]cannot simulate:[/] {e}")
        raise typer.Exit(2) from None
    if report is not None:
        report.write_text(dumps(out), encoding="utf-8")
        console.print(f"report written to {report}")


def prepare_default() -> str:
    from huabei.platform.db import database_url
    from huabei.simulation.databases import prepare

    return prepare(database_url(None))


app = typer.Typer(help="Portfolio simulation.", pretty_exceptions_enable=False, add_completion=False)
app.command("simulate")(simulate)

if __name__ == "__main__":  # pragma: no cover
    app()
