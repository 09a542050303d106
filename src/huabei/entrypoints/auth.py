"""Who may call what, over HTTP: every route declares its roles with :func:`allow`.

``@r.get("/accounts/{account_id}", dependencies=[allow("customer", "agent", "risk", own="account_id")])``

The guard authenticates the caller (``Authorization: Bearer KEY``, or the web session cookie),
applies the per-key rate limit, checks the role (``admin`` may call everything) and, for a
customer, that the thing named by the path parameter ``own`` is theirs. A route with no
declaration answers 403 ``route_not_declared`` to everyone (default deny), and the role x
endpoint matrix test, generated from the app's routes, fails. Every denial and every call that
may change state (any method but GET/HEAD/OPTIONS) is written to the audit log by
:class:`AuditMiddleware` with the caller's key.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any
from urllib.parse import parse_qsl

import anyio
from fastapi import Depends, FastAPI, Request
from fastapi.params import Depends as DependsParam
from fastapi.routing import APIRoute, iter_route_contexts
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from huabei.access import service as access
from huabei.access import sessions
from huabei.access.ratelimit import Limiter, RateLimited, Rule
from huabei.access.roles import PUBLIC, Decision, Policy, Principal, Role, decide, policy
from huabei.clock import wall_now
from huabei.config import AccessTerms
from huabei.errors import ErrorKind, HuabeiError
from huabei.i18n import N_
from huabei.platform import request_audit

log = logging.getLogger("huabei.entrypoints.auth")

_bearer = HTTPBearer(auto_error=False, description="An API key: `huabei keys create --role ROLE`")

#: The path parameters a customer's ownership is checked on (``own=``): the access service maps
#: each to the user who owns what it names.
OWNERSHIP = frozenset({"user_id", "account_id", "purchase_id", "restriction_id", "plan_id"})

#: The web login's cookies: the signed session (``huabei.access.sessions``) and the CSRF token.
SESSION_COOKIE = "hb_session"
CSRF_COOKIE = "hb_csrf"
_SAFE = frozenset({"GET", "HEAD", "OPTIONS"})


class Guard:
    """One route's declaration, and the dependency that enforces it."""

    def __init__(self, p: Policy):
        if p.own is not None and p.own not in OWNERSHIP:
            raise ValueError(f"own={p.own!r}: add a resolver for it to auth.OWNERSHIP and access.service.owner_of")
        self.policy = p

    async def __call__(
        self, request: Request, creds: HTTPAuthorizationCredentials | None = Depends(_bearer)
    ) -> Principal | None:
        """Runs on the event loop (no thread of its own) when the key was found valid a moment ago
        (``access.key_cache_seconds``); the database is read in a worker thread."""
        if self.policy.public:
            return None
        principal = _recently_valid(request, creds)
        if principal is None:
            principal = await anyio.to_thread.run_sync(authenticate, request, creds)
        verdict = decide(self.policy, principal)
        if verdict is Decision.WRONG_ROLE:
            raise HuabeiError("forbidden", ErrorKind.FORBIDDEN, role=principal.role.value)
        if verdict is Decision.CHECK_OWNER:
            assert self.policy.own is not None
            value = request.path_params.get(self.policy.own)
            owner = await anyio.to_thread.run_sync(_owner, request, self.policy.own, value)
            if owner is not None and owner != principal.user_id:
                raise HuabeiError("not_owner", ErrorKind.FORBIDDEN)
            # owner None: nothing by that id (or an id that cannot be one): the route answers its 404
        return principal


def allow(*roles: str, own: str | None = None, own_in_body: bool = False, any_customer: bool = False) -> DependsParam:
    """The route's declaration: these roles (and ``admin``) may call it; a customer only on what
    the path parameter ``own`` names of theirs (``own_in_body=True``: the handler checks the body;
    ``any_customer=True``: what it shows is nobody's own)."""
    return Depends(Guard(policy(*roles, own=own, own_in_body=own_in_body, any_customer=any_customer)))


class PublicGuard(Guard):
    """A public route's declaration: no key is read (and the OpenAPI document asks for none)."""

    async def __call__(self) -> None:  # type: ignore[override]
        return None


def allow_public() -> DependsParam:
    """No key needed (the health check, the login form, the documentation)."""
    return Depends(PublicGuard(PUBLIC))


def current_principal(request: Request) -> Principal:
    """The authenticated caller of this request (after the route's guard ran)."""
    p = getattr(request.state, "principal", None)
    if p is None:
        raise HuabeiError("unauthenticated", ErrorKind.UNAUTHENTICATED)
    return p  # type: ignore[no-any-return]


def require_user(principal: Principal, user_id: str) -> None:
    """For ``own_in_body`` routes: a customer may act only for their own user."""
    if principal.role is Role.CUSTOMER and principal.user_id != user_id:
        raise HuabeiError("not_owner", ErrorKind.FORBIDDEN)


def require_owner(request: Request, principal: Principal, kind: str, value: Any) -> None:
    """For ``own_in_body`` routes: a customer may act only on what their user owns."""
    if principal.role is Role.CUSTOMER:
        owner = _owner(request, kind, value)
        if owner is not None and owner != principal.user_id:
            raise HuabeiError("not_owner", ErrorKind.FORBIDDEN)


def _owner(request: Request, kind: str, value: Any) -> str | None:
    if value is None:
        return None
    if kind != "user_id":
        try:
            n = int(value)
        except (TypeError, ValueError):
            return None
        if not 1 <= n < 2**63:
            return None
        value = n
    return access.owner_of(request.app.state.system, kind, value)


def authenticate(request: Request, creds: HTTPAuthorizationCredentials | None) -> Principal:
    """The caller of this request (may read the database: call it from a worker thread)."""
    system = request.app.state.system
    limiter: Limiter = request.app.state.limiter
    terms: AccessTerms = system.terms.access
    principal: Principal | None = None
    try:
        if creds is not None:
            principal = access.authenticate(system, creds.credentials, max_age=terms.key_cache_seconds)
        else:
            principal = session_principal(request)
            if principal is None:
                raise HuabeiError("unauthenticated", ErrorKind.UNAUTHENTICATED)
    except HuabeiError as e:
        if e.kind is ErrorKind.UNAUTHENTICATED:
            _hit(limiter, "auth_fail", _client(request))
        raise
    return _accepted(request, principal)


def _recently_valid(request: Request, creds: HTTPAuthorizationCredentials | None) -> Principal | None:
    """The caller, when its key was found valid less than ``access.key_cache_seconds`` ago (no
    database read); None: :func:`authenticate` must look."""
    if creds is None:
        return None
    system = request.app.state.system
    principal = access.recently_valid(system, creds.credentials, system.terms.access.key_cache_seconds)
    return _accepted(request, principal) if principal is not None else None


def _accepted(request: Request, principal: Principal) -> Principal:
    """The request's caller is ``principal``: counted against its key's rate limit."""
    request.state.principal = principal
    rule = Rule(request.app.state.system.terms.access.key_requests_per_minute.get(principal.role.value, 0), 60)
    _hit(request.app.state.limiter, "key", str(principal.key_id), rule)
    return principal


def session_principal(request: Request) -> Principal | None:
    """The caller of a web session cookie whose key is still valid (None: no valid session)."""
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        return None
    key_id = sessions.verify(access.server_secret(), token, int(wall_now().timestamp()))
    return access.principal_of_key(request.app.state.system, key_id) if key_id is not None else None


def start_session(system: Any, key_id: int) -> tuple[str, int]:
    """A session token for ``key_id`` and its lifetime in seconds (``access.session_hours``)."""
    seconds = system.terms.access.session_hours * 3600
    return sessions.issue(access.server_secret(), key_id, int(wall_now().timestamp()) + seconds), seconds


MAX_FORM_BYTES = 16_384


async def form_data(request: Request) -> dict[str, str]:
    """An HTML form's fields (``application/x-www-form-urlencoded``; the first value of each)."""
    if not request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
        return {}
    body = await request.body()  # cached on the request: the handler reads it again
    if len(body) > MAX_FORM_BYTES:
        raise HuabeiError("invalid_request", ErrorKind.INVALID_REQUEST, detail=N_("the form is too large"))
    try:
        pairs = parse_qsl(body.decode("utf-8"), keep_blank_values=True, max_num_fields=50)
    except (UnicodeDecodeError, ValueError):
        raise HuabeiError(
            "invalid_request", ErrorKind.INVALID_REQUEST, detail=N_("the form could not be read")
        ) from None
    out: dict[str, str] = {}
    for k, v in pairs:
        out.setdefault(k, v)
    return out


async def csrf_gate(request: Request) -> None:
    """App-wide dependency: a state-changing request carried by the session cookie (not a bearer
    key) — and the login form itself — must send the CSRF token of its cookie, as the form field
    ``csrf`` or the ``X-CSRF-Token`` header."""
    if request.method in _SAFE or request.headers.get("authorization"):
        return
    if SESSION_COOKIE not in request.cookies and request.url.path != "/login":
        return
    sent = request.headers.get("x-csrf-token")
    if sent is None:
        sent = (await form_data(request)).get("csrf")
    if not sessions.same_token(sent, request.cookies.get(CSRF_COOKIE)):
        raise HuabeiError("csrf_failed", ErrorKind.FORBIDDEN)


def _client(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def _hit(limiter: Limiter, what: str, who: str, rule: Rule | None = None) -> None:
    try:
        limiter.hit(what, who, rule)
    except RateLimited as e:
        raise HuabeiError("rate_limited", ErrorKind.RATE_LIMITED, retry_after=e.retry_after) from None


def limiter_for(terms: AccessTerms) -> Limiter:
    """The app's rate limits (per process), from the product terms."""
    return Limiter(
        {
            "auth_fail": Rule(terms.failed_auth_attempts, terms.failed_auth_window_seconds),
            "login": Rule(terms.login_attempts, terms.login_window_seconds),
            "password": Rule(terms.password_attempts, terms.password_window_seconds),
            "key": Rule(0, 60),  # per role, given at each hit
        }
    )


def hit(request: Request, what: str, who: str) -> None:
    """Count one attempt of ``what`` (``login``, ``password``) by ``who``; 429 when over its limit."""
    _hit(request.app.state.limiter, what, who)


# --- default deny -----------------------------------------------------------------------


def declared_policy(route: APIRoute) -> Policy | None:
    """The route's declaration (None: it has none, and so answers 403 to everyone)."""
    guards = [d.call for d in route.dependant.dependencies if isinstance(d.call, Guard)]
    return guards[0].policy if len(guards) == 1 else None


async def gate(request: Request) -> None:
    """App-wide dependency: a route without exactly one declaration is closed to everyone."""
    route = request.scope.get("route")
    if isinstance(route, APIRoute) and declared_policy(route) is None:
        raise HuabeiError("route_not_declared", ErrorKind.FORBIDDEN)


def api_routes(app: FastAPI) -> list[tuple[str, str, APIRoute]]:
    """Every (method, full path, route) of the app, through included routers."""
    out = []
    for rc in iter_route_contexts(app.routes):
        route = rc.original_route
        if isinstance(route, APIRoute):
            for method in sorted((rc.methods or set()) - {"HEAD"}):
                out.append((method, str(rc.path), route))
    return out


def document(app: FastAPI, error_schema: str = "ErrorOut") -> None:
    """State the access answers (401, 403, 429) on every operation that needs a key in the OpenAPI
    document (those the bearer scheme secures), in the error shape."""
    answers = {
        "401": "No valid API key or session (WWW-Authenticate: Bearer)",
        "403": "The key's role may not call this endpoint, or the customer does not own what it names",
        "429": "Too many requests; Retry-After says how many seconds to wait",
    }
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = build()
        ref = {"$ref": f"#/components/schemas/{error_schema}"}
        for ops in schema.get("paths", {}).values():
            for op in ops.values():
                if isinstance(op, dict) and op.get("security"):
                    for status, text in answers.items():
                        op.setdefault("responses", {}).setdefault(
                            status, {"description": text, "content": {"application/json": {"schema": ref}}}
                        )
        return schema

    app.openapi = openapi  # type: ignore[method-assign]


# --- the audit log ----------------------------------------------------------------------


def _printable(text: str) -> str:
    """A path as the audit log keeps it: control characters (a NUL cannot be stored on PostgreSQL) escaped."""
    if text.isprintable():  # the usual case: nothing to escape
        return text
    return "".join(ch if ch.isprintable() else f"\\x{ord(ch):02x}" for ch in text)


Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
ASGIApp = Callable[[Scope, Callable[[], Awaitable[Message]], Callable[[Message], Awaitable[None]]], Awaitable[None]]

_READS = frozenset({"GET", "HEAD", "OPTIONS"})
_DENIALS = frozenset({401, 403, 429})


class AuditMiddleware:
    """Writes an audit row for every denial and every call that may change state, with its actor."""

    def __init__(self, app: ASGIApp, system: Any):
        self.app = app
        self.system = system

    async def __call__(
        self, scope: Scope, receive: Callable[[], Awaitable[Message]], send: Callable[[Message], Awaitable[None]]
    ) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        status = {"code": 500}

        async def _send(message: Message) -> None:
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
            await send(message)

        changes = scope["method"] not in _READS
        audit = request_audit.RequestAudit(fields=lambda: _fields(scope, _route_status(scope), None))
        token = request_audit.current.set(audit) if changes else None
        try:
            await self.app(scope, receive, _send)
        finally:
            audit.closed = True
            if token is not None:
                request_audit.current.reset(token)
            code = status["code"]
            if changes or code in _DENIALS:
                row = _fields(scope, code, (scope.get("state") or {}).get("error_code"))
                if not (audit.audit_id is not None and _answered_as_written(row, audit.written)):
                    await anyio.to_thread.run_sync(self._record, row, audit.audit_id)

    def _record(self, row: dict[str, Any], audit_id: int | None) -> None:
        try:
            if audit_id is not None:  # written with the state change: the answer completes it
                access.complete(self.system, audit_id, row["status"], row["outcome"], row["code"])
            else:
                access.record(self.system, [row])
        except Exception:  # the answer is already sent; a lost audit row is logged loudly
            log.exception("audit row not written: %s", row)


def _line_of(scope: Scope) -> int | None:
    """The ``account_id`` path parameter of the route called, when it is one."""
    value = (scope.get("path_params") or {}).get("account_id")
    try:
        n = int(value) if value is not None else None
    except (TypeError, ValueError):
        return None
    return n if n is not None and 1 <= n < 2**63 else None


def _answered_as_written(row: dict[str, Any], written: dict[str, Any] | None) -> bool:
    """The answer is what the row written with the state change already says (status, outcome,
    code): nothing to complete."""
    return written is not None and all(row[k] == written.get(k) for k in ("status", "outcome", "code"))


def _route_status(scope: Scope) -> int:
    """The route's success status (201 for a creation), until the answer says otherwise."""
    return int(getattr(scope.get("route"), "status_code", None) or 200)


def _fields(scope: Scope, status: int, code: str | None) -> dict[str, Any]:
    """An audit row of this request: who (the key the guard accepted), what, and the answer."""
    state = scope.get("state") or {}
    principal: Principal | None = state.get("principal")
    route = scope.get("route")
    template = getattr(route, "path", None) or scope["path"]
    if status in _DENIALS:
        outcome = "denied"
    elif status < 400:
        outcome = "ok"
    else:
        outcome = "refused"
    return {
        "key_id": principal.key_id if principal else None,
        "role": principal.role.value if principal else None,
        "user_id": principal.user_id if principal else None,
        "actor": principal.actor if principal else None,
        # the line the route names (a change's first event overrides it: huabei.platform.unit_of_work)
        "account_id": _line_of(scope),
        "method": scope["method"][:8],
        "route": _printable(str(template))[:200],
        "path": _printable(scope["path"])[:500],
        "status": status,
        "outcome": outcome,
        "code": code,
    }
