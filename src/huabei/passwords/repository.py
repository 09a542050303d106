"""The payment passwords' repository. Wrong attempts are counted by one conditional UPDATE."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, case, insert, or_, select, update

from huabei.passwords import tables as t

_c = t.payment_passwords.c


class PasswordRepository:
    def __init__(self, conn: Connection):
        self.conn = conn

    def get(self, user_id: str) -> Any:
        return self.conn.execute(select(t.payment_passwords).where(_c.user_id == user_id)).first()

    def with_password(self, user_ids: Sequence[str]) -> set[str]:
        """Which of these users have a payment password (one query)."""
        if not user_ids:
            return set()
        return set(self.conn.execute(select(_c.user_id).where(_c.user_id.in_(sorted(set(user_ids))))).scalars())

    def add(self, user_id: str, password_hash: str, now: dt.datetime) -> None:
        self.conn.execute(
            insert(t.payment_passwords).values(
                user_id=user_id,
                password_hash=password_hash,
                failed_attempts=0,
                locked_until=None,
                set_at=now,
                updated_at=now,
            )
        )

    def replace(self, user_id: str, password_hash: str, now: dt.datetime) -> None:
        """A new password, the count at zero and no lock."""
        self.conn.execute(
            update(t.payment_passwords)
            .where(_c.user_id == user_id)
            .values(password_hash=password_hash, failed_attempts=0, locked_until=None, set_at=now, updated_at=now)
        )

    def count_wrong(
        self, user_id: str, checked_hash: str, *, attempts: int, lock_until: dt.datetime, now: dt.datetime
    ) -> Any:
        """Count one wrong password against ``checked_hash``, atomically: the N-th consecutive
        one (``attempts``) sets the lock and restarts the count. Matches no row (None) when the
        password changed meanwhile or payments are already locked — a concurrent attempt that
        lost the race counts nothing. Returns (failed_attempts, locked_until) after the update."""
        reaches = _c.failed_attempts + 1 >= attempts
        return self.conn.execute(
            update(t.payment_passwords)
            .where(
                _c.user_id == user_id,
                _c.password_hash == checked_hash,
                or_(_c.locked_until.is_(None), _c.locked_until <= now),
            )
            .values(
                failed_attempts=case((reaches, 0), else_=_c.failed_attempts + 1),
                locked_until=case((reaches, lock_until), else_=None),
                updated_at=now,
            )
            .returning(_c.failed_attempts, _c.locked_until)
        ).first()

    def clear_count(self, user_id: str, now: dt.datetime) -> None:
        """A correct password: the count of wrong ones restarts (an expired lock is forgotten)."""
        self.conn.execute(
            update(t.payment_passwords)
            .where(_c.user_id == user_id, or_(_c.failed_attempts > 0, _c.locked_until <= now))
            .values(failed_attempts=0, locked_until=None, updated_at=now)
        )
