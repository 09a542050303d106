"""Tables of credit lines: users, lines (limits, used, block), purchases, declines, refunds,
repayments and every limit change. All money columns are BIGINT fen."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    text,
)

from huabei.platform.tables import TS, Id, Money, metadata

users = Table(
    "users",
    metadata,
    Column("user_id", String(64), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("phone", String(32), nullable=False),
    Column("real_name_verified", Boolean, nullable=False),
    Column("profile", JSON, nullable=False),
    Column("created_on", Date, nullable=False),
    Column("created_at", TS, nullable=False),
)

credit_accounts = Table(
    "credit_accounts",
    metadata,
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
    # who funds the line (资金方): ``platform`` or a partner of ``funding.partners``
    Column("funding_source", String(32), nullable=False, server_default=text("'platform'")),
    # the product (产品): ``huabei`` (花呗), or ``xinyonggou`` (信用购: a partner's funded balances
    # moved off a 花呗 line by brand isolation, ``huabei.funding``); one open line per user and product
    Column("product", String(16), nullable=False, server_default=text("'huabei'")),
    CheckConstraint("base_limit >= 0", name="base_limit_non_negative"),
    CheckConstraint("temporary_limit >= 0", name="temporary_limit_non_negative"),
    CheckConstraint("used >= 0", name="used_non_negative"),
    CheckConstraint("credit_balance >= 0", name="credit_balance_non_negative"),
    CheckConstraint("state IN ('open', 'closed')", name="state_known"),
)
Index(
    "uq_credit_accounts_one_open_per_user_product",
    credit_accounts.c.user_id,
    credit_accounts.c.product,
    unique=True,
    sqlite_where=text("state = 'open'"),
    postgresql_where=text("state = 'open'"),
)
# the lines of a user, every state: the features keyed by user (score, reports from the host,
# profile changes …) join a book's lines on it; without it SQLite scans every line for each user
Index("ix_credit_accounts_user", credit_accounts.c.user_id)

purchases = Table(
    "purchases",
    metadata,
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
    # the payment device the host reports with the purchase (added by migration 0008_risk_inputs)
    Column("device_id", String(64), nullable=True),
    # who funded it (资金方), the line's funding source when it was made; a brand-isolation move
    # takes a partner's purchases to the user's 信用购 line with it (added by 0014_funding)
    Column("funding_source", String(32), nullable=False, server_default=text("'platform'")),
    CheckConstraint("amount > 0", name="amount_positive"),
    CheckConstraint("refunded >= 0 AND refunded <= amount", name="refund_within_amount"),
)
Index("ix_purchases_account", purchases.c.account_id, purchases.c.purchase_id)
# the bill closing (huabei.billing) reads a cycle's purchases by date (added by migration 0002_billing)
Index("ix_purchases_business_date", purchases.c.business_date, purchases.c.account_id)

purchase_declines = Table(
    "purchase_declines",
    metadata,
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
    "refunds",
    metadata,
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
    "repayments",
    metadata,
    Column("repayment_id", Id, primary_key=True, autoincrement=True),
    Column("account_id", BigInteger, ForeignKey("credit_accounts.account_id"), nullable=False),
    Column("amount", Money, nullable=False),
    Column("allocation", JSON, nullable=False),
    Column("business_date", Date, nullable=False),
    Column("created_at", TS, nullable=False),
    CheckConstraint("amount > 0", name="amount_positive"),
)
Index("ix_repayments_account", repayments.c.account_id, repayments.c.repayment_id)

limit_changes = Table(
    "limit_changes",
    metadata,
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

#: Changes of a user's phone number or bank card (``PATCH /v1/users/{id}``): ``field`` phone |
#: bank_card, the old and new value (a card as the host masks it). The risk engine counts them.
user_profile_changes = Table(
    "user_profile_changes",
    metadata,
    Column("change_id", Id, primary_key=True, autoincrement=True),
    Column("user_id", String(64), ForeignKey("users.user_id"), nullable=False),
    Column("field", String(16), nullable=False),
    Column("old_value", String(64), nullable=True),
    Column("new_value", String(64), nullable=False),
    Column("business_date", Date, nullable=False),
    Column("created_at", TS, nullable=False),
)
Index("ix_user_profile_changes_user", user_profile_changes.c.user_id, user_profile_changes.c.business_date)

#: Identity re-verifications the host performed (``POST /v1/users/{id}/verifications``).
user_verifications = Table(
    "user_verifications",
    metadata,
    Column("verification_id", Id, primary_key=True, autoincrement=True),
    Column("user_id", String(64), ForeignKey("users.user_id"), nullable=False),
    Column("method", String(32), nullable=False),
    Column("business_date", Date, nullable=False),
    Column("created_at", TS, nullable=False),
)
Index("ix_user_verifications_user", user_verifications.c.user_id, user_verifications.c.business_date)
