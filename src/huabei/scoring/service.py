"""Use cases of the credit score (芝麻信用分): facts, activity, scoring, history, PSI, EOD steps.

Facts
    A user's facts (the inputs of :data:`huabei.scoring.scorecard.FACTS` and of the limit
    policy) come from three places, combined by :func:`collect_facts` for everyone at once
    with a few aggregate queries (or for one user with the same queries and a filter):

    * the system's own tables — payment activity from ``purchases`` (90 days), the line's
      utilisation from ``credit_accounts``, credit-history length from the first line's
      ``opened_on``, raise applications from ``limit_raise_applications``, completed raise
      challenges from ``campaign_enrolments`` and the repayment record from the
      delinquency events of the ``domain_events`` outbox (:func:`repayment_record`);
    * activity events the host app posts (``POST /v1/users/{id}/activity-events``): app
      payments, utility payments, credit-card repayments, credit services, credit tasks,
      transfers and collections, counted over 90 days / 12 months;
    * facts the host app posts (``POST /v1/users/{id}/facts``; typed, validated with
      :func:`~huabei.scoring.scorecard.check_facts`, time-stamped, history kept, the latest
      effective value wins), with the user record and profile as fallback for identity.

    docs/scoring.md ("Where each fact comes from") has the table of sources and of how
    they combine.

Scores
    A rescoring is a batch step (``huabei.batch.steps``): :func:`read_rescore` reads the
    facts and the previous scores, :func:`decide_rescore` scores them with
    :meth:`Scorecard.score_batch_explained` (pure), :func:`write_rescore` stores one
    ``credit_scores`` row per user in one batched insert (history kept, the five dimensions'
    points, the top reason codes, the previous score) and a ``ScoreChanged`` event per change.
    :func:`refresh_scores` runs the three now; :func:`score_user` is the same path for one user.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from huabei import errors, reasons
from huabei.billing import calendar as cal
from huabei.config import ProductTerms, ScoringTerms
from huabei.limits.policy import POLICY_FACT_SPECS, POLICY_FACTS, check_policy_facts
from huabei.lines.rules import temporary_limits_on
from huabei.platform.unit_of_work import Huabei, UnitOfWork
from huabei.risk import features as risk_features
from huabei.scoring.default_card import default_scorecard
from huabei.scoring.dimensions import BAND_ZH, BANDS, DIMENSION_ZH, DIMENSIONS, bands_of
from huabei.scoring.facts import (
    BEHAVIOUR_FACT_SPECS,
    EDUCATION_LEVELS,
    FACT_SPECS,
    FACTS,
    OCCUPATIONS,
    FactError,
    FactSpec,
    check_facts,
)
from huabei.scoring.scorecard import FactValue, Scorecard
from huabei.scoring.stability import population_stability_index, psi_interpretation

# ---------------------------------------------------------------------------------------
# Which facts the host may post, activity kinds
# ---------------------------------------------------------------------------------------

#: Facts only huabei computes (from its purchases, lines and applications): posting them is refused.
SYSTEM_ONLY_FACTS: frozenset[str] = frozenset(
    {
        "payments_90d",
        "offline_payment_share",
        "merchant_categories_90d",
        "raise_applications_90d",
        "utilisation_ratio",
    }
)
#: Facts of the repayment record the host may post for *other* credit products (credit
#: cards, loans): they combine with huabei's own record (worst of the two).
EXTERNAL_RECORD_FACTS: frozenset[str] = frozenset(
    {
        "on_time_repayment_ratio",
        "max_days_overdue_12m",
        "overdue_episodes_12m",
        "credit_history_months",
    }
)
ALL_FACT_SPECS: dict[str, FactSpec] = {**FACT_SPECS, **POLICY_FACT_SPECS}
HOST_FACTS: tuple[str, ...] = tuple(name for name in ALL_FACT_SPECS if name not in SYSTEM_ONLY_FACTS)
#: Facts counted from activity events (the larger of the count and a posted value is used).
COUNTED_FACTS: dict[str, str] = {
    "utility_payments_12m": "utility_payment",
    "credit_card_repayments_12m": "credit_card_repayment",
    "credit_services_12m": "credit_service",
    "credit_tasks_12m": "credit_task",
}

#: Activity events the host app reports (生活缴费, 信用卡还款, 信用租赁/信用住, 信用任务,
#: 转账/收款, app payments). Every event makes its day an active day; ``payment`` and
#: ``utility_payment`` also count as payments (and their scenario: the category, or
#: ``utilities``).
ACTIVITY_KINDS: tuple[str, ...] = (
    "payment",
    "utility_payment",
    "credit_card_repayment",
    "credit_service",
    "credit_task",
    "transfer",
    "collection",
)
SCORE_TRIGGERS = ("scheduled", "operator", "opening", "application")

#: Profile education (the API's vocabulary) → the scorecard's ``education`` levels.
EDUCATION_FROM_PROFILE: dict[str, str] = {
    "none": "primary",
    "college": "associate",
    **{level: level for level in EDUCATION_LEVELS},
}

_HISTORY_ON = "credit_history_months__on"


def fact_kind(spec: FactSpec) -> str:
    return "int" if spec.type is int else "bool" if spec.type is bool else "str"


# ---------------------------------------------------------------------------------------
# The scorecard in force
# ---------------------------------------------------------------------------------------

_CARDS: dict[str, Scorecard] = {}


def scorecard_for(terms: ScoringTerms) -> Scorecard:
    """The card in force: ``terms.scorecard_file`` if set, else the default card of ``terms``."""
    key = terms.model_dump_json()
    card = _CARDS.get(key)
    if card is None:
        if terms.scorecard_file:
            text = Path(terms.scorecard_file).read_text(encoding="utf-8")
            data = json.loads(text) if terms.scorecard_file.endswith(".json") else yaml.safe_load(text)
            card = Scorecard.from_dict(data)
        else:
            card = default_scorecard(terms)
        _CARDS[key] = card
    return card


# ---------------------------------------------------------------------------------------
# Collecting facts, set-based
# ---------------------------------------------------------------------------------------


@dataclass
class Population:
    """The facts of a set of users, as numpy columns aligned on ``user_ids`` (sorted).

    Integer facts are ``numpy.ma`` int64 arrays, flags ``numpy.ma`` bool arrays (masked =
    unknown), categorical facts object arrays with ``None`` — the forms
    :meth:`Scorecard.score_batch` takes. ``account_id`` … describe the user's open line
    (``account_id == 0``: none).
    """

    as_of: dt.date
    user_ids: np.ndarray
    columns: dict[str, Any]
    account_id: np.ndarray
    base_limit: np.ndarray
    used: np.ndarray
    block_code: np.ndarray
    overdue_now: np.ndarray
    opened_on: np.ndarray  # datetime64[D] of the open line (NaT: none)

    def __len__(self) -> int:
        return len(self.user_ids)

    def index(self, user_id: str) -> int:
        hits = np.flatnonzero(self.user_ids == user_id)
        if not hits.size:
            raise KeyError(user_id)
        return int(hits[0])

    def facts_of(self, i: int) -> dict[str, FactValue]:
        """The facts of row ``i`` as Python values (None = unknown)."""
        out: dict[str, FactValue] = {}
        for name, col in self.columns.items():
            if np.ma.isMaskedArray(col):
                if np.ma.getmaskarray(col)[i]:
                    out[name] = None
                else:
                    v = col.data[i]
                    out[name] = bool(v) if col.dtype == bool else int(v)
            else:
                out[name] = col[i]
        return out

    def subset(self, mask: np.ndarray) -> Population:
        return Population(
            as_of=self.as_of,
            user_ids=self.user_ids[mask],
            columns={k: v[mask] for k, v in self.columns.items()},
            account_id=self.account_id[mask],
            base_limit=self.base_limit[mask],
            used=self.used[mask],
            block_code=self.block_code[mask],
            overdue_now=self.overdue_now[mask],
            opened_on=self.opened_on[mask],
        )


def _frame(rows: Sequence[Any], columns: Sequence[str]) -> pd.DataFrame:
    """Result rows as a DataFrame, built column by column (no per-row attribute probing)."""
    if not rows:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in columns})
    return pd.DataFrame({c: np.array(v, dtype=object) for c, v in zip(columns, zip(*rows))})


class Aligner:
    """Puts result rows keyed by ``user_id`` (their first column) in the population's order,
    with one hash table of the user ids built once and ``None`` for users without a row."""

    def __init__(self, user_ids: np.ndarray):
        self.index = pd.Index(user_ids, dtype=object)
        self.n = len(user_ids)

    def positions(self, keys: Sequence[Any]) -> np.ndarray:
        keys = keys if isinstance(keys, np.ndarray) else np.array(list(keys), dtype=object)
        return self.index.get_indexer(keys)

    def __call__(self, rows: Sequence[Any], names: Sequence[str]) -> dict[str, np.ndarray]:
        out = {name: np.full(self.n, None, dtype=object) for name in names}
        if rows and self.n:
            table = _table(rows, len(names) + 1)
            pos = self.index.get_indexer(table[:, 0])
            keep = pos >= 0
            for k, name in enumerate(names, start=1):
                out[name][pos[keep]] = table[keep, k]
        return out


def _table(rows: Sequence[Any], width: int) -> np.ndarray:
    """Result rows (tuples of scalars) as a 2-D object array, in one C-level conversion."""
    table = np.empty((len(rows), width), dtype=object)
    if len(rows):
        table[:] = rows
    return table


def _unknown(values: np.ndarray) -> np.ndarray:
    return np.equal(values, None)


def _masked_int(values: np.ndarray) -> np.ma.MaskedArray:
    """An object array (None = unknown) as a masked int64 array."""
    missing = _unknown(values)
    return np.ma.masked_array(np.where(missing, 0, values).astype(np.int64), mask=missing)


def _masked_bool(values: np.ndarray) -> np.ma.MaskedArray:
    """An object array of booleans / 0 / 1 (None = unknown) as a masked bool array."""
    missing = _unknown(values)
    return np.ma.masked_array(np.where(missing, False, values).astype(bool), mask=missing)


def _int_or_zero(values: np.ndarray) -> np.ndarray:
    return np.where(_unknown(values), 0, values).astype(np.int64)


def _fmax(a: np.ma.MaskedArray, b: np.ma.MaskedArray) -> np.ma.MaskedArray:
    """Element-wise max of two masked arrays, ignoring a masked side (masked when both are)."""
    ma, mb = np.ma.getmaskarray(a), np.ma.getmaskarray(b)
    data = np.where(ma, b.data, np.where(mb, a.data, np.maximum(a.data, b.data)))
    return np.ma.masked_array(data, mask=ma & mb)


def _fmin(a: np.ma.MaskedArray, b: np.ma.MaskedArray) -> np.ma.MaskedArray:
    ma, mb = np.ma.getmaskarray(a), np.ma.getmaskarray(b)
    data = np.where(ma, b.data, np.where(mb, a.data, np.minimum(a.data, b.data)))
    return np.ma.masked_array(data, mask=ma & mb)


def _fsum(a: np.ma.MaskedArray, b: np.ma.MaskedArray) -> np.ma.MaskedArray:
    ma, mb = np.ma.getmaskarray(a), np.ma.getmaskarray(b)
    data = np.where(ma, 0, a.data) + np.where(mb, 0, b.data)
    return np.ma.masked_array(data, mask=ma & mb)


def _date_or_none(v: Any) -> dt.date | None:
    if isinstance(v, dt.datetime):
        return v.date()
    if isinstance(v, dt.date):
        return v
    if isinstance(v, str):
        try:
            return dt.date.fromisoformat(v[:10])
        except ValueError:
            return None
    return None


def _dates(values: Any) -> np.ndarray:
    """Dates (``datetime.date``, ISO strings; None / NaN = unknown) as datetime64[D] with NaT."""
    if len(values) <= 256:  # one user's facts: plain Python beats pandas' set-up cost
        return np.array([_date_or_none(v) for v in values], dtype="datetime64[D]")
    return pd.to_datetime(pd.Series(values, dtype=object), errors="coerce").to_numpy().astype("datetime64[D]")


def months_between(start: np.ndarray, end: dt.date) -> np.ma.MaskedArray:
    """Whole months from each ``start`` (datetime64[D], NaT = unknown) to ``end``, never negative."""
    missing = np.isnat(start)
    safe = np.where(missing, np.datetime64(end, "D"), start)
    start_month = safe.astype("datetime64[M]")
    start_day = (safe - start_month.astype("datetime64[D]")).astype(np.int64) + 1
    months = (np.datetime64(end, "M") - start_month).astype(np.int64) - (end.day < start_day)
    return np.ma.masked_array(np.maximum(months, 0), mask=missing)


@dataclass(frozen=True)
class RepaymentRecord:
    """Per user (aligned like the population): the three repayment-record facts and whether
    something is overdue right now."""

    on_time_repayment_ratio: np.ma.MaskedArray
    max_days_overdue_12m: np.ma.MaskedArray
    overdue_episodes_12m: np.ma.MaskedArray
    overdue_now: np.ndarray


def _due_periods(as_of: dt.date, terms: ProductTerms) -> list[tuple[int, dt.date, dt.date, list[int]]]:
    return list(_due_periods_cached(as_of, terms.billing))


@lru_cache(maxsize=64)
def _due_periods_cached(as_of: dt.date, billing: Any) -> tuple[tuple[int, dt.date, dt.date, list[int]], ...]:
    """Bill periods whose due date fell in ``[as_of − 364, as_of − 1]``, each with its purchase
    days and the due days for which it did."""
    first = as_of - dt.timedelta(days=364)
    out = []
    period = cal.next_period(cal.period_of_statement(as_of.replace(day=1)))
    for key in range(16):
        days = [d for d in range(1, 29) if first <= cal.due_date(period, d, billing) < as_of]
        if days:
            lo = cal.statement_date(cal.previous_period(period), billing)
            hi = cal.statement_date(period, billing) - dt.timedelta(days=1)
            out.append((key, lo, hi, days))
        period = cal.previous_period(period)
    return tuple(out)


def repayment_record(
    uow: UnitOfWork, align: Aligner, as_of: dt.date, user_ids: Sequence[str] | None
) -> RepaymentRecord:
    """The repayment record (信用历史: on time, days overdue) of each user, read from the
    domain-event outbox and the purchases — never from bill tables, so it keeps working
    whatever the billing engine stores.

    * **Bills that fell due** in the last 12 months: the distinct (line, bill period) with
      purchases not fully refunded whose due date (:func:`huabei.billing.calendar.due_date`
      with the line's due day) lies in ``[as_of − 364, as_of − 1]``.
    * **Overdue episodes**: ``BecameOverdue`` events of the last 12 months; a bill period
      counts once (the payload's ``period``; without one, each event is its own episode).
    * **Days past due**: the largest ``days_past_due`` of the delinquency events
      (``BecameOverdue``, ``DelinquencyBucketChanged``, ``DelinquencyCured``) of the last 12
      months; an episode still open (its latest event, per line and period, is not
      ``DelinquencyCured``) counts its days until ``as_of``.
    * ``on_time_repayment_ratio = (bills due − overdue bills) / bills due`` per mille (the
      larger of the two counts as denominator); all three are None — a thin file — when
      nothing fell due and nothing was ever overdue.
    """
    n = align.n
    first = as_of - dt.timedelta(days=364)
    due_n = _int_or_zero(
        align(uow.credit_record.due_periods_by_user(_due_periods(as_of, uow.terms), user_ids), ["n"])["n"]
    )
    events = _frame(
        uow.credit_record.overdue_events_by_user(as_of, user_ids),
        ["user_id", "account_id", "event_type", "period", "days_past_due", "business_date", "event_id"],
    )
    max_dpd = np.zeros(n, dtype=np.int64)
    episodes = np.zeros(n, dtype=np.int64)
    overdue_bills = np.zeros(n, dtype=np.int64)
    overdue_now = np.zeros(n, dtype=bool)
    has_events = np.zeros(n, dtype=bool)
    if len(events):
        ev = events
        ev["day"] = _dates(ev["business_date"])
        ev["dpd"] = pd.to_numeric(ev["days_past_due"], errors="coerce").fillna(1).astype(np.int64)
        ev["key"] = ev["account_id"].astype(str) + "|" + ev["period"].fillna("").astype(str)
        last = ev.groupby("key", sort=False).tail(1)
        still_open = last[last["event_type"] != "DelinquencyCured"].copy()
        still_open["dpd_now"] = still_open["dpd"] + (
            np.datetime64(as_of, "D") - still_open["day"].to_numpy(dtype="datetime64[D]")
        ).astype(np.int64)
        in_window = ev[ev["day"].to_numpy(dtype="datetime64[D]") >= np.datetime64(first, "D")]
        worst = pd.concat(
            [in_window[["user_id", "dpd"]], still_open[["user_id", "dpd_now"]].rename(columns={"dpd_now": "dpd"})]
        )
        pos = align.positions(worst["user_id"])
        np.maximum.at(max_dpd, pos, worst["dpd"].to_numpy(dtype=np.int64))
        began = in_window[in_window["event_type"] == "BecameOverdue"].copy()
        np.add.at(episodes, align.positions(began["user_id"]), 1)
        began["bill"] = np.where(began["period"].isna(), "event-" + began["event_id"].astype(str), began["key"])
        bills = began.drop_duplicates("bill")
        np.add.at(overdue_bills, align.positions(bills["user_id"]), 1)
        np.logical_or.at(overdue_now, align.positions(still_open["user_id"]), True)
        has_events[align.positions(ev["user_id"].unique())] = True
    known = (due_n > 0) | has_events
    denominator = np.maximum(np.maximum(due_n, overdue_bills), 1)
    ratio = np.maximum(due_n - overdue_bills, 0) * 1000 // denominator
    return RepaymentRecord(
        on_time_repayment_ratio=np.ma.masked_array(ratio, mask=~known),
        max_days_overdue_12m=np.ma.masked_array(max_dpd, mask=~known),
        overdue_episodes_12m=np.ma.masked_array(episodes, mask=~known),
        overdue_now=overdue_now,
    )


def collect_facts(
    uow: UnitOfWork, *, as_of: dt.date | None = None, user_ids: Sequence[str] | None = None
) -> Population:
    """Every fact of every user (or of ``user_ids``) as of ``as_of`` (default: the business
    date), with a fixed number of set-based queries."""
    as_of = as_of or uow.today()
    terms = uow.terms
    d90 = as_of - dt.timedelta(days=89)
    d365 = as_of - dt.timedelta(days=364)
    ids = sorted(set(user_ids)) if user_ids is not None else None

    user_names = [
        "user_id",
        "real_name_verified",
        "phone",
        "education",
        "occupation",
        "employer",
        "email",
        "address",
        "id_document_expires_on",
        "bank_card_bound",
    ]
    user_rows = _table(uow.facts.users_by_user(ids), len(user_names))
    n = len(user_rows)
    user_cols = {name: user_rows[:, k].copy() for k, name in enumerate(user_names)}
    del user_rows
    align = Aligner(user_cols["user_id"])
    cols: dict[str, Any] = {}

    # -- host facts in force (pivoted in SQL) --------------------------------------------
    host_names = [(name, fact_kind(ALL_FACT_SPECS[name])) for name in HOST_FACTS]
    host = align(uow.facts.current_facts_by_user(host_names, ids), [nm for nm, _ in host_names] + [_HISTORY_ON])

    def host_int(name: str) -> np.ma.MaskedArray:
        return _masked_int(host[name])

    def or_host(name: str, fallback: Any) -> Any:
        """The host's value where posted, else ``fallback``."""
        kind = fact_kind(ALL_FACT_SPECS[name])
        if kind == "str":
            return np.where(_unknown(host[name]), fallback, host[name])
        h = _masked_bool(host[name]) if kind == "bool" else host_int(name)
        fb = fallback if np.ma.isMaskedArray(fallback) else np.ma.masked_array(fallback)
        mask = np.ma.getmaskarray(h)
        return np.ma.masked_array(np.where(mask, fb.data, h.data), mask=mask & np.ma.getmaskarray(fb))

    def text(name: str) -> pd.Series:
        values = user_cols[name]
        if n <= 256:
            return pd.Series([("" if v is None else str(v)).strip() for v in values], dtype=object)
        return pd.Series(values, dtype=object).fillna("").astype(str).str.strip()

    # -- identity: profile, then host facts --------------------------------------------------
    education = pd.Series(user_cols["education"], dtype=object).map(EDUCATION_FROM_PROFILE).to_numpy(dtype=object)
    cols["education"] = or_host("education", np.where(pd.isna(education), None, education))
    occ = text("occupation")
    occupation = np.where(
        occ.isin(OCCUPATIONS), occ, np.where(occ != "", "other", np.where(text("employer") != "", "employee", None))
    )
    cols["occupation"] = or_host("occupation", occupation.astype(object))
    contact = (text("phone") != "") & ((text("email") != "") | (text("address") != ""))
    cols["contact_details_complete"] = or_host(
        "contact_details_complete", np.ma.masked_array(contact.to_numpy(dtype=bool))
    )
    expires = _dates(user_cols["id_document_expires_on"])
    id_valid = np.ma.masked_array(expires > np.datetime64(as_of, "D"), mask=np.isnat(expires))
    cols["id_document_valid"] = or_host("id_document_valid", id_valid)
    cols["bank_card_bound"] = or_host("bank_card_bound", _masked_bool(user_cols["bank_card_bound"]))
    cols["real_name_verified"] = or_host("real_name_verified", _masked_bool(user_cols["real_name_verified"]))
    for name in ("credit_authorised", "income_verified"):
        cols[name] = _masked_bool(host[name])
    for name in ("monthly_income", "assets"):
        cols[name] = host_int(name)

    # -- credit lines ----------------------------------------------------------------------
    line_names = [
        "user_id",
        "account_id",
        "state",
        "base_limit",
        "temporary_limit",
        "temporary_limit_expires_on",
        "used",
        "block_code",
        "opened_on",
        "due_day",
    ]
    lines = uow.credit_record.accounts_by_user(ids)
    opened = np.full(n, np.datetime64("NaT"), dtype="datetime64[D]")
    if lines:
        line_table = _table(lines, len(line_names))
        owner = align.positions(line_table[:, 0])
        line_opened = _dates(line_table[:, 8])
        first = np.full(n, np.datetime64("2262-01-01"), dtype="datetime64[D]")
        np.minimum.at(first, owner, line_opened)
        opened = np.where(first == np.datetime64("2262-01-01"), np.datetime64("NaT"), first)
    history = months_between(opened, as_of)
    host_hist = host_int("credit_history_months")
    aged = months_between(_dates(host[_HISTORY_ON]), as_of)
    host_hist = np.ma.masked_array(
        host_hist.data + np.where(np.ma.getmaskarray(aged), 0, aged.data), mask=np.ma.getmaskarray(host_hist)
    )
    cols["credit_history_months"] = _fmax(history, host_hist)

    line = align([r for r in lines if r[2] == "open"], line_names[1:])
    del lines
    account_id = _int_or_zero(line["account_id"])
    base_limit = _int_or_zero(line["base_limit"])
    used = _int_or_zero(line["used"])
    temp = _int_or_zero(line["temporary_limit"])
    temp_until = _dates(line["temporary_limit_expires_on"])
    live_temp = temporary_limits_on(temp, temp_until, as_of)
    total = base_limit + live_temp
    has_line = account_id > 0
    util = np.where(total > 0, np.minimum(used * 1000 // np.maximum(total, 1), 10_000), np.where(used > 0, 10_000, 0))
    cols["utilisation_ratio"] = np.ma.masked_array(util, mask=~has_line)
    block_code = line["block_code"]
    line_opened_on = _dates(line["opened_on"])

    # -- activity: purchases and app events, 90 days -------------------------------------------
    act = align(uow.facts.activity_by_user(d90, as_of, ids), ["payments", "offline", "categories", "active_days"])
    payments = _int_or_zero(act["payments"])
    offline = _int_or_zero(act["offline"])
    cols["payments_90d"] = np.ma.masked_array(payments)
    cols["offline_payment_share"] = np.ma.masked_array(offline * 1000 // np.maximum(payments, 1), mask=payments == 0)
    cols["merchant_categories_90d"] = np.ma.masked_array(_int_or_zero(act["categories"]))
    cols["active_days_90d"] = _fmax(
        np.ma.masked_array(np.minimum(_int_or_zero(act["active_days"]), 90)), host_int("active_days_90d")
    )

    # -- counted activity, 12 months -------------------------------------------------------
    kinds = list(COUNTED_FACTS.values())
    counts = align(uow.facts.event_counts_by_user(kinds, d365, as_of, ids), kinds)
    tasks = align(uow.facts.campaign_completions_by_user(d365, as_of, ids), ["n"])["n"]
    for fact, kind in COUNTED_FACTS.items():
        counted = _int_or_zero(counts[kind])
        if fact == "credit_tasks_12m":
            counted = counted + _int_or_zero(tasks)
        cols[fact] = _fmax(np.ma.masked_array(counted), host_int(fact))

    # -- raise applications, 90 days ------------------------------------------------------
    apps = align(uow.credit_record.raise_applications_by_user(d90, as_of, ids), ["n"])["n"]
    cols["raise_applications_90d"] = np.ma.masked_array(_int_or_zero(apps))

    # -- repayment record: ours (events) combined with other credit products (host) ---------
    record = repayment_record(uow, align, as_of, ids)
    cols["on_time_repayment_ratio"] = _fmin(record.on_time_repayment_ratio, host_int("on_time_repayment_ratio"))
    cols["max_days_overdue_12m"] = _fmax(record.max_days_overdue_12m, host_int("max_days_overdue_12m"))
    cols["overdue_episodes_12m"] = _fsum(record.overdue_episodes_12m, host_int("overdue_episodes_12m"))

    # -- connections: contacts and their standing -----------------------------------------
    contacts = align(uow.facts.contacts_by_user(terms.scoring.opening_threshold, ids), ["verified", "known", "good"])
    has_contacts = ~_unknown(contacts["verified"])
    verified = _int_or_zero(contacts["verified"])
    known = _int_or_zero(contacts["known"])
    good = _int_or_zero(contacts["good"])
    cols["verified_contacts"] = _fmax(np.ma.masked_array(verified, mask=~has_contacts), host_int("verified_contacts"))
    ours = np.ma.masked_array(good * 1000 // np.maximum(known, 1), mask=known == 0)
    cols["contacts_good_standing_ratio"] = or_host_if_unknown(ours, host_int("contacts_good_standing_ratio"))

    ordered = {spec.name: cols[spec.name] for spec in (*FACTS, *POLICY_FACTS)}
    card = scorecard_for(terms.scoring)
    wanted = [f.name for f in card.features if f.name in BEHAVIOUR_FACT_SPECS]
    if wanted:  # a card that scores behaviour (a fitted one): its facts from the risk features
        ordered.update(behaviour_columns(uow, as_of, account_id, wanted))
    return Population(
        as_of=as_of,
        user_ids=user_cols["user_id"],
        columns=ordered,
        account_id=account_id,
        base_limit=base_limit,
        used=used,
        block_code=block_code,
        overdue_now=record.overdue_now,
        opened_on=line_opened_on,
    )


def behaviour_columns(
    uow: UnitOfWork, as_of: dt.date, account_id: np.ndarray, names: Sequence[str]
) -> dict[str, np.ma.MaskedArray]:
    """The behavioural facts ``names`` (:data:`~huabei.scoring.facts.BEHAVIOUR_FACTS`) of each
    row's open line as of ``as_of``, from the risk engine's feature definitions (one statement per
    feature, every line at once); masked (unknown) without a line or without a bill that fell due
    in the last 6 months (``bills_due_6m`` = 0, ``dpd_now`` = 0)."""
    asked = sorted({*names, "bills_due_6m", "dpd_now"})
    lines = sorted({int(a) for a in account_id if a})
    values = risk_features.compute(uow.conn, asked, as_of, lines) if lines else {}
    n = len(account_id)
    out: dict[str, np.ma.MaskedArray] = {}
    known = np.zeros(n, dtype=bool)
    data = {name: np.zeros(n, dtype=np.int64) for name in names}
    for i, a in enumerate(account_id.tolist()):
        row = values.get(int(a)) if a else None
        if row is None or (row["bills_due_6m"] == 0 and row["dpd_now"] == 0):
            continue
        known[i] = True
        for name in names:
            data[name][i] = int(row[name])
    for name in names:
        out[name] = np.ma.masked_array(data[name], mask=~known)
    return out


def book_frame(uow: UnitOfWork, as_of: dt.date, horizon_months: int, bad_dpd: int = 60) -> pd.DataFrame:
    """The book's own training table: one row per line open on ``as_of`` with its behavioural
    facts as of that day (NaN = unknown, as rescoring reads them) and ``bad`` = 1 when the line
    reached ``bad_dpd`` days past due in the ``horizon_months`` × 30 days that followed. The
    horizon must have passed (end on or before the business date)."""
    if horizon_months < 1 or bad_dpd < 1:
        raise errors.invalid(
            "invalid_request", detail="the horizon and the days past due of a bad line must be positive"
        )
    until = as_of + dt.timedelta(days=30 * horizon_months)
    if until > uow.today():
        raise errors.invalid(
            "invalid_request",
            detail=f"the horizon ends on {until.isoformat()}, after the business date {uow.today().isoformat()}",
        )
    lines = risk_features.open_lines(uow.conn, as_of)
    names = list(BEHAVIOUR_FACT_SPECS)
    cols = behaviour_columns(uow, as_of, np.array(lines, dtype=np.int64), names)
    df = pd.DataFrame({n: cols[n].astype(np.float64).filled(np.nan) for n in names})
    outcome = risk_features.worst_dpd_between(uow.conn, as_of, until, lines)
    df.insert(0, "account_id", lines)
    df["bad"] = [int(outcome.get(a, 0) >= bad_dpd) for a in lines]
    return df


def or_host_if_unknown(ours: np.ma.MaskedArray, host: np.ma.MaskedArray) -> np.ma.MaskedArray:
    """Our own value where we know it, else the host's."""
    mask = np.ma.getmaskarray(ours)
    return np.ma.masked_array(np.where(mask, host.data, ours.data), mask=mask & np.ma.getmaskarray(host))


# ---------------------------------------------------------------------------------------
# Scoring and storing
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Scored:
    """Scores of a population (aligned with it) and what was stored."""

    scores: np.ndarray
    dims: dict[str, np.ndarray]
    reasons: list[list[str]]
    version: str


def score_population(pop: Population, card: Scorecard) -> Scored:
    out = card.score_batch_explained({f.name: pop.columns.get(f.name) for f in card.features})
    return Scored(scores=out.scores, dims=out.dimensions, reasons=out.reason_lists(), version=card.version)


@dataclass(frozen=True)
class RescoreSnapshot:
    """What a rescoring reads: the facts of every user (or of some) as of a date, and each
    user's latest stored score (``previous``: ``score``, ``band`` and the five dimensions,
    aligned with ``population.user_ids``; ``None`` where the user was never scored)."""

    population: Population
    previous: dict[str, np.ndarray]


@dataclass(frozen=True)
class ScoreChange:
    """A user's score moved from their previous one (the ``ScoreChanged`` event)."""

    user_id: str
    account_id: int | None  # the user's open line, if any
    old_score: int
    new_score: int
    old_band: str
    new_band: str
    dimension_changes: dict[str, int]  # new minus old points, per dimension
    reasons: list[str]  # the new score's reason codes


@dataclass(frozen=True)
class Rescore:
    """The decisions of a rescoring: every user's new score (aligned with the population),
    the previous score each row records, and the changes to announce."""

    population: Population
    scored: Scored
    bands: np.ndarray
    previous_score: list[int | None]
    changes: list[ScoreChange]


def read_rescore(
    uow: UnitOfWork, day: dt.date, *, user_ids: Sequence[str] | None = None, population: Population | None = None
) -> RescoreSnapshot:
    """The snapshot of a rescoring as of ``day`` (the unit of work's business date), set-based."""
    pop = population if population is not None else collect_facts(uow, as_of=day, user_ids=user_ids)
    if len(pop) == 0:
        return RescoreSnapshot(pop, {})
    previous = Aligner(pop.user_ids)(uow.scores.latest_points(user_ids), ["score", "band", *DIMENSIONS])
    return RescoreSnapshot(pop, previous)


def decide_rescore(snapshot: RescoreSnapshot, terms: ProductTerms, day: dt.date) -> Rescore:
    """Score the snapshot with the card in force (pure: the same snapshot and terms, the same scores)."""
    pop = snapshot.population
    scored = score_population(pop, scorecard_for(terms.scoring))
    if len(pop) == 0:
        return Rescore(pop, scored, np.array([], dtype=object), [], [])
    prev = snapshot.previous
    known = ~_unknown(prev["score"])
    prev_score = _int_or_zero(prev["score"])
    bands = bands_of(scored.scores)
    changes = [
        ScoreChange(
            user_id=pop.user_ids[i],
            account_id=int(pop.account_id[i]) or None,
            old_score=int(prev_score[i]),
            new_score=int(scored.scores[i]),
            old_band=prev["band"][i],
            new_band=bands[i],
            dimension_changes={d: int(scored.dims[d][i]) - int(prev[d][i]) for d in DIMENSIONS},
            reasons=scored.reasons[i],
        )
        for i in np.flatnonzero(known & (prev_score != scored.scores)).tolist()
    ]
    return Rescore(pop, scored, bands, np.where(known, prev_score, None).tolist(), changes)


def write_rescore(uow: UnitOfWork, rescore: Rescore, trigger: str) -> int:
    """One ``credit_scores`` row per user (one bulk insert, built column by column) and a
    ``ScoreChanged`` event for every user whose score moved. Returns the number of users scored."""
    if trigger not in SCORE_TRIGGERS:
        raise ValueError(f"unknown score trigger {trigger!r}")
    pop, scored = rescore.population, rescore.scored
    n = len(pop)
    if n == 0:
        return 0
    now, today = uow.now(), pop.as_of
    columns: dict[str, list[Any]] = {
        "user_id": pop.user_ids.tolist(),
        "as_of": [today] * n,
        "score": scored.scores.tolist(),
        "band": rescore.bands.tolist(),
        **{d: scored.dims[d].tolist() for d in DIMENSIONS},
        "reasons": scored.reasons,
        "previous_score": rescore.previous_score,
        "scorecard_version": [scored.version] * n,
        "trigger": [trigger] * n,
        "created_at": [now] * n,
    }
    uow.scores.add_columns(columns)
    uow.limit_batch.add_events(
        [
            {
                "event_type": "ScoreChanged",
                "account_id": c.account_id,
                "user_id": c.user_id,
                "payload": {
                    "old_score": c.old_score,
                    "new_score": c.new_score,
                    "old_band": c.old_band,
                    "new_band": c.new_band,
                    "dimension_changes": c.dimension_changes,
                    "reasons": c.reasons,
                    "trigger": trigger,
                },
                "business_date": today,
                "created_at": now,
            }
            for c in rescore.changes
        ]
    )
    return n


def refresh_scores(
    uow: UnitOfWork,
    *,
    trigger: str = "scheduled",
    user_ids: Sequence[str] | None = None,
    population: Population | None = None,
) -> int:
    """Score every user (or ``user_ids``) as of the business date and store the scores. Returns the count."""
    day = uow.today()
    snapshot = read_rescore(uow, day, user_ids=user_ids, population=population)
    return write_rescore(uow, decide_rescore(snapshot, uow.terms, day), trigger)


def rescoring_due(terms: ProductTerms, day: dt.date) -> bool:
    """The end-of-day rescoring runs on its scheduled day (``scoring.refresh_cadence`` / ``refresh_day``)."""
    return is_scheduled(day, terms.scoring.refresh_cadence, terms.scoring.refresh_day)


def score_user(
    uow: UnitOfWork, user_id: str, trigger: str, *, adjust: Callable[[Population], None] | None = None
) -> tuple[Population, dict[str, Any]]:
    """Score one user now, store it, and return the user's population row and the stored score
    view. ``adjust`` may correct the facts first (an application being made counts itself)."""
    pop = collect_facts(uow, user_ids=[user_id])
    if len(pop) == 0:
        raise errors.not_found("user_not_found", user_id=user_id)
    if adjust is not None:
        adjust(pop)
    refresh_scores(uow, trigger=trigger, user_ids=[user_id], population=pop)
    row = uow.scores.latest_by_user([user_id])[0]
    return pop, score_view(row, uow.terms.scoring)


# ---------------------------------------------------------------------------------------
# Views
# ---------------------------------------------------------------------------------------


def reason_params(terms: ProductTerms) -> dict[str, Any]:
    """Parameters some reason texts take (the threshold, the application cool-off)."""
    return {"threshold": terms.scoring.opening_threshold, "days": terms.raises.application_cooldown_days}


def reason_items(codes: Sequence[str], params: Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
    """Reason codes with their texts (en and zh_CN): ``code``, ``message``, ``message_zh``,
    ``remedy``, ``remedy_zh``. A placeholder ``params`` cannot fill (an operator hold's
    ``{note}`` in a list of reasons) is left out, with the colon before it."""
    out = []
    for code in codes:
        missing = reasons.placeholders(code) - set(params or {})
        body = reasons.render(code, {**dict.fromkeys(missing, ""), **(params or {})})
        if missing:
            for key in ("message", "message_zh"):
                if body[key]:
                    body[key] = body[key].rstrip().rstrip(":：").rstrip()
        out.append(body)
    return out


def score_view(row: Any, terms: ScoringTerms, *, provisional: bool = False) -> dict[str, Any]:
    card = scorecard_for(terms)
    spreads = card.dimension_spreads()
    return {
        "user_id": row.user_id,
        "score": row.score,
        "band": row.band,
        "band_zh": BAND_ZH[row.band],
        "dimensions": [
            {"dimension": d, "name_zh": DIMENSION_ZH[d], "points": getattr(row, d), "max_points": spreads[d]}
            for d in DIMENSIONS
        ],
        "reasons": reason_items(row.reasons, {"threshold": terms.opening_threshold}),
        "as_of": row.as_of.isoformat(),
        "previous_score": row.previous_score,
        "scorecard_version": row.scorecard_version,
        "trigger": row.trigger,
        "score_id": getattr(row, "score_id", None),
        "provisional": provisional,
    }


@dataclass
class _Row:
    user_id: str
    score: int
    band: str
    credit_history: int
    behaviour: int
    capacity: int
    identity: int
    connections: int
    reasons: list[str]
    as_of: dt.date
    previous_score: int | None
    scorecard_version: str
    trigger: str
    score_id: int | None = None


def get_score(system: Huabei, user_id: str) -> dict[str, Any]:
    """The user's latest stored score; a user never scored gets a provisional score computed
    now from their facts (not stored: a read changes nothing)."""
    with system.uow(readonly=True) as uow:
        if not uow.users.exists(user_id):
            raise errors.not_found("user_not_found", user_id=user_id)
        rows = uow.scores.latest_by_user([user_id])
        if rows:
            return score_view(rows[0], uow.terms.scoring)
        pop = collect_facts(uow, user_ids=[user_id])
        scored = score_population(pop, scorecard_for(uow.terms.scoring))
        s = int(scored.scores[0])
        row = _Row(
            user_id=user_id,
            score=s,
            band=str(bands_of(scored.scores)[0]),
            **{d: int(scored.dims[d][0]) for d in DIMENSIONS},
            reasons=scored.reasons[0],
            as_of=pop.as_of,
            previous_score=None,
            scorecard_version=scored.version,
            trigger="provisional",
        )
        return score_view(row, uow.terms.scoring, provisional=True)


def score_history(
    system: Huabei, user_id: str, *, limit: int = 24, starting_after: int | None = None
) -> dict[str, Any]:
    with system.uow(readonly=True) as uow:
        if not uow.users.exists(user_id):
            raise errors.not_found("user_not_found", user_id=user_id)
        rows = uow.scores.history(user_id, limit, starting_after)
        page = rows[:limit]
        return {
            "data": [score_view(r, uow.terms.scoring) for r in page],
            "has_more": len(rows) > limit,
            "next_cursor": page[-1].score_id if len(rows) > limit else None,
        }


def refresh_user(system: Huabei, user_id: str) -> dict[str, Any]:
    """Operator: rescore one user now (stored, trigger ``operator``)."""
    with system.uow() as uow:
        if uow.facts.lock_user(user_id) is None:
            raise errors.not_found("user_not_found", user_id=user_id)
        _, view = score_user(uow, user_id, "operator")
        uow.commit()
        return view


def refresh_all(system: Huabei) -> int:
    """Operator: rescore everyone now (trigger ``operator``)."""
    with system.uow() as uow:
        n = refresh_scores(uow, trigger="operator")
        uow.commit()
        return n


def psi(system: Huabei, date_from: dt.date, date_to: dt.date, bins: int | Sequence[int] = 10) -> dict[str, Any]:
    """Population stability of the score between two dates: each user's latest stored score
    on or before ``date_from`` (expected) against on or before ``date_to`` (actual)."""
    with system.uow(readonly=True) as uow:
        expected = uow.scores.scores_on(date_from)
        actual = uow.scores.scores_on(date_to)
    for day, got in ((date_from, expected), (date_to, actual)):
        if not got:
            raise errors.unprocessable("no_scores", date=day.isoformat())
    value = population_stability_index(expected, actual, bins)
    band_psi = population_stability_index(expected, actual, [lo for _, lo in BANDS[1:]])
    return {
        "from": date_from.isoformat(),
        "to": date_to.isoformat(),
        "psi": str(value),
        "interpretation": psi_interpretation(value),
        "band_psi": str(band_psi),
        "expected_count": len(expected),
        "actual_count": len(actual),
        "expected_mean": round(float(np.mean(expected)), 1),
        "actual_mean": round(float(np.mean(actual)), 1),
    }


# ---------------------------------------------------------------------------------------
# Host inputs: facts, activity events, contacts
# ---------------------------------------------------------------------------------------


def _fact_error(e: FactError) -> errors.HuabeiError:
    return errors.invalid(e.code, field=e.field, detail=e.detail)


def validate_facts(facts: Mapping[str, Any]) -> dict[str, FactValue]:
    """Type- and range-check facts a host posts; refuse facts only huabei computes."""
    score_facts = {k: v for k, v in facts.items() if k not in POLICY_FACT_SPECS}
    policy_facts = {k: v for k, v in facts.items() if k in POLICY_FACT_SPECS}
    for name in facts:
        if name in SYSTEM_ONLY_FACTS:
            raise errors.invalid("fact_not_accepted", field=name)
    try:
        out = check_facts(score_facts, partial=True)
        out.update(check_policy_facts(policy_facts))
    except FactError as e:
        raise _fact_error(e) from None
    return out


def _values(name: str, value: FactValue) -> dict[str, Any]:
    kind = fact_kind(ALL_FACT_SPECS[name])
    return {
        "value_int": value if kind == "int" else None,
        "value_bool": value if kind == "bool" else None,
        "value_text": value if kind == "str" else None,
    }


def post_facts(
    system: Huabei,
    user_id: str,
    facts: Mapping[str, Any],
    *,
    effective_on: dt.date | None = None,
    source: str = "host_app",
) -> dict[str, Any]:
    """Record facts the host app knows (validated, time-stamped, history kept; the latest
    effective value of each fact wins). ``real_name_verified`` also updates the user record."""
    if not facts:
        raise errors.invalid("invalid_request", detail="facts: at least one fact")
    checked = validate_facts(facts)
    with system.uow() as uow:
        user = uow.facts.lock_user(user_id)
        if user is None:
            raise errors.not_found("user_not_found", user_id=user_id)
        today, now = uow.today(), uow.now()
        day = effective_on or today
        if day > today:
            raise errors.invalid("date_in_future", date=day.isoformat(), today=today.isoformat())
        names = sorted(checked)
        stored = uow.facts.record_many(
            user_id, {name: _values(name, checked[name]) for name in names}, day, source, now
        )
        recorded = [
            {"fact_id": stored[name][0], "name": name, "value": checked[name], "current": stored[name][1]}
            for name in names
        ]
        verified = checked.get("real_name_verified")
        if isinstance(verified, bool) and stored["real_name_verified"][1]:
            uow.facts.set_real_name_verified(user_id, verified)
        uow.commit()
        return {"user_id": user_id, "effective_on": day.isoformat(), "source": source, "recorded": recorded}


def current_facts(system: Huabei, user_id: str) -> dict[str, Any]:
    """Every fact of the user as the score would read it today."""
    with system.uow(readonly=True) as uow:
        if not uow.users.exists(user_id):
            raise errors.not_found("user_not_found", user_id=user_id)
        pop = collect_facts(uow, user_ids=[user_id])
        return {"user_id": user_id, "as_of": pop.as_of.isoformat(), "facts": pop.facts_of(0)}


def record_activity(system: Huabei, user_id: str, events: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Store activity events (all or nothing). An event whose ``external_id`` the user already
    sent is skipped (a retry), and counted in ``duplicates``."""
    if not events:
        raise errors.invalid("invalid_request", detail="events: at least one event")
    with system.uow() as uow:
        if uow.facts.lock_user(user_id) is None:
            raise errors.not_found("user_not_found", user_id=user_id)
        today, now = uow.today(), uow.now()
        allowed = set(uow.terms.categories.allowed)
        rows = []
        seen: set[str] = set()
        for k, e in enumerate(events):
            kind = e.get("kind")
            if kind not in ACTIVITY_KINDS:
                raise errors.invalid("invalid_request", detail=f"events.{k}.kind: one of {', '.join(ACTIVITY_KINDS)}")
            day = e.get("occurred_on")
            if not isinstance(day, dt.date):
                raise errors.invalid("invalid_date")
            if day > today:
                raise errors.invalid("date_in_future", date=day.isoformat(), today=today.isoformat())
            category = e.get("category")
            if category is not None and category not in allowed:
                raise errors.invalid("invalid_category", category=category)
            channel = e.get("channel")
            if kind == "payment" and (channel is None or category is None):
                raise errors.invalid("invalid_request", detail=f"events.{k}: a payment needs a channel and a category")
            amount = e.get("amount")
            if amount is not None and (isinstance(amount, bool) or not isinstance(amount, int) or amount <= 0):
                raise errors.invalid("invalid_amount")
            ext = e.get("external_id")
            if ext is not None:
                if ext in seen:
                    continue
                seen.add(ext)
            rows.append(
                {
                    "user_id": user_id,
                    "kind": kind,
                    "occurred_on": day,
                    "channel": channel,
                    "category": category,
                    "amount": amount,
                    "external_id": ext,
                    "recorded_at": now,
                }
            )
        dupes = uow.facts.existing_external_ids(user_id, [r["external_id"] for r in rows if r["external_id"]])
        fresh = [r for r in rows if r["external_id"] not in dupes or r["external_id"] is None]
        uow.facts.add_events(fresh)
        uow.commit()
        return {"user_id": user_id, "recorded": len(fresh), "duplicates": len(events) - len(fresh)}


def replace_contacts(system: Huabei, user_id: str, contacts: Sequence[tuple[str, bool]]) -> dict[str, Any]:
    """The user's contacts (friends in the app), replacing the previous list."""
    ids = [c for c, _ in contacts]
    if len(set(ids)) != len(ids):
        raise errors.invalid("invalid_request", detail="contacts: each contact once")
    if user_id in ids:
        raise errors.invalid("invalid_request", detail="contacts: a user is not their own contact")
    with system.uow() as uow:
        if uow.facts.lock_user(user_id) is None:
            raise errors.not_found("user_not_found", user_id=user_id)
        uow.facts.replace_contacts(user_id, list(contacts), uow.today())
        uow.commit()
    return {"user_id": user_id, "contacts": [{"user_id": c, "verified": v} for c, v in contacts]}


# ---------------------------------------------------------------------------------------
# End of day
# ---------------------------------------------------------------------------------------


def is_scheduled(day: dt.date, cadence: str, day_number: int) -> bool:
    """Whether a ``daily`` / ``weekly`` (ISO weekday ``day_number``) / ``monthly`` (day of month) job runs on ``day``."""
    if cadence == "daily":
        return True
    if cadence == "weekly":
        return day.isoweekday() == day_number
    return day.day == day_number
