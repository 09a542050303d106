"""The sweeps' repository."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, insert, select, update

from huabei.sweeps import tables as t


class SweepRepository:
    def __init__(self, conn: Connection):
        self.conn = conn

    def add(self, **values: Any) -> int:
        return self.conn.execute(insert(t.sweeps).values(**values).returning(t.sweeps.c.sweep_id)).scalar_one()

    def get(self, sweep_id: int) -> Any:
        return self.conn.execute(select(t.sweeps).where(t.sweeps.c.sweep_id == sweep_id)).first()

    def finish(self, sweep_id: int, **values: Any) -> None:
        self.conn.execute(update(t.sweeps).where(t.sweeps.c.sweep_id == sweep_id).values(**values))

    def applied_accounts(self, sweep_key: str) -> set[int]:
        c = t.sweep_actions.c
        return set(self.conn.execute(select(c.account_id).where(c.sweep_key == sweep_key)).scalars())

    def record_action(self, **values: Any) -> None:
        """One line changed by a sweep; the primary key (sweep_key, account_id) refuses a second."""
        self.conn.execute(insert(t.sweep_actions).values(**values))

    def actions_of(self, sweep_id: int) -> list[Any]:
        c = t.sweep_actions.c
        return list(self.conn.execute(select(t.sweep_actions).where(c.sweep_id == sweep_id).order_by(c.account_id)))
