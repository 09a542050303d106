"""我的花呗: the customer's page — the limit as a ring, the bills with a repay action, the bill's
installment offers with a convert action, the score with its dimensions and history, and the
restrictions with the diagnosis. Actions are HTML forms (CSRF-checked) calling the same use cases
as the API, with an idempotency key made when the form was drawn (a double submit moves money once)."""

from __future__ import annotations

import json
import uuid
from html import escape
from typing import Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from huabei import reasons
from huabei.billing import service as billing
from huabei.diagnosis import service as diagnosis
from huabei.entrypoints import auth
from huabei.entrypoints.auth import allow
from huabei.entrypoints.web.session import csrf_field, layout, page_locale
from huabei.errors import HuabeiError, not_found
from huabei.i18n import N_, translate
from huabei.lines import service as accounts
from huabei.money import AmountError, format_yuan, parse_yuan
from huabei.payments import service as payments
from huabei.platform.unit_of_work import Huabei
from huabei.scoring import service as scoring

T_ME = N_("My Huabei")
T_NO_LINE = N_("This sign-in has no credit line of its own.")
T_AVAILABLE = N_("Available")
T_USED = N_("Used")
T_TEMPORARY = N_("Temporary limit {amount} until {date}")
T_TOTAL = N_("Total limit")
T_BILLS = N_("Bills")
T_BILL = N_("Bill {period}: {amount} due on {date}")
T_UNPAID = N_("Unpaid")
T_UNBILLED = N_("Next bill so far")
T_OWED = N_("Owed in all")
T_REPAY = N_("Repay")
T_AMOUNT = N_("Amount (yuan)")
T_REPAID = N_("Repaid {amount}. Thank you.")
T_CONVERTED = N_("Bill {period} converted into {term} installments.")
T_INSTALLMENTS = N_("Pay the bill in installments")
T_TERM = N_("{term} months: {per_period} a month, fee {fee} in all")
T_CONVERT = N_("Convert")
T_SCORE = N_("Credit score")
T_SCORE_HISTORY = N_("Score history")
T_RESTRICTIONS = N_("Why can't I use Huabei?")
T_ALL_CLEAR = N_("No restriction: Huabei can be used.")
T_STATUS = {"paid": N_("paid"), "open": N_("open"), "overdue": N_("overdue")}


def _account_of(system: Huabei, user_id: str | None) -> dict[str, Any] | None:
    if user_id is None:
        return None
    user = accounts.get_user(system, user_id)
    return accounts.account_view(system, user["account_id"]) if user.get("account_id") else None


def _ring(a: dict[str, Any], loc: str) -> str:
    """The limit as a ring: available and used of the total (an SVG donut, no script needed)."""
    total = max(a["total_limit"], 1)
    share = min(a["used"] / total, 1.0)
    r, c = 60, 2 * 3.14159 * 60
    temp = ""
    if a["temporary_limit"]:
        temp = escape(
            translate(T_TEMPORARY, loc, amount=format_yuan(a["temporary_limit"]), date=a["temporary_limit_expires_on"])
        )
    return (
        f"<div class='card' id='limit-ring'><svg width='160' height='160' viewBox='0 0 160 160' role='img'>"
        f"<circle cx='80' cy='80' r='{r}' fill='none' stroke='#e6f0ff' stroke-width='18'/>"
        f"<circle cx='80' cy='80' r='{r}' fill='none' stroke='#1677ff' stroke-width='18' "
        f"stroke-dasharray='{c * (1 - share):.1f} {c:.1f}' transform='rotate(-90 80 80)'/>"
        f"<text x='80' y='76' text-anchor='middle' font-size='13'>{escape(translate(T_AVAILABLE, loc))}</text>"
        f"<text x='80' y='98' text-anchor='middle' font-size='18' font-weight='bold' id='available'>"
        f"{format_yuan(a['available'])}</text></svg>"
        f"<p>{escape(translate(T_TOTAL, loc))} {format_yuan(a['total_limit'])} · "
        f"{escape(translate(T_USED, loc))} {format_yuan(a['used'])}</p><p class='muted'>{temp}</p></div>"
    )


def _bills(request: Request, system: Huabei, a: dict[str, Any], loc: str) -> str:
    _ = lambda m, **k: escape(translate(m, loc, **k))  # noqa: E731
    aid = a["account_id"]
    bills = billing.list_bills(system, aid)[:3]
    status = billing.billing_status(system, aid)
    rows = "".join(
        f"<tr><td>{_(T_BILL, period=b['period'], amount=format_yuan(b['total_due']), date=b['due_date'])}</td>"
        f"<td class='{b['status']}'>{_(T_STATUS.get(b['status'], b['status']))}</td>"
        f"<td class='num'>{_(T_UNPAID)} {format_yuan(b['unpaid'])}</td></tr>"
        for b in bills
    )
    owed = status["owed"]
    repay = ""
    if owed > 0:
        repay = (
            f"<form method='post' action='/me/repay?lang={loc}' id='repay-form'>{csrf_field(request)}"
            f"<input type='hidden' name='key' value='{uuid.uuid4()}'>"
            f"<label>{_(T_AMOUNT)} <input name='amount' value='{format_yuan(owed)}' size='10'></label> "
            f"<button class='primary' type='submit'>{_(T_REPAY)}</button></form>"
        )
    offers = ""
    open_bill = next((b for b in bills if b["unpaid"] > 0 and b["status"] == "open" and not b["converted"]), None)
    if open_bill is not None:
        options = []
        for term in sorted(system.terms.installments.fee_rates):
            try:
                q = billing.quote_bill_installments(system, aid, open_bill["period"], term)
            except HuabeiError:
                continue
            per = q["periods"][0]["total"] if q.get("periods") else 0
            text = _(T_TERM, term=term, per_period=format_yuan(per), fee=format_yuan(q.get("total_fee", 0)))
            options.append(f"<option value='{term}'>{text}</option>")
        if options:
            offers = (
                f"<h3>{_(T_INSTALLMENTS)}</h3><form method='post' action='/me/installments?lang={loc}' "
                f"id='installments-form'>{csrf_field(request)}<input type='hidden' name='key' value='{uuid.uuid4()}'>"
                f"<input type='hidden' name='period' value='{escape(open_bill['period'])}'>"
                f"<select name='term'>{''.join(options)}</select> "
                f"<button class='primary' type='submit'>{_(T_CONVERT)}</button></form>"
            )
    return (
        f"<div class='card' id='bills'><h2>{_(T_BILLS)}</h2><table>{rows}</table>"
        f"<p>{_(T_OWED)}: <b id='owed'>{format_yuan(owed)}</b></p>{repay}{offers}</div>"
    )


def _score(system: Huabei, user_id: str, loc: str) -> str:
    _ = lambda m: escape(translate(m, loc))  # noqa: E731
    try:
        sc = scoring.get_score(system, user_id)
        hist = scoring.score_history(system, user_id, limit=24)["data"]
    except HuabeiError:
        return ""
    dims = "".join(
        f"<tr><td>{escape(d['name_zh'] if loc == 'zh_CN' else d['dimension'].replace('_', ' '))}</td>"
        f"<td class='num'>{d['points']} / {d['max_points']}</td></tr>"
        for d in sc["dimensions"]
    )
    points = list(reversed(hist))
    chart = {
        "type": "line",
        "data": {
            "labels": [h.get("as_of") for h in points],
            "datasets": [{"label": translate(T_SCORE, loc), "data": [h["score"] for h in points]}],
        },
        "options": {"animation": False},
    }
    band = sc["band_zh"] if loc == "zh_CN" else sc["band"]
    return (
        f"<div class='card' id='score'><h2>{_(T_SCORE)}: <span id='score-value'>{sc['score']}</span> "
        f"({escape(band)})</h2><table>{dims}</table><h3>{_(T_SCORE_HISTORY)}</h3>"
        f"<canvas id='score-chart' height='120' data-chart='{escape(json.dumps(chart))}'></canvas></div>"
    )


def _diagnosis(system: Huabei, account_id: int, loc: str) -> str:
    try:
        d = diagnosis.diagnosis(system, account_id, loc)
    except HuabeiError:
        return ""
    findings = "".join(
        f"<li>{escape(str(f.get('text') or f.get('summary') or f.get('code')))}</li>" for f in d.get("findings", [])
    )
    return (
        f"<div class='card' id='diagnosis'><h2>{escape(translate(T_RESTRICTIONS, loc))}</h2>"
        f"<p>{escape(d['summary'])}</p><ul>{findings}</ul></div>"
    )


def router(system: Huabei) -> APIRouter:
    r = APIRouter(include_in_schema=False)
    me = [allow("customer", own_in_body=True)]

    def page(request: Request, loc: str, notice: str = "", status: int = 200) -> HTMLResponse:
        principal = auth.current_principal(request)
        a = _account_of(system, principal.user_id)
        if a is None:
            body = f"<h1>{escape(translate(T_ME, loc))}</h1><p>{escape(translate(T_NO_LINE, loc))}</p>"
            return layout(request, translate(T_ME, loc), body, loc, status)
        note = f"<p class='card' id='notice'>{escape(notice)}</p>" if notice else ""
        body = (
            f"<h1>{escape(translate(T_ME, loc))}</h1>{note}<div class='grid'>{_ring(a, loc)}"
            f"{_diagnosis(system, a['account_id'], loc)}</div>{_bills(request, system, a, loc)}"
            f"{_score(system, a['user_id'], loc)}"
        )
        return layout(request, translate(T_ME, loc), body, loc, status)

    @r.get("/me", response_class=HTMLResponse, dependencies=me)
    def my_huabei(request: Request, lang: str | None = Query(default=None), done: str | None = None) -> HTMLResponse:
        loc = page_locale(lang)
        return page(request, loc, (done or "")[:200])

    async def _act(request: Request, lang: str | None, run: Any) -> Response:
        loc = page_locale(lang)
        principal = auth.current_principal(request)
        form = await auth.form_data(request)
        try:
            a = await run_in_threadpool(_account_of, system, principal.user_id)
            if a is None:
                raise not_found("account_not_found", account_id="-")
            notice = await run_in_threadpool(run, a, form, f"key:{principal.key_id}", loc)
        except HuabeiError as e:
            request.state.error_code = e.code
            return await run_in_threadpool(page, request, loc, reasons.message(e.code, loc, **e.params), e.http_status)
        except (AmountError, ValueError):
            return await run_in_threadpool(page, request, loc, reasons.message("invalid_amount", loc), 400)
        return RedirectResponse(f"/me?lang={'en' if loc == 'en' else 'zh'}&done={notice}", status_code=303)

    @r.post("/me/repay", dependencies=me)
    async def repay(request: Request, lang: str | None = Query(default=None)) -> Response:
        def run(a: dict[str, Any], form: dict[str, str], caller: str, loc: str) -> str:
            amount = parse_yuan(form.get("amount", ""))
            out = payments.repay(system, a["account_id"], amount, form.get("key") or None, caller=caller)
            if out.status >= 400:
                raise HuabeiError(str(out.body.get("error", {}).get("code", "invalid_request")), _kind(out.status))
            return translate(T_REPAID, loc, amount=format_yuan(amount))

        return await _act(request, lang, run)

    @r.post("/me/installments", dependencies=me)
    async def convert(request: Request, lang: str | None = Query(default=None)) -> Response:
        def run(a: dict[str, Any], form: dict[str, str], caller: str, loc: str) -> str:
            term, period = int(form.get("term", "0")), form.get("period", "")
            out = billing.create_bill_installments(
                system, a["account_id"], period, term, form.get("key") or None, caller=caller
            )
            if out.status >= 400:
                raise HuabeiError(str(out.body.get("error", {}).get("code", "invalid_request")), _kind(out.status))
            return translate(T_CONVERTED, loc, period=period, term=term)

        return await _act(request, lang, run)

    return r


def _kind(status: int) -> Any:
    from huabei.errors import HTTP_STATUS

    return next((k for k, v in HTTP_STATUS.items() if v == status), next(iter(HTTP_STATUS)))
