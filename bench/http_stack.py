"""The HTTP stack's own CPU per request: a purchase through the ASGI app against the same purchase
called directly, one after another, in one process.

A program, not a test::

    .venv/bin/python bench/http_stack.py [--backend postgresql|sqlite] [--rounds 5] [--requests 100]

It seeds a scratch database as ``bench/authorize.py`` does, then alternates rounds: ``--requests``
purchases by ``authorise_purchase`` (the service alone) and as many ``POST
/v1/accounts/{id}/purchases`` through ``create_app(system)`` called as an ASGI app in this process
(every middleware, the access guard with a real gateway key, validation, the audit row, the JSON
answer — no socket and no HTTP parser: those are the server's, measured by ``bench/authorize.py
--modes http``). One client, so each purchase is its own transaction in both. It prints the CPU
milliseconds (this process, all threads) per purchase of each, their difference — what the HTTP
layer adds — and the load average. CPU time, not wall time, so a busy machine disturbs it less
than a throughput figure (it still inflates it a little: caches are shared).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import scratch
from authorize import BENCH_DB, bench_terms, seed
from huabei.access import service as access
from huabei.entrypoints.http.app import create_app
from huabei.lines.purchase_rules import Channel, PurchaseRequest
from huabei.payments.service import authorise_purchase
from huabei.platform import migrate
from huabei.platform.db import make_engine
from huabei.platform.unit_of_work import Huabei

BODY = {"amount": "1.00", "merchant_id": "m-bench", "merchant_category": "retail", "channel": "online"}


async def post(app: Any, path: str, body: bytes, headers: list[tuple[bytes, bytes]]) -> tuple[int, bytes]:
    """One HTTP request through the ASGI app, as a server would hand it over."""
    scope = {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"127.0.0.1"), (b"content-length", str(len(body)).encode()), *headers],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
        "state": {},
    }
    sent = False
    out: dict[str, Any] = {"status": 0, "body": b""}

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        await asyncio.sleep(3600)  # a client that stays connected
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            out["status"] = message["status"]
        elif message["type"] == "http.response.body":
            out["body"] += message.get("body", b"")

    await app(scope, receive, send)
    return out["status"], out["body"]


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--backend", choices=["postgresql", "sqlite"], default="postgresql")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--requests", type=int, default=100, help="purchases per round and path (default 100)")
    ap.add_argument("--pg-admin-url", default=scratch.ADMIN_URL)
    a = ap.parse_args(argv)
    if not (1 <= a.rounds <= 50 and 1 <= a.requests <= 5000):
        ap.error("--rounds 1..50, --requests 1..5000")
    tmp = tempfile.TemporaryDirectory()
    if a.backend == "postgresql":
        url = scratch.recreate(a.pg_admin_url, BENCH_DB)
    else:
        url = f"sqlite:///{tmp.name}/bench.db"
    os.environ.setdefault("HUABEI_SECRET", "bench-secret-" + "x" * 40)
    try:
        migrate.upgrade(url)
        system = Huabei(engine=make_engine(url), terms=bench_terms())
        pool, _hot, _race = seed(system, 200, n_reserved=0)
        key = access.create_key(system, "gateway", label="bench")["key"]
        app = create_app(system)
        direct: list[float] = []
        http: list[float] = []
        n = 0

        def one_direct(i: int) -> None:
            req = PurchaseRequest(pool[i % len(pool)], 100, "m-bench", "retail", Channel.ONLINE)
            authorise_purchase(system, req, f"d-{i}", caller="key:bench")

        async def http_round(start: int) -> None:
            body = json.dumps(BODY).encode()
            for i in range(start, start + a.requests):
                headers = [
                    (b"content-type", b"application/json"),
                    (b"authorization", f"Bearer {key}".encode()),
                    (b"idempotency-key", f"h-{i}".encode()),
                ]
                status, out = await post(app, f"/v1/accounts/{pool[i % len(pool)]}/purchases", body, headers)
                if status != 201:
                    raise SystemExit(f"unexpected answer {status}: {out[:300]!r}")

        # warm-up: the first requests build caches (SQL compilation, pydantic, the key's digest)
        for i in range(20):
            one_direct(-1 - i)
        asyncio.run(http_round(10**6))
        for _r in range(a.rounds):
            t0 = time.process_time()
            for _ in range(a.requests):
                one_direct(n)
                n += 1
            direct.append((time.process_time() - t0) * 1000 / a.requests)
            t0 = time.process_time()
            asyncio.run(http_round(n))
            n += a.requests
            http.append((time.process_time() - t0) * 1000 / a.requests)
        d, h = statistics.median(direct), statistics.median(http)
        print(
            f"backend {a.backend}, {a.rounds} rounds of {a.requests} purchases each way, load {os.getloadavg()[0]:.1f}"
        )
        print(f"  service alone     CPU ms/purchase: median {d:.2f}  rounds {' '.join(f'{x:.2f}' for x in direct)}")
        print(f"  through ASGI app  CPU ms/purchase: median {h:.2f}  rounds {' '.join(f'{x:.2f}' for x in http)}")
        print(f"  the HTTP layer adds {h - d:.2f} ms of CPU per request")
        system.engine.dispose()
    finally:
        if a.backend == "postgresql":
            scratch.drop(a.pg_admin_url, BENCH_DB)
        tmp.cleanup()


if __name__ == "__main__":
    main()
