"""A batch step over one partition of a snapshot: Arrow rows in, the capability's pure decision,
decision rows out. Both engines call :func:`decide_batch` and nothing else decides.

The snapshot of a step is a table (:mod:`huabei.batch.snapshot` writes it as Parquet), one row
per unit the step decides about — a user for the rescoring and limit review (``rescore``), an
open line for the risk rules (``risk``) — and each row carries everything the decision reads
about that unit. A partition of those rows (an Arrow record batch: a Parquet row group read in
process, or a Spark partition handed to ``mapInArrow``) is turned back into the capability's
typed snapshot (:class:`~huabei.scoring.service.RescoreSnapshot`,
:class:`~huabei.limits.service.ReviewSnapshot`, :class:`~huabei.risk.evaluation.Snapshot`) and
given to the capability's own pure ``decide``; its decisions come back as rows of
:data:`DECISION_FIELDS`. The decisions of a unit depend on that unit's row only (and on the
terms and the policies, the same everywhere), so any partitioning by unit gives the same rows.

Decision rows, one schema for every step:

``account_id``  the line (0: a user without an open line);
``user_id``     the user (rescore) or null (risk);
``kind``        ``score`` | ``limit`` | ``risk``;
``key``         what tells apart the decisions of one line and kind (risk: mode/policy/rule/action);
``payload``     the decision as canonical JSON (sorted keys).

Sorted by ``(account_id, user_id, kind, key)`` they are the output of ``batch run --dry-run``.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Mapping, Sequence
from functools import cache
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from huabei.billing import calendar as cal
from huabei.config import ProductTerms
from huabei.limits import service as limits
from huabei.lines.rules import is_frozen
from huabei.portfolio import figures as pf
from huabei.risk import catalog
from huabei.risk import evaluation as risk
from huabei.risk.policy import Policy, parse
from huabei.scoring import collect
from huabei.scoring import service as scoring
from huabei.scoring.dimensions import DIMENSIONS

STEPS = ("rescore", "risk", "bureau", "portfolio")
#: The column each step's snapshot is partitioned by (a user owns their lines: partitioning the
#: rescoring by user is partitioning it by account, without the skew of users with no line).
PARTITION_KEY = {"rescore": "user_id", "risk": "account_id", "bureau": "account_id", "portfolio": "user_id"}
FACT = "fact__"
FEATURE = "feature__"

DECISION_FIELDS = ("account_id", "user_id", "kind", "key", "payload")
DECISION_SCHEMA = pa.schema(
    [
        pa.field("account_id", pa.int64()),
        pa.field("user_id", pa.string()),
        pa.field("kind", pa.string()),
        pa.field("key", pa.string()),
        pa.field("payload", pa.string()),
    ]
)
Row = tuple[int, str | None, str, str, str]


def sort_key(row: Row) -> tuple[int, str, str, str]:
    return (row[0], row[1] or "", row[2], row[3])


def dumps(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=_default)


def _default(value: Any) -> Any:
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.bool_):
        return bool(value)
    raise TypeError(f"not JSON: {type(value).__name__}")


# --- columns <-> Arrow ----------------------------------------------------------------------------


def _arrow(values: Any) -> pa.Array:
    """A snapshot column as Arrow: masked arrays as nullable ints / booleans, object arrays
    (None = unknown) as nullable strings or ints, datetime64[D] as dates."""
    if np.ma.isMaskedArray(values):
        mask = np.ma.getmaskarray(values)
        return pa.array(np.asarray(values.data), mask=mask, type=pa.bool_() if values.dtype == bool else pa.int64())
    arr = np.asarray(values)
    if arr.dtype.kind == "M":
        return pa.array(arr.astype("datetime64[D]"), type=pa.date32())
    if arr.dtype.kind == "b":
        return pa.array(arr, type=pa.bool_())
    if arr.dtype.kind in "iu":
        return pa.array(arr, type=pa.int64())
    items = arr.tolist()
    known = [v for v in items if v is not None]
    if known and all(isinstance(v, int | np.integer) and not isinstance(v, bool) for v in known):
        return pa.array(items, type=pa.int64())
    return pa.array([None if v is None else str(v) for v in items], type=pa.string())


def _masked(col: pa.ChunkedArray | pa.Array) -> np.ma.MaskedArray:
    mask = col.is_null().to_numpy(zero_copy_only=False)
    if pa.types.is_boolean(col.type):
        return np.ma.masked_array(pc.fill_null(col, False).to_numpy(zero_copy_only=False).astype(bool), mask=mask)
    return np.ma.masked_array(pc.fill_null(col, 0).to_numpy(zero_copy_only=False).astype(np.int64), mask=mask)


def _objects(col: pa.ChunkedArray | pa.Array) -> np.ndarray:
    """A nullable column as an object array of Python values (None = null)."""
    return np.array(col.to_pylist(), dtype=object)


def _ints(col: pa.ChunkedArray | pa.Array) -> np.ndarray:
    return pc.fill_null(col, 0).to_numpy(zero_copy_only=False).astype(np.int64)


# --- rescore: the rescoring and the limit review of every user --------------------------------


def rescore_table(snap: scoring.RescoreSnapshot, review: limits.ReviewSnapshot) -> pa.Table:
    """One row per user: the facts, the open line, the previous score, and the line's ages for
    the review (null without a line)."""
    pop = snap.population
    n = len(pop)
    has_line = pop.account_id > 0
    days_open = np.zeros(n, dtype=np.int64)
    since = np.full(n, -1, dtype=np.int64)
    days_open[has_line] = review.days_open
    since[has_line] = review.since_change
    cols: dict[str, pa.Array] = {
        "user_id": pa.array(pop.user_ids.tolist(), type=pa.string()),
        "account_id": pa.array(pop.account_id, type=pa.int64()),
        "base_limit": pa.array(pop.base_limit, type=pa.int64()),
        "used": pa.array(pop.used, type=pa.int64()),
        "block_code": pa.array(pop.block_code.tolist(), type=pa.string()),
        "overdue_now": pa.array(np.asarray(pop.overdue_now, dtype=bool), type=pa.bool_()),
        "opened_on": _arrow(pop.opened_on),
        "days_open": pa.array(days_open, mask=~has_line, type=pa.int64()),
        "since_change": pa.array(since, mask=~has_line, type=pa.int64()),
    }
    for name in ("score", "band", *DIMENSIONS):
        values = snap.previous.get(name, np.full(n, None, dtype=object))
        cols[f"previous__{name}"] = (
            pa.array([None if v is None else str(v) for v in values], type=pa.string())
            if name == "band"
            else pa.array([None if v is None else int(v) for v in values], type=pa.int64())
        )
    for name, values in pop.columns.items():
        cols[FACT + name] = _arrow(values)
    return pa.table(cols)


def _population(batch: pa.Table, as_of: dt.date) -> collect.Population:
    columns: dict[str, Any] = {}
    for name in batch.column_names:
        if not name.startswith(FACT):
            continue
        col = batch.column(name)
        text = pa.types.is_string(col.type) or pa.types.is_large_string(col.type)
        columns[name[len(FACT) :]] = _objects(col) if text else _masked(col)
    opened = batch.column("opened_on")
    return collect.Population(
        as_of=as_of,
        user_ids=np.array(batch.column("user_id").to_pylist(), dtype=object),
        columns=columns,
        account_id=_ints(batch.column("account_id")),
        base_limit=_ints(batch.column("base_limit")),
        used=_ints(batch.column("used")),
        block_code=_objects(batch.column("block_code")),
        overdue_now=batch.column("overdue_now").to_numpy(zero_copy_only=False).astype(bool),
        opened_on=np.array(
            [np.datetime64("NaT") if v is None else np.datetime64(v, "D") for v in opened.to_pylist()],
            dtype="datetime64[D]",
        ),
    )


def decide_rescore(batch: pa.Table, terms: ProductTerms, day: dt.date) -> list[Row]:
    """The rescoring (:func:`huabei.scoring.service.decide_rescore`) of the batch's users, then
    the limit review (:func:`huabei.limits.service.decide_review`) of their open lines with the
    new scores — what the end-of-day job does on a day both are due."""
    pop = _population(batch, day)
    previous = {name: _objects(batch.column(f"previous__{name}")) for name in ("score", "band", *DIMENSIONS)}
    rescore = scoring.decide_rescore(scoring.RescoreSnapshot(pop, previous), terms, day)
    lines = pop.account_id > 0
    review = limits.decide_review(
        limits.ReviewSnapshot(
            pop.subset(lines),
            rescore.scored.scores[lines],
            _ints(batch.column("days_open"))[lines],
            _ints(batch.column("since_change"))[lines],
        ),
        terms,
        day,
    )
    return score_rows(rescore) + limit_rows(review, pop)


def score_rows(rescore: scoring.Rescore) -> list[Row]:
    pop, scored = rescore.population, rescore.scored
    changes = {c.user_id: c for c in rescore.changes}
    rows: list[Row] = []
    for i, user_id in enumerate(pop.user_ids.tolist()):
        change = changes.get(user_id)
        payload = {
            "score": int(scored.scores[i]),
            "band": str(rescore.bands[i]),
            "dimensions": {d: int(scored.dims[d][i]) for d in DIMENSIONS},
            "reasons": list(scored.reasons[i]),
            "previous_score": rescore.previous_score[i],
            "scorecard_version": scored.version,
            "change": None
            if change is None
            else {
                "old_score": change.old_score,
                "new_score": change.new_score,
                "old_band": change.old_band,
                "new_band": change.new_band,
                "dimension_changes": change.dimension_changes,
            },
        }
        rows.append((int(pop.account_id[i]), user_id, "score", "", dumps(payload)))
    return rows


def limit_rows(review: limits.ReviewDecisions, pop: collect.Population) -> list[Row]:
    owner = dict(zip(pop.account_id.tolist(), pop.user_ids.tolist()))
    return [
        (
            c.account_id,
            owner.get(c.account_id),
            "limit",
            "",
            dumps(
                {
                    "old_value": c.old_value,
                    "new_value": c.new_value,
                    "reasons": list(c.reasons),
                    "policy_version": review.policy_version,
                }
            ),
        )
        for c in review.changes
    ]


# --- risk: the daily rules over every open line -------------------------------------------------


def risk_table(snap: risk.Snapshot, names: Sequence[str]) -> pa.Table:
    """One row per open line: every feature the policies read, and what each policy's rules hold
    open on the line (JSON: ``[[mode, rule_id, placed_on, last_signal_on, restriction_id]]``)."""
    accounts = sorted(snap.values)
    held: dict[int, list[list[Any]]] = {}
    for mode, opened in snap.open.items():
        for o in opened:
            held.setdefault(o.account_id, []).append(
                [mode, o.rule_id, o.placed_on.isoformat(), o.last_signal_on.isoformat(), o.restriction_id]
            )
    cols: dict[str, pa.Array] = {"account_id": pa.array(accounts, type=pa.int64())}
    for name in names:
        kind = pa.bool_() if catalog.FEATURES[name].type == "bool" else pa.int64()
        cols[FEATURE + name] = pa.array([snap.values[a][name] for a in accounts], type=kind)
    cols["open"] = pa.array([dumps(sorted(held.get(a, []), key=str)) for a in accounts], type=pa.string())
    return pa.table(cols)


@cache
def _policy(source: str, path: str, cfg: tuple[tuple[str, int], ...]) -> Policy:
    return parse(source, path, dict(cfg))


def policies_of(manifest: Mapping[str, Any]) -> tuple[tuple[str, Policy], ...]:
    """The policies of a risk snapshot's manifest (``[[mode, path, source]]``), compiled once per process."""
    cfg = tuple(sorted((k, int(v)) for k, v in manifest["cfg"].items()))
    return tuple((mode, _policy(source, path, cfg)) for mode, path, source in manifest["policies"])


def decide_risk(batch: pa.Table, manifest: Mapping[str, Any], terms: ProductTerms, day: dt.date) -> list[Row]:
    """The daily rules (:func:`huabei.risk.evaluation.decide`) over the batch's lines."""
    accounts = _ints(batch.column("account_id")).tolist()
    features = {
        name[len(FEATURE) :]: batch.column(name).to_pylist() for name in batch.column_names if name.startswith(FEATURE)
    }
    values = {a: {n: col[i] for n, col in features.items()} for i, a in enumerate(accounts)}
    opened: dict[str, list[risk.Open]] = {}
    for a, text in zip(accounts, batch.column("open").to_pylist()):
        for mode, rule_id, placed, last, rid in json.loads(text):
            opened.setdefault(mode, []).append(
                risk.Open(a, rule_id, dt.date.fromisoformat(placed), dt.date.fromisoformat(last), rid)
            )
    snap = risk.Snapshot(
        day, policies_of(manifest), values, {m: tuple(o) for m, o in opened.items()}, dict(manifest["cfg"])
    )
    return risk_rows(risk.decide(snap, terms, day))


def risk_rows(decisions: risk.Decisions) -> list[Row]:
    return [
        (
            d.account_id,
            None,
            "risk",
            f"{d.mode}/{d.policy}/{d.rule_id}/{d.action}",
            dumps(
                {
                    "mode": d.mode,
                    "policy": d.policy,
                    "rule_id": d.rule_id,
                    "cause": d.cause,
                    "action": d.action,
                    "inputs": dict(d.inputs),
                    "restriction_id": d.restriction_id,
                    "lifts_on": d.lifts_on,
                }
            ),
        )
        for d in decisions.items
    ]


# --- bureau: the monthly credit-bureau records ---------------------------------------------------

BUREAU_COLUMNS = (
    ("account_id", pa.int64()),
    ("user_id", pa.string()),
    ("state", pa.string()),
    ("block_code", pa.string()),
    ("credit_limit", pa.int64()),
    ("balance", pa.int64()),
    ("overdue", pa.int64()),
    ("dpd", pa.int64()),
    ("bucket", pa.string()),
    ("month_worst", pa.string()),
)


def bureau_table(rows: Sequence[Any]) -> pa.Table:
    """One row per reported line: the raw inputs of its record (``BureauRepository.month_inputs``)."""
    return pa.table(
        {
            name: pa.array([int(r[k]) if kind == pa.int64() and r[k] is not None else r[k] for r in rows], type=kind)
            for k, (name, kind) in enumerate(BUREAU_COLUMNS)
        }
    )


def decide_bureau(batch: pa.Table, manifest: Mapping[str, Any], terms: ProductTerms) -> list[Row]:
    """Each line's record of the month (:func:`huabei.billing.calendar.bureau_figures`)."""
    rows: list[Row] = []
    for r in batch.to_pylist():
        fig = cal.bureau_figures(
            closed=r["state"] == "closed",
            frozen=is_frozen(r["block_code"]),
            overdue=int(r["overdue"]),
            dpd=int(r["dpd"]),
            bucket=r["bucket"],
            month_worst=r["month_worst"],
            terms=terms.billing,
        )
        payload = {
            "month": manifest["month"],
            "format_version": manifest["format_version"],
            "credit_limit": int(r["credit_limit"]),
            "balance": int(r["balance"]),
            "amount_overdue": fig.amount_overdue,
            "days_past_due": fig.days_past_due,
            "bucket": fig.bucket,
            "worst_bucket": fig.worst_bucket,
            "account_status": fig.account_status,
        }
        rows.append((int(r["account_id"]), r["user_id"], "bureau", "", dumps(payload)))
    return rows


def bureau_of(rows: Sequence[Row], day: dt.date, now: dt.datetime) -> list[dict[str, Any]]:
    """``bureau_records`` rows (the original, ``seq`` 1) of ``bureau`` decision rows."""
    out = []
    for account_id, user_id, _kind, _key, payload in rows:
        p = json.loads(payload)
        out.append(
            {
                **p,
                "account_id": account_id,
                "user_id": user_id,
                "seq": 1,
                "as_of": day,
                "superseded": False,
                "reason": None,
                "created_on": day,
                "created_at": now,
            }
        )
    return out


# --- portfolio: the risk dashboard's figures -----------------------------------------------------


def portfolio_table(
    user_ids: Sequence[str], scores: Mapping[str, int], lines: Sequence[Any], causes: Sequence[Any]
) -> pa.Table:
    """One row per user: the latest score (null: never scored) and the user's lines as JSON
    (``[account_id, closed, block_code, base_limit, used, bucket, [causes]]``)."""
    held: dict[int, list[str]] = {}
    for account_id, cause in causes:
        held.setdefault(int(account_id), []).append(cause)
    owned: dict[str, list[list[Any]]] = {}
    for account_id, user_id, closed, block_code, base_limit, used, bucket in lines:
        owned.setdefault(user_id, []).append(
            [
                int(account_id),
                bool(closed),
                block_code,
                int(base_limit),
                int(used),
                bucket,
                held.get(int(account_id), []),
            ]
        )
    return pa.table(
        {
            "user_id": pa.array(list(user_ids), type=pa.string()),
            "score": pa.array([scores.get(u) for u in user_ids], type=pa.int64()),
            "lines": pa.array([dumps(owned.get(u, [])) for u in user_ids], type=pa.string()),
        }
    )


def decide_portfolio(batch: pa.Table) -> list[Row]:
    """Each line's part of the figures (its status: :func:`huabei.portfolio.figures.line_status`)
    and each scored user's band (:func:`~huabei.portfolio.figures.score_band`)."""
    rows: list[Row] = []
    for user_id, score, text in zip(
        batch.column("user_id").to_pylist(), batch.column("score").to_pylist(), batch.column("lines").to_pylist()
    ):
        if score is not None:
            rows.append((0, user_id, "score", "", dumps({"band": pf.score_band(int(score))})))
        for account_id, closed, block_code, base_limit, used, bucket, held in json.loads(text):
            payload = {
                "status": pf.line_status(closed, block_code),
                "open": not closed,
                "base_limit": base_limit,
                "used": used,
                "bucket": bucket,
                "causes": held,
            }
            rows.append((account_id, user_id, "line", "", dumps(payload)))
    return rows


def portfolio_of(rows: Iterable[Row]) -> dict[str, Any]:
    """The figures folded from ``portfolio`` decision rows (:func:`huabei.portfolio.figures.fold`)."""
    lines: list[dict[str, Any]] = []
    bands: list[int] = []
    for _a, _u, kind, _k, payload in rows:
        p = json.loads(payload)
        if kind == "score":
            bands.append(int(p["band"]))
        else:
            lines.append(p)
    return pf.fold(lines, bands)


# --- one entry point for both engines -----------------------------------------------------------


def decide_batch(
    step: str, batch: pa.Table | pa.RecordBatch, manifest: Mapping[str, Any], terms: ProductTerms
) -> list[Row]:
    """The decision rows of one partition of ``step``'s snapshot (see the module docstring)."""
    table = batch if isinstance(batch, pa.Table) else pa.Table.from_batches([batch])
    if table.num_rows == 0:
        return []
    day = dt.date.fromisoformat(manifest["as_of"])
    if step == "rescore":
        return decide_rescore(table, terms, day)
    if step == "risk":
        return decide_risk(table, manifest["risk"], terms, day)
    if step == "bureau":
        return decide_bureau(table, manifest["bureau"], terms)
    if step == "portfolio":
        return decide_portfolio(table)
    raise ValueError(f"unknown batch step {step!r}")


def rows_batch(rows: Sequence[Row]) -> pa.RecordBatch:
    cols = list(zip(*rows)) if rows else [[] for _ in DECISION_FIELDS]
    return pa.RecordBatch.from_arrays(
        [pa.array(list(c), type=f.type) for c, f in zip(cols, DECISION_SCHEMA)], schema=DECISION_SCHEMA
    )


# --- decision rows back to the capabilities' decisions (what their writers take) ----------------


def rescore_of(rows: Sequence[Row], day: dt.date) -> tuple[scoring.Rescore, limits.ReviewDecisions]:
    """The rescoring and the limit review of ``score`` and ``limit`` rows, for
    :func:`~huabei.scoring.service.write_rescore` and :func:`~huabei.limits.service.write_review`."""
    scores = [(r, json.loads(r[4])) for r in rows if r[2] == "score"]
    n = len(scores)
    account_id = np.array([r[0] for r, _ in scores], dtype=np.int64)
    pop = collect.Population(
        as_of=day,
        user_ids=np.array([r[1] for r, _ in scores], dtype=object),
        columns={},
        account_id=account_id,
        base_limit=np.zeros(n, dtype=np.int64),
        used=np.zeros(n, dtype=np.int64),
        block_code=np.full(n, None, dtype=object),
        overdue_now=np.zeros(n, dtype=bool),
        opened_on=np.full(n, np.datetime64("NaT"), dtype="datetime64[D]"),
    )
    versions = {p["scorecard_version"] for _, p in scores}
    if len(versions) > 1:
        raise ValueError(f"one rescoring, several scorecards: {sorted(versions)}")
    scored = scoring.Scored(
        scores=np.array([p["score"] for _, p in scores], dtype=np.int64),
        dims={d: np.array([p["dimensions"][d] for _, p in scores], dtype=np.int64) for d in DIMENSIONS},
        reasons=[list(p["reasons"]) for _, p in scores],
        version=versions.pop() if versions else "",
    )
    changes = [
        scoring.ScoreChange(user_id=str(r[1]), account_id=r[0] or None, reasons=list(p["reasons"]), **p["change"])
        for r, p in scores
        if p["change"] is not None
    ]
    rescore = scoring.Rescore(
        pop,
        scored,
        np.array([p["band"] for _, p in scores], dtype=object),
        [p["previous_score"] for _, p in scores],
        changes,
    )
    limit = [json.loads(r[4]) | {"account_id": r[0]} for r in rows if r[2] == "limit"]
    policy_versions = {p["policy_version"] for p in limit}
    if len(policy_versions) > 1:
        raise ValueError(f"one review, several limit policies: {sorted(policy_versions)}")
    review = limits.ReviewDecisions(
        policy_versions.pop() if policy_versions else "",
        [limits.BaseLimitChange(p["account_id"], p["old_value"], p["new_value"], list(p["reasons"])) for p in limit],
    )
    return rescore, review


def risk_of(rows: Sequence[Row], manifest: Mapping[str, Any], day: dt.date) -> risk.Decisions:
    """The daily rules' decisions of ``risk`` rows, for :func:`~huabei.risk.evaluation.write`."""
    policies = {p.version: p for _m, p in policies_of(manifest)}
    items = []
    for r in rows:
        p = json.loads(r[4])
        items.append(
            risk.Decision(
                p["mode"],
                p["policy"],
                p["rule_id"],
                p["cause"],
                r[0],
                p["action"],
                p["inputs"],
                p["restriction_id"],
                dt.date.fromisoformat(p["lifts_on"]) if p["lifts_on"] else None,
            )
        )
    return risk.Decisions(day, items, policies)
