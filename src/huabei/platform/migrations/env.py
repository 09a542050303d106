"""Alembic environment for huabei (online migrations only)."""

from __future__ import annotations

from alembic import context

from huabei.platform.db import make_engine
from huabei.platform.schema import metadata

config = context.config
target_metadata = metadata


def run_migrations_online() -> None:
    given = config.attributes.get("engine")
    engine = given or make_engine(config.get_main_option("sqlalchemy.url"), pool_size=1)
    try:
        _run(engine)
    finally:
        if given is None:
            engine.dispose()


def _run(engine) -> None:  # type: ignore[no-untyped-def]
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=connection.dialect.name == "sqlite",
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():
    raise SystemExit("huabei runs migrations online only: huabei db upgrade")
run_migrations_online()
