"""Money: integer fen (分) inside, decimal yuan strings at the edge.

Invariants
----------
* Every amount inside huabei is a Python ``int`` counting fen (1 yuan = 100 fen).
* Rates (interest, fees) are :class:`decimal.Decimal`; a float never touches money.
* At the API edge an amount is a JSON *string* in yuan with at most two decimals
  (``"88.80"``). A JSON number is refused: a binary float cannot carry money exactly.
* Rounding happens at exactly one documented point, :func:`round_fen`, half-up to
  the fen. Every computation that produces a fractional number of fen (fees,
  interest) builds a ``Decimal`` of fen and calls :func:`round_fen` once.
"""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

Fen = int

FEN_PER_YUAN = 100

#: Largest amount accepted at the edge for a single operation: 10 million yuan.
#: Anything above is "absurdly large" for a consumer credit line and refused.
MAX_AMOUNT_FEN: Fen = 10_000_000 * FEN_PER_YUAN

_YUAN_RE = re.compile(r"^(?P<int>0|[1-9][0-9]{0,14})(?:\.(?P<frac>[0-9]{1,2}))?$")


class AmountError(ValueError):
    """A yuan string that is not a valid amount. ``code`` is a stable error code."""

    def __init__(self, code: str, detail: str):
        super().__init__(detail)
        self.code = code
        self.detail = detail


def parse_yuan(text: object, *, allow_zero: bool = False, maximum: Fen = MAX_AMOUNT_FEN) -> Fen:
    """Parse a yuan amount string (``"88.80"``) into fen (``8880``).

    Accepts only ``str``: digits, an optional point and one or two decimals. No sign,
    no exponent, no spaces, no thousands separators. Zero is refused unless
    ``allow_zero``; amounts over ``maximum`` fen are refused.
    """
    if isinstance(text, bool) or not isinstance(text, str):
        raise AmountError("invalid_amount", 'amount must be a string of yuan such as "88.80"')
    m = _YUAN_RE.fullmatch(text)
    if m is None:
        if text.startswith("-"):
            raise AmountError("invalid_amount", "amount must be positive")
        if re.match(r"^[0-9]+\.[0-9]{3,}$", text):
            raise AmountError("invalid_amount", "amount has more than two decimals")
        if re.fullmatch(r"[1-9][0-9]{15,}(\.[0-9]{1,2})?", text):
            raise AmountError("amount_too_large", "amount is larger than the largest accepted amount")
        raise AmountError("invalid_amount", 'amount must look like "88.80"')
    fen = int(m.group("int")) * FEN_PER_YUAN + int((m.group("frac") or "0").ljust(2, "0"))
    if fen == 0 and not allow_zero:
        raise AmountError("invalid_amount", "amount must be greater than zero")
    if fen > maximum:
        raise AmountError("amount_too_large", "amount is larger than the largest accepted amount")
    return fen


def format_yuan(fen: Fen) -> str:
    """Format fen as a yuan string with exactly two decimals: ``8880 -> "88.80"``."""
    if not isinstance(fen, int) or isinstance(fen, bool):
        raise TypeError(f"fen must be int, not {type(fen).__name__}")
    sign = "-" if fen < 0 else ""
    q, r = divmod(abs(fen), FEN_PER_YUAN)
    return f"{sign}{q}.{r:02d}"


def yuan(text: str) -> Fen:
    """Shorthand for literals in code and tests: ``yuan("88.80") == 8880``."""
    return parse_yuan(text, allow_zero=True)


def round_fen(amount_in_fen: Decimal) -> Fen:
    """THE rounding point: a Decimal number of fen, rounded half-up to a whole fen."""
    if not isinstance(amount_in_fen, Decimal):
        raise TypeError("round_fen takes a Decimal number of fen")
    try:
        return int(amount_in_fen.quantize(Decimal(1), rounding=ROUND_HALF_UP))
    except InvalidOperation as exc:  # pragma: no cover - NaN / infinity
        raise ValueError(f"cannot round {amount_in_fen!r}") from exc


def apply_rate(fen: Fen, rate: Decimal, times: int = 1) -> Fen:
    """``fen × rate × times``, rounded once half-up to the fen (fees, daily interest)."""
    return round_fen(Decimal(fen) * rate * times)
