"""The score threshold's text is true for a first-time applicant too (declined at opening with
``score_below_threshold``, whose score never "fell"), in English and in Chinese."""

from __future__ import annotations

from huabei import reasons


def test_the_score_threshold_does_not_say_the_score_fell() -> None:
    t = reasons.render("score_below_threshold", {"threshold": 600})
    assert t["message"] == "Your credit score is below 600, the minimum for Huabei."
    assert "fallen" not in t["message"] and "跌" not in (t["message_zh"] or "")
    assert t["message_zh"] == "您的信用分低于花呗的使用门槛 600 分。"
