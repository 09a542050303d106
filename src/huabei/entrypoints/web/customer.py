"""我的花呗: the customer's page — the limit as a ring, the bills with a repay action, the bill's
installment offers with a convert action, the score with its dimensions and history, the
restrictions with the diagnosis (why, what to do, when it lifts) and an appeal form on each
appealable one, the appeals with their status, and the limit advice (提额建议, ranked). Actions are
HTML forms (CSRF-checked) calling the same use cases as the API, with an idempotency key made when
the form was drawn (a double submit moves money once)."""

from __future__ import annotations

import json
import uuid
from html import escape
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from huabei import reasons
from huabei.appeals import rules as appeal_rules
from huabei.appeals import service as appeals
from huabei.billing import service as billing
from huabei.closures import service as closures
from huabei.diagnosis import service as diagnosis
from huabei.entrypoints import auth
from huabei.entrypoints.auth import allow
from huabei.entrypoints.web.session import csrf_field, layout, page_locale
from huabei.errors import ErrorKind, HuabeiError, not_found
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
T_WHAT_TO_DO = N_("What you can do")
T_APPEAL = N_("Appeal")
T_APPEAL_HINT = N_("Tell us why this restriction is wrong (at most {n} characters).")
T_APPEAL_PENDING = N_("Your appeal {appeal_id} is with our customer service.")
T_APPEAL_FILED = N_("Appeal {appeal_id} filed. Customer service will look at it.")
T_APPEALS = N_("My appeals")
T_EVIDENCE = N_("Attach the purchases it is about (optional, at most {n})")
T_EVIDENCE_ROW = N_("purchases attached: {ids}")
T_APPEAL_ROW = N_("Appeal {appeal_id}, filed on {date}")
T_APPEAL_STATUS = {
    "open": N_("being handled"),
    "lifted": N_("accepted: the restriction is lifted"),
    "upheld": N_("not accepted: the restriction stays"),
}
T_XINYONGGOU = N_("信用购, funded by {partner}")
T_XINYONGGOU_NOTE = N_(
    "Under brand isolation the part of Huabei this partner funded moved here: its bills, installments "
    "and repayments carry on on this line."
)
T_SPENDABLE = N_("Spendable now")
T_DAYS_PAST_DUE = N_("{days} days past due")
T_PLANS = N_("My installment plans")
T_PLAN_BILL = N_("Bill {period}")
T_PLAN_PURCHASE = N_("Purchase {purchase_id}")
T_PLAN_ROW = N_("{principal} in {term} monthly installments, fee {fee}")
T_PLAN_BILLED = N_("{billed} of {term} billed")
T_PLAN_STATUS = {"active": N_("repaying"), "completed": N_("repaid"), "repaid_early": N_("repaid early")}
T_XINYONGGOU_CLOSED = N_("Closed on {date}: no new purchases. Its bills and installments carry on until repaid.")
T_XINYONGGOU_CLOSED_UNDATED = N_("Closed: no new purchases. Its bills and installments carry on until repaid.")
T_CLOSED_BECAUSE = {
    "huabei_line_closed": N_("It was opened closed because the Huabei line these balances came from had been closed."),
    "xinyonggou_line_open": N_(
        "It was opened closed because you already have an open 信用购 line, and only one can be open at a time."
    ),
    "user": N_("You closed it."),
    "sweep": N_("We closed it when the platform's lending rules were tightened."),
}
T_ADVICE = N_("How to raise my limit")
T_WARNINGS = N_("What lowers your limit")


PRODUCTS = {"huabei": "account_id", "xinyonggou": "xinyonggou_account_id"}


def _account_of(
    system: Huabei, user_id: str | None, product: str = "huabei", line: str | None = None
) -> dict[str, Any] | None:
    """The user's open line of ``product``: 花呗, or the 信用购 line brand isolation opened — or,
    for 信用购, the user's line ``line`` (a closed one still being repaid), if it is theirs."""
    if user_id is None or product not in PRODUCTS:
        return None
    user = accounts.get_user(system, user_id)
    aid = user.get(PRODUCTS[product])
    if product == "xinyonggou" and line:
        aid = next((x for x in user["xinyonggou_account_ids"] if str(x) == line), None)
    return accounts.account_view(system, aid) if aid else None


def _closed_note(system: Huabei, x: dict[str, Any], loc: str) -> str:
    """A closed 信用购 line says so: since when, and why (``closures.service.closing``)."""
    _ = lambda m, **k: escape(translate(m, loc, **k))  # noqa: E731
    c = closures.closing(system, x["account_id"])
    if c is None:
        return ""
    said = _(T_XINYONGGOU_CLOSED, date=c["closed_on"]) if c["closed_on"] else _(T_XINYONGGOU_CLOSED_UNDATED)
    why = T_CLOSED_BECAUSE.get(c["reason"] if c["by"] == "funding" else c["by"] or "")
    because = f" <span class='closed-because' data-reason='{escape(c['reason'] or '')}'>{_(why)}</span>" if why else ""
    return f"<p class='closed' id='closed-{x['account_id']}'>{said}{because}</p>"


def _xinyonggou(request: Request, system: Huabei, x: dict[str, Any], loc: str) -> str:
    """A 信用购 line: who funds it, its limit, and its bills with the repay form (a card of its
    own); a closed one also says since when and why."""
    _ = lambda m, **k: escape(translate(m, loc, **k))  # noqa: E731
    partner = next((p for p in system.terms.funding.partners if p.code == x["funding_source"]), None)
    name = (partner.name_zh if loc == "zh_CN" else partner.name) if partner else x["funding_source"]
    closed = x["status"] == "closed"
    sfx = f"-xinyonggou-{x['account_id']}" if closed else "-xinyonggou"
    return (
        f"<div class='card{' closed' if closed else ''}' id='{sfx[1:]}' data-account='{x['account_id']}'>"
        f"<h2>{_(T_XINYONGGOU, partner=name)}</h2>{_closed_note(system, x, loc)}"
        f"<p class='muted'>{_(T_XINYONGGOU_NOTE)}</p>"
        f"<p>{_(T_TOTAL)} {format_yuan(x['total_limit'])} · {_(T_USED)} {format_yuan(x['used'])} · "
        f"{_(T_AVAILABLE)} {format_yuan(x['available'])}</p>{spendable(x, loc)}</div>"
        f"{_bills(request, system, x, loc, product='xinyonggou', sfx=sfx)}{_plans(system, x['account_id'], loc, sfx)}"
    )


def spendable(a: dict[str, Any], loc: str) -> str:
    """What the line can spend right now (``spendable_now`` of ``huabei.lines.rules.CreditLine``:
    0 while it is closed, overdue or frozen, though its available limit is still there) and, when it
    is blocked, why (``blocked_reason``) and how many days past due."""
    out = (
        f"<p id='spendable'>{escape(translate(T_SPENDABLE, loc))} "
        f"<b id='spendable-now'>{format_yuan(a['spendable_now'])}</b></p>"
    )
    code = a["blocked_reason"]
    if code:
        held = next((x for x in a["restrictions"] if x["cause"] == code), None)
        params = reasons.cause_params(code, held.get("note"), held.get("evidence")) if held else {}
        out += f"<p class='blocked' id='blocked-reason' data-code='{escape(code)}'>"
        out += escape(reasons.message(code, loc, **params))
        if a["days_past_due"]:
            out += (
                f" · <span id='days-past-due'>{escape(translate(T_DAYS_PAST_DUE, loc, days=a['days_past_due']))}</span>"
            )
        out += "</p>"
    return out


def _plans(system: Huabei, account_id: int, loc: str, sfx: str = "") -> str:
    """分期: the line's installment plans — what was converted, its term, fee, how far it is billed."""
    _ = lambda m, **k: escape(translate(m, loc, **k))  # noqa: E731
    plans = billing.list_plans(system, account_id)
    if not plans:
        return ""
    rows = "".join(
        f"<tr data-plan='{p['plan_id']}'><td>"
        + (_(T_PLAN_BILL, period=p["period"]) if p["period"] else _(T_PLAN_PURCHASE, purchase_id=p["purchase_id"]))
        + f"</td><td>{_(T_PLAN_ROW, principal=format_yuan(p['principal']), term=p['term'], fee=format_yuan(p['total_fee']))}"
        f"</td><td class='num'>{_(T_PLAN_BILLED, billed=p['periods_billed'], term=p['term'])}</td>"
        f"<td class='plan-status {p['status']}'>{_(T_PLAN_STATUS.get(p['status'], p['status']))}</td></tr>"
        for p in reversed(plans)
    )
    return f"<div class='card' id='plans{sfx}'><h2>{_(T_PLANS)}</h2><table>{rows}</table></div>"


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
        f"{escape(translate(T_USED, loc))} {format_yuan(a['used'])}</p>{spendable(a, loc)}"
        f"<p class='muted'>{temp}</p></div>"
    )


def _bills(
    request: Request, system: Huabei, a: dict[str, Any], loc: str, product: str = "huabei", sfx: str = ""
) -> str:
    _ = lambda m, **k: escape(translate(m, loc, **k))  # noqa: E731
    aid = a["account_id"]
    # a 信用购 line's forms say which line they act on; its element ids are its own
    which = (
        f"<input type='hidden' name='product' value='{product}'><input type='hidden' name='line' value='{aid}'>"
        if product != "huabei"
        else ""
    )
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
            f"<form method='post' action='/me/repay?lang={loc}' id='repay-form{sfx}'>{csrf_field(request)}{which}"
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
                f"id='installments-form{sfx}'>{csrf_field(request)}{which}"
                f"<input type='hidden' name='key' value='{uuid.uuid4()}'>"
                f"<input type='hidden' name='period' value='{escape(open_bill['period'])}'>"
                f"<select name='term'>{''.join(options)}</select> "
                f"<button class='primary' type='submit'>{_(T_CONVERT)}</button></form>"
            )
    return (
        f"<div class='card' id='bills{sfx}'><h2>{_(T_BILLS)}</h2><table>{rows}</table>"
        f"<p>{_(T_OWED)}: <b id='owed{sfx}'>{format_yuan(owed)}</b></p>{repay}{offers}</div>"
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


def _diagnosis(request: Request, system: Huabei, account_id: int, open_appeals: dict[int, int], loc: str) -> str:
    """Why the line cannot be used: each finding's reason, evidence, what to do and when it lifts;
    an appealable restriction without an open appeal carries the appeal form."""
    _ = lambda m, **k: escape(translate(m, loc, **k))  # noqa: E731
    try:
        d = diagnosis.diagnosis(system, account_id, loc)
    except HuabeiError:
        return ""
    cards = []
    for f in d["findings"]:
        evidence = "".join(f"<li>{escape(e)}</li>" for e in f["evidence"] if e)
        parts = [f"<p><b>{escape(f['message'] or f['code'])}</b></p>"]
        if evidence:
            parts.append(f"<ul class='muted'>{evidence}</ul>")
        if f["remedy"]:
            parts.append(f"<p>{_(T_WHAT_TO_DO)}: {escape(f['remedy'])}</p>")
        if f["lifts"]:
            parts.append(f"<p class='muted'>{escape(f['lifts'])}</p>")
        rid = f["restriction_id"]
        if rid is not None and rid in open_appeals:
            parts.append(f"<p class='muted'>{_(T_APPEAL_PENDING, appeal_id=open_appeals[rid])}</p>")
        elif rid is not None and f["appealable"]:
            parts.append(
                f"<form method='post' action='/me/appeals?lang={loc}' class='appeal-form'>{csrf_field(request)}"
                f"<input type='hidden' name='restriction_id' value='{rid}'>"
                f"<label>{_(T_APPEAL_HINT, n=appeal_rules.MAX_STATEMENT)}<br>"
                f"<textarea name='statement' rows='3' cols='60' required maxlength='{appeal_rules.MAX_STATEMENT}'>"
                f"</textarea></label>{_evidence_choices(system, account_id, loc)}"
                f"<br><button class='primary' type='submit'>{_(T_APPEAL)}</button></form>"
            )
        cards.append(f"<div class='finding' data-code='{escape(f['code'])}'>{''.join(parts)}</div>")
    return (
        f"<div class='card' id='diagnosis'><h2>{_(T_RESTRICTIONS)}</h2>"
        f"<p>{escape(d['summary'])}</p>{''.join(cards)}</div>"
    )


def _evidence_choices(system: Huabei, account_id: int, loc: str) -> str:
    """The appeal form's evidence: a box per recent purchase of the line (its own, checked again
    when the appeal is filed), at most ``appeal_rules.MAX_EVIDENCE`` ticked."""
    _ = lambda m, **k: escape(translate(m, loc, **k))  # noqa: E731
    choices = appeals.evidence_choices(system, account_id)
    if not choices:
        return ""
    boxes = "".join(
        f"<label><input type='checkbox' name='purchase_{p['purchase_id']}' value='{p['purchase_id']}'> "
        f"{p['business_date']} · {escape(p['merchant_id'])} · {format_yuan(p['amount'])}</label><br>"
        for p in choices
    )
    return f"<fieldset class='evidence'><legend>{_(T_EVIDENCE, n=appeal_rules.MAX_EVIDENCE)}</legend>{boxes}</fieldset>"


def _appeals(appeal_rows: list[dict[str, Any]], loc: str) -> str:
    """申诉: every appeal of the line, newest first, with its status and the agent's reason."""
    _ = lambda m, **k: escape(translate(m, loc, **k))  # noqa: E731
    if not appeal_rows:
        return ""
    rows = "".join(
        f"<tr data-appeal='{a['appeal_id']}'><td>{_(T_APPEAL_ROW, appeal_id=a['appeal_id'], date=a['created_at'][:10])}</td>"
        f"<td>{escape(reasons.message(a['cause'], loc))}{_attached(a, loc)}</td>"
        f"<td class='appeal-status {a['status']}'>{_(T_APPEAL_STATUS[a['status']])}</td>"
        f"<td>{escape(a['decision_reason'] or '')}</td></tr>"
        for a in reversed(appeal_rows)
    )
    return f"<div class='card' id='appeals'><h2>{_(T_APPEALS)}</h2><table>{rows}</table></div>"


def _attached(a: dict[str, Any], loc: str) -> str:
    ids = a.get("purchase_ids") or []
    if not ids:
        return ""
    shown = ", ".join(str(i) for i in ids)
    return f"<br><span class='muted evidence'>{escape(translate(T_EVIDENCE_ROW, loc, ids=shown))}</span>"


def _advice(system: Huabei, account_id: int, loc: str) -> str:
    """提额建议: the limit advice of ``huabei.diagnosis`` (the real policy on changed facts), ranked."""
    _ = lambda m: escape(translate(m, loc))  # noqa: E731
    try:
        a = diagnosis.limit_advice(system, account_id, loc)
    except HuabeiError:
        return ""
    summary = "".join(f"<p>{escape(x)}</p>" for x in a["summary"])
    actions = "".join(
        f"<li data-code='{escape(x['code'])}'>{escape(x['message'])}<br><span class='muted'>{escape(x['effect'])}</span></li>"
        for x in a["actions"]
    )
    warnings = "".join(
        f"<li>{escape(w['message'])}"
        + (f"<br><span class='muted'>{escape(w['remedy'])}</span>" if w["remedy"] else "")
        + "</li>"
        for w in a["warnings"]
    )
    warned = f"<h3>{_(T_WARNINGS)}</h3><ul>{warnings}</ul>" if warnings else ""
    return f"<div class='card' id='advice'><h2>{_(T_ADVICE)}</h2>{summary}<ol>{actions}</ol>{warned}</div>"


def router(system: Huabei) -> APIRouter:
    r = APIRouter(include_in_schema=False)
    me = [allow("customer", own_in_body=True)]

    def _xinyonggou_of(request: Request, user_id: str, loc: str) -> str:
        """Every 信用购 line of the user: the open one, and closed ones still being repaid."""
        lines = accounts.get_user(system, user_id)["xinyonggou_account_ids"]
        return "".join(_xinyonggou(request, system, accounts.account_view(system, aid), loc) for aid in lines)

    def page(request: Request, loc: str, notice: str = "", status: int = 200) -> HTMLResponse:
        principal = auth.current_principal(request)
        a = _account_of(system, principal.user_id)
        note = f"<p class='card' id='notice'>{escape(notice)}</p>" if notice else ""
        if a is None:  # no open 花呗 line: still the 信用购 lines being repaid
            others = _xinyonggou_of(request, principal.user_id, loc) if principal.user_id else ""
            alone = "" if others else f"<p>{escape(translate(T_NO_LINE, loc))}</p>"
            body = f"<h1>{escape(translate(T_ME, loc))}</h1>{note}{alone}{others}"
            return layout(request, translate(T_ME, loc), body, loc, status)
        aid = a["account_id"]
        appeal_rows = appeals.listing(system, account_id=aid)
        open_appeals = {x["restriction_id"]: x["appeal_id"] for x in appeal_rows if x["status"] == "open"}
        body = (
            f"<h1>{escape(translate(T_ME, loc))}</h1>{note}<div class='grid'>{_ring(a, loc)}"
            f"{_diagnosis(request, system, aid, open_appeals, loc)}</div>{_appeals(appeal_rows, loc)}"
            f"{_bills(request, system, a, loc)}{_plans(system, aid, loc)}{_xinyonggou_of(request, a['user_id'], loc)}"
            f"{_score(system, a['user_id'], loc)}{_advice(system, aid, loc)}"
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
            a = await run_in_threadpool(
                _account_of, system, principal.user_id, form.get("product") or "huabei", form.get("line")
            )
            if a is None:
                raise not_found("account_not_found", account_id="-")
            notice = await run_in_threadpool(run, a, form, f"key:{principal.key_id}", loc)
        except HuabeiError as e:
            request.state.error_code = e.code
            return await run_in_threadpool(page, request, loc, reasons.message(e.code, loc, **e.params), e.http_status)
        except (AmountError, ValueError):
            return await run_in_threadpool(page, request, loc, reasons.message("invalid_amount", loc), 400)
        return RedirectResponse(f"/me?lang={'en' if loc == 'en' else 'zh'}&done={quote(notice)}", status_code=303)

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

    @r.post("/me/appeals", dependencies=me)
    async def appeal(request: Request, lang: str | None = Query(default=None)) -> Response:
        actor = auth.current_principal(request).actor

        def run(a: dict[str, Any], form: dict[str, str], _caller: str, loc: str) -> str:
            rid = form.get("restriction_id", "")
            if not rid.isdigit() or not 1 <= int(rid) < 2**63:
                raise not_found("restriction_not_found", restriction_id=rid[:20])
            out = appeals.file_appeal(
                system,
                a["account_id"],
                restriction_id=int(rid),
                statement=form.get("statement", ""),
                purchase_ids=_evidence(form),
                actor=actor,
            )
            return translate(T_APPEAL_FILED, loc, appeal_id=out["appeal_id"])

        return await _act(request, lang, run)

    return r


def _evidence(form: dict[str, str]) -> list[int]:
    """The purchase ids ticked on the appeal form (``purchase_<id>`` = ``<id>``); anything else
    under that name is 400 ``invalid_evidence``."""
    ids = []
    for k, v in form.items():
        if not k.startswith("purchase_"):
            continue
        n = k.removeprefix("purchase_")
        if not (n.isdigit() and v == n and 1 <= int(n) < 2**63):
            raise HuabeiError("invalid_evidence", ErrorKind.INVALID_REQUEST, detail=f"{k[:30]}={v[:30]}")
        ids.append(int(n))
    return ids


def _kind(status: int) -> Any:
    from huabei.errors import HTTP_STATUS

    return next((k for k, v in HTTP_STATUS.items() if v == status), next(iter(HTTP_STATUS)))
