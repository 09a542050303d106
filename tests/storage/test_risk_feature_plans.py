"""Every feature's all-accounts statement is set-based in the database's own plan: on SQLite no
nested loop scans a whole table per row of another (a quadratic plan: the latest score of 15,000
lines took 197 s as ``score_id IN (subquery)`` joined to the lines by an unindexed user id, 0.3 s
as a join on ``ix_credit_accounts_user``), and on PostgreSQL no statement runs a subquery once per
row (a non-hashed ``SubPlan``) — the end-of-day cost grows with the book, not with its square."""

from __future__ import annotations

import datetime as dt
import json
from collections import defaultdict

import pytest
from sqlalchemy import event

from huabei.platform.db import make_engine
from huabei.risk import features
from huabei.risk.catalog import FEATURES

#: Tables a feature may scan inside a loop: none.
ALLOWED_NESTED_SCANS: set[str] = set()


def _sqlite_nested_scans(conn, sql: str, params) -> list[str]:
    rows = conn.exec_driver_sql("EXPLAIN QUERY PLAN " + sql, params).fetchall()
    loops: dict[int, list[str]] = defaultdict(list)
    for _id, parent, _unused, detail in rows:
        if detail.startswith(("SCAN ", "SEARCH ")):
            loops[parent].append(detail)
    bad = []
    for steps in loops.values():
        bad += [d for d in steps[1:] if d.startswith("SCAN ") and d.split()[1] not in ALLOWED_NESTED_SCANS]
    return bad


def _pg_per_row_subplans(conn, sql: str, params) -> list[str]:
    (plan,) = conn.exec_driver_sql("EXPLAIN (FORMAT JSON) " + sql, params).fetchone()
    plan = plan if isinstance(plan, list) else json.loads(plan)
    bad: list[str] = []

    def walk(node: dict) -> None:
        if node.get("Parent Relationship") == "SubPlan" and "hashed" not in node.get("Subplan Name", ""):
            bad.append(f"{node.get('Subplan Name')}: {node.get('Node Type')} {node.get('Relation Name', '')}")
        for child in node.get("Plans", []):
            walk(child)

    walk(plan[0]["Plan"])
    return bad


@pytest.mark.parametrize("accounts", [None, [1, 2]], ids=["every_line", "some_lines"])
def test_every_feature_statement_is_set_based(db_url, accounts) -> None:
    engine = make_engine(db_url)
    found: dict[str, list[str]] = {}
    try:
        with engine.connect() as conn:
            for name in sorted(FEATURES):
                seen: list[tuple[str, object]] = []

                def capture(_conn, _cursor, statement, parameters, _context, _many, seen=seen) -> None:
                    seen.append((statement, parameters))

                event.listen(engine, "before_cursor_execute", capture)
                try:
                    features.compute(conn, [name], dt.date(2026, 11, 30), accounts, known_open=True)
                finally:
                    event.remove(engine, "before_cursor_execute", capture)
                (sql, params), *_ = seen
                if conn.dialect.name == "sqlite":
                    bad = _sqlite_nested_scans(conn, sql, params)
                else:
                    bad = _pg_per_row_subplans(conn, sql, params)
                if bad:
                    found[name] = bad
    finally:
        engine.dispose()
    assert found == {}
