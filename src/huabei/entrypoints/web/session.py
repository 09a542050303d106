"""The web login: a key typed into a form becomes a session cookie (HttpOnly, SameSite=Strict,
Secure over HTTPS) and a CSRF token; logging out ends it. Pages are Chinese first
(``?lang=en`` switches) and share one layout (:func:`layout`)."""

from __future__ import annotations

from html import escape

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from huabei import reasons
from huabei.access import service as access
from huabei.access import sessions
from huabei.access.roles import Principal, Role
from huabei.entrypoints import auth
from huabei.entrypoints.auth import allow_public
from huabei.errors import ErrorKind, HuabeiError
from huabei.i18n import N_, normalise_locale, translate
from huabei.platform.unit_of_work import Huabei

T_LOGIN = N_("Log in")
T_LOGOUT = N_("Log out")
T_KEY = N_("Key")
T_KEY_HINT = N_("Paste the key you were given (huabei keys create).")
T_STAFF_LOGIN = N_("Staff: name and password")
T_NAME = N_("Name")
T_PASSWORD = N_("Password")
T_WITH_KEY = N_("With a key")
T_SIGNED_IN = N_("Signed in as {role}")
T_ROLE_NAMES = {
    "customer": N_("customer"),
    "agent": N_("customer service agent"),
    "risk": N_("risk analyst"),
    "admin": N_("administrator"),
    "gateway": N_("payment gateway"),
}
T_NAV_ME = N_("My Huabei")
T_NAV_CONSOLE = N_("Agent console")
T_NAV_PORTFOLIO = N_("Portfolio")
T_NAV_APPEALS = N_("Appeals")
T_API = N_("API documentation")
T_CHANGE_PASSWORD = N_("Change my password")
T_CURRENT_PASSWORD = N_("Current password")
T_NEW_PASSWORD = N_("New password")
T_REPEAT_PASSWORD = N_("New password again")
T_PASSWORD_RULE = N_("At least {n} characters, not only digits or only letters.")
T_PASSWORD_CHANGED = N_("Your password is changed. Use the new one from your next login.")

CSS = """
body{font-family:system-ui,"PingFang SC","Noto Sans CJK SC","WenQuanYi Micro Hei",sans-serif;margin:0;color:#1a1a1a}
header{background:#1677ff;color:#fff;padding:.6rem 1.5rem;display:flex;gap:1rem;align-items:center}
header a,header button{color:#fff;text-decoration:none;background:none;border:0;font:inherit;cursor:pointer}
header .who{margin-left:auto;opacity:.9}main{margin:1.5rem auto;max-width:64rem;padding:0 1rem}
table{border-collapse:collapse;width:100%}td,th{padding:.4rem .6rem;border-bottom:1px solid #ddd;text-align:left}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}.frozen,.overdue,.error{color:#b00020}
.muted{color:#666}.paid,.ok{color:#2e7d32}.card{border:1px solid #ddd;border-radius:8px;padding:1rem;margin:1rem 0}
.grid{display:grid;grid-template-columns:repeat(auto-fit,minmax(18rem,1fr));gap:1rem}
form.inline{display:inline}input,select,button{font:inherit;padding:.3rem .5rem}
button.primary{background:#1677ff;color:#fff;border:0;border-radius:4px;padding:.4rem .9rem;cursor:pointer}
"""


def page_locale(lang: str | None) -> str:
    """Pages are Chinese unless ``?lang=en`` asks otherwise."""
    return "zh_CN" if lang is None else normalise_locale(lang)


def csrf_of(request: Request) -> str:
    """This browser's CSRF token (a new one is set by :func:`layout` when it has none)."""
    token = request.cookies.get(auth.CSRF_COOKIE) or getattr(request.state, "new_csrf", None)
    if token is None:
        token = sessions.new_csrf_token()
        request.state.new_csrf = token
    return token


def csrf_field(request: Request) -> str:
    return f"<input type='hidden' name='csrf' value='{escape(csrf_of(request))}'>"


def _secure(request: Request) -> bool:
    return request.url.scheme == "https"


def html(request: Request, content: str, status: int = 200) -> HTMLResponse:
    resp = HTMLResponse(content, status_code=status)
    new = getattr(request.state, "new_csrf", None)
    if new is not None:
        resp.set_cookie(auth.CSRF_COOKIE, new, httponly=True, samesite="strict", secure=_secure(request), path="/")
    return resp


def home_of(p: Principal) -> str:
    return {Role.CUSTOMER: "/me", Role.RISK: "/portfolio"}.get(p.role, "/console")


def layout(request: Request, title: str, body: str, loc: str, status: int = 200) -> HTMLResponse:
    """One page: the header (navigation for the role, who is signed in, log out, language), the body."""
    _ = lambda m: escape(translate(m, loc))  # noqa: E731
    p: Principal | None = getattr(request.state, "principal", None)
    nav = ""
    if p is not None:
        links = []
        if p.role in (Role.CUSTOMER, Role.ADMIN):
            links.append(("/me", T_NAV_ME))
        if p.role in (Role.AGENT, Role.ADMIN, Role.RISK):
            links.append(("/console", T_NAV_CONSOLE))
            links.append(("/console/appeals", T_NAV_APPEALS))
        if p.role in (Role.RISK, Role.ADMIN):
            links.append(("/portfolio", T_NAV_PORTFOLIO))
        if p.role in (Role.AGENT, Role.RISK, Role.ADMIN) and p.label.startswith("staff:"):
            links.append(("/password", T_CHANGE_PASSWORD))
        nav = "".join(f"<a href='{u}?lang={loc}'>{_(t)}</a>" for u, t in links)
        who = escape(translate(T_SIGNED_IN, loc, role=translate(T_ROLE_NAMES[p.role.value], loc)))
        nav += (
            f"<span class='who'>{who}</span><form class='inline' method='post' action='/logout'>"
            f"{csrf_field(request)}<button type='submit'>{_(T_LOGOUT)}</button></form>"
        )
    other, other_name = ("en", "English") if loc == "zh_CN" else ("zh", "中文")
    query = "&".join(f"{k}={escape(v)}" for k, v in request.query_params.items() if k != "lang")
    switch = f"?{query}&lang={other}" if query else f"?lang={other}"
    return html(
        request,
        f"<!doctype html><html lang='{'zh-CN' if loc == 'zh_CN' else 'en'}'><head><meta charset='utf-8'>"
        f"<meta name='viewport' content='width=device-width,initial-scale=1'>"
        f"<meta name='csrf-token' content='{escape(csrf_of(request))}'><title>{escape(title)}</title>"
        f"<style>{CSS}</style><script src='/static/chart.umd.min.js' defer></script><script src='/static/huabei-charts.js' defer></script></head><body>"
        f"<header><b>花呗 Huabei</b>{nav}<a href='{switch}' id='lang-switch'>{other_name}</a></header>"
        f"<main>{body}<p class='muted'><a href='/docs'>{_(T_API)}</a></p></main></body></html>",
        status,
    )


def router(system: Huabei) -> APIRouter:
    r = APIRouter(include_in_schema=False)

    def login_page(request: Request, loc: str, error: str | None = None, status: int = 200) -> HTMLResponse:
        _ = lambda m: escape(translate(m, loc))  # noqa: E731
        err = f"<p class='error' id='login-error'>{escape(error)}</p>" if error else ""
        body = (
            f"<h1>{_(T_LOGIN)}</h1>{err}<div class='grid'>"
            f"<form method='post' action='/login?lang={loc}' class='card' id='key-login'>"
            f"<h2>{_(T_WITH_KEY)}</h2>"
            f"{csrf_field(request)}<p><label>{_(T_KEY)}<br><input name='key' type='password' size='40' "
            f"autocomplete='off' required></label></p><p class='muted'>{_(T_KEY_HINT)}</p>"
            f"<button class='primary' type='submit'>{_(T_LOGIN)}</button></form>"
            f"<form method='post' action='/login?lang={loc}' class='card' id='staff-login'>"
            f"<h2>{_(T_STAFF_LOGIN)}</h2>{csrf_field(request)}"
            f"<p><label>{_(T_NAME)}<br><input name='name' autocomplete='username' required maxlength='64'></label></p>"
            f"<p><label>{_(T_PASSWORD)}<br><input name='password' type='password' autocomplete='current-password' "
            f"required maxlength='256'></label></p>"
            f"<button class='primary' type='submit'>{_(T_LOGIN)}</button></form></div>"
        )
        return layout(request, translate(T_LOGIN, loc), body, loc, status)

    @r.get("/login", response_class=HTMLResponse, dependencies=[allow_public()])
    def login_form(request: Request, lang: str | None = Query(default=None)) -> HTMLResponse:
        return login_page(request, page_locale(lang))

    @r.post("/login", response_class=HTMLResponse, dependencies=[allow_public()])
    async def login(request: Request, lang: str | None = Query(default=None)) -> Response:
        loc = page_locale(lang)
        client = request.client.host if request.client else "unknown"
        form = await auth.form_data(request)
        name = form.get("name", "").strip()[:64]
        auth.hit(request, "login", f"{client}/{name}" if name else client)
        try:
            if name:  # a staff user's name and password
                principal = await run_in_threadpool(access.staff_login, system, name, form.get("password", ""))
            else:
                principal = await run_in_threadpool(access.authenticate, system, form.get("key", "").strip())
        except HuabeiError as e:
            if e.kind is not ErrorKind.UNAUTHENTICATED:
                raise
            auth.hit(request, "auth_fail", client)
            request.state.error_code = "login_failed"
            return login_page(request, loc, reasons.message("login_failed", loc), status=401)
        request.state.principal = principal  # the audit log names who logged in
        token, seconds = start(system, principal.key_id)
        resp = RedirectResponse(f"{home_of(principal)}?lang={'en' if loc == 'en' else 'zh'}", status_code=303)
        resp.set_cookie(
            auth.SESSION_COOKIE, token, max_age=seconds, httponly=True, samesite="strict",
            secure=_secure(request), path="/",
        )  # fmt: skip
        resp.set_cookie(
            auth.CSRF_COOKIE, sessions.new_csrf_token(), httponly=True, samesite="strict",
            secure=_secure(request), path="/",
        )  # fmt: skip
        return resp

    def password_page(request: Request, loc: str, notice: str = "", error: str = "", status: int = 200) -> HTMLResponse:
        _ = lambda m, **k: escape(translate(m, loc, **k))  # noqa: E731
        n = system.terms.access.staff_password_min_length
        said = f"<p class='card' id='notice'>{escape(notice)}</p>" if notice else ""
        said += f"<p class='error' id='password-error'>{escape(error)}</p>" if error else ""
        fields = "".join(
            f"<p><label>{_(label)}<br><input name='{name}' type='password' autocomplete='{auto}' "
            f"size='30' required {extra}></label></p>"
            for name, label, auto, extra in (
                ("current", T_CURRENT_PASSWORD, "current-password", ""),
                ("new", T_NEW_PASSWORD, "new-password", f"minlength='{n}'"),
                ("repeat", T_REPEAT_PASSWORD, "new-password", f"minlength='{n}'"),
            )
        )
        body = (
            f"<h1>{_(T_CHANGE_PASSWORD)}</h1>{said}"
            f"<form method='post' action='/password?lang={loc}' id='password-form' class='card'>{csrf_field(request)}"
            f"{fields}<p class='muted'>{_(T_PASSWORD_RULE, n=n)}</p>"
            f"<button class='primary' type='submit'>{_(T_CHANGE_PASSWORD)}</button></form>"
        )
        return layout(request, translate(T_CHANGE_PASSWORD, loc), body, loc, status)

    staff = [auth.allow("agent", "risk")]

    @r.get("/password", response_class=HTMLResponse, dependencies=staff)
    def password_form(request: Request, lang: str | None = Query(default=None)) -> HTMLResponse:
        return password_page(request, page_locale(lang))

    @r.post("/password", response_class=HTMLResponse, dependencies=staff)
    async def change_password(request: Request, lang: str | None = Query(default=None)) -> Response:
        """修改密码: a staff user's own, with the current one; a wrong current password counts as a
        failed login (its rate limit answers 429 with Retry-After)."""
        loc = page_locale(lang)
        principal = auth.current_principal(request)
        form = await auth.form_data(request)
        auth.hit(request, "login", f"password/{principal.key_id}")
        try:
            if form.get("new", "") != form.get("repeat", ""):
                raise HuabeiError("passwords_differ", ErrorKind.INVALID_REQUEST)
            await run_in_threadpool(
                access.change_own_password, system, principal.key_id, form.get("current", ""), form.get("new", "")
            )
        except HuabeiError as e:
            if e.code == "wrong_current_password":
                auth.hit(request, "auth_fail", request.client.host if request.client else "unknown")
            request.state.error_code = e.code
            return password_page(request, loc, error=reasons.message(e.code, loc, **e.params), status=e.http_status)
        return password_page(request, loc, notice=translate(T_PASSWORD_CHANGED, loc))

    @r.post("/logout", dependencies=[allow_public()])
    def logout() -> Response:
        resp = RedirectResponse("/login", status_code=303)
        resp.delete_cookie(auth.SESSION_COOKIE, path="/")
        return resp

    return r


def start(system: Huabei, key_id: int) -> tuple[str, int]:
    return auth.start_session(system, key_id)
