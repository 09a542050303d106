"""The credit score's reads across the whole book: the user, their credit lines, purchases,
overdue record and restrictions, as the score's features need them.

Like :mod:`huabei.risk.features`, each reader is one set-based question over the book (for every
user, or the users of ``user_ids``), defined once for one user (opening, a raise) and the
whole population (the monthly rescore, backtests). These are the only scoring statements that
read another capability's tables; pyproject's ``whole-book-schema`` contract names this module
among the whole-book readers. The score never writes those tables
(tests/unit/test_table_owners.py).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from functools import cache, lru_cache
from typing import Any

from sqlalchemy import (
    Connection,
    Date,
    Integer,
    and_,
    bindparam,
    case,
    distinct,
    func,
    literal,
    null,
    select,
    union_all,
)

from huabei.lines.rules import BLOCK_OVERDUE
from huabei.platform import schema as t
from huabei.platform.sql import fetch_rows, for_users, user_params
from huabei.scoring import tables as ts

_START = bindparam("start", type_=Date)
_AS_OF = bindparam("as_of", type_=Date)


#: Domain-event types of the delinquency record (written by the billing engine).
OVERDUE_EVENT_TYPES = ("BecameOverdue", "DelinquencyBucketChanged", "DelinquencyCured")


@cache
def users_stmt(filtered: bool) -> Any:
    u = t.users.c
    prof = u.profile
    return (
        select(
            u.user_id,
            u.real_name_verified,
            u.phone,
            prof["education"].as_string().label("education"),
            prof["occupation"].as_string().label("occupation"),
            prof["employer"].as_string().label("employer"),
            prof["email"].as_string().label("email"),
            prof["address"].as_string().label("address"),
            prof["id_document_expires_on"].as_string().label("id_document_expires_on"),
            prof["bank_card_bound"].as_boolean().label("bank_card_bound"),
        )
        .where(for_users(u.user_id, filtered))
        .order_by(u.user_id)
    )


@cache
def activity_stmt(filtered: bool) -> Any:
    p, a, e = t.purchases.c, t.credit_accounts.c, ts.activity_events.c
    purchases = (
        select(
            a.user_id.label("user_id"),
            literal(1).label("is_payment"),
            p.channel.label("channel"),
            p.merchant_category.label("category"),
            p.business_date.label("day"),
        )
        .select_from(t.purchases.join(t.credit_accounts, a.account_id == p.account_id))
        .where(
            p.business_date >= _START, p.business_date <= _AS_OF, p.refunded < p.amount, for_users(a.user_id, filtered)
        )
    )
    is_payment = e.kind.in_(("payment", "utility_payment"))
    events = select(
        e.user_id,
        case((is_payment, 1), else_=0),
        e.channel,
        case((e.kind == "utility_payment", literal("utilities")), (is_payment, e.category), else_=null()),
        e.occurred_on,
    ).where(e.occurred_on >= _START, e.occurred_on <= _AS_OF, for_users(e.user_id, filtered))
    u = union_all(purchases, events).subquery()
    paying = u.c.is_payment == 1
    return select(
        u.c.user_id,
        func.sum(u.c.is_payment).label("payments"),
        func.sum(case((and_(paying, u.c.channel == "offline"), 1), else_=0)).label("offline"),
        func.count(distinct(case((paying, u.c.category), else_=null()))).label("categories"),
        func.count(distinct(u.c.day)).label("active_days"),
    ).group_by(u.c.user_id)


@cache
def contacts_stmt(filtered: bool) -> Any:
    uc, s, a = ts.user_contacts.c, ts.credit_scores.c, t.credit_accounts.c
    latest = select(s.user_id, func.max(s.score_id).label("sid")).group_by(s.user_id).subquery()
    standing = (
        select(latest.c.user_id, ts.credit_scores.c.score)
        .select_from(latest.join(ts.credit_scores, ts.credit_scores.c.score_id == latest.c.sid))
        .subquery()
    )
    overdue = select(a.user_id).where(a.state == "open", a.block_code == BLOCK_OVERDUE).distinct().subquery()
    verified = uc.verified.is_(True)
    known = and_(verified, standing.c.score.is_not(None))
    good = and_(known, standing.c.score >= bindparam("threshold", type_=Integer), overdue.c.user_id.is_(None))
    return (
        select(
            uc.user_id,
            func.sum(case((verified, 1), else_=0)).label("verified"),
            func.sum(case((known, 1), else_=0)).label("known"),
            func.sum(case((good, 1), else_=0)).label("good"),
        )
        .select_from(
            ts.user_contacts.outerjoin(standing, standing.c.user_id == uc.contact_user_id).outerjoin(
                overdue, overdue.c.user_id == uc.contact_user_id
            )
        )
        .where(for_users(uc.user_id, filtered))
        .group_by(uc.user_id)
    )


@cache
def accounts_stmt(filtered: bool) -> Any:
    a = t.credit_accounts.c
    return (
        select(
            a.user_id,
            a.account_id,
            a.state,
            a.base_limit,
            a.temporary_limit,
            a.temporary_limit_expires_on,
            a.used,
            a.block_code,
            a.opened_on,
            a.due_day,
        )
        .where(for_users(a.user_id, filtered))
        .order_by(a.user_id, a.account_id)
    )


@cache
def overdue_events_stmt(filtered: bool) -> Any:
    ev, a = t.domain_events.c, t.credit_accounts.c
    return (
        select(
            a.user_id,
            ev.account_id,
            ev.event_type,
            ev.payload["period"].as_string().label("period"),
            func.coalesce(
                ev.payload["days_past_due"].as_integer(), ev.payload["days_past_due_before"].as_integer()
            ).label("days_past_due"),
            ev.business_date,
            ev.event_id,
        )
        .select_from(t.domain_events.join(t.credit_accounts, a.account_id == ev.account_id))
        .where(ev.event_type.in_(OVERDUE_EVENT_TYPES), ev.business_date <= _AS_OF, for_users(a.user_id, filtered))
        .order_by(ev.event_id)
    )


@lru_cache(maxsize=64)
def due_periods_stmt(periods: tuple[tuple[int, dt.date, dt.date, tuple[int, ...]], ...], filtered: bool) -> Any:
    p, a = t.purchases.c, t.credit_accounts.c
    whens = [
        (and_(p.business_date >= lo, p.business_date <= hi, a.due_day.in_(list(days))), a.account_id * 1000 + key)
        for key, lo, hi, days in periods
    ]
    bill = case(*whens, else_=null())
    lo = min(x[1] for x in periods)
    hi = max(x[2] for x in periods)
    return (
        select(a.user_id, func.count(distinct(bill)).label("n"))
        .select_from(t.purchases.join(t.credit_accounts, a.account_id == p.account_id))
        .where(p.business_date >= lo, p.business_date <= hi, p.refunded < p.amount, for_users(a.user_id, filtered))
        .group_by(a.user_id)
    )


class CreditRecordRepository:
    """What the system knows of a user's credit lines: accounts and repayment record (raise applications and campaigns: :mod:`huabei.limits.repository`)."""

    def __init__(self, conn: Connection):
        self.conn = conn

    def accounts_by_user(self, user_ids: Sequence[str] | None) -> list[Any]:
        """Every credit line (open and closed) of the users, oldest first."""
        return fetch_rows(self.conn, accounts_stmt(user_ids is not None), user_params(user_ids))

    def overdue_events_by_user(self, as_of: dt.date, user_ids: Sequence[str] | None) -> list[Any]:
        """The delinquency record from the domain-event outbox (see docs/scoring.md, "Repayment record").

        Reads ``BecameOverdue``, ``DelinquencyBucketChanged`` and ``DelinquencyCured`` events up
        to ``as_of`` (whatever the bill tables look like): user, account, event type, the bill
        ``period`` of the payload when present (None: the line's delinquency as a whole), its
        ``days_past_due`` (``days_past_due_before`` on a cure), the event's date and id.
        """
        return fetch_rows(self.conn, overdue_events_stmt(user_ids is not None), user_params(user_ids, as_of=as_of))

    def due_periods_by_user(
        self, periods: Sequence[tuple[int, dt.date, dt.date, Sequence[int]]], user_ids: Sequence[str] | None
    ) -> list[Any]:
        """Bills that fell due, counted as the distinct (line, bill period) with purchases not
        fully refunded. ``periods``: (key, first purchase day, last purchase day, due days for
        which that bill's due date lies in the window)."""
        key = tuple((k, lo, hi, tuple(days)) for k, lo, hi, days in periods if days)
        if not key:
            return []
        return fetch_rows(self.conn, due_periods_stmt(key, user_ids is not None), user_params(user_ids))

    def active_restriction_causes_of(self, user_ids: Sequence[str]) -> dict[str, list[str]]:
        """:meth:`active_restriction_causes` of many users, in one query."""
        r, a = t.restrictions.c, t.credit_accounts.c
        out: dict[str, list[str]] = {}
        if not user_ids:
            return out
        rows = self.conn.execute(
            select(a.user_id, r.cause)
            .select_from(t.restrictions.join(t.credit_accounts, a.account_id == r.account_id))
            .where(a.user_id.in_(sorted(set(user_ids))), r.active.is_(True))
            .order_by(r.restriction_id)
        )
        for uid, cause in rows:
            out.setdefault(uid, []).append(cause)
        return out

    def active_restriction_causes(self, user_id: str) -> list[str]:
        r, a = t.restrictions.c, t.credit_accounts.c
        return list(
            self.conn.execute(
                select(r.cause)
                .select_from(t.restrictions.join(t.credit_accounts, a.account_id == r.account_id))
                .where(a.user_id == user_id, r.active.is_(True))
            ).scalars()
        )


def lock_user(conn: Connection, user_id: str) -> Any:
    """The user row (``huabei.onboarding``'s), locked for the transaction: serialises the fact
    updates of one user."""
    return conn.execute(select(t.users).where(t.users.c.user_id == user_id).with_for_update()).first()
