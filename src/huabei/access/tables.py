"""Access control's tables: the API keys (only their HMAC), the audit log and the staff users."""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, ForeignKey, Index, Integer, String, Table

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
    # the line the row is about: the first line the change's events name, else the path's
    # ``account_id`` (added by 0021_audit_account_id; the agent's line page reads it)
    Column("account_id", BigInteger, nullable=True),
    # who acted: a key's ``role:key_id``, or the operator at the command line (``--actor``, else
    # $HUABEI_ACTOR, else the OS user) (added by 0021_audit_account_id)
    Column("actor", String(64), nullable=True),
)
Index("ix_audit_log_key", audit_log.c.key_id, audit_log.c.audit_id)
Index("ix_audit_log_account", audit_log.c.account_id, audit_log.c.audit_id)

#: Staff who log in to the web pages with a name and a password. Each is bound to a key of their role
#: (``api_keys``, its plain text never shown): sessions, the audit log and revocation go through it.
staff_users = Table(
    "staff_users",
    metadata,
    Column("staff_id", Id, primary_key=True, autoincrement=True),
    Column("name", String(64), nullable=False, unique=True),
    Column("key_id", BigInteger, ForeignKey("api_keys.key_id"), nullable=False),
    Column("password_hash", String(255), nullable=False),  # argon2id (huabei.passwords.rules)
    Column("created_at", TS, nullable=False),
    Column("password_changed_at", TS, nullable=False),
)
Index("ix_audit_log_at", audit_log.c.at)
