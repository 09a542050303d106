"""Request and response bodies of the HTTP API.

Money crosses the edge as a JSON string of yuan with at most two decimals
(``"88.80"``); inside it is integer fen. :data:`YuanIn` parses (a JSON number is
refused with ``invalid_amount``), :data:`Yuan` formats.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import unicodedata
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    StrictBool,
    WithJsonSchema,
    model_validator,
)
from pydantic_core import PydanticCustomError

from huabei.money import FEN_PER_YUAN, MAX_AMOUNT_FEN, AmountError, format_yuan, parse_yuan
from huabei.restrictions.causes import CAUSES

_YUAN_SCHEMA = {"type": "string", "pattern": r"^(0|[1-9][0-9]*)(\.[0-9]{1,2})?$", "examples": ["88.80"]}


def yuan_pattern(allow_zero: bool) -> str:
    """The amounts :func:`huabei.money.parse_yuan` accepts, as a pattern: yuan with at most two
    decimals, no leading zero, above zero (or zero too) and at most ``MAX_AMOUNT_FEN`` — a longer
    or larger one is ``amount_too_large``, anything else ``invalid_amount`` (both 400)."""
    whole, fen = divmod(MAX_AMOUNT_FEN, FEN_PER_YUAN)
    digits = len(str(whole))
    if fen or whole != 10 ** (digits - 1):  # the pattern below is written for a maximum of 10^n yuan
        raise ValueError(f"MAX_AMOUNT_FEN {MAX_AMOUNT_FEN} is not a power of ten yuan")
    under_one = r"0\.(0[1-9]|[1-9][0-9]?)"
    below = rf"[1-9][0-9]{{0,{digits - 2}}}(\.[0-9]{{1,2}})?"
    top = rf"{whole}(\.00?)?"
    zero = r"|0(\.00?)?" if allow_zero else ""
    return rf"^({under_one}|{below}|{top}{zero})$"


_YUAN_IN_SCHEMA = {**_YUAN_SCHEMA, "pattern": yuan_pattern(allow_zero=False)}
YUAN_LIMIT_IN_SCHEMA = {**_YUAN_SCHEMA, "pattern": yuan_pattern(allow_zero=True)}
#: A signed amount (a balance may be a credit, a posting a debit): "-13.05".
_SIGNED_YUAN_SCHEMA = {"type": "string", "pattern": r"^-?(0|[1-9][0-9]*)\.[0-9]{2}$", "examples": ["-13.05"]}


def _parse_amount(v: object) -> int:
    try:
        return parse_yuan(v)
    except AmountError as e:  # invalid_amount, or amount_too_large
        raise PydanticCustomError(e.code, e.detail) from None


def _parse_limit(v: object) -> int:
    try:
        return parse_yuan(v, allow_zero=True)
    except AmountError as e:
        raise PydanticCustomError(e.code, e.detail) from None


_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def _parse_date(v: object) -> dt.date:
    """Only ``"YYYY-MM-DD"``: no Unix timestamps (a JSON number), no datetimes."""
    if isinstance(v, dt.date) and not isinstance(v, dt.datetime):
        return v
    if not isinstance(v, str) or not _ISO_DATE.fullmatch(v):
        raise PydanticCustomError("invalid_date", "a date must be a string written as YYYY-MM-DD")
    try:
        return dt.date.fromisoformat(v)
    except ValueError:
        raise PydanticCustomError("invalid_date", "not a calendar date") from None


def whole_number(v: object) -> object:
    """A JSON integer: ``3`` or ``3.0`` (JSON has one kind of number), never ``true`` or ``"3"``."""
    if isinstance(v, float) and v.is_integer():
        return int(v)
    if isinstance(v, bool) or not isinstance(v, int):
        raise PydanticCustomError("int_type", "Input should be a valid integer")
    return v


#: A whole number of a request body, as JSON Schema's ``integer`` means it.
WholeNumber = Annotated[int, BeforeValidator(whole_number)]

#: A calendar date in the API: the JSON string ``"YYYY-MM-DD"``.
IsoDate = Annotated[dt.date, BeforeValidator(_parse_date)]

YuanIn = Annotated[int, BeforeValidator(_parse_amount), WithJsonSchema(_YUAN_IN_SCHEMA)]
YuanLimitIn = Annotated[int, BeforeValidator(_parse_limit), WithJsonSchema(YUAN_LIMIT_IN_SCHEMA)]
Yuan = Annotated[int, PlainSerializer(format_yuan, return_type=str), WithJsonSchema(_YUAN_SCHEMA)]
SignedYuan = Annotated[int, PlainSerializer(format_yuan, return_type=str), WithJsonSchema(_SIGNED_YUAN_SCHEMA)]


#: Whitespace controls a free-form text may hold (a note over several lines).
_ALLOWED_CONTROLS = frozenset("\t\n\r")


def bad_character(text: str) -> str | None:
    """The first character of ``text`` no stored text may hold: NUL and every other control
    character (Unicode category Cc, but tab, line feed and carriage return) and lone surrogates
    (not encodable as UTF-8; PostgreSQL refuses both) — None when the text is clean."""
    for ch in text:
        cat = unicodedata.category(ch)
        if (cat == "Cc" and ch not in _ALLOWED_CONTROLS) or cat == "Cs":
            return ch
    return None


def control_character_at(value: object, where: str = "") -> str | None:
    """Where (``a.b.0``) a string, or a mapping key, of a JSON-like ``value`` holds a
    :func:`bad_character`; None when every text is clean."""
    if isinstance(value, str):
        return (where or "body") if bad_character(value) is not None else None
    if isinstance(value, dict):
        for k, v in value.items():
            here = f"{where}.{k}" if where else str(k)
            if isinstance(k, str) and bad_character(k) is not None:
                return where or "body"
            found = control_character_at(v, here)
            if found:
                return found
    if isinstance(value, (list, tuple)):
        for i, v in enumerate(value):
            found = control_character_at(v, f"{where}.{i}" if where else str(i))
            if found:
                return found
    return None


#: The most a free-form object (restriction evidence, posted facts) may weigh, as compact JSON.
MAX_FREE_FORM_BYTES = 16_384


def _cap_free_form(v: dict[str, Any]) -> dict[str, Any]:
    size = len(json.dumps(v, ensure_ascii=False, separators=(",", ":"), default=str).encode())
    if size > MAX_FREE_FORM_BYTES:
        raise PydanticCustomError(
            "free_form_too_large",
            "at most {limit} bytes as JSON, not {size}",
            {"limit": MAX_FREE_FORM_BYTES, "size": size},
        )
    return v


#: A free-form JSON object of the API, capped at :data:`MAX_FREE_FORM_BYTES`.
FreeForm = Annotated[dict[str, Any], AfterValidator(_cap_free_form)]


class _In(BaseModel):
    """Every request body: unknown fields are refused, and so is a control character (NUL …) in
    any text of it, keys of free-form objects included (``control_character``, a 400)."""

    model_config = ConfigDict(extra="forbid")

    @model_validator(mode="before")
    @classmethod
    def _printable_text_only(cls, data: Any) -> Any:
        where = control_character_at(data)
        if where is not None:
            raise PydanticCustomError("control_character", "a control character in {field}", {"field": where})
        return data


class _Out(BaseModel):
    model_config = ConfigDict(extra="ignore")


# --- users and accounts -----------------------------------------------------------


class Profile(_In):
    """Optional profile fields (个人资料); completeness feeds the credit score."""

    education: Literal["none", "secondary", "college", "bachelor", "master", "doctorate"] | None = None
    occupation: str | None = Field(default=None, max_length=100)
    # no space, @ or control character on either side of the one @
    email: str | None = Field(
        default=None, max_length=200, pattern=r"^[^@\s\x00-\x1f\x7f-\x9f]+@[^@\s\x00-\x1f\x7f-\x9f]+$"
    )
    address: str | None = Field(default=None, max_length=300)
    employer: str | None = Field(default=None, max_length=200)
    id_document_expires_on: IsoDate | None = None
    bank_card_bound: StrictBool | None = None
    vehicle: StrictBool | None = None


class UserIn(_In):
    user_id: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")
    name: str = Field(min_length=1, max_length=200)
    phone: str = Field(pattern=r"^\+?[0-9]{5,20}$")
    real_name_verified: StrictBool
    profile: Profile | None = None


class UserOut(_Out):
    user_id: str
    name: str
    phone: str
    real_name_verified: bool
    profile: dict[str, Any]
    created_on: dt.date
    #: the user's open 花呗 line
    account_id: int | None = None
    #: the user's open 信用购 line (a partner's balances moved off 花呗 by brand isolation), if any
    xinyonggou_account_id: int | None = None
    #: every 信用购 line of the user that is open or still carries a balance (a second partner's
    #: balance moves to a closed 信用购 line of its own: its bills and repayment go on), id order
    xinyonggou_account_ids: list[int] = []


class AccountIn(_In):
    """Open a credit line (开通). Without ``base_limit`` the automatic decision runs (score,
    real name, record) and grants the policy's limit, or refuses with ``not_eligible``."""

    user_id: str = Field(min_length=1, max_length=64)
    base_limit: YuanLimitIn | None = None
    #: who funds the line (资金方): ``platform`` (the default) or a partner of ``funding.partners``
    #: (400 ``unknown_funding_partner`` otherwise); an operator's choice, not a customer's
    funding_source: str | None = Field(default=None, min_length=1, max_length=32)


class RestrictionOut(_Out):
    restriction_id: int
    cause: str
    active: bool
    evidence: dict[str, Any]
    note: str | None
    placed_on: dt.date
    placed_by: str
    lifts_on: dt.date | None
    lifted_on: dt.date | None
    lift_reason: str | None
    message: str | None = None
    message_zh: str | None = None
    remedy: str | None = None
    remedy_zh: str | None = None


class AccountOut(_Out):
    account_id: int
    user_id: str
    status: Literal["active", "frozen", "overdue", "closed"]
    base_limit: Yuan
    temporary_limit: Yuan
    temporary_limit_expires_on: dt.date | None
    total_limit: Yuan
    used: Yuan
    available: Yuan
    spendable_now: Yuan = Field(
        description="what a purchase may take now: the available limit, or 0.00 while the line is "
        "overdue, frozen or closed (blocked_reason says why)"
    )
    blocked_reason: str | None = Field(
        default=None,
        description="why nothing can be spent now: account_overdue, account_closed or the freeze's cause "
        "(a restriction cause); null when the line is usable",
    )
    days_past_due: int = Field(default=0, description="days past due of the oldest overdue bill (0 when none)")
    credit_balance: Yuan
    due_day: int
    opened_on: dt.date
    #: ``huabei`` (花呗) or ``xinyonggou`` (信用购: a funding partner's line under its own brand)
    product: Literal["huabei", "xinyonggou"] = "huabei"
    #: who funds the line (资金方): ``platform`` or a partner of ``funding.partners``
    funding_source: str = "platform"
    restrictions: list[RestrictionOut]
    as_of: dt.date


class BaseLimitIn(_In):
    base_limit: YuanLimitIn


class TemporaryLimitIn(_In):
    amount: YuanIn
    expires_on: IsoDate


# --- money movements --------------------------------------------------------------


class PurchaseIn(_In):
    amount: YuanIn
    merchant_id: str = Field(min_length=1, max_length=64)
    merchant_category: str = Field(min_length=1, max_length=32)
    channel: Literal["online", "offline"]
    #: the payment password (支付密码), required once the user has set one
    password: str | None = Field(default=None, max_length=64)
    #: The payment device the host app saw (optional; a change of devices is a takeover signal).
    device_id: str | None = Field(default=None, min_length=1, max_length=64)


class PurchaseOut(_Out):
    purchase_id: int
    account_id: int
    amount: Yuan
    available: Yuan
    status: str
    business_date: dt.date


class AmountIn(_In):
    amount: YuanIn


class RefundOut(_Out):
    refund_id: int
    purchase_id: int
    account_id: int
    amount: Yuan
    refunded_total: Yuan
    to_credit_balance: Yuan
    available: Yuan
    business_date: dt.date


class RepaymentOut(_Out):
    repayment_id: int
    account_id: int
    amount: Yuan
    allocation: dict[str, Yuan]
    owed: Yuan
    available: Yuan
    business_date: dt.date


# --- history ----------------------------------------------------------------------


class TransactionOut(_Out):
    transaction_id: int
    type: str
    amount: Yuan
    ref_id: int | None
    memo: str | None
    business_date: dt.date
    created_at: str | None


class PostingOut(_Out):
    posting_id: int
    entry_id: int
    ledger_account: str
    amount: SignedYuan = Field(description="a debit is negative, a credit positive")
    business_date: dt.date


class TransactionPage(_Out):
    data: list[TransactionOut]
    has_more: bool
    next_cursor: int | None


class PostingPage(_Out):
    data: list[PostingOut]
    has_more: bool
    next_cursor: int | None


# --- restrictions and admin -------------------------------------------------------


#: The causes a restriction may be placed for (``huabei.restrictions.causes``).
CauseCode = Literal[tuple(sorted(CAUSES))]  # type: ignore[valid-type]


class RestrictionIn(_In):
    cause: CauseCode
    evidence: FreeForm = Field(default_factory=dict, description="what was seen; at most 16 KB as JSON")
    note: str | None = Field(default=None, max_length=2000)
    lifts_on: IsoDate | None = None


class LiftIn(_In):
    reason: str = Field(default="lifted_by_agent", min_length=1, max_length=64)


class ClockIn(_In):
    date: IsoDate


class ClockOut(_Out):
    business_date: dt.date
    mode: str


class LedgerFinding(_Out):
    invariant: str
    detail: str
    credit_account_id: int | None = None
    entry_id: int | None = None


class LedgerCheckOut(_Out):
    ok: bool
    entries: int
    postings: int
    accounts: int
    findings: list[LedgerFinding]


class ErrorDetail(_Out):
    code: str
    message: str
    message_zh: str
    remedy: str | None = None
    remedy_zh: str | None = None
    #: machine-readable facts of some refusals: ``attempts_left`` (wrong_password),
    #: ``unlocks_at`` (password_locked), ``ends_at`` (maintenance), timestamps in ISO 8601
    details: dict[str, Any] | None = None


class ErrorOut(_Out):
    error: ErrorDetail
