"""The appeals' repository."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Connection, insert, select, update

from huabei.appeals import tables as t

_c = t.appeals.c


class AppealRepository:
    def __init__(self, conn: Connection):
        self.conn = conn

    def add(self, **values: Any) -> int:
        return self.conn.execute(insert(t.appeals).values(**values).returning(_c.appeal_id)).scalar_one()

    def get(self, appeal_id: int, *, for_update: bool = False) -> Any:
        q = select(t.appeals).where(_c.appeal_id == appeal_id)
        if for_update:
            q = q.with_for_update()
        return self.conn.execute(q).first()

    def open_for(self, restriction_id: int) -> Any:
        return self.conn.execute(
            select(t.appeals).where(_c.restriction_id == restriction_id, _c.status == "open")
        ).first()

    def listing(
        self,
        *,
        status: str | None = None,
        account_id: int | None = None,
        limit: int = 100,
        starting_after: int | None = None,
    ) -> list[Any]:
        q = select(t.appeals)
        if status is not None:
            q = q.where(_c.status == status)
        if account_id is not None:
            q = q.where(_c.account_id == account_id)
        if starting_after is not None:
            q = q.where(_c.appeal_id > starting_after)
        return list(self.conn.execute(q.order_by(_c.appeal_id).limit(limit)))

    def recently_decided(self, limit: int) -> list[Any]:
        """The last ``limit`` decided appeals, newest decision first."""
        q = select(t.appeals).where(_c.status != "open").order_by(_c.decided_at.desc(), _c.appeal_id.desc())
        return list(self.conn.execute(q.limit(limit)))

    def decide(
        self, appeal_id: int, *, status: str, decision: str, outcome: str, reason: str, by: str, now: dt.datetime
    ) -> bool:
        """Record a decision on an open appeal; False if it was not open any more."""
        n = self.conn.execute(
            update(t.appeals)
            .where(_c.appeal_id == appeal_id, _c.status == "open")
            .values(
                status=status, decision=decision, outcome=outcome, decision_reason=reason, decided_by=by, decided_at=now
            )
        ).rowcount
        return n == 1

    def outcomes(self) -> list[Any]:
        """(restriction_id, cause, outcome) of every decided appeal: the labels of the backtest."""
        return list(
            self.conn.execute(
                select(_c.restriction_id, _c.cause, _c.outcome).where(_c.outcome.is_not(None)).order_by(_c.appeal_id)
            )
        )
