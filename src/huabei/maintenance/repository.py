"""The maintenance windows' repository. Timestamps are bound and stored in UTC."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Connection, insert, select, update

from huabei.maintenance import tables as t

_c = t.maintenance_windows.c


class MaintenanceRepository:
    def __init__(self, conn: Connection):
        self.conn = conn

    def add(self, **values: Any) -> int:
        return self.conn.execute(insert(t.maintenance_windows).values(**values).returning(_c.window_id)).scalar_one()

    def get(self, window_id: int, *, for_update: bool = False) -> Any:
        q = select(t.maintenance_windows).where(_c.window_id == window_id)
        if for_update:
            q = q.with_for_update()
        return self.conn.execute(q).first()

    def active_at(self, now: dt.datetime) -> list[Any]:
        """Windows in force at ``now`` (not cancelled), latest end first. One indexed query: the
        purchase path runs it on every purchase."""
        return list(
            self.conn.execute(
                select(_c.window_id, _c.starts_at, _c.ends_at, _c.scope, _c.target)
                .where(_c.ends_at > now, _c.starts_at <= now, _c.cancelled_at.is_(None))
                .order_by(_c.ends_at.desc(), _c.window_id)
            )
        )

    def listing(self, *, not_ended_at: dt.datetime | None = None) -> list[Any]:
        q = select(t.maintenance_windows)
        if not_ended_at is not None:
            q = q.where(_c.ends_at > not_ended_at, _c.cancelled_at.is_(None))
        return list(self.conn.execute(q.order_by(_c.starts_at, _c.window_id)))

    def cancel(self, window_id: int, *, now: dt.datetime, by: str, reason: str | None) -> bool:
        """Cancel a window not cancelled and not ended yet; False otherwise."""
        n = self.conn.execute(
            update(t.maintenance_windows)
            .where(_c.window_id == window_id, _c.cancelled_at.is_(None), _c.ends_at > now)
            .values(cancelled_at=now, cancelled_by=by, cancel_reason=reason)
        ).rowcount
        return n == 1
