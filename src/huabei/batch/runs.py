"""``huabei batch run STEP``: a batch step decided by an engine over a snapshot, then applied once.

1. **Snapshot** — the Parquet snapshot of the step as of the date (:mod:`huabei.batch.snapshot`;
   ``--snapshot DIR`` reuses one already exported, else it is exported to a scratch directory).
2. **Decide** — by the ``local`` or the ``spark`` engine (:mod:`huabei.batch.engines`), both
   calling the capabilities' pure ``decide`` on partitions of the snapshot; the decisions come
   back sorted by account. ``--dry-run --out FILE`` writes them as JSON lines and stops:
   nothing is applied.
3. **Stage** — the one bulk writer: every decision is loaded into ``batch_decisions`` (``COPY``
   on PostgreSQL, ``executemany`` on SQLite) in one transaction with the run's row
   (``batch_runs``, status ``staged``). A crash while staging leaves nothing; the next run starts over.
4. **Apply** — ``operations.batch_apply_units`` lines (or users without a line) at a time, each
   batch in one transaction that runs the capability's own writer over those decisions
   (:func:`~huabei.scoring.service.write_rescore` and :func:`~huabei.limits.service.write_review`,
   :func:`~huabei.risk.evaluation.write`) and marks them applied. A line's decisions are never
   split. When every decision is applied the run is ``applied``.

One day, one application. A batch step does the work of end-of-day steps (:data:`EOD_STEPS`):
``rescore`` that of ``refresh_scores`` and ``reevaluate_limits``, ``risk`` that of ``risk_rules``,
``bureau`` that of ``bureau_records``. So that a day's rescoring and limit review are applied
once (two reviews would raise a line twice; two rescorings would write two scores of the day): a
``rescore`` run as of ``D`` whose end-of-day steps already *did work* for ``D`` (they were due and
changed something) is refused (409 ``batch_step_done_by_eod``) before anything is staged, or in the
transaction that would apply its decisions. The ``risk`` and ``bureau`` steps are idempotent over
what the end-of-day steps did (a restriction held is not placed again; a line's record of the month
is kept) and run after them. In the other direction, for every step, the transaction that
applies a run's first decisions marks those end-of-day steps done for ``D`` (their ``eod_runs`` markers,
counts ``{"batch_run": STEP}``), so the end-of-day job of ``D`` reports them ``done_before`` and
skips them. Run a batch step after the end-of-day steps before it for ``D`` (``huabei eod run
--date D`` stops nowhere in between, so in practice: the day's billing first, by the end-of-day job of
``D``'s eve, then the batch step as of ``D``; docs/scaling.md). A dry run is always allowed.

Idempotent per (as-of date, step): a run already ``applied`` changes nothing; a run that was
``staged`` and crashed part-way applies only what it had not applied — the same decisions, not
decided again from a book that has changed meanwhile — so a crash and a rerun end exactly where
one clean run ends.

Steps: ``rescore`` (the rescoring, then the limit review of every open line with the new scores:
the end-of-day job's ``refresh_scores`` and ``reevaluate_limits`` on a day both are due) and
``risk`` (the daily rules: ``risk_rules``) and ``bureau`` (on the first day of a month, every
reported line's credit-bureau record of the month before: ``bureau_records``; a line whose record
the end-of-day step already wrote keeps it). Counts are those of the end-of-day steps.
``portfolio`` (the risk dashboard's figures, folded from each line's and each user's part:
``huabei.portfolio.figures``) changes nothing: without ``--dry-run`` the report holds the figures.
"""

from __future__ import annotations

import datetime as dt
import json
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from huabei import errors
from huabei.batch import engines, partition, snapshot, steps
from huabei.limits import service as limits
from huabei.platform.unit_of_work import Huabei, UnitOfWork
from huabei.risk import evaluation as risk
from huabei.scoring import service as scoring

if TYPE_CHECKING:  # pragma: no cover
    from pyspark.sql import SparkSession

#: ``after_batch(n, uow)``: called inside the n-th apply transaction (from 1) after its work,
#: before its commit (a test raises there to crash the run part-way).
AfterBatch = Callable[[int, UnitOfWork], None]
STAGE_PAGE = 50_000

#: The end-of-day steps whose work each batch step does (see the module docstring).
#: Only these batch steps are refused when their end-of-day steps did work for the day:
EOD_STEPS: dict[str, tuple[str, ...]] = {
    "rescore": ("refresh_scores", "reevaluate_limits"),
    "risk": ("risk_rules",),
    "bureau": ("bureau_records",),
    "portfolio": (),
}
REFUSED_AFTER_EOD = ("rescore",)


def check(step: str, engine: str) -> None:
    if step not in partition.STEPS:
        raise errors.invalid(
            "invalid_request", detail=f"unknown batch step {step!r}: one of {', '.join(partition.STEPS)}"
        )
    if engine not in engines.ENGINES:
        raise errors.invalid(
            "invalid_request", detail=f"unknown engine {engine!r}: one of {', '.join(engines.ENGINES)}"
        )


def refuse_if_done_by_eod(system: Huabei, step: str, as_of: dt.date) -> None:
    """409 ``batch_step_done_by_eod`` when the end-of-day job already did this step's work for
    ``as_of`` (see the module docstring)."""
    if step not in REFUSED_AFTER_EOD:
        return
    with system.uow(readonly=True) as uow:
        done = [name for name in EOD_STEPS[step] if _done_by_eod(uow.eod.done(as_of, name))]
    if done:
        raise errors.conflict("batch_step_done_by_eod", step=step, date=as_of.isoformat(), eod_steps=", ".join(done))


def _done_by_eod(marker: Any) -> bool:
    """The end-of-day job (not a batch run) did this step's work for the day."""
    counts = (marker.counts or {}) if marker is not None else {}
    return marker is not None and "batch_run" not in counts and not steps.idle(counts)


def _claim_eod_steps(uow: UnitOfWork, step: str, as_of: dt.date) -> None:
    """In the first transaction applying decisions (of each call, so a resumed run claims too):
    the run's end-of-day steps are marked done for ``as_of``, so the end-of-day job skips them
    from the moment the first decision is applied; if the end-of-day job did one of them
    meanwhile, 409 and this transaction applies nothing. Once committed, the markers hold: the
    job cannot do those steps any more, so later transactions need not look again."""
    now = uow.now()
    for name in EOD_STEPS[step]:
        marker = uow.eod.done(as_of, name)
        if marker is None:
            uow.eod.mark(as_of, name, {"batch_run": step}, now, now)
        elif step in REFUSED_AFTER_EOD and _done_by_eod(marker):
            raise errors.conflict("batch_step_done_by_eod", step=step, date=as_of.isoformat(), eod_steps=name)


def decide(
    system: Huabei,
    step: str,
    *,
    engine: str,
    as_of: dt.date,
    directory: Path,
    spark: SparkSession | None = None,
    partitions: int | None = None,
) -> tuple[dict[str, Any], Iterable[partition.Row]]:
    """The manifest of the snapshot in ``directory`` and the step's decisions, sorted by account."""
    check(step, engine)
    manifest = snapshot.load_manifest(directory)
    if manifest["as_of"] != as_of.isoformat():
        raise errors.invalid(
            "invalid_request", detail=f"the snapshot is as of {manifest['as_of']}, not {as_of.isoformat()}"
        )
    if step not in manifest["tables"]:
        raise errors.invalid("invalid_request", detail=f"the snapshot holds no {step!r} table")
    if engine == "local":
        return manifest, engines.decide_local(directory, step, system.terms)
    return manifest, engines.decide_spark(
        spark or engines.spark_session(partitions=partitions), directory, step, system.terms, partitions
    )


def write_jsonl(rows: Iterable[partition.Row], out: TextIO, *, step: str, as_of: dt.date) -> int:
    """The decisions as JSON lines (in the order given: by account), one object each:
    ``as_of``, ``step``, ``account_id``, ``user_id``, ``kind``, ``key`` and the ``decision``."""
    n = 0
    head = f'{{"as_of":"{as_of.isoformat()}","step":"{step}",'
    for account_id, user_id, kind, key, payload in rows:
        out.write(
            f'{head}"account_id":{int(account_id)},"user_id":{json.dumps(user_id, ensure_ascii=False)},'
            f'"kind":{json.dumps(kind)},"key":{json.dumps(key, ensure_ascii=False)},"decision":{payload}}}\n'
        )
        n += 1
    return n


def run(
    system: Huabei,
    step: str,
    *,
    engine: str = "local",
    as_of: dt.date,
    snapshot_dir: Path | None = None,
    dry_run: bool = False,
    out: Path | None = None,
    spark: SparkSession | None = None,
    partitions: int | None = None,
    after_batch: AfterBatch | None = None,
) -> dict[str, Any]:
    """Run ``step`` as of ``as_of`` (see the module docstring). Returns the report."""
    check(step, engine)
    if dry_run and out is None:
        raise errors.invalid("invalid_request", detail="--dry-run needs --out FILE")
    if step == "bureau" and as_of.day != 1:
        raise errors.invalid(
            "invalid_request", detail="the bureau records of a month are made on the first day of the next month"
        )
    t0 = time.perf_counter()
    report: dict[str, Any] = {"step": step, "as_of": as_of.isoformat(), "engine": engine}
    if not dry_run and step != "portfolio":
        with system.uow(readonly=True) as uow:
            previous = uow.batch.run(as_of, step)
        if previous is not None and previous.status == "applied":
            return {**report, "status": "done_before", "decisions": previous.decisions, "counts": {}}
        if previous is not None and previous.status == "staged":
            counts = apply(system, step, as_of, after_batch=after_batch)
            return {**report, "status": "resumed", "decisions": previous.decisions, "counts": counts}
        refuse_if_done_by_eod(system, step, as_of)
    with tempfile.TemporaryDirectory(prefix="huabei-snapshot-") as scratch:
        directory = snapshot_dir
        if directory is None:
            directory = Path(scratch) / "snapshot"
            snapshot.export(system, as_of=as_of, out=directory, steps=[step])
        manifest, rows = decide(
            system, step, engine=engine, as_of=as_of, directory=directory, spark=spark, partitions=partitions
        )
        if step == "portfolio" and not dry_run:  # figures to read, nothing to apply
            decided = list(rows)
            figures = partition.portfolio_of(decided)
            return {
                **report,
                "status": "reported",
                "decisions": len(decided),
                "figures": figures,
                "seconds": _since(t0),
            }
        if dry_run:
            assert out is not None
            with open(out, "w", encoding="utf-8") as fh:
                n = write_jsonl(rows, fh, step=step, as_of=as_of)
            return {**report, "status": "dry_run", "decisions": n, "out": str(out), "seconds": _since(t0)}
        n = stage(system, step, as_of, engine, rows, {"risk": manifest["risk"], "bureau": manifest["bureau"]})
    counts = apply(system, step, as_of, after_batch=after_batch)
    return {**report, "status": "applied", "decisions": n, "counts": counts, "seconds": _since(t0)}


def _since(t0: float) -> float:
    return round(time.perf_counter() - t0, 3)


def _units(rows: Iterable[partition.Row]) -> Iterator[tuple[int, int, partition.Row]]:
    """``(seq, unit, row)``: a unit is a line (or a user without one) — consecutive in account order."""
    unit, last = -1, None
    for seq, row in enumerate(rows):
        owner = (row[0], None) if row[0] else (0, row[1])
        if owner != last:
            unit, last = unit + 1, owner
        yield seq, unit, row


def stage(
    system: Huabei, step: str, as_of: dt.date, engine: str, rows: Iterable[partition.Row], meta: dict[str, Any]
) -> int:
    """Load the decisions into ``batch_decisions`` in one transaction (bulk: COPY / executemany,
    a page at a time) and mark the run ``staged``. Returns how many."""
    n = units = 0
    with system.uow() as uow:
        uow.batch.begin(as_of, step, engine, meta, uow.now())
        page: list[tuple[int, int, partition.Row]] = []
        for item in _units(rows):
            page.append(item)
            if len(page) >= STAGE_PAGE:
                n += _stage_page(uow, step, as_of, page)
                page = []
            units = item[1] + 1
        if page:
            n += _stage_page(uow, step, as_of, page)
        uow.batch.staged(as_of, step, n, units)
        uow.commit()
    return n


def _stage_page(uow: UnitOfWork, step: str, as_of: dt.date, page: list[tuple[int, int, partition.Row]]) -> int:
    return uow.batch.stage(
        {
            "as_of": [as_of] * len(page),
            "step": [step] * len(page),
            "seq": [s for s, _u, _r in page],
            "unit": [u for _s, u, _r in page],
            "account_id": [r[0] for _s, _u, r in page],
            "user_id": [r[1] for _s, _u, r in page],
            "kind": [r[2] for _s, _u, r in page],
            "key": [r[3] for _s, _u, r in page],
            "payload": [r[4] for _s, _u, r in page],
            "applied": [False] * len(page),
        }
    )


def apply(system: Huabei, step: str, as_of: dt.date, *, after_batch: AfterBatch | None = None) -> dict[str, int]:
    """Apply the staged decisions not applied yet, ``operations.batch_apply_units`` units per
    transaction (each with its applied marks); then mark the run ``applied``. Returns the counts."""
    size = system.terms.operations.batch_apply_units
    totals: dict[str, int] = {}
    batch = 0
    claimed = False  # the run's end-of-day steps, claimed by this call's first transaction
    while True:
        with system.uow() as uow:
            uow.as_of(as_of)
            run_row = uow.batch.run(as_of, step, for_update=True)  # concurrent appliers take turns
            if run_row is None or run_row.status == "applied":
                return totals
            first = uow.batch.first_pending_unit(as_of, step)
            if first is None:
                uow.batch.finish(as_of, step, uow.now())
                if not claimed:  # every decision was applied by an earlier call
                    _claim_eod_steps(uow, step, as_of)
                uow.commit()
                return totals
            if not claimed:  # before the first decision is applied; the claim then holds
                _claim_eod_steps(uow, step, as_of)
            last = first + size - 1
            rows = [
                (r.account_id, r.user_id, r.kind, r.key, r.payload) for r in uow.batch.pending(as_of, step, first, last)
            ]
            for k, v in _apply_rows(uow, step, as_of, rows, run_row.meta).items():
                totals[k] = totals.get(k, 0) + v
            uow.batch.mark_applied(as_of, step, first, last)
            claimed = True  # (committed below with this batch)
            batch += 1
            if after_batch is not None:
                after_batch(batch, uow)
            uow.commit()


def _apply_rows(
    uow: UnitOfWork, step: str, as_of: dt.date, rows: list[partition.Row], meta: dict[str, Any]
) -> dict[str, int]:
    """The capability's own writer over these decisions (the end-of-day steps' counts)."""
    if step == "rescore":
        rescore, review = partition.rescore_of(rows, as_of)
        return {"scored": scoring.write_rescore(uow, rescore, "scheduled"), "changed": limits.write_review(uow, review)}
    if step == "bureau":  # a line whose record of the month exists (the end-of-day step wrote it) keeps it
        records = partition.bureau_of(rows, as_of, uow.now())
        month = meta["bureau"]["month"]
        done = uow.bureau.written_for(month, [r["account_id"] for r in records])
        todo = [r for r in records if r["account_id"] not in done]
        uow.bureau.add_many(todo)
        return {"records": len(todo)}
    decisions = partition.risk_of(rows, meta["risk"], as_of)
    return {k: int(v) for k, v in risk.write(uow, decisions).items()}
