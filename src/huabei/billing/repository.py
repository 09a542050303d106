"""The repository of the billing cycle: bills, allocations, accruals, delinquency and the
end-of-day job's reads and writes (installment plans: ``installment_repository``; bureau records:
``bureau_repository``; billing's invariants for the books check: ``check_repository``; the rows of
other capabilities a bill is made of, its purchases and its line's funder: ``book``).

Two kinds of method live here:

* per credit line (a repayment, a refund, a bill view): small indexed reads and writes on
  the unit of work's connection, under the line's row lock taken by the caller;
* set-based (the end-of-day job): one query per input of a step, streamed in account
  order (:func:`stream`), and batched writes (``executemany`` / ``INSERT … SELECT`` /
  one ``UPDATE`` for a whole set). No query is issued per account.

The same statements run on SQLite and PostgreSQL. Streaming uses a server-side cursor on
PostgreSQL; SQLite (small, embedded) reads a step's input whole before writing, because a
SQLite cursor left open while the same connection writes may see the writes.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import (
    Connection,
    bindparam,
    case,
    func,
    insert,
    literal,
    or_,
    select,
    update,
)

from huabei.billing import calendar as cal
from huabei.billing import tables as tb
from huabei.billing.book import with_funders
from huabei.platform.sql import AccountRange, in_chunks, in_range, isum, rows_in, stream

UNPAID = tb.bills.c.unpaid_principal + tb.bills.c.unpaid_fee + tb.bills.c.unpaid_interest + tb.bills.c.unpaid_penalty


def dpd_bucket_sql(days_past_due: Any) -> Any:
    """SQL form of :func:`huabei.billing.calendar.dpd_bucket` (the same bounds table)."""
    return case(*[(days_past_due <= upper, name) for upper, name in cal.DPD_BUCKET_UPPER], else_=cal.DPD_BUCKETS[-1])


def is_reportable_sql(days_past_due: Any, grace_days: int) -> Any:
    """SQL form of :func:`huabei.billing.calendar.is_reportable`: past the grace days (宽限期)."""
    return days_past_due > grace_days


class BillingRepository:
    def __init__(self, conn: Connection):
        self.conn = conn

    # --- bills of one credit line ------------------------------------------------------

    def bills(self, account_id: int) -> list[Any]:
        b = tb.bills.c
        return list(
            self.conn.execute(select(tb.bills).where(b.account_id == account_id).order_by(b.statement_date.desc()))
        )

    def bill(self, account_id: int, period: str) -> Any:
        b = tb.bills.c
        return self.conn.execute(select(tb.bills).where(b.account_id == account_id, b.period == period)).first()

    def bill_by_id(self, bill_id: int) -> Any:
        return self.conn.execute(select(tb.bills).where(tb.bills.c.bill_id == bill_id)).first()

    def unpaid_bills(self, account_id: int) -> list[Any]:
        b = tb.bills.c
        return list(
            self.conn.execute(
                select(tb.bills).where(b.account_id == account_id, b.status != "paid").order_by(b.due_date, b.bill_id)
            )
        )

    def unpaid_bills_of_book(self) -> dict[int, list[Any]]:
        """:meth:`unpaid_bills` of every line, in one query: account → its unpaid bills, oldest due date first."""
        b = tb.bills.c
        out: dict[int, list[Any]] = {}
        for r in self.conn.execute(
            select(tb.bills).where(b.status != "paid").order_by(b.account_id, b.due_date, b.bill_id)
        ):
            out.setdefault(r.account_id, []).append(r)
        return out

    def latest_bills_of_book(self) -> dict[int, Any]:
        """Every line's latest bill (the highest ``bill_id``), in one query (a ``GROUP BY`` joined back)."""
        b = tb.bills.c
        latest = select(b.account_id, func.max(b.bill_id).label("bill_id")).group_by(b.account_id).subquery()
        q = select(tb.bills).join(latest, b.bill_id == latest.c.bill_id)
        return {r.account_id: r for r in self.conn.execute(q)}

    def bill_of_activity(self, account_id: int, day: dt.date) -> Any:
        """The bill that holds activity dated ``day``: the first one closed after it."""
        b = tb.bills.c
        return self.conn.execute(
            select(tb.bills)
            .where(b.account_id == account_id, b.statement_date > day)
            .order_by(b.statement_date)
            .limit(1)
        ).first()

    def has_overdue(self, account_id: int) -> bool:
        b = tb.bills.c
        return (
            self.conn.execute(
                select(literal(1)).where(b.account_id == account_id, b.status == "overdue").limit(1)
            ).first()
            is not None
        )

    def lines(self, bill_ids: Sequence[int]) -> list[Any]:
        li = tb.bill_lines.c
        return rows_in(self.conn, tb.bill_lines, li.bill_id, bill_ids, li.bill_id, li.activity_date, li.line_id)

    def allocations(self, bill_ids: Sequence[int]) -> list[Any]:
        a = tb.bill_allocations.c
        return rows_in(self.conn, tb.bill_allocations, a.bill_id, bill_ids, a.bill_id, a.allocation_id)

    def update_bill(self, bill_id: int, **values: Any) -> None:
        self.conn.execute(update(tb.bills).where(tb.bills.c.bill_id == bill_id).values(**values))

    def add_allocations(self, rows: Sequence[dict[str, Any]]) -> None:
        if rows:
            self.conn.execute(insert(tb.bill_allocations), list(rows))

    def unbilled_credits(self, account_id: int, since: dt.date) -> list[Any]:
        """The repayment and refund money of the open cycle not applied to a bill."""
        a = tb.bill_allocations.c
        return list(
            self.conn.execute(
                select(a.source_kind, a.source_id, a.business_date, a.component, isum(a.amount).label("amount"))
                .where(
                    a.account_id == account_id,
                    a.bill_id.is_(None),
                    a.business_date >= since,
                    a.source_kind.in_(("repayment", "refund")),
                )
                .group_by(a.source_kind, a.source_id, a.business_date, a.component)
                .order_by(a.business_date, a.source_id)
            )
        )

    def unbilled_accruals(self, account_id: int, since: dt.date) -> list[Any]:
        c, b = tb.bill_accruals.c, tb.bills.c
        return list(
            self.conn.execute(
                select(c.kind, c.amount, c.business_date, b.period)
                .select_from(tb.bill_accruals.join(tb.bills, b.bill_id == c.bill_id))
                .where(c.account_id == account_id, c.business_date >= since)
                .order_by(c.business_date, c.accrual_id)
            )
        )

    def accrual_totals(self, account_id: int, since: dt.date) -> dict[str, int]:
        c = tb.bill_accruals.c
        rows = self.conn.execute(
            select(c.kind, isum(c.amount)).where(c.account_id == account_id, c.business_date >= since).group_by(c.kind)
        ).all()
        out = {"interest": 0, "penalty": 0}
        out.update({k: int(v) for k, v in rows})
        return out

    def accrual_totals_of_book(self, since: dt.date) -> dict[int, dict[str, int]]:
        """:meth:`accrual_totals` of every line that has accruals since ``since``, in one query."""
        c = tb.bill_accruals.c
        out: dict[int, dict[str, int]] = {}
        q = select(c.account_id, c.kind, isum(c.amount)).where(c.business_date >= since).group_by(c.account_id, c.kind)
        for account_id, kind, amount in self.conn.execute(q):
            out.setdefault(account_id, {"interest": 0, "penalty": 0})[kind] = int(amount)
        return out

    def accruals_of_bill(self, bill_id: int) -> list[Any]:
        c = tb.bill_accruals.c
        return list(
            self.conn.execute(
                select(tb.bill_accruals).where(c.bill_id == bill_id).order_by(c.business_date, c.accrual_id)
            )
        )

    # --- due day ----------------------------------------------------------------------

    def last_due_day_change(self, account_id: int) -> Any:
        c = tb.due_day_changes.c
        return self.conn.execute(
            select(tb.due_day_changes).where(c.account_id == account_id).order_by(c.change_id.desc()).limit(1)
        ).first()

    def add_due_day_change(self, **values: Any) -> None:
        self.conn.execute(insert(tb.due_day_changes).values(**values))

    # --- delinquency of one line --------------------------------------------------------

    def delinquency(self, account_id: int) -> Any:
        c = tb.account_delinquency.c
        return self.conn.execute(select(tb.account_delinquency).where(c.account_id == account_id)).first()

    def worst_days_past_due(self, account_id: int, since: dt.date, today: dt.date) -> int:
        """The most days past due any bill of the line reached on a day from ``since`` on
        (for risk rules: "worst days overdue in the last 12 months")."""
        b = tb.bills.c
        rows = self.conn.execute(
            select(b.due_date, b.cleared_on).where(
                b.account_id == account_id,
                b.overdue_since.is_not(None),
                or_(b.cleared_on.is_(None), b.cleared_on >= since),
            )
        ).all()
        worst = 0
        for due, cleared in rows:
            worst = max(worst, ((cleared or today) - due).days)
        return worst

    # --- set-based reads of the end-of-day job ------------------------------------------

    def stream_unpaid_bills(
        self, *, due_before: dt.date | None = None, accounts: AccountRange | None = None
    ) -> Iterable[Any]:
        b = tb.bills.c
        q = select(tb.bills).where(b.status != "paid", in_range(b.account_id, accounts))
        if due_before is not None:
            q = q.where(b.due_date < due_before)
        return stream(self.conn, q.order_by(b.account_id, b.due_date, b.bill_id))

    def stream_accruing_bills(self, day: dt.date, accounts: AccountRange | None = None) -> Iterable[Any]:
        """Bills that may accrue on ``day``: unpaid and past due, or holding a carried balance."""
        b = tb.bills.c
        return stream(
            self.conn,
            select(tb.bills)
            .where(
                b.status != "paid",
                or_(b.due_date < day, b.unpaid_carried_principal > 0),
                in_range(b.account_id, accounts),
            )
            .order_by(b.account_id, b.bill_id),
        )

    def stream_overdue_positions(self, accounts: AccountRange | None = None) -> Iterable[Any]:
        b = tb.bills.c
        return stream(
            self.conn,
            select(b.account_id, func.min(b.due_date).label("oldest_due"), isum(UNPAID).label("amount_overdue"))
            .where(b.status == "overdue", in_range(b.account_id, accounts))
            .group_by(b.account_id)
            .order_by(b.account_id),
        )

    def stream_delinquent(self, accounts: AccountRange | None = None) -> Iterable[Any]:
        d = tb.account_delinquency.c
        return stream(
            self.conn,
            select(tb.account_delinquency)
            .where(d.bucket != "current", in_range(d.account_id, accounts))
            .order_by(d.account_id),
        )

    def delinquency_rows(self, account_ids: Sequence[int]) -> dict[int, Any]:
        d = tb.account_delinquency.c
        return {
            r.account_id: r
            for chunk in in_chunks(account_ids)
            for r in self.conn.execute(select(tb.account_delinquency).where(d.account_id.in_(chunk)))
        }

    def delinquency_month_rows(self, month: str) -> dict[int, Any]:
        m = tb.delinquency_months.c
        return {r.account_id: r for r in self.conn.execute(select(tb.delinquency_months).where(m.month == month))}

    # --- batched writes of the end-of-day job --------------------------------------------

    def add_bills(self, rows: Sequence[dict[str, Any]]) -> None:
        """Insert closed bills (batched executemany)."""
        if rows:
            self.conn.execute(insert(tb.bills), with_funders(self.conn, rows))

    def analyze_bills(self) -> None:
        """Refresh the planner's statistics of ``bills`` after a closing inserted a month of
        them (the set-based statements that follow join on them); the same SQL on both."""
        self.conn.exec_driver_sql("ANALYZE bills")

    def bill_ids(self, period: str, account_ids: Sequence[int]) -> dict[int, int]:
        """``account_id -> bill_id`` of bill ``period`` for some lines (chunked IN lists)."""
        b = tb.bills.c
        return {
            r[0]: r[1]
            for chunk in in_chunks(account_ids)
            for r in self.conn.execute(
                select(b.account_id, b.bill_id).where(b.period == period, b.account_id.in_(chunk))
            )
        }

    def bill_scheduled_periods(
        self, period: str, periods_before: dt.date, day: dt.date, accounts: AccountRange | None = None
    ) -> int:
        """Installment periods falling due on bill ``period`` are billed on it; plans whose
        every period is billed are completed (set-based)."""
        pe, b, ip = tb.installment_periods.c, tb.bills.c, tb.installment_plans.c
        # UPDATE … FROM bills (both databases)
        n = self.conn.execute(
            update(tb.installment_periods)
            .where(
                pe.status == "scheduled",
                pe.due_date < periods_before,
                b.account_id == pe.account_id,
                b.period == period,
                in_range(pe.account_id, accounts),
            )
            .values(status="billed", bill_id=b.bill_id)
        ).rowcount
        billed = select(func.count()).where(pe.plan_id == ip.plan_id, pe.status == "billed").scalar_subquery()
        self.conn.execute(update(tb.installment_plans).where(ip.status == "active").values(periods_billed=billed))
        self.conn.execute(
            update(tb.installment_plans)
            .where(ip.status == "active", ip.periods_billed >= ip.term)
            .values(status="completed", closed_on=day)
        )
        return n

    def insert_lines(self, rows: Sequence[dict[str, Any]]) -> None:
        if rows:
            self.conn.execute(insert(tb.bill_lines), list(rows))

    def update_bills(self, columns: Sequence[str], rows: Sequence[dict[str, Any]]) -> None:
        """``UPDATE bills SET col = :col … WHERE bill_id = :b_id`` for every row (executemany)."""
        if not rows:
            return
        stmt = (
            update(tb.bills).where(tb.bills.c.bill_id == bindparam("b_id")).values({c: bindparam(c) for c in columns})
        )
        self.conn.execute(stmt, list(rows))

    def insert_accruals(self, rows: Sequence[dict[str, Any]]) -> None:
        if rows:
            self.conn.execute(insert(tb.bill_accruals), with_funders(self.conn, rows))

    def mark_overdue(self, rows: Sequence[dict[str, Any]]) -> None:
        if not rows:
            return
        self.conn.execute(
            update(tb.bills)
            .where(tb.bills.c.bill_id == bindparam("b_id"))
            .values(status="overdue", overdue_since=bindparam("since")),
            list(rows),
        )

    def overdue_candidates(self, day: dt.date, accounts: AccountRange | None = None) -> list[Any]:
        """Open bills due before ``day`` that still owe something and whose minimum was not
        repaid by the due date: :func:`huabei.billing.rules.minimum_met` stated in SQL for
        the set-based step (``paid_by_due_date < minimum_due``)."""
        b = tb.bills.c
        return list(
            self.conn.execute(
                select(
                    b.bill_id,
                    b.account_id,
                    b.period,
                    b.due_date,
                    b.minimum_due,
                    b.paid_by_due_date,
                    UNPAID.label("unpaid"),
                )
                .where(
                    b.status == "open",
                    b.due_date < day,
                    b.paid_by_due_date < b.minimum_due,
                    UNPAID > 0,
                    in_range(b.account_id, accounts),
                )
                .order_by(b.account_id, b.bill_id)
            )
        )

    @staticmethod
    def overdue_lines() -> Any:
        """A query of the account ids with an overdue bill (the lines' overdue block follows it:
        ``AccountRepository.block_overdue`` / ``unblock_cured``)."""
        b = tb.bills.c
        return select(b.account_id).where(b.status == "overdue")

    def upsert_delinquency(self, inserts: Sequence[dict[str, Any]], updates: Sequence[dict[str, Any]]) -> None:
        if inserts:
            self.conn.execute(insert(tb.account_delinquency), list(inserts))
        if updates:
            d = tb.account_delinquency.c
            self.conn.execute(
                update(tb.account_delinquency)
                .where(d.account_id == bindparam("a_id"))
                .values(
                    days_past_due=bindparam("days_past_due"),
                    bucket=bindparam("bucket"),
                    overdue_since=bindparam("overdue_since"),
                    worst_bucket=bindparam("worst_bucket"),
                    updated_on=bindparam("updated_on"),
                ),
                list(updates),
            )

    def upsert_delinquency_months(self, inserts: Sequence[dict[str, Any]], updates: Sequence[dict[str, Any]]) -> None:
        if inserts:
            self.conn.execute(insert(tb.delinquency_months), list(inserts))
        if updates:
            m = tb.delinquency_months.c
            self.conn.execute(
                update(tb.delinquency_months)
                .where(m.account_id == bindparam("a_id"), m.month == bindparam("m_month"))
                .values(worst_bucket=bindparam("worst_bucket"), max_days_past_due=bindparam("max_days_past_due")),
                list(updates),
            )
