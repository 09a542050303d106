"""The schema, as SQLAlchemy Core tables.

Alembic migrations (``huabei/store/migrations``) are the only way the schema is
created; a test checks that the migrated database matches these definitions on
SQLite and PostgreSQL. All money columns are BIGINT fen.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    text,
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
    "business_clock", metadata,
    Column("id", Integer, primary_key=True),
    Column("business_date", Date, nullable=False),
    Column("updated_at", TS, nullable=False),
    CheckConstraint("id = 1", name="single_row"),
)

users = Table(
    "users", metadata,
    Column("user_id", String(64), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("phone", String(32), nullable=False),
    Column("real_name_verified", Boolean, nullable=False),
    Column("profile", JSON, nullable=False),
    Column("created_on", Date, nullable=False),
    Column("created_at", TS, nullable=False),
)

credit_accounts = Table(
    "credit_accounts", metadata,
    Column("account_id", Id, primary_key=True, autoincrement=True),
    Column("user_id", String(64), ForeignKey("users.user_id"), nullable=False),
    Column("state", String(16), nullable=False),
    Column("base_limit", Money, nullable=False),
    Column("temporary_limit", Money, nullable=False, server_default=text("0")),
    Column("temporary_limit_expires_on", Date, nullable=True),
    Column("used", Money, nullable=False, server_default=text("0")),
    Column("credit_balance", Money, nullable=False, server_default=text("0")),
    # NULL when purchases are allowed; else the decline code ("account_overdue",
    # "account_frozen:<cause>"). Kept in the same transaction as what causes it.
    Column("block_code", String(64), nullable=True),
    Column("due_day", Integer, nullable=False),
    Column("opened_on", Date, nullable=False),
    Column("closed_on", Date, nullable=True),
    Column("created_at", TS, nullable=False),
    CheckConstraint("base_limit >= 0", name="base_limit_non_negative"),
    CheckConstraint("temporary_limit >= 0", name="temporary_limit_non_negative"),
    CheckConstraint("used >= 0", name="used_non_negative"),
    CheckConstraint("credit_balance >= 0", name="credit_balance_non_negative"),
    CheckConstraint("state IN ('open', 'closed')", name="state_known"),
)
Index("uq_credit_accounts_one_open_per_user", credit_accounts.c.user_id, unique=True,
      sqlite_where=text("state = 'open'"), postgresql_where=text("state = 'open'"))

purchases = Table(
    "purchases", metadata,
    Column("purchase_id", Id, primary_key=True, autoincrement=True),
    Column("account_id", BigInteger, ForeignKey("credit_accounts.account_id"), nullable=False),
    Column("amount", Money, nullable=False),
    Column("refunded", Money, nullable=False, server_default=text("0")),
    Column("merchant_id", String(64), nullable=False),
    Column("merchant_category", String(32), nullable=False),
    Column("channel", String(16), nullable=False),
    Column("business_date", Date, nullable=False),
    Column("created_at", TS, nullable=False),
    # the part of the amount spent on a temporary limit (临时额度): billed normally, never
    # converted into installments (added by migration 0002_billing)
    Column("on_temporary_limit", Money, nullable=False, server_default=text("0")),
    CheckConstraint("amount > 0", name="amount_positive"),
    CheckConstraint("refunded >= 0 AND refunded <= amount", name="refund_within_amount"),
)
Index("ix_purchases_account", purchases.c.account_id, purchases.c.purchase_id)

purchase_declines = Table(
    "purchase_declines", metadata,
    Column("decline_id", Id, primary_key=True, autoincrement=True),
    Column("account_id", BigInteger, nullable=False),
    Column("amount", Money, nullable=False),
    Column("merchant_id", String(64), nullable=False),
    Column("merchant_category", String(32), nullable=False),
    Column("channel", String(16), nullable=False),
    Column("code", String(64), nullable=False),
    Column("business_date", Date, nullable=False),
    Column("created_at", TS, nullable=False),
)
Index("ix_purchase_declines_account", purchase_declines.c.account_id, purchase_declines.c.decline_id)

refunds = Table(
    "refunds", metadata,
    Column("refund_id", Id, primary_key=True, autoincrement=True),
    Column("purchase_id", BigInteger, ForeignKey("purchases.purchase_id"), nullable=False),
    Column("account_id", BigInteger, ForeignKey("credit_accounts.account_id"), nullable=False),
    Column("amount", Money, nullable=False),
    Column("to_principal", Money, nullable=False),
    Column("to_credit", Money, nullable=False),
    Column("business_date", Date, nullable=False),
    Column("created_at", TS, nullable=False),
    CheckConstraint("amount > 0 AND amount = to_principal + to_credit", name="split_adds_up"),
)
Index("ix_refunds_purchase", refunds.c.purchase_id)

repayments = Table(
    "repayments", metadata,
    Column("repayment_id", Id, primary_key=True, autoincrement=True),
    Column("account_id", BigInteger, ForeignKey("credit_accounts.account_id"), nullable=False),
    Column("amount", Money, nullable=False),
    Column("allocation", JSON, nullable=False),
    Column("business_date", Date, nullable=False),
    Column("created_at", TS, nullable=False),
    CheckConstraint("amount > 0", name="amount_positive"),
)
Index("ix_repayments_account", repayments.c.account_id, repayments.c.repayment_id)

journal_entries = Table(
    "journal_entries", metadata,
    Column("entry_id", Id, primary_key=True, autoincrement=True),
    Column("kind", String(32), nullable=False),
    Column("account_id", BigInteger, nullable=True),
    Column("ref_id", BigInteger, nullable=True),
    Column("amount", Money, nullable=False),
    Column("memo", Text, nullable=True),
    Column("business_date", Date, nullable=False),
    Column("created_at", TS, nullable=False),
)
Index("ix_journal_entries_account", journal_entries.c.account_id, journal_entries.c.entry_id)

postings = Table(
    "postings", metadata,
    Column("posting_id", Id, primary_key=True, autoincrement=True),
    Column("entry_id", BigInteger, ForeignKey("journal_entries.entry_id"), nullable=False),
    Column("ledger_account", String(32), nullable=False),
    Column("account_id", BigInteger, nullable=True),
    Column("merchant_id", String(64), nullable=True),
    Column("amount", Money, nullable=False),
    Column("business_date", Date, nullable=False),
)
Index("ix_postings_entry", postings.c.entry_id)
Index("ix_postings_account", postings.c.account_id, postings.c.ledger_account)

idempotency_keys = Table(
    "idempotency_keys", metadata,
    Column("scope", String(64), primary_key=True),
    Column("key", String(255), primary_key=True),
    Column("request_hash", String(64), nullable=False),
    Column("status", Integer, nullable=False),
    Column("response", JSON, nullable=False),
    Column("created_at", TS, nullable=False),
)

restrictions = Table(
    "restrictions", metadata,
    Column("restriction_id", Id, primary_key=True, autoincrement=True),
    Column("account_id", BigInteger, ForeignKey("credit_accounts.account_id"), nullable=False),
    Column("cause", String(64), nullable=False),
    Column("active", Boolean, nullable=False),
    Column("evidence", JSON, nullable=False),
    Column("note", Text, nullable=True),
    Column("placed_on", Date, nullable=False),
    Column("placed_by", String(64), nullable=False),
    Column("lifts_on", Date, nullable=True),
    Column("lifted_on", Date, nullable=True),
    Column("lifted_by", String(64), nullable=True),
    Column("lift_reason", String(64), nullable=True),
    Column("created_at", TS, nullable=False),
)
Index("ix_restrictions_account_active", restrictions.c.account_id, restrictions.c.active)

limit_changes = Table(
    "limit_changes", metadata,
    Column("change_id", Id, primary_key=True, autoincrement=True),
    Column("account_id", BigInteger, ForeignKey("credit_accounts.account_id"), nullable=False),
    Column("limit_kind", String(16), nullable=False),
    Column("old_value", Money, nullable=False),
    Column("new_value", Money, nullable=False),
    Column("expires_on", Date, nullable=True),
    Column("reasons", JSON, nullable=False),
    Column("policy_version", String(32), nullable=False),
    Column("actor", String(64), nullable=False),
    Column("business_date", Date, nullable=False),
    Column("created_at", TS, nullable=False),
)
Index("ix_limit_changes_account", limit_changes.c.account_id, limit_changes.c.change_id)

domain_events = Table(
    "domain_events", metadata,
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

from huabei.store import tables_billing  # noqa: E402,F401

from huabei.store import tables_scoring  # noqa: E402,F401
