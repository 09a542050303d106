"""The restrictions' repository."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, bindparam, insert, or_, select, update

from huabei.platform.sql import AccountRange, in_chunks, in_range
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

    def active_of(self, account_ids: Sequence[int]) -> dict[int, list[Any]]:
        """:meth:`active` of many lines at once (one query per thousand): ``account_id -> rows``,
        oldest first; lines with none are absent."""
        c = t.restrictions.c
        out: dict[int, list[Any]] = {}
        for chunk in in_chunks(sorted(set(account_ids))):
            q = select(t.restrictions).where(c.account_id.in_(chunk), c.active.is_(True))
            for r in self.conn.execute(q.order_by(c.account_id, c.restriction_id)):
                out.setdefault(r.account_id, []).append(r)
        return out

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

    def due_to_lift(self, today: dt.date, accounts: AccountRange | None = None) -> list[Any]:
        c = t.restrictions.c
        return list(
            self.conn.execute(
                select(c.restriction_id, c.account_id, c.cause)
                .where(
                    c.active.is_(True),
                    c.lifts_on.is_not(None),
                    c.lifts_on <= today,
                    in_range(c.account_id, accounts),
                )
                .order_by(c.account_id, c.restriction_id)
            )
        )

    def placed_by_rules(self, account_ids: Sequence[int] | None = None) -> list[Any]:
        """Active restrictions a risk rule placed (every line, or ``account_ids``)."""
        c = t.restrictions.c
        q = select(
            c.restriction_id, c.account_id, c.cause, c.rule_id, c.severity, c.placed_on, c.last_signal_on, c.evidence
        ).where(c.active.is_(True), c.rule_id.is_not(None))
        if account_ids is not None:
            q = q.where(c.account_id.in_(list(account_ids)))
        return list(self.conn.execute(q.order_by(c.account_id, c.restriction_id)))

    def new_signal(self, rows: Sequence[dict[str, Any]]) -> None:
        """``[{r_id, on, lifts_on}]``: the trigger held again on ``on``; the lift moves to ``lifts_on``."""
        if rows:
            c = t.restrictions.c
            self.conn.execute(
                update(t.restrictions)
                .where(c.restriction_id == bindparam("r_id"))
                .values(last_signal_on=bindparam("on"), lifts_on=bindparam("lifts_on")),
                list(rows),
            )

    def set_lift_evidence(self, rows: Sequence[dict[str, Any]]) -> None:
        """``[{r_id, lift_evidence}]``: the rule and inputs that lifted each restriction."""
        if rows:
            c = t.restrictions.c
            self.conn.execute(
                update(t.restrictions)
                .where(c.restriction_id == bindparam("r_id"))
                .values(lift_evidence=bindparam("lift_evidence")),
                list(rows),
            )
