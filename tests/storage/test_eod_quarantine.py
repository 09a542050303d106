"""One bad record never stops the end-of-day job for everyone: a step that fails on one record's
data is rerun around it, the record is quarantined with its error and reported, the rest of the
book is done, and the day completes (so the clock and the job agree: nothing is left pending)."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest
from tests.conftest import START_DATE, new_account

from huabei.batch import eod
from huabei.lines import service as accounts
from huabei.onboarding import service as onboarding
from huabei.platform.unit_of_work import Huabei

POISON = "user-poison"


def _poison_step(monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    """The step ``name`` fails (as a database refusing one row's text would) whenever its
    snapshot holds the poisoned user."""
    steps = list(eod.STEPS)
    i = next(i for i, s in enumerate(steps) if s.name == name)
    step = steps[i]
    real = step.decide

    def decide(snapshot, terms, day):  # type: ignore[no-untyped-def]
        pop = getattr(snapshot, "population", None) or snapshot.lines
        if POISON in list(pop.user_ids):
            raise ValueError(f"cannot convert the text of {POISON}")
        return real(snapshot, terms, day)

    steps[i] = dataclasses.replace(step, decide=decide)
    monkeypatch.setattr(eod, "STEPS", tuple(steps))


def _scored_on(system: Huabei, day: dt.date) -> set[str]:
    with system.uow(readonly=True) as uow:
        return {r.user_id for r in uow.scores.latest_by_user(None) if r.as_of == day}


def test_a_failing_record_is_quarantined_and_the_rest_finishes(system, monkeypatch):
    ids = [new_account(system) for _ in range(6)]
    accounts.register_user(system, user_id=POISON, name="坏数据", phone="13800000000", real_name_verified=True)
    onboarding.open_account(system, user_id=POISON, base_limit=100_000)
    _poison_step(monkeypatch, "refresh_scores")

    report = eod.run_eod(system, until=START_DATE)

    assert report.last_completed == START_DATE  # the day completed: nothing left pending
    step = next(s for s in report.days[0].steps if s.name == "refresh_scores")
    assert step.counts["quarantined"] == 1 and step.counts["scored"] == 6
    assert [q["record"] for q in step.quarantined] == [POISON]
    assert "ValueError" in step.quarantined[0]["error"]
    assert report.as_dict()["days"][0]["steps"][5]["quarantined"][0]["record"] == POISON
    scored = _scored_on(system, START_DATE)
    assert POISON not in scored and len(scored) == 6
    with system.uow(readonly=True) as uow:
        rows = uow.eod.quarantined(START_DATE)
    assert [(r.step, r.record) for r in rows] == [("refresh_scores", POISON)]
    assert eod.status(system)["quarantined"][0]["record"] == POISON
    assert len(ids) == 6


def test_a_step_failing_for_everyone_still_stops_the_job(system, monkeypatch):
    for _ in range(4):
        new_account(system)
    steps = list(eod.STEPS)
    i = next(i for i, s in enumerate(steps) if s.name == "refresh_scores")

    def broken(snapshot, terms, day):  # type: ignore[no-untyped-def]
        raise ValueError("a bug, not bad data")

    steps[i] = dataclasses.replace(steps[i], decide=broken)
    monkeypatch.setattr(eod, "STEPS", tuple(steps))
    monkeypatch.setattr(
        system,
        "terms",
        system.terms.model_copy(
            update={"operations": system.terms.operations.model_copy(update={"eod_max_quarantined": 2})}
        ),
    )
    with pytest.raises(ValueError, match="a bug"):
        eod.run_eod(system, until=START_DATE)
    with system.uow(readonly=True) as uow:
        assert uow.eod.last_completed() is None and uow.eod.quarantined() == []


def test_a_nul_in_a_stored_profile_does_not_stop_the_rescoring(system):
    """The repro: a profile text holding NUL, stored before the edge refused it. PostgreSQL
    cannot convert it when the rescoring reads it; the user is quarantined, the rest is scored."""
    for _ in range(3):
        new_account(system)
    accounts.register_user(
        system,
        user_id=POISON,
        name="坏数据",
        phone="13800000000",
        real_name_verified=True,
        profile={"occupation": "a\u0000", "education": "bachelor"},
    )
    report = eod.run_eod(system, until=START_DATE)
    assert report.last_completed == START_DATE
    scored = _scored_on(system, START_DATE)
    assert len(scored - {POISON}) == 3
    step = next(s for s in report.days[0].steps if s.name == "refresh_scores")
    assert (POISON in scored) != bool(step.quarantined)  # scored, or set aside with its error
