"""The repository of installment plans (分期): plans, their periods, early settlement."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy import (
    Connection,
    func,
    insert,
    select,
    update,
)

from huabei.billing import tables as tb
from huabei.billing.book import with_funders
from huabei.platform.sql import isum, rows_in


class InstallmentRepository:
    def __init__(self, conn: Connection):
        self.conn = conn

    def add_plan(self, **values: Any) -> int:
        (values,) = with_funders(self.conn, [values])
        return self.conn.execute(
            insert(tb.installment_plans).values(**values).returning(tb.installment_plans.c.plan_id)
        ).scalar_one()

    def add_periods(self, rows: Sequence[dict[str, Any]]) -> None:
        self.conn.execute(insert(tb.installment_periods), with_funders(self.conn, rows))

    def plan(self, plan_id: int) -> Any:
        return self.conn.execute(select(tb.installment_plans).where(tb.installment_plans.c.plan_id == plan_id)).first()

    def plans(self, account_id: int) -> list[Any]:
        ip = tb.installment_plans.c
        return list(
            self.conn.execute(
                select(tb.installment_plans).where(ip.account_id == account_id).order_by(ip.plan_id.desc())
            )
        )

    def periods(self, plan_ids: Sequence[int]) -> list[Any]:
        p = tb.installment_periods.c
        return rows_in(self.conn, tb.installment_periods, p.plan_id, plan_ids, p.plan_id, p.number)

    def plan_of_bill(self, bill_id: int) -> Any:
        ip = tb.installment_plans.c
        return self.conn.execute(
            select(tb.installment_plans).where(ip.source_bill_id == bill_id, ip.kind == "bill")
        ).first()

    def plan_of_purchase(self, purchase_id: int) -> Any:
        ip = tb.installment_plans.c
        return self.conn.execute(select(tb.installment_plans).where(ip.source_purchase_id == purchase_id)).first()

    def unbilled_principal(self, account_id: int) -> int:
        p = tb.installment_periods.c
        return int(
            self.conn.execute(
                select(func.coalesce(isum(p.principal), 0)).where(p.account_id == account_id, p.status == "scheduled")
            ).scalar_one()
        )

    def unbilled_principal_of_book(self) -> dict[int, int]:
        """:meth:`unbilled_principal` of every line that has scheduled periods, in one query."""
        p = tb.installment_periods.c
        q = select(p.account_id, isum(p.principal)).where(p.status == "scheduled").group_by(p.account_id)
        return {a: int(v) for a, v in self.conn.execute(q)}

    def settle_early(self, plan_id: int, day: dt.date) -> None:
        p, ip = tb.installment_periods.c, tb.installment_plans.c
        self.conn.execute(
            update(tb.installment_periods)
            .where(p.plan_id == plan_id, p.status == "scheduled")
            .values(status="settled_early")
        )
        self.conn.execute(
            update(tb.installment_plans).where(ip.plan_id == plan_id).values(status="repaid_early", closed_on=day)
        )


class LineMoveRepository:
    """Billing's rows of a credit line moved to another line of the same user (brand isolation,
    ``huabei.funding``): bills (their lines follow by ``bill_id``), what was allocated to them, the
    accruals, installment plans and periods, and the delinquency record — so the bills, their
    interest and overdue days, and the installments go on on the new line as they were."""

    TABLES = (
        tb.bills,
        tb.bill_allocations,
        tb.bill_accruals,
        tb.installment_plans,
        tb.installment_periods,
        tb.account_delinquency,
        tb.delinquency_months,
    )

    def __init__(self, conn: Connection):
        self.conn = conn

    def move(self, from_account_id: int, to_account_id: int) -> dict[str, int]:
        moved = {}
        for table in self.TABLES:
            moved[table.name] = self.conn.execute(
                update(table).where(table.c.account_id == from_account_id).values(account_id=to_account_id)
            ).rowcount
        return moved
