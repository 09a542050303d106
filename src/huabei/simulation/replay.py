"""Real card holders replayed through the product: the Taiwan credit-default table (2005) as huabei
history, and the side-by-side measurement of scores on it.

``huabei replay taiwan`` (and ``bench/replay.py``) turn each client of the table (Yeh & Lien 2009,
UCI dataset 350, CC BY 4.0; README beside the file) into a user with a line, through the real
services, over six monthly cycles (April … September 2005 mapped onto 2025-04 … 2025-09; amounts
÷ 20, NT$ → yuan):

* the line opens at the client's limit (clamped to the product's 500 … 50,000 yuan);
* on the 2nd of each month the client spends what brings the product's own balance up to that
  month's statement amount (``BILL_AMT``; a decline, e.g. a frozen line, spends nothing);
* the statement of month *m* is repaid with the payment recorded the month after (``PAY_AMT``):
  in a month the bank recorded as current (status ≤ 0) on the 5th, at least what makes the line
  current under the product's rules (anything overdue plus the latest bill's minimum); in a month
  it recorded as late (status ≥ 1) only what was paid, on the 20th (after the due date on the
  10th), so the product's own overdue handling runs;
* the end-of-day job runs every day.

As of 2025-10-02 (the September statement issued) :func:`replay` returns, per client: the
behavioural features (``huabei.risk.features``, the same SQL as end of day), the shipped card's
score and dimensions, the raw table's columns and the label ``default_next_month``.
:func:`evaluate` compares, on the same held-out clients, the worst-delay rule on the raw table, a
logistic regression on the raw columns (no sex, marital status or age), the shipped card and its
credit-history dimension, and a behavioural card fitted on the training clients.
"""

from __future__ import annotations

import datetime as dt
import os
import tempfile
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from huabei.batch import eod
from huabei.billing import views as billing
from huabei.config import ProductTerms
from huabei.errors import HuabeiError
from huabei.lines import service as accounts
from huabei.lines.purchase_rules import Channel, PurchaseRequest
from huabei.onboarding import service as onboarding
from huabei.payments import service as payments
from huabei.platform import admin, migrate
from huabei.platform.db import make_engine
from huabei.platform.unit_of_work import ClockMode, Huabei
from huabei.risk import features
from huabei.scoring import collect, training
from huabei.scoring import service as scoring
from huabei.scoring.book_card import BOOK_CANDIDATES, BOOK_FACTS, RISK_TRENDS, BookBlock
from huabei.scoring.default_card import DEFAULT_SCORECARD
from huabei.scoring.dimensions import DIMENSIONS
from huabei.scoring.facts import BEHAVIOUR_FACT_SPECS
from huabei.scoring.scorecard import Bin, Feature, Scorecard
from huabei.scoring.stability import population_stability_index

#: Where the table is looked for when no file is given: ``HUABEI_TAIWAN_DATA``, else the shared copy.
DEFAULT_DATA = "/work/shared/data/taiwan-credit-default/clients-even-ids.csv"
START = dt.date(2025, 4, 2)
AS_OF = dt.date(2025, 10, 2)
#: months April … September: statement amount, then the payment of the next month and its status
BILL = ["BILL_AMT6", "BILL_AMT5", "BILL_AMT4", "BILL_AMT3", "BILL_AMT2", "BILL_AMT1"]
NEXT_PAY = ["PAY_AMT5", "PAY_AMT4", "PAY_AMT3", "PAY_AMT2", "PAY_AMT1", None]
NEXT_STATUS = ["PAY_5", "PAY_4", "PAY_3", "PAY_2", "PAY_0", None]
FEN_PER_NTD = 5  # NT$ ÷ 20 = yuan; × 100 = fen
FEATURES = sorted({*BEHAVIOUR_FACT_SPECS, "bills_due_6m", "worst_dpd_12m"})
TARGET = "default_next_month"
STATUS = ["PAY_0", "PAY_2", "PAY_3", "PAY_4", "PAY_5", "PAY_6"]
#: The raw columns a baseline may read: never sex, marital status or age.
RAW = ["LIMIT_BAL", "EDUCATION", *STATUS, *(f"BILL_AMT{i}" for i in range(1, 7)), *(f"PAY_AMT{i}" for i in range(1, 7))]
assert not set(RAW) & training.FORBIDDEN_COLUMNS


class ReplayError(ValueError):
    """The replay cannot run (the table or the database is not usable)."""


def data_path(given: str | Path | None = None) -> Path:
    return Path(given or os.environ.get("HUABEI_TAIWAN_DATA") or DEFAULT_DATA)


def sample(path: str | Path | None, clients: int, seed: int) -> pd.DataFrame:
    """``clients`` rows of the table drawn with ``seed`` (all of them when ``clients`` is larger), in file order."""
    p = data_path(path)
    try:
        table = pd.read_csv(p)
    except (OSError, ValueError) as e:
        raise ReplayError(f"{p}: {e}") from None
    missing = sorted({"ID", "LIMIT_BAL", TARGET, *BILL, *STATUS, *(c for c in NEXT_PAY if c)} - set(table.columns))
    if missing:
        raise ReplayError(f"{p}: not the Taiwan credit-default table (no column {', '.join(missing)})")
    rng = np.random.default_rng(seed)
    n = min(clients, len(table))
    return table.iloc[np.sort(rng.choice(len(table), size=n, replace=False))]


def open_system(db: str | None) -> Huabei:
    """A migrated, empty database: ``db`` (a URL) or a new SQLite file in a temporary directory."""
    url = db if db else f"sqlite:///{tempfile.mkdtemp(prefix='huabei-replay-')}/replay.db"
    engine = make_engine(url, pool_size=2)
    migrate.upgrade(url, engine=engine)
    system = Huabei(engine=engine, terms=ProductTerms(), clock_mode=ClockMode.SIMULATED)
    with system.uow(readonly=True) as uow:
        if _users(uow):
            system.engine.dispose()
            raise ReplayError(f"{url}: the database already holds users; a replay needs an empty one")
    admin.set_business_date(system, START, allow_backwards=True)
    return system


def _users(uow: Any) -> int:
    from sqlalchemy import func, select

    from huabei.platform import schema as s

    return int(uow.conn.execute(select(func.count()).select_from(s.users)).scalar_one())


def _to_be_current(status: dict[str, Any]) -> int:
    """What makes the line current: everything billed and unpaid (overdue bills with their interest
    and penalty), except the part of the latest bill above its minimum (``status``: the line's
    entry of ``billing.views.repayment_positions``)."""
    bill = status["latest_bill"]
    if bill is None:
        return 0
    above_minimum = max(bill["total_due"] - max(bill["minimum_due"], bill["paid"]), 0)
    return int(max(status["billed_unpaid"] - above_minimum, 0))


#: Purchases authorised in one transaction (``payments.authorise_purchases``).
PURCHASE_BATCH = 100


def _count(results: list[Any], refused: dict[str, int]) -> int:
    """The approved purchases of a batch; each refusal counted by its code (as one by one)."""
    n = 0
    for res in results:
        if isinstance(res, HuabeiError):
            refused[res.code] = refused.get(res.code, 0) + 1
        elif isinstance(res, Exception):
            raise res
        else:
            n += 1
    return n


def replay(system: Huabei, clients: pd.DataFrame, progress: Any = None) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Live ``clients`` through ``system`` (empty, at :data:`START`); the table with the features,
    the shipped card's score and dimensions, and what the run did (time, operations, refusals)."""
    terms = system.terms.limits
    t0 = time.perf_counter()
    acct: dict[int, int] = {}
    for r in clients.itertuples():
        uid = f"tw-{r.ID}"
        accounts.register_user(system, user_id=uid, name="客户", phone="13800000000", real_name_verified=True)
        limit = int(min(max(r.LIMIT_BAL * FEN_PER_NTD, terms.min_base_limit), terms.max_base_limit))
        acct[r.ID] = onboarding.open_account(system, user_id=uid, base_limit=limit)["account_id"]
    onboarded = time.perf_counter() - t0
    rows = list(clients.itertuples())
    day, n = START, 0
    refused: dict[str, int] = {}
    while day <= AS_OF:
        eod.run_eod(system, until=day)
        m = (day.year - START.year) * 12 + day.month - START.month  # month index 0 … 6
        if day.day == 2 and m < 6:
            book = billing.repayment_positions(system)  # every line's position, one set-based read
            buys = []
            for r in rows:
                a = acct[r.ID]
                spend = int(getattr(r, BILL[m])) * FEN_PER_NTD - book[a]["owed"]
                if spend > 0:
                    buys.append((PurchaseRequest(a, spend, "m-replay", "retail", Channel.ONLINE), f"buy-{a}-{m}"))
            for i in range(0, len(buys), PURCHASE_BATCH):
                n += _count(payments.authorise_purchases(system, buys[i : i + PURCHASE_BATCH]), refused)
        if day.day in (5, 20) and 1 <= m <= 6:
            k = m - 1  # the statement of month k is repaid in month m
            pay_col, status_col = NEXT_PAY[k], NEXT_STATUS[k]
            if pay_col is not None and status_col is not None:
                book = billing.repayment_positions(system)
                for r in rows:
                    late = int(getattr(r, status_col)) >= 1
                    if (day.day == 20) != late:
                        continue
                    a = acct[r.ID]
                    paid = int(getattr(r, pay_col)) * FEN_PER_NTD
                    status = book[a]
                    amount = paid if late else max(paid, _to_be_current(status))
                    amount = min(amount, status["owed"])
                    if amount > 0:
                        try:
                            payments.repay(system, a, amount, f"pay-{a}-{k}")
                            n += 1
                        except HuabeiError as e:
                            refused[e.code] = refused.get(e.code, 0) + 1
        if progress is not None:
            progress(day)
        day += dt.timedelta(days=1)
    elapsed = time.perf_counter() - t0

    ids = [acct[r.ID] for r in rows]
    with system.engine.connect() as conn:
        values = features.compute(conn, FEATURES, AS_OF, ids)
    with system.uow(readonly=True) as uow:
        pop = collect.collect_facts(uow, as_of=AS_OF)
    out = scoring.score_population(pop, DEFAULT_SCORECARD)
    _, app_dims = part_of(DEFAULT_SCORECARD, application=True).score_batch(pop.columns)
    by_user = {u: i for i, u in enumerate(pop.user_ids.tolist())}
    records = []
    for r in rows:
        v = dict(values[acct[r.ID]])
        i = by_user[f"tw-{r.ID}"]
        for name in BOOK_FACTS:  # the repayment record and utilisation as the card reads them (NaN: unknown)
            col = pop.columns[name]
            v[name] = np.nan if np.ma.getmaskarray(col)[i] else int(col[i])
        v["shipped_score"] = int(out.scores[i])
        for d in DIMENSIONS:
            v[f"shipped_{d}"] = int(out.dims[d][i])
            v[f"application_{d}"] = int(app_dims[d][i])  # points of the application-time features
        records.append(v)
    feats = pd.DataFrame.from_records(records)
    run = {
        "clients": len(rows),
        "seconds": round(elapsed, 1),
        "onboarding_seconds": round(onboarded, 1),
        "ms_per_client": round(elapsed / max(len(rows), 1) * 1000, 1),
        "operations": n,
        "refused": dict(sorted(refused.items())),
    }
    return pd.concat([clients.reset_index(drop=True), feats], axis=1), run


def evaluate(df: pd.DataFrame, seed: int = 42, test_size: float = 0.3) -> tuple[dict[str, Any], Any]:
    """ROC AUC / KS for next-month default on the same held-out clients (stratified ``test_size``,
    ``seed``) of: the worst-delay rule and a logistic regression on the raw table, the shipped card
    and its credit-history dimension, and a behavioural card fitted (optbinning + scikit-learn) on the
    training clients — with each fitted dimension alone, the PSI training → held out and the bad
    rate by band. Returns the figures and the fitted card."""
    from sklearn.model_selection import train_test_split

    train, test = train_test_split(df, test_size=test_size, stratify=df[TARGET], random_state=seed)
    y_test = test[TARGET].to_numpy()
    beh_train = training.behaviour_frame(train).assign(**{TARGET: train[TARGET].to_numpy()})
    beh_test = training.behaviour_frame(test).assign(**{TARGET: y_test})
    card = training.fit_scorecard(beh_train, TARGET, seed=seed, min_iv=0.02)
    dims = training.dimension_metrics(card, beh_test, TARGET)
    s_train = training.score_frame(card, beh_train)
    s_test = training.score_frame(card, beh_test)
    rows = {
        "worst-delay rule (raw table)": training.worst_delay_metrics(test, TARGET, STATUS),
        "logistic regression (raw columns, no sex/age/marriage)": training.plain_logistic_metrics(
            train[[*RAW, TARGET]], test[[*RAW, TARGET]], TARGET
        ),
        "shipped card (replayed facts)": training.ranking_metrics(
            y_test, -test["shipped_score"].to_numpy(dtype=np.float64)
        ),
        "shipped card: credit-history dimension alone": training.ranking_metrics(
            y_test, -test["shipped_credit_history"].to_numpy(dtype=np.float64)
        ),
        "fitted behavioural card": training.evaluate(card, beh_test, TARGET),
    }
    rows.update({f"fitted card: {d} alone": m for d, m in dims.items()})
    out = {
        "clients": len(df),
        "held_out": len(test),
        "bad_rate": round(float(df[TARGET].mean()), 4),
        "auc": {k: round(m.auc, 4) for k, m in rows.items()},
        "ks": {k: round(m.ks, 4) for k, m in rows.items()},
        "psi_train_vs_held_out": round(float(population_stability_index(s_train, s_test)), 4),
        "calibration_held_out": training.calibration_by_band(s_test, y_test),
        "card_features": [[f.name, f.dimension] for f in card.features],
    }
    return out, card


# ---------------------------------------------------------------------------------------
# The shipped card: fitted on one part of the replayed clients, measured on the other
# ---------------------------------------------------------------------------------------


def split_by_id(df: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Training clients (ID ≡ 2 mod 4) and held-out clients (ID ≡ 0 mod 4) of the even-ID half: a
    fixed split anyone can redo (the odd-ID half of the table is kept apart by its owners)."""
    return df[df["ID"] % 4 == 2].reset_index(drop=True), df[df["ID"] % 4 == 0].reset_index(drop=True)


def book_table(df: pd.DataFrame) -> pd.DataFrame:
    """The facts a card reads from a replayed table: the repayment record as collected (NaN:
    unknown) and the behavioural facts as rescoring reads them (:func:`training.behaviour_frame`)."""
    out = training.behaviour_frame(df)
    for name in BOOK_FACTS:
        out[name] = df[name].astype("float64")
    return out


def fit_block(train: pd.DataFrame, seed: int = 42, min_iv: float = 0.02) -> BookBlock:
    """The repayment-behaviour block fitted on ``train`` (optbinning + scikit-learn; missing bins
    neutral), with where it comes from."""
    frame = book_table(train).assign(**{TARGET: train[TARGET].to_numpy()})
    names = [n for n in BOOK_CANDIDATES if n in frame.columns]
    card = training.fit_scorecard(
        frame, TARGET, names, seed=seed, min_iv=min_iv, neutral_missing=True, trends=RISK_TRENDS
    )
    kept = [f for f in card.features if f.spread > 0]  # a feature whose points all round to 0 scores nothing
    # a repayment-record fact the regression left out (no weight beside the others) but whose bins
    # rank the right way on the book keeps the book's bins and its hand-set weight: the product's
    # rule (overspending lowers the score) with the cut points the data show
    hand_weighted = []
    for name in BOOK_FACTS:
        if name not in {f.name for f in kept}:
            f = training.binned_feature(frame, TARGET, name, RISK_TRENDS[name], min_iv)
            if f is not None:
                kept.append(f)
                hand_weighted.append(name)
    kept = [_within_a_year(f) if f.name == "months_since_overdue" else f for f in kept]
    card = replace(card, features=tuple(kept), version="book")
    card = replace(card, version="book-" + card.fingerprint()[:12])
    fitted_on = {
        "data": "Taiwan credit-default table (Yeh & Lien 2009, UCI 350, CC BY 4.0), even-ID half",
        "clients": "ID ≡ 2 (mod 4), replayed through the product (huabei.simulation.replay)",
        "training_clients": len(train),
        "bad_rate": round(float(train[TARGET].mean()), 4),
        "seed": seed,
        "min_iv": min_iv,
        "candidates": names,
        "trends": "huabei.scoring.book_card.RISK_TRENDS",
        "hand_weighted": hand_weighted,
    }
    return BookBlock(card=card, fitted_on=fitted_on)


def part_of(card: Scorecard, application: bool) -> Scorecard:
    """The application-time features of ``card`` (``application``), or its repayment-behaviour
    features, as a card of their own: intercept 0, unclipped."""
    keep = tuple(f for f in card.features if (f.name not in BOOK_CANDIDATES) == application)
    return Scorecard(features=keep, version="part", intercept=0, min_score=-(10**9), max_score=10**9)


def product_scores(card: Scorecard, df: pd.DataFrame) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """``card``'s scores and dimension points of replayed clients as the product computes them: the
    application-time points their product facts earned (``application_<dimension>``, written by
    :func:`replay`) plus the repayment-behaviour features on the replayed facts."""
    _, dims = part_of(card, application=False).score_batch(training.frame_columns(card, book_table(df)))
    dims = {d: dims[d] + df[f"application_{d}"].to_numpy(dtype=np.int64) for d in DIMENSIONS}
    total = card.intercept + sum(dims.values())
    return np.clip(total, card.min_score, card.max_score), dims


def _within_a_year(f: Feature) -> Feature:
    """``months_since_overdue``'s last cut at 12 months when the book put it later: its reason says
    "an overdue repayment in the last 12 months", so an overdue longer ago earns the best bin (a
    six-month book has no client between its oldest overdue and "never", so the fit is the same)."""
    cuts = [b.lo for b in f.bins if b.kind == "interval" and b.lo is not None]
    if not cuts or cuts[-1] <= 12 or (len(cuts) > 1 and cuts[-2] >= 12):
        return f
    cuts[-1] = 12
    edges: list[int | None] = [None, *cuts, None]
    bins = [Bin.interval(edges[k], edges[k + 1]) for k in range(len(edges) - 1)]
    return replace(f, bins=(*bins, *(b for b in f.bins if b.kind != "interval")))


def compare(train: pd.DataFrame, test: pd.DataFrame, block: BookBlock) -> dict[str, Any]:
    """On the same held-out clients, one run: the worst-delay rule and a logistic regression on the
    raw table (fitted on ``train``, no sex, age or marriage), the hand-set card, the default card
    built with ``block`` and each of its dimensions (AUC / KS for next-month default)."""
    from huabei.scoring.default_card import default_scorecard

    shipped = default_scorecard(block=block)
    hand = default_scorecard(block=None)
    y = test[TARGET].to_numpy()
    s_test, dims = product_scores(shipped, test)
    s_hand, _ = product_scores(hand, test)
    rows = {
        "worst-delay rule (raw table)": training.worst_delay_metrics(test, TARGET, STATUS),
        "logistic regression (raw columns, no sex/age/marriage)": training.plain_logistic_metrics(
            train[[*RAW, TARGET]], test[[*RAW, TARGET]], TARGET
        ),
        "hand-set card (before)": training.ranking_metrics(y, -s_hand.astype(np.float64)),
        "default card (fitted block)": training.ranking_metrics(y, -s_test.astype(np.float64)),
    }
    for d in DIMENSIONS:
        if np.ptp(dims[d]) > 0:  # a dimension constant on these clients ranks nobody
            rows[f"default card: {d} alone"] = training.ranking_metrics(y, -dims[d].astype(np.float64))
    s_train, _ = product_scores(shipped, train)
    return {
        "training_clients": len(train),
        "held_out_clients": len(test),
        "held_out_bad_rate": round(float(y.mean()), 4),
        "auc": {k: round(m.auc, 4) for k, m in rows.items()},
        "ks": {k: round(m.ks, 4) for k, m in rows.items()},
        "psi_train_vs_held_out": round(float(population_stability_index(s_train, s_test)), 4),
        "calibration_held_out": training.calibration_by_band(s_test, y),
        "card_version": shipped.version,
        "block_features": [[f.name, f.dimension, f.spread] for f in block.card.features],
    }
