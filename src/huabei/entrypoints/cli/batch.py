"""``huabei snapshot export`` and ``huabei batch run``: the batch steps over a Parquet snapshot,
in process or on Apache Spark (docs/scaling.md).

Registered by ``huabei.entrypoints.cli.main``. Exit codes as elsewhere: 2 bad input.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from huabei.entrypoints.cli.common import DbOpt, JsonOpt, console, print_json
from huabei.entrypoints.cli.common import date as _date
from huabei.entrypoints.cli.common import run as _run
from huabei.entrypoints.cli.common import system as _system

snapshot_app = typer.Typer(
    help="Point-in-time snapshots of the book (Parquet) for the batch steps.", no_args_is_help=True
)
batch_app = typer.Typer(help="Batch steps on the local or the Spark engine.", no_args_is_help=True)

AsOfOpt = Annotated[str, typer.Option("--as-of", help="Business date YYYY-MM-DD the snapshot is read as of")]
STEP_NAMES = ("rescore", "risk", "bureau", "portfolio")


@snapshot_app.command("export")
def snapshot_export(
    as_of: AsOfOpt,
    out: Annotated[Path, typer.Option("--out", help="An empty or new directory")],
    step: Annotated[list[str] | None, typer.Option("--step", help="Only this step's table (repeatable)")] = None,
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Write the book as the batch steps read it on DATE: Parquet, a page of users or lines at a time."""
    from huabei.batch import snapshot

    manifest = _run(snapshot.export, _system(db), as_of=_date(as_of), out=out, steps=step or STEP_NAMES)
    if as_json:
        print_json({"out": str(out), "as_of": manifest["as_of"], "tables": manifest["tables"]})
        return
    for name, t in manifest["tables"].items():
        console.print(f"{name}: {t['rows']} rows in {t['files']} file(s) under {out / name}")


@batch_app.command("run")
def batch_run(
    step: Annotated[str, typer.Argument(help="rescore | risk | bureau | portfolio")],
    as_of: AsOfOpt,
    engine: Annotated[str, typer.Option("--engine", help="local | spark")] = "local",
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Write the decisions to --out; apply nothing")] = False,
    out: Annotated[Path | None, typer.Option("--out", help="JSON-lines file of the decisions (with --dry-run)")] = None,
    snapshot_dir: Annotated[
        Path | None, typer.Option("--snapshot", help="Use this exported snapshot instead of exporting one")
    ] = None,
    master: Annotated[
        str | None, typer.Option("--master", help="Spark master (default: spark-submit's, else local[*])")
    ] = None,
    partitions: Annotated[int | None, typer.Option("--partitions", help="Spark partitions (by account)")] = None,
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Decide STEP as of DATE on an engine; stage the decisions and apply them once per line."""
    from huabei.batch import engines, runs

    _run(runs.check, step, engine)
    spark = engines.spark_session(master, partitions=partitions) if engine == "spark" else None
    report = _run(
        runs.run,
        _system(db),
        step,
        engine=engine,
        as_of=_date(as_of),
        snapshot_dir=snapshot_dir,
        dry_run=dry_run,
        out=out,
        spark=spark,
        partitions=partitions,
    )
    if as_json:
        print_json(report)
        return
    where = f" -> {report['out']}" if report.get("out") else ""
    counts = ", ".join(f"{k} {v}" for k, v in (report.get("counts") or {}).items())
    console.print(
        f"{report['step']} as of {report['as_of']} ({report['engine']}): {report['status']}, "
        f"{report['decisions']} decision(s){where}{'; ' + counts if counts else ''}"
    )
