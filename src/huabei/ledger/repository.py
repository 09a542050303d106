"""The ledger's repository: posting balanced entries, reading them, and the ledger check."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, and_, func, insert, literal, select

from huabei.ledger.rules import (
    BALANCE_COLUMNS,
    CUSTOMER_ACCOUNTS,
    Entry,
    Finding,
    LedgerAccount,
    LedgerReport,
    validate,
)
from huabei.platform import schema as t
from huabei.platform.sql import insert_ids

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

    def post_many(self, entries: Sequence[Entry], now: dt.datetime) -> list[int]:
        """Post many balanced entries: one batched insert of the entries, one of their postings."""
        if not entries:
            return []
        for e in entries:
            if not e.is_balanced():
                raise ValueError("refusing to post an unbalanced entry")
        ids = insert_ids(
            self.conn,
            t.journal_entries,
            [
                {
                    "kind": e.kind.value,
                    "account_id": e.credit_account_id,
                    "ref_id": e.ref_id,
                    "amount": e.amount,
                    "memo": e.memo,
                    "business_date": e.business_date,
                    "created_at": now,
                }
                for e in entries
            ],
        )
        self.conn.execute(
            insert(t.postings),
            [
                {
                    "entry_id": entry_id,
                    "ledger_account": p.ledger_account.value,
                    "account_id": p.credit_account_id,
                    "merchant_id": p.merchant_id,
                    "amount": p.amount,
                    "business_date": e.business_date,
                }
                for entry_id, e in zip(ids, entries)
                for p in e.postings
            ],
        )
        return ids

    def post_charges(self, entries: Sequence[Entry], now: dt.datetime) -> list[int]:
        """Post many charge entries (fee, interest or penalty, as built by
        :func:`huabei.ledger.rules.charge_entry`) of one kind and business date, at most one
        per credit line, set-based: the entries by ``executemany``, their two postings — the
        customer receivable debited, the income credited — by two ``INSERT … SELECT``. Returns
        the entry ids in the order given."""
        if not entries:
            return []
        kind, day = entries[0].kind, entries[0].business_date
        receivable, income = (p.ledger_account for p in entries[0].postings)
        seen: set[int | None] = set()
        for e in entries:
            ps = e.postings
            if (
                (e.kind, e.business_date) != (kind, day)
                or e.credit_account_id in seen
                or len(ps) != 2
                or (ps[0].ledger_account, ps[1].ledger_account) != (receivable, income)
                or ps[0].amount != e.amount
                or ps[1].amount != -e.amount
                or ps[0].credit_account_id != e.credit_account_id
            ):
                raise ValueError("post_charges takes charge entries of one kind and day, one per line")
            seen.add(e.credit_account_id)
        je = t.journal_entries.c
        mark = self.conn.execute(select(func.coalesce(func.max(je.entry_id), 0))).scalar_one()
        self.conn.execute(
            insert(t.journal_entries),
            [
                {
                    "kind": e.kind.value,
                    "account_id": e.credit_account_id,
                    "ref_id": e.ref_id,
                    "amount": e.amount,
                    "memo": e.memo,
                    "business_date": day,
                    "created_at": now,
                }
                for e in entries
            ],
        )
        mine = and_(je.entry_id > mark, je.kind == kind.value, je.business_date == day)
        cols = ["entry_id", "ledger_account", "account_id", "merchant_id", "amount", "business_date"]
        self.conn.execute(
            insert(t.postings).from_select(
                cols,
                select(
                    je.entry_id, literal(receivable.value), je.account_id, literal(None), je.amount, je.business_date
                ).where(mine),
            )
        )
        self.conn.execute(
            insert(t.postings).from_select(
                cols,
                select(
                    je.entry_id, literal(income.value), literal(None), literal(None), -je.amount, je.business_date
                ).where(mine),
            )
        )
        ids = dict(self.conn.execute(select(je.account_id, je.entry_id).where(mine)).all())
        return [ids[e.credit_account_id] for e in entries]

    def balances(self, account_id: int) -> dict[LedgerAccount, int]:
        """The line's customer-account balances (sum of postings, debit positive), zeros left out."""
        p = t.postings.c
        rows = self.conn.execute(
            select(p.ledger_account, func.sum(p.amount))
            .where(p.account_id == account_id, p.ledger_account.in_([a.value for a in CUSTOMER_ACCOUNTS]))
            .group_by(p.ledger_account)
        ).all()
        return {LedgerAccount(r[0]): int(r[1]) for r in rows if int(r[1]) != 0}

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

    def unbalanced_entries(self, after_entry: int = 0, upto_entry: int | None = None) -> list[tuple[int, int, int]]:
        """(entry_id, sum, posting count) of the entries in ``(after_entry, upto_entry]`` that do not
        balance: postings not summing to zero, or fewer than two."""
        p, e = t.postings.c, t.journal_entries.c
        window = [p.entry_id > after_entry] + ([p.entry_id <= upto_entry] if upto_entry is not None else [])
        sums = (
            select(p.entry_id, func.sum(p.amount).label("total"), func.count().label("n"))
            .where(*window)
            .group_by(p.entry_id)
            .subquery()
        )
        e_window = [e.entry_id > after_entry] + ([e.entry_id <= upto_entry] if upto_entry is not None else [])
        rows = self.conn.execute(
            select(e.entry_id, func.coalesce(sums.c.total, 0), func.coalesce(sums.c.n, 0))
            .select_from(t.journal_entries.outerjoin(sums, sums.c.entry_id == e.entry_id))
            .where(*e_window, (func.coalesce(sums.c.total, 0) != 0) | (func.coalesce(sums.c.n, 0) < 2))
            .order_by(e.entry_id)
        ).all()
        return [(int(r[0]), int(r[1]), int(r[2])) for r in rows]

    def posting_totals(self, after_posting: int = 0, upto_posting: int | None = None) -> list[tuple[int, str, int]]:
        """(account_id, ledger account, sum) of the customer postings in ``(after_posting, upto_posting]``."""
        p = t.postings.c
        window = [p.posting_id > after_posting] + ([p.posting_id <= upto_posting] if upto_posting is not None else [])
        rows = self.conn.execute(
            select(p.account_id, p.ledger_account, func.sum(p.amount))
            .where(*window, p.account_id.is_not(None))
            .group_by(p.account_id, p.ledger_account)
        ).all()
        return [(int(r[0]), str(r[1]), int(r[2])) for r in rows]

    def check(self, billing: Sequence[Finding] = ()) -> LedgerReport:
        """One validation pass over the whole ledger, set-based (no per-account queries), with the
        findings of the billing invariants gathered by the caller (``huabei.batch.books``)."""
        p, a, e, pu = t.postings.c, t.credit_accounts.c, t.journal_entries.c, t.purchases.c
        counts = (
            self.conn.execute(select(func.count()).select_from(t.journal_entries)).scalar_one(),
            self.conn.execute(select(func.count()).select_from(t.postings)).scalar_one(),
            self.conn.execute(select(func.count()).select_from(t.credit_accounts)).scalar_one(),
        )
        unbalanced = self.unbalanced_entries()
        orphans = self.conn.execute(
            select(p.entry_id, func.sum(p.amount), func.count())
            # NOT EXISTS, an anti-join: NOT IN (subquery) goes quadratic on PostgreSQL once the
            # subquery no longer fits in work_mem (millions of entries)
            .where(~select(e.entry_id).where(e.entry_id == p.entry_id).exists())
            .group_by(p.entry_id)
        ).all()
        mismatches: list[tuple[int, str, int, int]] = []
        for column, ledger_account, sign in BALANCE_COLUMNS:
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
            unbalanced_entries=[*unbalanced, *(tuple(r) for r in orphans)],
            balance_mismatches=mismatches,
            over_refunded=[tuple(r) for r in over],
            negative_balances=neg,
            counts=counts,
            billing=billing,
        )
