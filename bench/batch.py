"""Batch-engine benchmark: the rescoring and limit review of N synthetic users, decided in process
and on Apache Spark (local mode) over the same Parquet snapshot, in the same run.

A program, not a test::

    .venv/bin/python bench/batch.py [--users 1000000] [--template 120] [--cores 2] \
        [--file-rows 250000] [--keep DIR] [--json FILE]

1. **Template** — ``--template`` users live one simulated month through the service layer
   (``huabei.simulation``, a scratch SQLite database): registration, host facts, the opening
   decision, purchases, bills, repayments, the month's end-of-day jobs. Its snapshot is exported
   with ``huabei.batch.snapshot.export`` (the real readers): real rows, every column the
   rescoring and the review read.
2. **Synthetic book** — ``--users`` rows drawn from the template's rows at random (seeded), each
   given its own user id and line id, a random base limit and use within the template's range
   and ±20 % on the activity counts, written as Parquet files of ``--file-rows`` rows: the
   snapshot a book of that size would export (the export itself is not timed here; its cost is
   the readers', measured by bench/rescore.py).
3. **In process** — ``engines``' local path without the final sort: every Parquet record batch
   through ``partition.decide_batch`` (scoring.decide_rescore, then limits.decide_review), one
   core.
4. **Spark** — ``local[--cores]``: the same files read as a DataFrame, repartitioned by user
   into ``2 × cores`` partitions, ``mapInArrow`` over the same ``decide_batch``, the decisions
   counted (``count()`` forces every partition; nothing is collected). The session start is
   timed apart.

It prints wall seconds, decision rows, users per second, users per second per core, the ratio
Spark / in process, and the load average before and after each phase (on a shared machine read
the numbers with the load). Nothing here is a pass/fail test; the numbers go to
docs/performance.md ("Batch engines") and the extrapolation to docs/scaling.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
os.environ.setdefault("HUABEI_SECRET", "bench-secret-" + "0" * 40)

from huabei.batch import engines, partition, snapshot
from huabei.config import ProductTerms
from huabei.platform import migrate
from huabei.platform.db import make_engine
from huabei.platform.unit_of_work import ClockMode, Huabei
from huabei.simulation import RunSpec, Simulator

#: every line may be reviewed (the review's full cost, not the seasoning's shortcut)
TERMS = ProductTerms(limits={"review_seasoning_days": 0, "review_cooldown_days": 0})
ACTIVITY = (
    "fact__payments_90d",
    "fact__active_days_90d",
    "fact__merchant_categories_90d",
    "fact__utility_payments_12m",
)


def load() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def template(users: int, directory: Path) -> tuple[pa.Table, dict[str, Any]]:
    """A month of ``users`` simulated users, exported: the rescore table and the manifest."""
    url = f"sqlite:///{directory / 'template.db'}"
    migrate.upgrade(url)
    system = Huabei(engine=make_engine(url), terms=TERMS, clock_mode=ClockMode.SIMULATED)
    try:
        Simulator(system, RunSpec(users=users, months=1, seed=7, start=dt.date(2026, 10, 28))).run()
        with system.uow(readonly=True) as uow:
            day = uow.today()
        manifest = snapshot.export(system, as_of=day, out=directory / "template", steps=["rescore"])
    finally:
        system.engine.dispose()
    return pq.read_table(directory / "template" / "rescore"), manifest


def synthesize(base: pa.Table, n: int, out: Path, file_rows: int, seed: int = 1) -> None:
    """``n`` rows drawn from ``base`` with their own ids and jittered amounts, in Parquet files."""
    rng = np.random.default_rng(seed)
    out.mkdir(parents=True)
    has_line = pc.greater(base.column("account_id"), 0).to_numpy(zero_copy_only=False)
    limits = base.column("base_limit").to_numpy(zero_copy_only=False)[has_line]
    lo, hi = (int(limits.min()), int(limits.max())) if limits.size else (100_000, 3_000_000)
    for k, start in enumerate(range(0, n, file_rows)):
        m = min(file_rows, n - start)
        pick = rng.integers(0, base.num_rows, m)
        t = base.take(pa.array(pick))
        ids = np.arange(start, start + m)
        line = has_line[pick]
        cols = {name: t.column(name) for name in t.column_names}
        cols["user_id"] = pa.array([f"u{i:010d}" for i in ids.tolist()], type=pa.string())
        cols["account_id"] = pa.array(np.where(line, ids + 1, 0), type=pa.int64())
        base_limit = np.where(line, rng.integers(lo, hi + 1, m) // 100 * 100, 0)
        cols["base_limit"] = pa.array(base_limit, type=pa.int64())
        cols["used"] = pa.array((base_limit * rng.random(m)).astype(np.int64), type=pa.int64())
        for name in ACTIVITY:
            if name in cols:
                col = cols[name]
                values = pc.fill_null(col, 0).to_numpy(zero_copy_only=False).astype(np.float64)
                jitter = np.rint(values * rng.uniform(0.8, 1.2, m)).astype(np.int64)
                cols[name] = pa.array(jitter, mask=col.is_null().to_numpy(zero_copy_only=False), type=pa.int64())
        pq.write_table(pa.table(cols), out / f"part-{k:05d}.parquet", compression="zstd")


def in_process(directory: Path, manifest: dict[str, Any]) -> int:
    rows = 0
    for path in snapshot.files(directory, "rescore"):
        for batch in pq.ParquetFile(path).iter_batches():
            rows += len(partition.decide_batch("rescore", batch, manifest, TERMS))
    return rows


def on_spark(spark: Any, directory: Path, manifest: dict[str, Any], partitions: int, limit: int | None = None) -> int:
    terms = TERMS

    def decide(batches: Any) -> Any:
        for batch in batches:
            rows = partition.decide_batch("rescore", batch, manifest, terms)
            if rows:
                yield partition.rows_batch(rows)

    frame = spark.read.parquet(str(directory / "rescore"))
    if limit is not None:
        frame = frame.limit(limit)
    return int(frame.repartition(partitions, "user_id").mapInArrow(decide, engines.DECISION_DDL).count())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--users", type=int, default=1_000_000)
    ap.add_argument("--template", type=int, default=120)
    ap.add_argument("--cores", type=int, default=os.cpu_count() or 2)
    ap.add_argument("--file-rows", type=int, default=250_000)
    ap.add_argument("--keep", type=Path, default=None, help="Keep the synthetic snapshot in this directory")
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args()
    scratch = Path(tempfile.mkdtemp(prefix="huabei-bench-batch-"))
    result: dict[str, Any] = {
        "users": args.users,
        "cores": args.cores,
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
    }
    try:
        t0 = time.monotonic()
        base, manifest = template(args.template, scratch)
        result["template"] = {"users": base.num_rows, "seconds": round(time.monotonic() - t0, 1)}
        book = scratch / "book"
        t0 = time.monotonic()
        synthesize(base, args.users, book / "rescore", args.file_rows)
        (book / snapshot.MANIFEST).write_text(json.dumps(manifest), encoding="utf-8")
        result["synthesize_seconds"] = round(time.monotonic() - t0, 1)
        print(f"template {base.num_rows} users; synthetic book of {args.users} users", flush=True)

        before = load()
        t0 = time.monotonic()
        local_rows = in_process(book, manifest)
        local_s = time.monotonic() - t0
        result["in_process"] = {
            "seconds": round(local_s, 2),
            "decisions": local_rows,
            "users_per_second": round(args.users / local_s),
            "users_per_second_per_core": round(args.users / local_s),
            "load": [before, load()],
        }
        print(f"in process: {local_s:.1f} s, {args.users / local_s:,.0f} users/s (load {before})", flush=True)

        before = load()
        t0 = time.monotonic()
        spark = engines.spark_session(f"local[{args.cores}]", partitions=2 * args.cores)
        start_s = time.monotonic() - t0
        try:
            on_spark(spark, book, manifest, 2 * args.cores, limit=20_000)  # warm-up: JIT, Python workers
            before_run = load()
            t0 = time.monotonic()
            spark_rows = on_spark(spark, book, manifest, 2 * args.cores)
            spark_s = time.monotonic() - t0
        finally:
            spark.stop()
        result["spark"] = {
            "session_start_seconds": round(start_s, 1),
            "seconds": round(spark_s, 2),
            "decisions": spark_rows,
            "users_per_second": round(args.users / spark_s),
            "users_per_second_per_core": round(args.users / spark_s / args.cores),
            "load": [before, before_run, load()],
        }
        print(
            f"spark local[{args.cores}]: {spark_s:.1f} s, {args.users / spark_s:,.0f} users/s "
            f"(session start {start_s:.1f} s; load {before_run})",
            flush=True,
        )
        assert spark_rows == local_rows, (spark_rows, local_rows)
        result["ratio_spark_over_in_process"] = round(local_s / spark_s, 2)
        print(f"Spark / in process (throughput): {local_s / spark_s:.2f}x", flush=True)
        if args.keep:
            shutil.copytree(book, args.keep)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    print(json.dumps(result, indent=1))
    if args.json:
        args.json.write_text(json.dumps(result, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
