"""What every router of the HTTP API shares: typed path ids, the idempotency header and the
response of a money-moving use case."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Header, Path, Request
from fastapi.responses import Response
from pydantic import BaseModel

from huabei.entrypoints.http.schemas import ErrorOut
from huabei.platform.idempotency import KEY_PATTERN, MAX_KEY_LENGTH, PUBLIC_CALLER, Outcome

#: The error answers every router of the API documents, in the error shape (``ErrorOut``);
#: ``huabei.entrypoints.http.contract`` adds the ones every operation can give (400, 413, and the
#: access answers 401/403/429 of ``auth.document``).
ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorOut, "description": "Invalid request"},
    404: {"model": ErrorOut, "description": "Not found"},
    409: {"model": ErrorOut, "description": "Conflict"},
    422: {"model": ErrorOut, "description": "Refused by a product rule"},
}


async def caller_of(request: Request) -> str:
    """Who is calling: the owner of the request's idempotency keys (a key is the caller's, across
    every money-moving endpoint): the API key's id (``key:7``), set by the route's access guard
    (``huabei.entrypoints.auth``), which runs before this. A request without one (none reaches a
    money-moving route) would share the public caller."""
    principal = getattr(request.state, "principal", None)
    return f"key:{principal.key_id}" if principal is not None else PUBLIC_CALLER


#: A money-moving route's caller (see :func:`caller_of`).
Caller = Annotated[str, Depends(caller_of)]

#: The largest id the API names: 2^53-1, the largest integer every JSON reader (a JavaScript
#: client's too) holds exactly. Ids are BIGINT in the database and never come near it.
MAX_ID = 2**53 - 1

#: Required on every money-moving POST: missing, 400 ``idempotency_key_required``; not 1-255
#: printable ASCII characters, 400 ``invalid_idempotency_key`` (``api.app`` maps the validation error).
IdemKey = Annotated[
    str,
    Header(
        alias="Idempotency-Key",
        min_length=1,
        max_length=MAX_KEY_LENGTH,
        pattern=KEY_PATTERN,
        description="Required on every money-moving POST: the caller's key for this one operation "
        "(a retry with the same key and body answers the first outcome again, Idempotent-Replayed: true)",
    ),
]

#: Path ids past :data:`MAX_ID` cannot name a row: the 404 of an unknown id, never a database
#: overflow (a 500).
AccountId = Annotated[int, Path(ge=1, le=MAX_ID)]
PurchaseId = Annotated[int, Path(ge=1, le=MAX_ID)]
RestrictionId = Annotated[int, Path(ge=1, le=MAX_ID)]
PlanId = Annotated[int, Path(ge=1, le=MAX_ID)]
WindowId = Annotated[int, Path(ge=1, le=MAX_ID)]
#: A user id in a path: what ``POST /v1/users`` accepts.
USER_ID_PATTERN = r"^[A-Za-z0-9_.:-]+$"
UserId = Annotated[str, Path(min_length=1, max_length=64, pattern=USER_ID_PATTERN)]
#: A bill period or a bureau month in a path: ``YYYY-MM``.
MONTH_PATTERN = r"^[0-9]{4}-(0[1-9]|1[0-2])$"
Period = Annotated[str, Path(pattern=MONTH_PATTERN, examples=["2026-11"])]
Month = Annotated[str, Path(pattern=MONTH_PATTERN, examples=["2026-11"])]

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


def outcome_response(outcome: Outcome, model: type[BaseModel]) -> Response:
    """A use case's outcome as JSON through its response model; a replayed idempotent request
    says so in ``Idempotent-Replayed``."""
    body = model.model_validate(outcome.body).model_dump_json()  # validated and written once, by pydantic-core
    headers = {"Idempotent-Replayed": "true"} if outcome.replayed else None
    return Response(body, status_code=outcome.status, headers=headers, media_type="application/json")
