"""Server-rendered web pages: an overview of credit lines and one line's page — the customer's
read-only view, or the staff's (``web.line``: restrictions with evidence and the place and lift
forms, history charts, transactions, the audit trail). Text comes from the same catalogs as the API.
"""

from __future__ import annotations

import datetime as dt
from html import escape
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from huabei import errors, reasons
from huabei.access.roles import Principal, Role
from huabei.billing import service as billing
from huabei.entrypoints import auth
from huabei.entrypoints.auth import allow
from huabei.entrypoints.web import line
from huabei.entrypoints.web.customer import spendable
from huabei.entrypoints.web.session import layout, page_locale
from huabei.errors import HuabeiError
from huabei.i18n import N_, translate
from huabei.lines import queries
from huabei.lines import service as accounts
from huabei.money import format_yuan
from huabei.platform import admin
from huabei.platform.unit_of_work import Huabei
from huabei.restrictions import service as restrictions
from huabei.risk import service as risk
from huabei.scoring import service as scoring

#: An agent's note on a restriction placed from the page.
MAX_NOTE = 2000

T_TITLE = N_("Huabei credit lines")
T_BUSINESS_DATE = N_("Business date")
T_ACCOUNT = N_("Credit line")
T_USER = N_("User")
T_STATUS = N_("Status")
T_TOTAL = N_("Total limit")
T_USED = N_("Used")
T_AVAILABLE = N_("Available")
T_BASE = N_("Base limit")
T_TEMP = N_("Temporary limit")
T_UNTIL = N_("until")
T_RESTRICTIONS = N_("Restrictions")
T_NONE = N_("None")
T_WHAT_TO_DO = N_("What you can do")
T_PLACED = N_("Restriction {restriction_id} placed.")
T_LIFTED = N_("Restriction {restriction_id} lifted.")
T_STATUS_NAMES = {"active": N_("active"), "frozen": N_("frozen"), "overdue": N_("overdue"), "closed": N_("closed")}
T_SCORE = N_("Credit score")
T_SCORE_AS_OF = N_("as of")
T_HELD_DOWN = N_("What held the score down")
T_BILLS = N_("Bills")
T_PERIOD = N_("Bill")
T_DUE_DATE = N_("Due date")
T_TOTAL_DUE = N_("Total due")
T_MINIMUM_DUE = N_("Minimum due")
T_UNPAID = N_("Unpaid")
T_NO_BILLS = N_("No bill yet.")
T_BILL_STATUS = {"open": N_("open"), "paid": N_("paid"), "overdue": N_("overdue")}
T_DIMENSIONS = {
    "credit_history": N_("credit history"),
    "behaviour": N_("behaviour"),
    "capacity": N_("repayment capacity"),
    "identity": N_("identity"),
    "connections": N_("connections"),
}


def router(system: Huabei) -> APIRouter:
    r = APIRouter(include_in_schema=False)

    @r.get("/", response_class=HTMLResponse, dependencies=[allow("agent", "risk")])
    def overview(request: Request, lang: str | None = Query(default=None)) -> HTMLResponse:
        loc = page_locale(lang)
        _ = lambda m: escape(translate(m, loc))  # noqa: E731
        page = queries.list_accounts(system, limit=100)
        rows = "".join(
            f"<tr><td><a href='/accounts/{a['account_id']}?lang={loc}'>{a['account_id']}</a></td>"
            f"<td>{escape(a['user_id'])}</td><td class='{a['status']}'>{_(T_STATUS_NAMES[a['status']])}</td>"
            f"<td class='num'>{format_yuan(a['total_limit'])}</td><td class='num'>{format_yuan(a['used'])}</td>"
            f"<td class='num'>{format_yuan(a['available'])}</td></tr>"
            for a in page["data"]
        )
        body = (
            f"<h1>{_(T_TITLE)}</h1><p>{_(T_BUSINESS_DATE)}: {admin.business_date(system).isoformat()}</p>"
            f"<table><tr><th>{_(T_ACCOUNT)}</th><th>{_(T_USER)}</th><th>{_(T_STATUS)}</th>"
            f"<th class='num'>{_(T_TOTAL)}</th><th class='num'>{_(T_USED)}</th><th class='num'>{_(T_AVAILABLE)}</th>"
            f"</tr>{rows}</table>"
        )
        return layout(request, translate(T_TITLE, loc), body, loc)

    def account_page(
        request: Request, account_id: int, loc: str, notice: str = "", error: str = "", status: int = 200
    ) -> HTMLResponse:
        _ = lambda m: escape(translate(m, loc))  # noqa: E731
        try:
            a = accounts.account_view(system, account_id)
        except HuabeiError as e:
            msg = f"<p>{escape(reasons.message(e.code, loc, **e.params))}</p>"
            return layout(request, translate(T_ACCOUNT, loc), msg, loc, e.http_status)
        principal = auth.current_principal(request)
        temp = ""
        if a["temporary_limit"]:
            temp = f" ({_(T_UNTIL)} {a['temporary_limit_expires_on']})"
        if principal.role is Role.CUSTOMER:
            restr = "".join(_restriction_card(x, loc) for x in a["restrictions"]) or f"<p>{_(T_NONE)}</p>"
            restr = f"<h2>{_(T_RESTRICTIONS)}</h2>{restr}"
            staff = ""
        else:
            restr, staff = "", line.staff_sections(request, system, a, principal, loc)
        shown = f"<p class='card' id='notice'>{escape(notice)}</p>" if notice else ""
        if error:
            shown += f"<p class='card error' id='error'>{escape(error)}</p>"
        body = (
            f"<h1>{_(T_ACCOUNT)} {a['account_id']}</h1>{shown}"
            f"<p>{_(T_USER)}: {escape(a['user_id'])} · {_(T_STATUS)}: "
            f"<span class='{a['status']}' id='line-status'>{_(T_STATUS_NAMES[a['status']])}</span></p>"
            f"<table><tr><td>{_(T_BASE)}</td><td class='num'>{format_yuan(a['base_limit'])}</td></tr>"
            f"<tr><td>{_(T_TEMP)}{temp}</td><td class='num'>{format_yuan(a['temporary_limit'])}</td></tr>"
            f"<tr><td>{_(T_TOTAL)}</td><td class='num'>{format_yuan(a['total_limit'])}</td></tr>"
            f"<tr><td>{_(T_USED)}</td><td class='num'>{format_yuan(a['used'])}</td></tr>"
            f"<tr><td><b>{_(T_AVAILABLE)}</b></td><td class='num'><b>{format_yuan(a['available'])}</b></td></tr>"
            f"</table>{spendable(a, loc)}{restr}{staff}"
            f"{_score_section(system, a['user_id'], loc)}{_bills_section(system, account_id, loc)}"
        )
        return layout(request, f"{translate(T_ACCOUNT, loc)} {account_id}", body, loc, status)

    @r.get(
        "/accounts/{account_id}",
        response_class=HTMLResponse,
        dependencies=[allow("customer", "agent", "risk", own="account_id")],
    )
    def account(
        request: Request,
        account_id: Annotated[int, Path(ge=1, le=2**63 - 1)],
        lang: str | None = Query(default=None),
        done: str | None = None,
    ) -> HTMLResponse:
        return account_page(request, account_id, page_locale(lang), (done or "")[:200])

    async def act(request: Request, account_id: int, lang: str | None, run: Any) -> Response:
        """A staff form on the line: run it; on a refusal the page again with its message."""
        loc = page_locale(lang)
        principal = auth.current_principal(request)
        form = await auth.form_data(request)
        try:
            said = await run_in_threadpool(run, form, principal, loc)
        except HuabeiError as e:
            request.state.error_code = e.code
            message = reasons.message(e.code, loc, **e.params)
            return await run_in_threadpool(account_page, request, account_id, loc, "", message, e.http_status)
        where = f"/accounts/{account_id}?lang={'en' if loc == 'en' else 'zh'}&done={quote(said)}"
        return RedirectResponse(where, status_code=303)

    def _check(principal: Principal) -> Any:
        return risk.agent_check if principal.role is Role.AGENT else None

    @r.post("/accounts/{account_id}/restrictions", dependencies=[allow("agent", "risk")])
    async def place(
        request: Request, account_id: Annotated[int, Path(ge=1, le=2**63 - 1)], lang: str | None = Query(default=None)
    ) -> Response:
        def run(form: dict[str, str], principal: Principal, loc: str) -> str:
            note = form.get("note", "").strip()
            if not note or len(note) > MAX_NOTE:
                raise errors.invalid(
                    "invalid_request", detail=N_("{field}: 1 to {maximum} characters"), field="note", maximum=MAX_NOTE
                )
            out = restrictions.place_restriction(
                system, account_id, cause=form.get("cause", ""), note=note, actor=principal.actor,
                lifts_on=_lifts_on(form.get("lifts_on", "")), check=_check(principal),
            )  # fmt: skip
            return translate(T_PLACED, loc, restriction_id=out["restriction_id"])

        return await act(request, account_id, lang, run)

    @r.post("/accounts/{account_id}/restrictions/{restriction_id}/lift", dependencies=[allow("agent", "risk")])
    async def lift(
        request: Request,
        account_id: Annotated[int, Path(ge=1, le=2**63 - 1)],
        restriction_id: Annotated[int, Path(ge=1, le=2**63 - 1)],
        lang: str | None = Query(default=None),
    ) -> Response:
        def run(form: dict[str, str], principal: Principal, loc: str) -> str:
            if restriction_id not in {x["restriction_id"] for x in risk.restrictions_for_agent(system, account_id)}:
                raise errors.not_found("restriction_not_found", restriction_id=restriction_id)
            restrictions.lift_restriction(
                system, restriction_id, reason=form.get("reason", ""), actor=principal.actor,
                check=_check(principal),
            )  # fmt: skip
            return translate(T_LIFTED, loc, restriction_id=restriction_id)

        return await act(request, account_id, lang, run)

    return r


def _lifts_on(text: str) -> dt.date | None:
    """The place form's optional lifting date (YYYY-MM-DD, a day after today: the service checks
    that, 422 ``lifts_on_not_future``); empty: the cause's own lifting."""
    text = text.strip()
    if not text:
        return None
    try:
        if len(text) != 10:
            raise ValueError(text)
        return dt.date.fromisoformat(text)
    except ValueError:
        raise errors.invalid("invalid_date") from None


def _score_section(system: Huabei, user_id: str, loc: str) -> str:
    """信用分: the latest score, its five dimensions and what held it down."""
    _ = lambda m: escape(translate(m, loc))  # noqa: E731
    try:
        sc = scoring.get_score(system, user_id)
    except HuabeiError:
        return ""
    zh = loc == "zh_CN"
    dims = "".join(
        f"<tr><td>{_(T_DIMENSIONS[d['dimension']])}</td><td class='num'>{d['points']} / {d['max_points']}</td></tr>"
        for d in sc["dimensions"]
    )
    held = "".join(f"<li>{escape((r['message_zh'] if zh else r['message']) or r['code'])}</li>" for r in sc["reasons"])
    held = f"<p>{_(T_HELD_DOWN)}:</p><ul>{held}</ul>" if held else ""
    band = sc["band_zh"] if zh else sc["band"]
    return (
        f"<h2>{_(T_SCORE)}</h2><p><b>{sc['score']}</b> · {escape(band)} "
        f"<span class='muted'>({_(T_SCORE_AS_OF)} {sc['as_of']})</span></p><table>{dims}</table>{held}"
    )


def _bills_section(system: Huabei, account_id: int, loc: str) -> str:
    """账单: every closed bill, newest first."""
    _ = lambda m: escape(translate(m, loc))  # noqa: E731
    bills = billing.list_bills(system, account_id)
    if not bills:
        return f"<h2>{_(T_BILLS)}</h2><p>{_(T_NO_BILLS)}</p>"
    rows = "".join(
        f"<tr><td>{escape(b['period'])}</td><td>{b['due_date']}</td>"
        f"<td class='num'>{format_yuan(b['total_due'])}</td><td class='num'>{format_yuan(b['minimum_due'])}</td>"
        f"<td class='num'>{format_yuan(b['unpaid'])}</td>"
        f"<td class='{b['status']}'>{_(T_BILL_STATUS.get(b['status'], b['status']))}</td></tr>"
        for b in bills
    )
    return (
        f"<h2>{_(T_BILLS)}</h2><table><tr><th>{_(T_PERIOD)}</th><th>{_(T_DUE_DATE)}</th>"
        f"<th class='num'>{_(T_TOTAL_DUE)}</th><th class='num'>{_(T_MINIMUM_DUE)}</th>"
        f"<th class='num'>{_(T_UNPAID)}</th><th>{_(T_STATUS)}</th></tr>{rows}</table>"
    )


def _restriction_card(x: dict[str, Any], loc: str) -> str:
    e = reasons.explain(x["cause"], loc, **reasons.cause_params(x["cause"], x.get("note"), x.get("evidence")))
    remedy = f"<p><b>{escape(translate(T_WHAT_TO_DO, loc))}:</b> {escape(e['remedy'])}</p>" if e["remedy"] else ""
    return f"<div class='card frozen'><p>{escape(e['message'] or x['cause'])}</p>{remedy}</div>"
