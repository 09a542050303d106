"""Billing's invariants for the books check (``huabei ledger check``), as set-based aggregates:
bills add up, receivables equal what bills and unbilled records say, no idle credit balance."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    Connection,
    and_,
    case,
    func,
    or_,
    select,
)

from huabei.billing import tables as tb
from huabei.billing.repository import UNPAID
from huabei.billing.rules import CREDIT_KINDS
from huabei.platform import schema as t
from huabei.platform.sql import isum


class BillingCheckRepository:
    def __init__(self, conn: Connection):
        self.conn = conn

    # --- the ledger check's billing invariants (set-based aggregates) -------------------

    def check(self, last_close: dt.date | None) -> dict[str, list[tuple[Any, ...]]]:
        """Aggregates for :func:`huabei.ledger.rules.validate_billing`."""
        b, li, al, p = tb.bills.c, tb.bill_lines.c, tb.bill_allocations.c, t.postings.c
        signed = case((li.kind.in_(sorted(k.value for k in CREDIT_KINDS)), -li.amount), else_=li.amount)
        per_bill = select(li.bill_id, isum(signed).label("s")).group_by(li.bill_id).subquery()
        orphans = [
            (r[0], int(r[1]), 0)
            for r in self.conn.execute(
                select(li.bill_id, isum(signed))
                .where(~select(b.bill_id).where(b.bill_id == li.bill_id).exists())
                .group_by(li.bill_id)
            )
        ]
        lines_mismatch = orphans + [
            tuple(r)
            for r in self.conn.execute(
                select(b.bill_id, func.coalesce(per_bill.c.s, 0), b.total_due - b.credit_balance)
                .select_from(tb.bills.outerjoin(per_bill, per_bill.c.bill_id == b.bill_id))
                .where(
                    or_(
                        func.coalesce(per_bill.c.s, 0) != b.total_due - b.credit_balance,
                        b.closing_balance != b.total_due - b.credit_balance,
                    )
                )
                .order_by(b.bill_id)
            )
        ]
        arithmetic: list[tuple[Any, ...]] = []
        for r in self.conn.execute(
            select(b.bill_id).where(b.total_due - b.converted - b.paid - b.carried_out != UNPAID).order_by(b.bill_id)
        ):
            arithmetic.append((r[0], "unpaid by component differs from total − converted − paid − carried out"))
        paid_alloc = (
            select(al.bill_id, isum(al.amount).label("s"))
            .where(al.bill_id.is_not(None), al.source_kind != "installment")
            .group_by(al.bill_id)
            .subquery()
        )
        for r in self.conn.execute(
            select(b.bill_id, b.paid, func.coalesce(paid_alloc.c.s, 0))
            .select_from(tb.bills.outerjoin(paid_alloc, paid_alloc.c.bill_id == b.bill_id))
            .where(b.paid != func.coalesce(paid_alloc.c.s, 0))
            .order_by(b.bill_id)
        ):
            arithmetic.append((r[0], f"paid is {r[1]} fen but its allocations sum to {r[2]} fen"))
        for r in self.conn.execute(
            select(b.bill_id)
            .where(or_(and_(b.status == "paid", UNPAID != 0), and_(b.status != "paid", UNPAID == 0)))
            .order_by(b.bill_id)
        ):
            arithmetic.append((r[0], "status disagrees with what is unpaid"))

        # ledger balances of the customer receivables, per credit line
        ledger = {
            (r[0], r[1]): int(r[2])
            for r in self.conn.execute(
                select(p.account_id, p.ledger_account, isum(p.amount))
                .where(
                    p.ledger_account.in_(
                        ("customer_principal", "customer_fee", "customer_interest", "customer_penalty")
                    ),
                    p.account_id.is_not(None),
                )
                .group_by(p.account_id, p.ledger_account)
            )
        }
        expected: dict[tuple[int, str], int] = {}

        def add(account_id: int, acct: str, amount: int) -> None:
            expected[(account_id, acct)] = expected.get((account_id, acct), 0) + int(amount)

        for r in self.conn.execute(
            select(
                b.account_id,
                isum(b.unpaid_principal),
                isum(b.unpaid_fee),
                isum(b.unpaid_interest),
                isum(b.unpaid_penalty),
            ).group_by(b.account_id)
        ):
            add(r[0], "customer_principal", r[1])
            add(r[0], "customer_fee", r[2])
            add(r[0], "customer_interest", r[3])
            add(r[0], "customer_penalty", r[4])
        ip, pp = tb.installment_periods.c, tb.installment_plans.c
        for r in self.conn.execute(
            select(ip.account_id, isum(ip.principal)).where(ip.status == "scheduled").group_by(ip.account_id)
        ):
            add(r[0], "customer_principal", r[1])
        since = last_close or dt.date.min
        c = tb.bill_accruals.c
        for r in self.conn.execute(
            select(c.account_id, c.kind, isum(c.amount)).where(c.business_date >= since).group_by(c.account_id, c.kind)
        ):
            add(r[0], f"customer_{r[1]}", r[2])
        pu = t.purchases.c
        for r in self.conn.execute(
            select(pu.account_id, isum(pu.amount)).where(pu.business_date >= since).group_by(pu.account_id)
        ):
            add(r[0], "customer_principal", r[1])
        for r in self.conn.execute(
            select(pp.account_id, isum(pp.principal))
            .select_from(tb.installment_plans.join(t.purchases, pu.purchase_id == pp.source_purchase_id))
            .where(pp.converted_from == "unbilled_purchase", pu.business_date >= since)
            .group_by(pp.account_id)
        ):
            add(r[0], "customer_principal", -r[1])
        for r in self.conn.execute(
            select(al.account_id, al.component, isum(al.amount))
            .where(al.bill_id.is_(None), al.business_date >= since, al.source_kind.in_(("repayment", "refund")))
            .group_by(al.account_id, al.component)
        ):
            if r[1] == "unbilled_principal":
                add(r[0], "customer_principal", -r[2])
        a = t.credit_accounts.c
        # A line whose ``used`` already differs from its principal postings is reported by the
        # core check (balance_equals_postings); one cause, one finding.
        used_off = {
            r[0]
            for r in self.conn.execute(select(a.account_id, a.used))
            if ledger.get((r[0], "customer_principal"), 0) != r[1]
        }
        keys = set(expected) | {k for k, v in ledger.items() if v != 0}
        mismatch = sorted(
            (acct_id, acct, ledger.get((acct_id, acct), 0), expected.get((acct_id, acct), 0))
            for acct_id, acct in keys
            if ledger.get((acct_id, acct), 0) != expected.get((acct_id, acct), 0)
            and not (acct == "customer_principal" and acct_id in used_off)
        )

        unpaid_per_account = (
            select(b.account_id, isum(UNPAID).label("u")).where(b.status != "paid").group_by(b.account_id).subquery()
        )
        idle = [
            tuple(r)
            for r in self.conn.execute(
                select(a.account_id, a.credit_balance, unpaid_per_account.c.u)
                .select_from(
                    t.credit_accounts.join(unpaid_per_account, unpaid_per_account.c.account_id == a.account_id)
                )
                .where(a.credit_balance > 0, unpaid_per_account.c.u > 0)
                .order_by(a.account_id)
            )
        ]
        return {
            "lines_mismatch": lines_mismatch,
            "bill_arithmetic": arithmetic,
            "receivable_mismatch": mismatch,
            "idle_credit": idle,
        }
