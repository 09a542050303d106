from decimal import Decimal

import pytest
from pydantic import ValidationError

from huabei.config import ProductTerms, load_terms


def test_defaults_follow_the_reference_rules():
    t = ProductTerms()
    assert t.billing.statement_day == 1 and t.billing.due_day_choices == (9, 10)
    assert t.billing.minimum_repayment_rate == Decimal("0.10")
    assert t.billing.penalty_daily_rate == Decimal("0.0005")
    assert t.installments.fee_rates[12] == Decimal("0.088")
    assert t.scoring.opening_threshold == 600
    assert sum(t.scoring.weights.values()) == 1


def test_yaml_overrides_and_refuses_floats_and_typos(tmp_path):
    p = tmp_path / "terms.yaml"
    p.write_text("billing:\n  grace_days: 5\n  penalty_daily_rate: '0.0006'\n")
    t = load_terms(p)
    assert t.billing.grace_days == 5 and t.billing.penalty_daily_rate == Decimal("0.0006")
    p.write_text("billing:\n  penalty_daily_rate: 0.0006\n")
    with pytest.raises(ValidationError):
        load_terms(p)
    p.write_text("billing:\n  grace_dayz: 5\n")
    with pytest.raises(ValidationError):
        load_terms(p)


def test_terms_are_immutable():
    t = ProductTerms()
    with pytest.raises(ValidationError):
        t.billing.grace_days = 9  # type: ignore[misc]
