"""Test fixtures: every storage test runs on SQLite and on PostgreSQL.

PostgreSQL is expected at 127.0.0.1:5432 (trust auth, user ``postgres``, database
``test``; override with ``HUABEI_TEST_PG_URL``). Each pytest run creates its own
scratch database there, migrates it once with Alembic and truncates it before every
test. Under CI (``CI=true``) a missing PostgreSQL fails the PostgreSQL tests;
elsewhere they are skipped and the summary says so loudly.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, text

from huabei.config import ProductTerms
from huabei.platform import migrate
from huabei.platform.db import make_engine
from huabei.platform.schema import metadata
from huabei.platform.unit_of_work import ClockMode, Huabei

#: The server secret API keys are stored under (huabei.access.service.server_secret); a fixed one
#: for tests, so nothing writes a huabei.secret file into the tree.
os.environ.setdefault("HUABEI_SECRET", "test-secret-" + "0" * 40)

PG_ADMIN_URL = os.environ.get("HUABEI_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
START_DATE = dt.date(2026, 11, 2)

_pg_state: dict[str, object] = {"checked": False, "error": None, "skipped": 0}


def _pg_error() -> str | None:
    if not _pg_state["checked"]:
        _pg_state["checked"] = True
        try:
            eng = make_engine(PG_ADMIN_URL, pool_size=1)
            with eng.connect() as c:
                c.execute(text("SELECT 1"))
            eng.dispose()
        except Exception as exc:
            _pg_state["error"] = f"{type(exc).__name__}: {exc}".splitlines()[0]
    return _pg_state["error"]  # type: ignore[return-value]


def require_postgres() -> None:
    err = _pg_error()
    if err:
        if IN_CI:
            pytest.fail(f"PostgreSQL is required under CI and is not reachable: {err}")
        _pg_state["skipped"] = int(_pg_state["skipped"]) + 1  # type: ignore[arg-type]
        pytest.skip(f"PostgreSQL not reachable ({err})")


def pytest_terminal_summary(terminalreporter, exitstatus, config):  # type: ignore[no-untyped-def]
    if _pg_state["skipped"]:
        tr = terminalreporter
        tr.section("PostgreSQL NOT TESTED", sep="!", red=True, bold=True)
        tr.write_line(
            f"!!! {_pg_state['skipped']} PostgreSQL test(s) were SKIPPED: {_pg_state['error']}", red=True, bold=True
        )
        tr.write_line(
            "!!! Start it with: pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start",
            red=True,
            bold=True,
        )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Every test under tests/unit tests pure rules (``make test-fast`` selects them by this mark)."""
    unit = Path(__file__).parent / "unit"
    for item in items:
        if unit in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.pure)


# --- scratch databases ----------------------------------------------------------


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.db"
    url = f"sqlite:///{path}"
    eng = make_engine(url, pool_size=1)
    migrate.upgrade(url, engine=eng)
    eng.dispose()  # the last connection to close checkpoints and removes the WAL file
    return path


@pytest.fixture(scope="session")
def pg_database() -> Iterator[str]:
    require_postgres()
    name = f"huabei_test_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    admin = make_engine(PG_ADMIN_URL, pool_size=1).execution_options(isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.exec_driver_sql(f'CREATE DATABASE "{name}"')
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name
    migrate.upgrade(url)
    yield url
    with admin.connect() as c:
        c.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.dispose()


_TABLES = [t.name for t in reversed(metadata.sorted_tables)]


def _truncate(engine: Engine) -> None:
    with engine.begin() as c:
        c.exec_driver_sql("TRUNCATE " + ", ".join(_TABLES) + " RESTART IDENTITY CASCADE")


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A freshly migrated, empty database URL on each backend."""
    if request.param == "sqlite":
        template = request.getfixturevalue("sqlite_template")
        path = tmp_path / "huabei.db"
        shutil.copyfile(template, path)
        return f"sqlite:///{path}"
    url = request.getfixturevalue("pg_database")
    eng = make_engine(url, pool_size=1)
    _truncate(eng)
    eng.dispose()
    return url


def make_system(url: str, terms: ProductTerms | None = None, start: dt.date = START_DATE) -> Huabei:
    system = Huabei(engine=make_engine(url), terms=terms or ProductTerms(), clock_mode=ClockMode.SIMULATED)
    from huabei.platform import admin

    admin.set_business_date(system, start, allow_backwards=True)
    return system


@pytest.fixture
def system(db_url: str) -> Iterator[Huabei]:
    s = make_system(db_url)
    yield s
    s.engine.dispose()


@pytest.fixture
def backend(db_url: str) -> str:
    return "sqlite" if db_url.startswith("sqlite") else "postgresql"


# --- small builders shared by tests ---------------------------------------------

_counter = {"n": 0}


def new_account(system: Huabei, base_limit: int = 100_000, user_id: str | None = None) -> int:
    """Register a verified user and open a credit line; returns the account id."""
    from huabei.lines import service as accounts
    from huabei.onboarding import service as onboarding

    _counter["n"] += 1
    uid = user_id or f"user-{_counter['n']}"
    accounts.register_user(system, user_id=uid, name="测试用户", phone="13800000000", real_name_verified=True)
    return onboarding.open_account(system, user_id=uid, base_limit=base_limit)["account_id"]


def buy(
    system: Huabei,
    account_id: int,
    amount: int,
    key: str | None = None,
    category: str = "retail",
    merchant: str = "m-1",
    device: str | None = None,
):
    from huabei.lines.purchase_rules import Channel, PurchaseRequest
    from huabei.payments import service as purchases

    _counter["n"] += 1
    return purchases.authorise_purchase(
        system,
        PurchaseRequest(account_id, amount, merchant, category, Channel.ONLINE, device_id=device),
        key or f"buy-{_counter['n']}",
    )


def plain_consoles(monkeypatch: pytest.MonkeyPatch, *modules: Any) -> None:
    """No colours and a wide console for the CLI (``huabei.entrypoints.cli.common``'s consoles, and the
    names a command module imported them under), so output can be parsed."""
    from rich.console import Console

    from huabei.entrypoints.cli import common as cli_common

    out = Console(width=200, color_system=None, highlight=False)
    err = Console(stderr=True, width=200, color_system=None, highlight=False)
    for module in (cli_common, *modules):
        for name, console in (("console", out), ("err_console", err)):
            if hasattr(module, name):
                monkeypatch.setattr(module, name, console)


# --- Apache Spark (the batch engine), one local session for the whole run -----------------------


@pytest.fixture(scope="session")
def spark() -> Iterator[Any]:
    """A local Spark session (two cores, two shuffle partitions, no UI, quiet), started once:
    starting one costs tens of seconds on a shared machine."""
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    from huabei.batch.engines import spark_session

    session = spark_session("local[2]", partitions=2, conf={"spark.default.parallelism": "2"})
    yield session
    session.stop()
