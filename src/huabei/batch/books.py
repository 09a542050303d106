"""The books check (``huabei ledger check``): the ledger's invariants and billing's, in one read.

It sits above the capabilities (beside the end-of-day job) because it proves them together: the
ledger's own invariants (``huabei.ledger``) and billing's (bills add up, receivables equal what
bills and unbilled records say, no idle credit balance; ``BillingRepository.check``).
"""

from __future__ import annotations

from huabei.ledger.rules import LedgerReport, validate_billing
from huabei.platform.unit_of_work import Huabei


def ledger_check(system: Huabei) -> LedgerReport:
    """Every invariant of the books, from one read transaction: a consistent snapshot on
    PostgreSQL and SQLite (WAL)."""
    with system.uow(readonly=True) as uow:
        billing = validate_billing(**uow.billing_check.check(uow.eod.last_close()))
        return uow.ledger.check(billing)
