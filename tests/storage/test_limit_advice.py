"""The limit advice (提额建议) through storage, on SQLite and PostgreSQL: each action's effect equals
re-running the real scorecard and limit policy on the changed facts; actions without effect are not
shown; the first seed's warnings come with their evidence; and asking for advice (or a diagnosis)
leaves the book byte-for-byte unchanged."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select
from tests.conftest import buy, make_system, new_account
from tests.storage.test_scoring_facts import user
from tests.storage.test_scoring_limits import good_user

from huabei.config import LimitTerms, ProductTerms
from huabei.diagnosis import render
from huabei.diagnosis import service as diagnosis
from huabei.limits import policy as lp
from huabei.limits import service as limits
from huabei.lines import service as accounts
from huabei.money import yuan
from huabei.onboarding import service as onboarding
from huabei.platform import admin
from huabei.platform.schema import metadata
from huabei.restrictions import service as restrictions
from huabei.scoring import collect
from huabei.scoring import service as scoring
from huabei.scoring.dimensions import BAND_NAMES

D = dt.date


@pytest.fixture
def s(db_url):
    """Reviews may change a line as soon as it is open (no seasoning, no cool-off)."""
    system = make_system(db_url, ProductTerms(limits=LimitTerms(review_seasoning_days=0, review_cooldown_days=0)))
    yield system
    system.engine.dispose()


def book(system) -> dict[str, list[tuple]]:
    """Every row of every table, every column."""
    with system.engine.connect() as c:
        return {
            t.name: [tuple(r) for r in c.execute(select(t).order_by(*t.primary_key.columns))]
            for t in metadata.sorted_tables
        }


def thin_profile_user(system, uid: str) -> str:
    """Income and savings on file, but no education, occupation, contact details or authorisation."""
    user(system, uid, profile={"bank_card_bound": True, "id_document_expires_on": "2035-01-01"})
    scoring.post_facts(system, uid, {"monthly_income": 1_500_000, "income_verified": True, "assets": 8_000_000})
    return uid


def rerun(system, account_id: int, changes: dict, used: int) -> tuple[int, int, int]:
    """(score, policy limit, base limit after review) computed here, from the facts read afresh."""
    with system.uow(readonly=True) as uow:
        line = uow.accounts.get(account_id)
        facts = collect.collect_facts(uow, user_ids=[line.user_id]).facts_of(0)
    facts = {**facts, **changes}
    score = collect.scorecard_for(system.terms.scoring).score(facts).score
    proposal = lp.propose_base_limit(score, facts, system.terms.limits)
    review = lp.review(line.base_limit, used, proposal, line.block_code, system.terms.limits)
    return score, proposal.limit, review.new_limit


@pytest.mark.smoke
def test_each_action_is_the_real_policy_rerun_and_asking_writes_nothing(s):
    uid = thin_profile_user(s, "thin")
    acct = onboarding.open_account(s, user_id=uid, base_limit=yuan("1000.00"))["account_id"]
    buy(s, acct, yuan("950.00"))  # 95 % of the limit: above the shipped card's 88.6 % utilisation cut
    before = book(s)
    advice = diagnosis.advise(s, acct)
    en = diagnosis.limit_advice(s, acct, "en")
    zh = diagnosis.limit_advice(s, acct, "zh_CN")
    diagnosis.diagnosis(s, acct, "zh_CN")
    assert book(s) == before  # the counterfactuals never write

    assert advice.actions, "a thin profile has something to gain"
    base_score, base_policy, base_review = rerun(s, acct, {}, yuan("950.00"))
    assert (advice.baseline.score, advice.baseline.policy_limit, advice.baseline.review_limit) == (
        base_score,
        base_policy,
        base_review,
    )
    for act in advice.actions:
        score, policy_limit, review_limit = rerun(s, acct, dict(act.changes), act.used)
        assert act.score_points == score - base_score, act.code
        assert act.policy_limit_change == policy_limit - base_policy, act.code
        assert act.review_limit_change == review_limit - base_review, act.code
        assert act.score_points > 0 or act.policy_limit_change > 0 or act.review_limit_change > 0
    codes = [a.code for a in advice.actions]
    assert "complete_profile" in codes and "lower_utilisation" in codes
    ranked = [(a.review_limit_change, a.policy_limit_change, a.score_points) for a in advice.actions]
    assert ranked == sorted(ranked, reverse=True)

    profile = next(a for a in en["actions"] if a["code"] == "complete_profile")
    assert set(profile["data"]["items"]) >= {"education", "occupation", "credit_authorised"}
    assert profile["message"].startswith("Complete your profile: ") and "your education" in profile["message"]
    assert profile["effect"].startswith("Estimated effect: ")
    zh_profile = next(a for a in zh["actions"] if a["code"] == "complete_profile")
    assert zh_profile["message"].startswith("完善个人资料：") and "学历" in zh_profile["message"]
    assert zh_profile["effect"].startswith("预计效果：")
    utilisation = next(a for a in en["actions"] if a["code"] == "lower_utilisation")
    assert utilisation["data"]["repay"] == "650.00" and "repay 650.00 yuan" in utilisation["message"]
    assert en["next_review"] == "2026-12-02" and "December 2, 2026" in " ".join(en["summary"])
    assert "2026年12月2日" in "".join(zh["summary"])


def test_a_raise_shows_its_amount_and_review_date_and_nothing_useless_is_shown(s):
    uid = good_user(s, "good")
    acct = onboarding.open_account(s, user_id=uid, base_limit=yuan("1000.00"))["account_id"]
    advice = diagnosis.limit_advice(s, acct, "en")
    assert "complete_profile" not in [a["code"] for a in advice["actions"]]  # already complete: no effect
    assert yuan(advice["policy_limit"]) > yuan("1000.00")
    assert any("it would rise to" in line for line in advice["summary"])
    for a in advice["actions"]:
        assert a["score_points"] > 0 or yuan(a["policy_limit_change"]) > 0 or yuan(a["review_limit_change"]) > 0


def test_the_first_seeds_warnings_come_with_their_evidence(s):
    uid = good_user(s, "busy")
    acct = onboarding.open_account(s, user_id=uid, base_limit=yuan("1000.00"))["account_id"]
    limits.apply_for_raise(s, acct)
    admin.set_business_date(s, D(2026, 11, 5))
    limits.apply_for_raise(s, acct)  # too frequent: declined, and it counts
    accounts.grant_temporary_limit(s, acct, amount=yuan("500.00"), expires_on=D(2026, 12, 1))
    line = accounts.account_view(s, acct)
    bought = buy(s, acct, line["available"], merchant="m-cash").body
    restrictions.place_restriction(
        s, acct, cause="cash_out_suspected", evidence={"purchase_ids": [bought["purchase_id"]]}
    )
    en = diagnosis.limit_advice(s, acct, "en")
    zh = diagnosis.limit_advice(s, acct, "zh_CN")
    warnings = {w["code"]: w for w in en["warnings"]}
    assert set(warnings) == {"frequent_raise_applications", "temporary_limit_overspent", "cash_out_suspected_pattern"}
    apps = warnings["frequent_raise_applications"]
    assert apps["data"]["count"] == 2 and len(apps["evidence"]) == 2
    assert "2 times in the last 90 days" in apps["message"]
    assert apps["evidence"][0].startswith("Application on November 5, 2026")
    over = warnings["temporary_limit_overspent"]
    assert over["evidence"] and "on the temporary limit" in over["evidence"][0]
    cash = warnings["cash_out_suspected_pattern"]
    spent = render.money(line["available"], "en")
    assert cash["evidence"] == [f"Purchase {bought['purchase_id']}: {spent} yuan at m-cash on November 5, 2026."]
    zh_codes = {w["code"]: w for w in zh["warnings"]}
    assert "频繁申请" in zh_codes["frequent_raise_applications"]["message"]
    assert en["raise_blocked_by"][:1] == ["raise_blocked_frozen"]
    assert any(line.startswith("No raise is possible for now:") for line in en["summary"])


LIMIT_FACTORS = {
    # held-down code: (English evidence, Chinese evidence)
    "limit_score_band": ("Credit score ", "信用分"),
    "low_income": ("No monthly income is on file.", "资料中没有月收入。"),
    "low_assets": ("No savings or fund balances are on file.", "没有存款或基金余额记录。"),
    "low_activity": ("Payments with the app in the last 90 days: 1.", "近90天用支付宝付款1次。"),
    "short_credit_history": ("Credit history: 0 months.", "信用记录时长：0个月。"),
    "incomplete_profile": ("Profile: 1 of 7 items complete; missing: ", "个人资料：7项中已完成1项；还缺"),
    "few_scenarios": ("Kinds of places paid with Huabei in the last 90 days: 1.", "近90天用花呗付款的场景：1种。"),
}


def test_each_limit_factor_is_named_with_its_evidence_and_remedy_in_both_languages(s):
    acct = new_account(s, yuan("1000.00"))  # a verified user with nothing else on file
    buy(s, acct, yuan("10.00"))
    en = {f["code"]: f for f in diagnosis.limit_advice(s, acct, "en")["held_down_by"]}
    zh = {f["code"]: f for f in diagnosis.limit_advice(s, acct, "zh_CN")["held_down_by"]}
    assert set(LIMIT_FACTORS) <= set(en)
    for code, (en_text, zh_text) in LIMIT_FACTORS.items():
        assert en[code]["evidence"].startswith(en_text), (code, en[code]["evidence"])
        assert zh[code]["evidence"].startswith(zh_text), (code, zh[code]["evidence"])
        assert en[code]["message"] and en[code]["remedy"] and zh[code]["remedy"] != en[code]["remedy"]
    assert en["low_income"]["multiplier"] == "0.800" and en["low_income"]["data"] == {"monthly_income": None}
    band = en["limit_score_band"]["data"]["band"]
    assert f"“{BAND_NAMES[band]}”" in en["limit_score_band"]["evidence"] and band != "excellent"
