"""Repositories of the limit policy: raise applications, campaign enrolments, and the
set-based writes of the periodic re-evaluation and of temporary-limit expiry."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from functools import cache
from typing import Any

from sqlalchemy import (
    Connection,
    Date,
    and_,
    bindparam,
    delete,
    distinct,
    func,
    literal,
    or_,
    select,
    update,
)

from huabei.limits import tables as tl
from huabei.platform import schema as t
from huabei.platform.sql import (
    AccountRange,
    add_returning_id,
    bulk_insert,
    fetch_rows,
    for_users,
    get_by_id,
    in_range,
    user_params,
)

_START = bindparam("start", type_=Date)
_AS_OF = bindparam("as_of", type_=Date)


@cache
def _applications_stmt(filtered: bool) -> Any:
    a = tl.limit_raise_applications.c
    return (
        select(a.user_id, func.count().label("n"))
        .where(a.applied_on >= _START, a.applied_on <= _AS_OF, for_users(a.user_id, filtered))
        .group_by(a.user_id)
    )


@cache
def _completions_stmt(filtered: bool) -> Any:
    ce = tl.campaign_enrolments.c
    return (
        select(ce.user_id, func.count().label("n"))
        .where(
            ce.status == "completed",
            ce.completed_on >= _START,
            ce.completed_on <= _AS_OF,
            for_users(ce.user_id, filtered),
        )
        .group_by(ce.user_id)
    )


class ApplicationRepository:
    def __init__(self, conn: Connection):
        self.conn = conn

    def add(self, **values: Any) -> int:
        return add_returning_id(self.conn, tl.limit_raise_applications, values)

    def get(self, application_id: int) -> Any:
        return get_by_id(self.conn, tl.limit_raise_applications, application_id)

    def last_considered_on(self, user_id: str) -> dt.date | None:
        """The date of the user's latest application that was considered (not refused as too frequent)."""
        a = tl.limit_raise_applications.c
        return self.conn.execute(
            select(func.max(a.applied_on)).where(a.user_id == user_id, a.primary_reason != "too_frequent")
        ).scalar()

    def for_account(self, account_id: int, limit: int) -> list[Any]:
        a = tl.limit_raise_applications.c
        return list(
            self.conn.execute(
                select(tl.limit_raise_applications)
                .where(a.account_id == account_id)
                .order_by(a.application_id.desc())
                .limit(limit)
            )
        )

    def by_user(self, start: dt.date, as_of: dt.date, user_ids: Sequence[str] | None) -> list[Any]:
        """(user_id, number of raise applications over ``start ≤ day ≤ as_of``), set-based (the score reads it)."""
        return fetch_rows(
            self.conn, _applications_stmt(user_ids is not None), user_params(user_ids, start=start, as_of=as_of)
        )


class EnrolmentRepository:
    def __init__(self, conn: Connection):
        self.conn = conn

    def add(self, **values: Any) -> int:
        return add_returning_id(self.conn, tl.campaign_enrolments, values)

    def get(self, enrolment_id: int) -> Any:
        return get_by_id(self.conn, tl.campaign_enrolments, enrolment_id)

    def joined(self, account_id: int, campaign_code: str) -> bool:
        e = tl.campaign_enrolments.c
        return (
            self.conn.execute(
                select(literal(1)).where(e.account_id == account_id, e.campaign_code == campaign_code)
            ).first()
            is not None
        )

    def for_account(self, account_id: int) -> list[Any]:
        e = tl.campaign_enrolments.c
        return list(
            self.conn.execute(select(tl.campaign_enrolments).where(e.account_id == account_id).order_by(e.enrolment_id))
        )

    def progress(
        self,
        today: dt.date,
        *,
        enrolment_ids: Sequence[int] | None = None,
        unsettled_only: bool = True,
        accounts: AccountRange | None = None,
    ) -> list[Any]:
        """Every enrolment still to settle (in progress, or completed but not yet rewarded) with
        its progress: purchases of its line on days ``enrolled_on ≤ d < ends_on`` (and ≤ today)
        of at least ``min_payment`` net of refunds, and their distinct categories. One query."""
        e, p = tl.campaign_enrolments.c, t.purchases.c
        counted = and_(
            p.account_id == e.account_id,
            p.business_date >= e.enrolled_on,
            p.business_date < e.ends_on,
            p.business_date <= today,
            p.amount - p.refunded >= e.min_payment,
            p.refunded < p.amount,
        )
        q = (
            select(
                e.enrolment_id,
                e.account_id,
                e.user_id,
                e.campaign_code,
                e.enrolled_on,
                e.ends_on,
                e.required_payments,
                e.required_categories,
                e.reward_kind,
                e.reward_amount,
                e.reward_days,
                e.status,
                e.completed_on,
                e.rewarded_on,
                e.payments,
                e.categories,
                func.count(p.purchase_id).label("done_payments"),
                func.count(distinct(p.merchant_category)).label("done_categories"),
            )
            .select_from(tl.campaign_enrolments.outerjoin(t.purchases, counted))
            .group_by(
                e.enrolment_id,
                e.account_id,
                e.user_id,
                e.campaign_code,
                e.enrolled_on,
                e.ends_on,
                e.required_payments,
                e.required_categories,
                e.reward_kind,
                e.reward_amount,
                e.reward_days,
                e.status,
                e.completed_on,
                e.rewarded_on,
                e.payments,
                e.categories,
            )
            .order_by(e.enrolment_id)
        )
        if unsettled_only:
            q = q.where(or_(e.status == "in_progress", and_(e.status == "completed", e.rewarded_on.is_(None))))
        if enrolment_ids is not None:
            q = q.where(e.enrolment_id.in_(list(enrolment_ids)))
        if accounts is not None:
            q = q.where(in_range(e.account_id, accounts))
        return self.conn.execute(q).all()

    def set_progress(self, rows: list[dict[str, Any]]) -> None:
        """Store progress and status: rows of enrolment_id, payments, categories, status, completed_on, rewarded_on."""
        e = tl.campaign_enrolments
        for r in rows:
            self.conn.execute(
                update(e)
                .where(e.c.enrolment_id == r["enrolment_id"])
                .values(
                    payments=r["payments"],
                    categories=r["categories"],
                    status=r["status"],
                    completed_on=r["completed_on"],
                    rewarded_on=r["rewarded_on"],
                )
            )

    def completions_by_user(self, start: dt.date, as_of: dt.date, user_ids: Sequence[str] | None) -> list[Any]:
        """(user_id, number of campaigns completed over ``start ≤ day ≤ as_of``), set-based (the score reads it)."""
        return fetch_rows(
            self.conn, _completions_stmt(user_ids is not None), user_params(user_ids, start=start, as_of=as_of)
        )


class LimitBatchRepository:
    """Set-based writes of the periodic re-evaluation and of temporary-limit expiry."""

    def __init__(self, conn: Connection):
        self.conn = conn

    def apply_base_limits(self, account_ids: list[int], old: list[int], new: list[int]) -> list[int]:
        """Set ``base_limit`` to ``new`` where the line is still as the decision saw it — open,
        ``base_limit = old``, unblocked for a raise, ``used <= new`` for a cut — with one
        ``UPDATE … FROM`` a temporary staging table per 50,000 decisions (PostgreSQL, SQLite
        ≥ 3.33). Returns the account ids changed; a line that changed meanwhile waits for the
        next review. The staging table is created and dropped inside the transaction (a
        rollback removes it too)."""
        from sqlalchemy import BigInteger, Column, MetaData, Table

        if not account_ids:
            return []
        md = MetaData()
        stage = Table(
            "limit_review_stage",
            md,
            Column("account_id", BigInteger, primary_key=True),
            Column("old", BigInteger),
            Column("new", BigInteger),
            prefixes=["TEMPORARY"],
        )
        stage.create(self.conn)
        a = t.credit_accounts
        changed: list[int] = []
        for i in range(0, len(account_ids), 50_000):
            self.conn.execute(delete(stage))
            bulk_insert(
                self.conn,
                stage,
                {"account_id": account_ids[i : i + 50_000], "old": old[i : i + 50_000], "new": new[i : i + 50_000]},
            )
            s = stage.c
            stmt = (
                update(a)
                .values(base_limit=s.new)
                .where(
                    a.c.account_id == s.account_id,
                    a.c.state == "open",
                    a.c.base_limit == s.old,
                    or_(and_(s.new > s.old, a.c.block_code.is_(None)), and_(s.new < s.old, a.c.used <= s.new)),
                )
                .returning(a.c.account_id)
            )
            changed += list(self.conn.execute(stmt).scalars())
        stage.drop(self.conn)
        return changed

    def last_base_changes(self, account_ids: Sequence[int] | None = None) -> list[Any]:
        """(account_id, date of the latest base-limit change) of every line (or of ``account_ids``)."""
        lc = t.limit_changes.c
        q = select(lc.account_id, func.max(lc.business_date)).where(lc.limit_kind == "base")
        if account_ids is not None:
            q = q.where(lc.account_id.in_(list(account_ids)))
        return fetch_rows(self.conn, q.group_by(lc.account_id))

    def scenario_candidates(self, category: str, start: dt.date, as_of: dt.date) -> list[Any]:
        """Open, unblocked lines that paid in ``category`` over ``start ≤ day ≤ as_of``, with their user."""
        a, p = t.credit_accounts.c, t.purchases.c
        spent = (
            select(p.account_id)
            .where(
                p.merchant_category == category,
                p.business_date >= start,
                p.business_date <= as_of,
                p.refunded < p.amount,
            )
            .distinct()
            .subquery()
        )
        return self.conn.execute(
            select(a.account_id, a.user_id, a.temporary_limit, a.temporary_limit_expires_on)
            .select_from(t.credit_accounts.join(spent, spent.c.account_id == a.account_id))
            .where(a.state == "open", a.block_code.is_(None))
            .order_by(a.account_id)
        ).all()
