"""The migration chain is linear, and a database made by main before it was (0001 -> {0002, 0003}
-> the empty merge 0004) upgrades through it without losing a row, on SQLite and PostgreSQL.

The old migration files are a frozen copy (tests/storage/migrations_a590b8d, from commit a590b8d).
The database is filled through the service layer by a short simulation (users, lines, purchases,
refunds, repayments, bills, installments, delinquency, scores, facts, limit changes, end-of-day
runs; run at the head of the chain, then downgraded to 0004 so the code of today can fill it),
every table is read, the new chain is applied, and every table must read the same.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, inspect, text

from huabei.platform import migrate
from huabei.platform.db import make_engine
from huabei.platform.schema import metadata
from huabei.platform.unit_of_work import ClockMode, Huabei
from huabei.simulation import RunSpec, Simulator
from huabei.simulation.profiles import PopulationConfig

FROZEN = Path(__file__).parent / "migrations_a590b8d"


def _script() -> ScriptDirectory:
    return ScriptDirectory.from_config(migrate.alembic_config("sqlite://"))


def test_the_chain_is_linear_with_exactly_one_head() -> None:
    script = _script()
    assert len(script.get_heads()) == 1, f"several heads {script.get_heads()}: point down_revision at main's head"
    revisions = list(script.walk_revisions())
    for rev in revisions:
        assert not isinstance(rev.down_revision, (tuple, list)), f"{rev.revision} merges {rev.down_revision}"
        assert not rev.is_branch_point, f"{rev.revision} has several children {rev.nextrev}"
    assert [r.revision for r in reversed(revisions)][:4] == ["0001_core", "0002_billing", "0003_scoring", "0004_merge"]


def _empty(db_url: str) -> None:
    """The ``db_url`` fixture's database, emptied of every table (alembic's own included)."""
    migrate.downgrade(db_url, "base")
    eng = make_engine(db_url, pool_size=1)
    with eng.begin() as c:
        c.execute(text("DROP TABLE IF EXISTS alembic_version"))
    assert inspect(eng).get_table_names() == []
    eng.dispose()


def _upgrade_with_the_old_files(engine: Engine) -> None:
    cfg = Config()
    cfg.set_main_option("script_location", str(FROZEN))
    cfg.attributes["engine"] = engine
    command.upgrade(cfg, "heads")


def _contents(engine: Engine, tables: dict[str, list[str]] | None = None) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of ``tables`` ({table: columns}; default: the database's tables and columns as
    they stand), so the same columns are compared after migrations that add tables or columns."""
    insp = inspect(engine)
    if tables is None:
        tables = {n: [c["name"] for c in insp.get_columns(n)] for n in insp.get_table_names()}
    out: dict[str, list[tuple[Any, ...]]] = {}
    with engine.connect() as c:
        for name in sorted(tables):
            cols = ", ".join(tables[name])
            rows = c.execute(text(f"SELECT {cols} FROM {name}")).all()
            out[name] = sorted((tuple(r) for r in rows), key=repr)
    return out


def _columns(engine: Engine) -> dict[str, list[str]]:
    insp = inspect(engine)
    return {n: [c["name"] for c in insp.get_columns(n)] for n in insp.get_table_names()}


def test_a_database_made_by_the_old_branched_chain_upgrades_without_loss(db_url: str) -> None:
    _empty(db_url)
    engine = make_engine(db_url, pool_size=1)
    _upgrade_with_the_old_files(engine)
    with engine.connect() as c:
        assert c.execute(text("SELECT version_num FROM alembic_version")).scalars().all() == ["0004_merge"]

    # the code of today needs the schema of today: fill the database at the head of the chain,
    # then take it back to 0004_merge (what later revisions added goes; the rows of the tables the
    # old chain made stay), so the old chain's tables hold a lived book
    migrate.upgrade(db_url)
    system = Huabei(engine=make_engine(db_url), clock_mode=ClockMode.SIMULATED)
    spec = RunSpec(users=12, months=1, seed=3, start=dt.date(2026, 10, 25))
    report = Simulator(system, spec, PopulationConfig(activity_percent=80)).run()
    system.engine.dispose()
    assert report["checks"]["violations"] == 0
    migrate.downgrade(db_url, "0004_merge")
    with engine.connect() as c:
        assert c.execute(text("SELECT version_num FROM alembic_version")).scalars().all() == ["0004_merge"]
    old_tables = {name: cols for name, cols in _columns(engine).items() if name != "alembic_version"}
    before = _contents(engine, old_tables)
    filled = {name for name, rows in before.items() if rows}
    for must in (
        "users",
        "credit_accounts",
        "purchases",
        "repayments",
        "postings",
        "bills",
        "bill_lines",
        "credit_scores",
        "user_facts",
        "limit_changes",
        "eod_days",
        "domain_events",
    ):
        assert must in filled, f"the old database has no {must} rows to carry over"

    migrate.upgrade(db_url)  # the new, linear chain

    assert migrate.current(db_url) == _script().get_current_head()
    assert _contents(engine, old_tables) == before
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), metadata)
    assert diff == []
    engine.dispose()
