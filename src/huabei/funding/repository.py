"""The brand-isolation moves' repository."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, insert, select, update

from huabei.funding import tables as t

_m = t.funding_moves.c


class FundingRepository:
    def __init__(self, conn: Connection):
        self.conn = conn

    def add_migration(self, **values: Any) -> int:
        c = t.funding_migrations.c
        return self.conn.execute(insert(t.funding_migrations).values(**values).returning(c.migration_id)).scalar_one()

    def finish_migration(self, migration_id: int, **values: Any) -> None:
        c = t.funding_migrations.c
        self.conn.execute(update(t.funding_migrations).where(c.migration_id == migration_id).values(**values))

    def migration(self, migration_id: int) -> Any:
        c = t.funding_migrations.c
        return self.conn.execute(select(t.funding_migrations).where(c.migration_id == migration_id)).first()

    def moves(self, partner: str, status: str | None = None) -> list[Any]:
        """The partner's moves in line order (``status``: only those)."""
        q = select(t.funding_moves).where(_m.partner == partner)
        if status is not None:
            q = q.where(_m.status == status)
        return list(self.conn.execute(q.order_by(_m.account_id)))

    def get(self, partner: str, account_id: int) -> Any:
        return self.conn.execute(
            select(t.funding_moves).where(_m.partner == partner, _m.account_id == account_id)
        ).first()

    def involving(self, account_id: int) -> list[Any]:
        """Moves from or to this line (what its diagnosis tells the user)."""
        q = select(t.funding_moves).where((_m.account_id == account_id) | (_m.to_account_id == account_id))
        return list(self.conn.execute(q.order_by(_m.account_id)))

    def add_pause(self, **values: Any) -> None:
        """A line paused for its move; the primary key (partner, account_id) refuses a second."""
        self.conn.execute(insert(t.funding_moves).values(**values))

    def mark_moved(self, partner: str, account_id: int, **values: Any) -> bool:
        """paused → moved; False when it was no longer paused (a concurrent rerun moved it)."""
        n = self.conn.execute(
            update(t.funding_moves)
            .where(_m.partner == partner, _m.account_id == account_id, _m.status == "paused")
            .values(status="moved", **values)
        ).rowcount
        return n == 1
