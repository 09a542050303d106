"""The ``api`` fixture: the real app under a real uvicorn server, one per test.

Every API test talks HTTP over a socket to ``huabei.entrypoints.http.app.create_app(system)``,
on each database backend of the ``db_url`` fixture (SQLite and PostgreSQL). ``api`` sends an
admin key (``admin_headers``); a test of another role makes its key with ``key_for``. Nothing in
the application turns authentication off.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator

import httpx
import pytest
import uvicorn

from huabei.access import service as access
from huabei.entrypoints.http.app import create_app
from huabei.platform.unit_of_work import Huabei

STARTUP_TIMEOUT = 10.0


def key_for(system: Huabei, role: str, user_id: str | None = None) -> str:
    """A fresh API key of ``role`` (a customer's bound to ``user_id``)."""
    return access.create_key(system, role, user_id=user_id, label="test")["key"]


def auth_headers(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def admin_headers(system: Huabei) -> dict[str, str]:
    return auth_headers(key_for(system, "admin"))


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class _Server(uvicorn.Server):
    def install_signal_handlers(self) -> None:  # not the main thread: leave signals alone
        pass


def _start(app: object) -> tuple[_Server, threading.Thread, int]:
    """Start uvicorn on a free port; retry if another process grabbed the port first."""
    last_error: BaseException | None = None
    for _ in range(5):
        port = _free_port()
        config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off", access_log=False)
        server = _Server(config)
        errors: list[BaseException] = []

        def run() -> None:
            try:
                server.run()
            except BaseException as exc:
                errors.append(exc)

        thread = threading.Thread(target=run, name=f"uvicorn-{port}", daemon=True)
        thread.start()
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while not server.started and thread.is_alive() and time.monotonic() < deadline:
            time.sleep(0.01)
        if server.started:
            return server, thread, port
        server.should_exit = True
        thread.join(timeout=5)
        last_error = errors[0] if errors else TimeoutError(f"uvicorn did not start on port {port}")
    raise RuntimeError(f"could not start uvicorn: {last_error!r}")


#: Servers told to exit at the end of their test. uvicorn's graceful shutdown takes a fixed
#: 0.1-0.2 s; it finishes while the next test sets up and is joined at the end of the session.
_stopping: list[threading.Thread] = []


def _reap(block: bool) -> None:
    for thread in list(_stopping):
        if block:
            thread.join(timeout=10)
        if not thread.is_alive():
            _stopping.remove(thread)
    if block:
        assert not _stopping, f"uvicorn did not shut down: {_stopping}"


@pytest.fixture(scope="session")
def _uvicorn_reaper() -> Iterator[None]:
    yield
    _reap(block=True)


@pytest.fixture
def api(system: Huabei, _uvicorn_reaper: None) -> Iterator[httpx.Client]:
    """An ``httpx.Client`` whose base URL is a live uvicorn server running the huabei app."""
    _reap(block=len(_stopping) > 4)
    server, thread, port = _start(create_app(system))
    try:
        # plain HTTP on loopback: verify=False only skips loading the CA bundle (36 ms per client)
        with httpx.Client(
            base_url=f"http://127.0.0.1:{port}", timeout=30.0, verify=False, headers=admin_headers(system)
        ) as client:
            yield client
    finally:
        # the client is closed and every response received: nothing is in flight any more
        server.should_exit = True
        _stopping.append(thread)
