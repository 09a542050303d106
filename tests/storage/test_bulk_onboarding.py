"""Bulk onboarding (``onboarding.service.open_accounts``): many opening decisions in one
transaction, set-based, answer exactly as ``open_account`` called for each user one after
another — the lines, the refusals with their reasons and the stored scores — on both databases."""

from __future__ import annotations

import random
from typing import Any

from sqlalchemy import select

from huabei.errors import HuabeiError
from huabei.lines import service as accounts
from huabei.onboarding import service as onboarding
from huabei.platform import schema as t
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
