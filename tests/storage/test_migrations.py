"""Alembic is the only way the schema is made, and it makes exactly what tables.py says."""

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from huabei.platform import migrate
from huabei.platform.db import make_engine
from huabei.platform.schema import metadata


@pytest.mark.smoke
def test_migrated_schema_matches_the_table_definitions(db_url):
    eng = make_engine(db_url, pool_size=1)
    with eng.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), metadata)
    eng.dispose()
    assert diff == []


def test_downgrade_and_upgrade_again(db_url):
    migrate.downgrade(db_url, "base")
    eng = make_engine(db_url, pool_size=1)
    assert set(inspect(eng).get_table_names()) <= {"alembic_version"}
    migrate.upgrade(db_url)
    assert {t.name for t in metadata.sorted_tables} <= set(inspect(eng).get_table_names())
    assert migrate.current(db_url) is not None
    eng.dispose()


def test_sqlite_runs_in_wal_mode(tmp_path):
    url = f"sqlite:///{tmp_path / 'w.db'}"
    migrate.upgrade(url)
    eng = make_engine(url, pool_size=1)
    with eng.connect() as c:
        assert c.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
    eng.dispose()
