"""The billing schema (bills, allocations, accruals, installments, delinquency, bureau), as SQLAlchemy Core tables on the shared metadata.

Made by the Alembic migration ``0002_billing``; ``store/tables.py`` imports this module at
its bottom so ``tables.metadata`` is complete. Every money column is BIGINT fen. Exact
accrual totals (a fraction of a fen) are decimal *strings*, never floats: SQLite has no
exact decimal type, and the rounding rule needs the exact cumulative amount
(``huabei.billing.rules.AccrualState``). See docs/billing.md, "Storage".

=====================  ===========================================================
table                  one row per
=====================  ===========================================================
bills                  closed bill (账单) of a credit line: totals, minimum, what is
                       still unpaid by component, accrual state, status
bill_lines             line of a closed bill (purchase, refund, installment part,
                       interest, penalty, repayment, carried balance / credit)
bill_allocations       part of a repayment, refund or credit applied to a bill
                       component — or, ``bill_id`` NULL, to the unbilled principal
                       (``unbilled_principal``) or kept as a credit (``credit``)
bill_accruals          interest / penalty posted by the end-of-day job for one bill
                       and one day (billed on the next bill by date)
installment_plans      分期 plan of a bill or a purchase
installment_periods    period of a plan; billed on the bill of its due date
account_delinquency    credit line's current days past due, bucket and worst bucket
delinquency_months     worst bucket and days past due of a credit line in a month
due_day_changes        还款日 change
bureau_records         monthly credit-bureau (征信) record; a correction is a new
                       ``seq`` that supersedes the previous one
=====================  ===========================================================
"""

from __future__ import annotations

from sqlalchemy import (
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

#: An exact decimal number of fen, as text ("2812.0100").
Exact = String(64)

bills = Table(
    "bills",
    metadata,
    Column("bill_id", Id, primary_key=True, autoincrement=True),
    Column("account_id", BigInteger, ForeignKey("credit_accounts.account_id"), nullable=False),
    Column("period", String(7), nullable=False),
    Column("statement_date", Date, nullable=False),
    Column("due_date", Date, nullable=False),
    # what the lines say (huabei.billing.rules.compose_bill)
    Column("opening_balance", Money, nullable=False),  # signed: carried balance − carried credit
    Column("closing_balance", Money, nullable=False),  # signed: total_due − credit_balance
    Column("total_due", Money, nullable=False),
    Column("minimum_due", Money, nullable=False),
    Column("credit_balance", Money, nullable=False),
    Column("minimum_rated_base", Money, nullable=False),
    Column("minimum_in_full", Money, nullable=False),
    Column("temporary_limit_part", Money, nullable=False, server_default=text("0")),
    Column("installment_principal", Money, nullable=False, server_default=text("0")),
    # what happened to it since
    Column("converted", Money, nullable=False, server_default=text("0")),  # turned into installments
    Column("carried_out", Money, nullable=False, server_default=text("0")),  # carried onto a later bill
    Column("paid", Money, nullable=False, server_default=text("0")),  # repayments, refunds, credit applied
    Column("paid_by_due_date", Money, nullable=False, server_default=text("0")),
    Column("unpaid_principal", Money, nullable=False),
    Column("unpaid_fee", Money, nullable=False),
    Column("unpaid_interest", Money, nullable=False),
    Column("unpaid_penalty", Money, nullable=False),
    Column("unpaid_carried_principal", Money, nullable=False),
    Column("status", String(16), nullable=False),  # open | paid | overdue
    Column("carried_to", String(7), nullable=True),
    Column("overdue_since", Date, nullable=True),
    Column("cleared_on", Date, nullable=True),  # the day nothing was left unpaid
    # accrual states: exact cumulative fen (text) and whole fen posted
    Column("interest_exact", Exact, nullable=False, server_default=text("'0'")),
    Column("interest_posted", Money, nullable=False, server_default=text("0")),
    Column("penalty_exact", Exact, nullable=False, server_default=text("'0'")),
    Column("penalty_posted", Money, nullable=False, server_default=text("0")),
    # who funds it (资金方): its line's funding source when it was written; kept when a
    # brand-isolation move takes it to a 信用购 line (added by 0018_receivable_funders)
    Column("funding_source", String(32), nullable=False, server_default=text("'platform'")),
    Column("created_at", TS, nullable=False),
    CheckConstraint("status IN ('open', 'paid', 'overdue')", name="status_known"),
    CheckConstraint(
        "total_due >= 0 AND minimum_due >= 0 AND minimum_due <= total_due AND credit_balance >= 0", name="totals_valid"
    ),
    CheckConstraint(
        "unpaid_principal >= 0 AND unpaid_fee >= 0 AND unpaid_interest >= 0 AND unpaid_penalty >= 0 "
        "AND unpaid_carried_principal >= 0 AND unpaid_carried_principal <= unpaid_principal",
        name="unpaid_not_negative",
    ),
    CheckConstraint(
        "paid >= 0 AND converted >= 0 AND carried_out >= 0 AND paid_by_due_date >= 0", name="movements_not_negative"
    ),
)
Index("uq_bills_account_period", bills.c.account_id, bills.c.period, unique=True)
# the end-of-day job reads every bill still owed something; paid bills are the bulk and are skipped
Index(
    "ix_bills_unpaid",
    bills.c.status,
    bills.c.account_id,
    sqlite_where=text("status <> 'paid'"),
    postgresql_where=text("status <> 'paid'"),
)

# No foreign-key trigger on bill_lines.bill_id: the closing writes some ten lines per bill
# (ten million a month for a million lines) in the transaction that writes the bills, and
# the ledger check reports any line whose bill does not exist (bill_lines_add_up).
bill_lines = Table(
    "bill_lines",
    metadata,
    Column("line_id", Id, primary_key=True, autoincrement=True),
    Column("bill_id", BigInteger, nullable=False),
    Column("kind", String(32), nullable=False),
    Column("amount", Money, nullable=False),  # magnitude; the kind gives the sign
    Column("activity_date", Date, nullable=False),
    Column("ref", String(64), nullable=False),
    CheckConstraint("amount >= 0", name="amount_not_negative"),
)
Index("ix_bill_lines_bill", bill_lines.c.bill_id)

bill_allocations = Table(
    "bill_allocations",
    metadata,
    Column("allocation_id", Id, primary_key=True, autoincrement=True),
    Column("account_id", BigInteger, nullable=False),
    Column("bill_id", BigInteger, ForeignKey("bills.bill_id"), nullable=True),
    # penalty | interest | fee | principal (a bill's) ; unbilled_principal | credit (no bill yet)
    Column("component", String(24), nullable=False),
    Column("amount", Money, nullable=False),
    # repayment | refund | credit | installment (a conversion) | early_repayment
    Column("source_kind", String(24), nullable=False),
    Column("source_id", BigInteger, nullable=False),
    Column("business_date", Date, nullable=False),
    Column("by_due_date", Boolean, nullable=False),  # counts towards the minimum (dated ≤ the due date)
    CheckConstraint("amount > 0", name="amount_positive"),
)
Index("ix_bill_allocations_bill", bill_allocations.c.bill_id)
Index("ix_bill_allocations_account", bill_allocations.c.account_id, bill_allocations.c.allocation_id)
# what goes onto the next bill as repayment / refund lines: the unbilled part, by date
Index(
    "ix_bill_allocations_unbilled",
    bill_allocations.c.business_date,
    sqlite_where=text("bill_id IS NULL"),
    postgresql_where=text("bill_id IS NULL"),
)

bill_accruals = Table(
    "bill_accruals",
    metadata,
    Column("accrual_id", Id, primary_key=True, autoincrement=True),
    Column("account_id", BigInteger, nullable=False),
    Column("bill_id", BigInteger, ForeignKey("bills.bill_id"), nullable=False),
    Column("kind", String(16), nullable=False),  # interest | penalty
    Column("regime", String(16), nullable=False),  # not_due | revolving | overdue
    Column("base", Money, nullable=False),
    Column("amount", Money, nullable=False),
    Column("business_date", Date, nullable=False),
    Column("entry_id", BigInteger, nullable=False),
    # who funds it (资金方): its line's funding source when it was written; kept when a
    # brand-isolation move takes it to a 信用购 line (added by 0018_receivable_funders)
    Column("funding_source", String(32), nullable=False, server_default=text("'platform'")),
    CheckConstraint("kind IN ('interest', 'penalty')", name="kind_known"),
    CheckConstraint("amount > 0", name="amount_positive"),
)
Index("ix_bill_accruals_date", bill_accruals.c.business_date, bill_accruals.c.account_id)
Index("ix_bill_accruals_account", bill_accruals.c.account_id, bill_accruals.c.business_date)

installment_plans = Table(
    "installment_plans",
    metadata,
    Column("plan_id", Id, primary_key=True, autoincrement=True),
    Column("account_id", BigInteger, ForeignKey("credit_accounts.account_id"), nullable=False),
    Column("kind", String(16), nullable=False),  # bill | purchase
    # bill (a closed bill) | billed_purchase (a purchase on a closed bill) | unbilled_purchase
    Column("converted_from", String(24), nullable=False),
    Column("source_bill_id", BigInteger, ForeignKey("bills.bill_id"), nullable=True),
    Column("source_purchase_id", BigInteger, ForeignKey("purchases.purchase_id"), nullable=True),
    Column("principal", Money, nullable=False),
    Column("term", Integer, nullable=False),
    Column("fee_rate", String(32), nullable=False),
    Column("fee_waived", Boolean, nullable=False),
    Column("campaign", String(64), nullable=True),
    Column("total_fee", Money, nullable=False),
    Column("total", Money, nullable=False),
    Column("first_due_date", Date, nullable=False),
    Column("periods_billed", Integer, nullable=False, server_default=text("0")),
    Column("status", String(16), nullable=False),  # active | completed | repaid_early
    Column("created_on", Date, nullable=False),
    Column("closed_on", Date, nullable=True),
    Column("created_at", TS, nullable=False),
    # who funds it (资金方): its line's funding source when it was written; kept when a
    # brand-isolation move takes it to a 信用购 line (added by 0018_receivable_funders)
    Column("funding_source", String(32), nullable=False, server_default=text("'platform'")),
    CheckConstraint("principal > 0 AND term >= 2 AND total = principal + total_fee", name="amounts_valid"),
    CheckConstraint("status IN ('active', 'completed', 'repaid_early')", name="status_known"),
)
Index("ix_installment_plans_account", installment_plans.c.account_id, installment_plans.c.plan_id)
Index(
    "uq_installment_plans_bill",
    installment_plans.c.source_bill_id,
    unique=True,
    sqlite_where=text("kind = 'bill'"),
    postgresql_where=text("kind = 'bill'"),
)
Index(
    "uq_installment_plans_purchase",
    installment_plans.c.source_purchase_id,
    unique=True,
    sqlite_where=text("source_purchase_id IS NOT NULL"),
    postgresql_where=text("source_purchase_id IS NOT NULL"),
)

installment_periods = Table(
    "installment_periods",
    metadata,
    Column("plan_id", BigInteger, ForeignKey("installment_plans.plan_id"), primary_key=True),
    Column("number", Integer, primary_key=True),
    Column("account_id", BigInteger, nullable=False),
    Column("due_date", Date, nullable=False),
    Column("principal", Money, nullable=False),
    Column("fee", Money, nullable=False),
    Column("status", String(16), nullable=False),  # scheduled | billed | settled_early
    Column("bill_id", BigInteger, ForeignKey("bills.bill_id"), nullable=True),
    # who funds it (资金方): its line's funding source when it was written; kept when a
    # brand-isolation move takes it to a 信用购 line (added by 0018_receivable_funders)
    Column("funding_source", String(32), nullable=False, server_default=text("'platform'")),
    CheckConstraint("principal >= 0 AND fee >= 0", name="amounts_not_negative"),
    CheckConstraint("status IN ('scheduled', 'billed', 'settled_early')", name="status_known"),
)
# the bill closing reads the periods still to bill, by due date
Index(
    "ix_installment_periods_scheduled",
    installment_periods.c.account_id,
    installment_periods.c.due_date,
    sqlite_where=text("status = 'scheduled'"),
    postgresql_where=text("status = 'scheduled'"),
)

account_delinquency = Table(
    "account_delinquency",
    metadata,
    Column("account_id", BigInteger, ForeignKey("credit_accounts.account_id"), primary_key=True),
    Column("days_past_due", Integer, nullable=False),
    Column("bucket", String(16), nullable=False),
    Column("overdue_since", Date, nullable=True),
    Column("worst_bucket", String(16), nullable=False),
    Column("updated_on", Date, nullable=False),
)
Index("ix_account_delinquency_bucket", account_delinquency.c.bucket)

delinquency_months = Table(
    "delinquency_months",
    metadata,
    Column("account_id", BigInteger, primary_key=True),
    Column("month", String(7), primary_key=True),
    Column("worst_bucket", String(16), nullable=False),
    Column("max_days_past_due", Integer, nullable=False),
)

due_day_changes = Table(
    "due_day_changes",
    metadata,
    Column("change_id", Id, primary_key=True, autoincrement=True),
    Column("account_id", BigInteger, ForeignKey("credit_accounts.account_id"), nullable=False),
    Column("old_day", Integer, nullable=False),
    Column("new_day", Integer, nullable=False),
    Column("business_date", Date, nullable=False),
    Column("created_at", TS, nullable=False),
)
Index("ix_due_day_changes_account", due_day_changes.c.account_id, due_day_changes.c.change_id)

bureau_records = Table(
    "bureau_records",
    metadata,
    Column("record_id", Id, primary_key=True, autoincrement=True),
    Column("account_id", BigInteger, ForeignKey("credit_accounts.account_id"), nullable=False),
    Column("month", String(7), nullable=False),
    Column("seq", Integer, nullable=False),  # 1 = the original; 2, 3 … = corrections
    Column("format_version", String(16), nullable=False),
    Column("as_of", Date, nullable=False),
    Column("user_id", String(64), nullable=False),
    Column("credit_limit", Money, nullable=False),
    Column("balance", Money, nullable=False),
    Column("amount_overdue", Money, nullable=False),
    Column("days_past_due", Integer, nullable=False),
    Column("bucket", String(16), nullable=False),
    Column("worst_bucket", String(16), nullable=False),  # worst bucket during the month
    Column("account_status", String(16), nullable=False),
    Column("superseded", Boolean, nullable=False),
    Column("reason", String(64), nullable=True),  # why a correction was made
    Column("created_on", Date, nullable=False),
    Column("created_at", TS, nullable=False),
)
Index("uq_bureau_records_key", bureau_records.c.account_id, bureau_records.c.month, bureau_records.c.seq, unique=True)
Index("ix_bureau_records_month", bureau_records.c.month, bureau_records.c.superseded)
