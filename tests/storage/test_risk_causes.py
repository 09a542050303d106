"""The causes the default risk policy detects and lifts, each created through normal use (never
placed by hand), on SQLite and PostgreSQL: the decline code, the evidence, the remedy followed,
and the line working again when the rule says so."""

from __future__ import annotations

import datetime as dt

import pytest
from tests.conftest import buy, make_system, new_account

from huabei.batch import eod
from huabei.billing import service as billing
from huabei.errors import HuabeiError
from huabei.lines import service as accounts
from huabei.payments import service as payments
from huabei.restrictions import service as restrictions
from huabei.risk import evaluation

D = dt.date


@pytest.fixture
def s(db_url):
    system = make_system(db_url, start=D(2026, 10, 25))
    yield system
    system.engine.dispose()


def declined(system, account_id: int, amount: int = 100, **kw) -> HuabeiError:
    with pytest.raises(HuabeiError) as e:
        buy(system, account_id, amount, **kw)
    return e.value


def active(system, account_id: int) -> list[dict]:
    return accounts.account_view(system, account_id)["restrictions"]


def test_overdue_is_reported_frozen_and_lifts_after_the_graded_cooloff(s) -> None:
    acct = new_account(s, 500_000)
    eod.run_eod(s, until=D(2026, 10, 25))
    buy(s, acct, 100_000)
    eod.run_eod(s, until=D(2026, 11, 13))  # due 11-10: 3 days late, within the grace days
    assert declined(s, acct).code == "account_overdue" and active(s, acct) == []
    eod.run_eod(s, until=D(2026, 12, 15))  # 35 days late: reported, frozen by overdue_this_line
    (r,) = active(s, acct)
    assert r["cause"] == "overdue_reported"
    ev = r["evidence"]
    assert ev["rule_id"] == "overdue_this_line" and ev["policy_version"] == "2026.11-default"
    assert ev["severity"] == "hard" and ev["inputs"]["dpd_now"] == 4  # placed on 11-15, read as of 11-14
    assert ev["ids"]["bills"] and ev["bill_ids"] == ev["ids"]["bills"]
    e = declined(s, acct)
    assert (e.code, e.params["cause"]) == ("account_frozen", "overdue_reported")
    # a hard restriction: no agent lifts it early
    with pytest.raises(HuabeiError) as refused:
        restrictions.lift_restriction(s, r["restriction_id"], reason="customer_called")
    assert refused.value.code == "restriction_hard"
    # repaid after 35 days: the cool-off of 31-90 days late (90 days) runs from the repayment
    payments.repay(s, acct, billing.billing_status(s, acct)["owed"], "pay-all")
    assert active(s, acct) and declined(s, acct).code == "account_frozen"
    # limit raises wait for the same cool-off: the frozen line's application is declined
    from huabei.limits import service as limits

    application = limits.apply_for_raise(s, acct)
    assert application["decision"] == "declined"
    assert application["reasons"][0]["code"] == "raise_blocked_frozen"
    eod.run_eod(s, until=D(2027, 3, 15))  # read as of 3-14: 89 days after the repayment of 12-15
    assert active(s, acct)
    eod.run_eod(s, until=D(2027, 3, 16))
    assert active(s, acct) == []
    assert buy(s, acct, 100).status == 201
    lifted = [d for d in _decisions(s, acct) if d["action"] == "lift"]
    assert lifted and lifted[0]["evidence"]["inputs"]["days_since_overdue_cleared"] == 90
    assert lifted[0]["evidence"]["inputs"]["worst_dpd_12m"] == 35


def _decisions(system, account_id: int) -> list[dict]:
    with system.uow(readonly=True) as uow:
        return evaluation.decisions_for(uow, account_id)


def test_cash_out_round_amounts_hold_and_lift_by_themselves(s) -> None:
    acct = new_account(s, 1_000_000)
    eod.run_eod(s, until=D(2026, 10, 25))
    ids = [buy(s, acct, 50_000, merchant="m-ring").body["purchase_id"] for _ in range(5)]
    payments.repay(s, acct, billing.billing_status(s, acct)["owed"], "ring-repaid")  # cash-out, not overdue
    eod.run_eod(s, until=D(2026, 10, 26))
    (r,) = active(s, acct)
    assert r["cause"] == "cash_out_suspected" and r["evidence"]["rule_id"] == "cash_out_round_amounts"
    assert r["evidence"]["purchase_ids"] == ids and r["evidence"]["inputs"]["round_purchases_one_merchant_30d"] == 5
    review = s.terms.restrictions.cash_out_review_days
    assert r["lifts_on"] == (D(2026, 10, 26) + dt.timedelta(days=review)).isoformat()
    assert r["evidence"]["last_flagged_on"] == "2026-10-26"
    assert declined(s, acct).params["cause"] == "cash_out_suspected"
    # soft: an agent may lift it early, with a reason (the rule places it again while the signal holds)
    with pytest.raises(HuabeiError) as e:
        restrictions.lift_restriction(s, r["restriction_id"])
    assert e.value.code == "lift_reason_required"
    # the signal holds while the purchases are in the 30-day window: the hold runs from the last signal
    last_signal = D(2026, 10, 25) + dt.timedelta(days=30)  # read as of 11-23: the window still holds them
    eod.run_eod(s, until=last_signal + dt.timedelta(days=review - 1))
    assert active(s, acct)
    eod.run_eod(s, until=last_signal + dt.timedelta(days=review))
    assert active(s, acct) == []
    assert buy(s, acct, 12_345, merchant="m-1").status == 201


def test_maxing_out_a_raise_is_a_cash_out_signal_but_spending_a_new_line_is_not(s) -> None:
    acct = new_account(s, 100_000)
    eod.run_eod(s, until=D(2026, 10, 25))
    buy(s, acct, 95_000)  # a new line spent at once: the opening is no raise
    payments.repay(s, acct, billing.billing_status(s, acct)["owed"], "new-line-repaid")
    eod.run_eod(s, until=D(2026, 10, 26))
    assert active(s, acct) == []
    accounts.set_base_limit(s, acct, base_limit=200_000)
    ids = [buy(s, acct, 95_000).body["purchase_id"], buy(s, acct, 90_000).body["purchase_id"]]
    eod.run_eod(s, until=D(2026, 10, 27))
    (r,) = active(s, acct)
    assert r["cause"] == "cash_out_suspected" and r["evidence"]["rule_id"] == "cash_out_max_after_raise"
    assert r["evidence"]["inputs"]["limit_spent_pct_7d_after_raise"] == 92 and r["evidence"]["purchase_ids"] == ids


def test_inactivity_reclaims_the_limit_and_activity_restores_it(s) -> None:
    acct = new_account(s, 300_000)
    days = s.terms.restrictions.inactivity_days
    eod.run_eod(s, until=D(2026, 10, 25) + dt.timedelta(days=days + 1))  # read as of the day before
    (r,) = active(s, acct)
    assert r["cause"] == "inactive_account" and r["evidence"]["last_purchase_on"] == "2026-10-25"
    e = declined(s, acct)
    assert (e.code, e.params["cause"]) == ("account_frozen", "inactive_account")
    # the declined attempt is activity: the next review (end of day) restores the line
    eod.run_eod(s, until=D(2026, 10, 27) + dt.timedelta(days=days))
    assert active(s, acct) == [] and buy(s, acct, 100).status == 201


def test_device_churn_freezes_inline_and_reverification_lifts(s) -> None:
    acct = new_account(s, 300_000)
    eod.run_eod(s, until=D(2026, 10, 25))
    buy(s, acct, 1_000, device="dev-a")
    buy(s, acct, 1_000, device="dev-b")
    assert active(s, acct) == []
    third = buy(s, acct, 1_000, device="dev-c")  # the purchase that trips it stands …
    assert third.status == 201
    (r,) = active(s, acct)  # … the line is frozen inside its transaction
    assert r["cause"] == "account_takeover_suspected" and r["evidence"]["run"] == "inline"
    assert r["evidence"]["inputs"]["distinct_devices_7d"] == 3
    assert declined(s, acct, device="dev-d").params["cause"] == "account_takeover_suspected"


def test_the_threshold_placeholder_is_rendered_in_both_languages(s) -> None:
    from fastapi.testclient import TestClient
    from tests.api.conftest import admin_headers

    from huabei.entrypoints.http.app import create_app

    acct = new_account(s, 300_000)
    restrictions.place_restriction(s, acct, cause="score_below_threshold", actor="agent")
    with TestClient(create_app(s)) as client:
        (r,) = client.get(f"/v1/accounts/{acct}", headers=admin_headers(s)).json()["restrictions"]
    threshold = str(s.terms.scoring.opening_threshold)
    assert threshold in r["message"] and threshold in r["message_zh"]
    assert "{" not in r["message"] + r["message_zh"]
    e = declined(s, acct)
    assert e.params["threshold"] == s.terms.scoring.opening_threshold


GOOD_FACTS = {
    "on_time_repayment_ratio": 100,
    "max_days_overdue_12m": 0,
    "overdue_episodes_12m": 0,
    "credit_history_months": 60,
    "active_days_90d": 80,
    "utility_payments_12m": 24,
    "monthly_income": 2_000_000,
    "income_verified": True,
    "assets": 50_000_000,
    "id_document_valid": True,
    "bank_card_bound": True,
    "contact_details_complete": True,
    "credit_authorised": True,
    "verified_contacts": 10,
    "contacts_good_standing_ratio": 90,
}
BAD_FACTS = {
    "max_days_overdue_12m": 365,
    "overdue_episodes_12m": 12,
    "on_time_repayment_ratio": 0,
    "assets": None,
    "monthly_income": None,
    "income_verified": False,
    "active_days_90d": 0,
    "utility_payments_12m": 0,
    "verified_contacts": 0,
    "contacts_good_standing_ratio": 0,
    "id_document_valid": False,
}


def test_a_rescore_below_the_threshold_freezes_and_the_rescore_back_above_lifts(s) -> None:
    from huabei.scoring import service as scoring

    acct = new_account(s, 300_000)
    user = accounts.account_view(s, acct)["user_id"]
    threshold = s.terms.scoring.opening_threshold
    eod.run_eod(s, until=D(2026, 10, 25))
    scoring.post_facts(s, user, GOOD_FACTS)
    assert scoring.refresh_user(s, user)["score"] >= threshold
    eod.run_eod(s, until=D(2026, 10, 26))
    assert active(s, acct) == []
    scoring.post_facts(s, user, BAD_FACTS)
    low = scoring.refresh_user(s, user)["score"]
    assert low < threshold
    assert buy(s, acct, 100).status == 201  # today's rescore is read by the next end of day
    eod.run_eod(s, until=D(2026, 10, 27))
    (r,) = active(s, acct)
    assert r["cause"] == "score_below_threshold" and r["evidence"]["rule_id"] == "score_below_threshold"
    assert (r["evidence"]["score"], r["evidence"]["threshold"]) == (low, threshold)
    e = declined(s, acct)
    assert (e.code, e.params["cause"], e.params["threshold"]) == ("account_frozen", "score_below_threshold", threshold)
    scoring.post_facts(s, user, GOOD_FACTS)
    assert scoring.refresh_user(s, user)["score"] >= threshold
    eod.run_eod(s, until=D(2026, 10, 28))
    assert active(s, acct) == [] and buy(s, acct, 100).status == 201


def test_a_colluding_merchant_holds_the_ring_members_below_the_round_amount_threshold(s) -> None:
    """Merchants where many flagged users spend: two ring members caught by their round amounts make
    the merchant suspect; a third member with only two round amounts there is held the next day,
    with those purchases as evidence; an honest line buying round amounts at a busy merchant one
    flagged line also uses is not; the hold lifts by itself once the signal is gone."""
    ring = [new_account(s, 1_000_000) for _ in range(3)]
    honest = [new_account(s, 1_000_000) for _ in range(4)]
    eod.run_eod(s, until=D(2026, 10, 25))
    for acct in ring[:2]:
        for _ in range(5):
            buy(s, acct, 50_000, merchant="m-colluding")
        buy(s, acct, 30_000, merchant="m-mall")  # the caught members also shop at a busy mall
    third = [buy(s, ring[2], 80_000, merchant="m-colluding").body["purchase_id"] for _ in range(2)]
    for acct in honest:
        for _ in range(2):
            buy(s, acct, 20_000, merchant="m-mall")
    for acct in ring + honest:
        payments.repay(s, acct, billing.billing_status(s, acct)["owed"], f"repaid-{acct}")
    eod.run_eod(s, until=D(2026, 10, 26))  # the two members with five round amounts each
    assert [r["evidence"]["rule_id"] for a in ring[:2] for r in active(s, a)] == ["cash_out_round_amounts"] * 2
    assert active(s, ring[2]) == [] and all(active(s, a) == [] for a in honest)
    eod.run_eod(s, until=D(2026, 10, 27))  # features as of 10-26: the two are flagged now
    (r,) = active(s, ring[2])
    assert r["cause"] == "cash_out_suspected" and r["evidence"]["rule_id"] == "cash_out_flagged_merchant"
    assert r["evidence"]["inputs"] == {"flagged_share_at_merchant_30d": 1000, "round_purchases_one_merchant_30d": 2}
    assert r["evidence"]["purchase_ids"] == third
    assert declined(s, ring[2]).params["cause"] == "cash_out_suspected"
    # the mall: 2 flagged of the 5 other round-amount buyers (400 per mille) — no hold for honest lines
    with s.engine.connect() as conn:
        v = evaluation.features.compute(conn, ["flagged_share_at_merchant_30d"], D(2026, 10, 26))
    assert {v[a]["flagged_share_at_merchant_30d"] for a in honest} == {400}
    assert all(active(s, a) == [] for a in honest)
    # no new signal once the purchases leave the 30-day window: the hold lifts after the review days
    review = s.terms.restrictions.cash_out_review_days
    last_signal = D(2026, 10, 25) + dt.timedelta(days=30)
    eod.run_eod(s, until=last_signal + dt.timedelta(days=review))
    assert active(s, ring[2]) == []
    assert buy(s, ring[2], 12_345, merchant="m-1").status == 201


def test_score_brushing_holds_and_lifts_by_itself(s) -> None:
    """刷分: a burst of tiny purchases across five scenarios, then a raise application; the next end
    of day holds the line for score brushing with the tiny purchases as evidence; it lifts by
    itself ``score_brushing_review_days`` after the last signal."""
    from huabei.limits import service as limits

    acct = new_account(s, 1_000_000)
    eod.run_eod(s, until=D(2026, 10, 25))
    tiny = [
        buy(s, acct, 100 + i * 50, merchant=f"m-tiny-{i}", category=c).body["purchase_id"]
        for i, c in enumerate(["retail", "dining", "travel", "groceries", "transport"])
    ]
    limits.apply_for_raise(s, acct)
    payments.repay(s, acct, billing.billing_status(s, acct)["owed"], "tiny-repaid")
    eod.run_eod(s, until=D(2026, 10, 26))
    (r,) = active(s, acct)
    assert r["cause"] == "score_brushing_suspected" and r["evidence"]["rule_id"] == "score_brushing_tiny_bursts"
    assert r["evidence"]["inputs"] == {"tiny_purchase_categories_7d": 5, "raise_applications_30d": 1}
    assert r["evidence"]["purchase_ids"] == tiny
    assert declined(s, acct).params["cause"] == "score_brushing_suspected"
    # the burst leaves the 7-day window: the last signal is read as of 10-31 (the run of 11-01)
    review = s.terms.restrictions.score_brushing_review_days
    last_signal = D(2026, 11, 1)
    eod.run_eod(s, until=last_signal + dt.timedelta(days=review - 1))
    assert active(s, acct)
    eod.run_eod(s, until=last_signal + dt.timedelta(days=review))
    assert active(s, acct) == []
    assert buy(s, acct, 12_345, merchant="m-1").status == 201
