"""HTTP endpoints of the freeze flows a user or an operator goes through: the payment password
(支付密码), maintenance windows (系统维护), appeals (申诉), closing a line. ``router(system)`` is included by ``huabei.entrypoints.http.app.create_app``;
errors are the app's ``{"error": {...}}`` with stable codes."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Path, Query
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from huabei import errors
from huabei.appeals import service as appeals
from huabei.appeals.rules import MAX_STATEMENT, OUTCOMES
from huabei.closures import service as closures
from huabei.entrypoints import auth
from huabei.entrypoints.auth import allow
from huabei.entrypoints.http.common import ERRORS, MAX_ID, AccountId, UserId, WindowId
from huabei.entrypoints.http.schemas import AccountOut, WholeNumber, _In, whole_number
from huabei.maintenance import service as maintenance
from huabei.passwords import service as passwords
from huabei.platform.unit_of_work import Huabei


class _Out(BaseModel):
    model_config = ConfigDict(extra="ignore")


class PaymentPasswordIn(_In):
    """The payment password, as the user typed it (``passwords.digits`` digits, stated in the
    document by ``contract``; another is 400 invalid_payment_password)."""

    password: str = Field(max_length=64)


#: An ISO 8601 timestamp to the minute at least, with an optional UTC offset (the document states it).
#: years 2-9998: a time in year 1 or 9999 with an offset may have no UTC equivalent (the store keeps UTC)
_YEAR = r"(000[2-9]|00[1-9][0-9]|0[1-9][0-9]{2}|[1-8][0-9]{3}|9[0-8][0-9]{2}|99[0-8][0-9]|999[0-8])"
_LEAP_YEAR = r"([0-9]{2}(0[48]|[2468][048]|[13579][26])|(0[48]|[2468][048]|[13579][26])00)"
_DAY = r"((0[13578]|1[02])-(0[1-9]|[12][0-9]|3[01])|(0[469]|11)-(0[1-9]|[12][0-9]|30)|02-(0[1-9]|1[0-9]|2[0-8]))"
#: An ISO 8601 timestamp to the minute at least, of a day the calendar has (years 2-9998), with an
#: optional UTC offset.
TIMESTAMP_PATTERN = (
    rf"^({_YEAR}-{_DAY}|{_LEAP_YEAR}-02-29)"
    r"[T ]([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9](\.[0-9]{1,6})?)?(Z|[+-]([01][0-9]|2[0-3]):?[0-5][0-9])?$"
)
_TIMESTAMP = re.compile(TIMESTAMP_PATTERN)


def parse_timestamp(text: str, tz: str) -> dt.datetime:
    """An ISO 8601 timestamp (minutes at least); without an offset it is in the product's time
    zone. Anything else: 400 ``invalid_timestamp``."""
    if not _TIMESTAMP.fullmatch(text):
        raise errors.invalid("invalid_timestamp")
    try:
        ts = dt.datetime.fromisoformat(text)
    except ValueError:
        raise errors.invalid("invalid_timestamp") from None
    return ts if ts.tzinfo is not None else ts.replace(tzinfo=ZoneInfo(tz))


class WindowIn(_In):
    """系统维护: purchases pause from ``start`` to ``end`` (ISO 8601 timestamps) for everyone, one
    channel or the lines one funding source funds."""

    #: everyone: names no channel or partner; channel: its channel; funding: its partner (400 otherwise)
    model_config = ConfigDict(
        json_schema_extra={
            "oneOf": [
                {
                    "properties": {
                        "scope": {"const": "everyone"},
                        "channel": {"type": "null"},
                        "partner": {"type": "null"},
                    }
                },
                {
                    "required": ["scope", "channel"],
                    "properties": {"scope": {"const": "channel"}, "channel": {"enum": ["online", "offline"]}},
                },
                {
                    "required": ["scope", "partner"],
                    "properties": {"scope": {"const": "funding"}, "partner": {"type": "string"}},
                },
            ]
        }
    )

    start: str = Field(
        max_length=40, examples=["2026-11-05T02:00:00+08:00"], json_schema_extra={"pattern": TIMESTAMP_PATTERN}
    )
    end: str = Field(
        max_length=40, examples=["2026-11-05T04:00:00+08:00"], json_schema_extra={"pattern": TIMESTAMP_PATTERN}
    )
    reason: str = Field(min_length=1, max_length=500)
    scope: Literal["everyone", "channel", "funding"] = "everyone"
    channel: Literal["online", "offline"] | None = None
    partner: str | None = Field(default=None, min_length=1, max_length=32)


class WindowOut(_Out):
    window_id: int
    starts_at: str
    ends_at: str
    reason: str
    scope: str
    channel: str | None
    partner: str | None
    status: Literal["upcoming", "active", "ended", "cancelled"]
    created_by: str
    created_at: str
    cancelled_at: str | None
    cancelled_by: str | None
    cancel_reason: str | None


class CancelIn(_In):
    reason: str | None = Field(default=None, min_length=1, max_length=500)


AppealId = Annotated[int, Path(ge=1, le=MAX_ID)]


class AppealIn(_In):
    """申诉: the restriction contested, the user's statement and the purchases that back it."""

    restriction_id: WholeNumber = Field(ge=1, le=MAX_ID)
    statement: str = Field(min_length=1, max_length=MAX_STATEMENT)
    # the bounds before the whole-number parser: after it, pydantic would not state them in the document
    purchase_ids: list[Annotated[int, Field(ge=1, le=MAX_ID), BeforeValidator(whole_number)]] = Field(
        default_factory=list, max_length=50
    )


class DecisionIn(_In):
    """The outcome labels of each decision (``appeals.rules.OUTCOMES``; another: 400 invalid_outcome)."""

    model_config = ConfigDict(
        json_schema_extra={
            "oneOf": [
                {"properties": {"decision": {"const": d.value}, "outcome": {"enum": list(outcomes)}}}
                for d, outcomes in OUTCOMES.items()
            ]
        }
    )

    decision: Literal["lift", "uphold"]
    reason: str = Field(min_length=1, max_length=MAX_STATEMENT)
    outcome: str = Field(min_length=1, max_length=32, examples=["false_positive", "confirmed"])


class AppealOut(_Out):
    appeal_id: int
    account_id: int
    restriction_id: int
    cause: str
    statement: str
    purchase_ids: list[int]
    status: Literal["open", "lifted", "upheld"]
    decision: str | None
    outcome: str | None
    decision_reason: str | None
    created_at: str
    decided_at: str | None


class CloseIn(_In):
    reason: str | None = Field(default=None, min_length=1, max_length=200)


class PaymentPasswordOut(_Out):
    user_id: str
    has_password: bool
    locked: bool
    locked_until: str | None
    failed_attempts: int
    attempts_left: int | None


def router(system: Huabei, *, account_texts: Callable[[dict[str, Any]], dict[str, Any]]) -> APIRouter:
    """``account_texts`` is the app's rendering of an account view (its restrictions' texts)."""
    r = APIRouter(prefix="/v1", responses=ERRORS)

    @r.get(
        "/users/{user_id}/payment-password",
        dependencies=[allow("customer", "agent", "risk", own="user_id")],
        response_model=PaymentPasswordOut,
        tags=["payment password"],
    )
    def password_status(user_id: UserId) -> Any:
        """Whether the user has a payment password, and whether payments are locked (until when)."""
        return passwords.password_status(system, user_id)

    @r.put(
        "/users/{user_id}/payment-password",
        dependencies=[allow("customer", own="user_id")],
        response_model=PaymentPasswordOut,
        tags=["payment password"],
    )
    def set_password(user_id: UserId, body: PaymentPasswordIn) -> Any:
        """Set the first payment password (stored as an argon2id hash). One already set: 409
        ``payment_password_exists`` — change it with the reset."""
        return passwords.set_password(system, user_id, body.password)

    @r.post(
        "/users/{user_id}/payment-password/reset",
        dependencies=[allow("agent")],
        response_model=PaymentPasswordOut,
        tags=["payment password"],
    )
    def reset_password(user_id: UserId, body: PaymentPasswordIn) -> Any:
        """重置支付密码 after the host verified the user's identity: sets the new password and
        unlocks payments at once (recorded)."""
        return passwords.reset_password(system, user_id, body.password)

    @r.post(
        "/admin/maintenance-windows",
        dependencies=[allow("risk")],
        status_code=201,
        response_model=WindowOut,
        tags=["maintenance"],
    )
    def schedule_window(body: WindowIn) -> Any:
        """Schedule a maintenance window. Refused (400): one that ends at or before it starts
        (``invalid_window``), one already over (``window_already_ended``), a bad timestamp
        (``invalid_timestamp``), an unknown partner (``unknown_funding_partner``). Overlaps are allowed."""
        tz = system.terms.timezone
        return maintenance.schedule(
            system,
            starts_at=parse_timestamp(body.start, tz),
            ends_at=parse_timestamp(body.end, tz),
            reason=body.reason,
            scope=body.scope,
            target=body.channel
            if body.scope == "channel"
            else body.partner
            if body.scope == "funding"
            else (body.channel or body.partner),
        )

    @r.get(
        "/admin/maintenance-windows",
        dependencies=[allow("risk", "agent")],
        response_model=list[WindowOut],
        tags=["maintenance"],
    )
    def list_windows(
        status: Annotated[
            Literal["current", "upcoming", "active", "ended", "cancelled", "all"],
            Query(description="current: upcoming and active"),
        ] = "current",
    ) -> Any:
        return maintenance.listing(system, status)

    @r.post(
        "/admin/maintenance-windows/{window_id}/cancel",
        dependencies=[allow("risk")],
        response_model=WindowOut,
        tags=["maintenance"],
    )
    def cancel_window(window_id: WindowId, body: CancelIn | None = None) -> Any:
        """Cancel a window not over yet (409 ``maintenance_window_closed`` otherwise)."""
        return maintenance.cancel(system, window_id, reason=(body or CancelIn()).reason)

    @r.post(
        "/accounts/{account_id}/appeals",
        dependencies=[allow("customer", "agent", own="account_id")],
        status_code=201,
        response_model=AppealOut,
        tags=["appeals"],
    )
    def file_appeal(
        account_id: AccountId, body: AppealIn, principal: auth.Principal = Depends(auth.current_principal)
    ) -> Any:
        """申诉 against one active restriction of an appealable cause (422 ``not_appealable`` with
        the cause's remedy otherwise); one open appeal per restriction (409 ``appeal_exists``)."""
        return appeals.file_appeal(
            system,
            account_id,
            restriction_id=body.restriction_id,
            statement=body.statement,
            purchase_ids=body.purchase_ids,
            actor=principal.actor,
        )

    @r.get(
        "/accounts/{account_id}/appeals",
        dependencies=[allow("customer", "agent", "risk", own="account_id")],
        response_model=list[AppealOut],
        tags=["appeals"],
    )
    def account_appeals(account_id: AccountId) -> Any:
        """The line's appeals with their status and outcome (what the user sees)."""
        return appeals.listing(system, account_id=account_id)

    @r.get("/appeals", dependencies=[allow("agent", "risk")], response_model=list[AppealOut], tags=["appeals"])
    def appeal_queue(
        status: Annotated[Literal["open", "lifted", "upheld"] | None, Query()] = None,
        limit: Annotated[int, Query(ge=1, le=100)] = 100,
        starting_after: Annotated[int | None, Query(ge=0, le=MAX_ID)] = None,
    ) -> Any:
        """The agents' queue (``?status=open``), oldest first."""
        return appeals.listing(system, status=status, limit=limit, starting_after=starting_after)

    @r.get("/appeals/{appeal_id}", dependencies=[allow("agent", "risk")], response_model=AppealOut, tags=["appeals"])
    def get_appeal(appeal_id: AppealId) -> Any:
        return appeals.get_appeal(system, appeal_id)

    @r.post("/appeals/{appeal_id}/decision", dependencies=[allow("agent")], response_model=AppealOut, tags=["appeals"])
    def decide_appeal(
        appeal_id: AppealId, body: DecisionIn, principal: auth.Principal = Depends(auth.current_principal)
    ) -> Any:
        """``lift`` or ``uphold`` with a reason and an outcome label (lift: false_positive,
        resolved_by_user, goodwill; uphold: confirmed, insufficient_evidence). 409 ``appeal_closed``
        once decided; a hard restriction (409 ``restriction_hard``) or a suspected takeover (409
        ``verification_required``) is not lifted by an agent."""
        return appeals.decide(
            system, appeal_id, decision=body.decision, reason=body.reason, outcome=body.outcome, actor=principal.actor
        )

    @r.post(
        "/accounts/{account_id}/close",
        dependencies=[allow("customer", "agent", own="account_id")],
        response_model=AccountOut,
        tags=["accounts"],
    )
    def close_account(account_id: AccountId, body: CloseIn | None = None) -> Any:
        """关闭花呗: the user closes a line that owes nothing (422 ``balance_outstanding`` otherwise).
        A closed line refuses purchases; the user may apply again with ``POST /v1/accounts``."""
        return account_texts(closures.close_by_user(system, account_id, reason=(body or CloseIn()).reason))

    return r
