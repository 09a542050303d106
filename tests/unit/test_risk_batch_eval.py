"""A condition evaluated over a batch (``Condition.holds_all``: CEL once per distinct combination
of the values it reads) decides exactly what it decides row by row (``Condition.holds``), and the
pure end-of-day decision over a batch equals the decisions of each account taken alone."""

from __future__ import annotations

import datetime as dt
import random

from huabei.config import ProductTerms
from huabei.risk import catalog
from huabei.risk.catalog import FEATURES, NEVER_DAYS
from huabei.risk.evaluation import LIVE, Open, Snapshot, decide
from huabei.risk.service import DEFAULT_POLICY, compile_text

TERMS = ProductTerms()
CFG = catalog.config_values(TERMS)
POLICY = compile_text(DEFAULT_POLICY.read_text(encoding="utf-8"), str(DEFAULT_POLICY), TERMS)
DAY = dt.date(2026, 12, 1)


def _value(rng: random.Random, name: str) -> int | bool:
    if FEATURES[name].type == "bool":
        return rng.random() < 0.5
    return rng.choice([0, 0, 0, 1, 2, 3, 4, 5, 6, 30, 31, 60, 90, 91, 95, 181, 400, 500, 600, 700, NEVER_DAYS])


def _rows(rng: random.Random, n: int) -> dict[int, dict[str, int | bool]]:
    return {a: {f: _value(rng, f) for f in POLICY.features()} for a in range(1, n + 1)}


def test_holds_all_equals_holds_row_by_row() -> None:
    rng = random.Random(1129)
    rows = list(_rows(rng, 3000).values())
    conditions = [r.trigger for r in POLICY.rules] + [r.lift_when for r in POLICY.rules if r.lift_when]
    fired = 0
    for c in conditions:
        batch = c.holds_all(rows, CFG)
        one_by_one = [c.holds({**row, "cfg": CFG}) for row in rows]
        assert batch == one_by_one, c.source
        fired += sum(batch)
    assert 0 < fired < len(rows) * len(conditions)  # the rows exercise both outcomes


def test_decide_over_the_batch_equals_each_account_alone() -> None:
    rng = random.Random(7)
    values = _rows(rng, 400)
    held = tuple(
        Open(a, rule.id, DAY - dt.timedelta(days=90), DAY - dt.timedelta(days=rng.choice([1, 30, 61, 200])), a * 10)
        for a in values
        for rule in POLICY.rules
        if rng.random() < 0.15
    )
    snap = Snapshot(DAY, ((LIVE, POLICY),), values, {LIVE: held}, CFG)
    together = [(d.account_id, d.rule_id, d.action, d.lifts_on) for d in decide(snap, TERMS, DAY).items]
    alone = []
    for a, v in values.items():
        one = Snapshot(DAY, ((LIVE, POLICY),), {a: v}, {LIVE: tuple(o for o in held if o.account_id == a)}, CFG)
        alone += [(d.account_id, d.rule_id, d.action, d.lifts_on) for d in decide(one, TERMS, DAY).items]
    assert sorted(together, key=str) == sorted(alone, key=str)
    assert {x[2] for x in together} == {"restrict", "signal", "lift"}
