"""The schema, as SQLAlchemy Core tables.

Alembic migrations (``huabei/platform/migrations``) are the only way the schema is
created; a test checks that the migrated database matches these definitions on
SQLite and PostgreSQL. All money columns are BIGINT fen.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    Column,
    Date,
    DateTime,
    Index,
    Integer,
    MetaData,
    String,
    Table,
)

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = MetaData(naming_convention=NAMING)

# BIGINT primary keys that autoincrement on SQLite too (SQLite only aliases rowid
# for "INTEGER PRIMARY KEY").
Id = BigInteger().with_variant(Integer(), "sqlite")
Money = BigInteger
TS = DateTime(timezone=True)

business_clock = Table(
    "business_clock",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("business_date", Date, nullable=False),
    Column("updated_at", TS, nullable=False),
    CheckConstraint("id = 1", name="single_row"),
)

idempotency_keys = Table(
    "idempotency_keys",
    metadata,
    Column("scope", String(64), primary_key=True),
    Column("key", String(255), primary_key=True),
    Column("request_hash", String(64), nullable=False),
    Column("status", Integer, nullable=False),
    Column("response", JSON, nullable=False),
    Column("created_at", TS, nullable=False),
)

domain_events = Table(
    "domain_events",
    metadata,
    Column("event_id", Id, primary_key=True, autoincrement=True),
    Column("event_type", String(64), nullable=False),
    Column("account_id", BigInteger, nullable=True),
    Column("user_id", String(64), nullable=True),
    Column("payload", JSON, nullable=False),
    Column("business_date", Date, nullable=False),
    Column("created_at", TS, nullable=False),
)
Index("ix_domain_events_type", domain_events.c.event_type, domain_events.c.event_id)
Index("ix_domain_events_account", domain_events.c.account_id, domain_events.c.event_id)
