"""HTTP endpoints of the freeze flows a user or an operator goes through: the payment password
(支付密码), closing a line. ``router(system)`` is included by ``huabei.entrypoints.http.app.create_app``;
errors are the app's ``{"error": {...}}`` with stable codes."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Path
from pydantic import BaseModel, ConfigDict, Field

from huabei.closures import service as closures
from huabei.entrypoints.auth import allow
from huabei.entrypoints.http.common import AccountId
from huabei.entrypoints.http.schemas import AccountOut, ErrorOut
from huabei.passwords import service as passwords
from huabei.platform.unit_of_work import Huabei

ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorOut, "description": "Invalid request"},
    404: {"model": ErrorOut, "description": "Not found"},
    409: {"model": ErrorOut, "description": "Conflict"},
    422: {"model": ErrorOut, "description": "Refused by a product rule"},
}
UserId = Annotated[str, Path(min_length=1, max_length=64)]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class _Out(BaseModel):
    model_config = ConfigDict(extra="ignore")


class PaymentPasswordIn(_In):
    """The payment password, as the user typed it (six digits by default)."""

    password: str = Field(max_length=64)


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
