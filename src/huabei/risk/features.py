"""Each feature of :mod:`huabei.risk.catalog`, defined once as set-based SQL over history as of a date.

A definition is a function ``(w: Window) -> Select`` of rows ``(account_id, value)``, one per
account that has history for it (the others take the catalogue's default). It reads only rows
dated on or before ``w.day`` (purchases, refunds, bills as they stood, scores, facts …), so the
same statement answers for

* one account (inline, inside the purchase transaction; the diagnosis): ``accounts=[id]``;
* every open line (the end-of-day evaluation): ``accounts=None``;
* any past date (a backtest): ``day`` in the past.

:func:`compute` runs one statement per feature asked for (a fixed number of queries, never one
per account). :func:`evidence` returns the ids behind a value (the purchases, bills, changes) for
the accounts a rule fired on. This module reads across the book (purchases, bills, scores …) by
design, through the whole-book schema, like the ledger check: a feature is a question about the
whole history of a line.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import (
    BigInteger,
    Connection,
    Date,
    Integer,
    and_,
    bindparam,
    case,
    cast,
    func,
    literal,
    or_,
    select,
    union_all,
)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql import ColumnElement, Select
from sqlalchemy.sql.functions import FunctionElement

from huabei.platform import schema as s
from huabei.risk import tables as rt
from huabei.risk.catalog import FEATURES, NEVER_DAYS, ROUND_AMOUNT, TINY_AMOUNT


class days_between(FunctionElement[int]):
    """Whole days from date ``b`` to date ``a`` (``a - b``) on SQLite and PostgreSQL."""

    type = Integer()
    inherit_cache = True


@compiles(days_between)
def _days_between_pg(element: Any, compiler: Any, **kw: Any) -> str:
    a, b = list(element.clauses)
    return f"(CAST({compiler.process(a, **kw)} AS DATE) - CAST({compiler.process(b, **kw)} AS DATE))"


@compiles(days_between, "sqlite")
def _days_between_sqlite(element: Any, compiler: Any, **kw: Any) -> str:
    a, b = list(element.clauses)
    return f"CAST(julianday({compiler.process(a, **kw)}) - julianday({compiler.process(b, **kw)}) AS INTEGER)"


@dataclass(frozen=True)
class Window:
    """The date a feature is evaluated as of, and the accounts asked for (None: every open line).

    A *symbolic* window (:func:`symbolic`) stands for any date and any accounts: its dates and
    accounts are bind parameters, so a definition's statement is built once and run with the
    values of each call (:func:`compute`)."""

    day: Any  # a date, or the bind parameter ``day`` of a symbolic window
    accounts: tuple[int, ...] | None = None
    is_symbolic: bool = False
    some_accounts: bool = False
    windows: set[int] = field(default_factory=set, compare=False)  # the since(days) a statement uses

    def since(self, days: int) -> Any:
        """The first day of a window of ``days`` days ending on ``day`` (both included)."""
        if self.is_symbolic:
            self.windows.add(days)
            return bindparam(f"since_{days}", type_=Date)
        return self.day - dt.timedelta(days=days - 1)

    def d(self) -> ColumnElement[Any]:
        return self.day if self.is_symbolic else literal(self.day, Date)

    def only(self, column: Any) -> ColumnElement[bool]:
        if self.is_symbolic:
            return column.in_(bindparam("accounts", expanding=True)) if self.some_accounts else literal(True)
        return column.in_(self.accounts) if self.accounts is not None else literal(True)


def symbolic(some_accounts: bool) -> Window:
    return Window(bindparam("day", type_=Date), None, is_symbolic=True, some_accounts=some_accounts)


_STATEMENTS: dict[tuple[str, bool], tuple[Select[Any], frozenset[int]]] = {}


def statement(name: str, some_accounts: bool) -> tuple[Select[Any], frozenset[int]]:
    """The definition's statement over a symbolic window (built once) and the windows it uses."""
    key = (name, some_accounts)
    if key not in _STATEMENTS:
        w = symbolic(some_accounts)
        stmt = DEFINITIONS[name](w)
        _STATEMENTS[key] = (stmt, frozenset(w.windows))
    return _STATEMENTS[key]


def _lines(w: Window) -> Any:
    """The lines open on ``w.day`` (of ``w.accounts``)."""
    a = s.credit_accounts.c
    return select(a.account_id, a.user_id, a.opened_on).where(
        a.opened_on <= w.day, or_(a.closed_on.is_(None), a.closed_on > w.day), w.only(a.account_id)
    )


def _purchases(w: Window, days: int) -> Any:
    p = s.purchases.c
    return and_(w.only(p.account_id), p.business_date >= w.since(days), p.business_date <= w.day)


def _latest(grouped: Select[Any]) -> Any:
    """The latest row of each group as a derived table ``(key, id)`` to *join* to: the rows of
    the book behind a value are found by joining on ``id``, never by ``id IN (subquery)``, which
    SQLite probes once per outer row and list element (quadratic: 197 s for 15,000 lines' scores,
    0.4 s as a join)."""
    return grouped.subquery()


# --- the definitions ---------------------------------------------------------------------


def dpd_now(w: Window) -> Select[Any]:
    b = s.bills.c
    return (
        select(b.account_id, func.max(days_between(w.d(), b.due_date)))
        .where(
            w.only(b.account_id),
            b.overdue_since.is_not(None),
            b.overdue_since <= w.day,
            or_(b.cleared_on.is_(None), b.cleared_on > w.day),
        )
        .group_by(b.account_id)
    )


def _worst_dpd(w: Window, days: int) -> Select[Any]:
    """Worst days past due of bills overdue at some point of the ``days`` days up to ``w.day``
    (a bill still unpaid counts up to the day; a cleared one up to its clearing)."""
    b = s.bills.c
    end = case((or_(b.cleared_on.is_(None), b.cleared_on > w.day), w.d()), else_=b.cleared_on)
    return (
        select(b.account_id, func.max(days_between(end, b.due_date)))
        .where(
            w.only(b.account_id),
            b.overdue_since.is_not(None),
            b.overdue_since <= w.day,
            or_(b.cleared_on.is_(None), b.cleared_on >= w.since(days)),
        )
        .group_by(b.account_id)
    )


def worst_dpd_between(
    conn: Connection, after: dt.date, until: dt.date, accounts: Sequence[int] | None = None
) -> dict[int, int]:
    """The worst days past due each line's bills reached in the days after ``after`` up to
    ``until`` (an outcome over a horizon, for fitting a card on the book; lines never overdue
    then are absent)."""
    w = Window(until, tuple(accounts) if accounts is not None else None)
    return {int(a): int(v) for a, v in conn.execute(_worst_dpd(w, (until - after).days)) if v is not None}


def worst_dpd_12m(w: Window) -> Select[Any]:
    return _worst_dpd(w, 365)


def worst_dpd_3m(w: Window) -> Select[Any]:
    return _worst_dpd(w, 91)


def worst_dpd_6m(w: Window) -> Select[Any]:
    return _worst_dpd(w, 182)


def months_since_overdue(w: Window) -> Select[Any]:
    b = s.bills.c
    return (
        select(b.account_id, days_between(w.d(), func.max(b.overdue_since)) // 30)
        .where(w.only(b.account_id), b.overdue_since.is_not(None), b.overdue_since <= w.day)
        .group_by(b.account_id)
    )


# Bills as known on a date: a bill whose due date is on or before the day has a final
# ``paid_by_due_date`` (repayments allocated up to and including the due date), so how it was
# repaid is known then and never changes afterwards.


def _due_bills(w: Window, days: int) -> Any:
    b = s.bills.c
    return and_(w.only(b.account_id), b.total_due > 0, b.due_date <= w.day, b.due_date >= w.since(days))


def _per_mille(condition: Any) -> Any:
    return cast(func.sum(case((condition, 1000), else_=0)) // func.count(), Integer)


_IN_FULL = s.bills.c.paid_by_due_date >= s.bills.c.total_due
_BELOW_MINIMUM = s.bills.c.paid_by_due_date < s.bills.c.minimum_due
_MINIMUM_ONLY = and_(~_IN_FULL, ~_BELOW_MINIMUM)


def bills_due_6m(w: Window) -> Select[Any]:
    b = s.bills.c
    return select(b.account_id, func.count()).where(_due_bills(w, 182)).group_by(b.account_id)


def paid_in_full_share_6m(w: Window) -> Select[Any]:
    b = s.bills.c
    return select(b.account_id, _per_mille(_IN_FULL)).where(_due_bills(w, 182)).group_by(b.account_id)


def minimum_only_share_6m(w: Window) -> Select[Any]:
    b = s.bills.c
    return select(b.account_id, _per_mille(_MINIMUM_ONLY)).where(_due_bills(w, 182)).group_by(b.account_id)


def below_minimum_share_6m(w: Window) -> Select[Any]:
    b = s.bills.c
    return select(b.account_id, _per_mille(_BELOW_MINIMUM)).where(_due_bills(w, 182)).group_by(b.account_id)


def repaid_share_last_bill(w: Window) -> Select[Any]:
    b = s.bills.c
    last = _latest(
        select(b.account_id.label("key"), func.max(b.bill_id).label("id"))
        .where(w.only(b.account_id), b.total_due > 0, b.due_date <= w.day)
        .group_by(b.account_id)
    )
    share = case(
        (b.paid_by_due_date >= b.total_due, 1000), else_=cast(b.paid_by_due_date * 1000 // b.total_due, Integer)
    )
    return select(b.account_id, share).select_from(last).join(s.bills, b.bill_id == last.c.id)


def _statements(w: Window) -> Any:
    """Each statement issued on or before the day with its utilisation (balance per mille of the
    base limit in force on its statement date) and its rank (1 = the latest)."""
    b, c = s.bills.c, s.limit_changes.c
    # the base limit in force on each statement date: the bill's latest base-limit change up to
    # it, found by a join and a GROUP BY (not a subquery run once per bill)
    changes = s.limit_changes.alias("changes")
    last = _latest(
        select(b.bill_id.label("key"), func.max(changes.c.change_id).label("id"))
        .join(
            changes,
            and_(
                changes.c.account_id == b.account_id,
                changes.c.limit_kind == "base",
                changes.c.business_date <= b.statement_date,
            ),
        )
        .where(w.only(b.account_id), b.statement_date <= w.day)
        .group_by(b.bill_id)
    )
    limit_then = c.new_value
    balance = case((b.closing_balance > 0, b.closing_balance), else_=0)
    util = case((limit_then > 0, cast(balance * 1000 // limit_then, Integer)), else_=0)
    rank = func.row_number().over(partition_by=b.account_id, order_by=b.statement_date.desc())
    return (
        select(b.account_id, util.label("util"), rank.label("rank"))
        .select_from(s.bills)
        .outerjoin(last, last.c.key == b.bill_id)
        .outerjoin(s.limit_changes, c.change_id == last.c.id)
        .where(w.only(b.account_id), b.statement_date <= w.day)
        .subquery()
    )


def utilisation_last_statement(w: Window) -> Select[Any]:
    st = _statements(w)
    return select(st.c.account_id, st.c.util).where(st.c.rank == 1)


def utilisation_trend(w: Window) -> Select[Any]:
    st = _statements(w)
    latest = func.max(case((st.c.rank == 1, st.c.util)))
    earlier = func.max(case((st.c.rank == 3, st.c.util)))
    # one pass over the ranked statements (no self-join): the lines with a third-latest statement
    return (
        select(st.c.account_id, latest - earlier)
        .where(st.c.rank.in_((1, 3)))
        .group_by(st.c.account_id)
        .having(func.count() == 2)
    )


def revolving_months_12m(w: Window) -> Select[Any]:
    b = s.bills.c
    return select(b.account_id, func.count()).where(_due_bills(w, 365), _MINIMUM_ONLY).group_by(b.account_id)


def temp_limit_statements_12m(w: Window) -> Select[Any]:
    b = s.bills.c
    return (
        select(b.account_id, func.count())
        .where(
            w.only(b.account_id),
            b.temporary_limit_part > 0,
            b.statement_date <= w.day,
            b.statement_date >= w.since(365),
        )
        .group_by(b.account_id)
    )


def days_since_overdue_cleared(w: Window) -> Select[Any]:
    b = s.bills.c
    return (
        select(b.account_id, days_between(w.d(), func.max(b.cleared_on)))
        .where(
            w.only(b.account_id),
            b.overdue_since.is_not(None),
            b.overdue_since <= w.day,
            b.cleared_on.is_not(None),
            b.cleared_on <= w.day,
        )
        .group_by(b.account_id)
    )


def overdue_elsewhere_days(w: Window) -> Select[Any]:
    """The latest report of each of the user's other products on or before the day; the worst."""
    r = rt.external_credit_reports.c
    lines = _lines(w).subquery()
    latest = _latest(
        select(r.user_id.label("key"), func.max(r.report_id).label("id"))
        .where(r.reported_on <= w.day, r.user_id.in_(select(lines.c.user_id)))
        .group_by(r.user_id, r.product)
    )
    return (
        select(lines.c.account_id, func.max(r.days_past_due))
        .join(latest, latest.c.key == lines.c.user_id)
        .join(rt.external_credit_reports, r.report_id == latest.c.id)
        .group_by(lines.c.account_id)
    )


def days_since_last_purchase(w: Window) -> Select[Any]:
    """Days since the line's last purchase (since it opened: none yet). A purchase a brand-isolation
    move took to the user's 信用购 line (``funding_moves``) still counts for the 花呗 line it was
    made on: the move is not the user going quiet (purchases on the 信用购 line up to the day of
    the move; that day's later ones too — business dates do not order within a day)."""
    p, m = s.purchases.c, s.funding_moves.c
    lines = _lines(w).subquery()
    own = select(p.account_id.label("account_id"), p.business_date.label("day")).where(
        w.only(p.account_id), p.business_date <= w.day
    )
    moved = (
        select(m.account_id.label("account_id"), p.business_date.label("day"))
        .select_from(s.funding_moves.join(s.purchases, p.account_id == m.to_account_id))
        .where(w.only(m.account_id), p.business_date <= w.day, p.business_date <= m.moved_on)
    )
    both = union_all(own, moved).subquery()
    last = select(both.c.account_id, func.max(both.c.day).label("last")).group_by(both.c.account_id).subquery()
    return select(lines.c.account_id, days_between(w.d(), func.coalesce(last.c.last, lines.c.opened_on))).outerjoin(
        last, last.c.account_id == lines.c.account_id
    )


def account_age_days(w: Window) -> Select[Any]:
    lines = _lines(w).subquery()
    return select(lines.c.account_id, days_between(w.d(), lines.c.opened_on))


def round_purchases_one_merchant_30d(w: Window) -> Select[Any]:
    p = s.purchases.c
    per = (
        select(p.account_id, func.count().label("n"))
        .where(_purchases(w, 30), p.amount % ROUND_AMOUNT == 0)
        .group_by(p.account_id, p.merchant_id)
        .subquery()
    )
    return select(per.c.account_id, func.max(per.c.n)).group_by(per.c.account_id)


#: The causes whose lines make a merchant suspect (feature ``flagged_share_at_merchant_30d``).
FLAGGED_CAUSES = ("cash_out_suspected", "score_brushing_suspected")


def _flagged(w: Window) -> Any:
    """The lines restricted for cash-out or score brushing on ``w.day`` (every line, not only
    ``w.accounts``: they are the others a merchant is judged by)."""
    r = s.restrictions.c
    return (
        select(r.account_id)
        .where(r.cause.in_(FLAGGED_CAUSES), r.placed_on <= w.day, or_(r.lifted_on.is_(None), r.lifted_on > w.day))
        .group_by(r.account_id)
        .subquery()
    )


def _round_spenders(w: Window, everyone: bool) -> Any:
    """``(account_id, merchant_id)`` of the round-amount purchases of the last 30 days, once each."""
    p = s.purchases.c
    where = [p.business_date >= w.since(30), p.business_date <= w.day, p.amount % ROUND_AMOUNT == 0]
    if not everyone:
        where.append(w.only(p.account_id))
    return select(p.account_id, p.merchant_id).where(*where).group_by(p.account_id, p.merchant_id).subquery()


def _merchants(w: Window) -> Any:
    """Each merchant's round-amount buyers of the last 30 days (``buyers``) and how many of them
    are flagged (``flagged``)."""
    spent, flagged = _round_spenders(w, everyone=True), _flagged(w)
    return (
        select(
            spent.c.merchant_id,
            func.count().label("buyers"),
            func.count(flagged.c.account_id).label("flagged"),
        )
        .select_from(spent)
        .outerjoin(flagged, flagged.c.account_id == spent.c.account_id)
        .group_by(spent.c.merchant_id)
        .subquery()
    )


def _flagged_share(merchants: Any, flagged: Any) -> Any:
    """Per mille of the *other* round-amount buyers of the merchant that are flagged (0 alone)."""
    me = case((flagged.c.account_id.is_not(None), 1), else_=0)
    others = merchants.c.buyers - 1
    return case((others > 0, cast((merchants.c.flagged - me) * 1000 // others, Integer)), else_=0)


def flagged_share_at_merchant_30d(w: Window) -> Select[Any]:
    """Per merchant its round-amount buyers and the flagged among them (one GROUP BY over the
    book's 30 days), the line itself taken out; the line's worst merchant."""
    mine, flagged, merchants = _round_spenders(w, everyone=False), _flagged(w), _merchants(w)
    return (
        select(mine.c.account_id, func.max(_flagged_share(merchants, flagged)))
        .select_from(mine)
        .join(merchants, merchants.c.merchant_id == mine.c.merchant_id)
        .outerjoin(flagged, flagged.c.account_id == mine.c.account_id)
        .group_by(mine.c.account_id)
    )


def _last_raise(w: Window) -> Any:
    c = s.limit_changes.c
    last = _latest(
        select(c.account_id.label("key"), func.max(c.change_id).label("id"))
        .where(
            w.only(c.account_id),
            c.limit_kind == "base",
            c.new_value > c.old_value,
            c.old_value > 0,  # the opening (0 → the first limit) is no raise
            c.business_date >= w.since(30),
            c.business_date <= w.day,
        )
        .group_by(c.account_id)
    )
    return (
        select(c.change_id, c.account_id, c.new_value, c.business_date)
        .select_from(last)
        .join(s.limit_changes, c.change_id == last.c.id)
        .subquery()
    )


def limit_spent_pct_7d_after_raise(w: Window) -> Select[Any]:
    p = s.purchases.c
    r = _last_raise(w)
    spent = func.coalesce(func.sum(p.amount), 0)
    return (
        # PostgreSQL sums bigints into numeric: cast back, and // (integer division) on both databases
        select(r.c.account_id, cast(cast(spent, BigInteger) * 100 // func.max(r.c.new_value), Integer))
        .select_from(r)
        .outerjoin(
            s.purchases,
            and_(
                p.account_id == r.c.account_id,
                p.business_date >= r.c.business_date,
                p.business_date <= w.day,
                days_between(p.business_date, r.c.business_date) < 7,
            ),
        )
        .where(r.c.new_value > 0)
        .group_by(r.c.account_id)
    )


def _refunded_quickly(w: Window) -> Any:
    p, f = s.purchases.c, s.refunds.c
    quick = select(f.purchase_id).where(
        f.business_date <= w.day, days_between(f.business_date, p.business_date) <= 3, f.purchase_id == p.purchase_id
    )
    return and_(_purchases(w, 30), quick.exists())


def refunded_within_3d_30d(w: Window) -> Select[Any]:
    p = s.purchases.c
    return select(p.account_id, func.count()).where(_refunded_quickly(w)).group_by(p.account_id)


def tiny_purchase_categories_7d(w: Window) -> Select[Any]:
    p = s.purchases.c
    return (
        select(p.account_id, func.count(p.merchant_category.distinct()))
        .where(_purchases(w, 7), p.amount < TINY_AMOUNT)
        .group_by(p.account_id)
    )


def raise_applications_30d(w: Window) -> Select[Any]:
    a = s.limit_raise_applications.c
    return (
        select(a.account_id, func.count())
        .where(w.only(a.account_id), a.applied_on >= w.since(30), a.applied_on <= w.day)
        .group_by(a.account_id)
    )


def score(w: Window) -> Select[Any]:
    c = s.credit_scores.c
    lines = _lines(w).subquery()
    latest = _latest(
        select(c.user_id.label("key"), func.max(c.score_id).label("id"))
        .where(c.as_of <= w.day, c.user_id.in_(select(lines.c.user_id)))
        .group_by(c.user_id)
    )
    return (
        select(lines.c.account_id, c.score)
        .join(latest, latest.c.key == lines.c.user_id)
        .join(s.credit_scores, c.score_id == latest.c.id)
    )


def previous_score(w: Window) -> Select[Any]:
    c = s.credit_scores.c
    q = score(w)
    return q.with_only_columns(q.selected_columns[0], func.coalesce(c.previous_score, 0), maintain_column_froms=True)


def _devices(w: Window, days: int) -> Select[Any]:
    p = s.purchases.c
    return (
        select(p.account_id, func.count(p.device_id.distinct()))
        .where(_purchases(w, days), p.device_id.is_not(None))
        .group_by(p.account_id)
    )


def distinct_devices_7d(w: Window) -> Select[Any]:
    return _devices(w, 7)


def distinct_devices_30d(w: Window) -> Select[Any]:
    return _devices(w, 30)


def _profile_changes(w: Window, field: str) -> Select[Any]:
    c = s.user_profile_changes.c
    lines = _lines(w).subquery()
    return (
        select(lines.c.account_id, func.count())
        .join(s.user_profile_changes, c.user_id == lines.c.user_id)
        .where(c.field == field, c.business_date >= w.since(30), c.business_date <= w.day)
        .group_by(lines.c.account_id)
    )


def phone_changes_30d(w: Window) -> Select[Any]:
    return _profile_changes(w, "phone")


def bank_card_changes_30d(w: Window) -> Select[Any]:
    return _profile_changes(w, "bank_card")


def days_since_verification(w: Window) -> Select[Any]:
    v = s.user_verifications.c
    lines = _lines(w).subquery()
    return (
        select(lines.c.account_id, days_between(w.d(), func.max(v.business_date)))
        .join(s.user_verifications, v.user_id == lines.c.user_id)
        .where(v.business_date <= w.day)
        .group_by(lines.c.account_id)
    )


def app_activity_30d(w: Window) -> Select[Any]:
    e = s.activity_events.c
    lines = _lines(w).subquery()
    return (
        select(lines.c.account_id, func.count())
        .join(s.activity_events, e.user_id == lines.c.user_id)
        .where(e.occurred_on >= w.since(30), e.occurred_on <= w.day)
        .group_by(lines.c.account_id)
    )


def declined_attempts_30d(w: Window) -> Select[Any]:
    d = s.purchase_declines.c
    return (
        select(d.account_id, func.count())
        .where(w.only(d.account_id), d.business_date >= w.since(30), d.business_date <= w.day)
        .group_by(d.account_id)
    )


DEFINITIONS: dict[str, Callable[[Window], Select[Any]]] = {
    "dpd_now": dpd_now,
    "worst_dpd_12m": worst_dpd_12m,
    "days_since_overdue_cleared": days_since_overdue_cleared,
    "overdue_elsewhere_days": overdue_elsewhere_days,
    "days_since_last_purchase": days_since_last_purchase,
    "account_age_days": account_age_days,
    "round_purchases_one_merchant_30d": round_purchases_one_merchant_30d,
    "limit_spent_pct_7d_after_raise": limit_spent_pct_7d_after_raise,
    "refunded_within_3d_30d": refunded_within_3d_30d,
    "tiny_purchase_categories_7d": tiny_purchase_categories_7d,
    "raise_applications_30d": raise_applications_30d,
    "flagged_share_at_merchant_30d": flagged_share_at_merchant_30d,
    "score": score,
    "previous_score": previous_score,
    "distinct_devices_7d": distinct_devices_7d,
    "distinct_devices_30d": distinct_devices_30d,
    "phone_changes_30d": phone_changes_30d,
    "bank_card_changes_30d": bank_card_changes_30d,
    "days_since_verification": days_since_verification,
    "app_activity_30d": app_activity_30d,
    "declined_attempts_30d": declined_attempts_30d,
    "worst_dpd_3m": worst_dpd_3m,
    "worst_dpd_6m": worst_dpd_6m,
    "months_since_overdue": months_since_overdue,
    "bills_due_6m": bills_due_6m,
    "paid_in_full_share_6m": paid_in_full_share_6m,
    "minimum_only_share_6m": minimum_only_share_6m,
    "below_minimum_share_6m": below_minimum_share_6m,
    "repaid_share_last_bill": repaid_share_last_bill,
    "utilisation_last_statement": utilisation_last_statement,
    "utilisation_trend": utilisation_trend,
    "revolving_months_12m": revolving_months_12m,
    "temp_limit_statements_12m": temp_limit_statements_12m,
}
assert set(DEFINITIONS) == set(FEATURES), "every catalogued feature has exactly one definition"


def open_lines(conn: Connection, day: dt.date, accounts: Sequence[int] | None = None) -> list[int]:
    w = Window(day, tuple(accounts) if accounts is not None else None)
    q = _lines(w).subquery()
    return [r[0] for r in conn.execute(select(q.c.account_id).order_by(q.c.account_id))]


def compute(
    conn: Connection,
    names: Iterable[str],
    day: dt.date,
    accounts: Sequence[int] | None = None,
    *,
    known_open: bool = False,
) -> dict[int, dict[str, Any]]:
    """``{account_id: {feature: value}}`` for the lines open on ``day`` (of ``accounts``), one
    statement per feature; an account without history for a feature gets its default.
    ``known_open``: the caller knows ``accounts`` are open (a purchase just debited the line), so
    they are not looked up."""
    names = sorted(set(names))
    lines = list(accounts) if known_open and accounts is not None else open_lines(conn, day, accounts)
    out: dict[int, dict[str, Any]] = {a: {n: FEATURES[n].default for n in names} for a in lines}
    for n in names:
        stmt, windows = statement(n, accounts is not None)
        params: dict[str, Any] = {"day": day, **{f"since_{k}": day - dt.timedelta(days=k - 1) for k in windows}}
        if accounts is not None:
            params["accounts"] = list(accounts)
        for account_id, value in conn.execute(stmt, params):
            row = out.get(account_id)
            if row is not None and value is not None:
                row[n] = int(value) if FEATURES[n].type == "int" else bool(value)
    for row in out.values():
        for n in ("days_since_overdue_cleared", "days_since_verification", "months_since_overdue"):
            if n in row:
                row[n] = min(row[n], NEVER_DAYS)
    return out


# --- the ids behind a value -----------------------------------------------------------------


def _ids(stmt: Select[Any], conn: Connection) -> dict[int, list[int]]:
    out: dict[int, list[int]] = {}
    for account_id, ref in conn.execute(stmt):
        out.setdefault(account_id, []).append(ref)
    return out


def evidence(conn: Connection, name: str, day: dt.date, accounts: Sequence[int]) -> dict[int, list[int]]:
    """``{account_id: [ids]}`` behind ``name`` for ``accounts`` on ``day`` (see the catalogue's
    ``evidence`` kind: bills, purchases or profile changes); empty when it has none."""
    if not accounts or FEATURES[name].evidence is None:
        return {}
    w = Window(day, tuple(accounts))
    p, b = s.purchases.c, s.bills.c
    stmt: Select[Any] | None = None
    if name in ("dpd_now", "worst_dpd_12m", "days_since_overdue_cleared", "worst_dpd_3m", "worst_dpd_6m"):
        stmt = select(b.account_id, b.bill_id).where(
            w.only(b.account_id),
            b.overdue_since.is_not(None),
            b.overdue_since <= day,
            or_(b.cleared_on.is_(None), b.cleared_on >= w.since(365)),
        )
    elif FEATURES[name].evidence == "bills":  # the behavioural features: the bills of the last year
        stmt = select(b.account_id, b.bill_id).where(
            w.only(b.account_id), b.statement_date <= day, b.statement_date >= w.since(365)
        )
    elif name == "round_purchases_one_merchant_30d":
        stmt = select(p.account_id, p.purchase_id).where(_purchases(w, 30), p.amount % ROUND_AMOUNT == 0)
    elif name == "flagged_share_at_merchant_30d":  # the line's round amounts at merchants with flagged buyers
        merchants, flagged = _merchants(w), _flagged(w)
        stmt = (
            select(p.account_id, p.purchase_id)
            .join(merchants, merchants.c.merchant_id == p.merchant_id)
            .outerjoin(flagged, flagged.c.account_id == p.account_id)
            .where(_purchases(w, 30), p.amount % ROUND_AMOUNT == 0, _flagged_share(merchants, flagged) > 0)
        )
    elif name == "refunded_within_3d_30d":
        stmt = select(p.account_id, p.purchase_id).where(_refunded_quickly(w))
    elif name == "tiny_purchase_categories_7d":
        stmt = select(p.account_id, p.purchase_id).where(_purchases(w, 7), p.amount < TINY_AMOUNT)
    elif name in ("distinct_devices_7d", "distinct_devices_30d"):
        stmt = select(p.account_id, p.purchase_id).where(
            _purchases(w, 7 if name.endswith("7d") else 30), p.device_id.is_not(None)
        )
    elif name == "days_since_last_purchase":
        stmt = (
            select(p.account_id, func.max(p.purchase_id))
            .where(w.only(p.account_id), p.business_date <= day)
            .group_by(p.account_id)
        )
    elif name == "limit_spent_pct_7d_after_raise":
        r = _last_raise(w)
        stmt = (
            select(p.account_id, p.purchase_id)
            .join(r, r.c.account_id == p.account_id)
            .where(
                p.business_date >= r.c.business_date,
                p.business_date <= day,
                days_between(p.business_date, r.c.business_date) < 7,
            )
        )
    elif name in ("phone_changes_30d", "bank_card_changes_30d"):
        c = s.user_profile_changes.c
        lines = _lines(w).subquery()
        stmt = (
            select(lines.c.account_id, c.change_id)
            .join(s.user_profile_changes, c.user_id == lines.c.user_id)
            .where(
                c.field == ("phone" if name.startswith("phone") else "bank_card"),
                c.business_date >= w.since(30),
                c.business_date <= day,
            )
        )
    if stmt is None:
        return {}
    return _ids(stmt.order_by(*stmt.selected_columns), conn)
