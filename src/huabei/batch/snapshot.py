"""The point-in-time snapshot of the book for the batch steps, as Parquet (``huabei snapshot export``).

``export(system, as_of=D, out=DIR)`` writes, for each batch step, what the end-of-day job for
``D`` reads for it, through the capabilities' own set-based readers (no second copy of a query):

``DIR/rescore/part-NNNNN.parquet``
    one row per user: :func:`huabei.scoring.service.read_rescore` (the facts, the previous
    score) and :func:`huabei.limits.service.read_review` (the open line's ages), a page of users
    at a time (``operations.batch_page_rows``, keyset pages in user-id order);
``DIR/risk/part-NNNNN.parquet``
    one row per open line: :func:`huabei.risk.evaluation.read` (the features the policies
    read, what their rules hold open), a page of lines at a time (line-id order);
``DIR/bureau/part-NNNNN.parquet``
    one row per line reported to the credit bureau for the month before the as-of date's:
    ``BureauRepository.month_inputs`` (the same joins as the end-of-day step's
    ``INSERT … SELECT``), a page of lines at a time;
``DIR/portfolio/part-NNNNN.parquet``
    one row per user: the latest score and the user's lines (status inputs, limit, use,
    delinquency bucket, active restrictions' causes): ``portfolio.queries.book_rows``;
``DIR/backtest/part-NNNNN.parquet`` (``export_backtest``, for ``risk backtest --engine spark``)
    one row per line: its history over the backtest's days as JSON (its features day by day as
    of the day before, what the live rules held on it before the first day, what happened to it
    between the daily runs), a page of lines at a time (line-id order); the manifest holds the
    policy's text, the configuration and the days;
``DIR/manifest.json``
    the as-of date, the row and file counts, and what every partition shares: the risk
    policies' texts (live, then shadow) and the configuration values their conditions read; the
    bureau month and the last bill closing its accruals count from.

Everything is read in one read-only transaction (a consistent snapshot on PostgreSQL and on
SQLite in WAL mode) and each page is written and dropped before the next is read, so memory is
bounded by one page whatever the size of the book. Row layouts: :mod:`huabei.batch.partition`.

The alternative, Spark reading the tables straight from PostgreSQL over JDBC
(``spark.read.jdbc(url, table, column="account_id", lowerBound, upperBound, numPartitions)``),
would need every reader's aggregation written again in Spark SQL — a third copy of the
queries — and holds one long transaction per partition on the database; docs/scaling.md says
when it is still worth it.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from huabei import errors
from huabei.batch import partition
from huabei.billing import bureau
from huabei.billing.positions import last_close_date
from huabei.limits import service as limits
from huabei.platform.unit_of_work import Huabei, UnitOfWork
from huabei.portfolio import queries as portfolio
from huabei.risk import catalog, features
from huabei.risk import evaluation as risk
from huabei.risk.policy import Policy
from huabei.risk.service import active_policy, shadow_policy
from huabei.scoring import service as scoring

FORMAT = 1
MANIFEST = "manifest.json"


def _pages(fetch: Callable[[int, Any], list[Any]], size: int) -> Iterator[list[Any]]:
    """Keyset pages of ids: ``fetch(limit, after)`` returns the next ids in order."""
    after = None
    while True:
        ids = fetch(size, after)
        if not ids:
            return
        yield ids
        after = ids[-1]


def _user_ids(uow: UnitOfWork) -> Callable[[int, Any], list[Any]]:
    return lambda limit, after: [r.user_id for r in uow.users.page(limit, after)]


def _rescore_pages(uow: UnitOfWork, day: dt.date, size: int) -> Iterator[Any]:
    for ids in _pages(_user_ids(uow), size):
        snap = scoring.read_rescore(uow, day, user_ids=ids)
        pop = snap.population
        review = limits.read_review(uow, day, population=pop, user_ids=ids, scores=np.zeros(len(pop), dtype=np.int64))
        yield partition.rescore_table(snap, review)


def _risk_pages(uow: UnitOfWork, day: dt.date, size: int, names: Sequence[str]) -> Iterator[Any]:
    for ids in _pages(uow.accounts.ids_from, size):
        snap = risk.read(uow, day, accounts=ids)
        if snap.values:
            yield partition.risk_table(snap, names)


def _bureau_pages(uow: UnitOfWork, month: str, day: dt.date, since: dt.date | None, size: int) -> Iterator[Any]:
    for ids in _pages(uow.accounts.ids_from, size):
        rows = uow.bureau.month_inputs(month=month, as_of=day, since=since, accounts=ids)
        if rows:
            yield partition.bureau_table(rows)


def _portfolio_pages(uow: UnitOfWork, size: int) -> Iterator[Any]:
    for ids in _pages(_user_ids(uow), size):
        lines, causes = portfolio.book_rows(uow, ids)
        scores = {r[0]: int(r[1]) for r in uow.scores.latest_points(ids) if r[1] is not None}
        yield partition.portfolio_table(ids, scores, lines, causes)


def bureau_month(day: dt.date) -> str:
    """The month whose records the bureau step makes on ``day``: the month before ``day``'s."""
    return (day.replace(day=1) - dt.timedelta(days=1)).strftime("%Y-%m")


def risk_manifest(uow: UnitOfWork, day: dt.date) -> dict[str, Any]:
    """What every partition of the risk step shares: the policies' texts and the configuration."""
    live, shadow = active_policy(uow), shadow_policy(uow)
    policies = [(risk.LIVE, live)] + ([(risk.SHADOW, shadow)] if shadow else [])
    return {
        "policies": [[mode, p.path, p.source] for mode, p in policies],
        "cfg": dict(catalog.config_values(uow.terms)),
        "features": sorted({f for _m, p in policies for f in p.features()}),
    }


def export(system: Huabei, *, as_of: dt.date, out: Path, steps: Sequence[str] = partition.STEPS) -> dict[str, Any]:
    """Write the snapshot of ``steps`` as of ``as_of`` under ``out`` (see the module docstring);
    returns the manifest."""
    unknown = [s for s in steps if s not in partition.STEPS]
    if unknown:
        raise errors.invalid("invalid_request", detail=f"unknown batch step {unknown[0]!r}")
    out = Path(out)
    if out.exists() and any(out.iterdir()):
        raise errors.invalid("invalid_request", detail=f"{out} is not empty")
    size = system.terms.operations.batch_page_rows
    manifest: dict[str, Any] = {"format": FORMAT, "as_of": as_of.isoformat(), "tables": {}}
    with system.uow(readonly=True) as uow:
        today = uow.today()
        if as_of > today:
            raise errors.invalid(
                "invalid_request", detail=f"--as-of {as_of.isoformat()} is after the business date {today.isoformat()}"
            )
        uow.as_of(as_of)
        shared = risk_manifest(uow, as_of)
        manifest["risk"] = {k: v for k, v in shared.items() if k != "features"}
        since = last_close_date(uow)
        month = bureau_month(as_of)
        manifest["bureau"] = {
            "month": month,
            "since": since.isoformat() if since else None,
            "format_version": bureau.FORMAT_VERSION,
        }
        for step in steps:
            if step == "rescore":
                pages = _rescore_pages(uow, as_of, size)
            elif step == "risk":
                pages = _risk_pages(uow, as_of, size, shared["features"])
            elif step == "bureau":
                pages = _bureau_pages(uow, month, as_of, since, size)
            else:
                pages = _portfolio_pages(uow, size)
            manifest["tables"][step] = _write(out / step, pages)
    (out / MANIFEST).write_text(json.dumps(manifest, ensure_ascii=False, indent=1, sort_keys=True), encoding="utf-8")
    return manifest


def _write(directory: Path, pages: Iterator[Any]) -> dict[str, int]:
    directory.mkdir(parents=True, exist_ok=True)
    files = rows = 0
    for table in pages:
        pq.write_table(table, directory / f"part-{files:05d}.parquet", compression="zstd")
        files += 1
        rows += table.num_rows
    return {"files": files, "rows": rows}


def export_backtest(uow: UnitOfWork, start: dt.date, end: dt.date, policy: Policy, out: Path) -> dict[str, Any]:
    """Write what ``risk backtest`` of ``policy`` from ``start`` to ``end`` reads (the rows of
    :func:`huabei.risk.backtest.gather`, line by line) under ``out`` in ``uow``'s transaction, a
    page of lines at a time; returns the manifest."""
    out = Path(out)
    if out.exists() and any(out.iterdir()):
        raise errors.invalid("invalid_request", detail=f"{out} is not empty")
    days = [start + dt.timedelta(days=i) for i in range((end - start).days + 1)]
    names = policy.features()
    between: dict[int, list[list[str]]] = {}
    for r in uow.risk_decisions.listing(mode=risk.LIVE, start=start - dt.timedelta(days=1), end=end):
        if r.run != "daily":
            applies = (r.business_date + dt.timedelta(days=1)).isoformat()
            between.setdefault(r.account_id, []).append([applies, r.rule_id, r.action, r.business_date.isoformat()])

    def pages() -> Iterator[Any]:
        for ids in _pages(uow.accounts.ids_from, uow.terms.operations.batch_page_rows):
            values = {d.isoformat(): features.compute(uow.conn, names, risk.as_of(d), ids) for d in days}
            held: dict[int, list[list[str]]] = {}
            for a, rule, placed, last in uow.risk_decisions.held(risk.LIVE, before=start, account_ids=ids):
                held.setdefault(a, []).append([rule, placed.isoformat(), last.isoformat()])
            rows = []
            for a in ids:
                mine = {d: v[a] for d, v in values.items() if a in v}
                if mine or a in held or a in between:
                    history = {"values": mine, "held": held.get(a, []), "between": between.get(a, [])}
                    rows.append((a, json.dumps(history, sort_keys=True)))
            if rows:
                yield pa.table(
                    {
                        "account_id": pa.array([a for a, _h in rows], pa.int64()),
                        "history": pa.array([h for _a, h in rows], pa.string()),
                    }
                )

    manifest: dict[str, Any] = {
        "format": FORMAT,
        "as_of": end.isoformat(),
        "backtest": {
            "policy": [policy.path, policy.source],
            "cfg": dict(catalog.config_values(uow.terms)),
            "days": [d.isoformat() for d in days],
        },
    }
    manifest["tables"] = {"backtest": _write(out / "backtest", pages())}
    (out / MANIFEST).write_text(json.dumps(manifest, ensure_ascii=False, indent=1, sort_keys=True), encoding="utf-8")
    return manifest


def load_manifest(directory: Path) -> dict[str, Any]:
    path = Path(directory) / MANIFEST
    if not path.is_file():
        raise errors.invalid("invalid_request", detail=f"{directory} holds no snapshot ({MANIFEST} missing)")
    manifest: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    if manifest.get("format") != FORMAT:
        raise errors.invalid("invalid_request", detail=f"snapshot format {manifest.get('format')!r} is not {FORMAT}")
    return manifest


def files(directory: Path, step: str) -> list[Path]:
    """The Parquet files of ``step`` in the snapshot, in the order they were written."""
    return sorted((Path(directory) / step).glob("part-*.parquet"))
