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
    func,
    literal,
    or_,
    select,
    update,
)

from huabei.limits import tables as tl
from huabei.platform.sql import (
    AccountRange,
    add_returning_id,
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
        counted: Any,
        *,
        enrolment_ids: Sequence[int] | None = None,
        unsettled_only: bool = True,
        accounts: AccountRange | None = None,
    ) -> list[Any]:
        """Every enrolment still to settle (in progress, or completed but not yet rewarded) with
        its progress: purchases of its line on days ``enrolled_on ≤ d < ends_on`` (and ≤ today)
        of at least ``min_payment`` net of refunds, and their distinct categories. One query:
        ``counted`` is the lines' count of purchases over per-line windows
        (``PurchaseRepository.counted_in_windows``), applied to this repository's windows."""
        e = tl.campaign_enrolments.c
        windows = select(
            e.enrolment_id.label("window_id"),
            e.account_id,
            e.enrolled_on.label("starts_on"),
            e.ends_on,
            e.min_payment,
        )
        if unsettled_only:
            windows = windows.where(
                or_(e.status == "in_progress", and_(e.status == "completed", e.rewarded_on.is_(None)))
            )
        if enrolment_ids is not None:
            windows = windows.where(e.enrolment_id.in_(list(enrolment_ids)))
        if accounts is not None:
            windows = windows.where(in_range(e.account_id, accounts))
        done = counted(windows.subquery("enrolment_windows"), today).subquery("done")
        q = (
            select(
                tl.campaign_enrolments,
                func.coalesce(done.c.payments, 0).label("done_payments"),
                func.coalesce(done.c.categories, 0).label("done_categories"),
            )
            .select_from(tl.campaign_enrolments.outerjoin(done, done.c.window_id == e.enrolment_id))
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
