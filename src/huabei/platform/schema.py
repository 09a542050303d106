"""The whole schema: every capability's tables on the one shared metadata.

Alembic's environment, the tests and whole-book readers (the simulation's invariants and report,
the benchmarks) use it; a capability uses its own ``tables`` module.
"""

from __future__ import annotations

from huabei.access.tables import api_keys, audit_log, staff_users
from huabei.appeals.tables import appeals
from huabei.batch.tables import eod_days, eod_quarantine, eod_runs
from huabei.billing.tables import (
    account_delinquency,
    bill_accruals,
    bill_allocations,
    bill_lines,
    bills,
    bureau_records,
    delinquency_months,
    due_day_changes,
    installment_periods,
    installment_plans,
)
from huabei.funding.tables import funding_migrations, funding_moves
from huabei.ledger.tables import journal_entries, postings
from huabei.limits.tables import campaign_enrolments, limit_raise_applications
from huabei.lines.tables import (
    credit_accounts,
    limit_changes,
    purchase_declines,
    purchases,
    refunds,
    repayments,
    user_profile_changes,
    user_verifications,
    users,
)
from huabei.maintenance.tables import maintenance_windows
from huabei.passwords.tables import payment_passwords
from huabei.platform.tables import (
    business_clock,
    domain_events,
    idempotency_keys,
    metadata,
)
from huabei.restrictions.tables import restrictions
from huabei.risk.tables import external_credit_reports, risk_decisions, risk_policies, risk_policy_activations
from huabei.scoring.tables import (
    activity_events,
    credit_scores,
    scorecard_activations,
    user_contacts,
    user_facts,
    user_facts_current,
)
from huabei.sweeps.tables import sweep_actions, sweeps

__all__ = [
    "account_delinquency",
    "activity_events",
    "api_keys",
    "appeals",
    "audit_log",
    "bill_accruals",
    "bill_allocations",
    "bill_lines",
    "bills",
    "bureau_records",
    "business_clock",
    "campaign_enrolments",
    "credit_accounts",
    "credit_scores",
    "delinquency_months",
    "domain_events",
    "due_day_changes",
    "eod_days",
    "eod_quarantine",
    "eod_runs",
    "external_credit_reports",
    "funding_migrations",
    "funding_moves",
    "idempotency_keys",
    "installment_periods",
    "installment_plans",
    "journal_entries",
    "limit_changes",
    "limit_raise_applications",
    "maintenance_windows",
    "metadata",
    "payment_passwords",
    "postings",
    "purchase_declines",
    "purchases",
    "refunds",
    "repayments",
    "restrictions",
    "risk_decisions",
    "risk_policies",
    "risk_policy_activations",
    "scorecard_activations",
    "staff_users",
    "sweep_actions",
    "sweeps",
    "user_contacts",
    "user_facts",
    "user_facts_current",
    "user_profile_changes",
    "user_verifications",
    "users",
]
