"""Regulatory sweeps (``huabei risk sweep``) on SQLite and PostgreSQL: a dry run reports and changes
nothing; a sweep cuts or closes the matching lines in batches, recorded; a rerun (after a crash or
on purpose) applies nothing twice; a rule that does not parse or type-check is refused."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from tests.conftest import buy, new_account

from huabei.batch import books
from huabei.errors import HuabeiError
from huabei.lines import service as accounts
from huabei.platform import schema as t
from huabei.platform.unit_of_work import Huabei
from huabei.sweeps import service as sweeps


def code(fn, *a, **kw) -> str:  # type: ignore[no-untyped-def]
    with pytest.raises(HuabeiError) as ei:
        fn(*a, **kw)
    return ei.value.code


def limits(system: Huabei, ids: list[int]) -> list[int]:
    return [accounts.account_view(system, i)["base_limit"] for i in ids]


def test_dry_run_then_cut_in_batches_and_a_rerun_applies_nothing_twice(system: Huabei) -> None:
    ids = [new_account(system, base_limit=200_000) for _ in range(4)]
    for i in ids[:3]:
        buy(system, i, 10_000)
    rule = "used > 0 && dpd_now == 0 && funding_source == 'platform'"
    dry = sweeps.sweep(system, rule=rule, action="cut:30", reason="regulator notice 12", dry_run=True)
    assert dry["matched"] == 3 and dry["applied"] == 0
    assert [(x["account_id"], x["used"], x["new_limit"]) for x in dry["lines"]] == [
        (i, 10_000, 140_000) for i in ids[:3]
    ]
    assert limits(system, ids) == [200_000] * 4
    with system.engine.connect() as c:
        assert c.execute(select(func.count()).select_from(t.sweeps)).scalar_one() == 0

    done = sweeps.sweep(
        system, rule=rule, action="cut:30", reason="regulator notice 12", operator="ops-7", batch_size=2
    )
    assert (done["matched"], done["applied"], done["failed"]) == (3, 3, 0)
    assert limits(system, ids) == [140_000] * 3 + [200_000]
    with system.engine.connect() as c:
        row = c.execute(select(t.sweeps)).one()
        changes = c.execute(
            select(t.limit_changes.c.reasons, t.limit_changes.c.actor).where(t.limit_changes.c.new_value == 140_000)
        ).all()
    assert (row.operator, row.reason, row.rule, row.action, row.status) == (
        "ops-7",
        "regulator notice 12",
        rule,
        "cut:30",
        "done",
    )
    assert len(changes) == 3 and all(r[0] == ["regulatory_sweep"] and r[1] == "ops-7" for r in changes)

    again = sweeps.sweep(system, rule=rule, action="cut:30", reason="regulator notice 12")
    assert (again["matched"], again["applied"]) == (3, 0) and all(x["already_applied"] for x in again["lines"])
    assert limits(system, ids) == [140_000] * 3 + [200_000]
    assert books.ledger_check(system).ok


def test_an_interrupted_sweep_resumes_to_the_same_result(system: Huabei, monkeypatch: pytest.MonkeyPatch) -> None:
    ids = [new_account(system, base_limit=100_000) for _ in range(3)]
    real = sweeps._apply_one
    calls = {"n": 0}

    def crash_on_second(*a, **kw):  # type: ignore[no-untyped-def]
        calls["n"] += 1
        if calls["n"] == 2:
            raise RuntimeError("killed")
        return real(*a, **kw)

    monkeypatch.setattr(sweeps, "_apply_one", crash_on_second)
    with pytest.raises(RuntimeError):
        sweeps.sweep(system, rule="used == 0", action="cut:50", reason="r", batch_size=1)
    assert limits(system, ids) == [50_000, 100_000, 100_000]
    monkeypatch.setattr(sweeps, "_apply_one", real)
    rerun = sweeps.sweep(system, rule="used == 0", action="cut:50", reason="r", batch_size=1)
    # all three still match; the first was cut by the interrupted run and is not cut again
    assert (rerun["matched"], rerun["applied"]) == (3, 2)
    assert [x["already_applied"] for x in rerun["lines"]] == [True, False, False]
    assert limits(system, ids) == [50_000, 50_000, 50_000]


def test_a_close_sweep_closes_lines_that_keep_their_bills_payable(system: Huabei) -> None:
    a, b = new_account(system), new_account(system)
    buy(system, a, 20_000)
    rep = sweeps.sweep(system, rule="used >= 20000", action="close", reason="weak credit quality", operator="ops-1")
    assert (rep["matched"], rep["applied"]) == (1, 1)
    view = accounts.account_view(system, a)
    (r,) = view["restrictions"]
    assert view["status"] == "closed" and r["cause"] == "regulatory_tightening"
    assert r["evidence"]["sweep_id"] == rep["sweep_id"] and r["evidence"]["rule"] == "used >= 20000"
    assert accounts.account_view(system, b)["status"] == "active"
    assert (
        sweeps.sweep(system, rule="used >= 20000", action="close", reason="again")["matched"] == 0
    )  # closed lines are not open
    assert books.ledger_check(system).ok


@pytest.mark.parametrize(
    "rule",
    ["used >", "used > 0 &&", "nonsense_column > 1", "used + 'x' > 1", "used + 1", "funding_source > 3", "'a'"],
)
def test_a_rule_that_does_not_parse_or_type_check_is_refused(system: Huabei, rule: str) -> None:
    new_account(system)
    assert code(sweeps.sweep, system, rule=rule, action="close", reason="r") == "invalid_rule"
    assert accounts.account_view(system, 1)["status"] == "active"


@pytest.mark.parametrize("action", ["freeze", "cut:0", "cut:100", "cut:-5", "cut:", "cut:5%"])
def test_a_bad_action_or_no_reason_is_refused(system: Huabei, action: str) -> None:
    assert code(sweeps.sweep, system, rule="used > 0", action=action, reason="r") == "invalid_sweep_action"
    assert code(sweeps.sweep, system, rule="used > 0", action="close", reason="  ") == "invalid_request"
