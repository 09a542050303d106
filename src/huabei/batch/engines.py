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

import os
import sys
import warnings
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pyarrow.parquet as pq

from huabei.batch import partition, snapshot
from huabei.config import ProductTerms

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
