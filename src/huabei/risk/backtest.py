"""Backtest and shadow report: a policy replayed over the book's own history, and a shadow
policy's recorded decisions, compared with what the live policy did.

``backtest(system, start, end, policy=None)`` replays each day from ``start`` to ``end`` through a
policy (the active one by default) with point-in-time features — the very statements and the
very pure ``decide`` of the end-of-day run, read as of the day before each day, as the live run
reads them — starting from what the live rules held open before ``start``. It reports, per rule
and cause, the accounts it would have restricted and lifted, the overlap with what the live
policy did on the same days, and whether its decisions equal the live ones exactly (they do
for the active policy over days the live run decided: tests/storage/test_risk_backtest.py).
Precision and recall are measured against the appeal outcomes (申诉结论, ``huabei.appeals``) of the
live restrictions the rules placed in the window: ``confirmed`` is a right restriction,
``false_positive`` a wrong one (``appeals.rules.TRUE_POSITIVE`` / ``FALSE_POSITIVE``; the other
labels say neither). Per rule, precision = confirmed among the accounts it would restrict that
carry one of the two labels; recall = the confirmed accounts it would restrict. Null without labels.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from huabei.appeals.rules import FALSE_POSITIVE, TRUE_POSITIVE
from huabei.config import ProductTerms
from huabei.platform.unit_of_work import Huabei, UnitOfWork
from huabei.risk import catalog, features
from huabei.risk.evaluation import LIVE, SHADOW, Open, Snapshot, as_of, decide
from huabei.risk.policy import Policy
from huabei.risk.service import active_policy, shadow_policy

Key = tuple[str, int, str, str]  # (day, account, rule, action)
Labels = dict[str, dict[int, str]]  # rule -> account -> appeal outcome label


def labels_in(uow: UnitOfWork, start: dt.date, end: dt.date) -> Labels:
    """The appeal outcomes of the restrictions the rules placed from ``start`` to ``end``: per
    rule, each account's latest label."""
    out: Labels = defaultdict(dict)
    for restriction_id, _cause, outcome in uow.appeals.outcomes():
        r = uow.restrictions.get(restriction_id)
        if r is not None and r.rule_id is not None and start <= r.placed_on <= end:
            out[r.rule_id][r.account_id] = outcome
    return dict(out)


@dataclass(frozen=True)
class Inputs:
    """Everything a backtest reads from the book, gathered once: per day, every open line's
    features as of the day before; what the live rules held open before ``start``; what
    happened between the daily runs (inline restrictions, lifts by re-verification), per line."""

    policy: Policy
    cfg: dict[str, int]
    days: tuple[dt.date, ...]
    values: dict[dt.date, dict[int, dict[str, Any]]]  # day -> account -> feature -> value
    held: dict[int, list[Open]]  # account -> what the live rules held open before the first day
    between: dict[int, list[tuple[dt.date, str, str, dt.date]]]  # account -> (applies on, rule, action, on)

    def accounts(self) -> list[int]:
        return sorted({a for v in self.values.values() for a in v} | set(self.held) | set(self.between))


def gather(uow: UnitOfWork, start: dt.date, end: dt.date, policy: Policy) -> Inputs:
    days = tuple(start + dt.timedelta(days=i) for i in range((end - start).days + 1))
    names = policy.features()
    held: dict[int, list[Open]] = defaultdict(list)
    for a, r, placed, last in uow.risk_decisions.held(LIVE, before=start):
        held[a].append(Open(a, r, placed, last))
    between: dict[int, list[tuple[dt.date, str, str, dt.date]]] = defaultdict(list)
    for r in uow.risk_decisions.listing(mode=LIVE, start=start - dt.timedelta(days=1), end=end):
        if r.run != "daily":
            between[r.account_id].append((r.business_date + dt.timedelta(days=1), r.rule_id, r.action, r.business_date))
    values = {day: features.compute(uow.conn, names, as_of(day)) for day in days}
    return Inputs(policy, catalog.config_values(uow.terms), days, values, dict(held), dict(between))


def replay(inputs: Inputs, terms: ProductTerms, accounts: Iterable[int] | None = None) -> set[Key]:
    """Pure: each day through the policy for ``accounts`` (all by default) — the very ``decide`` of
    the end-of-day run, starting from what the live rules held and replaying what happened
    between the runs. A line's decisions depend on its own rows only, so the book may be cut
    into any groups of lines (the Spark engine replays one partition's lines at a time) and the
    union is the same."""
    only = set(accounts) if accounts is not None else None
    state: dict[tuple[int, str], Open] = {
        (o.account_id, o.rule_id): o for a, opened in inputs.held.items() if only is None or a in only for o in opened
    }
    between: dict[dt.date, list[tuple[int, str, str, dt.date]]] = defaultdict(list)
    for a, events in inputs.between.items():
        if only is None or a in only:
            for applies_on, rule_id, action, on in events:
                between[applies_on].append((a, rule_id, action, on))
    ours: set[Key] = set()
    for day in inputs.days:
        for a, rule_id, action, on in between.get(day, []):
            if action == "restrict":
                state[(a, rule_id)] = Open(a, rule_id, on, on)
            elif action == "lift":
                state.pop((a, rule_id), None)
        values = inputs.values.get(day, {})
        if only is not None:
            values = {a: v for a, v in values.items() if a in only}
        snap = Snapshot(day, (("backtest", inputs.policy),), values, {"backtest": tuple(state.values())}, inputs.cfg)
        for d in decide(snap, terms, day).items:
            key = (d.account_id, d.rule_id)
            if d.action == "restrict":
                state[key] = Open(d.account_id, d.rule_id, day, day)
            elif d.action == "signal":
                state[key] = Open(d.account_id, d.rule_id, state[key].placed_on, day)
            else:
                state.pop(key, None)
            ours.add((day.isoformat(), d.account_id, d.rule_id, d.action))
    return ours


#: How the replay runs, in the backtest's read-only transaction: in this process (:func:`gather`
#: then :func:`replay` over every line), or handed to an engine that writes the same rows out and
#: cuts the lines into partitions (``huabei.batch.engines.backtest_spark``).
Replayer = Callable[[UnitOfWork, dt.date, dt.date, Policy], set[Key]]


def in_process(uow: UnitOfWork, start: dt.date, end: dt.date, policy: Policy) -> set[Key]:
    return replay(gather(uow, start, end, policy), uow.terms)


def backtest(
    system: Huabei, start: dt.date, end: dt.date, policy: Policy | None = None, replayer: Replayer | None = None
) -> dict[str, Any]:
    if end < start:
        from huabei import errors

        raise errors.invalid("invalid_request", detail="--to is before --from")
    with system.uow(readonly=True) as uow:
        policy = policy or active_policy(uow)
        ours = (replayer or in_process)(uow, start, end, policy)
        labels = labels_in(uow, start, end)
        live = {
            (r.business_date.isoformat(), r.account_id, r.rule_id, r.action)
            for r in uow.risk_decisions.listing(mode=LIVE, start=start, end=end)
            if r.run == "daily"
        }
    return {
        "policy": policy.version,
        "from": start.isoformat(),
        "to": end.isoformat(),
        **compare(policy, ours, live, labels),
    }


def compare(policy: Policy, ours: set[Key], theirs: set[Key], labels: Labels | None = None) -> dict[str, Any]:
    """Per rule: accounts restricted and lifted by ``ours`` and by ``theirs`` (the live policy),
    their overlap, whether the decisions are exactly the same, and precision and recall against
    the appeal outcomes in ``labels`` (see the module's docstring)."""
    labels = labels or {}
    by_rule: dict[str, dict[str, Any]] = {}
    causes = {r.id: r.cause for r in policy.rules}
    for rule_id in sorted({k[2] for k in ours | theirs} | set(causes)):
        mine = {k for k in ours if k[2] == rule_id}
        live = {k for k in theirs if k[2] == rule_id}
        acc: dict[str, set[int]] = defaultdict(set)
        for _d, a, _r, action in mine:
            acc[f"would_{action}"].add(a)
        for _d, a, _r, action in live:
            acc[f"live_{action}"].add(a)
        by_rule[rule_id] = {
            "cause": causes.get(rule_id),
            "would_restrict": len(acc["would_restrict"]),
            "would_lift": len(acc["would_lift"]),
            "live_restrict": len(acc["live_restrict"]),
            "live_lift": len(acc["live_lift"]),
            "overlap_restrict": len(acc["would_restrict"] & acc["live_restrict"]),
            "same_decisions": mine == live,
            **_scores(acc["would_restrict"], labels.get(rule_id, {})),
        }
    by_cause: dict[str, dict[str, int]] = defaultdict(lambda: {"would_restrict": 0, "live_restrict": 0})
    for row in by_rule.values():
        if row["cause"]:
            by_cause[row["cause"]]["would_restrict"] += row["would_restrict"]
            by_cause[row["cause"]]["live_restrict"] += row["live_restrict"]
    return {
        "decisions": len(ours),
        "live_decisions": len(theirs),
        "identical": ours == theirs,
        "rules": by_rule,
        "causes": dict(by_cause),
        "labels": _label_counts(labels) if labels else None,
    }


def _scores(would: set[int], labelled: dict[int, str]) -> dict[str, Any]:
    right = {a for a, o in labelled.items() if o == TRUE_POSITIVE}
    wrong = {a for a, o in labelled.items() if o == FALSE_POSITIVE}
    judged = len(would & (right | wrong))
    return {
        "labelled": judged,
        "precision": round(len(would & right) / judged, 4) if judged else None,
        "recall": round(len(would & right) / len(right), 4) if right else None,
    }


def _label_counts(labels: Labels) -> dict[str, int]:
    counts: dict[str, int] = defaultdict(int)
    for per_account in labels.values():
        for outcome in per_account.values():
            counts[outcome] += 1
    return dict(sorted(counts.items()))


def shadow_report(system: Huabei, start: dt.date | None = None, end: dt.date | None = None) -> dict[str, Any]:
    """The shadow policy's recorded decisions (daily and inline, never acted on) against the
    live ones over the same days."""
    with system.uow(readonly=True) as uow:
        shadow = shadow_policy(uow)
        rows = uow.risk_decisions.listing(start=start, end=end)
    if shadow is None:
        versions = sorted({r.policy_version for r in rows if r.mode == SHADOW})
        if not versions:
            return {"shadow": None, "rules": {}, "decisions": 0, "live_decisions": 0}
        shadow_version = versions[-1]
    else:
        shadow_version = shadow.version
    ours = {
        (r.business_date.isoformat(), r.account_id, r.rule_id, r.action)
        for r in rows
        if r.mode == SHADOW and r.policy_version == shadow_version
    }
    live = {(r.business_date.isoformat(), r.account_id, r.rule_id, r.action) for r in rows if r.mode == LIVE}
    with system.uow(readonly=True) as uow:
        policy = shadow or active_policy(uow)
        labels = labels_in(uow, start or dt.date.min, end or dt.date.max)
    return {"shadow": shadow_version, **compare(policy, ours, live, labels)}
