"""Policies compared side by side: the same population (same seed, users, months, mix) lived
under each policy, each on its own scratch database, and the figures set next to each other
with their differences from the first policy.

A policy is a product-terms override (YAML), deep-merged over the configured terms, e.g.::

    scoring: {opening_threshold: 650}
    billing: {minimum_repayment_rate: "0.15"}
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml

from huabei.config import ProductTerms
from huabei.money import format_yuan
from huabei.simulation.profiles import deep_merge
from huabei.simulation.report import BUCKETS

FORMAT = "huabei.simulation.compare/1"


def is_risk_policy(data: Any) -> bool:
    """A risk policy file (``huabei/risk/default_policy.yaml``'s form) rather than product terms."""
    return isinstance(data, dict) and "rules" in data and "format" in data


def policy_terms(base: ProductTerms, path: str | Path | None) -> ProductTerms:
    """``base`` with the YAML policy file at ``path`` deep-merged over it (unknown keys refused).
    A risk policy file (``format`` and ``rules``: docs/risk.md) is run as the risk policy in force
    (``restrictions.risk_policy``), validated first."""
    if path is None:
        return base
    over = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    if is_risk_policy(over):
        from huabei.risk.catalog import config_values
        from huabei.risk.policy import PolicyError, parse

        try:
            parse(Path(path).read_text(encoding="utf-8"), str(path), config_values(base))
        except PolicyError as e:
            raise ValueError("; ".join(e.errors)) from None
        over = {"restrictions": {"risk_policy": str(Path(path).resolve())}}
    if not isinstance(over, dict):
        raise ValueError(f"{path}: a policy file is a mapping of product terms")
    return ProductTerms.model_validate(deep_merge(copy.deepcopy(base.model_dump(mode="json")), over))


def _declined(m: dict[str, Any]) -> int:
    return sum(v for k, v in m["activity"].items() if k.startswith("open_declined:"))


def _bands(m: dict[str, Any], names: tuple[str, ...]) -> int:
    return sum(m["scores"].get(b, 0) for b in names)


#: (name, kind, getter) of each figure compared, per month. Kinds: count, fen, percent.
METRICS: list[tuple[str, str, Callable[[dict[str, Any]], Any]]] = [
    ("accounts_opened", "count", lambda m: m["accounts"]["opened"]),
    ("accounts_declined", "count", _declined),
    ("open_accounts", "count", lambda m: m["accounts"]["open"]),
    ("total_limit", "fen", lambda m: m["limits"]["total_fen"]),
    ("used", "fen", lambda m: m["limits"]["used_fen"]),
    ("utilisation_percent", "percent", lambda m: m["limits"]["utilisation_percent"]),
    ("purchases", "count", lambda m: m["purchases"]["count"]),
    ("purchase_volume", "fen", lambda m: m["purchases"]["volume_fen"]),
    ("purchases_declined", "count", lambda m: m["purchases"]["declined"]),
    ("repayment_volume", "fen", lambda m: m["repayments"]["volume_fen"]),
    ("revenue_installment_fees", "fen", lambda m: m["revenue_fen"]["installment_fees"]),
    ("revenue_interest", "fen", lambda m: m["revenue_fen"]["interest"]),
    ("revenue_penalty_interest", "fen", lambda m: m["revenue_fen"]["penalty_interest"]),
    ("revenue_total", "fen", lambda m: m["revenue_fen"]["total"]),
    *[(f"balance_{b}", "fen", (lambda b: lambda m: m["delinquency"][b]["balance_fen"])(b)) for b in BUCKETS],
    *[(f"accounts_{b}", "count", (lambda b: lambda m: m["delinquency"][b]["accounts"])(b)) for b in BUCKETS],
    ("limit_raises", "count", lambda m: m["limit_changes"]["raises"]),
    ("limit_cuts", "count", lambda m: m["limit_changes"]["cuts"]),
    ("scores_below_600", "count", lambda m: _bands(m, ("poor", "fair"))),
    ("scores_600_plus", "count", lambda m: _bands(m, ("good", "very_good", "excellent"))),
]

#: Figures summed over the run (flows); every other figure is taken at the last month.
FLOWS = {
    "accounts_opened",
    "accounts_declined",
    "purchases",
    "purchase_volume",
    "purchases_declined",
    "repayment_volume",
    "revenue_installment_fees",
    "revenue_interest",
    "revenue_penalty_interest",
    "revenue_total",
    "limit_raises",
    "limit_cuts",
}


def _diff(kind: str, a: Any, b: Any) -> Any:
    if kind == "percent":
        return str(Decimal(b) - Decimal(a))
    return int(b) - int(a)


def _row(kind: str, values: list[Any]) -> dict[str, Any]:
    return {"kind": kind, "values": values, "differences": [_diff(kind, values[0], v) for v in values[1:]]}


def compare_reports(labels: list[str], reports: list[dict[str, Any]]) -> dict[str, Any]:
    """Side by side: per month and for the whole run, each figure under every policy and its
    difference from the first policy's."""
    months = [m["month"] for m in reports[0]["months"]]
    per_month = []
    for i, month in enumerate(months):
        ms = [r["months"][i] for r in reports]
        per_month.append(
            {"month": month, "metrics": {name: _row(kind, [get(m) for m in ms]) for name, kind, get in METRICS}}
        )
    whole = {}
    for name, kind, get in METRICS:
        if name in FLOWS:
            values = [sum(get(m) for m in r["months"]) for r in reports]
        else:
            values = [get(r["months"][-1]) for r in reports]
        whole[name] = _row(kind, values)
    return {
        "format": FORMAT,
        "policies": labels,
        "policy_fingerprints": [r["run"]["policy_fingerprint"] for r in reports],
        "months": per_month,
        "run": whole,
        "risk": compare_risk(reports),
        "reports": reports,
    }


def compare_risk(reports: list[dict[str, Any]]) -> dict[str, Any] | None:
    """Each risk rule (and cause) under every policy: restricted, precision and recall against
    the same simulated truth (the same population, so the same truth)."""
    risks = [r.get("risk") for r in reports]
    if not all(risks):
        return None
    out: dict[str, Any] = {"policies": [r["policy"] for r in risks], "truth": risks[0]["truth"], "rules": {}}
    for section in ("rules", "causes"):
        names = sorted({n for r in risks for n in r[section]})
        out[section] = {
            n: {
                "cause": next((r[section][n].get("cause", n) for r in risks if n in r[section]), n),
                **{
                    k: [r[section][n][k] if n in r[section] else None for r in risks]
                    for k in ("restricted", "true_positives", "precision_percent", "recall_percent")
                },
            }
            for n in names
        }
    return out


def _show(kind: str, v: Any) -> str:
    if kind == "fen":
        return format_yuan(int(v))
    return str(v)


def _show_diff(kind: str, v: Any) -> str:
    if kind == "percent":
        return ("+" if Decimal(v) > 0 else "") + str(v)
    sign = "+" if int(v) > 0 else ""
    return sign + (format_yuan(int(v)) if kind == "fen" else str(v))


def render_comparison(comparison: dict[str, Any], console: Any) -> None:
    from rich.table import Table

    labels = comparison["policies"]
    tb = Table(title="policies compared over the whole run (flows summed, stocks at the last month end; yuan)")
    tb.add_column("figure")
    for label in labels:
        tb.add_column(label, justify="right")
    for label in labels[1:]:
        tb.add_column(f"{label} − {labels[0]}", justify="right")
    for name, row in comparison["run"].items():
        tb.add_row(
            name,
            *[_show(row["kind"], v) for v in row["values"]],
            *[_show_diff(row["kind"], d) for d in row["differences"]],
        )
    console.print(tb)
    key = (
        "accounts_opened",
        "accounts_declined",
        "purchase_volume",
        "utilisation_percent",
        "revenue_total",
        "balance_dpd_1_30",
        "balance_dpd_31_60",
        "balance_dpd_90_plus",
    )
    mt = Table(title="by month (yuan; Δ = difference from the first policy)")
    mt.add_column("month")
    mt.add_column("policy")
    for name in key:
        mt.add_column(name.replace("_", " "), justify="right")
    for m in comparison["months"]:
        for i, label in enumerate(labels):
            mt.add_row(
                m["month"] if i == 0 else "",
                label,
                *[_show(m["metrics"][n]["kind"], m["metrics"][n]["values"][i]) for n in key],
            )
        for j, label in enumerate(labels[1:]):
            mt.add_row(
                "", f"Δ {label}", *[_show_diff(m["metrics"][n]["kind"], m["metrics"][n]["differences"][j]) for n in key]
            )
    console.print(mt)
    risk = comparison.get("risk")
    if risk:
        rt = Table(title="risk rules against the simulated truth: restricted / precision % / recall %")
        rt.add_column("rule")
        rt.add_column("cause")
        for label, version in zip(labels, risk["policies"]):
            rt.add_column(f"{label} ({version})", justify="right")
        for section in ("rules", "causes"):
            for name, row in risk[section].items():
                rt.add_row(
                    name if section == "rules" else "[bold]all rules[/]",
                    row["cause"],
                    *[
                        f"{n if n is not None else '-'} / {p or '-'} / {r or '-'}"
                        for n, p, r in zip(row["restricted"], row["precision_percent"], row["recall_percent"])
                    ],
                )
        console.print(rt)
