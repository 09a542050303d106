from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from huabei.money import (
    MAX_AMOUNT_FEN,
    AmountError,
    apply_rate,
    format_yuan,
    parse_yuan,
    round_fen,
    yuan,
)


@pytest.mark.parametrize(
    "text,fen",
    [
        ("88.80", 8880),
        ("88.8", 8880),
        ("0.01", 1),
        ("1", 100),
        ("10.00", 1000),
        ("0.1", 10),
        ("10000000.00", MAX_AMOUNT_FEN),
    ],
)
def test_parse_valid(text, fen):
    assert parse_yuan(text) == fen


@pytest.mark.parametrize(
    "bad",
    [
        "-1",
        "-0.01",
        "0",
        "0.00",
        "1.234",
        "abc",
        "",
        " 1.00",
        "1.00 ",
        "1e3",
        "+1",
        "01.00",
        "1,000.00",
        ".5",
        "5.",
        "１.00",
        "NaN",
    ],
)
def test_parse_invalid(bad):
    with pytest.raises(AmountError) as e:
        parse_yuan(bad)
    assert e.value.code == "invalid_amount"


@pytest.mark.parametrize("big", ["10000000.01", "99999999999.00", "99999999999999999999.00", "1234567890123456"])
def test_a_well_written_amount_over_the_maximum_is_too_large(big):
    with pytest.raises(AmountError) as e:
        parse_yuan(big)
    assert e.value.code == "amount_too_large"


@pytest.mark.parametrize("bad", [12.5, 12, True, None, Decimal("1.00"), ["1.00"]])
def test_parse_refuses_non_strings(bad):
    with pytest.raises(AmountError):
        parse_yuan(bad)


def test_zero_allowed_only_when_asked():
    assert parse_yuan("0.00", allow_zero=True) == 0


@given(st.integers(min_value=1, max_value=MAX_AMOUNT_FEN))
def test_format_parse_round_trip(fen):
    text = format_yuan(fen)
    assert parse_yuan(text) == fen
    assert len(text.split(".")[1]) == 2


@given(st.integers(min_value=-(10**12), max_value=10**12))
def test_format_is_exact(fen):
    text = format_yuan(fen)
    assert Decimal(text) * 100 == fen


def test_format_refuses_floats():
    with pytest.raises(TypeError):
        format_yuan(1.5)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "exact,rounded", [("0.5", 1), ("1.5", 2), ("2.5", 3), ("2.4999", 2), ("-0.5", -1), ("0.49", 0)]
)
def test_round_fen_is_half_up(exact, rounded):
    assert round_fen(Decimal(exact)) == rounded


def test_round_fen_refuses_floats():
    with pytest.raises(TypeError):
        round_fen(0.5)  # type: ignore[arg-type]


def test_apply_rate_rounds_once():
    # 600000 fen x 8.8% = 52800 exactly; 333 fen x 0.0005 x 40 days = 6.66 -> 7
    assert apply_rate(600000, Decimal("0.088")) == 52800
    assert apply_rate(333, Decimal("0.0005"), 40) == 7
    assert yuan("0.00") == 0
