"""Access control's tables: the API keys (only their HMAC) and the audit log."""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Index, Integer, String, Table

from huabei.platform.tables import TS, Id, metadata

api_keys = Table(
    "api_keys",
    metadata,
    Column("key_id", Id, primary_key=True, autoincrement=True),
    Column("digest", String(64), nullable=False, unique=True),  # hex HMAC-SHA256(server secret, key)
    Column("prefix", String(16), nullable=False),  # the key's first characters, to tell keys apart
    Column("role", String(16), nullable=False),
    Column("user_id", String(64), nullable=True),  # a customer key's user
    Column("label", String(200), nullable=False),
    Column("created_at", TS, nullable=False),
    Column("expires_at", TS, nullable=True),
    Column("revoked_at", TS, nullable=True),
)

audit_log = Table(
    "audit_log",
    metadata,
    Column("audit_id", Id, primary_key=True, autoincrement=True),
    Column("at", TS, nullable=False),
    Column("key_id", BigInteger, nullable=True),  # null: no valid key was presented
    Column("role", String(16), nullable=True),
    Column("user_id", String(64), nullable=True),
    Column("method", String(8), nullable=False),
    Column("route", String(200), nullable=False),  # the route's path template
    Column("path", String(500), nullable=False),  # the path called
    Column("status", Integer, nullable=False),
    Column("outcome", String(16), nullable=False),  # ok | refused | denied
    Column("code", String(64), nullable=True),  # the error code of a refusal or denial
)
Index("ix_audit_log_key", audit_log.c.key_id, audit_log.c.audit_id)
Index("ix_audit_log_at", audit_log.c.at)
