"""The ledger's repository: posting balanced entries, reading them, and the ledger check."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Connection, func, insert, select

from huabei.ledger.rules import (
    Entry,
    LedgerAccount,
    LedgerReport,
    validate,
    validate_billing,
)
from huabei.platform import schema as t

_ENTRY_ADD = insert(t.journal_entries).returning(t.journal_entries.c.entry_id)
_POSTINGS_ADD = insert(t.postings)


class LedgerRepository:
    def __init__(self, conn: Connection):
        self.conn = conn

    def post(self, entry: Entry, now: dt.datetime) -> int:
        if not entry.is_balanced():  # the domain builder refuses these; belt and braces
            raise ValueError("refusing to post an unbalanced entry")
        entry_id = self.conn.execute(
            _ENTRY_ADD,
            {
                "kind": entry.kind.value,
                "account_id": entry.credit_account_id,
                "ref_id": entry.ref_id,
                "amount": entry.amount,
                "memo": entry.memo,
                "business_date": entry.business_date,
                "created_at": now,
            },
        ).scalar_one()
        self.conn.execute(
            _POSTINGS_ADD,
            [
                {
                    "entry_id": entry_id,
                    "ledger_account": p.ledger_account.value,
                    "account_id": p.credit_account_id,
                    "merchant_id": p.merchant_id,
                    "amount": p.amount,
                    "business_date": entry.business_date,
                }
                for p in entry.postings
            ],
        )
        return entry_id

    def entries(self, account_id: int, limit: int, starting_after: int | None) -> list[Any]:
        c = t.journal_entries.c
        q = select(t.journal_entries).where(c.account_id == account_id)
        if starting_after is not None:
            q = q.where(c.entry_id < starting_after)
        return list(self.conn.execute(q.order_by(c.entry_id.desc()).limit(limit + 1)))

    def postings(self, account_id: int, limit: int, starting_after: int | None) -> list[Any]:
        c = t.postings.c
        q = select(t.postings).where(c.account_id == account_id)
        if starting_after is not None:
            q = q.where(c.posting_id < starting_after)
        return list(self.conn.execute(q.order_by(c.posting_id.desc()).limit(limit + 1)))

    def check(self) -> LedgerReport:
        """One validation pass over the whole ledger, set-based (no per-account queries)."""
        p, a, e, pu = t.postings.c, t.credit_accounts.c, t.journal_entries.c, t.purchases.c
        counts = (
            self.conn.execute(select(func.count()).select_from(t.journal_entries)).scalar_one(),
            self.conn.execute(select(func.count()).select_from(t.postings)).scalar_one(),
            self.conn.execute(select(func.count()).select_from(t.credit_accounts)).scalar_one(),
        )
        sums = (
            select(p.entry_id, func.sum(p.amount).label("total"), func.count().label("n"))
            .group_by(p.entry_id)
            .subquery()
        )
        unbalanced = self.conn.execute(
            select(e.entry_id, func.coalesce(sums.c.total, 0), func.coalesce(sums.c.n, 0))
            .select_from(t.journal_entries.outerjoin(sums, sums.c.entry_id == e.entry_id))
            .where((func.coalesce(sums.c.total, 0) != 0) | (func.coalesce(sums.c.n, 0) < 2))
            .order_by(e.entry_id)
        ).all()
        orphans = self.conn.execute(
            select(p.entry_id, func.sum(p.amount), func.count())
            # NOT EXISTS, an anti-join: NOT IN (subquery) goes quadratic on PostgreSQL once the
            # subquery no longer fits in work_mem (millions of entries)
            .where(~select(e.entry_id).where(e.entry_id == p.entry_id).exists())
            .group_by(p.entry_id)
        ).all()
        mismatches: list[tuple[int, str, int, int]] = []
        for column, ledger_account, sign in (
            ("used", LedgerAccount.CUSTOMER_PRINCIPAL, 1),
            ("credit_balance", LedgerAccount.CUSTOMER_CREDIT, -1),
        ):
            per_acct = (
                select(p.account_id, func.sum(p.amount).label("total"))
                .where(p.ledger_account == ledger_account.value)
                .group_by(p.account_id)
                .subquery()
            )
            stored = getattr(a, column)
            summed = sign * func.coalesce(per_acct.c.total, 0)
            rows = self.conn.execute(
                select(a.account_id, stored, summed)
                .select_from(t.credit_accounts.outerjoin(per_acct, per_acct.c.account_id == a.account_id))
                .where(stored != summed)
                .order_by(a.account_id)
            ).all()
            mismatches += [(r[0], column, r[1], r[2]) for r in rows]
            # postings on customer accounts whose credit line does not exist
            ghost = self.conn.execute(
                select(per_acct.c.account_id, per_acct.c.total).where(
                    ~select(a.account_id).where(a.account_id == per_acct.c.account_id).exists()
                )
            ).all()
            mismatches += [(r[0], column, 0, sign * r[1]) for r in ghost]
        over = self.conn.execute(
            select(pu.purchase_id, pu.amount, pu.refunded).where((pu.refunded > pu.amount) | (pu.refunded < 0))
        ).all()
        negative = self.conn.execute(
            select(a.account_id, a.used, a.credit_balance).where((a.used < 0) | (a.credit_balance < 0))
        ).all()
        neg = [(r[0], "used", r[1]) for r in negative if r[1] < 0] + [
            (r[0], "credit_balance", r[2]) for r in negative if r[2] < 0
        ]
        return validate(
            unbalanced_entries=[tuple(r) for r in unbalanced] + [tuple(r) for r in orphans],
            balance_mismatches=mismatches,
            over_refunded=[tuple(r) for r in over],
            negative_balances=neg,
            counts=counts,
            billing=self._billing_findings(),
        )

    def _billing_findings(self) -> list[Any]:
        """The billing invariants (docs/ledger.md): bills add up, receivables equal what
        bills and unbilled records say, no idle credit balance."""
        from huabei.batch.repository import EodRepository
        from huabei.billing.repository import BillingRepository

        last_close = EodRepository(self.conn).last_close()
        return validate_billing(**BillingRepository(self.conn).check(last_close))
