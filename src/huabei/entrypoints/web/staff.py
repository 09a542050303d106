"""The agent console (search by user, phone or line; each line's page is ``/accounts/{id}``) and
the risk dashboard (the portfolio as charts, from ``huabei.portfolio.queries``' aggregate reads)."""

from __future__ import annotations

import datetime as dt
import json
from html import escape
from typing import Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from huabei.entrypoints.auth import allow
from huabei.entrypoints.web.session import layout, page_locale
from huabei.i18n import N_, translate
from huabei.money import format_yuan
from huabei.platform.unit_of_work import Huabei
from huabei.portfolio import queries as portfolio
from huabei.scoring import service as scoring
from huabei.scoring.dimensions import BAND_NAMES
from huabei.scoring.stability import PSI_MODERATE, PSI_STABLE

#: How many months the dashboard's time series show.
MONTHS = 12

T_CONSOLE = N_("Agent console")
T_SEARCH = N_("Search")
T_SEARCH_HINT = N_("User id, phone number or credit line number")
T_NO_MATCH = N_("Nothing matches.")
T_LINE = N_("Credit line")
T_USER = N_("User")
T_PHONE = N_("Phone")
T_USED = N_("Used")
T_BASE = N_("Base limit")
T_STATE = N_("Status")
T_PORTFOLIO = N_("Portfolio")
T_LINES = N_("Credit lines: {n}")
T_UTILISATION = N_("Utilisation: {share}")
T_OVERDUE = N_("Overdue: {share} of lines, {amount} owed")
T_BY_STATUS = N_("Lines by status")
T_BY_BUCKET = N_("Lines by days past due")
T_BY_CAUSE = N_("Active restrictions by cause")
T_SCORES = N_("Score distribution")
T_LAST_EOD = N_("Last end-of-day run: {date}")
T_OVER_TIME = N_("Overdue rate and amount by month")
T_OVERDUE_RATE = N_("Overdue rate (%)")
T_OVERDUE_AMOUNT = N_("Amount overdue (yuan)")
T_UTILISATION_TIME = N_("Utilisation by month (%)")
T_NO_MONTHS = N_("No month-end record yet: the first is written on the first day of a month.")
T_STABILITY = N_("Score stability (PSI against the month before)")
T_PSI = N_("PSI")
T_PSI_NOW = N_("PSI since last month: {psi} ({meaning})")
T_PSI_MEANING = {
    "stable": N_("stable"),
    "moderate": N_("moderate shift: watch it"),
    "shift": N_("shifted: rescale or refit the card"),
}
T_PSI_LIMITS = N_("Thresholds 0.1 / 0.25")
T_BANDS_NOW = N_("Score bands, last month end and today")
T_STATUS_NAMES = {"active": N_("active"), "frozen": N_("frozen"), "overdue": N_("overdue"), "closed": N_("closed")}


def _state(row: dict[str, Any]) -> str:
    if row["closed_on"] is not None:
        return "closed"
    code = row["block_code"] or ""
    return "frozen" if code.startswith("account_frozen") else "overdue" if code == "account_overdue" else "active"


def _chart(chart_id: str, kind: str, labels: list[str], values: list[Any], label: str) -> str:
    cfg = {
        "type": kind,
        "data": {"labels": labels, "datasets": [{"label": label, "data": values}]},
        "options": {"animation": False},
    }
    return f"<canvas id='{chart_id}' height='160' data-chart='{escape(json.dumps(cfg))}'></canvas>"


def _series(loc: str, months: list[dict[str, Any]]) -> str:
    """Overdue rate and amount, and utilisation, month by month (the bureau records)."""
    _ = lambda m, **k: escape(translate(m, loc, **k))  # noqa: E731
    if not months:
        return f"<div class='card' id='series'><h2>{_(T_OVER_TIME)}</h2><p>{_(T_NO_MONTHS)}</p></div>"
    labels = [m["month"] for m in months]
    overdue = {
        "type": "bar",
        "data": {
            "labels": labels,
            "datasets": [
                {
                    "type": "line",
                    "label": translate(T_OVERDUE_RATE, loc),
                    "data": [round(m["overdue_rate"] * 100, 2) for m in months],
                    "yAxisID": "y",
                },
                {
                    "label": translate(T_OVERDUE_AMOUNT, loc),
                    "data": [format_yuan(m["amount_overdue"]) for m in months],
                    "yAxisID": "y1",
                },
            ],
        },
        "options": {"animation": False, "scales": {"y1": {"position": "right", "grid": {"drawOnChartArea": False}}}},
    }
    used = {
        "type": "line",
        "data": {
            "labels": labels,
            "datasets": [
                {
                    "label": translate(T_UTILISATION_TIME, loc),
                    "data": [round(m["utilisation"] * 100, 2) for m in months],
                }
            ],
        },
        "options": {"animation": False},
    }
    return (
        f"<div class='card' id='series'><h2>{_(T_OVER_TIME)}</h2>"
        f"<canvas id='chart-overdue-time' height='140' data-chart='{escape(json.dumps(overdue))}'></canvas>"
        f"<h2>{_(T_UTILISATION_TIME)}</h2>"
        f"<canvas id='chart-utilisation-time' height='120' data-chart='{escape(json.dumps(used))}'></canvas></div>"
    )


def _stability(loc: str, points: list[dict[str, Any]]) -> str:
    """The score bands' PSI month over month, with the 0.1 and 0.25 thresholds, and the bands of
    the last month end beside today's."""
    _ = lambda m, **k: escape(translate(m, loc, **k))  # noqa: E731
    scored = [p for p in points if p["psi"] is not None]
    labels = [p["date"] for p in scored]
    psi = {
        "type": "line",
        "data": {
            "labels": labels,
            "datasets": [
                {"label": translate(T_PSI, loc), "data": [float(p["psi"]) for p in scored]},
                {
                    "label": translate(T_PSI_LIMITS, loc),
                    "data": [float(PSI_STABLE)] * len(labels),
                    "borderDash": [4, 4],
                    "pointRadius": 0,
                },
                {"label": "", "data": [float(PSI_MODERATE)] * len(labels), "borderDash": [4, 4], "pointRadius": 0},
            ],
        },
        "options": {"animation": False},
    }
    now = ""
    if scored:
        last = scored[-1]
        now = f"<p id='psi-now'>{_(T_PSI_NOW, psi=last['psi'], meaning=translate(T_PSI_MEANING[last['interpretation']], loc))}</p>"
    before, today = (points[-2], points[-1]) if len(points) >= 2 else ({"bands": {}}, points[-1])
    names = list(today["bands"])
    bands = {
        "type": "bar",
        "data": {
            "labels": [translate(BAND_NAMES[n], loc) for n in names],
            "datasets": [
                {"label": before.get("date", ""), "data": [before["bands"].get(n, 0) for n in names]},
                {"label": today["date"], "data": [today["bands"][n] for n in names]},
            ],
        },
        "options": {"animation": False},
    }
    return (
        f"<div class='card' id='stability'><h2>{_(T_STABILITY)}</h2>{now}"
        f"<canvas id='chart-psi' height='120' data-chart='{escape(json.dumps(psi))}'></canvas>"
        f"<h3>{_(T_BANDS_NOW)}</h3>"
        f"<canvas id='chart-bands' height='120' data-chart='{escape(json.dumps(bands))}'></canvas></div>"
    )


def router(system: Huabei) -> APIRouter:
    r = APIRouter(include_in_schema=False)

    @r.get("/console", response_class=HTMLResponse, dependencies=[allow("agent", "risk")])
    def console(request: Request, q: str | None = Query(default=None, max_length=64), lang: str | None = None) -> Any:
        loc = page_locale(lang)
        _ = lambda m, **k: escape(translate(m, loc, **k))  # noqa: E731
        results = ""
        if q:
            rows = portfolio.find_lines(system, q)
            body = "".join(
                f"<tr><td><a href='/accounts/{x['account_id']}?lang={loc}'>{x['account_id']}</a></td>"
                f"<td>{escape(x['user_id'])}</td><td>{escape(x['name'] or '')}</td><td>{escape(x['phone'] or '')}</td>"
                f"<td>{_(T_STATUS_NAMES[_state(x)])}</td><td class='num'>{format_yuan(x['base_limit'])}</td>"
                f"<td class='num'>{format_yuan(x['used'])}</td></tr>"
                for x in rows
            )
            results = (
                f"<table id='results'><tr><th>{_(T_LINE)}</th><th>{_(T_USER)}</th><th></th><th>{_(T_PHONE)}</th>"
                f"<th>{_(T_STATE)}</th><th class='num'>{_(T_BASE)}</th><th class='num'>{_(T_USED)}</th></tr>{body}</table>"
                if rows
                else f"<p id='results'>{_(T_NO_MATCH)}</p>"
            )
        page = (
            f"<h1>{_(T_CONSOLE)}</h1><form method='get' action='/console' class='card'>"
            f"<input type='hidden' name='lang' value='{loc}'><input name='q' value='{escape(q or '')}' "
            f"placeholder='{_(T_SEARCH_HINT)}' size='40'> <button class='primary' type='submit'>{_(T_SEARCH)}</button>"
            f"</form>{results}"
        )
        return layout(request, translate(T_CONSOLE, loc), page, loc)

    @r.get("/portfolio", response_class=HTMLResponse, dependencies=[allow("risk")])
    def dashboard(request: Request, lang: str | None = None) -> Any:
        loc = page_locale(lang)
        _ = lambda m, **k: escape(translate(m, loc, **k))  # noqa: E731
        f = portfolio.figures(system)
        status = [(translate(T_STATUS_NAMES.get(k, k), loc), v) for k, v in sorted(f["by_status"].items())]
        eod = f["last_eod"]
        steps = "".join(
            f"<tr><td>{escape(s['step'])}</td><td>{escape(json.dumps(s['counts'], ensure_ascii=False))}</td></tr>"
            for s in eod["steps"]
        )
        used_share, overdue_share = f"{f['utilisation']:.1%}", f"{f['overdue_rate']:.1%}"
        page = (
            f"<h1>{_(T_PORTFOLIO)}</h1><div class='card' id='headline'><p>{_(T_LINES, n=f['lines'])} · "
            f"{_(T_UTILISATION, share=used_share)} · "
            f"{_(T_OVERDUE, share=overdue_share, amount=format_yuan(f['overdue_amount']))}</p></div>"
            f"<div class='grid'>"
            f"<div class='card'><h2>{_(T_BY_STATUS)}</h2>"
            f"{_chart('chart-status', 'doughnut', [s for s, _n in status], [n for _s, n in status], '')}</div>"
            f"<div class='card'><h2>{_(T_BY_BUCKET)}</h2>"
            f"{_chart('chart-buckets', 'bar', list(f['buckets']), [b['lines'] for b in f['buckets'].values()], translate(T_LINES, loc, n=''))}</div>"
            f"<div class='card'><h2>{_(T_BY_CAUSE)}</h2>"
            f"{_chart('chart-causes', 'bar', list(f['restrictions_by_cause']), list(f['restrictions_by_cause'].values()), '')}</div>"
            f"<div class='card'><h2>{_(T_SCORES)}</h2>"
            f"{_chart('chart-scores', 'bar', list(f['score_bands']), list(f['score_bands'].values()), '')}</div>"
            f"</div>{_series(loc, portfolio.monthly(system, MONTHS))}"
            f"{_stability(loc, scoring.band_stability(system, portfolio.month_ends(dt.date.fromisoformat(f['as_of']), 6)))}"
            f"<div class='card'><h2>{_(T_LAST_EOD, date=eod['business_date'] or '-')}</h2>"
            f"<table>{steps}</table></div>"
        )
        return layout(request, translate(T_PORTFOLIO, loc), page, loc)

    return r
