"""``huabei replay taiwan``: real card holders replayed through the product, and scores measured on them.

    huabei replay taiwan [--clients 1000] [--seed 7] [--data FILE] [--db URL] [--out replay.csv]
                         [--evaluate [--eval-seed 42] [--test-size 0.3] [--card-out card.yaml]] [--json]

Registered by ``huabei.entrypoints.cli.main`` (``app.add_typer(replay_app, name="replay")``).
Exit codes: 0 ok, 2 bad input (no table, a database that is not empty).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from huabei.entrypoints.cli.common import console, err_console

replay_app = typer.Typer(help="Replays of real card holders through the product.", no_args_is_help=True)


@replay_app.callback()
def _replays() -> None:
    """Replays of real card holders through the product."""


@replay_app.command("taiwan")
def replay_taiwan(
    clients: Annotated[int, typer.Option(min=1, help="Clients drawn from the table")] = 1000,
    seed: Annotated[int, typer.Option(min=0, help="Which clients (the same seed, the same clients)")] = 7,
    data: Annotated[
        Path | None,
        typer.Option(help="The table (default: $HUABEI_TAIWAN_DATA, else the shared copy)", dir_okay=False),
    ] = None,
    db: Annotated[str | None, typer.Option(help="An empty database (default: a new SQLite file)")] = None,
    out: Annotated[Path | None, typer.Option(help="Write the replayed table (features, scores, labels) as CSV")] = None,
    evaluate: Annotated[bool, typer.Option("--evaluate", help="Measure the scores on held-out clients")] = False,
    eval_seed: Annotated[int, typer.Option(help="--evaluate: seed of the stratified split")] = 42,
    test_size: Annotated[float, typer.Option(help="--evaluate: share of clients held out")] = 0.3,
    card_out: Annotated[Path | None, typer.Option(help="--evaluate: write the fitted card here (YAML)")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON")] = False,
) -> None:
    """Replay clients of the Taiwan credit-default table (2005; CC BY 4.0) through the real services
    and the end-of-day job for six months, then (``--evaluate``) compare on the same held-out clients
    the worst-delay rule, a logistic regression on the raw columns, the shipped card and a fitted
    behavioural card (docs/scoring.md)."""
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from huabei.simulation import replay as rp

    try:
        table = rp.sample(data, clients, seed)
        system = rp.open_system(db)
    except rp.ReplayError as e:
        err_console.print(f"[red]cannot replay:[/] {e}")
        raise typer.Exit(2) from None
    load0 = os.getloadavg()
    total = (rp.AS_OF - rp.START).days + 1
    try:
        with Progress(
            TextColumn("[bold]replaying"),
            BarColumn(),
            TextColumn("{task.fields[date]}"),
            TimeElapsedColumn(),
            console=err_console,
            transient=True,
        ) as progress:
            task = progress.add_task("replay", total=total, date="")

            def tick(day: Any) -> None:
                progress.update(task, advance=1, date=day.isoformat())

            df, run = rp.replay(system, table, progress=tick)
    finally:
        system.engine.dispose()
    run["load_average_before"] = [round(x, 2) for x in load0]
    run["load_average_after"] = [round(x, 2) for x in os.getloadavg()]
    if out is not None:
        df.to_csv(out, index=False)
    result: dict[str, Any] = {"run": run}
    if evaluate:
        figures, card = rp.evaluate(df, seed=eval_seed, test_size=test_size)
        result["evaluation"] = figures
        if card_out is not None:
            import yaml

            card_out.write_text(yaml.safe_dump(card.to_dict(), allow_unicode=True, sort_keys=False), encoding="utf-8")
    if as_json:
        print(json.dumps(result, ensure_ascii=False, indent=1))
        return
    console.print(
        f"replayed {run['clients']} clients in {run['seconds']} s ({run['ms_per_client']} ms a client; "
        f"onboarding {run['onboarding_seconds']} s); {run['operations']} purchases and repayments; refused: "
        f"{run['refused'] or 'none'}; load average {run['load_average_before'][0]} -> {run['load_average_after'][0]}"
    )
    if out is not None:
        console.print(f"written to {out}")
    if evaluate:
        ev = result["evaluation"]
        tb = Table(
            title=f"{ev['held_out']} held-out clients of {ev['clients']} ({ev['bad_rate'] * 100:.1f} % bad)",
            title_justify="left",
        )
        for col in ("model", "AUC", "KS"):
            tb.add_column(col, justify="left" if col == "model" else "right")
        for name, auc in ev["auc"].items():
            tb.add_row(name, f"{auc:.3f}", f"{ev['ks'][name]:.3f}")
        console.print(tb)
        console.print(f"PSI training → held out: {ev['psi_train_vs_held_out']}")
        console.print(
            "bad rate by band (held out): "
            + ", ".join(f"{b['band']} {b['bad']}/{b['n']}" for b in ev["calibration_held_out"] if b["n"])
        )
