"""Facts, activity and the stored score on SQLite and PostgreSQL: every seed factor is real.

Each factor of the first seed document is fed through the system's own inputs (host facts,
activity events, purchases, the delinquency events of the outbox, applications, contacts)
and moves the stored score in the documented direction.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from sqlalchemy import func, select
from tests.conftest import START_DATE

from huabei.errors import HuabeiError
from huabei.events import EVENT_TYPES
from huabei.lines import service as accounts
from huabei.lines.purchase_rules import Channel, PurchaseRequest
from huabei.onboarding import service as onboarding
from huabei.payments import service as purchases
from huabei.platform import admin
from huabei.platform import schema as t
from huabei.scoring import collect
from huabei.scoring import service as scoring
from huabei.scoring import tables as ts

D0 = START_DATE  # 2026-11-02
_n = {"k": 0}


def user(system, uid: str, *, verified: bool = True, profile: dict | None = None) -> str:
    accounts.register_user(
        system, user_id=uid, name="测试", phone="13800000000", real_name_verified=verified, profile=profile
    )
    return uid


def open_line(system, uid: str, base_limit: int = 100_000) -> int:
    return onboarding.open_account(system, user_id=uid, base_limit=base_limit)["account_id"]


def pay(system, account_id: int, amount: int = 5_000, category: str = "retail", channel: Channel = Channel.ONLINE):
    _n["k"] += 1
    out = purchases.authorise_purchase(
        system, PurchaseRequest(account_id, amount, f"m-{category}", category, channel), f"score-buy-{_n['k']}"
    )
    assert out.status == 201, out.body
    return out.body["purchase_id"]


def facts(system, uid: str) -> dict[str, Any]:
    return scoring.current_facts(system, uid)["facts"]


def score(system, uid: str) -> int:
    return scoring.refresh_user(system, uid)["score"]


#: What the billing engine also says in a delinquency event, where a test does not care.
EVENT_DEFAULTS: dict[str, dict[str, Any]] = {
    "BecameOverdue": dict(
        reasons=["minimum_not_repaid"], bucket="dpd_1_30", amount_overdue=0, overdue_since=None, reportable=False
    ),
    "DelinquencyCured": dict(reasons=["overdue_repaid"]),
}


def event(system, account_id: int, kind: str, day: dt.date, **payload: Any) -> None:
    """A delinquency event in the outbox, as the billing engine writes it."""
    typed = EVENT_TYPES[kind](account_id=account_id, **{**EVENT_DEFAULTS[kind], **payload})
    with system.uow() as uow:
        uow.events.record(typed, business_date=day, now=uow.now())
        uow.commit()


def activity(system, uid: str, *events: dict) -> dict:
    return scoring.record_activity(system, uid, list(events))


def on(day: dt.date, kind: str, **kw: Any) -> dict:
    return {"kind": kind, "occurred_on": day, **kw}


# --------------------------------------------------------------------------- host facts


@pytest.mark.smoke
def test_host_facts_latest_wins_history_is_kept_and_null_withdraws(system):
    user(system, "u1", profile={"education": "bachelor"})
    out = scoring.post_facts(system, "u1", {"monthly_income": 500_000, "education": "master"})
    assert [r["current"] for r in out["recorded"]] == [True, True]
    late = scoring.post_facts(system, "u1", {"monthly_income": 800_000}, effective_on=D0 - dt.timedelta(days=10))
    assert late["recorded"][0]["current"] is False  # an older observation: history only
    assert facts(system, "u1")["monthly_income"] == 500_000
    scoring.post_facts(system, "u1", {"monthly_income": 900_000})
    assert facts(system, "u1")["monthly_income"] == 900_000
    scoring.post_facts(system, "u1", {"monthly_income": None, "education": None})
    f = facts(system, "u1")
    assert f["monthly_income"] is None and f["education"] == "bachelor"  # the profile again
    with system.uow(readonly=True) as uow:
        assert len(uow.facts.history("u1", 100)) == 6


def test_record_many_matches_one_by_one_in_a_fixed_number_of_statements(system):
    from sqlalchemy import event as sa_event

    user(system, "u1")
    scoring.post_facts(system, "u1", {"monthly_income": 500_000, "assets": 100, "education": "master"})
    scoring.post_facts(system, "u1", {"occupation": "employee"}, effective_on=D0)
    none = {"value_int": None, "value_bool": None, "value_text": None}
    batch = {
        "monthly_income": {**none, "value_int": 600_000},  # replaces the value in force
        "assets": dict(none),  # withdrawn
        "education": {**none, "value_text": "doctor"},
        "income_verified": {**none, "value_bool": True},  # new
        "occupation": {**none, "value_text": "student"},  # older than the one in force: history only
    }
    statements: list[str] = []

    def count(_conn, _cur, statement, _params, _ctx, _many):  # type: ignore[no-untyped-def]
        statements.append(statement)

    sa_event.listen(system.engine, "before_cursor_execute", count)
    try:
        with system.uow() as uow:
            uow.facts.lock_user("u1")
            now = uow.now()
            statements.clear()
            out = uow.facts.record_many(
                "u1",
                {k: batch[k] for k in ["education", "assets", "monthly_income", "income_verified"]},
                D0,
                "host_app",
                now,
            )
            late = uow.facts.record_many(
                "u1", {"occupation": batch["occupation"]}, D0 - dt.timedelta(days=1), "host_app", now
            )
            uow.commit()
    finally:
        sa_event.remove(system.engine, "before_cursor_execute", count)
    # 4 facts: insert, ids, in force, delete, update, insert; 1 late fact: insert, ids, in force
    assert len(statements) <= 6 + 3
    assert all(current for _, current in out.values()) and late["occupation"][1] is False
    ids = [out[k][0] for k in ["education", "assets", "monthly_income", "income_verified"]]
    assert ids == sorted(ids) and late["occupation"][0] > ids[-1]
    f = facts(system, "u1")
    assert (f["monthly_income"], f["assets"], f["education"], f["income_verified"], f["occupation"]) == (
        600_000,
        None,
        "doctor",
        True,
        "employee",
    )
    with system.uow(readonly=True) as uow:
        assert len(uow.facts.history("u1", 100)) == 4 + 5


BAD_FACTS = [
    ({"bogus": 1}, "unknown_fact"),
    ({"monthly_income": True}, "invalid_fact"),
    ({"monthly_income": -5}, "invalid_fact"),
    ({"assets": 1.5}, "invalid_fact"),
    ({"education": "phd"}, "invalid_fact"),
    ({"active_days_90d": 91}, "invalid_fact"),
    ({"payments_90d": 10}, "fact_not_accepted"),
    ({"utilisation_ratio": 10}, "fact_not_accepted"),
    ({}, "invalid_request"),
]


def test_bad_facts_are_refused_and_nothing_is_written(system):
    user(system, "u1")
    for body, code in BAD_FACTS:
        with pytest.raises(HuabeiError) as e:
            scoring.post_facts(system, "u1", {"assets": 100, **body} if body else body)
        assert e.value.code == code and e.value.kind.value == "invalid_request", body
    with system.uow(readonly=True) as uow:
        assert uow.conn.execute(select(func.count()).select_from(ts.user_facts)).scalar() == 0


def test_fact_errors_for_dates_and_users(system):
    user(system, "u1")
    with pytest.raises(HuabeiError) as e:
        scoring.post_facts(system, "u1", {"assets": 1}, effective_on=D0 + dt.timedelta(days=1))
    assert e.value.code == "date_in_future"
    with pytest.raises(HuabeiError) as e:
        scoring.post_facts(system, "nobody", {"assets": 1})
    assert e.value.code == "user_not_found"


def test_real_name_fact_updates_the_user_record(system):
    user(system, "u1", verified=False)
    scoring.post_facts(system, "u1", {"real_name_verified": True})
    assert accounts.get_user(system, "u1")["real_name_verified"] is True
    assert facts(system, "u1")["real_name_verified"] is True


def test_identity_facts_come_from_the_profile(system):
    user(
        system,
        "a",
        profile={
            "education": "college",
            "occupation": "木匠",
            "email": "a@b.cn",
            "id_document_expires_on": "2026-01-01",
            "bank_card_bound": True,
        },
    )
    user(system, "b", profile={"employer": "某公司", "address": "北京", "id_document_expires_on": "2030-01-01"})
    user(system, "c")
    fa, fb, fc = facts(system, "a"), facts(system, "b"), facts(system, "c")
    assert (
        fa["education"],
        fa["occupation"],
        fa["contact_details_complete"],
        fa["id_document_valid"],
        fa["bank_card_bound"],
    ) == ("associate", "other", True, False, True)
    assert (
        fb["education"],
        fb["occupation"],
        fb["contact_details_complete"],
        fb["id_document_valid"],
        fb["bank_card_bound"],
    ) == (None, "employee", True, True, None)
    assert (fc["occupation"], fc["contact_details_complete"], fc["id_document_valid"]) == (None, False, None)


# --------------------------------------------------------------------------- activity


def test_payment_activity_comes_from_purchases_and_app_events(system):
    user(system, "u1")
    acct = open_line(system, "u1", 1_000_000)
    admin.set_business_date(system, D0 + dt.timedelta(days=3))
    for _ in range(3):
        pay(system, acct, category="retail")
    pay(system, acct, category="dining", channel=Channel.OFFLINE)
    refunded = pay(system, acct, 2_000, category="travel")
    purchases.refund_purchase(system, refunded, 2_000, "score-refund-1")  # fully refunded: not a payment
    today = D0 + dt.timedelta(days=3)
    out = activity(
        system,
        "u1",
        on(today - dt.timedelta(days=5), "payment", channel="offline", category="groceries", external_id="p1"),
        on(today - dt.timedelta(days=5), "payment", channel="offline", category="groceries", external_id="p1"),
        on(today - dt.timedelta(days=6), "utility_payment", external_id="u1"),
        on(today - dt.timedelta(days=7), "transfer"),
        on(today - dt.timedelta(days=8), "collection"),
        on(today - dt.timedelta(days=100), "payment", channel="online", category="health"),
        on(today - dt.timedelta(days=200), "utility_payment"),
        on(today - dt.timedelta(days=300), "credit_card_repayment"),
        on(today - dt.timedelta(days=400), "credit_card_repayment"),
        on(today - dt.timedelta(days=30), "credit_service"),
        on(today - dt.timedelta(days=31), "credit_task"),
    )
    assert out == {"user_id": "u1", "recorded": 10, "duplicates": 1}
    assert activity(system, "u1", on(today, "utility_payment", external_id="u1"))["duplicates"] == 1  # a retry
    f = facts(system, "u1")
    # 4 purchases + app payment + utility payment in 90 days; 2 of 6 offline; retail, dining, groceries, utilities
    assert f["payments_90d"] == 6 and f["offline_payment_share"] == 333 and f["merchant_categories_90d"] == 4
    # purchase day + 6 event days (the out-of-window ones do not count)
    assert f["active_days_90d"] == 7
    assert (
        f["utility_payments_12m"],
        f["credit_card_repayments_12m"],
        f["credit_services_12m"],
        f["credit_tasks_12m"],
    ) == (2, 1, 1, 1)
    scoring.post_facts(system, "u1", {"utility_payments_12m": 7, "active_days_90d": 3})
    f = facts(system, "u1")
    assert f["utility_payments_12m"] == 7 and f["active_days_90d"] == 7  # the larger of posted and counted


BAD_ACTIVITY = [
    ({"kind": "lottery", "occurred_on": D0}, "invalid_request"),
    ({"kind": "payment", "occurred_on": D0}, "invalid_request"),
    ({"kind": "payment", "occurred_on": D0, "channel": "online", "category": "gambling"}, "invalid_category"),
    ({"kind": "transfer", "occurred_on": D0 + dt.timedelta(days=1)}, "date_in_future"),
    ({"kind": "transfer", "occurred_on": D0, "amount": 0}, "invalid_amount"),
]


def test_bad_activity_is_refused_whole(system):
    user(system, "u1")
    for bad, code in BAD_ACTIVITY:
        with pytest.raises(HuabeiError) as e:
            activity(system, "u1", on(D0, "transfer"), bad)
        assert e.value.code == code, bad
    with system.uow(readonly=True) as uow:
        assert uow.conn.execute(select(func.count()).select_from(ts.activity_events)).scalar() == 0


# --------------------------------------------------------------------------- repayment record


def test_repayment_record_from_the_delinquency_events(system):
    user(system, "u1")
    acct = open_line(system, "u1", 500_000)
    pay(system, acct)  # November: bill 2026-12, due 2026-12-10
    f = facts(system, "u1")
    assert (f["on_time_repayment_ratio"], f["max_days_overdue_12m"], f["overdue_episodes_12m"]) == (None, None, None)
    admin.set_business_date(system, dt.date(2026, 12, 11))
    f = facts(system, "u1")
    assert (f["on_time_repayment_ratio"], f["max_days_overdue_12m"], f["overdue_episodes_12m"]) == (1000, 0, 0)
    event(system, acct, "BecameOverdue", dt.date(2026, 12, 11), days_past_due=1, bucket="dpd_1_30")
    admin.set_business_date(system, dt.date(2026, 12, 15))
    f = facts(system, "u1")
    assert (f["on_time_repayment_ratio"], f["max_days_overdue_12m"], f["overdue_episodes_12m"]) == (0, 5, 1)
    event(system, acct, "DelinquencyCured", dt.date(2026, 12, 20), from_bucket="dpd_1_30", days_past_due_before=9)
    admin.set_business_date(system, dt.date(2027, 2, 11))  # bills 2027-01 (no purchases) and 2027-02 (none)
    pay(system, acct)
    f = facts(system, "u1")
    assert f["max_days_overdue_12m"] == 9 and f["overdue_episodes_12m"] == 1 and f["on_time_repayment_ratio"] == 0
    admin.set_business_date(system, dt.date(2027, 3, 11))  # the February purchases' bill fell due on time
    f = facts(system, "u1")
    assert f["on_time_repayment_ratio"] == 500
    # other credit products, reported by the host: the worst record counts
    scoring.post_facts(
        system, "u1", {"max_days_overdue_12m": 40, "overdue_episodes_12m": 2, "on_time_repayment_ratio": 900}
    )
    f = facts(system, "u1")
    assert (f["on_time_repayment_ratio"], f["max_days_overdue_12m"], f["overdue_episodes_12m"]) == (500, 40, 3)
    admin.set_business_date(system, dt.date(2028, 1, 1))  # a year on: the episode has left the window
    f = facts(system, "u1")
    assert f["overdue_episodes_12m"] == 2 and f["max_days_overdue_12m"] == 40


def test_utilisation_and_history_length(system):
    user(system, "u1")
    acct = open_line(system, "u1", 100_000)
    pay(system, acct, 50_000)
    assert facts(system, "u1")["utilisation_ratio"] == 500
    accounts.grant_temporary_limit(system, acct, amount=100_000, expires_on=D0 + dt.timedelta(days=30))
    pay(system, acct, 100_000)
    assert facts(system, "u1")["utilisation_ratio"] == 750
    admin.set_business_date(system, D0 + dt.timedelta(days=31))  # expired while spent: overspent
    f = facts(system, "u1")
    assert f["utilisation_ratio"] == 1500
    assert f["credit_history_months"] == 1
    scoring.post_facts(system, "u1", {"credit_history_months": 30}, effective_on=D0)  # an earlier credit record
    admin.set_business_date(system, D0 + dt.timedelta(days=200))  # a jump is at most max_clock_jump_days
    admin.set_business_date(system, D0 + dt.timedelta(days=400))
    assert facts(system, "u1")["credit_history_months"] == 43  # 30 + 13 months since it was observed


def test_connections_and_their_standing(system):
    for uid in ("u1", "good", "poor", "unscored", "unverified"):
        user(system, uid)
    scoring.post_facts(
        system,
        "good",
        {
            "monthly_income": 2_500_000,
            "assets": 30_000_000,
            "income_verified": True,
            "bank_card_bound": True,
            "contact_details_complete": True,
            "id_document_valid": True,
            "education": "master",
            "occupation": "employee",
        },
    )
    activity(
        system,
        "good",
        *[
            on(D0 - dt.timedelta(days=d), "payment", channel="offline" if d % 2 else "online", category=c)
            for d, c in enumerate(["retail", "dining", "travel", "health"] * 5)
        ],
    )
    assert score(system, "good") >= 600 > score(system, "poor")
    scoring.replace_contacts(
        system, "u1", [("good", True), ("poor", True), ("unscored", True), ("unverified", False), ("outsider", True)]
    )
    f = facts(system, "u1")
    assert f["verified_contacts"] == 4 and f["contacts_good_standing_ratio"] == 500
    scoring.replace_contacts(system, "u1", [("unscored", True)])
    scoring.post_facts(system, "u1", {"contacts_good_standing_ratio": 800})
    assert facts(system, "u1")["contacts_good_standing_ratio"] == 800  # nothing known here: the host's view
    with pytest.raises(HuabeiError):
        scoring.replace_contacts(system, "u1", [("u1", True)])


# --------------------------------------------------------------------------- every seed factor


def _baseline(system, uid: str) -> int:
    """A middling user with a line: every factor has room to move either way."""
    user(system, uid)
    acct = open_line(system, uid, 300_000)
    scoring.post_facts(
        system,
        uid,
        {
            "monthly_income": 500_000,
            "assets": 500_000,
            "verified_contacts": 3,
            "contacts_good_standing_ratio": 600,
            "credit_history_months": 14,
        },
    )
    pay(system, acct, 60_000, category="retail")
    pay(system, acct, 5_000, category="retail")
    return acct


SEED_FACTORS: list[tuple[str, int, Callable | None]] = [
    # 1. 芝麻信用分 / 信用记录: 按时还款, 避免逾期
    ("overdue (逾期)", -1, lambda s, u, a: event(s, a, "BecameOverdue", D0, days_past_due=1)),
    (
        "longer credit history (信用历史越长)",
        +1,
        lambda s, u, a: scoring.post_facts(s, u, {"credit_history_months": 50}),
    ),
    (
        "other credit products overdue (其他信贷产品)",
        -1,
        lambda s, u, a: scoring.post_facts(s, u, {"max_days_overdue_12m": 45, "overdue_episodes_12m": 1}),
    ),
    ("frequent raise applications (频繁申请)", -1, lambda s, u, a: _applications(s, u, a, 5)),
    # 完善个人信息: 实名认证, 绑定银行卡, 学历, 职业, 联系方式
    ("real-name verification (实名认证)", +1, None),  # needs an unverified user: checked on its own below
    ("bound bank card (绑定银行卡)", +1, lambda s, u, a: scoring.post_facts(s, u, {"bank_card_bound": True})),
    ("education (学历)", +1, lambda s, u, a: scoring.post_facts(s, u, {"education": "bachelor"})),
    ("occupation (职业)", +1, lambda s, u, a: scoring.post_facts(s, u, {"occupation": "employee"})),
    ("contact details (联系方式)", +1, lambda s, u, a: scoring.post_facts(s, u, {"contact_details_complete": True})),
    ("valid identity document", +1, lambda s, u, a: scoring.post_facts(s, u, {"id_document_valid": True})),
    # 稳定的消费记录 / 使用频率 / 线上线下 / 消费场景
    ("more payments (支付笔数)", +1, lambda s, u, a: [pay(s, a, 1_000, "retail") for _ in range(4)]),
    ("offline payments too (线下支付)", +1, lambda s, u, a: pay(s, a, 1_000, "retail", Channel.OFFLINE)),
    ("more scenarios (消费场景)", +1, lambda s, u, a: [pay(s, a, 1_000, c) for c in ("dining", "travel", "transport")]),
    (
        "transfers and collections (转账、收款)",
        +1,
        lambda s, u, a: activity(
            s, u, *[on(D0 - dt.timedelta(days=d), k) for d in range(1, 15) for k in ("transfer",)]
        ),
    ),
    (
        "utility payments (生活缴费)",
        +1,
        lambda s, u, a: activity(s, u, *[on(D0 - dt.timedelta(days=30 * m), "utility_payment") for m in range(6)]),
    ),
    (
        "credit-card repayments in the app (信用卡还款)",
        +1,
        lambda s, u, a: activity(
            s, u, *[on(D0 - dt.timedelta(days=30 * m), "credit_card_repayment") for m in range(6)]
        ),
    ),
    (
        "credit services: rental, stays (信用租赁、信用住)",
        +1,
        lambda s, u, a: activity(s, u, on(D0, "credit_service"), on(D0, "credit_service")),
    ),
    ("credit activities / tasks (信用活动)", +1, lambda s, u, a: activity(s, u, on(D0, "credit_task"))),
    # 提高个人收入水平 / 投资理财
    ("higher income (收入)", +1, lambda s, u, a: scoring.post_facts(s, u, {"monthly_income": 2_500_000})),
    ("verified income", +1, lambda s, u, a: scoring.post_facts(s, u, {"income_verified": True})),
    ("savings and funds (投资理财)", +1, lambda s, u, a: scoring.post_facts(s, u, {"assets": 30_000_000})),
    # 控制消费, 避免过度消费
    ("overspending (过度消费)", -1, lambda s, u, a: pay(s, a, 230_000, "retail")),
    # 添加信用良好的朋友
    (
        "friends in good standing (信用良好的朋友)",
        +1,
        lambda s, u, a: scoring.post_facts(s, u, {"verified_contacts": 25, "contacts_good_standing_ratio": 950}),
    ),
]


def _applications(system, uid: str, acct: int, n: int) -> None:
    with system.uow() as uow:
        for _ in range(n):
            uow.applications.add(
                account_id=acct,
                user_id=uid,
                applied_on=D0,
                decision="declined",
                primary_reason="too_frequent",
                old_limit=0,
                new_limit=0,
                reasons=["too_frequent"],
                policy_version="t",
                created_at=uow.now(),
            )
        uow.commit()


def test_every_seed_factor_moves_the_stored_score_in_its_direction(system):
    results = {}
    for k, (factor, direction, change) in enumerate(SEED_FACTORS):
        if change is None:
            continue
        uid = f"f{k}"
        acct = _baseline(system, uid)
        before = score(system, uid)
        change(system, uid, acct)
        after = score(system, uid)
        results[factor] = (before, after)
        assert (after - before) * direction > 0, f"{factor}: {before} → {after}"
    user(system, "unverified", verified=False)
    before = score(system, "unverified")
    scoring.post_facts(system, "unverified", {"real_name_verified": True})
    assert score(system, "unverified") > before
    # and the history keeps both scores of each user, the change as an event
    with system.uow(readonly=True) as uow:
        rows = uow.scores.history("f0", 10)
        assert [r.trigger for r in rows] == ["operator", "operator"] and rows[0].previous_score == rows[1].score
        changed = uow.conn.execute(
            select(func.count()).select_from(t.domain_events).where(t.domain_events.c.event_type == "ScoreChanged")
        ).scalar()
        assert changed >= len(results)


# --------------------------------------------------------------------------- batch = single user


def test_the_batch_collects_exactly_what_the_single_user_path_does(system):
    user(system, "a", profile={"education": "master", "email": "x@y.z"})
    user(system, "b", verified=False)
    user(system, "c")
    acct = _baseline(system, "d")
    event(system, acct, "BecameOverdue", D0, days_past_due=3)
    activity(system, "c", on(D0, "payment", channel="offline", category="dining"), on(D0, "credit_task"))
    scoring.replace_contacts(system, "a", [("d", True), ("c", False)])
    with system.uow() as uow:
        pop = collect.collect_facts(uow)
        assert list(pop.user_ids) == ["a", "b", "c", "d"]
        for i, uid in enumerate(pop.user_ids):
            one = collect.collect_facts(uow, user_ids=[uid])
            assert one.facts_of(0) == pop.facts_of(i), uid
            assert bool(one.overdue_now[0]) == bool(pop.overdue_now[i]) and one.account_id[0] == pop.account_id[i]
        assert scoring.refresh_scores(uow) == 4
        uow.commit()
    with system.uow(readonly=True) as uow:
        stored = {r.user_id: r for r in uow.scores.latest_by_user(None)}
    card = collect.scorecard_for(system.terms.scoring)
    for i, uid in enumerate(pop.user_ids):
        expected = card.score(pop.facts_of(i))
        r = stored[uid]
        assert (r.score, r.band, tuple(r.reasons)) == (expected.score, expected.band, expected.reasons)
        assert {d: getattr(r, d) for d in expected.dimensions} == expected.dimensions
        assert r.scorecard_version == card.version and r.as_of == D0 and r.trigger == "scheduled"
    assert np.all(pop.account_id[:3] == 0)
