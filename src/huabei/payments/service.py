"""Use cases that move money: purchases (消费), refunds (退款) and repayments (还款).

Each runs in one transaction under an idempotency key (see ``idempotency.py``).
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Sequence
from dataclasses import replace
from typing import Any, cast

from huabei import errors, reasons
from huabei.billing import service as billing
from huabei.errors import HuabeiError
from huabei.events import RefundIssued, RepaymentReceived
from huabei.ledger import rules as ledger
from huabei.lines.purchase_rules import (
    PurchaseRequest,
    check_purchase,
    explain_failed_debit,
)
from huabei.lines.repository import Debit
from huabei.lines.rules import CreditLine, debit_allowed, frozen_cause, on_temporary_limit
from huabei.maintenance import service as maintenance
from huabei.money import format_yuan
from huabei.passwords import service as passwords
from huabei.payments.group_commit import GroupCommit
from huabei.platform.idempotency import (
    PUBLIC_CALLER,
    STORED_ERROR_KINDS,
    Fallback,
    Job,
    Outcome,
    Result,
    run_idempotent,
    run_idempotent_batch,
)
from huabei.platform.unit_of_work import Huabei, UnitOfWork
from huabei.restrictions.service import refresh_block
from huabei.risk import evaluation as risk
from huabei.risk.catalog import Attempt


def authorise_purchase(
    system: Huabei, req: PurchaseRequest, idempotency_key: str | None, *, caller: str = PUBLIC_CALLER
) -> Outcome:
    """Authorise a consumption purchase: 201 with purchase_id and the new available
    limit, or a 402 decline with a stable code. A decline writes only its audit record.

    Before the debit: maintenance windows (``huabei.maintenance.service``), the payment password (``huabei.passwords.service``: checked before the
    transaction, guarded inside it, a wrong one counted with the refusal).

    Concurrent purchases of one process are decided together, one transaction for many
    (``huabei.payments.group_commit``; ``operations.group_commit``), each with the answer it
    would get alone."""
    gc = _group_commit(system)
    if gc is None:
        return _run_alone(system, (req.account_id, _purchase_job(system, req, idempotency_key, caller)))
    gc.arrive()  # a leader may wait for this purchase while its password is checked
    try:
        job = _purchase_job(system, req, idempotency_key, caller)
    except BaseException:
        gc.leave()
        raise
    return cast(Outcome, gc.submit((req.account_id, job)))


_GROUP_COMMIT_LOCK = threading.Lock()


def _group_commit(system: Huabei) -> GroupCommit | None:
    """The system's group commit of purchases (made on first use), or None when it is off."""
    ops = system.terms.operations
    if not ops.group_commit:
        return None
    gc = system.services.get("payments.group_commit")
    if gc is None:
        with _GROUP_COMMIT_LOCK:
            gc = system.services.get("payments.group_commit")
            if gc is None:
                gc = system.services["payments.group_commit"] = GroupCommit(
                    lambda items: _decide_batch(system, items),
                    lambda item: _run_alone(system, item),
                    max_batch=ops.group_commit_max_batch,
                    max_wait_seconds=ops.group_commit_max_wait_ms / 1000,
                    batches=ops.group_commit_batches,
                )
    return cast(GroupCommit, gc)


def _run_alone(system: Huabei, item: tuple[int, Job]) -> Outcome:
    job = item[1]
    return run_idempotent(
        system, job.operation, job.key, job.request, job.work, on_refusal=job.on_refusal, caller=job.caller
    )


#: The most purchases one batch decides (``authorise_purchases``; the gateway's batch route).
MAX_BATCH = 100


def authorise_purchases(
    system: Huabei, items: Sequence[tuple[PurchaseRequest, str | None]], *, caller: str = PUBLIC_CALLER
) -> list[Result]:
    """Authorise many purchases in **one transaction** (one commit): each ``(request, key)`` gets
    the answer :func:`authorise_purchase` would give it, called one after another in the given
    order — its ``Outcome``, or the ``HuabeiError`` (402 decline, 404, 409 …) it would raise. One
    request's refusal or failure never fails the others; every line of the batch is locked first,
    in account order (``huabei.platform.idempotency.run_idempotent_batch``)."""
    return _decide_batch(system, [(req.account_id, _purchase_job(system, req, key, caller)) for req, key in items])


def _decide_batch(system: Huabei, items: Sequence[tuple[int, Job]]) -> list[Result]:
    """Decide prepared purchases (line, job) in one transaction, every line locked first."""
    ids = [account_id for account_id, _ in items]

    def lock_lines(uow: UnitOfWork) -> None:
        uow.today()  # the clock row first, as a single purchase takes it (then its line)
        lines = uow.cache[_LOCKED_LINES] = uow.accounts.lock_lines(ids)
        # what every purchase of the batch would read alike, read once (set-based)
        maintenance.read_for_batch(uow)
        passwords.read_for_batch(uow, ids, {a: line.user_id for a, line in lines.items()})

    return run_idempotent_batch(system, [job for _, job in items], prepare=lock_lines, set_based=_decide_set_based)


_LOCKED_LINES = "payments.locked_lines"


def _decide_set_based(uow: UnitOfWork, jobs: Sequence[Job]) -> list[Result] | None:
    """The batch decided in Python over the locked lines' state read once, in order, exactly as
    one by one (a line's second purchase sees its first's debit), then written set-based: one
    guarded debit for every line that changed, one insert each of purchases, journal entries,
    postings and declines (the keys: ``run_idempotent_batch``). Each purchase goes through the
    same checks as alone (:func:`_before_debit`, ``lines.rules.debit_allowed``: the Python form
    of the guarded debit, :func:`_explain_decline`, the inline risk rules). None — decide one by
    one — when a line's user has a payment password (a wrong attempt is counted per purchase) or
    an inline risk rule may fire (``risk.inline_quiet``); ``Fallback`` when the guarded debit
    changes fewer lines than decided (it never should: the limit holds even then)."""
    lines = cast(dict[int, CreditLine], uow.cache[_LOCKED_LINES])
    today, now = uow.today(), uow.now()
    answers: list[Result | None] = []
    approved: list[tuple[int, PurchaseRequest, Debit]] = []  # (answer index, request, debit)
    declines: list[dict[str, Any]] = []
    attempts: list[tuple[int, Attempt]] = []
    debits: dict[int, int] = {}
    for job in jobs:
        req, pc = cast(tuple[PurchaseRequest, passwords.PasswordCheck], job.plan)
        if passwords.may_count(uow, req.account_id):
            return None
        line = lines.get(req.account_id)
        try:
            _before_debit(uow, req, pc)
            if line is None or not debit_allowed(line, req.amount, today):
                raise _explain_decline(uow, req, line)
        except HuabeiError as e:
            if e.kind in STORED_ERROR_KINDS and line is not None:
                # the audit (``audit`` below) less ``passwords.after_refusal``, which changes
                # nothing for a user without a payment password (``may_count`` above)
                declines.append(_decline_row(req, e.code, today, now))
                attempts.append((req.account_id, Attempt(False, req.amount, req.device_id)))
            answers.append(e)
            continue
        after = replace(line, used=line.used + req.amount)
        lines[req.account_id] = after
        debits[req.account_id] = debits.get(req.account_id, 0) + req.amount
        debit = Debit(
            after.available(today),
            on_temporary_limit(after.used, after.base_limit, req.amount),
            after.funding_source,
        )
        approved.append((len(answers), req, debit))
        attempts.append((req.account_id, Attempt(True, req.amount, req.device_id)))
        answers.append(None)
    if not risk.inline_quiet(uow, attempts):
        return None
    if uow.accounts.try_debit_many(debits, today) != len(debits):
        raise Fallback
    ids = uow.purchases.add_many([_purchase_row(req, d, today, now) for _i, req, d in approved])
    uow.ledger.post_many(
        [
            ledger.purchase_entry(req.account_id, req.merchant_id, req.amount, today, pid)
            for (_i, req, _d), pid in zip(approved, ids, strict=True)
        ],
        now,
    )
    uow.purchases.add_declines(declines)
    for (i, req, d), pid in zip(approved, ids, strict=True):
        answers[i] = _approval(req, pid, d, today)
    return [a for a in answers if a is not None]


def _purchase_job(system: Huabei, req: PurchaseRequest, idempotency_key: str | None, caller: str) -> Job:
    """A purchase as an idempotent job: the stored request, the work in the transaction and the
    audit of a refusal. The password is checked here, before any transaction."""
    pc = passwords.check(system, req.account_id, req.password)
    request = _request_fields(req)
    if req.device_id is not None:  # only when given: the stored requests of earlier keys stay equal
        request["device_id"] = req.device_id

    def work(uow: UnitOfWork) -> Outcome:
        _before_debit(uow, req, pc)
        today = uow.today()
        debit = uow.accounts.try_debit_detail(req.account_id, req.amount, today)
        if debit is None:
            raise _explain_decline(uow, req, uow.accounts.get(req.account_id))
        now = uow.now()
        purchase_id = uow.purchases.add(**_purchase_row(req, debit, today, now))
        uow.ledger.post(ledger.purchase_entry(req.account_id, req.merchant_id, req.amount, today, purchase_id), now)
        # the risk policy's inline rules, in this transaction (a rule that fires freezes the line
        # for the next purchase; this one stands)
        risk.check_purchase(uow, req.account_id)
        return _approval(req, purchase_id, debit, today)

    def audit(uow: UnitOfWork, e: HuabeiError) -> None:
        if uow.accounts.get(req.account_id) is None:
            return
        passwords.after_refusal(uow, pc, req.account_id, e)
        uow.purchases.add_decline(**_decline_row(req, e.code, uow.today(), uow.now()))

    return Job("purchase", idempotency_key, request, work, on_refusal=audit, caller=caller, plan=(req, pc))


def _before_debit(uow: UnitOfWork, req: PurchaseRequest, pc: passwords.PasswordCheck) -> None:
    """What a purchase must pass before its debit (raising its decline): what is refused whatever
    the line, a maintenance window, the payment password."""
    check_purchase(req, uow.terms)
    maintenance.guard(uow, req.account_id, req.channel.value)
    passwords.guard(uow, pc, req.account_id)


def _request_fields(req: PurchaseRequest) -> dict[str, Any]:
    """What every record of a purchase attempt carries of its request: the stored request of its
    idempotency key, the purchase, the decline."""
    return {
        "account_id": req.account_id,
        "amount": req.amount,
        "merchant_id": req.merchant_id,
        "merchant_category": req.merchant_category,
        "channel": req.channel.value,
    }


def _purchase_row(req: PurchaseRequest, debit: Debit, today: dt.date, now: dt.datetime) -> dict[str, Any]:
    return {
        **_request_fields(req),
        "business_date": today,
        "created_at": now,
        "on_temporary_limit": debit.on_temporary_limit,
        "device_id": req.device_id,
        "funding_source": debit.funding_source,
    }


def _approval(req: PurchaseRequest, purchase_id: int, debit: Debit, today: dt.date) -> Outcome:
    return Outcome(
        201,
        {
            "purchase_id": purchase_id,
            "account_id": req.account_id,
            "amount": req.amount,
            "available": debit.available,
            "business_date": today.isoformat(),
            "status": "approved",
        },
    )


def _decline_row(req: PurchaseRequest, code: str, today: dt.date, now: dt.datetime) -> dict[str, Any]:
    return {
        **_request_fields(req),
        "code": code,
        "business_date": today,
        "created_at": now,
    }


def _explain_decline(uow: UnitOfWork, req: PurchaseRequest, line: CreditLine | None) -> HuabeiError:
    """Why the debit of ``req`` was refused, ``line`` as the debit saw it."""
    if line is None:
        return errors.not_found("account_not_found", account_id=req.account_id)
    cause = frozen_cause(line.block_code)
    e = explain_failed_debit(
        state=line.state.value,
        block_code=line.block_code,
        block_cause=cause,
        amount=req.amount,
        available=line.available(uow.today()),
    )
    if cause is not None:  # the leading restriction's note/evidence fill its cause's text
        lead = next((r for r in uow.restrictions.active(req.account_id) if r.cause == cause), None)
        if lead is not None:
            e.params.update(reasons.cause_params(cause, lead.note, lead.evidence))
    return e


def refund_purchase(
    system: Huabei, purchase_id: int, amount: int, idempotency_key: str | None, *, caller: str = PUBLIC_CALLER
) -> Outcome:
    """Full or partial refund, never more than what remains of the purchase. It restores
    the limit; what exceeds the principal still owed becomes a credit balance (溢缴款).
    Against bills (docs/billing.md): it pays principal — the bill holding the purchase
    first, or the unbilled principal while the purchase is not billed yet — and a credit
    balance left over pays what the bills still owe at once."""

    def work(uow: UnitOfWork) -> Outcome:
        p = uow.purchases.get(purchase_id)
        if p is None:
            raise errors.not_found("purchase_not_found", purchase_id=purchase_id)
        billing.require_eod_current(uow)
        if not uow.purchases.try_refund(purchase_id, amount):
            raise errors.unprocessable("refund_exceeds_purchase", refundable=format_yuan(p.amount - p.refunded))
        pos = billing.position(uow, p.account_id)
        own = uow.billing.bill_of_activity(p.account_id, p.business_date)
        app = billing.plan_refund(pos, amount, p.business_date, own.period if own is not None else None)
        to_principal = app.principal()
        to_credit = amount - to_principal
        today, now = uow.today(), uow.now()
        refund_id = uow.purchases.add_refund(
            purchase_id=purchase_id,
            account_id=p.account_id,
            amount=amount,
            to_principal=to_principal,
            to_credit=to_credit,
            business_date=today,
            created_at=now,
        )
        uow.ledger.post(
            ledger.refund_entry(p.account_id, p.merchant_id, to_principal, to_credit, today, refund_id), now
        )
        billing.apply_application(uow, pos, app, "refund", refund_id, refund_id)
        refresh_block(uow, p.account_id)
        uow.events.record(
            RefundIssued(
                account_id=p.account_id,
                purchase_id=purchase_id,
                refund_id=refund_id,
                amount=amount,
                to_credit=to_credit,
            ),
            business_date=today,
            now=now,
        )
        after = uow.accounts.get(p.account_id)
        assert after is not None
        return Outcome(
            201,
            {
                "refund_id": refund_id,
                "purchase_id": purchase_id,
                "account_id": p.account_id,
                "amount": amount,
                "refunded_total": p.refunded + amount,
                "to_credit_balance": to_credit,
                "available": after.available(today),
                "business_date": today.isoformat(),
            },
        )

    return run_idempotent(
        system, "refund", idempotency_key, {"purchase_id": purchase_id, "amount": amount}, work, caller=caller
    )


def repay(
    system: Huabei, account_id: int, amount: int, idempotency_key: str | None, *, caller: str = PUBLIC_CALLER
) -> Outcome:
    """还款: any amount up to what is owed; restores the limit. Allocated across bills in
    the documented order (overdue before current; penalty, interest, fees, principal; oldest
    first), then to the principal not billed yet, the rest kept as a credit balance
    (``huabei.billing.service``); the allocation is recorded on the bills."""

    def work(uow: UnitOfWork) -> Outcome:
        billing.require_eod_current(uow)
        pos = billing.position(uow, account_id)
        total_owed = pos.owed
        if total_owed <= 0:
            raise errors.unprocessable("nothing_owed")
        if amount > total_owed:
            raise errors.unprocessable("repayment_exceeds_balance", owed=format_yuan(total_owed))
        app = billing.plan_repayment(pos, amount)
        allocation = app.ledger_allocation()
        today, now = uow.today(), uow.now()
        repayment_id = uow.repayments.add(
            account_id=account_id,
            amount=amount,
            allocation={k.value: v for k, v in allocation.items()},
            business_date=today,
            created_at=now,
        )
        uow.ledger.post(ledger.repayment_entry(account_id, allocation, today, repayment_id), now)
        billing.apply_application(uow, pos, app, "repayment", repayment_id, repayment_id)
        refresh_block(uow, account_id)
        uow.events.record(
            RepaymentReceived(
                account_id=account_id, repayment_id=repayment_id, amount=amount, bills=billing.allocation_view(app)
            ),
            business_date=today,
            now=now,
        )
        line = uow.accounts.get(account_id)
        assert line is not None
        return Outcome(
            201,
            {
                "repayment_id": repayment_id,
                "account_id": account_id,
                "amount": amount,
                "allocation": {k.value: v for k, v in allocation.items()},
                "bills": billing.allocation_view(app),
                "owed": total_owed - amount,
                "available": line.available(today),
                "business_date": today.isoformat(),
            },
        )

    return run_idempotent(
        system, "repayment", idempotency_key, {"account_id": account_id, "amount": amount}, work, caller=caller
    )
