"""Alembic, driven from code: ``huabei db upgrade`` and the test fixtures call these."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine

from huabei.platform.db import database_url

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config(url: str | None = None, engine: Engine | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", database_url(url).replace("%", "%%"))
    if engine is not None:
        cfg.attributes["engine"] = engine
    return cfg


def upgrade(url: str | None = None, revision: str = "heads", engine: Engine | None = None) -> None:
    command.upgrade(alembic_config(url, engine), revision)


def downgrade(url: str | None = None, revision: str = "base", engine: Engine | None = None) -> None:
    command.downgrade(alembic_config(url, engine), revision)


def current(url: str | None = None, engine: Engine | None = None) -> str | None:
    """The database's revision(s), comma-separated when several branches are applied."""
    from alembic.runtime.migration import MigrationContext

    from huabei.platform.db import make_engine

    eng = engine or make_engine(url, pool_size=1)
    try:
        with eng.connect() as conn:
            heads = MigrationContext.configure(conn).get_current_heads()
    finally:
        if engine is None:
            eng.dispose()
    return ",".join(sorted(heads)) or None


def head() -> str:
    """The newest revision of the chain (what the code needs)."""
    from alembic.script import ScriptDirectory

    return ",".join(sorted(ScriptDirectory.from_config(alembic_config("sqlite://")).get_heads()))


def pending(url: str | None = None, engine: Engine | None = None) -> tuple[str | None, str] | None:
    """``(the database's revision, the chain's head)`` when the database is not migrated to the
    head (``None`` for an empty one), else ``None``. An unreachable database raises."""
    now, want = current(url, engine), head()
    return None if now == want else (now, want)
