"""Billing's reads across the whole book: the rows of other capabilities a bill is made of.

A bill is made of the line's purchases (``huabei.lines``) and carries who funds the line (资金方):
billing reads those rows, by design, and never writes them (tests/unit/test_table_owners.py).
These are the only billing statements that read another capability's tables; pyproject's
``whole-book-schema`` contract names this module among the whole-book readers, beside
``huabei.risk.features``, the bureau extract and the books check. Everything else of billing's
storage (``repository``) reads and writes billing's own tables only.

* :func:`with_funders` — the funder of each receivable's line, when it is written;
* :func:`unbilled_purchases` — one line's purchases since its last bill (the bill view);
* :func:`stream_close_inputs` and :func:`insert_cycle_lines` — the statement close over the
  whole book (set-based: one streamed query, one ``INSERT … SELECT`` per kind of line).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import Connection, String, and_, case, cast, func, insert, literal, or_, select

from huabei.billing import tables as tb
from huabei.platform import schema as t
from huabei.platform.sql import AccountRange, in_chunks, in_range, isum, stream


def with_funders(conn: Connection, rows: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """``rows`` (each with an ``account_id``) with the ``funding_source`` of their line added: a
    receivable carries who funds it (资金方) from the moment it is written — a bill with its fee,
    interest and penalty, an accrual, an installment plan and its periods — and keeps it when a
    brand-isolation move takes it to a 信用购 line (docs/flows.md). One query per thousand lines,
    returning only the partners' (most lines are the platform's)."""
    if not rows:
        return []
    a = t.credit_accounts.c
    funders: dict[int, str] = {}
    for chunk in in_chunks(sorted({r["account_id"] for r in rows})):
        q = select(a.account_id, a.funding_source).where(a.account_id.in_(chunk), a.funding_source != "platform")
        funders.update({r[0]: r[1] for r in conn.execute(q)})
    return [{**r, "funding_source": funders.get(r["account_id"], "platform")} for r in rows]


def unbilled_purchases(conn: Connection, account_id: int, since: dt.date) -> list[Any]:
    p, ip = t.purchases.c, tb.installment_plans.c
    return list(
        conn.execute(
            select(
                p.purchase_id,
                p.amount,
                p.on_temporary_limit,
                p.business_date,
                p.merchant_id,
                func.coalesce(ip.principal, 0).label("converted"),
            )
            .select_from(
                t.purchases.outerjoin(
                    tb.installment_plans,
                    and_(ip.source_purchase_id == p.purchase_id, ip.converted_from == "unbilled_purchase"),
                )
            )
            .where(p.account_id == account_id, p.business_date >= since)
            .order_by(p.business_date, p.purchase_id)
        )
    )


def stream_close_inputs(
    conn: Connection, lower: dt.date, upper: dt.date, periods_before: dt.date, accounts: AccountRange | None = None
) -> Iterable[Any]:
    """What each line's next bill holds, summed per kind (one row per line with anything
    to bill; set-based): purchases of the cycle less what was turned into installments
    before billing and the part on a temporary limit; the cycle's repayment and refund
    money not applied to a bill, split into what paid the unbilled principal and what is
    held as credit; interest and penalty posted in the cycle; installment parts falling
    due on the bill. ``compose_bill`` needs only these sums; the itemized lines are written
    by :meth:`insert_cycle_lines` from the same rows."""
    a, pu, ip = t.credit_accounts.c, t.purchases.c, tb.installment_plans.c
    al, ac, pe, b = tb.bill_allocations.c, tb.bill_accruals.c, tb.installment_periods.c, tb.bills.c
    net = pu.amount - func.coalesce(ip.principal, 0)
    bought = (
        select(
            pu.account_id,
            isum(net).label("amount"),
            isum(case((net < pu.on_temporary_limit, net), else_=pu.on_temporary_limit)).label("temp"),
        )
        .select_from(
            t.purchases.outerjoin(
                tb.installment_plans,
                and_(ip.source_purchase_id == pu.purchase_id, ip.converted_from == "unbilled_purchase"),
            )
        )
        .where(pu.business_date >= lower, pu.business_date < upper, net > 0)
        .group_by(pu.account_id)
        .subquery()
    )
    money = (
        select(
            al.account_id,
            isum(case((al.component == "unbilled_principal", al.amount), else_=0)).label("pool"),
            isum(case((al.component == "credit", al.amount), else_=0)).label("credit"),
        )
        .where(
            al.bill_id.is_(None),
            al.business_date >= lower,
            al.business_date < upper,
            al.source_kind.in_(("repayment", "refund")),
        )
        .group_by(al.account_id)
        .subquery()
    )
    charged = (
        select(
            ac.account_id,
            isum(case((ac.kind == "interest", ac.amount), else_=0)).label("interest"),
            isum(case((ac.kind == "penalty", ac.amount), else_=0)).label("penalty"),
        )
        .where(ac.business_date >= lower, ac.business_date < upper)
        .group_by(ac.account_id)
        .subquery()
    )
    parts = (
        select(pe.account_id, isum(pe.principal).label("principal"), isum(pe.fee).label("fee"))
        .where(pe.status == "scheduled", pe.due_date < periods_before)
        .group_by(pe.account_id)
        .subquery()
    )
    owing = select(b.account_id).where(b.status != "paid").distinct().subquery()
    q = (
        select(
            a.account_id,
            a.due_day,
            a.credit_balance,
            func.coalesce(bought.c.amount, 0).label("purchases"),
            func.coalesce(bought.c.temp, 0).label("temp"),
            func.coalesce(money.c.pool, 0).label("pool_credits"),
            func.coalesce(money.c.credit, 0).label("credit_credits"),
            func.coalesce(charged.c.interest, 0).label("interest"),
            func.coalesce(charged.c.penalty, 0).label("penalty"),
            func.coalesce(parts.c.principal, 0).label("installment_principal"),
            func.coalesce(parts.c.fee, 0).label("installment_fee"),
        )
        .select_from(
            t.credit_accounts.outerjoin(bought, bought.c.account_id == a.account_id)
            .outerjoin(money, money.c.account_id == a.account_id)
            .outerjoin(charged, charged.c.account_id == a.account_id)
            .outerjoin(parts, parts.c.account_id == a.account_id)
            .outerjoin(owing, owing.c.account_id == a.account_id)
        )
        .where(
            or_(
                bought.c.account_id.is_not(None),
                money.c.account_id.is_not(None),
                charged.c.account_id.is_not(None),
                parts.c.account_id.is_not(None),
                owing.c.account_id.is_not(None),
            ),
            in_range(a.account_id, accounts),
        )
        .order_by(a.account_id)
    )
    return stream(conn, q)


def insert_cycle_lines(
    conn: Connection,
    period: str,
    lower: dt.date,
    upper: dt.date,
    periods_before: dt.date,
    cycle_start: dt.date,
    accounts: AccountRange | None = None,
) -> int:
    """The itemized lines of every bill ``period`` just closed, from the rows the close
    summed (:func:`stream_close_inputs`) — one ``INSERT … SELECT`` per kind of line — and
    the carried balances. Returns the number of lines of the period."""
    b, pu, ip = tb.bills.c, t.purchases.c, tb.installment_plans.c
    al, ac, pe = tb.bill_allocations.c, tb.bill_accruals.c, tb.installment_periods.c
    new = tb.bills.alias("new_bill")
    nb = new.c
    this = and_(nb.period == period, in_range(nb.account_id, accounts))  # the bills just closed
    cols = ["bill_id", "kind", "amount", "activity_date", "ref"]
    lines = tb.bill_lines

    def ref(prefix: str, col: Any) -> Any:
        return literal(prefix) + cast(col, String)

    net = pu.amount - func.coalesce(ip.principal, 0)
    conn.execute(
        insert(lines).from_select(
            cols,
            select(nb.bill_id, literal("purchase"), net, pu.business_date, ref("purchase:", pu.purchase_id))
            .select_from(
                t.purchases.join(new, and_(nb.account_id == pu.account_id, this)).outerjoin(
                    tb.installment_plans,
                    and_(ip.source_purchase_id == pu.purchase_id, ip.converted_from == "unbilled_purchase"),
                )
            )
            .where(pu.business_date >= lower, pu.business_date < upper, net > 0),
        )
    )
    money = (
        select(al.account_id, al.source_kind, al.source_id, al.business_date, isum(al.amount).label("amount"))
        .where(
            al.bill_id.is_(None),
            al.business_date >= lower,
            al.business_date < upper,
            al.source_kind.in_(("repayment", "refund")),
        )
        .group_by(al.account_id, al.source_kind, al.source_id, al.business_date)
        .subquery()
    )
    conn.execute(
        insert(lines).from_select(
            cols,
            select(
                nb.bill_id,
                money.c.source_kind,
                money.c.amount,
                money.c.business_date,
                money.c.source_kind + literal(":") + cast(money.c.source_id, String),
            ).select_from(money.join(new, and_(nb.account_id == money.c.account_id, this))),
        )
    )
    conn.execute(
        insert(lines).from_select(
            cols,
            select(nb.bill_id, ac.kind, ac.amount, ac.business_date, literal("bill:") + b.period)
            .select_from(
                tb.bill_accruals.join(tb.bills, b.bill_id == ac.bill_id).join(
                    new, and_(nb.account_id == ac.account_id, this)
                )
            )
            .where(ac.business_date >= lower, ac.business_date < upper),
        )
    )
    for kind, col, cond in (
        ("installment_principal", pe.principal, literal(True)),
        ("installment_fee", pe.fee, pe.fee > 0),
    ):
        conn.execute(
            insert(lines).from_select(
                cols,
                select(
                    nb.bill_id,
                    literal(kind),
                    col,
                    pe.due_date,
                    literal("plan:") + cast(pe.plan_id, String) + literal("/") + cast(pe.number, String),
                )
                .select_from(tb.installment_periods.join(new, and_(nb.account_id == pe.account_id, this)))
                .where(pe.status == "scheduled", pe.due_date < periods_before, cond),
            )
        )
    conn.execute(
        insert(lines).from_select(
            cols,
            select(
                nb.bill_id,
                literal("carried_balance"),
                b.carried_out,
                literal(cycle_start),
                literal("bill:") + b.period,
            )
            .select_from(tb.bills.join(new, and_(nb.account_id == b.account_id, this)))
            .where(b.carried_to == period),
        )
    )
    li = tb.bill_lines.c
    return int(
        conn.execute(
            select(func.count()).select_from(tb.bill_lines.join(new, nb.bill_id == li.bill_id)).where(this)
        ).scalar_one()
    )
