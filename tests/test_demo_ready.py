"""A newcomer's ``make demo``: ``huabei serve`` says where to go once the server answers (the page
in Chinese and English, /docs), and our packaging declares its licence in the form setuptools no
longer warns about (an SPDX string, setuptools ≥ 77)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import tomllib
from pathlib import Path


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _serve_until_announced(db_url: str, port: int) -> str:
    """Start ``huabei serve`` on ``db_url`` and return what it printed up to its announcement."""
    env = {**os.environ, "HUABEI_DATABASE_URL": db_url}
    proc = subprocess.Popen(
        [sys.executable, "-m", "huabei.entrypoints.cli.main", "serve", "--port", str(port)],
        env=env,
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
    )
    lines: list[str] = []
    try:
        deadline = time.monotonic() + 90
        assert proc.stderr is not None
        while time.monotonic() < deadline:
            line = proc.stderr.readline()
            if not line:
                break
            lines.append(line)
            if "/docs" in line or "start it again" in line:
                break
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    return "".join(lines)


def test_serve_prints_the_links_once_it_is_ready(db_url: str) -> None:
    port = _free_port()
    text = _serve_until_announced(db_url, port)
    base = f"http://127.0.0.1:{port}"
    assert "huabei is ready" in text, text
    assert f"{base}/?lang=zh" in text and f"{base}/?lang=en" in text and f"{base}/docs" in text
    # printed after uvicorn listens, not before
    assert text.index("Uvicorn running") < text.index("huabei is ready")


def test_serve_on_an_unmigrated_database_says_so_instead_of_ready(tmp_path: Path) -> None:
    """A newcomer who points ``serve`` at a database that was never migrated is told what is wrong
    and what to run, not that huabei is ready."""
    port = _free_port()
    text = _serve_until_announced(f"sqlite:///{tmp_path / 'never-migrated.db'}", port)
    assert "huabei is ready" not in text, text
    assert f"huabei answers on http://127.0.0.1:{port}, but it cannot serve yet" in text, text
    assert "huabei db upgrade" in text


def test_the_licence_is_declared_without_a_deprecated_table() -> None:
    project = tomllib.loads((Path(__file__).parent.parent / "pyproject.toml").read_text(encoding="utf-8"))
    assert isinstance(project["project"]["license"], str)  # SPDX expression, not {text = …}
    requires = project["build-system"]["requires"]
    assert any(
        r.replace(" ", "").startswith("setuptools>=") and int(r.split(">=")[1].split(".")[0]) >= 77 for r in requires
    )
