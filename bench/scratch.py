"""Scratch PostgreSQL databases for the benchmarks: one home for making, naming and dropping them.

Every benchmark that runs on PostgreSQL makes its own database on the local server (dropped and
created again at the start, so a crashed run leaves nothing that the next one trips over) and
drops it at the end unless asked to keep it. ``admin_url`` is any existing database on that
server (``postgresql://postgres@127.0.0.1:5432/test`` by default, ``$HUABEI_BENCH_PG_URL``)."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from sqlalchemy import make_url

from huabei.platform import migrate
from huabei.platform.db import database_url, make_engine

#: The server and an existing database to connect to while making and dropping the scratch ones.
ADMIN_URL = os.environ.get("HUABEI_BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")


def url_for(admin_url: str, dbname: str) -> str:
    """The URL of database ``dbname`` on ``admin_url``'s server (driver and credentials kept)."""
    return make_url(database_url(admin_url)).set(database=dbname).render_as_string(hide_password=False)


def recreate(admin_url: str, dbname: str) -> str:
    """Drop ``dbname`` if it exists (its sessions closed), create it empty, return its URL."""
    _autocommit(admin_url, f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)', f'CREATE DATABASE "{dbname}"')
    return url_for(admin_url, dbname)


def drop(admin_url: str, dbname: str) -> None:
    """Drop ``dbname`` if it exists, closing its sessions."""
    _autocommit(admin_url, f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)')


def _autocommit(admin_url: str, *statements: str) -> None:
    eng = make_engine(admin_url, pool_size=1)
    try:
        with eng.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
            for s in statements:
                c.exec_driver_sql(s)
    finally:
        eng.dispose()


def make(backend: str, name: str, admin_url: str = ADMIN_URL) -> str:
    """A new empty, migrated database for a run: the PostgreSQL database ``name`` on
    ``admin_url``'s server (recreated), or a SQLite file in a new temporary directory."""
    if backend == "sqlite":
        url = f"sqlite:///{Path(tempfile.mkdtemp(prefix=f'{name}-')) / 'bench.db'}"
    else:
        url = recreate(admin_url, name)
    migrate.upgrade(url)
    return url


def discard(backend: str, url: str, admin_url: str = ADMIN_URL) -> None:
    """Remove what :func:`make` made."""
    if backend == "sqlite":
        shutil.rmtree(Path(make_url(url).database or "").parent, ignore_errors=True)
    else:
        drop(admin_url, make_url(url).database or "")
