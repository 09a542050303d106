"""The daily billing steps of the end-of-day job: interest and penalty accrual, overdue,
delinquency buckets, expiring temporary limits."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import Decimal
from typing import Any

from huabei.billing import calendar as cal
from huabei.billing.positions import BATCH_ACCOUNTS
from huabei.billing.rules import (
    AccrualState,
    BillState,
    Regime,
    accrual_basis,
    accrue,
)
from huabei.events import BecameOverdue, DelinquencyBucketChanged, DelinquencyCured, DomainEvent
from huabei.ledger import rules as ledger
from huabei.ledger.rules import EntryKind
from huabei.lines.rules import LimitChange
from huabei.platform.sql import AccountRange
from huabei.platform.unit_of_work import UnitOfWork

# =========================================================================== accruals


def bill_state(b: Any) -> BillState:
    return BillState(
        due_date=b.due_date,
        total_due=b.total_due - b.converted,
        minimum_due=b.minimum_due,
        paid_by_due_date=b.paid_by_due_date,
        unpaid_principal=b.unpaid_principal,
        unpaid_fee=b.unpaid_fee,
        unpaid_interest=b.unpaid_interest,
        unpaid_penalty=b.unpaid_penalty,
        unpaid_carried_principal=b.unpaid_carried_principal,
    )


def _accrue_step(
    uow: UnitOfWork, day: dt.date, regimes: frozenset[Regime], kind: str, accounts: AccountRange | None
) -> dict[str, Any]:
    terms = uow.terms.billing
    repo, now = uow.billing, uow.now()
    entry_kind = EntryKind.PENALTY if kind == "penalty" else EntryKind.INTEREST
    counts = {"bills": 0, "posted_bills": 0, "amount": 0}
    updates: list[dict[str, Any]] = []
    pending: dict[int, list[dict[str, Any]]] = defaultdict(list)  # account -> accrual rows

    def flush() -> None:
        repo.update_bills((f"{kind}_exact", f"{kind}_posted"), updates)
        accounts = sorted(pending)
        entries = [ledger.charge_entry(entry_kind, a, sum(x["amount"] for x in pending[a]), day) for a in accounts]
        ids = uow.ledger.post_charges(entries, now)
        repo.insert_accruals([{**x, "entry_id": eid} for a, eid in zip(accounts, ids) for x in pending[a]])
        updates.clear()
        pending.clear()

    for b in repo.stream_accruing_bills(day, accounts):
        basis = accrual_basis(bill_state(b), day, terms)
        if basis.regime not in regimes or not basis.accrues:
            continue
        state = AccrualState(Decimal(getattr(b, f"{kind}_exact")), getattr(b, f"{kind}_posted"))
        new, post = accrue(state, basis.base_fen, basis.rate, 1)
        updates.append({"b_id": b.bill_id, f"{kind}_exact": str(new.exact), f"{kind}_posted": new.posted})
        counts["bills"] += 1
        if post:
            pending[b.account_id].append(
                {
                    "account_id": b.account_id,
                    "bill_id": b.bill_id,
                    "kind": kind,
                    "regime": basis.regime.value,
                    "base": basis.base_fen,
                    "amount": post,
                    "business_date": day,
                }
            )
            counts["posted_bills"] += 1
            counts["amount"] += post
        if len(updates) >= BATCH_ACCOUNTS:
            flush()
    flush()
    return counts


def accrue_interest_step(uow: UnitOfWork, day: dt.date, accounts: AccountRange | None = None) -> dict[str, Any]:
    """EOD step ``accrue_interest``: revolving interest of ``day`` (after a minimum
    repayment, and on a carried balance before its new due date)."""
    return _accrue_step(uow, day, frozenset({Regime.NOT_DUE, Regime.REVOLVING}), "interest", accounts)


def accrue_penalty_step(uow: UnitOfWork, day: dt.date, accounts: AccountRange | None = None) -> dict[str, Any]:
    """EOD step ``accrue_penalty``: penalty interest (逾期利息) of ``day`` on overdue bills."""
    return _accrue_step(uow, day, frozenset({Regime.OVERDUE}), "penalty", accounts)


def mark_overdue_step(uow: UnitOfWork, day: dt.date, accounts: AccountRange | None = None) -> dict[str, Any]:
    """EOD step ``mark_overdue``: a bill whose minimum was not repaid by its due date is
    overdue from the day after (penalty runs from then; the grace days only delay bureau
    reporting). Its line is blocked with ``account_overdue`` unless a freeze outranks it."""
    rows = [
        {"b_id": r.bill_id, "since": r.due_date + dt.timedelta(days=1)}
        for r in uow.billing.overdue_candidates(day, accounts)
    ]
    uow.billing.mark_overdue(rows)
    blocked = uow.accounts.block_overdue(uow.billing.overdue_lines(), accounts)
    return {"bills": len(rows), "blocked": blocked}


# =========================================================================== delinquency


def delinquency_step(uow: UnitOfWork, day: dt.date, accounts: AccountRange | None = None) -> dict[str, Any]:
    """EOD step ``delinquency``: days past due and bucket of every delinquent line; events
    ``BecameOverdue``, ``DelinquencyBucketChanged``, ``DelinquencyCured`` for the risk engine;
    the month's worst bucket (for the bureau); lines cured are unblocked."""
    terms, repo, now = uow.terms.billing, uow.billing, uow.now()
    month = day.strftime("%Y-%m")
    positions = {r.account_id: r for r in repo.stream_overdue_positions(accounts)}
    current = {r.account_id: r for r in repo.stream_delinquent(accounts)}
    known = dict(current)
    known.update(repo.delinquency_rows([a for a in positions if a not in current]))
    months = repo.delinquency_month_rows(month)
    inserts, updates, m_inserts, m_updates, events = [], [], [], [], []
    counts = {"delinquent": 0, "became_overdue": 0, "bucket_changed": 0, "cured": 0}
    order = cal.DPD_BUCKETS.index
    for account_id in sorted(set(positions) | set(current)):
        pos = positions.get(account_id)
        old = known.get(account_id)
        old_bucket = old.bucket if old else "current"
        if pos is not None:
            dpd = cal.days_past_due(pos.oldest_due, day)
            bucket = cal.dpd_bucket(dpd)
            since = pos.oldest_due + dt.timedelta(days=1)
            amount = int(pos.amount_overdue)
        else:
            dpd, bucket, since, amount = 0, "current", None, 0
        worst = max(old.worst_bucket if old else "current", bucket, key=order)
        row = {"days_past_due": dpd, "bucket": bucket, "overdue_since": since, "worst_bucket": worst, "updated_on": day}
        if old is None:
            inserts.append({"account_id": account_id, **row})
        else:
            updates.append({"a_id": account_id, **row})
        if pos is not None:
            counts["delinquent"] += 1
        if pos is not None and cal.is_reportable(dpd, terms):  # the bureau sees it past the grace days
            m = months.get(account_id)
            if m is None:
                m_inserts.append(
                    {"account_id": account_id, "month": month, "worst_bucket": bucket, "max_days_past_due": dpd}
                )
            else:
                m_updates.append(
                    {
                        "a_id": account_id,
                        "m_month": month,
                        "worst_bucket": max(m.worst_bucket, bucket, key=order),
                        "max_days_past_due": max(m.max_days_past_due, dpd),
                    }
                )
        event: DomainEvent | None = None
        if old_bucket == "current" and bucket != "current":
            counts["became_overdue"] += 1
            event = BecameOverdue(
                account_id=account_id,
                reasons=["minimum_not_repaid"],
                days_past_due=dpd,
                bucket=bucket,
                amount_overdue=amount,
                overdue_since=since.isoformat() if since else None,
                reportable=cal.is_reportable(dpd, terms),
            )
        elif old_bucket != "current" and bucket == "current":
            counts["cured"] += 1
            event = DelinquencyCured(
                account_id=account_id,
                reasons=["overdue_repaid"],
                from_bucket=old_bucket,
                days_past_due_before=old.days_past_due if old else 0,
            )
        elif old_bucket != bucket:
            counts["bucket_changed"] += 1
            event = DelinquencyBucketChanged(
                account_id=account_id,
                reasons=["delinquency_bucket_changed"],
                from_bucket=old_bucket,
                to_bucket=bucket,
                days_past_due=dpd,
                amount_overdue=amount,
                reportable=cal.is_reportable(dpd, terms),
            )
        if event is not None:
            events.append(event)
    repo.upsert_delinquency(inserts, updates)
    repo.upsert_delinquency_months(m_inserts, m_updates)
    uow.events.record_many(events, business_date=day, now=now)
    counts["unblocked"] = uow.accounts.unblock_cured(repo.overdue_lines(), accounts)
    return counts


def expire_temporary_limits_step(uow: UnitOfWork, day: dt.date, accounts: AccountRange | None = None) -> dict[str, Any]:
    """EOD step ``expire_temporary_limits``: a temporary limit (临时额度) ends on its expiry
    date; the change is recorded (``temporary_limit_expired``) like any limit change."""
    rows = uow.accounts.expiring_temporary_limits(day, accounts)
    uow.limit_changes.record(
        [
            LimitChange(
                r.account_id,
                "temporary",
                r.temporary_limit,
                0,
                ("temporary_limit_expired",),
                "eod",
                "system",
                r.temporary_limit_expires_on,
            )
            for r in rows
        ],
        day,
        uow.now(),
    )
    uow.accounts.expire_temporary_limits(day, accounts)
    return {"expired": len(rows)}
