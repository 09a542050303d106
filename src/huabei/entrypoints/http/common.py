"""What every router of the HTTP API shares: typed path ids, the idempotency header and the
response of a money-moving use case."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Header, Path, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from huabei.platform.idempotency import PUBLIC_CALLER, Outcome


def caller_of(request: Request) -> str:
    """Who is calling: the owner of the request's idempotency keys (a key is the caller's, across
    every money-moving endpoint): the API key's id (``key:7``), set by the route's access guard
    (``huabei.entrypoints.auth``), which runs before this. A request without one (none reaches a
    money-moving route) would share the public caller."""
    principal = getattr(request.state, "principal", None)
    return f"key:{principal.key_id}" if principal is not None else PUBLIC_CALLER


#: A money-moving route's caller (see :func:`caller_of`).
Caller = Annotated[str, Depends(caller_of)]

#: The largest id a BIGINT column holds.
MAX_ID = 2**63 - 1

IdemKey = Annotated[str | None, Header(alias="Idempotency-Key", description="Required on every money-moving POST")]

#: Path ids are BIGINT in the database: one past 2^63-1 cannot name a row (and SQLite cannot
#: even bind it), so it is the 404 of an unknown id — never a database overflow, a 500.
AccountId = Annotated[int, Path(ge=1, le=MAX_ID)]
PurchaseId = Annotated[int, Path(ge=1, le=MAX_ID)]
RestrictionId = Annotated[int, Path(ge=1, le=MAX_ID)]
PlanId = Annotated[int, Path(ge=1, le=MAX_ID)]
WindowId = Annotated[int, Path(ge=1, le=MAX_ID)]

#: A path id past BIGINT is the 404 of its kind; one that is not a positive whole number
#: ("abc", "-1", "0") is ``400 invalid_id`` (``api.app`` turns the validation error into these).
NOT_FOUND_BY_PATH_PARAM = {
    "account_id": "account_not_found",
    "purchase_id": "purchase_not_found",
    "restriction_id": "restriction_not_found",
    "user_id": "user_not_found",
    "plan_id": "installment_plan_not_found",
    "window_id": "maintenance_window_not_found",
    "appeal_id": "appeal_not_found",
}


def outcome_response(outcome: Outcome, model: type[BaseModel]) -> JSONResponse:
    """A use case's outcome as JSON through its response model; a replayed idempotent request
    says so in ``Idempotent-Replayed``."""
    body = model.model_validate(outcome.body).model_dump(mode="json")
    headers = {"Idempotent-Replayed": "true"} if outcome.replayed else None
    return JSONResponse(status_code=outcome.status, content=body, headers=headers)
