"""A regulatory sweep (平台监管变严): ``huabei risk sweep --rule EXPR --action close|cut:PCT
--reason TEXT [--dry-run]``.

1. The rule is compiled and type-checked (400 ``invalid_rule``), the action parsed (400
   ``invalid_sweep_action``), a reason is required.
2. Every open line is read once (set-based), with the risk features the rule names as of today
   (``huabei.risk.features.compute``: the same SQL as end of day), and the rule evaluated per line.
3. ``--dry-run`` reports the matching lines with their balances and the effect (the limit after
   a cut; closing), and records nothing.
4. Otherwise the sweep is recorded (``sweeps``: operator, reason, rule, action, counts) and
   applied in batches of ``sweeps.batch_size`` lines, one transaction each (the lines' rows locked
   first): a cut records a limit change (reason ``regulatory_sweep``), a close goes through
   ``huabei.closures.service.close(..., by="sweep")`` (a ``regulatory_tightening`` restriction with
   the sweep as evidence). Each changed line is a ``sweep_actions`` row keyed by the sweep's key
   (rule + action), written before the change in the same transaction: a rerun of the same sweep —
   after a crash or on purpose — applies nothing twice. A line that fails is counted and left, the
   batch goes on.
"""

from __future__ import annotations

from typing import Any

from huabei import errors
from huabei.clock import to_stored
from huabei.closures import service as closures
from huabei.events import SweepApplied
from huabei.i18n import N_
from huabei.lines.rules import BLOCK_OVERDUE, CreditLine, is_frozen
from huabei.lines.service import record_limit_change
from huabei.platform.batches import apply_in_batches
from huabei.platform.unit_of_work import Huabei, UnitOfWork
from huabei.risk import features as risk_features
from huabei.risk.catalog import FEATURES, sample_values
from huabei.sweeps import rules
from huabei.sweeps.rules import Action, Rule

SWEEP_REASON = "regulatory_sweep"


def sweep(
    system: Huabei,
    *,
    rule: str,
    action: str,
    reason: str,
    operator: str = "operator",
    dry_run: bool = False,
    batch_size: int | None = None,
) -> dict[str, Any]:
    act = rules.parse_action(action)
    compiled = rules.compile_rule(rule, {n: sample_values(f)[0] for n, f in FEATURES.items()})
    if not reason.strip():
        raise errors.invalid("invalid_request", detail=N_("a sweep needs a reason"))
    key = rules.sweep_key(rule, act)
    size = batch_size or system.terms.sweeps.batch_size
    with system.uow(readonly=True) as uow:
        today = uow.today()
        lines = uow.accounts.open_lines()
        values = (
            risk_features.compute(uow.conn, compiled.features, today, [line.account_id for line in lines])
            if compiled.features
            else {}
        )
        done = uow.sweeps.applied_accounts(key)
        terms = uow.terms.limits
        matched = []
        for line in lines:
            if compiled.matches(_activation(line, today, values.get(line.account_id, {}), compiled)):
                matched.append(_effect(line, act, terms.limit_step, terms.min_base_limit, line.account_id in done))
    report: dict[str, Any] = {
        "rule": rule,
        "action": str(act),
        "reason": reason,
        "operator": operator,
        "dry_run": dry_run,
        "business_date": today.isoformat(),
        "sweep_key": key,
        "matched": len(matched),
        "lines": matched,
    }
    if dry_run:
        report["applied"] = 0
        return report
    todo = [m["account_id"] for m in matched if not m["already_applied"]]
    with system.uow() as uow:
        sweep_id = uow.sweeps.add(
            sweep_key=key,
            rule=rule,
            action=str(act),
            reason=reason,
            operator=operator,
            business_date=uow.today(),
            matched=len(matched),
            applied=0,
            failed=0,
            status="running",
            started_at=to_stored(uow.now()),
        )
        uow.commit()
    run = apply_in_batches(
        system,
        todo,
        size,
        lambda uow, account_id: _apply_one(uow, sweep_id, key, compiled, act, reason, operator, account_id),
    )
    applied, failed = len(run.applied), len(run.refused)
    with system.uow() as uow:
        uow.sweeps.finish(sweep_id, applied=applied, failed=failed, status="done", finished_at=to_stored(uow.now()))
        uow.events.record(
            SweepApplied(
                sweep_id=sweep_id,
                rule=rule,
                action=str(act),
                reason=reason,
                operator=operator,
                matched=len(matched),
                applied=applied,
                failed=failed,
            ),
            business_date=uow.today(),
            now=uow.now(),
        )
        uow.commit()
    report.update(sweep_id=sweep_id, applied=applied, failed=failed)
    return report


def _apply_one(
    uow: UnitOfWork,
    sweep_id: int,
    key: str,
    compiled: Rule,
    act: Action,
    reason: str,
    operator: str,
    account_id: int,
) -> bool | None:
    """Apply the sweep to one line (its row locked by :func:`apply_in_batches`); ``None``: the
    line is no longer open. The ``sweep_actions`` row comes first: a rerun skips the line."""
    line = uow.accounts.get(account_id)
    if line is None or line.state.value != "open":
        return None
    terms = uow.terms.limits
    new_limit = None
    if act.kind == "cut":
        new_limit = rules.cut_limit(line.base_limit, act.percent, terms.limit_step, terms.min_base_limit)
    uow.sweeps.record_action(
        sweep_key=key,
        account_id=account_id,
        sweep_id=sweep_id,
        action=str(act),
        old_limit=line.base_limit,
        new_limit=new_limit,
        applied_at=to_stored(uow.now()),
    )
    if new_limit is None:
        evidence = {"sweep_id": sweep_id, "rule": compiled.text, "action": str(act), "operator": operator}
        closures.close(uow, account_id, actor=operator, reason=reason, by="sweep", evidence=evidence)
    elif new_limit != line.base_limit:
        uow.accounts.set_base_limit(account_id, new_limit)
        record_limit_change(
            uow,
            account_id,
            "base",
            line.base_limit,
            new_limit,
            [SWEEP_REASON],
            actor=operator,
            policy_version=f"sweep-{sweep_id}",
        )
    return True


def _activation(line: CreditLine, today: Any, feats: dict[str, Any], compiled: Rule) -> dict[str, Any]:
    cols = {
        "base_limit": line.base_limit,
        "temporary_limit": line.temporary_limit_on(today),
        "used": line.used,
        "available": line.available(today),
        "credit_balance": line.credit_balance,
        "days_open": (today - line.opened_on).days,
        "due_day": line.due_day,
        "frozen": is_frozen(line.block_code),
        "overdue": line.block_code == BLOCK_OVERDUE,
        "funding_source": line.funding_source,
        "user_id": line.user_id,
    }
    out = {n: cols[n] for n in compiled.line_columns}
    for n in compiled.features:
        out[n] = feats.get(n, FEATURES[n].default)
    return out


def _effect(line: CreditLine, act: Action, step: int, minimum: int, already: bool) -> dict[str, Any]:
    return {
        "account_id": line.account_id,
        "user_id": line.user_id,
        "base_limit": line.base_limit,
        "used": line.used,
        "credit_balance": line.credit_balance,
        "effect": "close" if act.kind == "close" else "cut",
        "new_limit": rules.cut_limit(line.base_limit, act.percent, step, minimum) if act.kind == "cut" else None,
        "already_applied": already,
    }
