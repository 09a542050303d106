"""The audit row and the state change it records commit together, on SQLite and PostgreSQL: a
change whose row cannot be written is not made; a change is audited once, with its actor and the
answer the client got; a refusal that changed nothing still has its row."""

from __future__ import annotations

import warnings

import httpx
import pytest
from sqlalchemy import func, select
from tests.api.conftest import auth_headers, key_for
from tests.conftest import new_account

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

from huabei.access import tables as at
from huabei.access.repository import AuditRepository
from huabei.entrypoints.http.app import create_app
from huabei.platform.unit_of_work import Huabei
from huabei.restrictions import tables as rt


def _rows(system: Huabei) -> list[object]:
    with system.uow(readonly=True) as uow:
        return list(uow.conn.execute(select(at.audit_log).order_by(at.audit_log.c.audit_id)))


def _restrictions(system: Huabei) -> int:
    with system.uow(readonly=True) as uow:
        return int(uow.conn.execute(select(func.count()).select_from(rt.restrictions)).scalar_one())


def test_a_change_commits_with_its_audit_row(system: Huabei, monkeypatch) -> None:
    aid = new_account(system, user_id="u1")
    agent = key_for(system, "agent")
    before = len(_rows(system))
    with TestClient(create_app(system), raise_server_exceptions=False) as c:
        r = c.post(
            f"/v1/accounts/{aid}/restrictions",
            json={"cause": "operator_hold", "note": "x"},
            headers=auth_headers(agent),
        )
        assert r.status_code == 201
        rows = _rows(system)[before:]
        assert len(rows) == 1  # one row per request, written with the change, completed by the answer
        row = rows[0]
        assert (row.route, row.status, row.outcome, row.role) == (
            "/v1/accounts/{account_id}/restrictions",
            201,
            "ok",
            "agent",
        )
        assert row.key_id is not None and row.code is None

        # a refusal that changed nothing: its row, with the code
        r = c.post(f"/v1/accounts/{aid}/restrictions", json={"cause": "overdue_reported"}, headers=auth_headers(agent))
        assert r.status_code == 409
        row = _rows(system)[-1]
        assert (row.status, row.outcome, row.code) == (409, "refused", "restriction_hard_for_agent")

        # the row cannot be written: the change is not made either
        placed = _restrictions(system)
        real_add = AuditRepository.add

        def failing_add(self: AuditRepository, **values: object) -> int:
            if values.get("route") == "/v1/accounts/{account_id}/restrictions" and values.get("outcome") == "ok":
                raise RuntimeError("audit log unavailable")
            return real_add(self, **values)

        monkeypatch.setattr(AuditRepository, "add", failing_add)
        r = c.post(
            f"/v1/accounts/{aid}/restrictions",
            json={"cause": "operator_hold", "note": "y"},
            headers=auth_headers(agent),
        )
        assert r.status_code == 500
        assert _restrictions(system) == placed
        monkeypatch.setattr(AuditRepository, "add", real_add)

    # a state change from the command line is not an HTTP request: no request row is added to it
    n = len(_rows(system))
    from huabei.restrictions import service as restrictions

    restrictions.place_restriction(system, aid, cause="operator_hold", note="cli", actor="operator")
    assert len(_rows(system)) == n


def test_a_success_answered_as_written_needs_no_second_transaction(system: Huabei) -> None:
    """The row written with the purchase already says 201 ok: the answer does not update it. A
    decline (its refusal committed with a row saying 201) is completed with the 402 the client got."""
    from sqlalchemy import event

    aid = new_account(system, user_id="u2")
    gateway = key_for(system, "gateway")
    updates: list[str] = []

    def capture(conn, cursor, statement, params, context, executemany) -> None:  # type: ignore[no-untyped-def]
        if statement.lstrip().upper().startswith("UPDATE AUDIT_LOG"):
            updates.append(statement)

    body = {"amount": "12.00", "merchant_id": "m1", "merchant_category": "retail", "channel": "online"}
    event.listen(system.engine, "before_cursor_execute", capture)
    try:
        with TestClient(create_app(system), raise_server_exceptions=False) as c:
            before = len(_rows(system))
            r = c.post(
                f"/v1/accounts/{aid}/purchases", json=body, headers={**auth_headers(gateway), "Idempotency-Key": "a1"}
            )
            assert r.status_code == 201
            (row,) = _rows(system)[before:]
            assert (row.status, row.outcome, row.code, row.role) == (201, "ok", None, "gateway")
            assert updates == []
            big = {**body, "amount": "999999.00"}
            r = c.post(
                f"/v1/accounts/{aid}/purchases", json=big, headers={**auth_headers(gateway), "Idempotency-Key": "a2"}
            )
            assert r.status_code == 402
            row = _rows(system)[-1]
            assert (row.status, row.outcome, row.code) == (402, "refused", r.json()["error"]["code"])
            assert len(updates) == 1
    finally:
        event.remove(system.engine, "before_cursor_execute", capture)


def test_purchases_decided_together_commit_with_each_ones_audit_row(
    system: Huabei, api: httpx.Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Group commit decides concurrent purchases of several requests in one transaction: each
    request's row is written in it (with its own line), none after the answer."""
    import threading

    from huabei.access import service as access

    lines = [new_account(system, user_id=f"g{i}") for i in range(8)]
    gateway = key_for(system, "gateway")
    late: list[dict[str, object]] = []
    real_record = access.record

    def record(system_: Huabei, rows: list[dict[str, object]]) -> None:
        late.extend(rows)
        real_record(system_, rows)

    monkeypatch.setattr(access, "record", record)
    base = str(api.base_url)
    barrier = threading.Barrier(len(lines))
    bought: dict[int, list[int]] = {aid: [] for aid in lines}
    body = {"amount": "1.00", "merchant_id": "m1", "merchant_category": "retail", "channel": "online"}

    def client(aid: int) -> None:
        with httpx.Client(base_url=base, headers=auth_headers(gateway), timeout=30.0) as c:
            barrier.wait()
            for j in range(10):
                r = c.post(f"/v1/accounts/{aid}/purchases", json=body, headers={"Idempotency-Key": f"k{aid}-{j}"})
                assert r.status_code == 201, r.text
                bought[aid].append(r.json()["purchase_id"])

    threads = [threading.Thread(target=client, args=(aid,)) for aid in lines]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(len(ids) == 10 for ids in bought.values())  # every client got its ten 201s
    gc = system.services["payments.group_commit"]
    assert gc.batches < gc.decided  # purchases of different requests did share transactions
    assert [r for r in late if r["route"] == "/v1/accounts/{account_id}/purchases"] == []
    rows = [r for r in _rows(system) if r.route == "/v1/accounts/{account_id}/purchases"]  # type: ignore[attr-defined]
    assert len(rows) == 80
    for aid in lines:
        mine = [r for r in rows if r.account_id == aid]  # type: ignore[attr-defined]
        assert len(mine) == 10 and all((r.status, r.outcome, r.role) == (201, "ok", "gateway") for r in mine)  # type: ignore[attr-defined]
        assert {r.path for r in mine} == {f"/v1/accounts/{aid}/purchases"}  # type: ignore[attr-defined]
