"""Where a simulation runs: the configured database, or a throwaway one next to it.

A run needs an empty, migrated database (its invariants and report cover the whole book).
:func:`scratch_database` makes one on the same server as a configured URL — a temporary
SQLite file, or a fresh PostgreSQL database ``<name>_sim_<tag>`` created with the server's
``CREATE DATABASE`` — migrates it with Alembic, and drops it afterwards unless asked to keep
it. ``--compare`` runs every policy on its own scratch database.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import make_url

from huabei.platform import migrate
from huabei.platform.db import database_url, make_engine


def prepare(url: str) -> str:
    """Migrate the database at ``url`` to the newest schema (idempotent); returns the URL."""
    url = database_url(url)
    migrate.upgrade(url)
    return url


@contextmanager
def scratch_database(url: str | None, tag: str, *, keep: bool = False) -> Iterator[str]:
    """A fresh migrated database on the server of ``url`` (the configured one if None)."""
    base = make_url(database_url(url))
    safe = re.sub(r"[^a-z0-9_]", "_", tag.lower())[:40]
    if base.get_backend_name() == "sqlite":
        folder = Path(tempfile.mkdtemp(prefix="huabei-sim-"))
        path = folder / f"{safe}.db"
        scratch = f"sqlite:///{path}"
        try:
            migrate.upgrade(scratch)
            yield scratch
        finally:
            if not keep:
                shutil.rmtree(folder, ignore_errors=True)
        return
    name = f"{(base.database or 'huabei')[:20]}_sim_{safe}_{os.getpid()}"
    admin_url = base  # CREATE / DROP DATABASE run from a connection to the configured database
    admin = make_engine(admin_url.render_as_string(hide_password=False), pool_size=1).execution_options(
        isolation_level="AUTOCOMMIT"
    )
    try:
        with admin.connect() as c:
            c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            c.execute(text(f'CREATE DATABASE "{name}"'))
        scratch = base.set(database=name).render_as_string(hide_password=False)
        try:
            migrate.upgrade(scratch)
            yield scratch
        finally:
            if not keep:
                with admin.connect() as c:
                    c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()
