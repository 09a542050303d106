"""The gateway's batch of purchases (``POST /v1/purchases/batch``): up to ``MAX_BATCH`` purchases
in one request and one transaction, each with its own idempotency key and its own answer — the
answer ``POST /v1/accounts/{account_id}/purchases`` would have given it, the purchases taken one
after another in the order sent (``huabei.payments.service.authorise_purchases``).
``router(system)`` is included by ``huabei.entrypoints.http.app.create_app``."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from huabei.entrypoints import auth
from huabei.entrypoints.auth import allow
from huabei.entrypoints.http.common import MAX_ID, Caller
from huabei.entrypoints.http.error_detail import error_detail
from huabei.entrypoints.http.schemas import ErrorDetail, ErrorOut, PurchaseIn, PurchaseOut
from huabei.errors import HuabeiError
from huabei.lines.purchase_rules import Channel, PurchaseRequest
from huabei.payments import service as purchases
from huabei.platform.idempotency import KEY_PATTERN, MAX_KEY_LENGTH, Outcome, Result
from huabei.platform.unit_of_work import Huabei

log = logging.getLogger("huabei.entrypoints.http")


class BatchPurchaseIn(PurchaseIn):
    """One purchase of a batch: the single route's body, the line it is for and its own key."""

    account_id: int = Field(ge=1, le=MAX_ID)
    #: what the single route takes in the ``Idempotency-Key`` header
    #: (another answers that purchase 400 invalid_idempotency_key, in its place in the results)
    idempotency_key: str = Field(min_length=1, max_length=MAX_KEY_LENGTH, json_schema_extra={"pattern": KEY_PATTERN})


class PurchaseBatchIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    purchases: list[BatchPurchaseIn] = Field(min_length=1, max_length=purchases.MAX_BATCH)


class PurchaseBatchResult(BaseModel):
    """One purchase's answer, in the order sent: ``status`` is the single route's status (201
    approved, 402 declined, 404, 409 …); ``purchase`` is its body when approved, ``error`` its
    error otherwise; ``replayed`` says the key had answered before."""

    idempotency_key: str
    status: int
    replayed: bool
    purchase: PurchaseOut | None = None
    error: ErrorDetail | None = None


class PurchaseBatchOut(BaseModel):
    results: list[PurchaseBatchResult]


def _answer(key: str, r: Result) -> dict[str, Any]:
    if isinstance(r, Outcome):
        body = PurchaseOut.model_validate(r.body).model_dump(mode="json")
        return {"idempotency_key": key, "status": r.status, "replayed": r.replayed, "purchase": body}
    if isinstance(r, HuabeiError):
        return {
            "idempotency_key": key,
            "status": r.http_status,
            "replayed": r.replayed,
            "error": error_detail(r.code, r.params),
        }
    log.error("unexpected error in a purchase batch", exc_info=r)  # a bug: that purchase wrote nothing
    return {"idempotency_key": key, "status": 500, "replayed": False, "error": error_detail("internal_error")}


def router(system: Huabei) -> APIRouter:
    r = APIRouter(prefix="/v1", tags=["money"])

    @r.post(
        "/purchases/batch",
        dependencies=[allow("gateway")],
        status_code=200,
        response_model=PurchaseBatchOut,
        responses={
            400: {"model": ErrorOut, "description": "Invalid request (nothing was decided)"},
            401: {"model": ErrorOut, "description": "No or an unknown API key"},
            403: {"model": ErrorOut, "description": "Not the gateway's key"},
        },
        summary="Authorise up to 100 purchases in one request",
    )
    def purchase_batch(request: Request, body: PurchaseBatchIn, caller: Caller) -> Any:
        """批量消费授权: the payment network sends up to 100 purchases (each with its line, its
        ``idempotency_key`` and the single route's body) and gets one answer per purchase, in
        order. They are decided in one transaction, one after another: two purchases of one line
        are decided as if sent one by one; a key repeated in the batch, or sent before, replays its
        first answer (a different body under it is 409 ``idempotency_conflict``); a decline, an
        unknown line or a frozen one answers for that purchase only. A body that fails validation
        (more than 100 purchases, a bad amount …) is 400 and decides nothing."""
        items = []
        for p in body.purchases:
            if p.password is not None:  # the burst guard in front of the 24-hour lock, per line
                auth.hit(request, "password", str(p.account_id))
            req = PurchaseRequest(
                p.account_id,
                p.amount,
                p.merchant_id,
                p.merchant_category,
                Channel(p.channel),
                p.password,
                device_id=p.device_id,
            )
            items.append((req, p.idempotency_key))
        results = purchases.authorise_purchases(system, items, caller=caller)
        content = {"results": [_answer(p.idempotency_key, res) for p, res in zip(body.purchases, results, strict=True)]}
        return JSONResponse(status_code=200, content=content)

    return r
