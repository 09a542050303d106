"""Authorisation benchmark: how many purchases per second huabei approves, and how fast.

A program, not a test::

    .venv/bin/python bench/authorize.py [--clients 1,8,16] [--seconds 8] \
        [--backends sqlite,postgresql] [--modes inproc,http] [--accounts 1000] [--json FILE]

For every backend it creates a scratch database (a temporary SQLite file; the
PostgreSQL database ``huabei_bench``, dropped and recreated), migrates it with
``huabei.platform.migrate.upgrade``, seeds users and accounts with large limits, and
then, for every mode and client count, runs N client threads for ``--seconds``
(after a short warm-up) that each pick a random account and authorise a purchase
under a fresh idempotency key:

* ``inproc``: N threads in this process calling ``authorise_purchase`` directly;
* ``http``: uvicorn serving ``create_app(system)`` on 127.0.0.1 in a *subprocess*
  (this same file with ``--serve``; ``--server-workers`` uvicorn workers, default one, access
  log off; httptools and uvloop when they are installed, as uvicorn picks them) and N
  client threads here, each with its own keep-alive ``httpx.Client``, POSTing to
  ``/v1/accounts/{id}/purchases`` with an ``Idempotency-Key`` header.

A single-hot-account run (all clients on one account) follows for each backend and
mode. On the same PostgreSQL it runs ``pgbench -i -s S`` in its own scratch database
``huabei_pgbench`` (initialised in the run), with the scale S at least the largest client
count (pgbench's guidance: at scale 1 the one ``pgbench_branches`` row serialises every
client, which halves the baseline at 8 clients and flatters every ratio), and, for every
client count just before our PostgreSQL cells of that count, ``pgbench -b tpcb-like -c N
-j N -T T``; it reports our PostgreSQL throughput as a ratio of pgbench's against the
targets (in-process >= 0.6x, HTTP >= 0.3x, p99 < 20 ms at 8 clients, one hot account
>= 0.15x). Each cell also reports CPU milliseconds
per approval (this process, the uvicorn subprocess, the PostgreSQL backends, the
whole box, from /proc) and the load average: on a shared machine, read the numbers
together with the load.

Afterwards it checks the books (``ledger_check(system).ok``), that no account's
approved purchases exceed its limit, that the purchases stored equal the approvals
the clients counted, and (a small race) that N clients hammering a 500-yuan line
get exactly 500 yuan approved. Every loop is time- or count-bounded; all traffic
goes to 127.0.0.1; scratch databases are dropped at the end (``--keep`` keeps them).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import random
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import event, func, select, text
from sqlalchemy.engine import make_url

import scratch
from huabei.batch import books
from huabei.config import ProductTerms, default_terms
from huabei.errors import ErrorKind, HuabeiError
from huabei.lines.purchase_rules import Channel, PurchaseRequest
from huabei.lines.rules import LimitChange
from huabei.payments.service import authorise_purchase, authorise_purchases
from huabei.platform import admin, migrate
from huabei.platform import schema as t
from huabei.platform.db import database_url, make_engine
from huabei.platform.idempotency import SET_BASED_STATS
from huabei.platform.unit_of_work import Huabei

#: The scratch databases (``$HUABEI_BENCH_DB``: another name, so that two runs on one server do
#: not drop each other's; the pgbench one is that name with ``_pgbench``).
BENCH_DB = os.environ.get("HUABEI_BENCH_DB", "huabei_bench")
PGBENCH_DB = os.environ.get("HUABEI_BENCH_DB", "huabei") + "_pgbench"
START_DATE = dt.date(2026, 11, 2)
BASE_LIMIT = 5_000_000  # 50,000 yuan (the product maximum)
TEMP_LIMIT = 5_000_000  # + 50,000 yuan temporary limit, valid 90 days
AMOUNT_RANGE = (100, 999)  # fen: 1.00 .. 9.99 yuan per purchase
CATEGORIES = ("retail", "dining", "groceries", "transport", "digital_goods")
TARGET_INPROC = 0.6
TARGET_HTTP = 0.3
TARGET_BATCH = 1.0  # the gateway's batch route (purchases per second)
TARGET_HOT = 0.15  # one hot account, either mode, against pgbench at the same client count
TARGET_P99_MS = 20.0
TARGET_P99_CLIENTS = 8
RACE_LIMIT = 50_000  # 500 yuan, the smallest base limit
RACE_AMOUNT = 100  # 1 yuan
RACE_ATTEMPTS = 640
PROBE_N = 200


# --- results ------------------------------------------------------------------------


@dataclass
class Cell:
    backend: str
    mode: str
    clients: int
    workload: str  # "random" (uniform over many accounts) or "hot" (one account)
    seconds: float
    approved: int = 0
    declined: int = 0
    errors: int = 0
    tps: float = 0.0
    p50_ms: float = 0.0
    p99_ms: float = 0.0
    max_ms: float = 0.0
    first_error: str | None = None
    load1: float | None = None  # 1-minute load average at the end of the cell (other work on the box)
    #: CPU milliseconds per approval during the measured window, by process group: "bench"
    #: (this process: the in-process service, or the HTTP clients), "uvicorn", "postgres"
    #: (the backends connected to the scratch database) and "box" (every CPU of the machine).
    cpu_ms: dict[str, float] = field(default_factory=dict)
    pgbench_tps: float | None = None
    ratio: float | None = None
    target_ratio: float | None = None
    ratio_ok: bool | None = None
    p99_ok: bool | None = None


@dataclass
class PgbenchRun:
    clients: int
    tps: float
    p50_ms: float | None
    p99_ms: float | None
    load1: float | None = None


@dataclass
class Checks:
    backend: str
    ledger_ok: bool = False
    ledger_findings: list[str] = field(default_factory=list)
    over_limit_accounts: int = -1
    purchases_stored: int = -1
    approvals_counted: int = -1
    race_approved_fen: int = -1
    race_declined: int = -1
    race_ok: bool = False

    @property
    def ok(self) -> bool:
        return (
            self.ledger_ok
            and self.over_limit_accounts == 0
            and self.race_ok
            and self.purchases_stored == self.approvals_counted
        )


# --- environment ---------------------------------------------------------------------


def machine_info(pg_admin_url: str | None) -> dict[str, Any]:
    info: dict[str, Any] = {
        "nproc": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(),
    }
    try:
        with open("/proc/meminfo") as f:
            kb = int(next(line for line in f if line.startswith("MemTotal")).split()[1])
        info["memory_gib"] = round(kb / 1024 / 1024, 1)
    except (OSError, StopIteration, ValueError):
        pass
    try:
        with open("/proc/cpuinfo") as f:
            info["cpu"] = next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    import sqlite3

    import fastapi
    import psycopg
    import sqlalchemy
    import uvicorn

    info["versions"] = {
        "sqlalchemy": sqlalchemy.__version__,
        "psycopg": psycopg.__version__,
        "libpq": psycopg.pq.version(),
        "fastapi": fastapi.__version__,
        "uvicorn": uvicorn.__version__,
        "sqlite": sqlite3.sqlite_version,
    }
    try:
        import httptools  # noqa: F401

        info["uvicorn_http"] = "httptools"
    except ImportError:
        info["uvicorn_http"] = "h11 (httptools not installed)"
    try:
        import uvloop  # noqa: F401

        info["uvicorn_loop"] = "uvloop"
    except ImportError:
        info["uvicorn_loop"] = "asyncio (uvloop not installed)"
    if pg_admin_url:
        try:
            eng = make_engine(pg_admin_url, pool_size=1)
            with eng.connect() as c:
                info["postgresql"] = c.execute(text("SHOW server_version")).scalar()
                info["pg_settings"] = dict(
                    c.execute(
                        text(
                            "SELECT name, setting FROM pg_settings WHERE name IN "
                            "('fsync','synchronous_commit','shared_buffers','wal_sync_method','max_connections')"
                        )
                    ).all()
                )
            eng.dispose()
        except Exception as exc:
            info["postgresql"] = f"unavailable: {exc}".splitlines()[0]
    return info


def seed(system: Huabei, n_accounts: int, n_reserved: int) -> tuple[list[int], list[int], int]:
    """Users and open accounts with base 50,000 + temporary 50,000 yuan, written through
    the repositories (the same rows ``register_user``/``open_account``/``grant_temporary_limit``
    write, batched in one transaction so seeding stays fast). Returns (random-pool ids,
    reserved hot-account ids, the race account id with a 500-yuan line)."""
    admin.set_business_date(system, START_DATE, allow_backwards=True)
    expires = START_DATE + dt.timedelta(days=90)
    ids: list[int] = []
    with system.uow() as uow:
        today, now = uow.today(), uow.now()
        total = n_accounts + n_reserved + 1
        for i in range(total):
            uid = f"bench-user-{i:06d}"
            race = i == total - 1
            base = RACE_LIMIT if race else BASE_LIMIT
            temp = 0 if race else TEMP_LIMIT
            uow.users.add(
                user_id=uid,
                name=f"Bench {i}",
                phone=f"138{i:08d}",
                real_name_verified=True,
                profile={},
                created_on=today,
                created_at=now,
            )
            aid = uow.accounts.add(
                user_id=uid,
                state="open",
                base_limit=base,
                temporary_limit=temp,
                temporary_limit_expires_on=expires if temp else None,
                used=0,
                credit_balance=0,
                due_day=uow.terms.billing.default_due_day,
                opened_on=today,
                created_at=now,
            )
            changes = [LimitChange(aid, "base", 0, base, ("account_opened",), "bench", "bench")]
            if temp:
                changes.append(
                    LimitChange(aid, "temporary", 0, temp, ("temporary_limit_granted",), "bench", "bench", expires)
                )
            uow.limit_changes.record(changes, today, now, announce=False)
            ids.append(aid)
        uow.commit()
    return ids[:n_accounts], ids[n_accounts : n_accounts + n_reserved], ids[-1]


# --- CPU accounting -----------------------------------------------------------------------

CLK_TCK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def proc_cpu_seconds(pid: int) -> float:
    """utime + stime of one process (all its threads), 0 if it is gone."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / CLK_TCK
    except (OSError, IndexError, ValueError):
        return 0.0


def child_pids(pid: int) -> list[int]:
    """The processes whose parent is ``pid`` (uvicorn's workers)."""
    out = []
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                stat = (d / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                out.append(int(d.name))
    return out


def box_cpu_seconds() -> float:
    """Busy CPU seconds of the whole machine (all cores, every process), from /proc/stat."""
    try:
        with open("/proc/stat") as f:
            v = [int(x) for x in f.readline().split()[1:]]
        return (sum(v[:8]) - v[3] - v[4]) / CLK_TCK  # minus idle and iowait
    except (OSError, ValueError, IndexError):
        return 0.0


def make_cpu_probe(
    server_pid: int | None, pg_admin_url: str | None, pg_db: str | None
) -> Callable[[], dict[str, float]]:
    eng = make_engine(pg_admin_url, pool_size=1) if pg_admin_url and pg_db else None

    def probe() -> dict[str, float]:
        out = {"bench": time.process_time(), "box": box_cpu_seconds()}
        if server_pid is not None:  # the server and its worker processes, if any
            out["uvicorn"] = sum(proc_cpu_seconds(p) for p in [server_pid, *child_pids(server_pid)])
        if eng is not None:
            with eng.connect() as c:
                pids = (
                    c.execute(text("SELECT pid FROM pg_stat_activity WHERE datname = :d"), {"d": pg_db}).scalars().all()
                )
            out["postgres"] = sum(proc_cpu_seconds(p) for p in pids)
        return out

    return probe


# --- load generation ----------------------------------------------------------------------

#: (account_id, amount, key) -> "ok" | "declined" | error text, or one of those per purchase of a batch
Attempt = Callable[[int, int, str], "str | list[str]"]


def run_load(
    attempt_factory: Callable[[], tuple[Attempt, Callable[[], None]]],
    pick_account: Callable[[random.Random], int],
    clients: int,
    seconds: float,
    warmup: float,
    tag: str,
    cpu_probe: Callable[[], dict[str, float]] | None = None,
) -> tuple[Cell, int]:
    """N threads, each looping until the deadline. Only attempts that start after the
    warm-up count towards throughput/latency; every approval counts towards the books
    check (returned second). ``cpu_probe`` (CPU seconds by process group) is sampled at
    the start and the end of the measured window."""
    barrier = threading.Barrier(clients + 1)
    lat: list[list[float]] = [[] for _ in range(clients)]
    counts = [[0, 0, 0, 0] for _ in range(clients)]  # approved, declined, errors, approved incl. warm-up
    first_error: list[str] = []
    times: dict[str, float] = {}

    def worker(i: int) -> None:
        attempt, close = attempt_factory()
        rng = random.Random(f"{tag}-{i}")
        mine, c = lat[i], counts[i]
        try:
            barrier.wait(timeout=60)
            start, deadline = times["start"], times["deadline"]
            n = 0
            while True:
                t0 = time.perf_counter()
                if t0 >= deadline:
                    break
                n += 1
                answer = attempt(pick_account(rng), rng.randint(*AMOUNT_RANGE), f"{tag}-{i}-{n}")
                t1 = time.perf_counter()
                results = answer if isinstance(answer, list) else [answer]
                c[3] += results.count("ok")
                if t0 < start:
                    continue
                mine.append(t1 - t0)  # per call: a batch's latency is its request's
                for result in results:
                    if result == "ok":
                        c[0] += 1
                    elif result == "declined":
                        c[1] += 1
                    else:
                        c[2] += 1
                        if not first_error:
                            first_error.append(result)
        finally:
            close()

    threads = [threading.Thread(target=worker, args=(i,), daemon=True, name=f"client-{i}") for i in range(clients)]
    for th in threads:
        th.start()
    now = time.perf_counter()
    times["start"] = now + warmup
    times["deadline"] = now + warmup + seconds
    barrier.wait(timeout=60)
    cpu0 = cpu1 = None
    if cpu_probe is not None:
        time.sleep(max(0.0, times["start"] - time.perf_counter()))
        cpu0 = cpu_probe()
        time.sleep(max(0.0, times["deadline"] - time.perf_counter()))
        cpu1 = cpu_probe()
    for th in threads:
        th.join(timeout=warmup + seconds + 120)
        if th.is_alive():
            raise RuntimeError(f"client thread {th.name} did not stop")
    all_lat = np.fromiter((x for per in lat for x in per), dtype=float) * 1000.0
    approved = sum(c[0] for c in counts)
    cell = Cell(
        backend="",
        mode="",
        clients=clients,
        workload="",
        seconds=seconds,
        load1=os.getloadavg()[0],
        approved=approved,
        declined=sum(c[1] for c in counts),
        errors=sum(c[2] for c in counts),
        tps=approved / seconds,
        p50_ms=float(np.percentile(all_lat, 50)) if all_lat.size else 0.0,
        p99_ms=float(np.percentile(all_lat, 99)) if all_lat.size else 0.0,
        max_ms=float(all_lat.max()) if all_lat.size else 0.0,
        first_error=first_error[0] if first_error else None,
    )
    if cpu0 is not None and cpu1 is not None and approved:
        cell.cpu_ms = {k: (cpu1[k] - cpu0.get(k, 0.0)) * 1000 / approved for k in cpu1}
    return cell, sum(c[3] for c in counts)


def inproc_factory(system: Huabei) -> Callable[[], tuple[Attempt, Callable[[], None]]]:
    def make() -> tuple[Attempt, Callable[[], None]]:
        def attempt(account_id: int, amount: int, key: str) -> str:
            req = PurchaseRequest(account_id, amount, "m-bench", "retail", Channel.ONLINE)
            try:
                out = authorise_purchase(system, req, key)
            except HuabeiError as e:
                return "declined" if e.kind is ErrorKind.DECLINED else f"{e.code}"
            except Exception as e:
                return f"{type(e).__name__}: {e}".splitlines()[0]
            return "ok" if out.status == 201 else f"status {out.status}"

        return attempt, lambda: None

    return make


def http_factory(base_url: str, api_key: str) -> Callable[[], tuple[Attempt, Callable[[], None]]]:
    """Clients of the payment network: each request carries the gateway's API key."""
    import httpx

    def make() -> tuple[Attempt, Callable[[], None]]:
        client = httpx.Client(
            base_url=base_url,
            timeout=30.0,
            limits=httpx.Limits(max_connections=1, max_keepalive_connections=1),
            headers={"Authorization": f"Bearer {api_key}"},
        )

        def attempt(account_id: int, amount: int, key: str) -> str:
            body = {
                "amount": f"{amount // 100}.{amount % 100:02d}",
                "merchant_id": "m-bench",
                "merchant_category": "retail",
                "channel": "online",
            }
            try:
                r = client.post(f"/v1/accounts/{account_id}/purchases", json=body, headers={"Idempotency-Key": key})
            except httpx.HTTPError as e:
                return f"{type(e).__name__}: {e}".splitlines()[0]
            if r.status_code == 201:
                return "ok"
            if r.status_code == 402:
                return "declined"
            return f"HTTP {r.status_code}: {r.text[:200]}"

        return attempt, client.close

    return make


def batch_factory(
    base_url: str, api_key: str, size: int, pick_account: Callable[[random.Random], int]
) -> Callable[[], tuple[Attempt, Callable[[], None]]]:
    """The gateway's batch route: each call POSTs ``size`` purchases to ``/v1/purchases/batch``
    (the first on the cell's account, the others picked the same way), each with its own key."""
    import httpx

    def make() -> tuple[Attempt, Callable[[], None]]:
        client = httpx.Client(
            base_url=base_url,
            timeout=60.0,
            limits=httpx.Limits(max_connections=1, max_keepalive_connections=1),
            headers={"Authorization": f"Bearer {api_key}"},
        )

        def attempt(account_id: int, amount: int, key: str) -> str | list[str]:
            rng = random.Random(key)
            items = []
            for j in range(size):
                aid = account_id if j == 0 else pick_account(rng)
                fen = amount if j == 0 else rng.randint(*AMOUNT_RANGE)
                items.append(
                    {
                        "account_id": aid,
                        "idempotency_key": f"{key}-{j}",
                        "amount": f"{fen // 100}.{fen % 100:02d}",
                        "merchant_id": "m-bench",
                        "merchant_category": "retail",
                        "channel": "online",
                    }
                )
            try:
                r = client.post("/v1/purchases/batch", json={"purchases": items})
            except httpx.HTTPError as e:
                return f"{type(e).__name__}: {e}".splitlines()[0]
            if r.status_code != 200:
                return f"HTTP {r.status_code}: {r.text[:200]}"
            return [
                "ok" if x["status"] == 201 else "declined" if x["status"] == 402 else f"status {x['status']}"
                for x in r.json()["results"]
            ]

        return attempt, client.close

    return make


def bench_terms() -> ProductTerms:
    """The default terms, with group commit of purchases off if ``--no-group-commit`` (passed to
    the server subprocess in ``HUABEI_BENCH_GROUP_COMMIT``)."""
    terms = default_terms()
    if os.environ.get("HUABEI_BENCH_GROUP_COMMIT") == "0":
        ops = terms.operations.model_copy(update={"group_commit": False})
        terms = terms.model_copy(update={"operations": ops})
    return terms


# --- the HTTP server (subprocess) -------------------------------------------------------


def serve(url: str, port: int, workers: int = 1) -> None:
    """Entry point of the server subprocess: uvicorn serving create_app(system); with several
    workers, each worker process makes its own app (its own pool, its own group commit)."""
    import uvicorn

    if workers > 1:
        os.environ["HUABEI_BENCH_SERVE_URL"] = url
        uvicorn.run(
            "authorize:bench_app", factory=True, workers=workers, host="127.0.0.1", port=port,
            log_level="warning", access_log=False,
        )  # fmt: skip
        return
    uvicorn.run(bench_app(url), host="127.0.0.1", port=port, log_level="warning", access_log=False)


def bench_app(url: str | None = None) -> Any:
    """The app the server subprocess serves (a uvicorn worker calls it with no argument)."""
    from huabei.entrypoints.http.app import create_app

    url = url or os.environ["HUABEI_BENCH_SERVE_URL"]
    return create_app(Huabei(engine=make_engine(url), terms=bench_terms()))


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, url: str, workers: int = 1):
        self.url = url
        self.workers = workers
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> Server:
        import httpx

        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        cmd = [sys.executable, __file__, "--serve", self.url, "--port", str(self.port)]
        self.proc = subprocess.Popen([*cmd, "--server-workers", str(self.workers)], env=env)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"uvicorn subprocess exited with {self.proc.returncode}")
            try:
                if httpx.get(f"{self.base_url}/healthz", timeout=1.0).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        self.__exit__(None, None, None)
        raise RuntimeError("uvicorn did not become ready within 60 s")

    def __exit__(self, *_exc: Any) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=15)


# --- statements per authorisation (a short instrumented probe) --------------------------


def statement_probe(system: Huabei, account_id: int, n: int = PROBE_N) -> dict[str, Any]:
    counts = {"statements": 0, "checkouts": 0, "commits": 0}

    def on_exec(*_a: Any) -> None:
        counts["statements"] += 1

    def on_checkout(*_a: Any) -> None:
        counts["checkouts"] += 1

    def on_commit(*_a: Any) -> None:
        counts["commits"] += 1

    event.listen(system.engine, "before_cursor_execute", on_exec)
    event.listen(system.engine.pool, "checkout", on_checkout)
    event.listen(system.engine, "commit", on_commit)
    try:
        t0, c0 = time.perf_counter(), time.process_time()
        for i in range(n):
            authorise_purchase(
                system, PurchaseRequest(account_id, 100, "m-bench", "retail", Channel.ONLINE), f"probe-{i}"
            )
        elapsed, cpu = time.perf_counter() - t0, time.process_time() - c0
        single = dict(counts)
        t1, c1 = time.perf_counter(), time.process_time()
        batch = [
            (PurchaseRequest(account_id, 100, "m-bench", "retail", Channel.ONLINE), f"probe-b{i}") for i in range(n)
        ]
        for k in range(0, n, 100):  # the batch route's largest batches
            authorise_purchases(system, batch[k : k + 100])
        b_elapsed, b_cpu = time.perf_counter() - t1, time.process_time() - c1
    finally:
        event.remove(system.engine, "before_cursor_execute", on_exec)
        event.remove(system.engine.pool, "checkout", on_checkout)
        event.remove(system.engine, "commit", on_commit)
    out: dict[str, Any] = {k: v / n for k, v in single.items()}
    out["batch_statements"] = (counts["statements"] - single["statements"]) / n
    out["batch_commits"] = (counts["commits"] - single["commits"]) / n
    out["batch_ms_per_authorisation"] = b_elapsed / n * 1000
    out["batch_cpu_ms_per_authorisation"] = b_cpu / n * 1000
    out["pre_ping"] = bool(getattr(system.engine.pool, "_pre_ping", False))
    out["ms_per_authorisation_1_client"] = elapsed / n * 1000
    out["cpu_ms_per_authorisation"] = cpu / n * 1000
    return out


# --- checks -------------------------------------------------------------------------------


def race_check(system: Huabei, account_id: int, clients: int) -> tuple[int, int]:
    """N threads spend 1 yuan at a time on a 500-yuan line, 640 attempts in all: exactly
    500 approvals must win, the rest decline."""
    per = RACE_ATTEMPTS // clients
    results: list[str] = []
    lock = threading.Lock()

    def worker(i: int) -> None:
        mine = []
        for k in range(per):
            try:
                authorise_purchase(
                    system,
                    PurchaseRequest(account_id, RACE_AMOUNT, "m-race", "retail", Channel.ONLINE),
                    f"race-{i}-{k}",
                )
                mine.append("ok")
            except HuabeiError as e:
                mine.append("declined" if e.kind is ErrorKind.DECLINED else e.code)
        with lock:
            results.extend(mine)

    threads = [threading.Thread(target=worker, args=(i,), daemon=True) for i in range(clients)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(timeout=120)
    return results.count("ok") * RACE_AMOUNT, results.count("declined")


def check_books(system: Huabei, backend: str, approvals_counted: int, race: tuple[int, int]) -> Checks:
    ch = Checks(backend=backend)
    rep = books.ledger_check(system)
    ch.ledger_ok = rep.ok
    ch.ledger_findings = [str(f) for f in rep.findings][:10]
    a, p = t.credit_accounts.c, t.purchases.c
    with system.uow(readonly=True) as uow:
        spent = select(p.account_id, func.sum(p.amount - p.refunded).label("total")).group_by(p.account_id).subquery()
        limit = a.base_limit + a.temporary_limit  # temporary limits were granted valid past every run
        ch.over_limit_accounts = uow.conn.execute(
            select(func.count())
            .select_from(t.credit_accounts.join(spent, spent.c.account_id == a.account_id))
            .where((spent.c.total > limit) | (a.used > limit) | (a.used != spent.c.total))
        ).scalar_one()
        ch.purchases_stored = uow.conn.execute(
            select(func.count()).select_from(t.purchases).where(p.merchant_id == "m-bench")
        ).scalar_one()
    ch.approvals_counted = approvals_counted
    ch.race_approved_fen, ch.race_declined = race
    ch.race_ok = ch.race_approved_fen == RACE_LIMIT and ch.race_declined == RACE_ATTEMPTS - RACE_LIMIT // RACE_AMOUNT
    return ch


# --- pgbench ------------------------------------------------------------------------------


def pgbench_env(admin_url: str) -> tuple[list[str], dict[str, str]]:
    u = make_url(database_url(admin_url))
    args = ["-h", u.host or "127.0.0.1", "-p", str(u.port or 5432), "-U", u.username or "postgres"]
    env = dict(os.environ)
    if u.password:
        env["PGPASSWORD"] = u.password
    return args, env


def pgbench_scale(args: argparse.Namespace) -> int:
    """The pgbench scale of the run: ``--pgbench-scale`` or, by default, the largest client count
    of the run (random and hot cells), never below it."""
    largest = max([1, *args.clients, *args.hot_clients])
    return max(largest, args.pgbench_scale or 0)


def pgbench_init(admin_url: str, scale: int) -> None:
    if shutil.which("pgbench") is None:
        raise RuntimeError("pgbench is not on PATH")
    conn_args, env = pgbench_env(admin_url)
    scratch.recreate(admin_url, PGBENCH_DB)
    subprocess.run(
        ["pgbench", *conn_args, "-i", "-s", str(scale), "-q", PGBENCH_DB],
        env=env,
        check=True,
        capture_output=True,
        timeout=120 + 30 * scale,
    )


def pgbench_run(admin_url: str, n: int, seconds: float) -> PgbenchRun:
    """``pgbench -b tpcb-like -c N -j N -T T`` with per-transaction logging for p50/p99."""
    conn_args, env = pgbench_env(admin_url)
    with tempfile.TemporaryDirectory(prefix="huabei-pgbench-") as tmp:
        prefix = Path(tmp) / f"c{n}"
        cmd = [
            "pgbench",
            *conn_args,
            "-b",
            "tpcb-like",
            "-c",
            str(n),
            "-j",
            str(n),
            "-T",
            str(max(1, round(seconds))),
            "-l",
            f"--log-prefix={prefix}",
            PGBENCH_DB,
        ]
        out = subprocess.run(cmd, env=env, check=True, capture_output=True, text=True, timeout=seconds + 120, cwd=tmp)
        m = re.search(r"tps = ([0-9.]+) \(without initial connection time\)", out.stdout)
        if not m:
            raise RuntimeError(f"could not parse pgbench output:\n{out.stdout}\n{out.stderr}")
        lat = [
            int(parts[2]) / 1000.0  # µs -> ms
            for f in Path(tmp).glob(f"c{n}.*")
            for line in f.read_text().splitlines()
            if len(parts := line.split()) >= 3
        ]
    arr = np.array(lat) if lat else None
    return PgbenchRun(
        clients=n,
        tps=float(m.group(1)),
        p50_ms=float(np.percentile(arr, 50)) if arr is not None else None,
        p99_ms=float(np.percentile(arr, 99)) if arr is not None else None,
        load1=os.getloadavg()[0],
    )


# --- orchestration --------------------------------------------------------------------------


def bench_backend(
    backend: str,
    url: str,
    args: argparse.Namespace,
    log: Callable[[str], None],
    pgbench: Callable[[int], float] | None = None,
) -> tuple[list[Cell], Checks, dict[str, Any]]:
    """All cells of one backend. For each client count: pgbench first (PostgreSQL only, so
    the baseline is measured minutes, not tens of minutes, from our numbers), then every
    mode; the single-hot-account runs come last."""
    log(f"[{backend}] migrating {make_url(url).render_as_string(hide_password=True)}")
    migrate.upgrade(url)
    system = Huabei(engine=make_engine(url), terms=bench_terms())
    modes = args.modes
    hot_clients = [c for c in args.hot_clients if c > 0]
    pool, hot_ids, race_id = seed(system, args.accounts, n_reserved=len(modes) * len(hot_clients) + 1)
    log(f"[{backend}] seeded {len(pool)} accounts (+{len(hot_ids) - 1} hot, +1 probe, +1 race)")
    cells: list[Cell] = []
    approvals = 0
    server: Server | None = None
    try:
        probe = statement_probe(system, hot_ids[-1])
        approvals += 2 * PROBE_N  # one by one, then in batches
        log(
            f"[{backend}] per authorisation: {probe['statements']:.1f} statements, {probe['commits']:.1f} commits, "
            f"{probe['checkouts']:.1f} pool checkouts, {probe['ms_per_authorisation_1_client']:.2f} ms "
            f"({probe['cpu_ms_per_authorisation']:.2f} ms CPU) single-threaded; in batches of 100: "
            f"{probe['batch_statements']:.2f} statements, {probe['batch_commits']:.2f} commits, "
            f"{probe['batch_ms_per_authorisation']:.2f} ms ({probe['batch_cpu_ms_per_authorisation']:.2f} ms CPU) each"
        )
        if "http" in modes or "batch" in modes:
            server = Server(url, args.server_workers).__enter__()
            log(
                f"[{backend}] uvicorn subprocess pid {server.proc.pid} ({args.server_workers} worker(s)) serving "  # type: ignore[union-attr]
                f"create_app(system) on {server.base_url}"
            )
        factories = {"inproc": inproc_factory(system)}
        gateway_key = ""
        if server is not None:
            from huabei.access import service as access

            gateway_key = access.create_key(system, "gateway", label="bench")["key"]
            factories["http"] = http_factory(server.base_url, gateway_key)
        cpu_probe = make_cpu_probe(
            server.proc.pid if server is not None and server.proc is not None else None,
            args.pg_admin_url if backend == "postgresql" else None,
            make_url(url).database if backend == "postgresql" else None,
        )
        hot_iter = iter(hot_ids[:-1])
        plan = [(n, "random", m) for n in args.clients for m in modes] + [
            (n, "hot", m) for n in hot_clients for m in modes
        ]
        done_pgbench: dict[int, float] = {}
        for n, workload, mode in plan:
            if pgbench is not None and n not in done_pgbench:
                done_pgbench[n] = pgbench(n)
            if workload == "hot":
                hot = next(hot_iter)
                picker: Callable[[random.Random], int] = lambda _rng, a=hot: a  # noqa: E731
            else:
                picker = lambda rng: rng.choice(pool)  # noqa: E731
            tag = f"{backend}-{mode}-{workload}-{n}"
            factory = (
                batch_factory(server.base_url, gateway_key, args.batch_size, picker)
                if mode == "batch" and server is not None
                else factories[mode]
            )
            gc = system.services.get("payments.group_commit")
            gc0 = (gc.batches, gc.decided) if gc is not None else (0, 0)  # type: ignore[attr-defined]
            sb0 = dict(SET_BASED_STATS)
            cell, all_ok = run_load(factory, picker, n, args.seconds, args.warmup, tag, cpu_probe)
            if gc is not None and mode == "inproc":
                nb, nd = gc.batches - gc0[0], gc.decided - gc0[1]  # type: ignore[attr-defined]
                sb = {k: SET_BASED_STATS[k] - sb0[k] for k in sb0}
                log(
                    f"[{backend}] group commit: {nd} purchases in {nb} transactions ({nd / max(nb, 1):.1f} a batch); "
                    f"batches of 2 or more decided set-based {sb['set_based']}, one by one {sb['fallback']}"
                )
            cell.backend, cell.mode, cell.workload = backend, mode, workload
            approvals += all_ok
            cells.append(cell)
            log(
                f"[{backend}] {mode:6s} {workload:6s} c={n:<3d} {cell.tps:8.1f}/s  p50 {cell.p50_ms:6.2f} ms"
                f"  p99 {cell.p99_ms:6.2f} ms  declined {cell.declined}  errors {cell.errors}  load {cell.load1:.1f}"
                + (f"  {cell.tps / done_pgbench[n]:.2f}x pgbench" if done_pgbench.get(n) else "")
                + "  CPU ms/auth "
                + " ".join(f"{k} {v:.2f}" for k, v in cell.cpu_ms.items())
                + (f"  first error: {cell.first_error}" if cell.first_error else "")
            )
    finally:
        if server is not None:
            server.__exit__(None, None, None)
    try:
        race = race_check(system, race_id, clients=8)
        checks = check_books(system, backend, approvals, race)
        log(
            f"[{backend}] books: ledger_check.ok={checks.ledger_ok}, accounts over limit={checks.over_limit_accounts}, "
            f"purchases stored={checks.purchases_stored} vs approvals counted={checks.approvals_counted}, "
            f"race approved {checks.race_approved_fen / 100:.2f} yuan of {RACE_LIMIT / 100:.2f}"
        )
    finally:
        system.engine.dispose()
    return cells, checks, probe


def apply_targets(cells: list[Cell], pgb: list[PgbenchRun]) -> None:
    by_c = {r.clients: r.tps for r in pgb}
    for c in cells:
        if c.backend != "postgresql":
            continue
        if c.workload == "hot":
            c.target_ratio = TARGET_HOT
        else:
            c.target_ratio = {"inproc": TARGET_INPROC, "http": TARGET_HTTP, "batch": TARGET_BATCH}[c.mode]
        if c.clients in by_c and by_c[c.clients] > 0:
            c.pgbench_tps = by_c[c.clients]
            c.ratio = c.tps / c.pgbench_tps
            c.ratio_ok = c.ratio >= c.target_ratio
        if c.clients == TARGET_P99_CLIENTS and c.workload == "random" and c.mode != "batch":
            c.p99_ok = c.p99_ms < TARGET_P99_MS


def print_report(
    info: dict[str, Any], cells: list[Cell], pgb: list[PgbenchRun], checks: list[Checks], probes: dict[str, Any]
) -> None:
    from rich.console import Console
    from rich.table import Table

    con = Console(width=None if sys.stdout.isatty() else 160)
    con.print(
        f"[bold]Machine:[/] {info.get('nproc')} CPUs ({info.get('cpu', '?')}), {info.get('memory_gib', '?')} GiB, "
        f"group commit {'off' if os.environ.get('HUABEI_BENCH_GROUP_COMMIT') == '0' else 'on'}, "
        f"Python {info['python']}, PostgreSQL {info.get('postgresql', '-')}, SQLite {info['versions']['sqlite']}, "
        f"uvicorn {info['versions']['uvicorn']} ({info['uvicorn_http']}, {info['uvicorn_loop']})"
    )
    tab = Table(title="Authorisation throughput and latency")
    for col in (
        "backend",
        "mode",
        "workload",
        "clients",
        "auth/s",
        "p50 ms",
        "p99 ms",
        "declined",
        "errors",
        "pgbench tps",
        "ratio",
        "target",
        "met?",
        "load",
        "CPU ms/auth: py",
        "uvicorn",
        "pg",
        "box",
    ):
        tab.add_column(col, justify="right" if col not in ("backend", "mode", "workload") else "left")

    def yes(v: bool | None) -> str:
        return "-" if v is None else ("[green]yes[/]" if v else "[red]NO[/]")

    for c in cells:
        met = None
        if c.ratio_ok is not None:
            met = c.ratio_ok and (c.p99_ok if c.p99_ok is not None else True)
        target = (
            "-"
            if c.target_ratio is None
            else f">={c.target_ratio}x" + (f", p99<{TARGET_P99_MS:.0f}" if c.p99_ok is not None else "")
        )
        tab.add_row(
            c.backend,
            c.mode,
            c.workload,
            str(c.clients),
            f"{c.tps:,.1f}",
            f"{c.p50_ms:.2f}",
            f"{c.p99_ms:.2f}",
            str(c.declined),
            str(c.errors),
            "-" if c.pgbench_tps is None else f"{c.pgbench_tps:,.0f}",
            "-" if c.ratio is None else f"{c.ratio:.2f}x",
            target,
            yes(met),
            "-" if c.load1 is None else f"{c.load1:.1f}",
            *(f"{c.cpu_ms[k]:.2f}" if k in c.cpu_ms else "-" for k in ("bench", "uvicorn", "postgres", "box")),
        )
    con.print(tab)
    con.print(
        "load = 1-minute load average at the end of the cell (2 CPUs: above ~2 something else was competing). "
        "CPU ms/auth = CPU time per approval in the measured window: py = this process (the service in-process, "
        "or the HTTP clients), uvicorn = the server subprocess, pg = PostgreSQL backends of the scratch database, "
        "box = all CPUs of the machine (includes anything else running)."
    )
    if pgb:
        pt = Table(title=f"pgbench -b tpcb-like (scale {info.get('pgbench_scale', '?')}), same server")
        for col in ("clients", "tps", "p50 ms", "p99 ms", "load"):
            pt.add_column(col, justify="right")
        for r in pgb:
            pt.add_row(
                str(r.clients),
                f"{r.tps:,.1f}",
                f"{r.p50_ms:.2f}" if r.p50_ms else "-",
                f"{r.p99_ms:.2f}" if r.p99_ms else "-",
                "-" if r.load1 is None else f"{r.load1:.1f}",
            )
        con.print(pt)
    for backend, p in probes.items():
        con.print(
            f"[bold]{backend}[/]: {p['statements']:.1f} SQL statements, {p['commits']:.1f} commit(s), "
            f"{p['checkouts']:.1f} pool checkout(s) per authorisation (pool_pre_ping={p['pre_ping']}); "
            f"{p['ms_per_authorisation_1_client']:.2f} ms ({p['cpu_ms_per_authorisation']:.2f} ms of it CPU in this "
            f"process) each, single-threaded"
        )
    ct = Table(title="Books after the run")
    for col in (
        "backend",
        "ledger_check.ok",
        "accounts over limit",
        "purchases stored",
        "approvals counted",
        "race (500-yuan line)",
        "all ok",
    ):
        ct.add_column(col)
    for ch in checks:
        ct.add_row(
            ch.backend,
            yes(ch.ledger_ok),
            str(ch.over_limit_accounts),
            str(ch.purchases_stored),
            str(ch.approvals_counted),
            f"{ch.race_approved_fen / 100:.2f} yuan approved, {ch.race_declined} declined",
            yes(ch.ok),
        )
    con.print(ct)
    targets = [c for c in cells if c.ratio_ok is not None]
    if targets:
        con.print(f"[bold]Targets[/] (PostgreSQL, against pgbench at scale {info.get('pgbench_scale', '?')}):")
        for c in targets:
            line = (
                f"  {c.mode:6s} {c.workload:6s} c={c.clients:<3d} ratio {c.ratio:.2f}x vs >= {c.target_ratio}x: "
                f"{yes(c.ratio_ok)} (load {c.load1:.1f})"
            )
            if c.p99_ok is not None:
                line += f"; p99 {c.p99_ms:.1f} ms vs < {TARGET_P99_MS:.0f} ms: {yes(c.p99_ok)}"
            con.print(line)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ints = lambda s: [int(x) for x in s.split(",") if x.strip()]  # noqa: E731
    words = lambda s: [x.strip() for x in s.split(",") if x.strip()]  # noqa: E731
    ap.add_argument("--clients", type=ints, default=[1, 8, 16], help="client counts (default 1,8,16)")
    ap.add_argument("--seconds", type=float, default=8.0, help="measured seconds per cell (default 8)")
    ap.add_argument("--warmup", type=float, default=1.0, help="unmeasured warm-up seconds per cell (default 1)")
    ap.add_argument(
        "--backends", type=words, default=["sqlite", "postgresql"], help="sqlite and/or postgresql (default both)"
    )
    ap.add_argument(
        "--modes",
        type=words,
        default=["inproc", "http"],
        help="inproc (threads calling authorise_purchase), http (uvicorn subprocess + httpx "
        "clients, one purchase per request) and/or batch (the gateway's POST /v1/purchases/batch, "
        "--batch-size purchases per request); default inproc,http",
    )
    ap.add_argument("--batch-size", type=int, default=100, help="purchases per batch request (default 100)")
    ap.add_argument("--accounts", type=int, default=1000, help="accounts in the random pool (default 1000)")
    ap.add_argument(
        "--hot-clients",
        type=ints,
        default=[8],
        help="client counts of the single-hot-account runs (default 8; 0 to skip)",
    )
    ap.add_argument(
        "--pg-admin-url",
        default=os.environ.get("HUABEI_BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432/test"),
        help="an existing database on the local server, used to create and drop the scratch "
        "databases (default $HUABEI_BENCH_PG_URL or postgresql://postgres@127.0.0.1:5432/test)",
    )
    ap.add_argument("--no-pgbench", action="store_true", help="skip the pgbench baseline")
    ap.add_argument(
        "--no-group-commit",
        action="store_true",
        help="decide each purchase in its own transaction (operations.group_commit off), to compare",
    )
    ap.add_argument(
        "--pgbench-scale",
        type=int,
        default=0,
        help="pgbench scale (default and minimum: the largest client count of the run)",
    )
    ap.add_argument("--json", metavar="FILE", help="also save the results as JSON")
    ap.add_argument("--keep", action="store_true", help="keep the scratch databases")
    ap.add_argument(
        "--server-workers",
        type=int,
        default=1,
        help="uvicorn worker processes of the HTTP server (default 1; each has its own group commit)",
    )
    ap.add_argument("--serve", help=argparse.SUPPRESS)
    ap.add_argument("--port", type=int, help=argparse.SUPPRESS)
    a = ap.parse_args(argv)
    for b in a.backends:
        if b not in ("sqlite", "postgresql"):
            ap.error(f"unknown backend {b!r}")
    for m in a.modes:
        if m not in ("inproc", "http", "batch"):
            ap.error(f"unknown mode {m!r}")
    if a.seconds <= 0 or a.seconds > 600 or a.warmup < 0 or a.warmup > 60:
        ap.error("--seconds must be in (0, 600] and --warmup in [0, 60]")
    if not 1 <= a.server_workers <= 8:
        ap.error("--server-workers must be between 1 and 8")
    if not 1 <= a.batch_size <= 100:
        ap.error("--batch-size must be between 1 and 100 (the batch route's maximum)")
    if any(c < 1 or c > 64 for c in a.clients):
        ap.error("--clients must be between 1 and 64")
    host = make_url(database_url(a.pg_admin_url)).host
    if "postgresql" in a.backends and host not in ("127.0.0.1", "localhost", "::1"):
        ap.error("the benchmark only talks to a local PostgreSQL (127.0.0.1)")
    return a


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.serve:
        serve(args.serve, args.port, args.server_workers)
        return 0
    os.environ["HUABEI_BENCH_GROUP_COMMIT"] = "0" if args.no_group_commit else "1"
    from rich.console import Console

    con = Console(stderr=True, width=None if sys.stderr.isatty() else 160)
    log = lambda msg: con.log(msg, highlight=False)  # noqa: E731
    use_pg = "postgresql" in args.backends
    info = machine_info(args.pg_admin_url if use_pg else None)
    cells: list[Cell] = []
    checks: list[Checks] = []
    probes: dict[str, Any] = {}
    pgb: list[PgbenchRun] = []
    tmpdir = tempfile.mkdtemp(prefix="huabei-bench-")
    started = time.time()
    try:
        pgbench_hook: Callable[[int], float] | None = None
        if use_pg and not args.no_pgbench:
            scale = pgbench_scale(args)
            info["pgbench_scale"] = scale
            log(f"pgbench -i -s {scale} (scale >= the largest client count, so branches do not serialise clients)")
            pgbench_init(args.pg_admin_url, scale)

            def pgbench_hook(n: int) -> float:
                run = pgbench_run(args.pg_admin_url, n, args.seconds)
                pgb.append(run)
                log(
                    f"[pgbench]    tpcb-like      c={n:<3d} {run.tps:8.1f}/s  p50 {run.p50_ms or 0:6.2f} ms"
                    f"  p99 {run.p99_ms or 0:6.2f} ms  load {run.load1:.1f}  (scale {scale})"
                )
                return run.tps

        for backend in args.backends:
            if backend == "sqlite":
                url = f"sqlite:///{Path(tmpdir) / 'bench.db'}"
            else:
                url = scratch.recreate(args.pg_admin_url, BENCH_DB)
            b_cells, b_checks, probe = bench_backend(
                backend, url, args, log, pgbench_hook if backend == "postgresql" else None
            )
            cells += b_cells
            checks.append(b_checks)
            probes[backend] = probe
    finally:
        if not args.keep:
            shutil.rmtree(tmpdir, ignore_errors=True)
            if use_pg:
                for db in (BENCH_DB, PGBENCH_DB):
                    try:
                        scratch.drop(args.pg_admin_url, db)
                    except Exception as exc:
                        log(f"could not drop {db}: {exc}")
    apply_targets(cells, pgb)
    print_report(info, cells, pgb, checks, probes)
    log(f"total wall time {time.time() - started:.0f} s")
    if args.json:
        Path(args.json).write_text(
            json.dumps(
                {
                    "machine": info,
                    "args": {k: v for k, v in vars(args).items() if k not in ("serve", "port")},
                    "cells": [asdict(c) for c in cells],
                    "pgbench": [asdict(r) for r in pgb],
                    "checks": [{**asdict(ch), "ok": ch.ok} for ch in checks],
                    "statements_per_authorisation": probes,
                    "wall_seconds": time.time() - started,
                },
                indent=2,
                default=str,
            )
        )
    return 0 if all(ch.ok for ch in checks) else 1


if __name__ == "__main__":
    sys.exit(main())
