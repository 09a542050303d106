"""SQL helpers shared by every capability's repositories: streamed set-based reads, plain-tuple
fetches, bulk inserts (``executemany`` on SQLite, ``COPY`` on PostgreSQL), bounded IN lists."""

from __future__ import annotations

import heapq
import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from itertools import groupby
from typing import Any

from sqlalchemy import JSON, BigInteger, Connection, Table, bindparam, cast, func, insert, select, true
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.sql import Executable

STREAM_CHUNK = 5_000

#: The widest account id range (``account_id`` is a signed 64-bit integer on both databases).
_LOWEST, _HIGHEST = -(2**63), 2**63 - 1


@dataclass(frozen=True)
class AccountRange:
    """The lines ``first ≤ account_id ≤ last``: the part of the book an end-of-day step runs
    over when the job isolates a record it fails on (``huabei.batch.eod``). ``None`` where a
    range is taken means the whole book."""

    first: int = _LOWEST
    last: int = _HIGHEST

    @classmethod
    def of(cls, first: int | None, last: int | None) -> AccountRange:
        return cls(_LOWEST if first is None else first, _HIGHEST if last is None else last)

    @classmethod
    def one(cls, account_id: int) -> AccountRange:
        return cls(account_id, account_id)


def in_range(column: Any, accounts: AccountRange | None) -> Any:
    """``column BETWEEN first AND last`` (TRUE for the whole book)."""
    return true() if accounts is None else column.between(accounts.first, accounts.last)


def isum(x: Any) -> Any:
    """SUM of fen as BIGINT on both databases (PostgreSQL's SUM(bigint) is NUMERIC)."""
    return cast(func.sum(x), BigInteger)


def stream(conn: Connection, stmt: Executable, params: dict[str, Any] | None = None) -> Iterable[Any]:
    """Rows of a set-based read: a server-side cursor on PostgreSQL, a list on SQLite."""
    if conn.dialect.name == "postgresql":
        return conn.execute(stmt, params or {}, execution_options={"stream_results": True, "yield_per": STREAM_CHUNK})
    return conn.execute(stmt, params or {}).all()


def rows_in(conn: Connection, table: Any, column: Any, ids: Sequence[int], *order_by: Any) -> list[Any]:
    """``SELECT table WHERE column IN ids ORDER BY …`` (no query for no ids)."""
    if not ids:
        return []
    return list(conn.execute(select(table).where(column.in_(list(ids))).order_by(*order_by)))


def in_chunks(ids: Iterable[int], size: int = 1000) -> Iterator[list[int]]:
    """``ids`` in lists of at most ``size`` (IN lists of bounded length)."""
    ids = list(ids)
    for i in range(0, len(ids), size):
        yield ids[i : i + size]


def merge_by_account(streams: dict[str, Iterable[Any]]) -> Iterator[tuple[int, dict[str, list[Any]]]]:
    """Merge streams ordered by ``account_id`` into ``(account_id, {name: rows})`` groups."""
    names = list(streams)

    def tagged(i: int, rows: Iterable[Any]) -> Iterator[tuple[int, int, int, Any]]:
        for seq, r in enumerate(rows):
            yield r.account_id, i, seq, r

    merged = heapq.merge(*(tagged(i, streams[n]) for i, n in enumerate(names)))
    for account_id, group in groupby(merged, key=lambda x: x[0]):
        buckets: dict[str, list[Any]] = {n: [] for n in names}
        for _, i, _, r in group:
            buckets[names[i]].append(r)
        yield account_id, buckets


def fetch_rows(conn: Connection, stmt: Any, params: dict[str, Any] | None = None) -> list[tuple[Any, ...]]:
    """Run a SELECT (SQLAlchemy binds the parameters) and fetch the DBAPI cursor's plain
    tuples — no row objects, no result processing: about half the cost on a million rows.
    The batch readers use it; values come as the driver gives them (on SQLite dates are
    ISO strings and booleans 0 / 1), parsed column-wise by the callers."""
    result = conn.execute(stmt, params or {})
    try:
        return result.cursor.fetchall()
    finally:
        result.close()


def bulk_insert(conn: Connection, table: Table, columns: dict[str, list[Any]]) -> int:
    """Insert many rows given column by column, in the connection's transaction, without
    per-row statement processing: ``executemany`` on the SQLite cursor, ``COPY`` on
    PostgreSQL. JSON values are serialised with :func:`json.dumps` (as SQLAlchemy does);
    on SQLite, other values go through their column type's bind processor (dates in
    SQLAlchemy's storage format), computed once per distinct value. Returns the row count."""
    names = list(columns)
    n = len(columns[names[0]]) if names else 0
    if n == 0:
        return 0
    sqlite = conn.dialect.name == "sqlite"
    lists: list[list[Any]] = []
    for name in names:
        values = columns[name]
        if len(values) != n:
            raise ValueError(f"bulk_insert: column {name} has {len(values)} values, expected {n}")
        col_type = table.c[name].type
        if isinstance(col_type, JSON):
            dumped: dict[int, str] = {}  # the same object (a shared reasons list) is serialised once
            values = [
                None if v is None else dumped[id(v)] if id(v) in dumped else dumped.setdefault(id(v), json.dumps(v))
                for v in values
            ]
        elif sqlite:
            proc = col_type.bind_processor(conn.dialect)
            if proc is not None:
                cache: dict[Any, Any] = {}
                values = [
                    None if v is None else cache[v] if v in cache else cache.setdefault(v, proc(v)) for v in values
                ]
        lists.append(values)
    raw = conn.connection.driver_connection
    cols = ", ".join(names)
    if sqlite:
        cur = raw.cursor()
        try:
            cur.executemany(f"INSERT INTO {table.name} ({cols}) VALUES ({', '.join('?' * len(names))})", zip(*lists))
        finally:
            cur.close()
    else:
        with raw.cursor() as cur, cur.copy(f"COPY {table.name} ({cols}) FROM STDIN") as copy:
            for row in zip(*lists):
                copy.write_row(row)
    return n


def add_returning_id(conn: Connection, table: Table, values: dict[str, Any]) -> int:
    """Insert one row and return its generated primary key."""
    (key,) = table.primary_key.columns
    return conn.execute(insert(table).values(**values).returning(key)).scalar_one()


def get_by_id(conn: Connection, table: Table, row_id: int) -> Any:
    """The row of ``table`` with primary key ``row_id``, or None."""
    (key,) = table.primary_key.columns
    return conn.execute(select(table).where(key == row_id)).first()


def bulk_rows(conn: Connection, table: Table, rows: list[dict[str, Any]]) -> None:
    """:func:`bulk_insert` of row dicts (all with the same keys)."""
    if rows:
        keys = list(rows[0])
        bulk_insert(conn, table, {k: [r[k] for r in rows] for k in keys})


def for_users(column: Any, filtered: bool) -> Any:
    """The user filter of a cached batch statement: ``IN :user_ids`` (an expanding bind) or none.

    Batch readers cache one statement per shape (``filtered`` or not) and bind the ids with
    :func:`user_params`, so a whole-book read and a read for some users share their SQL."""
    return column.in_(bindparam("user_ids", expanding=True)) if filtered else true()


def user_params(user_ids: Sequence[str] | None, **values: Any) -> dict[str, Any]:
    """The parameters of a statement filtered by :func:`for_users`: ``values`` plus the ids, if any."""
    if user_ids is not None:
        values["user_ids"] = list(user_ids)
    return values


_INSERT_IDS: dict[tuple[str, tuple[str, ...]], Any] = {}


def insert_ids(conn: Connection, table: Table, rows: Sequence[dict[str, Any]]) -> list[int]:
    """Insert ``rows`` (all with the same keys) in one statement and return their ids (the
    table's single-column primary key) in the order given. PostgreSQL: the columns as arrays,
    ``INSERT … SELECT … FROM unnest(…) WITH ORDINALITY ORDER BY ordinality`` — one statement text
    whatever the number of rows, so it is compiled, converted and planned once, not spelled out
    parameter by parameter — and the ids, drawn from the sequence in that order, sorted (as
    SQLAlchemy's own ordered ``insertmanyvalues`` does). SQLite: ``insertmanyvalues`` with
    ``sort_by_parameter_order``."""
    if not rows:
        return []
    (pk,) = table.primary_key.columns
    keys = tuple(rows[0])
    if conn.dialect.name != "postgresql":
        return [r[0] for r in conn.execute(insert(table).returning(pk, sort_by_parameter_order=True), list(rows))]
    stmt = _INSERT_IDS.get((table.name, keys))
    if stmt is None:
        u = (
            func.unnest(*[bindparam(f"u_{k}", type_=ARRAY(table.c[k].type)) for k in keys])
            .table_valued(*keys, with_ordinality="u_ord")
            .render_derived(name="u")
        )
        stmt = _INSERT_IDS[(table.name, keys)] = (
            insert(table).from_select(list(keys), select(*[u.c[k] for k in keys]).order_by(u.c.u_ord)).returning(pk)
        )
    ids = sorted(r[0] for r in conn.execute(stmt, {f"u_{k}": [r[k] for r in rows] for k in keys}))
    if len(ids) != len(rows):
        raise RuntimeError(f"inserted {len(ids)} rows of {len(rows)} into {table.name}")
    return ids
