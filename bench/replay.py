"""Replay real card holders through the product: the Taiwan credit-default table (2005) as Huabei history.

A program, not a test::

    .venv/bin/python bench/replay.py [--clients 1000] [--seed 7] [--data FILE] [--db sqlite|URL] [--out FILE]

Each client of ``/work/shared/data/taiwan-credit-default/clients-even-ids.csv`` (CC BY 4.0: Yeh &
Lien 2009, UCI dataset 350; see the README there) becomes a user with a line through the real
services, over six monthly cycles (April … September 2005 mapped onto 2025-04 … 2025-09; amounts
÷ 20, NT$ → yuan):

* the line opens at the client's limit (clamped to the product's 500 … 50,000 yuan);
* on the 2nd of each month the client spends what brings the product's own balance up to that
  month's statement amount (``BILL_AMT``; a decline, e.g. a frozen line, spends nothing);
* the statement of month *m* is repaid with the payment recorded the month after (``PAY_AMT``):
  in a month the bank recorded as current (status ≤ 0) on the 5th, at least what makes the line
  current under the product's rules (anything overdue plus the latest bill's minimum);
  in a month it recorded as late (status ≥ 1) only what was paid, on the 20th (after the due date
  on the 10th), so the product's own overdue handling runs;
* the end-of-day job runs every day.

As of 2025-10-02 (the September statement issued) it writes, per client: the behavioural features
(``huabei.risk.features``, the same SQL as end of day), the shipped card's score and dimensions
(rescoring's facts), the raw table's columns and the label ``default_next_month``. Repeatable from
``--seed`` (which clients). Prints the replay time and the load average (the machine is shared).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from huabei.batch import eod
from huabei.billing.views import billing_status
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
from huabei.scoring import collect
from huabei.scoring import service as scoring
from huabei.scoring.default_card import DEFAULT_SCORECARD
from huabei.scoring.dimensions import DIMENSIONS
from huabei.scoring.facts import BEHAVIOUR_FACT_SPECS

DATA = Path("/work/shared/data/taiwan-credit-default/clients-even-ids.csv")
START = dt.date(2025, 4, 2)
AS_OF = dt.date(2025, 10, 2)
#: months April … September: statement amount, then the payment of the next month and its status
BILL = ["BILL_AMT6", "BILL_AMT5", "BILL_AMT4", "BILL_AMT3", "BILL_AMT2", "BILL_AMT1"]
NEXT_PAY = ["PAY_AMT5", "PAY_AMT4", "PAY_AMT3", "PAY_AMT2", "PAY_AMT1", None]
NEXT_STATUS = ["PAY_5", "PAY_4", "PAY_3", "PAY_2", "PAY_0", None]
FEN_PER_NTD = 5  # NT$ ÷ 20 = yuan; × 100 = fen
FEATURES = sorted({*BEHAVIOUR_FACT_SPECS, "bills_due_6m", "worst_dpd_12m"})


def _system(db: str) -> tuple[Huabei, str]:
    url = db if "://" in db else f"sqlite:///{tempfile.mkdtemp(prefix='huabei-replay-')}/replay.db"
    engine = make_engine(url, pool_size=2)
    migrate.upgrade(url, engine=engine)
    system = Huabei(engine=engine, terms=ProductTerms(), clock_mode=ClockMode.SIMULATED)
    admin.set_business_date(system, START, allow_backwards=True)
    return system, url


def _to_be_current(system: Huabei, account_id: int, billed_unpaid: int) -> int:
    """What makes the line current: everything billed and unpaid (overdue bills with their interest
    and penalty), except the part of the latest bill above its minimum."""
    from sqlalchemy import select

    from huabei.platform import schema as s

    b = s.bills.c
    with system.engine.connect() as c:
        row = c.execute(
            select(b.total_due, b.minimum_due, b.paid)
            .where(b.account_id == account_id)
            .order_by(b.bill_id.desc())
            .limit(1)
        ).first()
    if row is None:
        return 0
    above_minimum = max(row.total_due - max(row.minimum_due, row.paid), 0)
    return max(billed_unpaid - above_minimum, 0)


def replay(clients: pd.DataFrame, db: str = "sqlite") -> tuple[pd.DataFrame, float]:
    system, _ = _system(db)
    terms = system.terms.limits
    t0 = time.perf_counter()
    acct: dict[int, int] = {}
    for r in clients.itertuples():
        uid = f"tw-{r.ID}"
        accounts.register_user(system, user_id=uid, name="客户", phone="13800000000", real_name_verified=True)
        limit = int(min(max(r.LIMIT_BAL * FEN_PER_NTD, terms.min_base_limit), terms.max_base_limit))
        acct[r.ID] = onboarding.open_account(system, user_id=uid, base_limit=limit)["account_id"]
    rows = list(clients.itertuples())
    day, n = START, 0
    refused: dict[str, int] = {}
    while day <= AS_OF:
        eod.run_eod(system, until=day)
        m = (day.year - START.year) * 12 + day.month - START.month  # month index 0 … 6
        if day.day == 2 and m < 6:
            for r in rows:
                a = acct[r.ID]
                owed = billing_status(system, a)["owed"]
                spend = int(getattr(r, BILL[m])) * FEN_PER_NTD - owed
                if spend > 0:
                    try:
                        req = PurchaseRequest(a, spend, "m-replay", "retail", Channel.ONLINE)
                        payments.authorise_purchase(system, req, f"buy-{a}-{m}")
                        n += 1
                    except HuabeiError as e:
                        refused[e.code] = refused.get(e.code, 0) + 1
        if day.day in (5, 20) and 1 <= m <= 6:
            k = m - 1  # the statement of month k is repaid in month m
            if NEXT_PAY[k] is not None:
                for r in rows:
                    late = int(getattr(r, NEXT_STATUS[k])) >= 1
                    if (day.day == 20) != late:
                        continue
                    a = acct[r.ID]
                    paid = int(getattr(r, NEXT_PAY[k])) * FEN_PER_NTD
                    status = billing_status(system, a)
                    amount = paid if late else max(paid, _to_be_current(system, a, status["billed_unpaid"]))
                    amount = min(amount, status["owed"])
                    if amount > 0:
                        try:
                            payments.repay(system, a, amount, f"pay-{a}-{k}")
                            n += 1
                        except HuabeiError as e:
                            refused[e.code] = refused.get(e.code, 0) + 1
        day += dt.timedelta(days=1)
    elapsed = time.perf_counter() - t0
    print(f"{n} purchases and repayments; refused: {refused}")

    ids = [acct[r.ID] for r in rows]
    with system.engine.connect() as conn:
        values = features.compute(conn, FEATURES, AS_OF, ids)
    with system.uow(readonly=True) as uow:
        pop = collect.collect_facts(uow, as_of=AS_OF)
    out = scoring.score_population(pop, DEFAULT_SCORECARD)
    by_user = {u: i for i, u in enumerate(pop.user_ids.tolist())}
    records = []
    for r in rows:
        v = dict(values[acct[r.ID]])
        i = by_user[f"tw-{r.ID}"]
        v["shipped_score"] = int(out.scores[i])
        for d in DIMENSIONS:
            v[f"shipped_{d}"] = int(out.dims[d][i])
        records.append(v)
    feats = pd.DataFrame.from_records(records)
    system.engine.dispose()
    return pd.concat([clients.reset_index(drop=True), feats], axis=1), elapsed


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--clients", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--data", default=str(DATA))
    ap.add_argument("--db", default="sqlite")
    ap.add_argument("--out", default="replay.csv")
    a = ap.parse_args()
    table = pd.read_csv(a.data)
    rng = np.random.default_rng(a.seed)
    n = min(a.clients, len(table))
    clients = table.iloc[np.sort(rng.choice(len(table), size=n, replace=False))]
    load0 = os.getloadavg()[0]
    df, elapsed = replay(clients, a.db)
    df.to_csv(a.out, index=False)
    print(
        f"replayed {n} clients in {elapsed:.1f} s ({elapsed / n * 1000:.1f} ms a client); "
        f"load average {load0:.2f} -> {os.getloadavg()[0]:.2f}; wrote {a.out}"
    )


if __name__ == "__main__":
    main()
