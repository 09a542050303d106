"""The staff's view of one line (``/accounts/{id}`` for agents, risk analysts and admins): the
active restrictions with their evidence and who placed them, a lift form on each and a place form
(an agent only on soft ones: ``huabei.risk.service.agent_check``), the score and limit history as
charts, the latest transactions and the line's audit trail."""

from __future__ import annotations

import datetime as dt
import json
from html import escape
from typing import Any

from fastapi import Request

from huabei import reasons
from huabei.access import service as access
from huabei.access.roles import Principal, Role
from huabei.diagnosis import service as diagnosis
from huabei.entrypoints.web.session import csrf_field
from huabei.errors import HuabeiError
from huabei.i18n import N_, translate
from huabei.limits import service as limits
from huabei.lines import queries
from huabei.money import format_yuan
from huabei.platform import admin
from huabei.platform.unit_of_work import Huabei
from huabei.restrictions.causes import AGENT_LIFT_REASONS
from huabei.risk import service as risk
from huabei.scoring import service as scoring

T_RESTRICTIONS = N_("Restrictions")
T_NONE = N_("None")
T_PLACED = N_("Placed on {date} by {actor}")
T_RULE = N_("Risk rule {rule_id} ({severity})")
T_LIFTS_ON = N_("Lifts on {date}")
T_HARD = N_("Hard: only its own rule or a risk analyst lifts it.")
T_LIFT = N_("Lift")
T_LIFT_REASON = N_("Reason")
T_PLACE = N_("Place a restriction")
T_CAUSE = N_("Cause")
T_NOTE = N_("Note (why)")
T_LIFTS_ON_FIELD = N_("Lifts on")
T_LIFTS_ON_HINT = N_("optional: a day after today; empty, it lifts the way its cause does")
T_HISTORY = N_("Score and limit history")
T_SCORE = N_("Credit score")
T_BASE_LIMIT = N_("Base limit (yuan)")
T_TRANSACTIONS = N_("Transactions")
T_NO_TRANSACTIONS = N_("No transaction yet.")
T_AUDIT = N_("Audit trail")
T_NO_AUDIT = N_("Nothing recorded yet.")
T_SEVERITY = {"hard": N_("hard"), "soft": N_("soft")}
T_KINDS = {
    "purchase": N_("purchase"),
    "refund": N_("refund"),
    "repayment": N_("repayment"),
    "fee": N_("fee"),
    "interest": N_("interest"),
    "penalty": N_("late fee"),
    "credit_applied": N_("credit applied"),
}
T_LIFT_REASONS = {
    "false_positive": N_("the rule was wrong"),
    "resolved_by_user": N_("the user put it right"),
    "goodwill": N_("goodwill"),
    "appeal_lifted": N_("appeal accepted"),
    "operator_error": N_("placed by mistake"),
}

TRANSACTIONS = 20
AUDIT_ROWS = 30


def _restrictions(request: Request, system: Huabei, account_id: int, p: Principal, loc: str) -> str:
    _ = lambda m, **k: escape(translate(m, loc, **k))  # noqa: E731
    agent = p.role is Role.AGENT
    try:
        texts = {f["restriction_id"]: f for f in diagnosis.diagnosis(system, account_id, loc)["findings"]}
    except HuabeiError:
        texts = {}
    cards = []
    for x in risk.restrictions_for_agent(system, account_id):
        f = texts.get(x["restriction_id"], {})
        said = f.get("message") or reasons.message(x["cause"], loc)
        evidence = "".join(f"<li>{escape(e)}</li>" for e in f.get("evidence", []) if e)
        raw = "".join(
            f"<li><code>{escape(str(k))}</code>: {escape(json.dumps(v, ensure_ascii=False))}</li>"
            for k, v in x["evidence"].items()
        )
        rule = ""
        if x["rule_id"]:
            rule = f" · {_(T_RULE, rule_id=x['rule_id'], severity=translate(T_SEVERITY.get(x['severity'], ''), loc))}"
        lifts = f" · {_(T_LIFTS_ON, date=x['lifts_on'])}" if x["lifts_on"] else ""
        note = f"<p>{escape(x['note'])}</p>" if x["note"] else ""
        if agent and x["agent"] == "hard":
            action = f"<p class='muted hard'>{_(T_HARD)}</p>"
        else:
            options = "".join(f"<option value='{c}'>{_(T_LIFT_REASONS[c])}</option>" for c in AGENT_LIFT_REASONS)
            action = (
                f"<form method='post' class='lift-form' "
                f"action='/accounts/{account_id}/restrictions/{x['restriction_id']}/lift?lang={loc}'>"
                f"{csrf_field(request)}<label>{_(T_LIFT_REASON)} <select name='reason'>{options}</select></label> "
                f"<button class='primary' type='submit'>{_(T_LIFT)}</button></form>"
            )
        cards.append(
            f"<div class='card frozen restriction' data-cause='{escape(x['cause'])}' data-agent='{x['agent']}'>"
            f"<p><b>{escape(said)}</b></p><ul>{evidence}{raw}</ul>"
            f"<p class='muted'>{_(T_PLACED, date=x['placed_on'], actor=x['placed_by'])}{rule}{lifts}</p>"
            f"{note}{action}</div>"
        )
    causes = risk.causes_for_agent(system)
    allowed = [c for c, sev in causes.items() if not agent or sev == "soft"]
    known = {"threshold": system.terms.scoring.opening_threshold}
    options = "".join(
        f"<option value='{c}'>{escape(reasons.message(c, loc, **{k: known.get(k, '…') for k in reasons.placeholders(c)}))}"
        "</option>"
        for c in allowed
    )
    place = (
        f"<form method='post' action='/accounts/{account_id}/restrictions?lang={loc}' id='place-form' class='card'>"
        f"<h3>{_(T_PLACE)}</h3>{csrf_field(request)}<label>{_(T_CAUSE)} <select name='cause'>{options}</select>"
        f"</label><br><label>{_(T_NOTE)}<br><textarea name='note' rows='2' cols='60' required maxlength='2000'>"
        f"</textarea></label><br><label>{_(T_LIFTS_ON_FIELD)} <input type='date' name='lifts_on' "
        f"min='{(admin.business_date(system) + dt.timedelta(days=1)).isoformat()}'></label> "
        f"<span class='muted'>{_(T_LIFTS_ON_HINT)}</span><br>"
        f"<button class='primary' type='submit'>{_(T_PLACE)}</button></form>"
    )
    shown = "".join(cards) or f"<p>{_(T_NONE)}</p>"
    return f"<h2>{_(T_RESTRICTIONS)}</h2><div id='restrictions'>{shown}</div>{place}"


def _history(system: Huabei, account_id: int, user_id: str, loc: str) -> str:
    """The score and the base limit over time, one chart (two axes)."""
    try:
        scores = list(reversed(scoring.score_history(system, user_id, limit=24)["data"]))
    except HuabeiError:
        scores = []
    changes = [c for c in reversed(limits.limit_changes(system, account_id)) if c["limit_kind"] == "base"]
    points: dict[str, dict[str, Any]] = {}
    for sc in scores:
        points.setdefault(str(sc["as_of"]), {})["score"] = sc["score"]
    for c in changes:
        points.setdefault(c["business_date"], {})["limit"] = format_yuan(c["new_value"])
    days = sorted(points)
    limit_series: list[str | None] = []
    last: str | None = None
    for d in days:
        last = points[d].get("limit", last)
        limit_series.append(last)
    chart = {
        "type": "line",
        "data": {
            "labels": days,
            "datasets": [
                {
                    "label": translate(T_SCORE, loc),
                    "data": [points[d].get("score") for d in days],
                    "yAxisID": "y",
                    "spanGaps": True,
                },
                {
                    "label": translate(T_BASE_LIMIT, loc),
                    "data": limit_series,
                    "yAxisID": "y1",
                    "stepped": True,
                },
            ],
        },
        "options": {"animation": False, "scales": {"y1": {"position": "right", "grid": {"drawOnChartArea": False}}}},
    }
    return (
        f"<h2>{escape(translate(T_HISTORY, loc))}</h2>"
        f"<canvas id='line-history' height='110' data-chart='{escape(json.dumps(chart))}'></canvas>"
    )


def _transactions(system: Huabei, account_id: int, loc: str) -> str:
    _ = lambda m: escape(translate(m, loc))  # noqa: E731
    rows = queries.transactions(system, account_id, limit=TRANSACTIONS)["data"]
    if not rows:
        return f"<h2>{_(T_TRANSACTIONS)}</h2><p>{_(T_NO_TRANSACTIONS)}</p>"
    body = "".join(
        f"<tr><td>{x['business_date']}</td><td>{_(T_KINDS.get(x['type'], x['type']))}</td>"
        f"<td class='num'>{format_yuan(x['amount'])}</td><td class='muted'>{escape(x['memo'] or '')}</td></tr>"
        for x in rows
    )
    return f"<h2>{_(T_TRANSACTIONS)}</h2><table id='transactions'>{body}</table>"


def _audit(system: Huabei, account_id: int, loc: str) -> str:
    _ = lambda m: escape(translate(m, loc))  # noqa: E731
    rows = access.line_audit_trail(system, account_id, AUDIT_ROWS)
    if not rows:
        return f"<h2>{_(T_AUDIT)}</h2><p id='audit'>{_(T_NO_AUDIT)}</p>"
    body = "".join(
        f"<tr><td>{str(x['at'])[:19]}</td><td>{escape(x['actor'] or '-')}</td>"
        f"<td>{escape(x['method'])} <code>{escape(x['path'])}</code></td><td class='num'>{x['status']}</td>"
        f"<td class='{'ok' if x['outcome'] == 'ok' else 'error'}'>{escape(x['outcome'])}</td>"
        f"<td>{escape(x['code'] or '')}</td></tr>"
        for x in rows
    )
    return f"<h2>{_(T_AUDIT)}</h2><table id='audit'>{body}</table>"


def staff_sections(request: Request, system: Huabei, a: dict[str, Any], p: Principal, loc: str) -> str:
    aid = a["account_id"]
    return (
        f"{_restrictions(request, system, aid, p, loc)}{_history(system, aid, a['user_id'], loc)}"
        f"{_transactions(system, aid, loc)}{_audit(system, aid, loc)}"
    )
