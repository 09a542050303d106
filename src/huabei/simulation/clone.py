"""Clone a simulated book set-based, for benchmarks that need millions of lines.

Driving a million users through the service layer for months takes days; the benchmarks
(``bench/eod.py``, ``bench/rescore.py``) instead simulate a *template* of a few hundred users
with :func:`huabei.simulation.load_book` and copy it ``copies`` times inside the database::

    INSERT INTO t (…) SELECT <id> + g.c * stride, user_id || '-c' || g.c, … FROM t CROSS JOIN <1..copies> g

Every table holding a user's or a line's data is copied (users, facts, contacts, activity,
scores, lines, purchases and declines, refunds, repayments, the journal, limit changes and
raise applications, campaign enrolments, restrictions, bills and everything under them,
delinquency, bureau records, domain events); the clock, the end-of-day markers and the
idempotency keys are global and are not. In clone ``c`` every integer id (``*_id``) is the
template's plus ``c × stride`` (``stride`` a power of ten above every id of the template) and
every user id (``user_id``, ``contact_user_id``) gets the suffix ``-c<c>``, so each clone's
books are exactly as consistent as the template's (the ledger check holds on the result).
Ids inside JSON payloads (domain events, reasons) are not rewritten. Sequences are moved past
the clones. PostgreSQL skips the per-row foreign-key triggers while copying (rows that are
consistent by construction; needs a superuser) and ``VACUUM ANALYZE``\\ s afterwards; SQLite
numbers the copies with a recursive CTE.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from sqlalchemy import BigInteger, Engine, Integer, text

from huabei.platform import schema as t

#: Global tables: never copied.
NOT_COPIED = frozenset({"business_clock", "eod_days", "eod_runs", "idempotency_keys"})
USER_COLUMNS = frozenset({"user_id", "contact_user_id"})


@dataclass
class CloneReport:
    copies: int
    stride: int
    seconds: dict[str, float] = field(default_factory=dict)

    @property
    def total_seconds(self) -> float:
        return sum(self.seconds.values())


#: The journal and the bills' detail: what a benchmark that never reads them (rescoring) may
#: leave uncopied with ``skip=LEDGER_DETAIL`` — most of the rows of a book, so most of the
#: copying time; the ledger check then no longer holds on the clones.
LEDGER_DETAIL = frozenset({"journal_entries", "postings", "bill_lines", "bill_accruals", "bill_allocations"})


def _tables(skip: frozenset[str] = frozenset()) -> list:
    return [tb for tb in t.metadata.sorted_tables if tb.name not in NOT_COPIED and tb.name not in skip]


def _id_columns(table) -> list[str]:
    return [c.name for c in table.c if isinstance(c.type, (Integer, BigInteger)) and c.name.endswith("_id")]


def template_stride(engine: Engine) -> int:
    """The smallest power of ten above every integer id of the book."""
    top = 0
    with engine.connect() as c:
        for table in _tables():
            cols = _id_columns(table)
            if not cols:
                continue
            row = c.execute(text("SELECT " + ", ".join(f"max({col})" for col in cols) + f" FROM {table.name}")).one()
            top = max([top, *(int(v) for v in row if v is not None)])
    stride = 10
    while stride <= top:
        stride *= 10
    return stride


def clone_book(
    engine: Engine, copies: int, *, stride: int | None = None, skip: frozenset[str] = frozenset()
) -> CloneReport:
    """Copy every user's and line's rows ``copies`` times (see the module docstring); the
    tables in ``skip`` (e.g. :data:`LEDGER_DETAIL`) are left as they are."""
    stride = stride or template_stride(engine)
    report = CloneReport(copies=copies, stride=stride)
    if copies < 1:
        return report
    pg = engine.dialect.name == "postgresql"
    series = f"generate_series(1, {copies}) AS g(c)" if pg else "g"
    cte = "" if pg else f"WITH RECURSIVE g(c) AS (SELECT 1 UNION ALL SELECT c + 1 FROM g WHERE c < {copies}) "
    for table in _tables(frozenset(skip)):
        ids = set(_id_columns(table))
        cols = [c.name for c in table.c]
        exprs = []
        for name in cols:
            if name in ids:
                exprs.append(f"{name} + g.c * {stride}")
            elif name in USER_COLUMNS:
                exprs.append(f"{name} || '-c' || g.c")
            else:
                exprs.append(name)
        t0 = time.perf_counter()
        with engine.begin() as c:
            if pg:
                c.exec_driver_sql("SET LOCAL session_replication_role = replica")
            c.exec_driver_sql(
                f"{cte}INSERT INTO {table.name} ({', '.join(cols)}) SELECT {', '.join(exprs)} "
                f"FROM {table.name} CROSS JOIN {series}"
            )
            pk = list(table.primary_key.columns)
            if pg and len(pk) == 1 and pk[0].name in ids:  # move the id sequence past the clones
                seq = c.exec_driver_sql(
                    "SELECT pg_get_serial_sequence(%(t)s, %(c)s)", {"t": table.name, "c": pk[0].name}
                ).scalar()
                if seq:
                    c.exec_driver_sql(f"SELECT setval('{seq}', (SELECT max({pk[0].name}) FROM {table.name}))")
        report.seconds[table.name] = time.perf_counter() - t0
    t0 = time.perf_counter()
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
        c.exec_driver_sql("VACUUM ANALYZE" if pg else "ANALYZE")
    report.seconds["analyze"] = time.perf_counter() - t0
    return report
