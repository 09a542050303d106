"""The end-of-day step protocol: the step list is declared once, and a snapshot step's decision is
a pure function of its snapshot (what a backtest or a Spark job relies on), on both databases."""

from __future__ import annotations

import numpy as np
from sqlalchemy import func, select
from tests.conftest import new_account

from huabei.batch import eod
from huabei.batch.steps import SnapshotStep
from huabei.limits import service as limits
from huabei.platform import schema as t
from huabei.scoring import service as scoring


def test_the_step_list_is_declared_once_with_unique_names() -> None:
    names = [s.name for s in eod.STEPS]
    assert len(names) == len(set(names))
    assert {s.name for s in eod.STEPS if isinstance(s, SnapshotStep)} == {
        "refresh_scores",
        "risk_rules",
        "reevaluate_limits",
    }
    assert not hasattr(eod, "register_step")


def _rows(system) -> dict[str, int]:
    with system.engine.connect() as c:
        return {
            name: c.execute(select(func.count()).select_from(t.metadata.tables[name])).scalar_one()
            for name in ("credit_scores", "limit_changes", "domain_events")
        }


def test_reading_writes_nothing_and_deciding_twice_gives_the_same_decisions(system) -> None:
    for _ in range(3):
        new_account(system, base_limit=3_000_000)
    before = _rows(system)
    with system.uow(readonly=True) as uow:
        day = uow.today()
        rescore_in = scoring.read_rescore(uow, day)
        review_in = limits.read_review(uow, day)
    assert _rows(system) == before
    a, b = (scoring.decide_rescore(rescore_in, system.terms, day) for _ in range(2))
    assert np.array_equal(a.scored.scores, b.scored.scores) and a.changes == b.changes
    assert a.previous_score == b.previous_score and len(a.scored.scores) == 3
    assert limits.decide_review(review_in, system.terms, day) == limits.decide_review(review_in, system.terms, day)
    assert _rows(system) == before


def test_the_step_is_read_then_decide_then_write(system) -> None:
    for _ in range(2):
        new_account(system, base_limit=3_000_000)
    step = {s.name: s for s in eod.STEPS}["refresh_scores"]
    with system.uow() as uow:
        day = uow.today()
        expected = len(scoring.decide_rescore(scoring.read_rescore(uow, day), uow.terms, day).scored.scores)
        assert step.run(uow, day) == {"scored": expected}
        uow.commit()
    assert _rows(system)["credit_scores"] == expected
