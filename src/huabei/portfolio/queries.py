"""The risk dashboard's figures over the whole book, each one aggregate query (GROUP BY in the
database: a fixed number of statements whatever the size of the book, read in one snapshot).
Their Python twin, folded from per-line rows by the batch engines: :mod:`huabei.portfolio.figures`.

A whole-book reader like the simulation's report: it reads every capability's table through
``platform.schema``. Money in fen.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from itertools import pairwise
from typing import Any

from sqlalchemy import and_, case, func, select

from huabei.platform import schema as t
from huabei.platform.unit_of_work import Huabei, UnitOfWork
from huabei.portfolio.figures import SCORE_BANDS


def book_rows(uow: UnitOfWork, user_ids: Sequence[str]) -> tuple[list[Any], list[Any]]:
    """What the figures are folded from, for ``user_ids`` (``huabei batch run portfolio``): their
    lines ``(account_id, user_id, closed, block_code, base_limit, used, bucket)`` and the active
    restrictions' causes ``(account_id, cause)`` of those lines, in line order."""
    a, d, r = t.credit_accounts.c, t.account_delinquency.c, t.restrictions.c
    lines = list(
        uow.conn.execute(
            select(a.account_id, a.user_id, a.closed_on.is_not(None), a.block_code, a.base_limit, a.used, d.bucket)
            .select_from(t.credit_accounts.outerjoin(t.account_delinquency, d.account_id == a.account_id))
            .where(a.user_id.in_(list(user_ids)))
            .order_by(a.account_id)
        )
    )
    accounts = [row[0] for row in lines]
    causes = (
        list(
            uow.conn.execute(
                select(r.account_id, r.cause)
                .where(r.active.is_(True), r.account_id.in_(accounts))
                .order_by(r.account_id, r.cause)
            )
        )
        if accounts
        else []
    )
    return lines, causes


def figures(system: Huabei) -> dict[str, Any]:
    a = t.credit_accounts.c
    d = t.account_delinquency.c
    r = t.restrictions.c
    s = t.credit_scores.c
    with system.uow(readonly=True) as uow:
        conn = uow.conn
        today = uow.today()
        state = case(
            (a.closed_on.is_not(None), "closed"),
            (a.block_code.like("account_frozen%"), "frozen"),
            (a.block_code == "account_overdue", "overdue"),
            else_="active",
        )
        by_status = {k: n for k, n in conn.execute(select(state, func.count()).group_by(state))}
        totals = conn.execute(
            select(
                func.count(),
                func.coalesce(func.sum(a.base_limit), 0),
                func.coalesce(func.sum(a.used), 0),
            ).where(a.closed_on.is_(None))
        ).one()
        buckets = {
            b: (n, int(owed or 0))
            for b, n, owed in conn.execute(
                select(d.bucket, func.count(), func.sum(a.used))
                .select_from(t.account_delinquency.join(t.credit_accounts, a.account_id == d.account_id))
                .group_by(d.bucket)
            )
        }
        causes = {
            c: n
            for c, n in conn.execute(
                select(r.cause, func.count()).where(r.active.is_(True)).group_by(r.cause).order_by(r.cause)
            )
        }
        latest = select(s.user_id, func.max(s.score_id).label("score_id")).group_by(s.user_id).subquery()
        band = case(*((s.score < hi, lo) for lo, hi in pairwise(SCORE_BANDS)), else_=SCORE_BANDS[-2])
        scores = {
            int(lo): n
            for lo, n in conn.execute(
                select(band, func.count())
                .select_from(t.credit_scores.join(latest, and_(latest.c.score_id == s.score_id)))
                .group_by(band)
            )
        }
        e = t.eod_days.c
        last_eod = conn.execute(select(func.max(e.business_date))).scalar()
        steps = []
        if last_eod is not None:
            steps = [
                {"step": step, "counts": counts}
                for step, counts in conn.execute(
                    select(t.eod_runs.c.step, t.eod_runs.c.counts)
                    .where(t.eod_runs.c.business_date == last_eod)
                    .order_by(t.eod_runs.c.started_at)
                )
            ]
    lines, limits, used = int(totals[0]), int(totals[1]), int(totals[2])
    overdue_lines = sum(n for b, (n, _) in buckets.items() if b != "current")
    return {
        "as_of": today.isoformat(),
        "lines": lines,
        "by_status": by_status,
        "base_limits": limits,
        "used": used,
        "utilisation": (used / limits) if limits else 0.0,
        "buckets": {b: {"lines": n, "used": owed} for b, (n, owed) in sorted(buckets.items())},
        "overdue_rate": (overdue_lines / lines) if lines else 0.0,
        "overdue_amount": sum(owed for b, (_, owed) in buckets.items() if b != "current"),
        "restrictions_by_cause": causes,
        "score_bands": {f"{lo}-{hi - 1}": scores.get(lo, 0) for lo, hi in pairwise(SCORE_BANDS)},
        "last_eod": {"business_date": last_eod.isoformat() if last_eod else None, "steps": steps},
    }


def monthly(system: Huabei, months: int = 12) -> list[dict[str, Any]]:
    """The book month by month, from the credit-bureau records the end-of-day job writes on each
    month's first day (the line's state at the month's end; corrections supersede): lines
    reported, utilisation (balance over limits), overdue rate (lines whose worst bucket in the month
    was past due) and amount overdue. One GROUP BY over ``ix_bureau_records_month``."""
    b = t.bureau_records.c
    overdue = case((b.worst_bucket != "current", 1), else_=0)
    with system.uow(readonly=True) as uow:
        rows = uow.conn.execute(
            select(
                b.month,
                func.count(),
                func.coalesce(func.sum(b.credit_limit), 0),
                func.coalesce(func.sum(b.balance), 0),
                func.coalesce(func.sum(overdue), 0),
                func.coalesce(func.sum(b.amount_overdue), 0),
            )
            .where(b.superseded.is_(False))
            .group_by(b.month)
            .order_by(b.month.desc())
            .limit(months)
        ).all()
    return [
        {
            "month": month,
            "lines": int(n),
            "utilisation": (int(bal) / int(lim)) if int(lim) else 0.0,
            "overdue_rate": (int(od) / int(n)) if n else 0.0,
            "amount_overdue": int(amt),
        }
        for month, n, lim, bal, od, amt in reversed(rows)
    ]


def month_ends(today: dt.date, months: int) -> list[dt.date]:
    """The last ``months`` month ends before ``today``, oldest first, then ``today``."""
    out = [today]
    day = today.replace(day=1) - dt.timedelta(days=1)
    for _ in range(months):
        out.append(day)
        day = day.replace(day=1) - dt.timedelta(days=1)
    return list(reversed(out))


def find_lines(system: Huabei, q: str, limit: int = 20) -> list[dict[str, Any]]:
    """The agent console's search: lines by user id, phone or line id (exact), newest first."""
    a, u = t.credit_accounts.c, t.users.c
    q = q.strip()[:64]
    if not q:
        return []
    cond = (u.user_id == q) | (u.phone == q)
    if q.isdigit() and len(q) <= 18:
        cond = cond | (a.account_id == int(q))
    with system.uow(readonly=True) as uow:
        rows = uow.conn.execute(
            select(a.account_id, u.user_id, u.name, u.phone, a.base_limit, a.used, a.block_code, a.closed_on)
            .select_from(t.users.join(t.credit_accounts, a.user_id == u.user_id))
            .where(cond)
            .order_by(a.account_id.desc())
            .limit(limit)
        )
        return [dict(r._mapping) for r in rows]
