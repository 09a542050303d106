"""Appeals (申诉) against restrictions, and how agents decided them."""

from __future__ import annotations

from sqlalchemy import JSON, BigInteger, CheckConstraint, Column, ForeignKey, Index, String, Table, Text, text

from huabei.platform.tables import TS, Id, metadata

appeals = Table(
    "appeals",
    metadata,
    Column("appeal_id", Id, primary_key=True, autoincrement=True),
    Column("account_id", BigInteger, ForeignKey("credit_accounts.account_id"), nullable=False),
    Column("restriction_id", BigInteger, ForeignKey("restrictions.restriction_id"), nullable=False),
    Column("cause", String(64), nullable=False),
    Column("statement", Text, nullable=False),
    # {"purchase_ids": [...]}: the user's evidence, purchases of this line
    Column("evidence", JSON, nullable=False),
    Column("status", String(16), nullable=False),
    Column("created_by", String(64), nullable=False),
    Column("created_at", TS, nullable=False),
    Column("decision", String(16), nullable=True),
    Column("outcome", String(32), nullable=True),
    Column("decision_reason", Text, nullable=True),
    Column("decided_by", String(64), nullable=True),
    Column("decided_at", TS, nullable=True),
    CheckConstraint("status IN ('open', 'lifted', 'upheld')", name="status_known"),
)
Index("ix_appeals_status", appeals.c.status, appeals.c.appeal_id)
Index("ix_appeals_account", appeals.c.account_id, appeals.c.appeal_id)
# one open appeal per restriction
Index(
    "uq_appeals_one_open_per_restriction",
    appeals.c.restriction_id,
    unique=True,
    sqlite_where=text("status = 'open'"),
    postgresql_where=text("status = 'open'"),
)
