"""Risk policies are data: the shipped policy compiles; a bad one is refused naming file and line."""

from __future__ import annotations

import pytest

from huabei.config import ProductTerms
from huabei.risk import catalog
from huabei.risk.policy import PolicyError, parse
from huabei.risk.service import DEFAULT_POLICY

CFG = catalog.config_values(ProductTerms())
GOOD = """\
format: 1
version: "t1"
rules:
  - id: r1
    cause: cash_out_suspected
    severity: soft
    mode: daily
    trigger: "round_purchases_one_merchant_30d >= 5"
    lift:
      after_days: cash_out_review_days
"""


def _errors(text: str) -> list[str]:
    with pytest.raises(PolicyError) as e:
        parse(text, "p.yaml", CFG)
    return e.value.errors


def test_the_shipped_policy_compiles_and_covers_the_five_causes() -> None:
    policy = parse(DEFAULT_POLICY.read_text(encoding="utf-8"), str(DEFAULT_POLICY), CFG)
    causes = {r.cause for r in policy.rules}
    assert {
        "overdue_reported",
        "cash_out_suspected",
        "score_brushing_suspected",
        "score_below_threshold",
        "inactive_account",
        "account_takeover_suspected",
    } <= causes
    assert set(policy.features()) <= set(catalog.FEATURES)
    assert policy.rules_in("inline") and policy.rules_in("daily")


def test_a_good_policy_compiles_once_and_evaluates() -> None:
    p = parse(GOOD, "p.yaml", CFG)
    assert p is parse(GOOD, "p.yaml", CFG)  # compiled once per text
    rule = p.rule("r1")
    assert rule.trigger.holds({"round_purchases_one_merchant_30d": 5})
    assert not rule.trigger.holds({"round_purchases_one_merchant_30d": 4})
    assert rule.after_days(CFG) == ProductTerms().restrictions.cash_out_review_days
    assert rule.features == ("round_purchases_one_merchant_30d",)


@pytest.mark.parametrize(
    ("change", "line", "words"),
    [
        (("    mode: daily\n", "    mode: daily\n    colour: red\n"), 8, "unknown rule key 'colour'"),
        (("round_purchases_one_merchant_30d >= 5", "round_purchases_anywhere >= 5"), 8, "unknown feature"),
        (("round_purchases_one_merchant_30d >= 5", "round_purchases_one_merchant_30d >= "), 8, "syntax error"),
        (("round_purchases_one_merchant_30d >= 5", "round_purchases_one_merchant_30d + true"), 8, "type error"),
        (("round_purchases_one_merchant_30d >= 5", "round_purchases_one_merchant_30d + 1"), 8, "true or false"),
        (("round_purchases_one_merchant_30d >= 5", "score < cfg.no_such_term"), 8, "unknown cfg key"),
        (("cause: cash_out_suspected", "cause: bad_luck"), 5, "unknown cause"),
        (("severity: soft", "severity: medium"), 6, "severity is hard or soft"),
        (("mode: daily", "mode: hourly"), 7, "mode is daily or inline"),
        (("after_days: cash_out_review_days", "after_days: forever"), 10, "after_days"),
        (('version: "t1"', "version: "), 2, "version is required"),
        (("rules:", "colour: red\nrules:"), 3, "unknown key 'colour'"),
    ],
)
def test_a_bad_policy_is_refused_naming_file_and_line(change: tuple[str, str], line: int, words: str) -> None:
    errs = _errors(GOOD.replace(*change))
    assert any(e.startswith(f"p.yaml:{line}: ") and words in e for e in errs), errs


def test_duplicate_ids_and_not_yaml() -> None:
    twice = GOOD + GOOD[GOOD.index("  - id: r1") :]
    assert any("duplicate rule id 'r1'" in e for e in _errors(twice))
    assert _errors("rules: [unclosed")[0].startswith("p.yaml:")
    assert "lift needs" in " ".join(_errors(GOOD.replace("      after_days: cash_out_review_days\n", "      {}\n")))
