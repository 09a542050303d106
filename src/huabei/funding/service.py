"""Brand isolation and 信用购 (品牌隔离): ``huabei funding migrate --partner P [--dry-run]``.

The 花呗 lines a partner funds — open ones, and closed ones whose bills are still being paid —
are moved, in two steps of one transaction per batch of
``funding.batch_size`` lines (the lines' rows locked first):

1. **pause**: a ``brand_isolation`` restriction on each line (purchases answer 402
   ``brand_isolation``; repaying and viewing bills go on) and a ``funding_moves`` row
   (partner, line) in the same transaction — its primary key is the resume point: a rerun
   pauses nothing twice.
2. **move**, each paused line: when it owes something, a 信用购 line of the same user (product
   ``xinyonggou``, funded by the partner, same due day; opened ``closed`` — bills, installments
   and repayment go on, no new purchases — when the 花呗 line is closed or the user already has
   an open 信用购 line) takes the line's purchases, refunds,
   repayments, bills, allocations, accruals, installment plans and delinquency record, and one
   balanced ``funding_transfer`` entry moves every customer-account balance across (``used``
   and ``credit_balance`` with it); the limit is split (``rules.split_limit``: the total stays
   the same, no line below ``limits.min_base_limit``), both changes recorded (reason
   ``brand_isolation``), the line's other active restrictions are placed on the new line as well. The 花呗 line is then funded by the
   platform, its pause lifted (``funding_moved``) and the move marked ``moved`` — all in one
   transaction, so a crash leaves each line either paused-not-moved (the rerun moves it) or
   moved (the rerun skips it).

A line that fails to move (an error of its own) is counted ``failed`` and stays paused, named in
the report with the error; the batch goes on and a rerun retries it. ``--dry-run`` reports the lines
and the effect and changes nothing. The bureau file does not report the pause as a freeze
(``huabei.lines.rules.OPERATIONAL_PAUSES``).
"""

from __future__ import annotations

from typing import Any

from huabei import errors
from huabei.clock import to_stored
from huabei.events import AccountClosed, AccountOpened, FundingMigrated, FundingMoved
from huabei.funding import rules
from huabei.i18n import N_
from huabei.ledger import rules as ledger
from huabei.ledger.rules import LedgerAccount
from huabei.lines.rules import CreditLine, LimitChange, Product
from huabei.platform.batches import apply_in_batches
from huabei.platform.unit_of_work import Huabei, UnitOfWork
from huabei.restrictions import service as restrictions

OWED = (
    LedgerAccount.CUSTOMER_PRINCIPAL,
    LedgerAccount.CUSTOMER_FEE,
    LedgerAccount.CUSTOMER_INTEREST,
    LedgerAccount.CUSTOMER_PENALTY,
)


def migrate(
    system: Huabei,
    *,
    partner: str,
    dry_run: bool = False,
    operator: str = "operator",
    reason: str = "brand isolation",
    batch_size: int | None = None,
) -> dict[str, Any]:
    """Move ``partner``'s funded balances off its 花呗 lines (see the module's docstring)."""
    rules.check_partner(partner, system.terms.funding.codes())
    if not reason.strip():
        raise errors.invalid("invalid_request", detail=N_("a funding migration needs a reason"))
    size = batch_size or system.terms.funding.batch_size
    with system.uow(readonly=True) as uow:
        today = uow.today()
        paused = {m.account_id for m in uow.funding.moves(partner, status="paused")}
        lines = {line.account_id: line for line in uow.accounts.lines_funded_by(partner, closed_too=True)}
        for account_id in paused - set(lines):  # paused by an interrupted run (still the partner's)
            line = uow.accounts.get(account_id)
            if line is not None:
                lines[account_id] = line
        planned = [_effect(uow, line, line.account_id in paused) for line in sorted(lines.values(), key=_id)]
    report: dict[str, Any] = {
        "partner": partner,
        "dry_run": dry_run,
        "operator": operator,
        "reason": reason,
        "business_date": today.isoformat(),
        "matched": len(planned),
        "lines": planned,
    }
    if dry_run:
        report.update(moved=0, failed=0)
        return report
    with system.uow() as uow:
        migration_id = uow.funding.add_migration(
            partner=partner,
            operator=operator,
            reason=reason,
            business_date=uow.today(),
            matched=len(planned),
            moved=0,
            failed=0,
            status="running",
            started_at=to_stored(uow.now()),
        )
        uow.commit()
    to_pause = [p["account_id"] for p in planned if not p["paused"]]
    apply_in_batches(
        system, to_pause, size, lambda uow, account_id: _pause_one(uow, migration_id, partner, operator, account_id)
    )
    run = apply_in_batches(
        system,
        [p["account_id"] for p in planned],
        size,
        lambda uow, account_id: _move_one(uow, migration_id, operator, partner, account_id),
    )
    outcome: dict[int, dict[str, Any]] = {**run.applied, **{k: {"error": r.code} for k, r in run.refused.items()}}
    # moved: the lines whose balances went to a 信用购 line (a line that owed nothing only
    # changes funder)
    moved = sum(1 for r in run.applied.values() if r["to_account_id"] is not None)
    failed = len(run.refused)
    with system.uow() as uow:
        uow.funding.finish_migration(
            migration_id, moved=moved, failed=failed, status="done", finished_at=to_stored(uow.now())
        )
        uow.events.record(
            FundingMigrated(
                migration_id=migration_id,
                partner=partner,
                operator=operator,
                reason=reason,
                matched=len(planned),
                moved=moved,
                failed=failed,
            ),
            business_date=uow.today(),
            now=uow.now(),
        )
        uow.commit()
    for p in planned:
        p.update(outcome.get(p["account_id"], {}))
    report.update(migration_id=migration_id, moved=moved, failed=failed)
    return report


def _id(line: CreditLine) -> int:
    return line.account_id


def _split(uow: UnitOfWork, line: CreditLine, principal: int) -> tuple[int, int]:
    terms = uow.terms.limits
    return rules.split_limit(line.base_limit, principal, terms.limit_step, terms.min_base_limit)


#: Why a 信用购 line is opened closed (the ``reason`` of its ``AccountClosed`` event, ``by`` ``funding``).
CLOSED_HUABEI_LINE = "huabei_line_closed"
CLOSED_XINYONGGOU_OPEN = "xinyonggou_line_open"


def _target(uow: UnitOfWork, line: CreditLine) -> tuple[str, str | None]:
    """The state of the 信用购 line a line's balances move to, and why when closed: ``open`` (it
    takes purchases), or ``closed`` — its bills, installments and repayment go on, no new
    purchases — when the 花呗 line is closed itself (``huabei_line_closed``), or when the user
    already has an open 信用购 line (``xinyonggou_line_open``: one open line per user and product;
    two funders' bills of one month are not one bill)."""
    if line.state.value != "open":
        return "closed", CLOSED_HUABEI_LINE
    if uow.accounts.open_account_of(line.user_id, Product.XINYONGGOU.value) is not None:
        return "closed", CLOSED_XINYONGGOU_OPEN
    return "open", None


def _effect(uow: UnitOfWork, line: CreditLine, paused: bool) -> dict[str, Any]:
    balances = uow.ledger.balances(line.account_id)
    owes = any(balances.get(a, 0) > 0 for a in OWED)
    huabei_limit, xyg_limit = _split(uow, line, balances.get(LedgerAccount.CUSTOMER_PRINCIPAL, 0) if owes else 0)
    return {
        "account_id": line.account_id,
        "user_id": line.user_id,
        "state": line.state.value,
        "base_limit": line.base_limit,
        "used": line.used,
        "credit_balance": line.credit_balance,
        "owed": sum(balances.get(a, 0) for a in OWED),
        "effect": "move" if owes else "refund_to_platform",
        "xinyonggou_state": _target(uow, line)[0] if owes else None,
        "huabei_limit": huabei_limit,
        "xinyonggou_limit": xyg_limit if owes else None,
        "paused": paused,
    }


def _pause_one(uow: UnitOfWork, migration_id: int, partner: str, operator: str, account_id: int) -> int | None:
    """Pause one line (its row locked by :func:`apply_in_batches`): the restriction and the
    ``funding_moves`` row, whose primary key makes a rerun skip it. ``None``: not the partner's."""
    line = uow.accounts.get(account_id)
    if line is None or line.funding_source != partner:  # closed lines move too
        return None
    rid = restrictions.place(
        uow,
        account_id,
        rules.PAUSE_CAUSE,
        {"partner": partner, "migration_id": migration_id},
        None,
        None,
        operator,
    )
    uow.funding.add_pause(
        partner=partner,
        account_id=account_id,
        migration_id=migration_id,
        status="paused",
        restriction_id=rid,
        paused_at=to_stored(uow.now()),
    )
    return rid


def _move_one(
    uow: UnitOfWork, migration_id: int, operator: str, partner: str, account_id: int
) -> dict[str, Any] | None:
    """Move one paused line; ``None``: not paused by this partner's migration (or moved already)."""
    move = uow.funding.get(partner, account_id)
    if move is None or move.status != "paused":
        return None
    return move_line(uow, move, migration_id, operator)


def move_line(uow: UnitOfWork, move: Any, migration_id: int, operator: str) -> dict[str, Any]:
    """Move one paused line (its row locked by the caller); see the module's docstring."""
    partner, account_id = move.partner, move.account_id
    line = uow.accounts.get(account_id, for_update=True)
    if line is None:
        raise errors.not_found("account_not_found", account_id=account_id)
    today, now = uow.today(), uow.now()
    balances = uow.ledger.balances(account_id)
    to_account_id: int | None = None
    if any(balances.get(a, 0) > 0 for a in OWED):
        principal = balances.get(LedgerAccount.CUSTOMER_PRINCIPAL, 0)
        huabei_limit, xyg_limit = _split(uow, line, principal)
        state, closed_because = _target(uow, line)
        to_account_id = uow.accounts.add(
            user_id=line.user_id,
            state=state,
            product=Product.XINYONGGOU.value,
            funding_source=partner,
            base_limit=xyg_limit,
            temporary_limit=0,
            used=0,
            credit_balance=0,
            due_day=line.due_day,
            opened_on=today,
            closed_on=today if state == "closed" else None,
            created_at=now,
        )
        uow.accounts.move_receivables(account_id, to_account_id)
        uow.line_moves.move(account_id, to_account_id)
        uow.ledger.post(ledger.funding_transfer_entry(account_id, to_account_id, balances, today, account_id), now)
        credit = -balances.get(LedgerAccount.CUSTOMER_CREDIT, 0)
        uow.accounts.change_balances(account_id, used=-principal, credit_balance=-credit)
        uow.accounts.change_balances(to_account_id, used=principal, credit_balance=credit)
        version = f"funding-{migration_id}"
        changes = [
            LimitChange(to_account_id, "base", 0, xyg_limit, ("account_opened", rules.LIMIT_REASON), version, operator)
        ]
        if huabei_limit != line.base_limit:
            uow.accounts.set_base_limit(account_id, huabei_limit)
            changes.append(
                LimitChange(account_id, "base", line.base_limit, huabei_limit, (rules.LIMIT_REASON,), version, operator)
            )
        uow.limit_changes.record(changes, today, now)
        _carry_restrictions(uow, account_id, to_account_id, move.restriction_id)
        restrictions.refresh_block(uow, to_account_id)  # an overdue bill moved with the line
        uow.events.record(
            AccountOpened(
                account_id=to_account_id,
                user_id=line.user_id,
                base_limit=xyg_limit,
                product=Product.XINYONGGOU.value,
                funding_source=partner,
                moved_from=account_id,
            ),
            business_date=today,
            now=now,
        )
        if closed_because is not None:  # opened closed: say why, as every closing does
            uow.events.record(
                AccountClosed(
                    account_id=to_account_id,
                    user_id=line.user_id,
                    by="funding",
                    actor=operator,
                    reason=closed_because,
                    used=principal,
                ),
                business_date=today,
                now=now,
            )
    uow.accounts.set_funding_source(account_id, "platform")
    restrictions.lift(
        uow, [(move.restriction_id, account_id, rules.PAUSE_CAUSE)], reason=rules.LIFT_REASON, actor=operator
    )
    moved = {str(k): v for k, v in sorted(balances.items())} if to_account_id is not None else {}
    uow.funding.mark_moved(
        partner, account_id, to_account_id=to_account_id, moved=moved, moved_at=to_stored(now), moved_on=today
    )
    uow.events.record(
        FundingMoved(
            account_id=account_id,
            user_id=line.user_id,
            partner=partner,
            migration_id=migration_id,
            to_account_id=to_account_id,
            moved=moved,
        ),
        business_date=today,
        now=now,
    )
    return {"to_account_id": to_account_id, "moved": moved}


def _carry_restrictions(uow: UnitOfWork, from_id: int, to_id: int, pause_id: int) -> None:
    """The old line's active restrictions (a suspected cash-out, a password lock …) are about the
    user, not the funder: the new line gets each of them too, with the same lifting."""
    for r in uow.restrictions.active(from_id):
        if r.restriction_id == pause_id or r.cause == rules.PAUSE_CAUSE:
            continue
        rule = (
            {"rule_id": r.rule_id, "severity": r.severity, "last_signal_on": r.last_signal_on}
            if r.rule_id is not None
            else None
        )
        restrictions.place(
            uow,
            to_id,
            r.cause,
            {**r.evidence, "carried_from": r.restriction_id},
            r.note,
            r.lifts_on,
            r.placed_by,
            rule=rule,
        )
