"""The agents' appeals queue (申诉处理): the open appeals, oldest first, each with the line, the
restriction contested, the user's statement and evidence, and a decide form (lift or uphold, an
outcome label and a reason) calling ``huabei.appeals.service.decide`` as the API does. The decision,
its actor and the lift are one transaction; the request is in the audit log like every form."""

from __future__ import annotations

from html import escape
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from huabei import reasons
from huabei.access.roles import Role
from huabei.appeals import rules
from huabei.appeals import service as appeals
from huabei.entrypoints import auth
from huabei.entrypoints.auth import allow
from huabei.entrypoints.web.session import csrf_field, layout, page_locale
from huabei.errors import HuabeiError
from huabei.i18n import N_, translate
from huabei.platform.unit_of_work import Huabei

T_QUEUE = N_("Appeals queue")
T_EMPTY = N_("No appeal is waiting.")
T_APPEAL = N_("Appeal {appeal_id}")
T_LINE = N_("Credit line {account_id}")
T_FILED = N_("Filed on {date}")
T_STATEMENT = N_("The user says")
T_EVIDENCE = N_("Purchases given as evidence: {ids}")
T_DECISION = N_("Decision")
T_REASON = N_("Reason (the user reads it)")
T_DECIDE = N_("Decide")
T_DECIDED = N_("Appeal {appeal_id} decided: {status}.")
T_RECENT = N_("Decided lately")
T_DECISIONS = {"lift": N_("Lift the restriction"), "uphold": N_("Keep the restriction")}
T_OUTCOMES = {
    "false_positive": N_("the rule was wrong"),
    "resolved_by_user": N_("the user put it right"),
    "goodwill": N_("goodwill"),
    "confirmed": N_("the rule was right"),
    "insufficient_evidence": N_("not enough evidence"),
}
T_STATUS = {"open": N_("open"), "lifted": N_("lifted"), "upheld": N_("upheld")}

#: How many decided appeals the page shows under the queue.
RECENT = 20


def _decide_form(request: Request, appeal_id: int, loc: str) -> str:
    _ = lambda m, **k: escape(translate(m, loc, **k))  # noqa: E731
    groups = "".join(
        f"<optgroup label='{_(T_DECISIONS[d.value])}'>"
        + "".join(
            f"<option value='{d.value}:{o}'>{_(T_DECISIONS[d.value])} — {_(T_OUTCOMES[o])}</option>"
            for o in rules.OUTCOMES[d]
        )
        + "</optgroup>"
        for d in rules.Decision
    )
    return (
        f"<form method='post' action='/console/appeals/{appeal_id}/decision?lang={loc}' class='decide-form'>"
        f"{csrf_field(request)}<label>{_(T_DECISION)} <select name='choice'>{groups}</select></label><br>"
        f"<label>{_(T_REASON)}<br><textarea name='reason' rows='2' cols='60' required "
        f"maxlength='{rules.MAX_STATEMENT}'></textarea></label><br>"
        f"<button class='primary' type='submit'>{_(T_DECIDE)}</button></form>"
    )


def _card(request: Request, a: dict[str, Any], may_decide: bool, loc: str) -> str:
    _ = lambda m, **k: escape(translate(m, loc, **k))  # noqa: E731
    evidence = ""
    if a["purchase_ids"]:
        evidence = f"<p class='muted'>{_(T_EVIDENCE, ids=', '.join(str(i) for i in a['purchase_ids']))}</p>"
    form = _decide_form(request, a["appeal_id"], loc) if may_decide else ""
    return (
        f"<div class='card appeal' id='appeal-{a['appeal_id']}'><h3>{_(T_APPEAL, appeal_id=a['appeal_id'])} · "
        f"<a href='/accounts/{a['account_id']}?lang={loc}'>{_(T_LINE, account_id=a['account_id'])}</a></h3>"
        f"<p>{escape(reasons.message(a['cause'], loc))} <span class='muted'>"
        f"{_(T_FILED, date=a['created_at'][:10])}</span></p>"
        f"<p>{_(T_STATEMENT)}: {escape(a['statement'])}</p>{evidence}{form}</div>"
    )


def router(system: Huabei) -> APIRouter:
    r = APIRouter(include_in_schema=False)

    def page(request: Request, loc: str, notice: str = "", error: str = "", status: int = 200) -> HTMLResponse:
        _ = lambda m, **k: escape(translate(m, loc, **k))  # noqa: E731
        principal = auth.current_principal(request)
        may_decide = principal.role in (Role.AGENT, Role.ADMIN)
        waiting = appeals.listing(system, status="open")
        decided = appeals.recently_decided(system, RECENT)
        cards = "".join(_card(request, a, may_decide, loc) for a in waiting) or f"<p id='queue-empty'>{_(T_EMPTY)}</p>"
        recent = "".join(
            f"<tr><td>{_(T_APPEAL, appeal_id=a['appeal_id'])}</td>"
            f"<td><a href='/accounts/{a['account_id']}?lang={loc}'>{a['account_id']}</a></td>"
            f"<td>{escape(reasons.message(a['cause'], loc))}</td><td>{_(T_STATUS[a['status']])}</td>"
            f"<td>{_(T_OUTCOMES.get(a['outcome'] or '', a['outcome'] or ''))}</td>"
            f"<td>{escape(a['decision_reason'] or '')}</td></tr>"
            for a in decided
        )
        shown = [f"<p class='card' id='notice'>{escape(notice)}</p>" if notice else ""]
        if error:
            shown.append(f"<p class='card error' id='error'>{escape(error)}</p>")
        body = f"<h1>{_(T_QUEUE)}</h1>{''.join(shown)}<div id='queue'>{cards}</div>" + (
            f"<h2>{_(T_RECENT)}</h2><table id='decided'>{recent}</table>" if recent else ""
        )
        return layout(request, translate(T_QUEUE, loc), body, loc, status)

    @r.get("/console/appeals", response_class=HTMLResponse, dependencies=[allow("agent", "risk")])
    def queue(request: Request, lang: str | None = Query(default=None), done: str | None = None) -> HTMLResponse:
        return page(request, page_locale(lang), (done or "")[:200])

    @r.post("/console/appeals/{appeal_id}/decision", dependencies=[allow("agent")])
    async def decide(
        request: Request, appeal_id: Annotated[int, Path(ge=1, le=2**63 - 1)], lang: str | None = Query(default=None)
    ) -> Response:
        loc = page_locale(lang)
        actor = auth.current_principal(request).actor
        form = await auth.form_data(request)
        decision, _sep, outcome = form.get("choice", "").partition(":")
        try:
            out = await run_in_threadpool(
                lambda: appeals.decide(
                    system, appeal_id, decision=decision, outcome=outcome, reason=form.get("reason", ""), actor=actor
                )
            )
        except HuabeiError as e:
            request.state.error_code = e.code
            message = reasons.message(e.code, loc, **e.params)
            return await run_in_threadpool(page, request, loc, "", message, e.http_status)
        said = translate(T_DECIDED, loc, appeal_id=appeal_id, status=translate(T_STATUS[out["status"]], loc))
        return RedirectResponse(
            f"/console/appeals?lang={'en' if loc == 'en' else 'zh'}&done={quote(said)}", status_code=303
        )

    return r
