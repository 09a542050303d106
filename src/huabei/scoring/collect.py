"""The facts a score reads: which ones the host may post, the scorecard in force, and collecting
them set-based for one user or the whole book (a :class:`Population` of columns) — the repayment
record, the behavioural columns and the book's frame for training. Reads only."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from huabei import errors
from huabei.billing import calendar as cal
from huabei.config import ProductTerms, ScoringTerms
from huabei.lines.rules import temporary_limits_on
from huabei.platform.unit_of_work import UnitOfWork
from huabei.risk import features as risk_features
from huabei.scoring.default_card import default_scorecard
from huabei.scoring.facts import (
    BEHAVIOUR_FACT_SPECS,
    EDUCATION_LEVELS,
    FACT_SPECS,
    FACTS,
    OCCUPATIONS,
    POLICY_FACT_SPECS,
    POLICY_FACTS,
    FactSpec,
)
from huabei.scoring.scorecard import FactValue, Scorecard

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


def card_in_force(uow: UnitOfWork) -> Scorecard:
    """The card in force: the latest one promoted (``huabei score challenge --promote``, recorded in
    ``scorecard_activations``), else the configured one (:func:`scorecard_for`)."""
    row = uow.scores.promoted_card()
    if row is None:
        return scorecard_for(uow.terms.scoring)
    card = _PROMOTED.get(row.fingerprint + row.version)
    if card is None:
        card = Scorecard.from_dict(json.loads(row.card))
        _PROMOTED[row.fingerprint + row.version] = card
    return card


_PROMOTED: dict[str, Scorecard] = {}


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


def unknown(values: np.ndarray) -> np.ndarray:
    return np.equal(values, None)


def _masked_int(values: np.ndarray) -> np.ma.MaskedArray:
    """An object array (None = unknown) as a masked int64 array."""
    missing = unknown(values)
    return np.ma.masked_array(np.where(missing, 0, values).astype(np.int64), mask=missing)


def _masked_bool(values: np.ndarray) -> np.ma.MaskedArray:
    """An object array of booleans / 0 / 1 (None = unknown) as a masked bool array."""
    missing = unknown(values)
    return np.ma.masked_array(np.where(missing, False, values).astype(bool), mask=missing)


def int_or_zero(values: np.ndarray) -> np.ndarray:
    return np.where(unknown(values), 0, values).astype(np.int64)


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


def dates_of(values: Any) -> np.ndarray:
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
    due_n = int_or_zero(
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
        ev["day"] = dates_of(ev["business_date"])
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
            return np.where(unknown(host[name]), fallback, host[name])
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
    expires = dates_of(user_cols["id_document_expires_on"])
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
        line_opened = dates_of(line_table[:, 8])
        first = np.full(n, np.datetime64("2262-01-01"), dtype="datetime64[D]")
        np.minimum.at(first, owner, line_opened)
        opened = np.where(first == np.datetime64("2262-01-01"), np.datetime64("NaT"), first)
    history = months_between(opened, as_of)
    host_hist = host_int("credit_history_months")
    aged = months_between(dates_of(host[_HISTORY_ON]), as_of)
    host_hist = np.ma.masked_array(
        host_hist.data + np.where(np.ma.getmaskarray(aged), 0, aged.data), mask=np.ma.getmaskarray(host_hist)
    )
    cols["credit_history_months"] = _fmax(history, host_hist)

    line = align([r for r in lines if r[2] == "open"], line_names[1:])
    del lines
    account_id = int_or_zero(line["account_id"])
    base_limit = int_or_zero(line["base_limit"])
    used = int_or_zero(line["used"])
    temp = int_or_zero(line["temporary_limit"])
    temp_until = dates_of(line["temporary_limit_expires_on"])
    live_temp = temporary_limits_on(temp, temp_until, as_of)
    total = base_limit + live_temp
    has_line = account_id > 0
    util = np.where(total > 0, np.minimum(used * 1000 // np.maximum(total, 1), 10_000), np.where(used > 0, 10_000, 0))
    cols["utilisation_ratio"] = np.ma.masked_array(util, mask=~has_line)
    block_code = line["block_code"]
    line_opened_on = dates_of(line["opened_on"])

    # -- activity: purchases and app events, 90 days -------------------------------------------
    act = align(uow.facts.activity_by_user(d90, as_of, ids), ["payments", "offline", "categories", "active_days"])
    payments = int_or_zero(act["payments"])
    offline = int_or_zero(act["offline"])
    cols["payments_90d"] = np.ma.masked_array(payments)
    cols["offline_payment_share"] = np.ma.masked_array(offline * 1000 // np.maximum(payments, 1), mask=payments == 0)
    cols["merchant_categories_90d"] = np.ma.masked_array(int_or_zero(act["categories"]))
    cols["active_days_90d"] = _fmax(
        np.ma.masked_array(np.minimum(int_or_zero(act["active_days"]), 90)), host_int("active_days_90d")
    )

    # -- counted activity, 12 months -------------------------------------------------------
    kinds = list(COUNTED_FACTS.values())
    counts = align(uow.facts.event_counts_by_user(kinds, d365, as_of, ids), kinds)
    tasks = align(uow.enrolments.completions_by_user(d365, as_of, ids), ["n"])["n"]
    for fact, kind in COUNTED_FACTS.items():
        counted = int_or_zero(counts[kind])
        if fact == "credit_tasks_12m":
            counted = counted + int_or_zero(tasks)
        cols[fact] = _fmax(np.ma.masked_array(counted), host_int(fact))

    # -- raise applications, 90 days ------------------------------------------------------
    apps = align(uow.applications.by_user(d90, as_of, ids), ["n"])["n"]
    cols["raise_applications_90d"] = np.ma.masked_array(int_or_zero(apps))

    # -- repayment record: ours (events) combined with other credit products (host) ---------
    record = repayment_record(uow, align, as_of, ids)
    cols["on_time_repayment_ratio"] = _fmin(record.on_time_repayment_ratio, host_int("on_time_repayment_ratio"))
    cols["max_days_overdue_12m"] = _fmax(record.max_days_overdue_12m, host_int("max_days_overdue_12m"))
    cols["overdue_episodes_12m"] = _fsum(record.overdue_episodes_12m, host_int("overdue_episodes_12m"))

    # -- connections: contacts and their standing -----------------------------------------
    contacts = align(uow.facts.contacts_by_user(terms.scoring.opening_threshold, ids), ["verified", "known", "good"])
    has_contacts = ~unknown(contacts["verified"])
    verified = int_or_zero(contacts["verified"])
    known = int_or_zero(contacts["known"])
    good = int_or_zero(contacts["good"])
    cols["verified_contacts"] = _fmax(np.ma.masked_array(verified, mask=~has_contacts), host_int("verified_contacts"))
    ours = np.ma.masked_array(good * 1000 // np.maximum(known, 1), mask=known == 0)
    cols["contacts_good_standing_ratio"] = or_host_if_unknown(ours, host_int("contacts_good_standing_ratio"))

    ordered = {spec.name: cols[spec.name] for spec in (*FACTS, *POLICY_FACTS)}
    card = card_in_force(uow)
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
    outcome = book_outcomes(uow, as_of, horizon_months, bad_dpd)
    lines = sorted(outcome)
    names = list(BEHAVIOUR_FACT_SPECS)
    cols = behaviour_columns(uow, as_of, np.array(lines, dtype=np.int64), names)
    df = pd.DataFrame({n: cols[n].astype(np.float64).filled(np.nan) for n in names})
    df.insert(0, "account_id", lines)
    df["bad"] = [outcome[a] for a in lines]
    return df


def book_outcomes(uow: UnitOfWork, as_of: dt.date, horizon_months: int, bad_dpd: int = 60) -> dict[int, int]:
    """Every line open on ``as_of`` → 1 when it reached ``bad_dpd`` days past due in the
    ``horizon_months`` × 30 days that followed (the worst-dpd feature's own definition over that
    window), else 0. The horizon must have passed (end on or before the business date)."""
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
    worst = risk_features.worst_dpd_between(uow.conn, as_of, until, lines)
    return {a: int(worst.get(a, 0) >= bad_dpd) for a in lines}


def or_host_if_unknown(ours: np.ma.MaskedArray, host: np.ma.MaskedArray) -> np.ma.MaskedArray:
    """Our own value where we know it, else the host's."""
    mask = np.ma.getmaskarray(ours)
    return np.ma.masked_array(np.where(mask, host.data, ours.data), mask=mask & np.ma.getmaskarray(host))
