"""The restrictions' repository."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, insert, or_, select, update

from huabei.restrictions import tables as t


class RestrictionRepository:
    def __init__(self, conn: Connection):
        self.conn = conn

    def add(self, **values: Any) -> int:
        return self.conn.execute(
            insert(t.restrictions).values(**values).returning(t.restrictions.c.restriction_id)
        ).scalar_one()

    def active(self, account_id: int) -> list[Any]:
        c = t.restrictions.c
        return list(
            self.conn.execute(
                select(t.restrictions).where(c.account_id == account_id, c.active.is_(True)).order_by(c.restriction_id)
            )
        )

    def since(self, account_id: int, day: dt.date) -> list[Any]:
        """The line's restrictions still active or placed on ``day`` or later, oldest first."""
        c = t.restrictions.c
        return list(
            self.conn.execute(
                select(t.restrictions)
                .where(c.account_id == account_id, or_(c.active.is_(True), c.placed_on >= day))
                .order_by(c.restriction_id)
            )
        )

    def get(self, restriction_id: int) -> Any:
        return self.conn.execute(
            select(t.restrictions).where(t.restrictions.c.restriction_id == restriction_id)
        ).first()

    def lift(self, restriction_ids: Sequence[int], *, on: dt.date, by: str, reason: str) -> set[int]:
        """Lift those still active; returns the ids this call lifted (a concurrent lift may have won)."""
        c = t.restrictions.c
        return set(
            self.conn.execute(
                update(t.restrictions)
                .where(c.restriction_id.in_(list(restriction_ids)), c.active.is_(True))
                .values(active=False, lifted_on=on, lifted_by=by, lift_reason=reason)
                .returning(c.restriction_id)
            ).scalars()
        )

    def due_to_lift(self, today: dt.date) -> list[Any]:
        c = t.restrictions.c
        return list(
            self.conn.execute(
                select(c.restriction_id, c.account_id, c.cause)
                .where(c.active.is_(True), c.lifts_on.is_not(None), c.lifts_on <= today)
                .order_by(c.account_id, c.restriction_id)
            )
        )
