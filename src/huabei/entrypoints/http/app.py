"""The HTTP API (FastAPI). Thin: it parses, calls a service use case, formats.

Errors are always ``{"error": {"code", "message", "message_zh", ...}}`` with a
stable code; a request that fails validation changes nothing.
"""

from __future__ import annotations

import json
import logging
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse
from sqlalchemy.exc import DBAPIError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from huabei import __version__, field_names, reasons
from huabei.batch import books
from huabei.entrypoints import auth
from huabei.entrypoints.auth import allow, allow_public
from huabei.entrypoints.http import contract, edge, validation
from huabei.entrypoints.http import schemas as s
from huabei.entrypoints.http.common import (
    ERRORS,
    MAX_ID,
    NOT_FOUND_BY_PATH_PARAM,
    AccountId,
    Caller,
    IdemKey,
    PurchaseId,
    RestrictionId,
    UserId,
    outcome_response,
)
from huabei.entrypoints.http.error_detail import error_detail
from huabei.errors import ErrorKind, HuabeiError
from huabei.lines import queries
from huabei.lines import service as accounts
from huabei.lines.purchase_rules import Channel, PurchaseRequest
from huabei.money import MAX_AMOUNT_FEN, format_yuan
from huabei.onboarding import service as onboarding
from huabei.payments import service as purchases
from huabei.platform import admin
from huabei.platform.unit_of_work import Huabei
from huabei.restrictions import service as restrictions
from huabei.risk import service as risk

log = logging.getLogger("huabei.entrypoints.http")

Limit = Annotated[int, Query(ge=1, le=queries.MAX_PAGE, description="Page size")]
#: Ids are BIGINT in the database: a larger integer cannot name a row (and SQLite cannot even bind it).
Cursor = Annotated[int | None, Query(ge=0, le=MAX_ID, description="next_cursor of the previous page")]


def error_response(status: int, code: str, params: dict[str, Any] | None = None) -> JSONResponse:
    return JSONResponse(status_code=status, content={"error": error_detail(code, params)})


def _validation_error(exc: RequestValidationError) -> JSONResponse:
    errs = exc.errors()
    for e in errs:
        loc = tuple(e.get("loc", ()))
        if len(loc) == 2 and loc[0] == "path" and loc[1] in NOT_FOUND_BY_PATH_PARAM and loc[1] != "user_id":
            if e.get("type") == "less_than_equal":  # a whole number past MAX_ID: names no row
                return error_response(404, NOT_FOUND_BY_PATH_PARAM[str(loc[1])], {str(loc[1]): e.get("input")})
            # not a whole number, or not positive ("abc", "-1", "0"): a malformed id
            return error_response(400, "invalid_id", {"field": str(loc[1]), "value": str(e.get("input"))[:40]})
        if loc in (("path", "period"), ("path", "month")):  # not YYYY-MM
            return error_response(400, "invalid_period" if loc[1] == "period" else "invalid_month")
    for e in errs:
        if e.get("type") == "json_invalid":
            return error_response(400, "malformed_json")
    for e in errs:
        if e.get("type") == "free_form_too_large":
            where = ".".join(str(p) for p in e.get("loc", ()) if p != "body") or "body"
            ctx = e.get("ctx") or {}
            return error_response(400, "field_too_large", {"field": where, "limit": ctx.get("limit", "")})
    for e in errs:
        if e.get("type") == "control_character":
            return error_response(400, "control_character", {"field": (e.get("ctx") or {}).get("field", "body")})
    for e in errs:
        # raised by the amount parsers of schemas.py only: a present but unparseable amount.
        # A *missing* amount is a missing field (invalid_request), and the query parameter
        # ``limit`` is a page size, not money.
        if e.get("type") == "invalid_amount":
            return error_response(400, "invalid_amount")
        if e.get("type") == "amount_too_large":
            return error_response(400, "amount_too_large", {"maximum": format_yuan(MAX_AMOUNT_FEN)})
    for e in errs:
        if e.get("type") == "invalid_date":
            return error_response(400, "invalid_date")
    for e in errs:
        if tuple(e.get("loc", ()))[:2] == ("query", "starting_after"):
            return error_response(400, "invalid_cursor")
    for e in errs:
        if tuple(e.get("loc", ()))[:2] == ("header", "Idempotency-Key"):
            absent = e.get("type") == "missing" or e.get("input") == ""
            code = "idempotency_key_required" if absent else "invalid_idempotency_key"
            return error_response(400, code)
    first = errs[0] if errs else {}
    where = ".".join(str(p) for p in first.get("loc", ()) if p != "body") or "body"
    detail = f"{where}: {first.get('msg', 'invalid value')}"
    resp = error_response(400, "invalid_request", {"detail": detail})
    # pydantic speaks English only: the Chinese message says the same in Chinese
    body = json.loads(bytes(resp.body))
    body["error"]["message_zh"] = reasons.message(
        "invalid_request", "zh_CN", detail=f"{field_names.label(where, 'zh_CN')}：{validation.explain(first, 'zh_CN')}"
    )
    return JSONResponse(status_code=400, content=body)


_outcome = outcome_response


def _account(view: dict[str, Any]) -> dict[str, Any]:
    for r in view.get("restrictions", []):
        r.update(_restriction_texts(r))
    return view


def create_app(system: Huabei | None = None) -> FastAPI:
    system = system or Huabei.from_env()
    app = FastAPI(
        title="huabei",
        version=__version__,
        description="An open-source consumer credit line (花呗). Amounts are strings of yuan with at most two "
        "decimals; money-moving POSTs need an `Idempotency-Key` header. Every call needs an API key "
        "(`Authorization: Bearer KEY`, made by `huabei keys create --role ROLE`); each route says which roles "
        "may call it (docs/access.md).",
        # default deny (a route with no declaration answers 403); CSRF on the web session's forms
        dependencies=[Depends(auth.gate), Depends(auth.csrf_gate)],
        docs_url=None,  # served offline by entrypoints.web.docs
        redoc_url=None,
    )
    app.state.system = system

    async def _too_large(scope: Any, receive: Any, send: Any) -> None:
        resp = error_response(413, "request_too_large", {"limit": f"{edge.MAX_BODY_BYTES // 1024} KB"})
        await resp(scope, receive, send)

    app.add_middleware(edge.BodyLimit, too_large=_too_large)
    app.state.limiter = auth.limiter_for(system.terms.access)

    app.add_middleware(
        edge.PrintableUrl,
        bad=lambda field: error_response(400, "control_character", {"field": field}),
        is_bad=lambda text: s.bad_character(text) is not None,
    )

    @app.exception_handler(HuabeiError)
    async def _huabei_error(req: Request, exc: HuabeiError) -> JSONResponse:
        req.state.error_code = exc.code  # for the audit log
        resp = error_response(exc.http_status, exc.code, exc.params)
        if exc.replayed:  # a stored refusal answered again for its Idempotency-Key
            resp.headers["Idempotent-Replayed"] = "true"
        if exc.kind is ErrorKind.UNAUTHENTICATED:
            if req.method == "GET" and not req.url.path.startswith("/v1/"):  # a page: to the login form
                return RedirectResponse(f"/login?lang={req.query_params.get('lang') or 'zh'}", status_code=303)
            resp.headers["WWW-Authenticate"] = "Bearer"
        if exc.kind is ErrorKind.RATE_LIMITED:
            resp.headers["Retry-After"] = str(exc.params.get("retry_after", 1))
        return resp

    @app.exception_handler(RequestValidationError)
    async def _invalid(_req: Request, exc: RequestValidationError) -> JSONResponse:
        return _validation_error(exc)

    @app.exception_handler(StarletteHTTPException)
    async def _http(req: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = {404: "route_not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
        resp = error_response(exc.status_code, code, {"detail": str(exc.detail)})
        for name, value in (exc.headers or {}).items():
            resp.headers[name] = value
        if exc.status_code == 405:  # Allow: every method some route of this path answers
            methods = [
                m
                for m in ("DELETE", "GET", "PATCH", "POST", "PUT")
                if any(r.matches({**req.scope, "method": m})[0] is Match.FULL for r in req.app.router.routes)
            ]
            if methods:
                resp.headers["Allow"] = ", ".join(methods)
        return resp

    @app.exception_handler(Exception)
    async def _unexpected(_req: Request, exc: Exception) -> JSONResponse:
        if isinstance(exc, DBAPIError) and (behind := _unmigrated(system)) is not None:
            return error_response(503, "database_not_migrated", {"current": behind[0] or "empty", "head": behind[1]})
        log.exception("unexpected error", exc_info=exc)  # pragma: no cover - a bug
        return error_response(500, "internal_error")  # pragma: no cover

    v1 = APIRouter(prefix="/v1", responses=ERRORS)

    # --- users and accounts ---------------------------------------------------
    @v1.post("/users", dependencies=[allow()], status_code=201, response_model=s.UserOut, tags=["users"])
    def register_user(body: s.UserIn) -> Any:
        profile = body.profile.model_dump(mode="json", exclude_none=True) if body.profile else {}
        return accounts.register_user(
            system,
            user_id=body.user_id,
            name=body.name,
            phone=body.phone,
            real_name_verified=body.real_name_verified,
            profile=profile,
        )

    @v1.get(
        "/users/{user_id}",
        dependencies=[allow("customer", "agent", "risk", own="user_id")],
        response_model=s.UserOut,
        tags=["users"],
    )
    def get_user(user_id: UserId) -> Any:
        return accounts.get_user(system, user_id)

    @v1.post(
        "/accounts",
        dependencies=[allow("customer", own_in_body=True)],
        status_code=201,
        response_model=s.AccountOut,
        tags=["accounts"],
    )
    def open_account(body: s.AccountIn, principal: auth.Principal = Depends(auth.current_principal)) -> Any:
        auth.require_user(principal, body.user_id)
        # the decision grants the limit; the platform funds a line a user opens
        if principal.role is auth.Role.CUSTOMER and (body.base_limit is not None or body.funding_source is not None):
            raise HuabeiError("forbidden", ErrorKind.FORBIDDEN, role=principal.role.value)
        return _account(
            onboarding.open_account(
                system,
                user_id=body.user_id,
                base_limit=body.base_limit,
                funding_source=body.funding_source or "platform",
            )
        )

    @v1.get(
        "/accounts/{account_id}",
        dependencies=[allow("customer", "agent", "risk", own="account_id")],
        response_model=s.AccountOut,
        tags=["accounts"],
    )
    def get_account(account_id: AccountId) -> Any:
        return _account(accounts.account_view(system, account_id))

    @v1.put(
        "/accounts/{account_id}/base-limit", dependencies=[allow("risk")], response_model=s.AccountOut, tags=["limits"]
    )
    def set_base_limit(account_id: AccountId, body: s.BaseLimitIn) -> Any:
        return _account(accounts.set_base_limit(system, account_id, base_limit=body.base_limit))

    @v1.post(
        "/accounts/{account_id}/temporary-limits",
        dependencies=[allow("risk")],
        status_code=201,
        response_model=s.AccountOut,
        tags=["limits"],
    )
    def grant_temporary_limit(account_id: AccountId, body: s.TemporaryLimitIn) -> Any:
        return _account(
            accounts.grant_temporary_limit(system, account_id, amount=body.amount, expires_on=body.expires_on)
        )

    # --- money movements ------------------------------------------------------
    @v1.post(
        "/accounts/{account_id}/purchases",
        dependencies=[allow("gateway")],
        status_code=201,
        response_model=s.PurchaseOut,
        responses={
            402: {
                "model": s.ErrorOut,
                "description": "Declined: category_not_allowed, amount_over_single_limit, maintenance, "
                "password_locked, password_required, wrong_password, account_closed, account_overdue, "
                "brand_isolation (paused while a partner's balances move to 信用购), account_frozen, "
                "insufficient_limit",
            }
        },
        tags=["money"],
    )
    def purchase(
        request: Request, account_id: AccountId, body: s.PurchaseIn, caller: Caller, idempotency_key: IdemKey
    ) -> Any:
        if body.password is not None:  # the burst guard in front of the 24-hour lock (access.password_attempts)
            auth.hit(request, "password", str(account_id))
        req = PurchaseRequest(
            account_id,
            body.amount,
            body.merchant_id,
            body.merchant_category,
            Channel(body.channel),
            body.password,
            device_id=body.device_id,
        )
        return _outcome(purchases.authorise_purchase(system, req, idempotency_key, caller=caller), s.PurchaseOut)

    @v1.post(
        "/purchases/{purchase_id}/refunds",
        dependencies=[allow("gateway")],
        status_code=201,
        response_model=s.RefundOut,
        tags=["money"],
    )
    def refund(purchase_id: PurchaseId, body: s.AmountIn, caller: Caller, idempotency_key: IdemKey) -> Any:
        return _outcome(
            purchases.refund_purchase(system, purchase_id, body.amount, idempotency_key, caller=caller), s.RefundOut
        )

    @v1.post(
        "/accounts/{account_id}/repayments",
        dependencies=[allow("gateway", "customer", own="account_id")],
        status_code=201,
        response_model=s.RepaymentOut,
        tags=["money"],
    )
    def repay(account_id: AccountId, body: s.AmountIn, caller: Caller, idempotency_key: IdemKey) -> Any:
        return _outcome(
            purchases.repay(system, account_id, body.amount, idempotency_key, caller=caller), s.RepaymentOut
        )

    # --- history --------------------------------------------------------------
    @v1.get(
        "/accounts/{account_id}/transactions",
        dependencies=[allow("customer", "agent", "risk", own="account_id")],
        response_model=s.TransactionPage,
        tags=["history"],
    )
    def list_transactions(account_id: AccountId, limit: Limit = 20, starting_after: Cursor = None) -> Any:
        return queries.transactions(system, account_id, limit=limit, starting_after=starting_after)

    @v1.get(
        "/accounts/{account_id}/ledger",
        dependencies=[allow("customer", "agent", "risk", own="account_id")],
        response_model=s.PostingPage,
        tags=["history"],
    )
    def list_postings(account_id: AccountId, limit: Limit = 20, starting_after: Cursor = None) -> Any:
        return queries.postings(system, account_id, limit=limit, starting_after=starting_after)

    # --- restrictions ---------------------------------------------------------
    @v1.post(
        "/accounts/{account_id}/restrictions",
        status_code=201,
        response_model=s.RestrictionOut,
        tags=["restrictions"],
        dependencies=[allow("agent", "risk")],
    )
    def place_restriction(
        account_id: AccountId, body: s.RestrictionIn, principal: auth.Principal = Depends(auth.current_principal)
    ) -> Any:
        """An agent places only soft restrictions (409 ``restriction_hard_for_agent``, docs/access.md)."""
        r = restrictions.place_restriction(
            system,
            account_id,
            cause=body.cause,
            evidence=body.evidence,
            note=body.note,
            lifts_on=body.lifts_on,
            actor=principal.actor,
            check=risk.agent_check if principal.role is auth.Role.AGENT else None,
        )
        return {**r, **_restriction_texts(r)}

    @v1.post(
        "/restrictions/{restriction_id}/lift",
        dependencies=[allow("agent", "risk")],
        response_model=s.RestrictionOut,
        tags=["restrictions"],
    )
    def lift_restriction(
        restriction_id: RestrictionId,
        body: s.LiftIn | None = None,
        principal: auth.Principal = Depends(auth.current_principal),
    ) -> Any:
        """An agent lifts only soft restrictions (409 ``restriction_hard_for_agent``, docs/access.md)."""
        r = restrictions.lift_restriction(
            system,
            restriction_id,
            reason=(body or s.LiftIn()).reason,
            actor=principal.actor,
            check=risk.agent_check if principal.role is auth.Role.AGENT else None,
        )
        return {**r, **_restriction_texts(r)}

    # --- admin ----------------------------------------------------------------
    @v1.get("/admin/clock", dependencies=[allow("agent", "risk")], response_model=s.ClockOut, tags=["admin"])
    def get_clock() -> Any:
        return {"business_date": admin.business_date(system), "mode": system.clock_mode.value}

    @v1.post("/admin/clock", dependencies=[allow()], response_model=s.ClockOut, tags=["admin"])
    def set_clock(body: s.ClockIn) -> Any:
        return admin.set_business_date(system, body.date)

    @v1.get("/admin/ledger-check", dependencies=[allow("risk")], response_model=s.LedgerCheckOut, tags=["admin"])
    def ledger_check() -> Any:
        rep = books.ledger_check(system)
        return {
            "ok": rep.ok,
            "entries": rep.entries,
            "postings": rep.postings,
            "accounts": rep.accounts,
            "findings": [f.__dict__ for f in rep.findings],
        }

    app.include_router(v1)

    from huabei.entrypoints.http import billing as billing_api
    from huabei.entrypoints.http import flows as flows_api
    from huabei.entrypoints.http import scoring as scoring_api

    app.include_router(billing_api.router(system))
    app.include_router(scoring_api.router(system))
    app.include_router(flows_api.router(system, account_texts=_account))

    from huabei.entrypoints.http import diagnosis as diagnosis_api
    from huabei.entrypoints.http import risk as risk_api

    app.include_router(diagnosis_api.router(system))
    app.include_router(risk_api.router(system))

    from huabei.entrypoints.http import purchase_batch as purchase_batch_api

    app.include_router(purchase_batch_api.router(system))

    @app.get(
        "/healthz",
        dependencies=[allow_public()],
        tags=["admin"],
        response_model=dict[str, str],
        responses={503: {"description": "the database is unreachable or not migrated (`huabei db upgrade`)"}},
    )
    def healthz() -> Any:
        """200 ``ok`` with the business date only when the database answers and is migrated to
        the code's schema; 503 with what is wrong (``database_unreachable``,
        ``database_not_migrated`` and the command that fixes it) otherwise."""
        from huabei.platform import migrate

        try:
            behind = migrate.pending(engine=system.engine)
        except DBAPIError as e:
            detail = str(e.orig or e).strip().splitlines()[0][:200] if str(e.orig or e).strip() else "no answer"
            return JSONResponse(status_code=503, content={"status": "database_unreachable", "detail": detail})
        if behind is not None:
            return JSONResponse(
                status_code=503,
                content={
                    "status": "database_not_migrated",
                    "current": behind[0],
                    "head": behind[1],
                    "fix": "huabei db upgrade",
                },
            )
        return {"status": "ok", "business_date": admin.business_date(system).isoformat()}

    from huabei.entrypoints.web import docs as web_docs
    from huabei.entrypoints.web import session as web_session
    from huabei.entrypoints.web.pages import router as web_router

    app.include_router(web_docs.router(app.title))
    app.mount("/static", web_docs.static_files(), name="static")
    from huabei.entrypoints.web import appeals as web_appeals
    from huabei.entrypoints.web import customer as web_customer
    from huabei.entrypoints.web import staff as web_staff

    app.include_router(web_session.router(system))
    app.include_router(web_customer.router(system))
    app.include_router(web_staff.router(system))
    app.include_router(web_appeals.router(system))
    app.include_router(web_router(system))
    auth.document(app)
    contract.document(app, system.terms)
    app.add_middleware(auth.AuditMiddleware, system=system)
    return app


def _unmigrated(system: Huabei) -> tuple[str | None, str] | None:
    """(revision, head) when the database is not migrated to the code's head; None when it is
    (or cannot be reached: then the original error stands)."""
    from huabei.platform import migrate

    try:
        return migrate.pending(engine=system.engine)
    except DBAPIError:
        return None


def _restriction_texts(r: dict[str, Any]) -> dict[str, str | None]:
    """The cause's texts, its placeholders filled from the restriction's note and evidence."""
    t = reasons.render(r["cause"], reasons.cause_params(r["cause"], r.get("note"), r.get("evidence")))
    return {"message": t["message"], "message_zh": t["message_zh"], "remedy": t["remedy"], "remedy_zh": t["remedy_zh"]}
