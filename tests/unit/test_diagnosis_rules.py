"""The diagnosis' pure rules: findings from facts, the explainer registry (an unknown cause gets an
honest generic text), the state sentence, locale formatting, and every text translated."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

from babel.messages.extract import extract_from_file

from huabei.diagnosis import explainers as ex
from huabei.diagnosis import findings as f
from huabei.diagnosis import render
from huabei.diagnosis import vocabulary as v
from huabei.i18n import catalog

D = dt.date
PACKAGE = Path(f.__file__).parent


def facts(**over: object) -> v.AccountFacts:
    base: dict[str, object] = dict(
        account_id=7,
        user_id="u7",
        today=D(2026, 7, 1),
        closed=False,
        base_limit=500_000,
        temporary_limit=0,
        temporary_limit_expires_on=None,
        temporary_limit_expired_on=None,
        used=100_000,
        available=400_000,
        block_code=None,
        opened_on=D(2025, 7, 1),
        score_threshold=600,
    )
    base.update(over)
    return v.AccountFacts(**base)  # type: ignore[arg-type]


def restriction(cause: str, **over: object) -> v.RestrictionFact:
    base: dict[str, object] = dict(
        restriction_id=3,
        cause=cause,
        evidence={},
        note=None,
        placed_on=D(2026, 6, 1),
        placed_by="risk",
        lifts_on=None,
    )
    base.update(over)
    return v.RestrictionFact(**base)  # type: ignore[arg-type]


def test_every_text_of_the_diagnosis_has_a_chinese_translation_with_its_placeholders():
    zh = catalog("zh_CN")
    texts = set()
    for path in PACKAGE.glob("*.py"):
        texts |= {m[1] for m in extract_from_file("python", str(path), keywords={"N_": None}) if m[1]}
    assert len(texts) > 80
    missing = sorted(t for t in texts if t not in zh)
    assert not missing, missing
    for t in texts:
        assert set(re.findall(r"{(\w+)}", t)) == set(re.findall(r"{(\w+)}", zh[t])), t


def test_a_cause_without_an_explainer_gets_an_honest_generic_finding():
    r = restriction("new_cause_from_the_risk_engine", lifts_on=D(2026, 8, 1))
    d = f.diagnose(facts(restrictions=(r,), block_code="account_frozen:new_cause_from_the_risk_engine"))
    assert d.state is v.State.FROZEN
    (x,) = d.findings
    assert x.code == "new_cause_from_the_risk_engine" and x.restriction_id == 3
    assert render.text(x.says, "en") == "A restriction was placed on this line on June 1, 2026."
    assert render.text(x.lifts, "en") == "It lifts by itself on August 1, 2026."
    assert render.text(x.action, "zh_CN") == "请联系客服，了解具体情况和处理办法。"
    assert ex.explainer_for("new_cause_from_the_risk_engine") is ex.explain_generic


def test_every_known_cause_has_its_own_explainer():
    from huabei.restrictions.causes import CAUSES

    assert set(CAUSES) <= set(ex.EXPLAINERS)


def test_state_and_summary():
    healthy = f.diagnose(facts())
    assert healthy.state is v.State.USABLE and healthy.findings == ()
    assert render.text(healthy.summary, "en") == (
        "Nothing blocks you: Huabei works normally, and 4,000.00 yuan of your 5,000.00 yuan limit is available."
    )
    assert (
        render.text(healthy.summary, "zh_CN")
        == "没有任何限制：花呗可以正常使用，总额度5,000.00元，当前可用4,000.00元。"
    )
    closed = f.diagnose(facts(closed=True))
    assert closed.state is v.State.CLOSED and closed.findings[0].code == "account_closed"
    used_up = f.diagnose(facts(used=500_000, available=0))
    assert used_up.state is v.State.USABLE_WITH_LIMITS
    overdue_bill = v.BillFact(1, "2026-05", D(2026, 6, 1), D(2026, 6, 10), "overdue", 88_800, 8_880, 0, 88_800, None)
    frozen = f.diagnose(facts(block_code="account_overdue", bills=(overdue_bill,)))
    assert frozen.state is v.State.FROZEN
    (x,) = frozen.findings
    assert render.text(x.action, "en") == (
        "Repay 888.00 yuan of the May 2026 bill; penalty interest runs every day until you do."
    )
    assert render.text(x.says, "zh_CN") == "2026年5月账单的还款日是2026年6月10日，仍有888.00元未还，已逾期21天。"


def test_the_score_check_says_how_the_score_moved():
    up = v.ScoreFact(640, "very_good", 620, D(2026, 6, 2), ())
    check = {c.code: c for c in f.diagnose(facts(score=up)).checks}["score"]
    assert render.text(check.says, "en") == "Credit score: 640 (as of June 2, 2026), up 20 points from 620."
    assert render.text(check.says, "zh_CN") == "信用分：640分（2026年6月2日），比上次的620分提高了20分。"


def test_locale_negotiation_and_plain_data():
    assert render.negotiate("zh-CN", "en") == "zh_CN"
    assert render.negotiate(None, "fr-FR,zh;q=0.8,en;q=0.5") == "zh_CN"
    assert render.negotiate(None, "en-GB") == "en" and render.negotiate(None, None) == "en"
    assert render.plain({"a": v.Fen(123_456), "d": D(2026, 2, 1), "p": v.Period("2026-02")}) == {
        "a": "1234.56",
        "d": "2026-02-01",
        "p": "2026-02",
    }
    assert render.money(123_456, "zh_CN") == "1,234.56" and render.month("2026-02", "zh_CN") == "2026年2月"
