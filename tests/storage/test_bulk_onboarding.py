"""Bulk onboarding (``onboarding.service.open_accounts``): many opening decisions in one
transaction, set-based, answer exactly as ``open_account`` called for each user one after
another — the lines, the refusals with their reasons and the stored scores — on both databases."""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

import pytest
from sqlalchemy import select
from tests.conftest import buy, new_account

from huabei.batch import eod
from huabei.errors import HuabeiError
from huabei.lines import queries
from huabei.lines import service as accounts
from huabei.money import yuan
from huabei.onboarding import service as onboarding
from huabei.platform import schema as t
from huabei.restrictions import service as restrictions
from huabei.scoring import service as scoring

GOOD = {
    "on_time_repayment_ratio": 100,
    "max_days_overdue_12m": 0,
    "overdue_episodes_12m": 0,
    "credit_history_months": 60,
    "active_days_90d": 80,
    "utility_payments_12m": 24,
    "monthly_income": 2_000_000,
    "income_verified": True,
}
FAIR = {"on_time_repayment_ratio": 90, "credit_history_months": 12, "monthly_income": 600_000}
BAD = {"max_days_overdue_12m": 365, "overdue_episodes_12m": 12, "on_time_repayment_ratio": 0}
PROFILES: list[tuple[bool, dict[str, Any] | None]] = [
    (True, GOOD),
    (True, FAIR),
    (True, BAD),
    (False, GOOD),  # no verified real name
    (True, None),  # no facts at all
]


def _population(system: Any, prefix: str, plan: list[int]) -> list[str]:
    """Users of the plan's profiles (index into PROFILES; -1: a user with a line already)."""
    ids = []
    for n, p in enumerate(plan):
        uid = f"{prefix}-{n}"
        verified, facts = PROFILES[p] if p >= 0 else (True, GOOD)
        accounts.register_user(system, user_id=uid, name="测试", phone="13800000000", real_name_verified=verified)
        if facts:
            scoring.post_facts(system, uid, facts)
        if p < 0:
            onboarding.open_account(system, user_id=uid, base_limit=100_000)
        ids.append(uid)
    return ids


def _norm(r: Any, prefix: str) -> Any:
    if isinstance(r, HuabeiError):
        params = {
            k: ("P" + v[len(prefix) :] if isinstance(v, str) and v.startswith(prefix + "-") else v)
            for k, v in r.params.items()
        }
        return ("error", r.code, params)
    return ("line", {k: v for k, v in r.items() if k not in ("account_id", "user_id")})


def _scores(system: Any, ids: list[str]) -> list[Any]:
    s = t.credit_scores.c
    with system.engine.connect() as c:
        rows = c.execute(select(s.user_id, s.score, s.band, s.reasons, s.trigger).order_by(s.score_id)).all()
    mine = set(ids)
    return [(ids.index(r.user_id), r.score, r.band, str(r.reasons), r.trigger) for r in rows if r.user_id in mine]


def test_bulk_opening_answers_as_one_by_one(system: Any) -> None:
    rng = random.Random(18)
    plan = [rng.choice([0, 0, 1, 2, 3, 4, -1]) for _ in range(14)]
    serial_ids = _population(system, "s", plan)
    bulk_ids = _population(system, "b", plan)
    asks = [*range(len(plan)), 0, 5]  # two users asked twice
    serial = []
    for i in asks:
        try:
            serial.append(onboarding.open_account(system, user_id=serial_ids[i]))
        except HuabeiError as e:
            serial.append(e)
    serial.append(_missing(system, "s-missing"))
    bulk = onboarding.open_accounts(system, [bulk_ids[i] for i in asks] + ["b-missing"])
    assert [_norm(r, "s") for r in serial] == [_norm(r, "b") for r in bulk]
    kinds = {r[0] if r[0] == "line" else r[1] for r in (_norm(x, "b") for x in bulk)}
    assert {"line", "not_eligible", "account_exists", "user_not_found"} <= kinds
    # the scores stored by the decisions: the same, in the same order (a user asked twice and
    # refused was scored twice one by one, once in bulk)
    s_scores = [x for x in _scores(system, serial_ids) if x[4] == "opening"]
    b_scores = [x for x in _scores(system, bulk_ids) if x[4] == "opening"]
    assert sorted(set(s_scores)) == sorted(set(b_scores))


def _missing(system: Any, uid: str) -> Any:
    try:
        return onboarding.open_account(system, user_id=uid)
    except HuabeiError as e:
        return e


def test_add_lines_answers_and_writes_as_add_line_one_by_one(system: Any) -> None:
    """``lines.service.add_lines`` (one insert per table for the batch) opens, refuses and records
    exactly as ``add_line`` called for each line one after another: a repeated user and a user
    with a line already get ``account_exists``, a limit outside the bounds
    ``base_limit_out_of_range``, and the lines, their first limit changes and ``AccountOpened``
    events are the same rows."""
    lt = system.terms.limits
    plan = [
        ("a", lt.min_base_limit, ("account_opened",)),
        ("b", lt.max_base_limit + 1, ("account_opened",)),  # out of range
        ("c", 300_000, ("account_opened", "score_band_a")),
        ("a", 200_000, ("account_opened",)),  # asked again: the first opened it
        ("d", 0, ("account_opened",)),  # already has a line
        ("b", lt.max_base_limit, ("account_opened",)),  # refused above, opens now
    ]
    results = {}
    for prefix in ("s", "b"):
        for uid in "abcd":
            accounts.register_user(system, user_id=f"{prefix}{uid}", name="测试", phone="138", real_name_verified=True)
        onboarding.open_account(system, user_id=f"{prefix}d", base_limit=100_000)
        lines = [accounts.NewLine(f"{prefix}{u}", limit, why, "v1", "system", "platform") for u, limit, why in plan]
        with system.uow() as uow:
            if prefix == "s":
                got: list[Any] = []
                for n in lines:
                    try:
                        got.append(
                            accounts.add_line(
                                uow,
                                user_id=n.user_id,
                                base_limit=n.base_limit,
                                reasons=list(n.reasons),
                                policy_version=n.policy_version,
                                actor=n.actor,
                            )
                        )
                    except HuabeiError as e:
                        got.append(e)
            else:
                got = accounts.add_lines(uow, lines)
            uow.commit()
        results[prefix] = [
            ("error", r.code, r.params.get("minimum")) if isinstance(r, HuabeiError) else "id" for r in got
        ]
        results[prefix + "-rows"] = _written(system, prefix, [r for r in got if isinstance(r, int)])
    assert (
        results["s"]
        == results["b"]
        == ["id", ("error", "base_limit_out_of_range", "500.00"), "id"]
        + [("error", "account_exists", None)] * 2
        + ["id"]
    )
    assert results["s-rows"] == results["b-rows"]


def _written(system: Any, prefix: str, ids: list[int]) -> list[Any]:
    """The lines, limit changes and events of ``ids``, without ids, times and the prefix."""
    a, lc, ev = t.credit_accounts.c, t.limit_changes.c, t.domain_events.c
    with system.engine.connect() as c:
        lines = c.execute(
            select(a.user_id, a.state, a.base_limit, a.used, a.due_day, a.opened_on, a.funding_source, a.product)
            .where(a.account_id.in_(ids))
            .order_by(a.account_id)
        ).all()
        changes = c.execute(
            select(lc.limit_kind, lc.old_value, lc.new_value, lc.reasons, lc.policy_version, lc.actor, lc.business_date)
            .where(lc.account_id.in_(ids))
            .order_by(lc.change_id)
        ).all()
        events = c.execute(
            select(ev.event_type, ev.payload, ev.business_date).where(ev.account_id.in_(ids)).order_by(ev.event_id)
        ).all()
    return [
        [(r.user_id.removeprefix(prefix), *r[1:]) for r in lines],
        [tuple(r) for r in changes],
        [
            (r.event_type, {k: v for k, v in r.payload.items() if k not in ("account_id", "user_id")}, r.business_date)
            for r in events
        ],
    ]


def test_account_views_of_many_lines_as_one_by_one(system: Any) -> None:
    """``lines.service.account_snapshots`` (the lines, their restrictions and their delinquency each
    read in one query) gives each line the view ``account_snapshot`` gives it alone: an overdue
    line its days past due, a held line its restriction, a line with a temporary limit that
    limit; an unknown id is ``account_not_found``."""
    late = new_account(system, yuan("5000.00"))
    held = new_account(system, yuan("3000.00"))
    extra = new_account(system, yuan("2000.00"))
    start = dt.date.fromisoformat(eod.status(system)["business_date"])
    eod.run_eod(system, until=start)
    buy(system, late, yuan("1000.00"))
    restrictions.place_restriction(system, held, cause="operator_hold", note="checking")
    eod.run_eod(system, until=dt.date(2026, 12, 12))  # the 12-01 bill of late, due 12-10, unpaid
    accounts.grant_temporary_limit(system, extra, amount=yuan("500.00"), expires_on=dt.date(2027, 1, 31))
    ids = [held, late, extra]
    with system.uow(readonly=True) as uow:
        many = accounts.account_snapshots(uow, ids)
        alone = [accounts.account_snapshot(uow, i) for i in ids]
        with pytest.raises(HuabeiError) as missing:
            accounts.account_snapshots(uow, [late, 10**9])
    assert many == alone
    assert [(v["account_id"], v["days_past_due"], v["temporary_limit"]) for v in many] == [
        (held, 0, 0),
        (late, 2, 0),
        (extra, 0, yuan("500.00")),
    ]
    assert [r["cause"] for r in many[0]["restrictions"]] == ["operator_hold"]
    assert many[1]["restrictions"] == many[2]["restrictions"] == []
    assert missing.value.code == "account_not_found"
    listed = {v["account_id"]: v for v in queries.list_accounts(system, limit=10)["data"]}
    assert [listed[i] for i in ids] == many
