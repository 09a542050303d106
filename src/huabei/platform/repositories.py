"""The platform's repositories: the business clock, idempotency keys and the event outbox.

Each works on the unit of work's connection; statements on a hot path are built once.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, bindparam, insert, select, tuple_, update

from huabei.events import DomainEvent
from huabei.platform import tables as t

_CLOCK_GET = select(t.business_clock.c.business_date).where(t.business_clock.c.id == 1)
#: The clock read of a writing transaction: ``FOR KEY SHARE`` on PostgreSQL (nothing on SQLite,
#: whose writers are serialised anyway), so moving the date waits for it (see ClockRepository).
_CLOCK_SHARE = _CLOCK_GET.with_for_update(read=True, key_share=True)
_CLOCK_LOCK = _CLOCK_GET.with_for_update()
_ik = t.idempotency_keys.c
_IDEMPOTENCY_GET = select(_ik.request_hash, _ik.status, _ik.response).where(
    _ik.scope == bindparam("idem_scope", type_=_ik.scope.type), _ik.key == bindparam("idem_key", type_=_ik.key.type)
)
_IDEMPOTENCY_PUT = insert(t.idempotency_keys)
del _ik


class ClockRepository:
    def __init__(self, conn: Connection):
        self.conn = conn

    def get(self, *, share: bool = False) -> dt.date | None:
        """The stored business date. ``share``: the read of a transaction that writes, which holds
        the clock row (``FOR KEY SHARE``) until it ends — the **barrier**: a date change takes the
        row ``FOR UPDATE`` first (:meth:`lock`), so it waits for every writing transaction that
        read the old date, and every one that starts later waits for it and reads the new date."""
        return self.conn.execute(_CLOCK_SHARE if share else _CLOCK_GET).scalar()

    def lock(self, timeout_seconds: float | None = None) -> dt.date | None:
        """Take the clock row ``FOR UPDATE`` (waiting at most ``timeout_seconds`` on PostgreSQL, then
        ``OperationalError``): from here no writing transaction holds the old date."""
        if timeout_seconds is not None and self.conn.dialect.name == "postgresql":
            self.conn.exec_driver_sql(f"SET LOCAL lock_timeout = '{int(timeout_seconds * 1000)}ms'")
        day = self.conn.execute(_CLOCK_LOCK).scalar()
        if timeout_seconds is not None and self.conn.dialect.name == "postgresql":
            self.conn.exec_driver_sql("SET LOCAL lock_timeout = 0")
        return day

    def move(self, day: dt.date, now: dt.datetime, timeout_seconds: float) -> dt.date | None:
        """Move the date to ``day`` behind the barrier (:meth:`lock`, then set); returns the date
        it stood at. The caller commits."""
        current = self.lock(timeout_seconds)
        self.set(day, now)
        return current

    def set(self, day: dt.date, now: dt.datetime) -> None:
        n = self.conn.execute(
            update(t.business_clock).where(t.business_clock.c.id == 1).values(business_date=day, updated_at=now)
        ).rowcount
        if n == 0:
            self.conn.execute(insert(t.business_clock).values(id=1, business_date=day, updated_at=now))


class IdempotencyRepository:
    def __init__(self, conn: Connection):
        self.conn = conn

    def get(self, scope: str, key: str) -> Any:
        return self.conn.execute(_IDEMPOTENCY_GET, {"idem_scope": scope, "idem_key": key}).first()

    def get_many(self, pairs: Sequence[tuple[str, str]]) -> dict[tuple[str, str], Any]:
        """The stored answers of these (scope, key) pairs, in one query (a batch reads its keys)."""
        if not pairs:
            return {}
        c = t.idempotency_keys.c
        rows = self.conn.execute(
            select(c.scope, c.key, c.request_hash, c.status, c.response).where(
                tuple_(c.scope, c.key).in_(sorted(set(pairs)))
            )
        )
        return {(r.scope, r.key): r for r in rows}

    def put(
        self, scope: str, key: str, request_hash: str, status: int, response: dict[str, Any], now: dt.datetime
    ) -> None:
        self.conn.execute(
            _IDEMPOTENCY_PUT,
            {
                "scope": scope,
                "key": key,
                "request_hash": request_hash,
                "status": status,
                "response": response,
                "created_at": now,
            },
        )

    def put_many(self, rows: Sequence[dict[str, Any]]) -> None:
        """Store many answers in one statement (rows as :meth:`put` takes them: scope, key,
        request_hash, status, response, created_at). A key already stored fails it as a whole."""
        if rows:
            self.conn.execute(insert(t.idempotency_keys), rows)


class EventRepository:
    def __init__(self, conn: Connection):
        self.conn = conn
        #: the first line an event of this transaction named (the audit row's ``account_id``)
        self.first_account_id: int | None = None

    def record(self, event: DomainEvent, *, business_date: dt.date, now: dt.datetime) -> None:
        """Write one typed event (:mod:`huabei.events`) to the outbox."""
        row = event.row(business_date, now)
        if self.first_account_id is None:
            self.first_account_id = row["account_id"]
        self.conn.execute(insert(t.domain_events).values(**row))

    def record_many(self, events: Sequence[DomainEvent], *, business_date: dt.date, now: dt.datetime) -> None:
        """Write typed events in one batched insert."""
        if events:
            rows = [e.row(business_date, now) for e in events]
            if self.first_account_id is None:
                self.first_account_id = next((r["account_id"] for r in rows if r["account_id"] is not None), None)
            self.conn.execute(insert(t.domain_events), rows)

    def for_account(self, account_id: int, event_type: str | None = None) -> list[Any]:
        c = t.domain_events.c
        q = select(t.domain_events).where(c.account_id == account_id)
        if event_type:
            q = q.where(c.event_type == event_type)
        return list(self.conn.execute(q.order_by(c.event_id)))
