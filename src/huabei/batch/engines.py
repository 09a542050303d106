"""The two engines of ``batch run``: the same partition function over the same Parquet snapshot.

``local``
    in this process: every Parquet file of the step, record batch by record batch, through
    :func:`huabei.batch.partition.decide_batch`, then sorted by account.
``spark``
    Apache Spark (``pyspark``): the snapshot read as a DataFrame, repartitioned by the step's key
    (:data:`~huabei.batch.partition.PARTITION_KEY`: a user or a line, so one account's rows are
    always decided together), each partition's Arrow batches handed to the same
    :func:`~huabei.batch.partition.decide_batch` by ``mapInArrow``, the decisions sorted by
    account and streamed back to the driver (``toLocalIterator``: one partition at a time).

Neither holds a rule of its own: the rules are the capabilities' pure ``decide`` functions.
The Spark session is built by :func:`spark_session` (``local[N]`` here, ``spark-submit
--master …`` on a cluster; docs/scaling.md has the settings that matter).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import sys
import tempfile
import warnings
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pyarrow.parquet as pq

from huabei.batch import partition, snapshot
from huabei.config import ProductTerms
from huabei.platform.unit_of_work import UnitOfWork
from huabei.risk import backtest
from huabei.risk.evaluation import Open
from huabei.risk.policy import Policy

if TYPE_CHECKING:  # pragma: no cover
    from pyspark.sql import SparkSession

ENGINES = ("local", "spark")
DECISION_DDL = "account_id long, user_id string, kind string, key string, payload string"


def decide_local(directory: Path, step: str, terms: ProductTerms) -> list[partition.Row]:
    """The step's decisions over the snapshot in ``directory``, in this process, sorted by account."""
    manifest = snapshot.load_manifest(directory)
    rows: list[partition.Row] = []
    for path in snapshot.files(directory, step):
        for batch in pq.ParquetFile(path).iter_batches():
            rows += partition.decide_batch(step, batch, manifest, terms)
    rows.sort(key=partition.sort_key)
    return rows


def spark_session(
    master: str | None = None, *, partitions: int | None = None, conf: Mapping[str, str] | None = None
) -> SparkSession:
    """A Spark session for the batch jobs: quiet, no UI, Arrow on; Python workers run this
    interpreter. ``master`` None keeps what ``spark-submit --master`` set (else ``local[*]``)."""
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    warnings.filterwarnings("ignore", message="PySpark does not yet fully support pandas")
    from pyspark.sql import SparkSession

    builder = SparkSession.builder.appName("huabei-batch")
    if master is not None:
        builder = builder.master(master)
    settings = {
        "spark.ui.enabled": "false",
        "spark.ui.showConsoleProgress": "false",
        "spark.log.level": "ERROR",
        "spark.sql.execution.arrow.useLargeVarTypes": "false",
        "spark.sql.session.timeZone": "UTC",
        **({"spark.sql.shuffle.partitions": str(partitions)} if partitions else {}),
        **(conf or {}),
    }
    for key, value in settings.items():
        builder = builder.config(key, value)
    session = builder.getOrCreate()
    session.sparkContext.setLogLevel("ERROR")
    return session


def decide_spark(
    spark: SparkSession, directory: Path, step: str, terms: ProductTerms, partitions: int | None = None
) -> Iterator[partition.Row]:
    """The step's decisions over the snapshot in ``directory`` on Spark, sorted by account, streamed."""
    manifest = snapshot.load_manifest(directory)
    if not snapshot.files(directory, step):
        return iter(())

    def decide(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        for batch in batches:
            rows = partition.decide_batch(step, batch, manifest, terms)
            if rows:
                yield partition.rows_batch(rows)

    frame: Any = spark.read.parquet(str(Path(directory).resolve() / step))
    n = partitions or int(spark.conf.get("spark.sql.shuffle.partitions") or 2)
    out = (
        frame.repartition(n, partition.PARTITION_KEY[step])
        .mapInArrow(decide, DECISION_DDL)
        .orderBy("account_id", "user_id", "kind", "key")
    )
    return ((r[0], r[1], r[2], r[3], r[4]) for r in out.toLocalIterator())


BACKTEST_DDL = "day string, account_id long, rule_id string, action string"


def backtest_spark(spark: SparkSession, partitions: int | None = None) -> backtest.Replayer:
    """``risk backtest`` on Spark, the same design as the batch steps: the backtest's rows (each
    line's features day by day, what the live rules held on it before the first day, what
    happened to it between the daily runs) are written as Parquet by
    :func:`huabei.batch.snapshot.export_backtest` (a page of lines at a time, in the backtest's
    transaction) to a scratch directory, and :func:`replay_spark` reads them back."""

    def run(uow: UnitOfWork, start: dt.date, end: dt.date, policy: Policy) -> set[backtest.Key]:
        with tempfile.TemporaryDirectory(prefix="huabei-backtest-") as tmp:
            snapshot.export_backtest(uow, start, end, policy, Path(tmp))
            return replay_spark(spark, Path(tmp), uow.terms, partitions)

    return run


def replay_spark(
    spark: SparkSession, directory: Path, terms: ProductTerms, partitions: int | None = None
) -> set[backtest.Key]:
    """The backtest written by :func:`~huabei.batch.snapshot.export_backtest` in ``directory``,
    read by ``spark.read.parquet``, repartitioned by account, each partition replayed by the very
    :func:`huabei.risk.backtest.replay` the in-process engine runs over the whole book (a line's
    decisions depend on its own rows only). The decisions come back to the driver."""
    shared = snapshot.load_manifest(directory)["backtest"]
    if not snapshot.files(directory, "backtest"):
        return set()
    path, source = shared["policy"]
    cfg = tuple(sorted((k, int(v)) for k, v in shared["cfg"].items()))
    days = list(shared["days"])

    def replay(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        policy = partition._policy(source, path, cfg)
        for batch in batches:
            keys = sorted(backtest.replay(_inputs(policy, dict(cfg), days, batch), terms))
            if keys:
                yield pa.RecordBatch.from_pylist(
                    [{"day": d, "account_id": a, "rule_id": r, "action": x} for d, a, r, x in keys]
                )

    frame: Any = spark.read.parquet(str(Path(directory).resolve() / "backtest"))
    n = partitions or int(spark.conf.get("spark.sql.shuffle.partitions") or 2)
    out = frame.repartition(n, "account_id").select("account_id", "history").mapInArrow(replay, BACKTEST_DDL)
    return {(r[0], r[1], r[2], r[3]) for r in out.toLocalIterator()}


def _inputs(policy: Any, cfg: dict[str, int], days: list[str], batch: pa.RecordBatch) -> backtest.Inputs:
    """The lines of one partition as :class:`~huabei.risk.backtest.Inputs` (the rows of
    :func:`~huabei.batch.snapshot.export_backtest` read back)."""
    date = dt.date.fromisoformat
    values: dict[dt.date, dict[int, dict[str, Any]]] = {}
    held: dict[int, list[Open]] = {}
    between: dict[int, list[tuple[dt.date, str, str, dt.date]]] = {}
    for a, text in zip(batch.column(0).to_pylist(), batch.column(1).to_pylist()):
        h = json.loads(text)
        for day, v in h["values"].items():
            values.setdefault(date(day), {})[a] = v
        held[a] = [Open(a, r, date(p), date(s)) for r, p, s in h["held"]]
        between[a] = [(date(x), r, act, date(on)) for x, r, act, on in h["between"]]
    return backtest.Inputs(policy, cfg, tuple(date(d) for d in days), values, held, between)
