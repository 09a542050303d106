"""Access control's queries: keys by digest, the audit log."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Connection, insert, or_, select, update

from huabei.access import tables as t


class KeyRepository:
    def __init__(self, conn: Connection):
        self.conn = conn

    def add(self, **values: Any) -> int:
        return self.conn.execute(insert(t.api_keys).values(**values).returning(t.api_keys.c.key_id)).scalar_one()

    def by_digest(self, digest: str) -> Any:
        return self.conn.execute(select(t.api_keys).where(t.api_keys.c.digest == digest)).first()

    def get(self, key_id: int) -> Any:
        return self.conn.execute(select(t.api_keys).where(t.api_keys.c.key_id == key_id)).first()

    def all(self, include_revoked: bool = False) -> list[Any]:
        q = select(t.api_keys).order_by(t.api_keys.c.key_id)
        if not include_revoked:
            q = q.where(t.api_keys.c.revoked_at.is_(None))
        return list(self.conn.execute(q))

    def revoke(self, key_id: int, at: dt.datetime) -> bool:
        c = t.api_keys.c
        res = self.conn.execute(
            update(t.api_keys).where(c.key_id == key_id, c.revoked_at.is_(None)).values(revoked_at=at)
        )
        return res.rowcount == 1


class AuditRepository:
    def __init__(self, conn: Connection):
        self.conn = conn

    def add(self, **values: Any) -> None:
        self.conn.execute(insert(t.audit_log).values(**values))

    def recent(
        self, limit: int, starting_after: int | None = None, key_id: int | None = None, path_prefix: str | None = None
    ) -> list[Any]:
        c = t.audit_log.c
        q = select(t.audit_log).order_by(c.audit_id.desc()).limit(limit)
        if starting_after is not None:
            q = q.where(c.audit_id < starting_after)
        if key_id is not None:
            q = q.where(c.key_id == key_id)
        if path_prefix is not None:
            q = q.where(c.path.startswith(path_prefix, autoescape=True))
        return list(self.conn.execute(q))

    def about(self, paths: list[str], user_id: str | None, limit: int) -> list[Any]:
        """The newest rows on these paths (the path itself or below it) or by this user."""
        c = t.audit_log.c
        conds = [or_(c.path == p, c.path.startswith(p + "/", autoescape=True)) for p in paths]
        if user_id is not None:
            conds.append(c.user_id == user_id)
        q = select(t.audit_log).where(or_(*conds)).order_by(c.audit_id.desc()).limit(limit)
        return list(self.conn.execute(q))
