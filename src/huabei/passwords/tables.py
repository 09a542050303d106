"""The payment password of each user (支付密码): its argon2id hash and the wrong-attempt count."""

from __future__ import annotations

from sqlalchemy import CheckConstraint, Column, ForeignKey, Integer, String, Table

from huabei.platform.tables import TS, metadata

payment_passwords = Table(
    "payment_passwords",
    metadata,
    Column("user_id", String(64), ForeignKey("users.user_id"), primary_key=True),
    # argon2id PHC string ($argon2id$v=19$m=...,t=...,p=...$salt$hash): never the password
    Column("password_hash", String(255), nullable=False),
    # consecutive wrong passwords since the last correct one, reset or lock
    Column("failed_attempts", Integer, nullable=False),
    # payments locked until this real timestamp (UTC); NULL: not locked
    Column("locked_until", TS, nullable=True),
    Column("set_at", TS, nullable=False),
    Column("updated_at", TS, nullable=False),
    CheckConstraint("failed_attempts >= 0", name="failed_attempts_non_negative"),
)
