"""Access control's queries: keys by digest, staff users by name, the audit log."""

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


class StaffRepository:
    def __init__(self, conn: Connection):
        self.conn = conn

    def add(self, **values: Any) -> int:
        return self.conn.execute(
            insert(t.staff_users).values(**values).returning(t.staff_users.c.staff_id)
        ).scalar_one()

    def by_name(self, name: str) -> Any:
        return self.conn.execute(select(t.staff_users).where(t.staff_users.c.name == name)).first()

    def by_key(self, key_id: int) -> Any:
        """The staff user a login key belongs to (None: a plain API key)."""
        return self.conn.execute(select(t.staff_users).where(t.staff_users.c.key_id == key_id)).first()

    def all(self) -> list[Any]:
        s, k = t.staff_users.c, t.api_keys.c
        q = (
            select(s.staff_id, s.name, s.key_id, k.role, s.created_at, s.password_changed_at, k.revoked_at)
            .select_from(t.staff_users.join(t.api_keys, k.key_id == s.key_id))
            .order_by(s.name)
        )
        return list(self.conn.execute(q))

    def set_password(self, staff_id: int, password_hash: str, at: dt.datetime) -> None:
        self.conn.execute(
            update(t.staff_users)
            .where(t.staff_users.c.staff_id == staff_id)
            .values(password_hash=password_hash, password_changed_at=at)
        )


class AuditRepository:
    def __init__(self, conn: Connection):
        self.conn = conn
        #: the row this transaction wrote itself (a use case that audits its own change)
        self.written: int | None = None

    def add(self, **values: Any) -> int:
        audit_id: int = self.conn.execute(
            insert(t.audit_log).values(**values).returning(t.audit_log.c.audit_id)
        ).scalar_one()
        self.written = audit_id
        return audit_id

    def complete(self, audit_id: int, *, status: int, outcome: str, code: str | None) -> None:
        """The answer of a request whose row was written with its state change."""
        c = t.audit_log.c
        self.conn.execute(
            update(t.audit_log).where(c.audit_id == audit_id).values(status=status, outcome=outcome, code=code)
        )

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

    def about(self, account_id: int, user_id: str | None, limit: int) -> list[Any]:
        """The newest rows about this line (``account_id``) or by its user (a customer's own calls)."""
        c = t.audit_log.c
        cond = c.account_id == account_id
        if user_id is not None:
            cond = or_(cond, c.user_id == user_id)
        q = select(t.audit_log).where(cond).order_by(c.audit_id.desc()).limit(limit)
        return list(self.conn.execute(q))
