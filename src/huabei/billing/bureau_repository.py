"""The repository of the monthly credit-bureau (征信) records: reading, correcting and writing a
month's file set-based."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy import (
    Connection,
    case,
    func,
    insert,
    literal,
    or_,
    select,
    update,
)

from huabei.billing import tables as tb
from huabei.billing.repository import UNPAID, is_reportable_sql
from huabei.lines.repository import is_credit_freeze_sql, temporary_limit_in_force
from huabei.platform import schema as t
from huabei.platform.sql import AccountRange, in_range, isum


class BureauRepository:
    def __init__(self, conn: Connection):
        self.conn = conn

    def records(self, month: str, *, current_only: bool = True) -> list[Any]:
        r = tb.bureau_records.c
        q = select(tb.bureau_records).where(r.month == month)
        if current_only:
            q = q.where(r.superseded.is_(False))
        return list(self.conn.execute(q.order_by(r.account_id, r.seq)))

    def record(self, account_id: int, month: str) -> Any:
        r = tb.bureau_records.c
        return self.conn.execute(
            select(tb.bureau_records).where(r.account_id == account_id, r.month == month, r.superseded.is_(False))
        ).first()

    def latest_record(self, account_id: int) -> Any:
        """The line's latest current (not superseded) credit-bureau record, if any."""
        r = tb.bureau_records.c
        return self.conn.execute(
            select(tb.bureau_records)
            .where(r.account_id == account_id, r.superseded.is_(False))
            .order_by(r.month.desc(), r.seq.desc())
            .limit(1)
        ).first()

    def month_written(self, month: str) -> bool:
        r = tb.bureau_records.c
        return self.conn.execute(select(literal(1)).where(r.month == month).limit(1)).first() is not None

    def add(self, **values: Any) -> None:
        self.conn.execute(insert(tb.bureau_records).values(**values))

    def supersede(self, account_id: int, month: str, seq: int) -> None:
        r = tb.bureau_records.c
        self.conn.execute(
            update(tb.bureau_records)
            .where(r.account_id == account_id, r.month == month, r.seq == seq)
            .values(superseded=True)
        )

    def _month_source(self, month: str, as_of: dt.date, since: dt.date | None) -> tuple[Any, dict[str, Any], Any]:
        """What a month's records are made of, per line (one FROM with its joins, the raw
        columns by name, the lines reported): shared by :meth:`write_month` and
        :meth:`month_inputs`, so both read the same book."""
        a, b, c = t.credit_accounts.c, tb.bills.c, tb.bill_accruals.c
        d, m = tb.account_delinquency.c, tb.delinquency_months.c
        billed = (
            select(
                b.account_id,
                isum(b.unpaid_fee + b.unpaid_interest + b.unpaid_penalty).label("charges"),
                isum(case((b.status == "overdue", UNPAID), else_=0)).label("overdue"),
            )
            .where(b.status != "paid")
            .group_by(b.account_id)
            .subquery()
        )
        accrued = (
            select(c.account_id, isum(c.amount).label("accrued"))
            .where(c.business_date >= (since or dt.date.min))
            .group_by(c.account_id)
            .subquery()
        )
        month_rows = select(m.account_id, m.worst_bucket).where(m.month == month).subquery()
        source = (
            t.credit_accounts.outerjoin(billed, billed.c.account_id == a.account_id)
            .outerjoin(accrued, accrued.c.account_id == a.account_id)
            .outerjoin(tb.account_delinquency, d.account_id == a.account_id)
            .outerjoin(month_rows, month_rows.c.account_id == a.account_id)
        )
        raw = {
            "account_id": a.account_id,
            "user_id": a.user_id,
            "state": a.state,
            "block_code": a.block_code,
            "credit_limit": a.base_limit + temporary_limit_in_force(as_of),
            "balance": a.used
            + func.coalesce(billed.c.charges, 0)
            + func.coalesce(accrued.c.accrued, 0)
            - a.credit_balance,
            "overdue": func.coalesce(billed.c.overdue, 0),
            "dpd": func.coalesce(d.days_past_due, 0),
            "bucket": d.bucket,
            "month_worst": month_rows.c.worst_bucket,
        }
        reported = or_(a.state == "open", a.used > 0, a.credit_balance > 0, billed.c.account_id.is_not(None))
        return source, raw, reported

    def month_inputs(
        self, *, month: str, as_of: dt.date, since: dt.date | None, accounts: Sequence[int] | None = None
    ) -> list[Any]:
        """The raw inputs of the month's records of every reported line (or of ``accounts``), in
        line order: ``account_id, user_id, state, block_code, credit_limit, balance, overdue,
        dpd, bucket, month_worst`` — what :func:`huabei.billing.calendar.bureau_figures` decides
        from (the batch engines' bureau step)."""
        source, raw, reported = self._month_source(month, as_of, since)
        q = select(*(col.label(name) for name, col in raw.items())).select_from(source).where(reported)
        if accounts is not None:
            q = q.where(t.credit_accounts.c.account_id.in_(list(accounts)))
        return list(self.conn.execute(q.order_by(t.credit_accounts.c.account_id)))

    def written_for(self, month: str, accounts: Sequence[int]) -> set[int]:
        """Which of ``accounts`` already have a record for ``month``."""
        r = tb.bureau_records.c
        if not accounts:
            return set()
        q = select(r.account_id).where(r.month == month, r.seq == 1, r.account_id.in_(list(accounts)))
        return set(self.conn.execute(q).scalars())

    def add_many(self, rows: list[dict[str, Any]]) -> None:
        if rows:
            self.conn.execute(insert(tb.bureau_records), rows)

    def write_month(
        self,
        *,
        month: str,
        as_of: dt.date,
        since: dt.date | None,
        format_version: str,
        now: dt.datetime,
        grace_days: int = 0,
        accounts: AccountRange | None = None,
    ) -> int:
        """The month's records for every line that is open or still owes or holds money:
        one ``INSERT … SELECT`` (set-based). Python twin of the figures:
        :func:`huabei.billing.calendar.bureau_figures`."""
        a = t.credit_accounts.c
        source, raw, where = self._month_source(month, as_of, since)
        # a delinquency is reported once past the grace days (宽限期)
        reported = is_reportable_sql(raw["dpd"], grace_days)
        bucket = case((reported, func.coalesce(raw["bucket"], "current")), else_="current")
        status = case(
            (a.state == "closed", "closed"),
            (bucket != "current", "overdue"),
            # a brand-isolation or maintenance pause is not a credit freeze
            (is_credit_freeze_sql(a.block_code), "frozen"),
            else_="normal",
        )
        q = (
            select(
                a.account_id,
                literal(month),
                literal(1),
                literal(format_version),
                literal(as_of),
                a.user_id,
                raw["credit_limit"],
                raw["balance"],
                case((reported, raw["overdue"]), else_=0),
                case((reported, raw["dpd"]), else_=0),
                bucket,
                func.coalesce(raw["month_worst"], bucket),
                status,
                literal(False),
                literal(None),
                literal(as_of),
                literal(now),
            )
            .select_from(source)
            .where(where, in_range(a.account_id, accounts))
        )
        cols = [
            "account_id",
            "month",
            "seq",
            "format_version",
            "as_of",
            "user_id",
            "credit_limit",
            "balance",
            "amount_overdue",
            "days_past_due",
            "bucket",
            "worst_bucket",
            "account_status",
            "superseded",
            "reason",
            "created_on",
            "created_at",
        ]
        self.conn.execute(insert(tb.bureau_records).from_select(cols, q))
        r = tb.bureau_records.c
        n = select(func.count()).where(r.month == month, r.seq == 1, in_range(r.account_id, accounts))
        return int(self.conn.execute(n).scalar_one())
