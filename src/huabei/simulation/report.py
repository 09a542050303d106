"""The simulation report: monthly portfolio figures, as JSON (byte-identical for the same run
on SQLite and PostgreSQL) and as Rich tables.

Every figure is read back from the books with a few aggregate read-only queries at the end
of each month (none per account), or counted from the service layer's answers. Money is
integer fen in the JSON (``*_fen``) and yuan on screen; ratios are decimal strings with two
places (``"37.52"`` per cent), computed from integers with :class:`~decimal.Decimal`. The
report holds no timestamp and no database id, and everything in it is sorted.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections import Counter
from collections.abc import Callable
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import and_, func, select

from huabei.billing.calendar import DPD_BUCKETS
from huabei.ledger.rules import LedgerAccount
from huabei.lines.repository import temporary_limit_in_force
from huabei.money import format_yuan
from huabei.platform import schema as t
from huabei.platform.unit_of_work import Huabei
from huabei.simulation.gateway import Capabilities
from huabei.simulation.population import SyntheticUser
from huabei.simulation.profiles import PopulationConfig

FORMAT = "huabei.simulation/1"
BUCKETS = DPD_BUCKETS
BANDS = ("poor", "fair", "good", "very_good", "excellent")
REVENUE = {
    "installment_fees": LedgerAccount.INCOME_FEE,
    "interest": LedgerAccount.INCOME_INTEREST,
    "penalty_interest": LedgerAccount.INCOME_PENALTY,
}
RECEIVABLES = (LedgerAccount.CUSTOMER_FEE, LedgerAccount.CUSTOMER_INTEREST, LedgerAccount.CUSTOMER_PENALTY)


def percent(part: int, whole: int) -> str:
    """``part / whole`` in per cent with two decimals, half-up; ``"0.00"`` when ``whole`` is 0."""
    if not whole:
        return "0.00"
    return str((Decimal(part) * 100 / Decimal(whole)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


def fingerprint(data: Any) -> str:
    text = json.dumps(data, sort_keys=True, separators=(",", ":"), default=str, ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def dumps(report: dict[str, Any]) -> str:
    """The canonical JSON text of a report (sorted keys, two-space indent, final newline)."""
    return json.dumps(report, sort_keys=True, indent=2, ensure_ascii=False) + "\n"


def _i(v: Any) -> int:
    return int(v or 0)


class ReportBuilder:
    def __init__(
        self,
        system: Huabei,
        spec: Any,
        population: PopulationConfig,
        users: list[SyntheticUser],
        capabilities: Capabilities,
    ):
        self.system = system
        self.spec = spec
        self.population = population
        self.users = users
        self.capabilities = capabilities
        self.months: list[dict[str, Any]] = []
        self.prev_buckets: dict[int, str] = {}
        #: account id → the profile of its user (the engine registers lines as they open)
        self.profile_of_account: dict[int, str] = {}
        #: account id → its user; the run's ground truth (``FraudActor.truth``), set by the engine
        self.user_of_account: dict[int, str] = {}
        self.truth: Callable[[], dict[str, tuple[str, ...]]] | None = None
        self._profile_of_user = {u.user_id: u.profile for u in users}
        self._last_faults: Counter[str] = Counter()

    # --- monthly figures -----------------------------------------------------------------

    def add_owners(self, owners: dict[int, str]) -> None:
        for acct, uid in owners.items():
            self.profile_of_account[acct] = self._profile_of_user.get(uid, "")
            self.user_of_account[acct] = uid

    def close_month(self, day: dt.date, counts: Counter[str], faults: Counter[str]) -> None:
        first = day.replace(day=1)
        with self.system.uow(readonly=True) as uow:
            conn = uow.conn
            m = self._month(conn, first, day)
        m["activity"] = {k: v for k, v in sorted(counts.items()) if v}
        m["faults"] = {
            k: v - self._last_faults.get(k, 0) for k, v in sorted(faults.items()) if v - self._last_faults.get(k, 0)
        }
        self._last_faults = Counter(faults)
        self.months.append(m)

    def _month(self, conn: Any, first: dt.date, last: dt.date) -> dict[str, Any]:
        a, p, rf, rp = t.credit_accounts.c, t.purchases.c, t.refunds.c, t.repayments.c
        pd_, lc, ps = t.purchase_declines.c, t.limit_changes.c, t.postings.c
        temp = temporary_limit_in_force(last)
        n_open, base, temporary, used, credit = conn.execute(
            select(
                func.count(), func.sum(a.base_limit), func.sum(temp), func.sum(a.used), func.sum(a.credit_balance)
            ).where(a.state == "open")
        ).one()
        opened = _i(conn.execute(select(func.count()).where(a.opened_on >= first, a.opened_on <= last)).scalar())
        in_month = {"p": and_(p.business_date >= first, p.business_date <= last)}
        n_p, v_p = conn.execute(select(func.count(), func.sum(p.amount)).where(in_month["p"])).one()
        n_r, v_r = conn.execute(
            select(func.count(), func.sum(rf.amount)).where(rf.business_date >= first, rf.business_date <= last)
        ).one()
        n_rp, v_rp = conn.execute(
            select(func.count(), func.sum(rp.amount)).where(rp.business_date >= first, rp.business_date <= last)
        ).one()
        declines = {
            code: _i(n)
            for code, n in conn.execute(
                select(pd_.code, func.count())
                .where(pd_.business_date >= first, pd_.business_date <= last)
                .group_by(pd_.code)
                .order_by(pd_.code)
            )
        }
        revenue_rows = dict(
            conn.execute(
                select(ps.ledger_account, func.sum(ps.amount))
                .where(
                    ps.ledger_account.in_([v.value for v in REVENUE.values()]),
                    ps.business_date >= first,
                    ps.business_date <= last,
                )
                .group_by(ps.ledger_account)
            ).all()
        )
        revenue = {name: -_i(revenue_rows.get(acct.value)) for name, acct in REVENUE.items()}
        revenue["total"] = sum(revenue.values())
        # what each line owes: principal (used) + fees, interest and penalty receivable
        owed: dict[int, int] = {acct: _i(u) for acct, u in conn.execute(select(a.account_id, a.used).where(a.used > 0))}
        for acct, amount in conn.execute(
            select(ps.account_id, func.sum(ps.amount))
            .where(ps.ledger_account.in_([r.value for r in RECEIVABLES]))
            .group_by(ps.account_id)
        ):
            if acct is not None and _i(amount):
                owed[acct] = owed.get(acct, 0) + _i(amount)
        delinquent = self._buckets(conn)
        buckets = {
            acct: delinquent.get(acct, "current")
            for acct in conn.execute(select(a.account_id).where(a.state == "open")).scalars()
        }
        by_bucket = {b: {"accounts": 0, "balance_fen": 0} for b in BUCKETS}
        for acct, bal in owed.items():
            b = buckets.get(acct, "current")
            by_bucket[b]["accounts"] += 1 if bal > 0 else 0
            by_bucket[b]["balance_fen"] += bal
        roll = self._roll(buckets)
        profiles: dict[str, dict[str, int]] = {}
        for acct in buckets:
            name = self.profile_of_account.get(acct, "")
            row = profiles.setdefault(name, {"open_accounts": 0, "balance_fen": 0, "dpd_31_plus_fen": 0})
            row["open_accounts"] += 1
            row["balance_fen"] += owed.get(acct, 0)
            if buckets[acct] in BUCKETS[2:]:
                row["dpd_31_plus_fen"] += owed.get(acct, 0)
        changes = conn.execute(
            select(lc.limit_kind, lc.old_value, lc.new_value, lc.reasons).where(
                lc.business_date >= first, lc.business_date <= last
            )
        ).all()
        raises = [(o, n) for k, o, n, reasons in changes if k == "base" and n > o and o > 0]
        cuts = [(o, n) for k, o, n, _ in changes if k == "base" and n < o]
        temps = [n for k, o, n, _ in changes if k == "temporary" and n > 0]
        total_limit = _i(base) + _i(temporary)
        return {
            "month": first.strftime("%Y-%m"),
            "as_of": last.isoformat(),
            "accounts": {"open": _i(n_open), "opened": opened},
            "limits": {
                "base_fen": _i(base),
                "temporary_fen": _i(temporary),
                "total_fen": total_limit,
                "used_fen": _i(used),
                "utilisation_percent": percent(_i(used), total_limit),
                "credit_balance_fen": _i(credit),
            },
            "purchases": {
                "count": _i(n_p),
                "volume_fen": _i(v_p),
                "declines": declines,
                "declined": sum(declines.values()),
            },
            "refunds": {"count": _i(n_r), "volume_fen": _i(v_r)},
            "repayments": {"count": _i(n_rp), "volume_fen": _i(v_rp)},
            "revenue_fen": revenue,
            "delinquency": by_bucket,
            "roll_rates": roll,
            "by_profile": dict(sorted(profiles.items())),
            "scores": self._scores(conn, last),
            "limit_changes": {
                "raises": len(raises),
                "raised_fen": sum(n - o for o, n in raises),
                "cuts": len(cuts),
                "cut_fen": sum(o - n for o, n in cuts),
                "temporary_grants": len(temps),
                "temporary_granted_fen": sum(temps),
            },
        }

    def _buckets(self, conn: Any) -> dict[int, str]:
        """Each line's delinquency bucket (billing's ``account_delinquency``, read only;
        every line is current before billing exists)."""
        table = t.metadata.tables.get("account_delinquency")
        if table is None:
            return {}
        return {acct: b for acct, b in conn.execute(select(table.c.account_id, table.c.bucket))}

    def _roll(self, buckets: dict[int, str]) -> dict[str, Any]:
        """Account counts moving between buckets since the previous month end, and each
        bucket's roll-forward rate (the share that moved to a worse bucket)."""
        matrix = {b: dict.fromkeys(BUCKETS, 0) for b in BUCKETS}
        for acct, before in self.prev_buckets.items():
            after = buckets.get(acct, "current")
            matrix[before][after] += 1
        forward = {}
        for i, b in enumerate(BUCKETS):
            n = sum(matrix[b].values())
            worse = sum(matrix[b][c] for c in BUCKETS[i + 1 :])
            forward[b] = percent(worse, n)
        self.prev_buckets = dict(buckets)
        return {
            "matrix": {b: {c: v for c, v in row.items() if v} for b, row in matrix.items()},
            "roll_forward_percent": forward,
        }

    def _scores(self, conn: Any, last: dt.date) -> dict[str, int]:
        """The latest score of every scored user by band (scoring's ``credit_scores``, read only)."""
        table = t.metadata.tables.get("credit_scores")
        if table is None:
            return {}
        s = table.c
        latest = (
            select(s.user_id, func.max(s.score_id).label("sid")).where(s.as_of <= last).group_by(s.user_id).subquery()
        )
        rows = conn.execute(
            select(s.band, func.count()).select_from(table.join(latest, latest.c.sid == s.score_id)).group_by(s.band)
        ).all()
        got = {band: _i(n) for band, n in rows}
        return {b: got.get(b, 0) for b in BANDS} if got else {}

    # --- the whole report ------------------------------------------------------------------

    def build(self, days_checked: int, faults: Counter[str], violation: dict[str, Any] | None = None) -> dict[str, Any]:
        mix = Counter(u.profile for u in self.users)
        spec = self.spec
        terms = self.system.terms.model_dump(mode="json")
        return {
            "format": FORMAT,
            "run": {
                "users": spec.users,
                "months": spec.months,
                "seed": spec.seed,
                "start": spec.start.isoformat(),
                "until_day": spec.until_day,
                "policy": _label(spec.policy_path),
                "policy_fingerprint": fingerprint(terms),
                "population": _label(spec.population_path),
                "population_fingerprint": fingerprint(self.population.model_dump(mode="json")),
                "mix": dict(sorted(mix.items())),
                "faults": spec.faults.as_dict() if spec.faults.active else None,
                "integrations": self.capabilities.as_dict(),
            },
            "months": self.months,
            "totals": totals(self.months),
            "faults": dict(sorted((k, v) for k, v in faults.items() if v)),
            "risk": self._risk(),
            "checks": {
                "days_checked": days_checked,
                "violations": 0 if violation is None else 1,
                **({"violation": violation} if violation is not None else {}),
            },
        }

    def _risk(self) -> dict[str, Any] | None:
        """Each risk rule's restrictions against the run's ground truth (None without the
        end-of-day job, where the rules run)."""
        if not self.capabilities.eod:
            return None
        from huabei.risk.service import active_policy

        rd = t.risk_decisions.c
        with self.system.uow(readonly=True) as uow:
            policy = active_policy(uow)
            restricted = uow.conn.execute(
                select(rd.account_id, rd.rule_id).where(rd.mode == "live", rd.action == "restrict").distinct()
            ).all()
        labelled = sorted({c for p in self.population.profiles.values() for c in p.truth})
        return risk_section(
            policy.version,
            [(r.id, r.cause) for r in policy.rules],
            [(int(a), str(r)) for a, r in restricted],
            self.user_of_account,
            self.truth() if self.truth is not None else {},
            labelled,
        )


def risk_section(
    version: str,
    rules: list[tuple[str, str]],
    restricted: list[tuple[int, str]],
    user_of_account: dict[int, str],
    truth: dict[str, tuple[str, ...]],
    labelled: list[str],
) -> dict[str, Any]:
    """Per rule and per cause: the users it restricted during the run, how many of them truly
    deserved the cause (``truth``), precision (of those restricted, the share that did) and recall
    (of the users with a line who did, the share restricted), in per cent. ``None`` where the
    population labels no user with the cause (``labelled``) or the denominator is 0."""
    with_line = set(user_of_account.values())
    positives = {c: {u for u, cs in truth.items() if c in cs and u in with_line} for c in labelled}
    cause_of = dict(rules)
    for _a, rule_id in restricted:
        cause_of.setdefault(rule_id, "")
    flagged: dict[str, set[str]] = {r: set() for r in cause_of}
    for account_id, rule_id in restricted:
        flagged[rule_id].add(user_of_account.get(account_id, f"account {account_id}"))

    def measure(cause: str, users: set[str]) -> dict[str, Any]:
        pos = positives.get(cause)
        tp = len(users & pos) if pos is not None else None
        return {
            "restricted": len(users),
            "true_positives": tp,
            "precision_percent": percent(tp, len(users)) if tp is not None and users else None,
            "recall_percent": percent(tp, len(pos)) if tp is not None and pos else None,
        }

    by_cause: dict[str, set[str]] = {}
    for rule_id, users in flagged.items():
        by_cause.setdefault(cause_of[rule_id], set()).update(users)
    return {
        "policy": version,
        "truth": {c: len(positives[c]) for c in labelled},
        "rules": {r: {"cause": cause_of[r], **measure(cause_of[r], flagged[r])} for r in sorted(flagged)},
        "causes": {c: measure(c, users) for c, users in sorted(by_cause.items()) if c},
    }


def _label(path: str | None) -> str:
    if not path:
        return "default"
    from pathlib import Path

    return Path(path).name


def totals(months: list[dict[str, Any]]) -> dict[str, Any]:
    """Flows summed over the months; stocks as of the last month."""
    if not months:
        return {}
    last = months[-1]
    out: dict[str, Any] = {
        "accounts_opened": sum(m["accounts"]["opened"] for m in months),
        "accounts_declined": sum(v for m in months for k, v in m["activity"].items() if k.startswith("open_declined:")),
        "purchases": sum(m["purchases"]["count"] for m in months),
        "purchase_volume_fen": sum(m["purchases"]["volume_fen"] for m in months),
        "purchases_declined": sum(m["purchases"]["declined"] for m in months),
        "refund_volume_fen": sum(m["refunds"]["volume_fen"] for m in months),
        "repayment_volume_fen": sum(m["repayments"]["volume_fen"] for m in months),
        "revenue_fen": {k: sum(m["revenue_fen"][k] for m in months) for k in last["revenue_fen"]},
        "limit_raises": sum(m["limit_changes"]["raises"] for m in months),
        "limit_cuts": sum(m["limit_changes"]["cuts"] for m in months),
        "final": {
            "open_accounts": last["accounts"]["open"],
            "total_limit_fen": last["limits"]["total_fen"],
            "used_fen": last["limits"]["used_fen"],
            "utilisation_percent": last["limits"]["utilisation_percent"],
            "delinquency": last["delinquency"],
            "scores": last["scores"],
        },
    }
    balance = sum(b["balance_fen"] for b in last["delinquency"].values())
    late = sum(last["delinquency"][b]["balance_fen"] for b in BUCKETS[2:])
    out["final"]["balance_fen"] = balance
    out["final"]["dpd_31_plus_percent"] = percent(late, balance)
    return out


# --- screen ------------------------------------------------------------------------------------


def _y(fen: int) -> str:
    return format_yuan(int(fen))


def render(report: dict[str, Any], console: Any) -> None:
    """The report as Rich tables (amounts in yuan)."""
    from rich.table import Table

    run = report["run"]
    caps = ", ".join(k for k, v in run["integrations"].items() if v) or "core only"
    console.print(
        f"[bold]{run['users']} users × {run['months']} months from {run['start']}, seed {run['seed']}, "
        f"policy {run['policy']} ({run['policy_fingerprint']})[/] — integrations: {caps}"
    )
    book = Table(title="the book at each month end", title_justify="left")
    for col in (
        "month",
        "opened",
        "declined",
        "open",
        "total limit",
        "used",
        "util %",
        "raises",
        "cuts",
        "temp grants",
    ):
        book.add_column(col, justify="right")
    flows = Table(title="flows of each month", title_justify="left")
    for col in ("month", "purchases", "volume", "declined", "refunds", "repaid", "fees", "interest", "penalty"):
        flows.add_column(col, justify="right")
    risk = Table(title="balances by delinquency bucket (accounts) and roll-forward %", title_justify="left")
    risk.add_column("month", justify="right")
    for b in BUCKETS:
        risk.add_column(b, justify="right")
    risk.add_column("scores by band")
    for m in report["months"]:
        lim, lc, r = m["limits"], m["limit_changes"], m["revenue_fen"]
        declined = sum(v for k, v in m["activity"].items() if k.startswith("open_declined:"))
        book.add_row(
            m["month"],
            str(m["accounts"]["opened"]),
            str(declined),
            str(m["accounts"]["open"]),
            _y(lim["total_fen"]),
            _y(lim["used_fen"]),
            lim["utilisation_percent"],
            str(lc["raises"]),
            str(lc["cuts"]),
            str(lc["temporary_grants"]),
        )
        flows.add_row(
            m["month"],
            str(m["purchases"]["count"]),
            _y(m["purchases"]["volume_fen"]),
            str(m["purchases"]["declined"]),
            _y(m["refunds"]["volume_fen"]),
            _y(m["repayments"]["volume_fen"]),
            _y(r["installment_fees"]),
            _y(r["interest"]),
            _y(r["penalty_interest"]),
        )
        risk.add_row(
            m["month"],
            *[
                f"{_y(m['delinquency'][b]['balance_fen'])} ({m['delinquency'][b]['accounts']}) "
                f"→{m['roll_rates']['roll_forward_percent'][b]}"
                for b in BUCKETS
            ],
            " ".join(f"{b}:{n}" for b, n in m["scores"].items()) or "-",
        )
    console.print(book)
    console.print(flows)
    console.print(risk)
    tot = report["totals"]
    if tot:
        console.print(
            f"totals: {tot['accounts_opened']} opened, {tot['accounts_declined']} declined; "
            f"{tot['purchases']} purchases for {_y(tot['purchase_volume_fen'])}; revenue "
            f"{_y(tot['revenue_fen']['total'])}; 31+ days past due: {tot['final']['dpd_31_plus_percent']}% "
            f"of {_y(tot['final']['balance_fen'])} owed"
        )
    if report.get("faults"):
        console.print("faults: " + ", ".join(f"{k} {v}" for k, v in report["faults"].items()))
    if report.get("risk"):
        render_risk(report["risk"], console)
    checks = report["checks"]
    if checks.get("violation"):
        console.print(f"[red]stopped by a violation on day {checks['violation']['day']}[/]")
    else:
        console.print(f"[green]invariants checked on {checks['days_checked']} day(s): no violation[/]")


def render_risk(risk: dict[str, Any], console: Any) -> None:
    """Each rule's restrictions against the simulated ground truth."""
    from rich.table import Table

    truth = ", ".join(f"{c} {n}" for c, n in risk["truth"].items()) or "none"
    tb = Table(title=f"risk policy {risk['policy']}: rules against the simulated truth ({truth})", title_justify="left")
    for col in ("rule", "cause", "restricted", "true", "precision %", "recall %"):
        tb.add_column(col, justify="left" if col in ("rule", "cause") else "right")

    def cells(m: dict[str, Any]) -> list[str]:
        return [
            str(m["restricted"]),
            "-" if m["true_positives"] is None else str(m["true_positives"]),
            m["precision_percent"] or "-",
            m["recall_percent"] or "-",
        ]

    for rule_id, m in risk["rules"].items():
        tb.add_row(rule_id, m["cause"], *cells(m))
    for cause, m in risk["causes"].items():
        tb.add_row("[bold]all rules[/]", cause, *cells(m))
    console.print(tb)
