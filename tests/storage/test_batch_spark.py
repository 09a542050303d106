"""Parity of the engines: on a simulated book, the Spark engine (local mode) decides exactly what
the in-process engine decides, row for row, for every batch step, on both databases — the
``--dry-run --out`` files are byte-identical. Slow (a Spark job per step); the session is shared."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from tests.conftest import make_system
from tests.storage.test_batch_runs import TERMS, _policy

from huabei.batch import engines, runs, snapshot
from huabei.risk import service as risk_service
from huabei.simulation import RunSpec, Simulator
from huabei.simulation.profiles import PopulationConfig

pytestmark = pytest.mark.slow

SPEC = RunSpec(users=24, months=1, seed=11, start=dt.date(2026, 10, 28))


def test_spark_decides_what_the_local_engine_decides_row_for_row(db_url, tmp_path, spark) -> None:
    system = make_system(db_url, TERMS, SPEC.start)
    try:
        Simulator(system, SPEC, PopulationConfig(activity_percent=60)).run()
        risk_service.activate(system, _policy(tmp_path), actor="test")
        with system.uow(readonly=True) as uow:
            day = uow.today()
        snapshot.export(system, as_of=day, out=tmp_path / "snap")
        # the bureau step runs on a month's first day only, the portfolio applies nothing: their
        # engines compared directly
        local = engines.decide_local(tmp_path / "snap", "bureau", system.terms)
        assert list(engines.decide_spark(spark, tmp_path / "snap", "bureau", system.terms, 3)) == local
        assert len(local) >= 10 and {json.loads(r[4])["month"] for r in local} == {"2026-10"}
        local = engines.decide_local(tmp_path / "snap", "portfolio", system.terms)
        assert list(engines.decide_spark(spark, tmp_path / "snap", "portfolio", system.terms, 3)) == local
        assert {r[2] for r in local} == {"line", "score"}
        for step in ("rescore", "risk"):
            out = {}
            for engine in ("local", "spark"):
                out[engine] = tmp_path / f"{step}.{engine}.jsonl"
                report = runs.run(
                    system,
                    step,
                    engine=engine,
                    as_of=day,
                    snapshot_dir=tmp_path / "snap",
                    dry_run=True,
                    out=out[engine],
                    spark=spark,
                    partitions=3,
                )
                assert report["status"] == "dry_run"
            local, remote = (out[e].read_text(encoding="utf-8") for e in ("local", "spark"))
            assert local == remote
            assert len(local.splitlines()) >= 20, step  # a real book's worth of decisions
    finally:
        system.engine.dispose()


def test_risk_backtest_on_spark_equals_the_in_process_backtest(db_url, tmp_path, spark) -> None:
    """``huabei risk backtest --engine spark``: the lines replayed by partition on Spark with the same
    pure ``risk.backtest.replay`` give the in-process backtest's report exactly, for the active
    policy (identical to the live decisions) and for a candidate."""
    from tests.storage.test_risk_backtest import START, _book, _candidate

    from huabei.risk import backtest

    system = make_system(db_url, start=START)
    try:
        _book(system)
        end = START + dt.timedelta(days=45)
        on_spark = engines.backtest_spark(spark, partitions=3)
        local = backtest.backtest(system, START + dt.timedelta(days=1), end)
        remote = backtest.backtest(system, START + dt.timedelta(days=1), end, replayer=on_spark)
        assert remote == local and local["identical"] and local["decisions"] > 0
        middle = START + dt.timedelta(days=20)  # from a day in the middle: what the rules held then
        assert backtest.backtest(system, middle, end, replayer=on_spark) == backtest.backtest(system, middle, end)
        candidate = risk_service.load_file(_candidate(tmp_path), system.terms)
        local = backtest.backtest(system, START + dt.timedelta(days=1), end, candidate)
        remote = backtest.backtest(system, START + dt.timedelta(days=1), end, candidate, on_spark)
        assert remote == local and local["rules"]["cash_out_round_amounts"]["would_restrict"] == 2
        # the command line: huabei risk backtest --engine spark (the session in force is reused)
        from typer.testing import CliRunner

        from huabei.entrypoints.cli.main import app

        args = ["risk", "backtest", "--from", "2026-10-26", "--to", end.isoformat(), "--json"]
        env = {"HUABEI_DATABASE_URL": system.engine.url.render_as_string(hide_password=False)}
        outs = [CliRunner().invoke(app, [*args, "--engine", e], env=env) for e in ("local", "spark")]
        assert [o.exit_code for o in outs] == [0, 0], outs[1].output
        assert json.loads(outs[0].output) == json.loads(outs[1].output)
        assert json.loads(outs[1].output)["identical"] is True
        # the Spark job reads the Parquet the export wrote (like ``batch run`` reads the snapshot),
        # not the database: written in the backtest's transaction, then replayed with no database
        with system.uow(readonly=True) as uow:
            policy = risk_service.active_policy(uow)
            inputs = backtest.gather(uow, START + dt.timedelta(days=1), end, policy)
            expected = backtest.replay(inputs, system.terms)
            manifest = snapshot.export_backtest(uow, START + dt.timedelta(days=1), end, policy, tmp_path / "bt")
        system.engine.dispose()
        parts = snapshot.files(tmp_path / "bt", "backtest")
        assert (
            parts
            and manifest["tables"]["backtest"]["rows"] == len(inputs.accounts()) >= 4
            and len(manifest["backtest"]["days"]) == 45
        )
        assert engines.replay_spark(spark, tmp_path / "bt", system.terms, 3) == expected and expected
        for part in parts:
            part.unlink()
        assert engines.replay_spark(spark, tmp_path / "bt", system.terms, 3) == set()
    finally:
        system.engine.dispose()
