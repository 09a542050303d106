"""The limit policy, the re-evaluation rules, raise campaigns and the explained batch scoring — pure."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from huabei.config import CampaignTerms, LimitTerms, ProductTerms
from huabei.limits import campaigns as dc
from huabei.limits import policy as lp
from huabei.scoring.default_card import DEFAULT_SCORECARD
from huabei.scoring.facts import FACTS, POLICY_FACTS

LT = LimitTerms()

#: A user with average everything (six of the seven profile items): every multiplier 1.0.
AVERAGE = {
    "monthly_income": 400_000,
    "income_verified": True,
    "assets": 200_000,
    "payments_90d": 20,
    "credit_history_months": 15,
    "merchant_categories_90d": 5,
    "real_name_verified": True,
    "id_document_valid": True,
    "bank_card_bound": True,
    "education": "bachelor",
    "occupation": "employee",
    "contact_details_complete": True,
    "credit_authorised": False,
}


def limit(score: int = 620, **changes) -> int:
    return lp.propose_base_limit(score, {**AVERAGE, **changes}, LT).limit


# --------------------------------------------------------------------------- the base limit


def test_an_average_good_user_gets_the_band_amount():
    p = lp.propose_base_limit(620, AVERAGE, LT)
    assert p.band == "good" and p.band_amount == 300_000
    assert set(p.multipliers.values()) == {1000}
    assert p.limit == 300_000
    assert p.held_down == ("limit_score_band",) and p.pushed_up == ()


@pytest.mark.parametrize(
    "fact, worse, better",
    [
        # 履约能力 / capacity: income, verified income, assets (投资理财)
        ("monthly_income", 200_000, 1_500_000),
        ("monthly_income", None, 700_000),
        ("income_verified", False, True),
        ("assets", 10_000, 30_000_000),
        ("assets", None, 2_000_000),
        # activity (使用频率), history length, completeness, scenario diversity
        ("payments_90d", 2, 60),
        ("credit_history_months", 3, 60),
        ("bank_card_bound", False, True),
        ("real_name_verified", None, True),
        ("education", None, "master"),
        ("occupation", None, "self_employed"),
        ("contact_details_complete", False, True),
        ("credit_authorised", False, True),
        ("merchant_categories_90d", 1, 8),
    ],
)
def test_each_policy_factor_moves_the_limit_in_its_direction(fact, worse, better):
    base = {**AVERAGE, "credit_authorised": True}  # all seven items: any missing one costs
    lo = lp.propose_base_limit(620, {**base, fact: worse}, LT).limit
    hi = lp.propose_base_limit(620, {**base, fact: better}, LT).limit
    assert lo < hi, fact


def test_a_higher_score_band_gives_a_higher_limit():
    limits = [limit(s) for s in (400, 560, 620, 660, 760)]
    assert limits == sorted(limits) and len(set(limits)) == 5


def test_held_down_and_pushed_up_reasons_name_the_factors():
    weak = lp.propose_base_limit(
        620, {**AVERAGE, "monthly_income": 100_000, "payments_90d": 1, "merchant_categories_90d": 1}, LT
    )
    assert weak.held_down[0] == "limit_score_band"
    assert set(weak.held_down) == {"limit_score_band", "low_income", "low_activity", "few_scenarios"}
    # ordered by cost: income 0.8 and activity 0.8 before scenarios 0.85
    assert weak.held_down.index("few_scenarios") > weak.held_down.index("low_income")
    strong = lp.propose_base_limit(800, {**AVERAGE, "monthly_income": 3_000_000, "assets": 30_000_000}, LT)
    assert {"high_score_band", "strong_income", "substantial_assets"} <= set(strong.pushed_up)


def test_bounds_step_and_clamp_reasons():
    rich = {
        **AVERAGE,
        "monthly_income": 9_000_000,
        "assets": 90_000_000,
        "payments_90d": 90,
        "credit_history_months": 90,
        "merchant_categories_90d": 9,
        "contact_details_complete": True,
        "credit_authorised": True,
    }
    top = lp.propose_base_limit(950, rich, LimitTerms(max_base_limit=2_000_000))
    assert top.limit == 2_000_000 and "limit_at_maximum" in top.held_down
    bottom = lp.propose_base_limit(350, {}, LT)
    assert bottom.limit == LT.min_base_limit and "limit_at_minimum" in bottom.pushed_up
    for s in range(350, 951, 37):
        assert limit(s) % LT.limit_step == 0


def test_no_float_on_the_money_path():
    terms = LimitTerms(income_multipliers=((0, Decimal("0.333")), (500_000, Decimal("1.777"))))
    p = lp.propose_base_limit(700, {**AVERAGE, "monthly_income": 600_000}, terms)
    assert isinstance(p.limit, int) and p.multipliers["income"] == 1777
    # sequential floor division: 1,200,000 × 1.777 → 2,132,400 → steps of 100 yuan
    assert p.limit == 2_130_000


def test_unverified_income_counts_at_its_share():
    assert lp.effective_income(800_000, False, LT) == 400_000
    assert lp.effective_income(800_000, True, LT) == 800_000
    assert lp.effective_income(None, True, LT) is None


def test_policy_version_fits_the_column_and_follows_the_terms():
    v = lp.policy_version(LT)
    assert v.startswith("limit-v1-") and len(v) <= 32
    assert lp.policy_version(LimitTerms(max_raise_ratio=Decimal("0.4"))) != v
    assert lp.policy_version(LimitTerms()) == v


@pytest.mark.parametrize(
    "table",
    [
        ((1, Decimal("1")),),  # does not start at 0
        ((0, Decimal("1")), (0, Decimal("1.1"))),  # not increasing
        ((0, Decimal("1.0001")),),  # more than three decimals
        ((0, Decimal("0")),),  # not positive
    ],
)
def test_multiplier_tables_are_validated(table):
    with pytest.raises(ValidationError):
        LimitTerms(income_multipliers=table)
    with pytest.raises(ValidationError):
        LimitTerms(max_raise_ratio=0.5)  # a binary float


def _columns(rows):
    cols = {}
    for spec in (*FACTS, *POLICY_FACTS):
        values = [r.get(spec.name) for r in rows]
        if spec.type is str:
            cols[spec.name] = np.array(values, dtype=object)
        else:
            mask = np.array([v is None for v in values])
            data = np.array([0 if v is None else v for v in values], dtype=bool if spec.type is bool else np.int64)
            cols[spec.name] = np.ma.masked_array(data, mask=mask)
    return cols


fact_rows = st.fixed_dictionaries(
    {
        "monthly_income": st.one_of(st.none(), st.integers(0, 5_000_000)),
        "income_verified": st.one_of(st.none(), st.booleans()),
        "assets": st.one_of(st.none(), st.integers(0, 50_000_000)),
        "payments_90d": st.one_of(st.none(), st.integers(0, 100)),
        "credit_history_months": st.one_of(st.none(), st.integers(0, 100)),
        "merchant_categories_90d": st.one_of(st.none(), st.integers(0, 12)),
        "real_name_verified": st.one_of(st.none(), st.booleans()),
        "bank_card_bound": st.one_of(st.none(), st.booleans()),
        "education": st.one_of(st.none(), st.sampled_from(["bachelor", "primary"])),
        "occupation": st.one_of(st.none(), st.just("employee")),
        "credit_authorised": st.one_of(st.none(), st.booleans()),
    }
)


@settings(max_examples=60, deadline=None)
@given(rows=st.lists(st.tuples(st.integers(350, 950), fact_rows), min_size=1, max_size=25))
def test_batch_policy_equals_the_scalar_policy(rows):
    scores = np.array([s for s, _ in rows])
    batch = lp.propose_batch(scores, _columns([f for _, f in rows]), LT)
    for i, (s, facts) in enumerate(rows):
        p = lp.propose_base_limit(s, facts, LT)
        assert int(batch.limit[i]) == p.limit
        assert batch.band(i) == p.band
        assert batch.reasons(i, LT) == (p.held_down, p.pushed_up)


# --------------------------------------------------------------------------- re-evaluation


def proposal(limit_fen: int) -> lp.LimitProposal:
    return lp.LimitProposal(
        limit=limit_fen,
        band="good",
        band_amount=300_000,
        multipliers={},
        held_down=("low_activity",),
        pushed_up=("strong_income",),
        version="v",
    )


def test_a_raise_needs_the_threshold_and_is_capped_per_review():
    assert lp.review(500_000, 0, proposal(540_000), None, LT).action == "none"  # +8 % < 10 %
    r = lp.review(500_000, 0, proposal(560_000), None, LT)
    assert (r.action, r.new_limit, r.reasons) == ("raise", 560_000, ("periodic_review_raise", "strong_income"))
    r = lp.review(500_000, 0, proposal(2_000_000), None, LT)
    assert r.new_limit == 750_000 and r.reasons[-1] == "raise_step_capped"


@pytest.mark.parametrize(
    "block, reasons",
    [
        ("account_overdue", ("raise_blocked_overdue",)),
        ("account_frozen:operator_hold", ("raise_blocked_frozen", "operator_hold")),
    ],
)
def test_never_a_raise_while_overdue_or_frozen(block, reasons):
    r = lp.review(500_000, 0, proposal(900_000), block, LT)
    assert r.action == "none" and r.new_limit == 500_000 and r.reasons == reasons


def test_a_cut_needs_the_threshold_is_capped_and_never_goes_below_used():
    assert lp.review(1_000_000, 0, proposal(850_000), None, LT).action == "none"  # −15 % < 20 %
    r = lp.review(1_000_000, 0, proposal(750_000), None, LT)
    assert (r.action, r.new_limit) == ("cut", 750_000) and r.reasons == ("periodic_review_cut", "low_activity")
    r = lp.review(1_000_000, 0, proposal(100_000), None, LT)
    assert r.new_limit == 700_000  # at most 30 % per review
    r = lp.review(1_000_000, 912_345, proposal(100_000), None, LT)
    assert r.new_limit == 920_000 and r.reasons[-1] == "cut_limited_to_used"  # used, up to the step
    r = lp.review(1_000_000, 1_000_000, proposal(100_000), None, LT)
    assert r.action == "none" and r.new_limit == 1_000_000  # fully used: nothing to cut
    r = lp.review(1_000_000, 1_200_000, proposal(100_000), None, LT)  # spent a temporary limit too
    assert r.action == "none"


def test_no_raise_while_more_than_the_base_limit_is_used():
    r = lp.review(500_000, 600_000, proposal(900_000), None, LT)
    assert r.action == "none" and r.reasons == ("raise_blocked_over_limit",)
    assert lp.review(500_000, 500_000, proposal(900_000), None, LT).action == "raise"


def test_a_cut_may_happen_while_overdue_and_cash_out_cuts_at_every_review():
    r = lp.review(1_000_000, 0, proposal(500_000), "account_overdue", LT)
    assert r.action == "cut" and r.new_limit == 700_000
    r = lp.review(1_000_000, 0, proposal(1_500_000), "account_frozen:cash_out_suspected", LT)
    assert (
        r.action == "cut" and r.new_limit == 700_000 and r.reasons[:2] == ("periodic_review_cut", "cash_out_suspected")
    )
    r = lp.review(60_000, 0, proposal(1_500_000), "account_frozen:cash_out_suspected", LT)
    assert r.new_limit == LT.min_base_limit  # never below the product's minimum
    assert lp.review(50_000, 0, proposal(1_500_000), "account_frozen:cash_out_suspected", LT).action == "none"


@settings(max_examples=200, deadline=None)
@given(
    current=st.integers(5, 500).map(lambda x: x * 10_000),
    used=st.integers(0, 6_000_000),
    target=st.integers(5, 500).map(lambda x: x * 10_000),
    blocked=st.booleans(),
)
def test_review_invariants(current, used, target, blocked):
    r = lp.review(current, used, proposal(target), "account_overdue" if blocked else None, LT)
    if r.action == "raise":
        assert not blocked and used <= current < r.new_limit <= target
    if r.action == "cut":
        assert r.new_limit < current and r.new_limit >= min(current, used) and r.new_limit >= target
    if r.action == "none":
        assert r.new_limit == current
    assert r.new_limit % LT.limit_step == 0 or r.new_limit == current


def test_application_raise_is_capped_and_respects_the_request():
    p = proposal(2_000_000)
    assert lp.application_raise(500_000, p, LT) == (750_000, True)
    assert lp.application_raise(500_000, p, LT, requested=612_345) == (610_000, True)
    assert lp.application_raise(500_000, proposal(400_000), LT)[0] <= 500_000


def test_temporary_rewards_stack_on_a_live_grant():
    today = dt.date(2026, 11, 10)
    assert lp.stack_temporary(0, None, today, 100_000, 30, LT) == (100_000, dt.date(2026, 12, 10))
    assert lp.stack_temporary(50_000, dt.date(2027, 1, 1), today, 100_000, 30, LT) == (150_000, dt.date(2027, 1, 1))
    assert lp.stack_temporary(50_000, dt.date(2026, 11, 10), today, 100_000, 30, LT) == (100_000, dt.date(2026, 12, 10))
    assert lp.stack_temporary(4_990_000, dt.date(2027, 1, 1), today, 100_000, 200, LT)[0] == LT.max_temporary_limit


# --------------------------------------------------------------------------- campaigns

CAMPAIGN = CampaignTerms(
    code="c",
    title="t",
    title_zh="t",
    starts_on=dt.date(2026, 11, 1),
    ends_on=dt.date(2026, 11, 30),
    payments=3,
    days=10,
    categories=2,
    reward_kind="temporary",
    reward_amount=10_000,
    reward_days=30,
    min_score=600,
)


def test_campaign_enrolment_rules():
    assert dc.enrolment_refusal(CAMPAIGN, dt.date(2026, 10, 31), 700, False)[0] == "campaign_not_open"
    assert dc.enrolment_refusal(CAMPAIGN, dt.date(2026, 12, 1), 700, False)[0] == "campaign_not_open"
    assert dc.enrolment_refusal(CAMPAIGN, dt.date(2026, 11, 5), 700, True)[0] == "campaign_already_joined"
    assert dc.enrolment_refusal(CAMPAIGN, dt.date(2026, 11, 5), 590, False)[0] == "campaign_score_too_low"
    assert dc.enrolment_refusal(CAMPAIGN, dt.date(2026, 11, 5), 600, False) is None
    assert dc.window_end(CAMPAIGN, dt.date(2026, 11, 5)) == dt.date(2026, 11, 15)


def test_campaign_settlement():
    ends = dt.date(2026, 11, 15)
    done = dc.Progress(payments=3, categories=2, required_payments=3, required_categories=2)
    half = dc.Progress(payments=5, categories=1, required_payments=3, required_categories=2)
    assert dc.settle(done, dt.date(2026, 11, 7), ends) is dc.EnrolmentStatus.COMPLETED
    assert dc.settle(half, dt.date(2026, 11, 13), ends) is dc.EnrolmentStatus.IN_PROGRESS
    assert dc.settle(half, dt.date(2026, 11, 14), ends) is dc.EnrolmentStatus.EXPIRED


def test_campaign_terms_are_validated():
    with pytest.raises(ValidationError):
        CampaignTerms(code="x", title="t", title_zh="t", payments=1, days=1, reward_kind="temporary", reward_amount=1)
    with pytest.raises(ValidationError):
        ProductTerms.model_validate({"raises": {"campaigns": [CAMPAIGN.model_dump(), CAMPAIGN.model_dump()]}})


# --------------------------------------------------------------------------- explained batch scoring

values = {
    spec.name: (
        st.one_of(st.none(), st.sampled_from(spec.values))
        if spec.type is str
        else st.one_of(st.none(), st.booleans())
        if spec.type is bool
        else st.one_of(st.none(), st.integers(spec.minimum or 0, spec.maximum or 3_000_000))
    )
    for spec in FACTS
}


@settings(max_examples=40, deadline=None)
@given(rows=st.lists(st.fixed_dictionaries(values), min_size=1, max_size=30))
def test_explained_batch_scoring_gives_the_scalar_scores_and_reasons(rows):
    out = DEFAULT_SCORECARD.score_batch_explained(_columns(rows))
    lists = out.reason_lists()
    for i, facts in enumerate(rows):
        r = DEFAULT_SCORECARD.score(facts)
        assert int(out.scores[i]) == r.score
        assert {d: int(v[i]) for d, v in out.dimensions.items()} == r.dimensions
        assert tuple(lists[i]) == r.reasons == out.reasons_of(i)


def test_reviews_wait_for_seasoning_and_a_cool_off_after_a_change():
    days_open = np.array([10, 89, 90, 400, 400, 400])
    since = np.array([-1, -1, -1, 5, 30, -1])
    assert lp.review_due(days_open, since, LT).tolist() == [False, False, True, False, True, True]
    assert lp.not_due_reason(10, -1, LT) == "line_too_new"
    assert lp.not_due_reason(400, 5, LT) == "limit_recently_changed"
    assert lp.not_due_reason(400, 30, LT) is None
    r = lp.review(500_000, 0, proposal(900_000), None, LT, not_due="line_too_new")
    assert (r.action, r.new_limit, r.reasons) == ("none", 500_000, ("line_too_new",))
    out = lp.review_batch(
        np.array([500_000, 500_000]),
        np.array([0, 0]),
        np.array([900_000, 900_000]),
        np.array([False, False]),
        np.array([False, False]),
        LT,
        due=np.array([False, True]),
    )
    assert out.action.tolist() == [lp.NONE, lp.RAISE]


def test_the_scalar_due_rule_is_the_batch_one_row_by_row():
    days_open = np.array([0, 89, 90, 91, 400, 400, 400, 400])
    since = np.array([-1, 5, -1, 0, 29, 30, -1, 1000])
    due = lp.review_due(days_open, since, LT)
    for i in range(len(days_open)):
        reason = lp.not_due_reason(int(days_open[i]), int(since[i]), LT)
        assert (reason is None) == bool(due[i])
        assert reason == lp.NOT_DUE_REASONS[int(lp.not_due_codes(days_open, since, LT)[i])]


def test_opening_declines_state_the_opening_rules():
    from huabei.config import ScoringTerms

    st_ = ScoringTerms()
    ok = {"real_name_verified": True, "id_document_valid": None, "max_days_overdue_12m": 0}
    assert lp.opening_declines(st_.opening_threshold, ["low_income"], ok, False, [], st_) == ()
    worst = {
        "real_name_verified": None,
        "id_document_valid": False,
        "max_days_overdue_12m": st_.opening_max_days_overdue_12m + 1,
    }
    cause = st_.opening_disqualifying_causes[0]
    assert lp.opening_declines(
        st_.opening_threshold - 1, ["identity_not_verified", "low_income"], worst, False, [cause], st_
    ) == (
        "identity_not_verified",
        "id_document_expired",
        "overdue_on_record",
        "restricted_on_record",
        "score_below_threshold",
        "low_income",
    )
    assert lp.opening_declines(st_.opening_threshold, [], ok, True, [], st_) == ("overdue_on_record",)
    assert lp.score_declines(st_.opening_threshold, ["x"], st_) == ()
    assert lp.score_declines(st_.opening_threshold - 1, ["x"], st_) == ("score_below_threshold", "x")


@settings(max_examples=200, deadline=None)
@given(st.integers(min_value=0, max_value=5_000_000))
def test_a_review_raise_never_passes_the_application_cap(current):
    current = current // LT.limit_step * LT.limit_step
    out = lp.review_batch(
        np.array([current]), np.array([0]), np.array([LT.max_base_limit * 10]), np.array([False]), np.array([False]), LT
    )
    if out.action[0] == lp.RAISE:
        assert int(out.new_limit[0]) == lp.raise_cap(current, LT)
