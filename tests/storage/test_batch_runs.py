"""``snapshot export`` and ``batch run`` on both databases: the snapshot read back decides exactly
what the capabilities decide over the live book; a dry run applies nothing; the one bulk writer
stages the decisions and applies them a few lines per transaction, so a crash part-way and a
rerun end exactly where one clean run ends, the books check green, and a third run does nothing."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import DateTime, select
from tests.conftest import _truncate, buy, make_system, new_account

from huabei import errors
from huabei.batch import books, engines, eod, partition, runs, snapshot
from huabei.config import ProductTerms
from huabei.limits import service as limits
from huabei.platform import schema as t
from huabei.platform.db import make_engine
from huabei.platform.unit_of_work import Huabei
from huabei.risk import evaluation as risk
from huabei.risk import service as risk_service
from huabei.risk.service import DEFAULT_POLICY
from huabei.scoring import service as scoring

START = dt.date(2026, 11, 2)
#: every line may be reviewed (no seasoning, no cool-off); two lines per apply transaction;
#: pages of two users or lines, so the snapshot is written in several files
TERMS = ProductTerms(
    limits={"review_seasoning_days": 0, "review_cooldown_days": 0},
    operations={"batch_apply_units": 2, "batch_page_rows": 2},
)


def _policy(tmp_path: Path) -> str:
    """The default policy with the round-amount cash-out rule firing on every line."""
    text = DEFAULT_POLICY.read_text(encoding="utf-8")
    text = text.replace('version: "2026.11-default"', 'version: "batch-test"')
    text = text.replace("round_purchases_one_merchant_30d >= 5", "round_purchases_one_merchant_30d >= 0")
    path = tmp_path / "batch-policy.yaml"
    path.write_text(text, encoding="utf-8")
    return str(path)


def _book(system: Huabei, tmp_path: Path) -> dt.date:
    """Five users with lines of different sizes and use, one without a line; the day after."""
    from huabei.lines import service as accounts

    for i, limit in enumerate((3_000_000, 500_000, 2_000_000, 800_000, 1_200_000)):
        acct = new_account(system, base_limit=limit, user_id=f"batch-u{i}")
        for k in range(i):
            buy(system, acct, 10_000 * (k + 1), key=f"batch-buy-{i}-{k}", merchant=f"m-{k}")
    accounts.register_user(system, user_id="batch-nolines", name="测试", phone="13800000001", real_name_verified=True)
    eod.run_eod(system, until=START + dt.timedelta(days=1))
    risk_service.activate(system, _policy(tmp_path), actor="test")  # after the day's own risk run
    return START + dt.timedelta(days=1)


def _fresh(request: pytest.FixtureRequest, db_url: str, tmp_path: Path, name: str) -> Huabei:
    """Another empty database of the same backend (SQLite: a new file; PostgreSQL: the same
    scratch database truncated — used one after the other)."""
    if db_url.startswith("sqlite"):
        path = tmp_path / f"{name}.db"
        shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
        return make_system(f"sqlite:///{path}", TERMS, START)
    eng = make_engine(db_url, pool_size=1)
    _truncate(eng)
    eng.dispose()
    return make_system(db_url, TERMS, START)


def _expected(system: Huabei, day: dt.date) -> dict[str, list[partition.Row]]:
    """The decisions of the capabilities' own read -> decide over the live book (no snapshot)."""
    terms = system.terms
    with system.uow(readonly=True) as uow:
        uow.as_of(day)
        snap = scoring.read_rescore(uow, day)
        rescore = scoring.decide_rescore(snap, terms, day)
        review = limits.decide_review(
            limits.read_review(uow, day, population=snap.population, scores=rescore.scored.scores), terms, day
        )
        decided = risk.decide(risk.read(uow, day), terms, day)
    return {
        "rescore": sorted(
            partition.score_rows(rescore) + partition.limit_rows(review, snap.population), key=partition.sort_key
        ),
        "risk": sorted(partition.risk_rows(decided), key=partition.sort_key),
    }


def test_the_snapshot_decides_what_the_capabilities_decide_over_the_book(db_url, tmp_path) -> None:
    system = make_system(db_url, TERMS, START)
    try:
        day = _book(system, tmp_path)
        manifest = snapshot.export(system, as_of=day, out=tmp_path / "snap")
        assert manifest["tables"]["rescore"] == {"rows": 6, "files": 3}  # pages of two users
        assert manifest["tables"]["risk"]["rows"] == 5
        expected = _expected(system, day)
        for step in ("rescore", "risk"):  # the bureau: tests/storage/test_batch_bureau.py
            assert engines.decide_local(tmp_path / "snap", step, system.terms) == expected[step]
        kinds = {r[2] for r in expected["rescore"]}
        assert kinds == {"score", "limit"} and len(expected["risk"]) == 5
        with pytest.raises(errors.HuabeiError) as e:
            snapshot.export(system, as_of=day, out=tmp_path / "snap")  # not empty
        assert e.value.code == "invalid_request"
    finally:
        system.engine.dispose()


_SKIP = {"created_at", "applied_at", "staged_at", "started_at", "finished_at"}


def _clean(value: Any) -> Any:
    """A value without generated ids and timestamps (a crash on PostgreSQL spends sequence numbers)."""
    if isinstance(value, dict):
        return {
            k: _clean(v) for k, v in value.items() if not (k.endswith("_id") and k not in ("account_id", "user_id"))
        }
    if isinstance(value, list):
        return [_clean(v) for v in value]
    return value


def _state(system: Huabei) -> dict[str, list[Any]]:
    out: dict[str, list[Any]] = {}
    with system.engine.connect() as c:
        for name in (
            "credit_scores",
            "limit_changes",
            "domain_events",
            "restrictions",
            "risk_decisions",
            "credit_accounts",
            "batch_decisions",
        ):
            table = t.metadata.tables[name]
            cols = [
                col
                for col in table.c
                if not isinstance(col.type, DateTime)
                and col.name not in _SKIP
                and not (col.primary_key and col.autoincrement is True and col.name.endswith("_id"))
                and col.name not in ("score_id", "change_id", "event_id", "restriction_id", "decision_id")
            ]
            rows = [_clean(dict(r._mapping)) for r in c.execute(select(*cols))]
            out[name] = sorted(rows, key=lambda r: json.dumps(r, sort_keys=True, default=str))
    return out


def test_a_crash_part_way_then_a_rerun_ends_where_one_clean_run_ends(request, db_url, tmp_path) -> None:
    clean = _fresh(request, db_url, tmp_path, "clean")
    try:
        day = _book(clean, tmp_path)
        first = runs.run(clean, "rescore", as_of=day)
        assert first["status"] == "applied" and first["counts"]["scored"] == 6 and first["counts"]["changed"] > 0
        assert runs.run(clean, "risk", as_of=day)["counts"]["restricted"] == 5
        expected = _state(clean)
        assert books.ledger_check(clean).ok
    finally:
        clean.engine.dispose()

    crashed = _fresh(request, db_url, tmp_path, "crashed")
    try:
        assert _book(crashed, tmp_path) == day

        def crash(n: int, uow: Any) -> None:
            if n == 2:
                raise RuntimeError("killed in the middle of applying")

        for step in ("rescore", "risk"):
            with pytest.raises(RuntimeError):
                runs.run(crashed, step, as_of=day, after_batch=crash)
            with crashed.uow(readonly=True) as uow:
                assert uow.batch.run(day, step).status == "staged"  # one batch applied, the rest not
            resumed = runs.run(crashed, step, as_of=day)
            assert resumed["status"] == "resumed"
            again = runs.run(crashed, step, as_of=day)
            assert again["status"] == "done_before" and again["counts"] == {}
        assert _state(crashed) == expected
        assert books.ledger_check(crashed).ok
    finally:
        crashed.engine.dispose()


def test_a_dry_run_writes_the_decisions_by_account_and_applies_nothing(db_url, tmp_path) -> None:
    system = make_system(db_url, TERMS, START)
    try:
        day = _book(system, tmp_path)
        before = _state(system)
        out = tmp_path / "rescore.jsonl"
        report = runs.run(system, "rescore", as_of=day, dry_run=True, out=out)
        lines = [json.loads(x) for x in out.read_text(encoding="utf-8").splitlines()]
        assert report["status"] == "dry_run" and report["decisions"] == len(lines) > 6
        keys = [(x["account_id"], x["user_id"] or "", x["kind"], x["key"]) for x in lines]
        assert keys == sorted(keys) and lines[0]["user_id"] == "batch-nolines" and lines[0]["account_id"] == 0
        assert {x["step"] for x in lines} == {"rescore"} and {x["as_of"] for x in lines} == {day.isoformat()}
        assert _state(system) == before
        with pytest.raises(errors.HuabeiError):
            runs.run(system, "rescore", as_of=day, dry_run=True)  # no --out
        with pytest.raises(errors.HuabeiError):
            runs.run(system, "bills", as_of=day)
        with pytest.raises(errors.HuabeiError):
            runs.run(system, "rescore", as_of=day + dt.timedelta(days=1))  # after the business date
    finally:
        system.engine.dispose()


def test_the_commands_export_a_snapshot_and_run_a_step_dry_then_for_real(db_url, tmp_path, monkeypatch) -> None:
    from tests.conftest import plain_consoles
    from typer.testing import CliRunner

    from huabei.entrypoints.cli import batch as cli_batch
    from huabei.entrypoints.cli.main import app

    plain_consoles(monkeypatch, cli_batch)
    system = make_system(db_url, TERMS, START)
    try:
        day = _book(system, tmp_path)
    finally:
        system.engine.dispose()
    runner = CliRunner()
    snap, out = tmp_path / "snap", tmp_path / "risk.jsonl"
    res = runner.invoke(app, ["snapshot", "export", "--as-of", day.isoformat(), "--out", str(snap), "--db", db_url])
    assert res.exit_code == 0, res.output
    assert "risk: 5 rows" in res.output
    args = ["batch", "run", "risk", "--engine", "local", "--as-of", day.isoformat(), "--db", db_url]
    res = runner.invoke(app, [*args, "--dry-run", "--out", str(out), "--snapshot", str(snap), "--json"])
    assert res.exit_code == 0, res.output
    assert json.loads(res.output)["decisions"] == 5 == len(out.read_text(encoding="utf-8").splitlines())
    res = runner.invoke(app, [*args, "--json"])  # a fresh snapshot of its own, then applied
    assert res.exit_code == 0, res.output
    assert json.loads(res.output)["counts"]["restricted"] == 5
    res = runner.invoke(app, ["batch", "run", "bills", "--as-of", day.isoformat(), "--db", db_url])
    assert res.exit_code == 2
    res = runner.invoke(app, [*args[:-2], "--as-of", "2026-13-01", "--db", db_url])
    assert res.exit_code == 2


def _score_rows(system: Huabei, day: dt.date) -> int:
    with system.engine.connect() as c:
        return len(c.execute(select(t.credit_scores.c.score_id).where(t.credit_scores.c.as_of == day)).all())


def test_a_days_rescoring_is_applied_once_by_the_end_of_day_job_or_by_a_batch_run(db_url, tmp_path) -> None:
    """The end-of-day job rescored everyone on D (rescoring due daily): a batch rescore as of D is
    refused before anything is staged (two limit reviews would raise a line twice). The other
    way round: a batch rescore applied for D claims D's end-of-day steps, which the job then skips."""
    daily = TERMS.model_copy(
        update={
            "scoring": TERMS.scoring.model_copy(update={"refresh_cadence": "daily"}),
            "limits": TERMS.limits.model_copy(update={"reevaluation_cadence": "daily"}),
        }
    )
    system = make_system(db_url, daily, START)
    try:
        day = _book(system, tmp_path)
        scored = _score_rows(system, day)
        assert scored == 6  # the job's rescoring of D
        with pytest.raises(errors.HuabeiError) as e:
            runs.run(system, "rescore", as_of=day)
        assert e.value.code == "batch_step_done_by_eod" and e.value.http_status == 409
        assert "refresh_scores" in e.value.params["eod_steps"]
        with system.uow(readonly=True) as uow:
            assert uow.batch.run(day, "rescore") is None  # nothing staged
        assert _score_rows(system, day) == scored
        assert runs.run(system, "risk", as_of=day)["status"] == "applied"  # idempotent over the job's

        # as if the job of D had not reached its rescoring yet (a system-clock installation
        # running the batch step first): the batch run claims the steps, the job skips them
        with system.engine.begin() as c:
            r = t.eod_runs.c
            c.execute(
                t.eod_runs.delete().where(r.business_date == day, r.step.in_(("refresh_scores", "reevaluate_limits")))
            )
            c.execute(t.eod_days.delete().where(t.eod_days.c.business_date == day))
            c.execute(t.credit_scores.delete().where(t.credit_scores.c.as_of == day))
        applied = runs.run(system, "rescore", as_of=day)
        assert applied["status"] == "applied" and applied["counts"]["scored"] == 6
        report = eod.run_eod(system, date=day)
        status = {s.name: (s.status, s.counts) for s in report.days[0].steps}
        assert status["refresh_scores"] == ("done_before", {"batch_run": "rescore"})
        assert status["reevaluate_limits"] == ("done_before", {"batch_run": "rescore"})
        assert _score_rows(system, day) == 6
        assert books.ledger_check(system).ok
    finally:
        system.engine.dispose()
