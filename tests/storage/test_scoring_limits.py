"""Opening, limits, re-evaluation, raise applications, campaigns and the EOD steps — on both databases.

Scenarios of the issue: a new user with a thin file, a long good record, a user who applies
for raises every week, a user whose temporary limit expires while spent.
"""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select
from tests.conftest import START_DATE, make_system, new_account
from tests.storage.test_scoring_facts import activity, event, on, pay, user

from huabei.batch import eod
from huabei.batch.steps import Step
from huabei.config import LimitTerms, ProductTerms
from huabei.errors import HuabeiError
from huabei.limits import campaign_service as campaigns
from huabei.limits import policy as lp
from huabei.limits import service as limits
from huabei.lines import service as accounts
from huabei.lines.purchase_rules import Channel
from huabei.onboarding import service as onboarding
from huabei.platform import admin
from huabei.platform import schema as t
from huabei.restrictions import service as restrictions
from huabei.scoring import collect
from huabei.scoring import service as scoring

D0 = START_DATE  # 2026-11-02: the 2nd, the default refresh and review day
#: The end-of-day steps of the score and limit policy (huabei.batch.eod.STEPS), run here by hand.
POLICY_STEPS = ("settle_campaigns", "refresh_scores", "reevaluate_limits")


def policy_steps() -> dict[str, Step]:
    return {s.name: s for s in eod.STEPS if s.name in POLICY_STEPS}


@pytest.fixture
def unseasoned(db_url):
    """A system whose reviews may change lines opened today (no seasoning, no cool-off)."""
    s = make_system(db_url, ProductTerms(limits=LimitTerms(review_seasoning_days=0, review_cooldown_days=0)))
    yield s
    s.engine.dispose()


CATEGORIES = ("retail", "dining", "travel", "groceries", "transport", "health", "entertainment")


def good_user(system, uid: str, *, income: int = 1_200_000, assets: int = 5_000_000) -> str:
    """A verified user with a complete profile, app activity, income and savings: eligible."""
    user(
        system,
        uid,
        profile={
            "education": "bachelor",
            "email": f"{uid}@example.cn",
            "bank_card_bound": True,
            "id_document_expires_on": "2035-01-01",
            "occupation": "employee",
        },
    )
    scoring.post_facts(
        system,
        uid,
        {
            "monthly_income": income,
            "income_verified": True,
            "assets": assets,
            "verified_contacts": 8,
            "contacts_good_standing_ratio": 900,
            "credit_authorised": True,
        },
    )
    activity(
        system,
        uid,
        *[
            on(
                D0 - dt.timedelta(days=d),
                "payment",
                channel="offline" if d % 2 else "online",
                category=CATEGORIES[d % 7],
            )
            for d in range(1, 41)
        ],
    )
    return uid


def changes(system, account_id: int) -> list:
    return limits.limit_changes(system, account_id)


def codes(items) -> list[str]:
    return [r["code"] for r in items]


# --------------------------------------------------------------------------- opening (开通)


@pytest.mark.smoke
def test_a_new_user_with_a_thin_file_is_declined_with_reasons_then_opens(system):
    user(system, "thin")
    with pytest.raises(HuabeiError) as e:
        onboarding.open_account(system, user_id="thin")
    err = e.value
    assert err.code == "not_eligible" and err.http_status == 422
    assert err.params["reasons"][0] == "score_below_threshold" and err.params["threshold"] == 600
    assert {"low_activity", "few_scenarios"} & set(err.params["reasons"])
    with system.uow(readonly=True) as uow:  # the decision's score is kept; no line was opened
        assert [r.trigger for r in uow.scores.history("thin", 5)] == ["opening"]
        assert uow.accounts.open_account_of("thin") is None
    # the user builds a record in the app: the same request now opens the line
    scoring.post_facts(
        system,
        "thin",
        {
            "bank_card_bound": True,
            "contact_details_complete": True,
            "id_document_valid": True,
            "assets": 500_000,
            "verified_contacts": 3,
            "contacts_good_standing_ratio": 800,
        },
    )
    activity(
        system,
        "thin",
        *[
            on(
                D0 - dt.timedelta(days=d),
                "payment",
                channel="offline" if d % 3 else "online",
                category=CATEGORIES[d % 3],
            )
            for d in range(20)
        ],
    )
    view = onboarding.open_account(system, user_id="thin")
    assert view["base_limit"] >= system.terms.limits.min_base_limit
    (opened,) = changes(system, view["account_id"])
    assert codes(opened["reasons"])[0] == "account_opened"
    assert opened["policy_version"] == lp.policy_version(system.terms.limits) and opened["actor"] == "system"
    assert scoring.get_score(system, "thin")["score"] >= 600


def test_opening_gives_the_policy_limit_and_more_capacity_gives_more(system):
    a = onboarding.open_account(system, user_id=good_user(system, "modest", income=400_000, assets=100_000))
    b = onboarding.open_account(system, user_id=good_user(system, "rich", income=2_500_000, assets=30_000_000))
    assert a["base_limit"] < b["base_limit"] <= system.terms.limits.max_base_limit
    assert b["base_limit"] % system.terms.limits.limit_step == 0
    with system.uow(readonly=True) as uow:
        pop = collect.collect_facts(uow, user_ids=["rich"])
        score = uow.scores.latest_points(["rich"])[0][1]
    assert b["base_limit"] == lp.propose_base_limit(score, pop.facts_of(0), system.terms.limits).limit
    assert "strong_income" in codes(changes(system, b["account_id"])[0]["reasons"])


@pytest.mark.parametrize(
    "setup, reason",
    [
        (lambda s: scoring.post_facts(s, "u", {"real_name_verified": False}), "identity_not_verified"),
        (lambda s: scoring.post_facts(s, "u", {"id_document_valid": False}), "id_document_expired"),
        (lambda s: scoring.post_facts(s, "u", {"max_days_overdue_12m": 60}), "overdue_on_record"),
    ],
)
def test_disqualifying_records_refuse_an_opening(system, setup, reason):
    good_user(system, "u")
    setup(system)
    with pytest.raises(HuabeiError) as e:
        onboarding.open_account(system, user_id="u")
    assert e.value.code == "not_eligible" and reason in e.value.params["reasons"]


def test_a_restriction_on_an_earlier_line_refuses_an_opening(system):
    good_user(system, "u")
    old = onboarding.open_account(system, user_id="u", base_limit=100_000)["account_id"]
    restrictions.place_restriction(system, old, cause="cash_out_suspected")
    with system.uow() as uow:  # the old line was closed (there is no closing use case yet)
        uow.conn.execute(
            t.credit_accounts.update().where(t.credit_accounts.c.account_id == old).values(state="closed", closed_on=D0)
        )
        uow.commit()
    with pytest.raises(HuabeiError) as e:
        onboarding.open_account(system, user_id="u")
    assert "restricted_on_record" in e.value.params["reasons"]


def test_the_operator_path_still_works(system):
    acct = new_account(system, base_limit=123_400)
    assert accounts.account_view(system, acct)["base_limit"] == 123_400
    user(system, "unverified", verified=False)
    with pytest.raises(HuabeiError) as e:
        onboarding.open_account(system, user_id="unverified", base_limit=100_000)
    assert e.value.code == "real_name_required"
    good_user(system, "g")
    onboarding.open_account(system, user_id="g")
    with pytest.raises(HuabeiError) as e:
        onboarding.open_account(system, user_id="g")
    assert e.value.code == "account_exists"


# --------------------------------------------------------------------------- periodic re-evaluation


def test_the_periodic_review_raises_cuts_and_records_why(unseasoned):
    system = unseasoned
    up = onboarding.open_account(system, user_id=good_user(system, "up"), base_limit=100_000)["account_id"]
    down = new_account(system, base_limit=3_000_000, user_id="down")
    used = new_account(system, base_limit=3_000_000, user_id="used")
    pay(system, used, 2_654_321)
    frozen = onboarding.open_account(system, user_id=good_user(system, "frozen"), base_limit=100_000)["account_id"]
    restrictions.place_restriction(system, frozen, cause="operator_hold", note="检查")
    steady = onboarding.open_account(system, user_id=good_user(system, "steady"))
    names = [s.name for s in eod.STEPS if s.name in POLICY_STEPS]
    assert names == ["refresh_scores", "reevaluate_limits", "settle_campaigns"]
    steps = policy_steps()
    with system.uow() as uow:
        assert steps["refresh_scores"].run(uow, uow.today()) == {"scored": 5}
        assert steps["reevaluate_limits"].run(uow, uow.today()) == {"changed": 3}
        uow.commit()
    lt = system.terms.limits
    assert accounts.account_view(system, up)["base_limit"] == 150_000  # +50 %: one step of a big raise
    (raised, _) = changes(system, up)  # newest first
    assert codes(raised["reasons"])[:2] == ["periodic_review_raise", "high_score_band"]
    assert codes(raised["reasons"])[-1] == "raise_step_capped"
    assert raised["policy_version"] == lp.policy_version(lt) and raised["actor"] == "system"
    assert accounts.account_view(system, down)["base_limit"] == 2_100_000  # −30 % at most
    assert codes(changes(system, down)[0]["reasons"])[0] == "periodic_review_cut"
    view = accounts.account_view(system, used)
    assert view["base_limit"] == 2_660_000 and view["available"] == 5_679  # never below what is used
    assert codes(changes(system, used)[0]["reasons"])[-1] == "cut_limited_to_used"
    assert accounts.account_view(system, frozen)["base_limit"] == 100_000  # never a raise while frozen
    assert len(changes(system, steady["account_id"])) == 1
    review = limits.evaluate_account(system, frozen)["review"]
    assert review["action"] == "none" and codes(review["reasons"]) == ["raise_blocked_frozen", "operator_hold"]
    with system.uow(readonly=True) as uow:
        n = uow.conn.execute(
            select(func.count()).select_from(t.domain_events).where(t.domain_events.c.event_type == "LimitChanged")
        ).scalar()
        assert n >= 3


def test_no_raise_while_overdue_and_steps_wait_for_their_day(unseasoned):
    system = unseasoned
    acct = onboarding.open_account(system, user_id=good_user(system, "late"), base_limit=100_000)["account_id"]
    event(system, acct, "BecameOverdue", D0, days_past_due=1)
    steps = policy_steps()
    with system.uow() as uow:
        assert limits.reevaluate_limits(uow) == 0  # overdue by the outbox, even before the line is blocked
        uow.commit()
    admin.set_business_date(system, D0 + dt.timedelta(days=1))
    with system.uow() as uow:
        assert steps["refresh_scores"].run(uow, uow.today()) == {"scored": 0}  # not the 2nd
        assert steps["reevaluate_limits"].run(uow, uow.today()) == {"changed": 0}
        uow.commit()
    assert accounts.account_view(system, acct)["base_limit"] == 100_000


def test_a_review_skips_a_line_that_changed_meanwhile(unseasoned):
    system = unseasoned
    acct = onboarding.open_account(system, user_id=good_user(system, "u"), base_limit=100_000)["account_id"]
    with system.uow() as uow:
        pop = collect.collect_facts(uow)
    accounts.set_base_limit(system, acct, base_limit=120_000)
    with system.uow() as uow:
        assert limits.reevaluate_limits(uow, population=pop) == 0
        uow.commit()
    assert accounts.account_view(system, acct)["base_limit"] == 120_000


def test_a_new_line_keeps_its_opening_limit_and_a_recent_change_is_not_undone(system):
    acct = onboarding.open_account(system, user_id=good_user(system, "new"), base_limit=100_000)["account_id"]
    thin = new_account(system, base_limit=3_000_000, user_id="thin")
    with system.uow() as uow:
        assert limits.reevaluate_limits(uow) == 0  # both opened today: too new to review
        uow.commit()
    assert codes(limits.evaluate_account(system, acct)["review"]["reasons"]) == ["line_too_new"]
    admin.set_business_date(system, D0 + dt.timedelta(days=90))
    accounts.set_base_limit(system, thin, base_limit=2_900_000)  # an operator's change yesterday... today
    with system.uow() as uow:
        assert limits.reevaluate_limits(uow) == 1  # the seasoned, untouched line is raised
        uow.commit()
    assert accounts.account_view(system, acct)["base_limit"] == 150_000
    assert accounts.account_view(system, thin)["base_limit"] == 2_900_000
    assert codes(limits.evaluate_account(system, thin)["review"]["reasons"]) == ["limit_recently_changed"]
    admin.set_business_date(system, D0 + dt.timedelta(days=120))
    with system.uow() as uow:
        limits.reevaluate_limits(uow)
        uow.commit()
    assert accounts.account_view(system, thin)["base_limit"] == 2_030_000  # −30 %, a month after the change


# --------------------------------------------------------------------------- raise applications


def test_a_raise_application_is_decided_at_once(system):
    acct = onboarding.open_account(system, user_id=good_user(system, "u"), base_limit=100_000)["account_id"]
    out = limits.apply_for_raise(system, acct, requested_limit=120_050)
    assert out["decision"] == "approved" and (out["old_limit"], out["new_limit"]) == (100_000, 120_000)
    assert codes(out["reasons"])[0] == "raise_application_approved" and out["score"] >= 600
    assert accounts.account_view(system, acct)["base_limit"] == 120_000
    assert changes(system, acct)[0]["actor"] == "applicant"
    again = limits.apply_for_raise(system, acct)
    assert again["decision"] == "declined" and codes(again["reasons"])[0] == "too_frequent"
    assert "30 days" in again["reasons"][0]["message"] and "30" in again["reasons"][0]["message_zh"]
    assert accounts.account_view(system, acct)["base_limit"] == 120_000


def test_a_user_who_applies_every_week(system):
    acct = onboarding.open_account(system, user_id=good_user(system, "eager"), base_limit=100_000)["account_id"]
    first = scoring.refresh_user(system, "eager")["score"]
    decisions = []
    for week in range(8):
        admin.set_business_date(system, D0 + dt.timedelta(days=7 * week))
        decisions.append(limits.apply_for_raise(system, acct))
    firsts = [d for d in decisions if codes(d["reasons"])[0] != "too_frequent"]
    assert len(firsts) == 2  # weeks 0 and 5 (35 days later); the other six are refused for frequency
    assert all(
        "too_many_raise_applications" in codes(d["reasons"])
        for d in decisions
        if codes(d["reasons"])[0] == "too_frequent"
    )
    later = scoring.refresh_user(system, "eager")
    assert later["score"] < first  # every application counted: the score fell
    assert "too_many_raise_applications" in codes(later["reasons"])
    with system.uow(readonly=True) as uow:
        assert uow.conn.execute(select(func.count()).select_from(t.limit_raise_applications)).scalar() == 8


def test_applications_are_refused_on_blocked_lines_and_low_scores(system):
    acct = onboarding.open_account(system, user_id=good_user(system, "u"), base_limit=100_000)["account_id"]
    restrictions.place_restriction(system, acct, cause="wrong_password_lockout")
    out = limits.apply_for_raise(system, acct)
    assert out["decision"] == "declined" and codes(out["reasons"]) == ["raise_blocked_frozen", "wrong_password_lockout"]
    low = new_account(system, base_limit=100_000, user_id="low")
    out = limits.apply_for_raise(system, low)
    assert codes(out["reasons"])[0] == "score_below_threshold" and "600" in out["reasons"][0]["message"]
    with pytest.raises(HuabeiError) as e:
        limits.apply_for_raise(system, 99_999)
    assert e.value.code == "account_not_found"


# --------------------------------------------------------------------------- scenarios


def test_a_long_good_record_earns_raises(system):
    acct = onboarding.open_account(system, user_id=good_user(system, "loyal"), base_limit=100_000)["account_id"]
    start = scoring.refresh_user(system, "loyal")["score"]
    day = D0
    for month in range(26):  # two years of purchases, every bill repaid on time (no overdue event)
        pay(system, acct, 3_000, CATEGORIES[month % 7], Channel.OFFLINE if month % 2 else Channel.ONLINE)
        day = (day.replace(day=1) + dt.timedelta(days=32)).replace(day=2)
        admin.set_business_date(system, day)
        with system.uow() as uow:
            for name in POLICY_STEPS:
                policy_steps()[name].run(uow, uow.today())
            uow.commit()
        with system.uow() as uow:  # repay what was bought, as a good customer does
            uow.conn.execute(t.credit_accounts.update().where(t.credit_accounts.c.account_id == acct).values(used=0))
            uow.commit()
    f = scoring.current_facts(system, "loyal")["facts"]
    assert f["on_time_repayment_ratio"] == 1000 and f["max_days_overdue_12m"] == 0 and f["credit_history_months"] >= 24
    history = scoring.score_history(system, "loyal", limit=30)["data"]
    assert history[-1]["score"] == start
    # the record builds the credit history (the shipped card: a clean record, two years of history);
    # the activity posted at the start has aged out of the 90-day window meanwhile
    ch = [{d["dimension"]: d["points"] for d in h["dimensions"]}["credit_history"] for h in (history[0], history[-1])]
    assert ch[0] > ch[1]
    base = accounts.account_view(system, acct)["base_limit"]
    assert base > 500_000
    raises = [c for c in changes(system, acct) if codes(c["reasons"])[:1] == ["periodic_review_raise"]]
    assert len(raises) >= 3 and "long_credit_history" in codes(raises[0]["reasons"])
    psi = scoring.psi(system, D0, day)
    assert psi["expected_count"] == psi["actual_count"] == 1
    assert (psi["expected_mean"], psi["actual_mean"]) == (start, history[0]["score"])  # each date's own score


def test_a_temporary_limit_that_expires_while_spent(unseasoned):
    system = unseasoned
    acct = onboarding.open_account(system, user_id=good_user(system, "spender"), base_limit=200_000)["account_id"]
    accounts.grant_temporary_limit(system, acct, amount=100_000, expires_on=D0 + dt.timedelta(days=30))
    pay(system, acct, 200_000)  # two thirds of the total limit used: below the book's 88.6 % cut
    before = scoring.refresh_user(system, "spender")
    pay(system, acct, 80_000)  # the base limit and most of the temporary limit spent
    admin.set_business_date(system, D0 + dt.timedelta(days=30))  # the temporary part is gone
    view = accounts.account_view(system, acct)
    assert (view["temporary_limit"], view["available"], view["used"]) == (0, 0, 280_000)
    assert scoring.current_facts(system, "spender")["facts"]["utilisation_ratio"] == 1400  # overspent
    after = scoring.refresh_user(system, "spender")
    assert after["score"] < before["score"] and "high_utilisation" in codes(after["reasons"])
    with system.uow() as uow:  # no raise while over the base limit; a cut never goes below what is used
        limits.reevaluate_limits(uow)
        uow.commit()
    assert accounts.account_view(system, acct)["base_limit"] == 200_000
    assert codes(limits.evaluate_account(system, acct)["review"]["reasons"]) == ["raise_blocked_over_limit"]
    assert codes(limits.apply_for_raise(system, acct)["reasons"]) == ["raise_blocked_over_limit"]
    # once repaid the line is usable again
    with system.uow() as uow:
        uow.conn.execute(t.credit_accounts.update().where(t.credit_accounts.c.account_id == acct).values(used=0))
        uow.commit()
    assert accounts.account_view(system, acct)["available"] == 200_000


def test_scenario_temporary_limits(system):
    traveller = new_account(system, base_limit=100_000, user_id="traveller")
    homebody = new_account(system, base_limit=100_000, user_id="homebody")
    pay(system, traveller, 1_000, "travel")
    pay(system, homebody, 1_000, "groceries")
    out = limits.grant_scenario_temporary_limits(system, category="travel", amount=50_000, days=30)
    assert out["granted"] == 1
    assert accounts.account_view(system, traveller)["temporary_limit"] == 50_000
    assert accounts.account_view(system, homebody)["temporary_limit"] == 0
    assert codes(changes(system, traveller)[0]["reasons"]) == ["scenario_temporary_limit", "temporary_limit_granted"]
    assert D0.isoformat() not in changes(system, traveller)[0]["reasons"][1]["message"]
    with pytest.raises(HuabeiError):
        limits.grant_scenario_temporary_limits(system, category="travel", amount=50_000, days=365)


# --------------------------------------------------------------------------- campaigns


def test_a_raise_challenge_completed_grants_its_reward(system):
    acct = new_account(system, base_limit=500_000, user_id="player")
    idle = new_account(system, base_limit=500_000, user_id="idle")
    enrolment = campaigns.enrol(system, acct, "spend_challenge")
    assert enrolment["status"] == "in_progress" and enrolment["last_day"] == "2026-12-01"
    campaigns.enrol(system, idle, "spend_challenge")
    campaigns.enrol(system, acct, "scenario_explorer")
    with pytest.raises(HuabeiError) as e:
        campaigns.enrol(system, acct, "spend_challenge")
    assert e.value.code == "campaign_already_joined"
    with pytest.raises(HuabeiError) as e:
        campaigns.enrol(system, acct, "nope")
    assert e.value.code == "campaign_not_found"
    for k in range(10):
        pay(system, acct, 1_500, CATEGORIES[k % 3])
    pay(system, acct, 500, "health")  # below the minimum payment: does not count
    progress = {e["campaign"]: e["progress"] for e in campaigns.account_campaigns(system, acct)}
    assert progress["spend_challenge"] == {
        "payments": 10,
        "required_payments": 10,
        "categories": 3,
        "required_categories": 3,
    }
    with system.uow() as uow:
        assert campaigns.settle_campaigns(uow) == 1
        uow.commit()
    view = accounts.account_view(system, acct)
    assert view["temporary_limit"] == 100_000 and view["temporary_limit_expires_on"] == "2026-12-02"
    assert codes(changes(system, acct)[0]["reasons"])[0] == "campaign_completed"
    assert scoring.current_facts(system, "player")["facts"]["credit_tasks_12m"] == 1  # a credit task done
    admin.set_business_date(system, dt.date(2026, 12, 1))
    with system.uow() as uow:
        assert campaigns.settle_campaigns(uow) == 1  # the idle line's window is over
        uow.commit()
    statuses = {e["campaign"]: e["status"] for e in campaigns.account_campaigns(system, idle)}
    assert statuses == {"spend_challenge": "expired"}


def test_a_permanent_reward_waits_while_the_line_is_frozen(system):
    acct = new_account(system, base_limit=500_000, user_id="p")
    campaigns.enrol(system, acct, "scenario_explorer")
    for k in range(20):
        pay(system, acct, 1_000, CATEGORIES[k % 5])
    hold = restrictions.place_restriction(system, acct, cause="operator_hold", note="核实")
    with system.uow() as uow:
        assert campaigns.settle_campaigns(uow) == 1
        uow.commit()
    assert accounts.account_view(system, acct)["base_limit"] == 500_000
    (e,) = campaigns.account_campaigns(system, acct)
    assert e["status"] == "completed" and e["rewarded_on"] is None
    restrictions.lift_restriction(system, hold["restriction_id"])
    with system.uow() as uow:
        campaigns.settle_campaigns(uow)
        uow.commit()
    assert accounts.account_view(system, acct)["base_limit"] == 550_000
    (e,) = campaigns.account_campaigns(system, acct)
    assert e["rewarded_on"] == D0.isoformat()
