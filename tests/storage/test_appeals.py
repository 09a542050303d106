"""Appeals (申诉) on SQLite and PostgreSQL: a user contests an appealable restriction with a
statement and purchases; agents work the queue and decide lift or uphold with an outcome label;
the lifting rules hold (a hard rule's restriction and a suspected takeover are not lifted by an
agent); bad input changes nothing."""

from __future__ import annotations

import datetime as dt
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from tests.conftest import buy, new_account

from huabei.appeals import service as appeals
from huabei.errors import HuabeiError
from huabei.lines import service as accounts
from huabei.platform.unit_of_work import Huabei
from huabei.restrictions import service as restrictions


def code(fn, *a, **kw) -> str:  # type: ignore[no-untyped-def]
    with pytest.raises(HuabeiError) as ei:
        fn(*a, **kw)
    return ei.value.code


def place(system: Huabei, aid: int, cause: str, rule: dict | None = None) -> int:
    with system.uow() as uow:
        rid = restrictions.place(uow, aid, cause, {"threshold": 600}, None, None, "risk", rule=rule)
        uow.commit()
    return rid


def test_an_appeal_is_filed_queued_decided_and_lifts_the_restriction(system: Huabei) -> None:
    aid = new_account(system)
    pid = buy(system, aid, 5_000).body["purchase_id"]
    rid = place(system, aid, "cash_out_suspected")
    a = appeals.file_appeal(system, aid, restriction_id=rid, statement="I bought a phone.", purchase_ids=[pid, pid])
    assert (a["status"], a["cause"], a["purchase_ids"]) == ("open", "cash_out_suspected", [pid])
    assert code(appeals.file_appeal, system, aid, restriction_id=rid, statement="again") == "appeal_exists"
    assert [x["appeal_id"] for x in appeals.listing(system, status="open")] == [a["appeal_id"]]
    assert (
        code(appeals.decide, system, a["appeal_id"], decision="lift", reason="r", outcome="confirmed")
        == "invalid_outcome"
    )
    done = appeals.decide(system, a["appeal_id"], decision="lift", reason="receipt checked", outcome="false_positive")
    assert (done["status"], done["outcome"], done["decision_reason"]) == ("lifted", "false_positive", "receipt checked")
    assert accounts.account_view(system, aid)["restrictions"] == []
    assert (
        code(appeals.decide, system, a["appeal_id"], decision="uphold", reason="r", outcome="confirmed")
        == "appeal_closed"
    )
    assert appeals.listing(system, status="open") == []
    assert appeals.listing(system, account_id=aid)[0]["outcome"] == "false_positive"  # what the user sees
    with system.uow(readonly=True) as uow:
        assert appeals.outcome_labels(uow) == [(rid, "cash_out_suspected", "false_positive")]


def test_uphold_keeps_the_restriction_and_a_new_appeal_may_follow(system: Huabei) -> None:
    aid = new_account(system)
    rid = place(system, aid, "score_brushing_suspected")
    a = appeals.file_appeal(system, aid, restriction_id=rid, statement="not me")
    up = appeals.decide(system, a["appeal_id"], decision="uphold", reason="pattern is clear", outcome="confirmed")
    assert up["status"] == "upheld"
    assert [r["cause"] for r in accounts.account_view(system, aid)["restrictions"]] == ["score_brushing_suspected"]
    again = appeals.file_appeal(system, aid, restriction_id=rid, statement="more evidence")
    assert again["status"] == "open"


def test_bad_appeals_are_refused_and_change_nothing(system: Huabei) -> None:
    aid, other = new_account(system), new_account(system)
    other_pid = buy(system, other, 1_000).body["purchase_id"]
    hard = place(system, aid, "overdue_reported")
    with pytest.raises(HuabeiError) as ei:
        appeals.file_appeal(system, aid, restriction_id=hard, statement="x")
    assert ei.value.code == "not_appealable" and ei.value.params["cause"] == "overdue_reported"
    below = place(system, aid, "score_below_threshold")
    assert code(appeals.file_appeal, system, aid, restriction_id=below, statement="x") == "not_appealable"
    soft = place(system, aid, "cash_out_suspected")
    assert (
        code(appeals.file_appeal, system, aid, restriction_id=soft, statement="x", purchase_ids=[other_pid])
        == "invalid_evidence"
    )
    assert (
        code(appeals.file_appeal, system, aid, restriction_id=soft, statement="x", purchase_ids=[99_999])
        == "invalid_evidence"
    )
    assert code(appeals.file_appeal, system, other, restriction_id=soft, statement="x") == "restriction_not_found"
    assert code(appeals.file_appeal, system, 99_999, restriction_id=soft, statement="x") == "account_not_found"
    assert (
        code(appeals.decide, system, 99_999, decision="lift", reason="r", outcome="false_positive")
        == "appeal_not_found"
    )
    assert appeals.listing(system) == []


def test_lifting_rules_hold_for_appeals_and_agents(system: Huabei) -> None:
    aid = new_account(system)
    hard = place(
        system,
        aid,
        "cash_out_suspected",
        rule={"rule_id": "cash_out_x", "severity": "hard", "last_signal_on": dt.date(2026, 11, 2)},
    )
    a = appeals.file_appeal(system, aid, restriction_id=hard, statement="x")
    assert (
        code(appeals.decide, system, a["appeal_id"], decision="lift", reason="r", outcome="false_positive")
        == "restriction_hard"
    )
    assert appeals.get_appeal(system, a["appeal_id"])["status"] == "open"  # nothing changed
    takeover = place(system, aid, "account_takeover_suspected")
    t = appeals.file_appeal(system, aid, restriction_id=takeover, statement="it is me")
    assert (
        code(appeals.decide, system, t["appeal_id"], decision="lift", reason="r", outcome="false_positive")
        == "verification_required"
    )
    assert code(restrictions.lift_restriction, system, takeover, reason="false_positive") == "verification_required"
    soft = place(
        system,
        aid,
        "score_brushing_suspected",
        rule={"rule_id": "brush_x", "severity": "soft", "last_signal_on": dt.date(2026, 11, 2)},
    )
    assert code(restrictions.lift_restriction, system, soft, reason="customer called") == "lift_reason_required"
    assert restrictions.lift_restriction(system, soft, reason="goodwill")["lift_reason"] == "goodwill"


def test_concurrent_appeals_on_one_restriction_open_one(system: Huabei) -> None:
    aid = new_account(system)
    rid = place(system, aid, "cash_out_suspected")
    barrier = threading.Barrier(6)

    def attempt(i: int) -> str:
        barrier.wait()
        try:
            appeals.file_appeal(system, aid, restriction_id=rid, statement=f"try {i}")
            return "filed"
        except HuabeiError as e:
            return e.code

    with ThreadPoolExecutor(6) as pool:
        results = list(pool.map(attempt, range(6)))
    assert sorted(results) == ["appeal_exists"] * 5 + ["filed"]
