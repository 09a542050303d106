"""HTTP endpoints the risk engine reads from and reports through: a user's phone and bank-card
changes, identity re-verification, the host's reports of other credit products, the policy in
force and an account's risk decisions. ``router(system)`` is included by
``huabei.entrypoints.http.app.create_app``; errors are the app's ``{"error": {...}}``."""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from huabei.entrypoints.auth import allow
from huabei.entrypoints.http.common import ERRORS, AccountId, UserId
from huabei.entrypoints.http.schemas import WholeNumber, YuanIn, _In
from huabei.lines import service as lines
from huabei.platform.unit_of_work import Huabei
from huabei.risk import evaluation
from huabei.risk import service as risk


class ContactChangeIn(_In):
    """换绑: a new phone number and / or bank card (as the host masks it, e.g. ``6222****1234``)."""

    #: at least one of the two (the service refuses neither: 400 invalid_request)
    model_config = ConfigDict(
        json_schema_extra={
            "anyOf": [
                {"required": ["phone"], "properties": {"phone": {"type": "string"}}},
                {"required": ["bank_card"], "properties": {"bank_card": {"type": "string"}}},
            ]
        }
    )

    phone: str | None = Field(default=None, min_length=1, max_length=32)
    bank_card: str | None = Field(default=None, min_length=1, max_length=64)


class VerificationIn(_In):
    """身份核验 the host performed (face, ID document, bank card …)."""

    method: str = Field(min_length=1, max_length=32)


class ExternalCreditIn(_In):
    """The user's standing on another credit product, as the host reports it today."""

    product: str = Field(min_length=1, max_length=64)
    days_past_due: WholeNumber = Field(ge=0, le=100_000)
    amount_overdue: YuanIn = 0


class ContactChangeOut(BaseModel):
    user_id: str
    phone: str
    changed: list[str]


class VerificationOut(BaseModel):
    verification_id: int
    user_id: str
    method: str
    business_date: dt.date
    lifted: list[int]


class ExternalCreditOut(BaseModel):
    report_id: int
    user_id: str
    product: str
    days_past_due: int
    reported_on: dt.date


def router(system: Huabei) -> APIRouter:
    r = APIRouter(prefix="/v1", responses=ERRORS)

    @r.patch(
        "/users/{user_id}",
        dependencies=[allow("customer", "agent", "gateway", own="user_id")],
        response_model=ContactChangeOut,
        tags=["users"],
    )
    def update_contact(user_id: UserId, body: ContactChangeIn) -> Any:
        """Change the phone number and / or bank card; each change is recorded (frequent changes
        are a takeover signal, docs/risk.md)."""
        return lines.update_contact(system, user_id, phone=body.phone, bank_card=body.bank_card)

    @r.post(
        "/users/{user_id}/verifications",
        dependencies=[allow("agent", "gateway")],
        status_code=201,
        response_model=VerificationOut,
        tags=["users"],
    )
    def verify(user_id: UserId, body: VerificationIn) -> Any:
        """The host re-verified the user's identity: recorded, and a suspected takeover on the
        user's lines is lifted at once."""
        return evaluation.verify_identity(system, user_id, method=body.method)

    @r.post(
        "/users/{user_id}/external-credit-reports",
        dependencies=[allow("gateway", "risk")],
        status_code=201,
        response_model=ExternalCreditOut,
        tags=["risk"],
    )
    def report_external(user_id: UserId, body: ExternalCreditIn) -> Any:
        """The user's days past due on another credit product (0: nothing overdue); the end-of-day
        risk run freezes a line for a serious overdue elsewhere and lifts it once cleared."""
        return risk.report_external_credit(
            system, user_id, product=body.product, days_past_due=body.days_past_due, amount_overdue=body.amount_overdue
        )

    @r.get("/risk/policy", dependencies=[allow("risk", "agent")], tags=["risk"])
    def policy() -> Any:
        """The risk policy in force, its rules, the shadow one and every activation."""
        return risk.show(system)

    @r.get("/accounts/{account_id}/risk-decisions", dependencies=[allow("risk", "agent")], tags=["risk"])
    def decisions(account_id: AccountId) -> Any:
        """Every decision of the risk policies on this line (live and shadow), with evidence."""
        with system.uow(readonly=True) as uow:
            return {"data": evaluation.decisions_for(uow, account_id)}

    return r
