"""Closing bills on the statement date (the end-of-day job's first billing step): the inputs read
set-based, each line's bill decided by :func:`huabei.billing.closing_rules.compute_close`, the
writes batched."""

from __future__ import annotations

import datetime as dt
from typing import Any

from huabei.billing import book
from huabei.billing import calendar as cal
from huabei.billing.allocation import BILL_STATE_COLUMNS
from huabei.billing.closing_rules import CloseResult, compute_close, cycle_from_totals, periods_before
from huabei.billing.positions import BATCH_ACCOUNTS, bill_row
from huabei.ledger import rules as ledger
from huabei.platform.sql import AccountRange, merge_by_account
from huabei.platform.unit_of_work import UnitOfWork


class _CloseBatch:
    """Accumulates the writes of many :class:`CloseResult` and flushes them in batches."""

    def __init__(self, uow: UnitOfWork, day: dt.date, period: str):
        self.uow, self.day, self.period, self.now = uow, day, period, uow.now()
        self.results: list[CloseResult] = []
        self.counts = {"bills": 0, "carried": 0, "credit_applied": 0}

    def add(self, r: CloseResult) -> None:
        self.results.append(r)
        if len(self.results) >= BATCH_ACCOUNTS:
            self.flush()

    def flush(self) -> None:
        if not self.results:
            return
        repo, rs, first = self.uow.billing, self.results, cal.bill_cycle(self.period, self.uow.terms.billing)[0]
        repo.add_bills([{**r.bill, "created_at": self.now} for r in rs])
        need = [r.account_id for r in rs if r.brought or r.credit_older or r.fee or r.credit_applied]
        ids = repo.bill_ids(self.period, need)
        repo.insert_lines(
            [
                {
                    "bill_id": ids[r.account_id],
                    "kind": "carried_credit",
                    "amount": r.brought,
                    "activity_date": first,
                    "ref": "credit",
                }
                for r in rs
                if r.brought
            ]
        )
        updates: dict[int, dict[str, Any]] = {}
        allocations = []
        for r in rs:
            for b in r.carried:
                updates[b["bill_id"]] = b
            for b, c, amt in r.credit_older:
                updates[b["bill_id"]] = b
                allocations.append(
                    {
                        "account_id": r.account_id,
                        "bill_id": b["bill_id"],
                        "component": c.value,
                        "amount": amt,
                        "source_kind": "credit",
                        "source_id": ids[r.account_id],
                        "business_date": self.day,
                        "by_due_date": self.day <= b["due_date"],
                    }
                )
        cols = (*BILL_STATE_COLUMNS, "carried_out", "carried_to")
        repo.update_bills(cols, [{"b_id": k, **{c: v[c] for c in cols}} for k, v in updates.items()])
        repo.add_allocations(allocations)
        self.uow.accounts.change_balances_many(
            [
                {"a_id": r.account_id, "d_used": r.used_delta, "d_credit": r.credit_delta}
                for r in rs
                if r.used_delta or r.credit_delta
            ]
        )
        self.uow.ledger.post_charges(
            [ledger.fee_entry(r.account_id, r.fee, self.day, ids[r.account_id]) for r in rs if r.fee], self.now
        )
        self.uow.ledger.post_many(
            [
                ledger.credit_applied_entry(
                    r.account_id, r.credit_applied, self.day, ids[r.account_id], memo=f"bill {self.period}"
                )
                for r in rs
                if r.credit_applied
            ],
            self.now,
        )
        self.counts["bills"] += len(rs)
        self.counts["carried"] += sum(len(r.carried) for r in rs)
        self.counts["credit_applied"] += sum(1 for r in rs if r.credit_applied)
        self.results = []


def close_bills_step(uow: UnitOfWork, day: dt.date, accounts: AccountRange | None = None) -> dict[str, Any]:
    """EOD step ``close_bills``: on a statement date, close every line's bill. Set-based:
    one streamed query of per-line sums and one of unpaid bills, merged in account order;
    bills written in batches; their itemized lines, the installment periods billed and the
    plans completed by ``INSERT … SELECT`` / ``UPDATE`` over the whole set."""
    terms = uow.terms.billing
    if day.day != terms.statement_day:
        return {"bills": 0}
    period = cal.period_of_statement(day)
    previous = cal.statement_date(cal.previous_period(period), terms)
    # every earlier cycle was closed on its statement date since the job began; the first
    # closing also bills whatever older activity exists
    lower = previous if uow.eod.done(previous, "close_bills") else dt.date.min
    before = periods_before(period, terms)
    repo = uow.billing
    batch = _CloseBatch(uow, day, period)
    dates = (day, cal.bill_cycle(period, terms)[0])
    streams = {
        "totals": book.stream_close_inputs(uow.conn, lower, day, before, accounts),
        "bills": repo.stream_unpaid_bills(accounts=accounts),
    }
    for account_id, g in merge_by_account(streams):
        if not g["totals"]:  # pragma: no cover - an unpaid bill always puts its line in the totals
            raise AssertionError(f"unpaid bills of line {account_id} missing from the close inputs")
        a = g["totals"][0]
        r = compute_close(
            account_id=account_id,
            period=period,
            due_day=a.due_day,
            credit_balance=a.credit_balance,
            terms=terms,
            cycle=cycle_from_totals(a, period, terms, dates[1]),
            unpaid_bills=[bill_row(b) for b in g["bills"]],
            dates=dates,
        )
        if r is not None:
            batch.add(r)
    batch.flush()
    repo.analyze_bills()
    lines = book.insert_cycle_lines(uow.conn, period, lower, day, before, cal.bill_cycle(period, terms)[0], accounts)
    periods = repo.bill_scheduled_periods(period, before, day, accounts)
    return {"period": period, **batch.counts, "lines": lines, "installment_periods": periods}
