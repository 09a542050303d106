"""The policy at work: the end-of-day evaluation (a batch step) and the inline check of a purchase.

End of day (``risk_rules`` in :data:`huabei.batch.eod.STEPS`), as reader -> pure decision -> writer:

* :func:`read` — the active (and shadow) policy, the features their rules read for every open
  line as of the day (one statement per feature), the restrictions the rules hold open;
* :func:`decide` — for each rule and line: **restrict** when a daily rule's trigger holds and the
  rule holds nothing open on the line; **signal** when it holds again on an open one (a
  duration counts from the last signal); **lift** when the lifting rule is met — its condition
  holds (if it has one) and ``after_days`` have passed since the last signal (if it has one);
* :func:`write` — places and lifts through ``huabei.restrictions.service`` (the line locked
  first, its block code recomputed), with evidence, and records every decision (the shadow
  policy's only as decisions: never acted on).

Inline (:func:`check_purchase`): the inline rules of the active policy, evaluated for one line
inside the purchase's transaction after the purchase is recorded, with the same feature
definitions; a rule that fires places its restriction at once (the purchase that tripped it
stands; the next one is declined).

Evidence of a decision (``restrictions.evidence``, ``restrictions.lift_evidence`` and
``risk_decisions.evidence``)::

    {"policy_version", "rule_id", "severity", "run": daily|inline, "evaluated_on": "YYYY-MM-DD",
     "inputs": {feature: value, ...},          # every input the rule's conditions read
     "ids": {"purchases"|"bills"|"profile_changes": [ids]},
     "lift": {"when": CEL|None, "after_days": int|None, "lifts_on": "YYYY-MM-DD"|None},
     ...the cause's own keys (docs/risk.md, "Evidence")}
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, cast

from huabei import errors
from huabei.config import ProductTerms
from huabei.platform.unit_of_work import Huabei, UnitOfWork
from huabei.restrictions import service as restrictions
from huabei.restrictions.causes import CAUSES, LiftRule
from huabei.risk import catalog, features
from huabei.risk.catalog import Attempt
from huabei.risk.policy import Policy, Rule
from huabei.risk.service import policies_in_force

LIVE, SHADOW = "live", "shadow"


@dataclass(frozen=True)
class Open:
    """A restriction a rule holds open on a line (live: a restriction row; shadow: decisions)."""

    account_id: int
    rule_id: str
    placed_on: dt.date
    last_signal_on: dt.date
    restriction_id: int | None = None


@dataclass(frozen=True)
class Snapshot:
    day: dt.date
    policies: tuple[tuple[str, Policy], ...]  # (mode, policy): live first, then shadow
    values: Mapping[int, Mapping[str, Any]]  # account -> feature -> value
    open: Mapping[str, tuple[Open, ...]]  # mode -> what its rules hold open
    cfg: Mapping[str, int]


@dataclass(frozen=True, eq=False)  # one decision is one object (its evidence is keyed by it)
class Decision:
    mode: str
    policy: str
    rule_id: str
    cause: str
    account_id: int
    action: str  # restrict | signal | lift
    inputs: Mapping[str, Any]
    restriction_id: int | None = None
    lifts_on: dt.date | None = None


@dataclass
class Decisions:
    day: dt.date
    items: list[Decision] = field(default_factory=list)
    policies: dict[str, Policy] = field(default_factory=dict)  # version -> policy

    def of(self, mode: str, action: str) -> list[Decision]:
        return [d for d in self.items if d.mode == mode and d.action == action]


# --- end of day --------------------------------------------------------------------------------


def read(uow: UnitOfWork, day: dt.date, accounts: Sequence[int] | None = None) -> Snapshot:
    """The snapshot of the daily rules for ``day``: every open line, or those of ``accounts``
    (the batch export reads the book a page of lines at a time)."""
    live, shadow = policies_in_force(uow)
    policies: list[tuple[str, Policy]] = [(LIVE, live)] + ([(SHADOW, shadow)] if shadow else [])
    names = sorted({f for _m, p in policies for f in p.features()})
    values = features.compute(uow.conn, names, as_of(day), accounts)
    opened = {
        LIVE: tuple(
            Open(r.account_id, r.rule_id, r.placed_on, r.last_signal_on or r.placed_on, r.restriction_id)
            for r in uow.restrictions.placed_by_rules(accounts)
        )
    }
    if shadow is not None:
        opened[SHADOW] = tuple(
            Open(a, rule, placed, last)
            for a, rule, placed, last in uow.risk_decisions.shadow_open(shadow.version, accounts)
        )
    return Snapshot(day, tuple(policies), values, opened, catalog.config_values(uow.terms))


def as_of(day: dt.date) -> dt.date:
    """The date the end-of-day run for ``day`` reads features as of: the day before, whose
    activity is complete (the job for ``day`` runs before the activity of ``day``), so a
    backtest of ``day`` read later sees exactly what the live run saw."""
    return day - dt.timedelta(days=1)


def decide(snap: Snapshot, terms: ProductTerms, day: dt.date) -> Decisions:
    """Pure: the decisions of every policy of the snapshot (see the module docstring). Each
    condition is evaluated over the whole batch at once (``Condition.holds_all``: once per
    distinct combination of its inputs), the lifting condition only for the lines the rule holds."""
    out = Decisions(day, policies={p.version: p for _m, p in snap.policies})
    cfg = dict(snap.cfg)
    accounts = list(snap.values)
    rows = [snap.values[a] for a in accounts]
    for mode, policy in snap.policies:
        held = {(o.account_id, o.rule_id): o for o in snap.open.get(mode, ())}
        for rule in policy.rules:
            after = rule.after_days(cfg)
            fired_all = rule.trigger.holds_all(rows, cfg) if rule.mode == "daily" else [False] * len(rows)
            holding = [i for i, a in enumerate(accounts) if (a, rule.id) in held]
            cleared = dict.fromkeys(holding, True)
            if rule.lift_when is not None:
                cleared = dict(zip(holding, rule.lift_when.holds_all([rows[i] for i in holding], cfg)))
            for i, account_id in enumerate(accounts):
                o = held.get((account_id, rule.id))
                fired = fired_all[i]
                if o is None:
                    if fired:
                        out.items.append(
                            _decision(
                                mode, policy, rule, account_id, "restrict", rows[i], None, _lifts_on(rule, day, after)
                            )
                        )
                    continue
                if fired:
                    if o.last_signal_on != day:
                        out.items.append(
                            _decision(
                                mode,
                                policy,
                                rule,
                                account_id,
                                "signal",
                                rows[i],
                                o.restriction_id,
                                _lifts_on(rule, day, after),
                            )
                        )
                    continue
                waited = rule.lift_after_days is None or (day - o.last_signal_on).days >= after
                if waited and cleared[i]:
                    out.items.append(_decision(mode, policy, rule, account_id, "lift", rows[i], o.restriction_id, None))
    return out


def _lifts_on(rule: Rule, day: dt.date, after: int) -> dt.date | None:
    """The date a duration-only rule lifts (moved by each new signal); None while a condition decides."""
    if rule.lift_when is None and rule.lift_after_days is not None:
        return day + dt.timedelta(days=after)
    return None


def _decision(
    mode: str,
    policy: Policy,
    rule: Rule,
    account_id: int,
    action: str,
    act: Mapping[str, Any],
    restriction_id: int | None,
    lifts_on: dt.date | None,
) -> Decision:
    inputs = {n: act[n] for n in rule.features}
    return Decision(mode, policy.version, rule.id, rule.cause, account_id, action, inputs, restriction_id, lifts_on)


def write(uow: UnitOfWork, decisions: Decisions) -> dict[str, Any]:
    day = decisions.day
    evidence = _evidence(uow, decisions)
    now = uow.now()
    rows: list[dict[str, Any]] = []
    placed: dict[tuple[int, str], int] = {}
    for d in decisions.of(LIVE, "restrict"):
        rule = decisions.policies[d.policy].rule(d.rule_id)
        placed[(d.account_id, d.rule_id)] = restrictions.place(
            uow,
            d.account_id,
            d.cause,
            evidence[d],
            None,
            d.lifts_on,
            f"risk:{d.policy}",
            rule={"rule_id": rule.id, "severity": rule.severity, "last_signal_on": day},
        )
    uow.restrictions.new_signal(
        [{"r_id": d.restriction_id, "on": day, "lifts_on": d.lifts_on} for d in decisions.of(LIVE, "signal")]
    )
    lifts = decisions.of(LIVE, "lift")
    by_reason: dict[str, list[tuple[int, int, str]]] = {}
    for d in lifts:
        assert d.restriction_id is not None
        by_reason.setdefault(f"risk:{d.policy}", []).append((d.restriction_id, d.account_id, d.cause))
    for actor, lift_rows in by_reason.items():
        restrictions.lift(uow, lift_rows, reason="risk_rule_lifted", actor=actor)
    uow.restrictions.set_lift_evidence([{"r_id": d.restriction_id, "lift_evidence": evidence[d]} for d in lifts])
    for d in decisions.items:
        rid = d.restriction_id if d.restriction_id is not None else placed.get((d.account_id, d.rule_id))
        rows.append(_row(d, evidence[d], rid if d.mode == LIVE else None, "daily", day, now))
    uow.risk_decisions.add_many(rows)
    live = [d for d in decisions.items if d.mode == LIVE]
    return {
        "restricted": sum(d.action == "restrict" for d in live),
        "lifted": sum(d.action == "lift" for d in live),
        "signals": sum(d.action == "signal" for d in live),
        "shadow": len(decisions.items) - len(live),
    }


def _row(d: Decision, ev: dict[str, Any], rid: int | None, run: str, day: dt.date, now: dt.datetime) -> dict[str, Any]:
    return {
        "policy_version": d.policy,
        "rule_id": d.rule_id,
        "cause": d.cause,
        "account_id": d.account_id,
        "action": d.action,
        "mode": d.mode,
        "run": run,
        "business_date": day,
        "evidence": ev,
        "restriction_id": rid,
        "created_at": now,
    }


def _evidence(uow: UnitOfWork, decisions: Decisions, run: str = "daily") -> dict[Decision, dict[str, Any]]:
    """The evidence of each decision: its inputs, the ids behind them (one query per feature with
    ids, for the accounts that need them) and the cause's own keys."""
    day = decisions.day
    need: dict[str, set[int]] = {}
    for d in decisions.items:
        if d.action in ("restrict", "lift"):
            for n in d.inputs:
                if catalog.FEATURES[n].evidence is not None:
                    need.setdefault(n, set()).add(d.account_id)
    seen = as_of(day) if run == "daily" else day
    ids = {n: features.evidence(uow.conn, n, seen, sorted(accounts)) for n, accounts in need.items()}
    cfg = catalog.config_values(uow.terms)
    out: dict[Decision, dict[str, Any]] = {}
    for d in decisions.items:
        rule = decisions.policies[d.policy].rule(d.rule_id)
        refs: dict[str, list[int]] = {}
        if d.action in ("restrict", "lift"):
            for n in d.inputs:
                kind = catalog.FEATURES[n].evidence
                if kind is not None:
                    refs[kind] = sorted(set(refs.get(kind, [])) | set(ids[n].get(d.account_id, [])))
        out[d] = evidence_of(d, rule, refs, cfg, day, run)
    return out


def evidence_of(
    d: Decision, rule: Rule, refs: Mapping[str, list[int]], cfg: Mapping[str, int], day: dt.date, run: str
) -> dict[str, Any]:
    seen = as_of(day) if run == "daily" else day  # the date the features were read as of
    ev: dict[str, Any] = {
        "policy_version": d.policy,
        "rule_id": d.rule_id,
        "severity": rule.severity,
        "run": run,
        "evaluated_on": day.isoformat(),
        "features_as_of": seen.isoformat(),
        "inputs": dict(d.inputs),
        "ids": {k: list(v) for k, v in refs.items()},
        "lift": {
            "when": rule.lift_when.source if rule.lift_when else None,
            "after_days": rule.after_days(cfg) if rule.lift_after_days is not None else None,
            "lifts_on": d.lifts_on.isoformat() if d.lifts_on else None,
        },
    }
    # the keys the diagnosis words (docs/risk.md, "Evidence")
    if d.cause in ("cash_out_suspected", "score_brushing_suspected"):
        ev["purchase_ids"] = list(refs.get("purchases", []))
        ev["last_flagged_on"] = day.isoformat()
    elif d.cause == "score_below_threshold":
        ev["score"] = d.inputs.get("score")
        ev["threshold"] = cfg["opening_threshold"]
    elif d.cause == "inactive_account" and "days_since_last_purchase" in d.inputs:
        ev["last_purchase_on"] = (seen - dt.timedelta(days=int(d.inputs["days_since_last_purchase"]))).isoformat()
    elif d.cause == "overdue_reported":
        ev["bill_ids"] = list(refs.get("bills", []))
    return ev


def run_daily(uow: UnitOfWork, day: dt.date) -> dict[str, Any]:
    return write(uow, decide(read(uow, day), uow.terms, day))


# --- inline: inside the purchase transaction ------------------------------------------------


InlineRule = tuple[str, Policy, Rule]


def _inline(uow: UnitOfWork) -> tuple[Policy | None, list[InlineRule]]:
    """The shadow policy and the inline rules (mode, policy, rule) of the policies in force, read
    once per transaction (a batch of purchases reads them once)."""
    cached = uow.cache.get("risk.inline_policies")
    if cached is None:
        cached = uow.cache["risk.inline_policies"] = policies_in_force(uow)
    policy, shadow = cast(tuple[Policy, Policy | None], cached)
    policies = [(LIVE, policy)] + ([(SHADOW, shadow)] if shadow else [])
    return shadow, [(m, p, r) for m, p in policies for r in p.rules_in("inline")]


def _inline_features(rules: Sequence[InlineRule]) -> list[str]:
    return sorted({f for _m, _p, r in rules for f in r.trigger.features})


def _triggered(rules: Sequence[InlineRule], values: Mapping[str, Any], cfg: Mapping[str, int]) -> list[InlineRule]:
    """The inline rules whose trigger holds for a line's feature values (pure)."""
    act = {**values, "cfg": cfg}
    return [(m, p, r) for m, p, r in rules if r.trigger.holds(act)]


def inline_quiet(uow: UnitOfWork, attempts: Sequence[tuple[int, Attempt]]) -> bool:
    """For a batch of purchases decided set-based (``huabei.payments.batch``), before any of it is
    written: True when no inline rule's trigger holds after any approved purchase, as
    :func:`check_purchase` would find each one in turn. ``attempts`` are the batch's purchase
    attempts that leave a trace, in order: (line, attempt) — approved, or declined with its
    decline recorded. The features of every line with an approved purchase are read once, in one
    statement per feature, and moved attempt by attempt (``huabei.risk.catalog.after_attempt``). False when a
    trigger holds (a rule may fire and block the line for its next purchase) or a feature cannot
    be moved without reading it again: the batch is then decided one by one."""
    _shadow, rules = _inline(uow)
    if not rules:
        return True
    lines = sorted({a for a, at in attempts if at.approved})
    if not lines:
        return True
    names = _inline_features(rules)
    current = features.compute(uow.conn, names, uow.today(), lines, known_open=True)
    cfg = catalog.config_values(uow.terms)
    for account_id, at in attempts:
        values = current.get(account_id)
        if values is None:
            continue
        moved = catalog.after_attempt(values, at)
        if moved is None:
            return False
        current[account_id] = moved
        if at.approved and _triggered(rules, moved, cfg):
            return False
    return True


def check_purchase(uow: UnitOfWork, account_id: int) -> list[int]:
    """The inline rules of the active policy for this line, after its purchase is recorded;
    returns the restrictions placed (the shadow policy's inline decisions are recorded only).
    The policies in force are read once per transaction (a batch of purchases reads them once)."""
    shadow, rules = _inline(uow)
    if not rules:
        return []
    day = uow.today()
    values = features.compute(uow.conn, _inline_features(rules), day, [account_id], known_open=True).get(account_id)
    if values is None:
        return []
    cfg = catalog.config_values(uow.terms)
    act = {**values, "cfg": cfg}
    # the triggers first: a purchase that fires no rule (nearly all) reads no restriction
    triggered = _triggered(rules, values, cfg)
    if not triggered:
        return []
    held_live = (
        {r.rule_id for r in uow.restrictions.placed_by_rules([account_id])}
        if any(m == LIVE for m, _p, _r in triggered)
        else set()
    )
    held_shadow = (
        {rule for a, rule, _p, _l in uow.risk_decisions.shadow_open(shadow.version, [account_id])}
        if shadow and any(m == SHADOW for m, _p, _r in triggered)
        else set()
    )
    fired = [
        _decision(m, p, r, account_id, "restrict", act, None, _lifts_on(r, day, r.after_days(cfg)))
        for m, p, r in triggered
        if r.id not in (held_live if m == LIVE else held_shadow)
    ]
    if not fired:
        return []
    decisions = Decisions(day, fired, {p.version: p for _m, p, _r in rules})
    evidence = _evidence(uow, decisions, run="inline")
    placed: list[int] = []
    rows = []
    now = uow.now()
    for d in fired:
        rule = decisions.policies[d.policy].rule(d.rule_id)
        rid = None
        if d.mode == LIVE:
            rid = restrictions.place(
                uow,
                account_id,
                d.cause,
                evidence[d],
                None,
                d.lifts_on,
                f"risk:{d.policy}",
                rule={"rule_id": rule.id, "severity": rule.severity, "last_signal_on": day},
            )
            placed.append(rid)
        rows.append(_row(d, evidence[d], rid, "inline", day, now))
    uow.risk_decisions.add_many(rows)
    return placed


def verify_identity(system: Huabei, user_id: str, *, method: str, actor: str = "host") -> dict[str, Any]:
    """身份核验: the host re-verified the user's identity. Recorded (``user_verifications``); every
    active restriction on the user's lines whose cause lifts on verification (a suspected
    takeover) is lifted at once, with the verification as its lift evidence."""
    with system.uow() as uow:
        if uow.users.get(user_id) is None:
            raise errors.not_found("user_not_found", user_id=user_id)
        today, now = uow.today(), uow.now()
        lines = uow.accounts.lines_of(user_id)
        uow.accounts.lock(lines)
        vid = uow.users.add_verification(user_id=user_id, method=method, business_date=today, created_at=now)
        rows = [
            r
            for a in lines
            for r in uow.restrictions.active(a)
            if CAUSES[r.cause].lift_rule is LiftRule.ON_VERIFICATION
        ]
        ev = {"run": "verification", "verification_id": vid, "method": method, "evaluated_on": today.isoformat()}
        if rows:
            restrictions.lift(
                uow, [(r.restriction_id, r.account_id, r.cause) for r in rows], reason="identity_verified", actor=actor
            )
            uow.restrictions.set_lift_evidence(
                [{"r_id": r.restriction_id, "lift_evidence": {**ev, "rule_id": r.rule_id}} for r in rows]
            )
            uow.risk_decisions.add_many(
                [
                    {
                        "policy_version": (r.evidence or {}).get("policy_version", "-"),
                        "rule_id": r.rule_id or "-",
                        "cause": r.cause,
                        "account_id": r.account_id,
                        "action": "lift",
                        "mode": LIVE,
                        "run": "verification",
                        "business_date": today,
                        "evidence": ev,
                        "restriction_id": r.restriction_id,
                        "created_at": now,
                    }
                    for r in rows
                ]
            )
        uow.commit()
    return {
        "verification_id": vid,
        "user_id": user_id,
        "method": method,
        "business_date": today.isoformat(),
        "lifted": [r.restriction_id for r in rows],
    }


def decisions_for(
    uow: UnitOfWork, account_id: int | None = None, mode: str | None = None, days: Sequence[dt.date] = ()
) -> list[dict[str, Any]]:
    start, end = (min(days), max(days)) if days else (None, None)
    return [
        {
            "decision_id": r.decision_id,
            "policy_version": r.policy_version,
            "rule_id": r.rule_id,
            "cause": r.cause,
            "account_id": r.account_id,
            "action": r.action,
            "mode": r.mode,
            "run": r.run,
            "business_date": r.business_date.isoformat(),
            "evidence": r.evidence,
            "restriction_id": r.restriction_id,
        }
        for r in uow.risk_decisions.listing(mode=mode, account_id=account_id, start=start, end=end)
    ]
