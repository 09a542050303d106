"""Features are defined once: for random books lived through the services, every feature of one
account computed alone equals its value in the all-accounts run, on any date, on both databases;
and the values mean what the catalogue says."""

from __future__ import annotations

import contextlib
import datetime as dt
import random

from sqlalchemy import update
from tests.conftest import START_DATE, buy, new_account

from huabei.batch.eod import run_eod
from huabei.errors import HuabeiError
from huabei.payments import service as payments
from huabei.platform import schema as s
from huabei.risk import features
from huabei.risk.catalog import FEATURES

ALL = sorted(FEATURES)


def _live_a_book(system, rng: random.Random, accounts: int, days: int) -> list[int]:
    ids = [new_account(system, base_limit=rng.choice([100_000, 300_000])) for _ in range(accounts)]
    payers = {a: rng.random() < 0.5 for a in ids}
    purchase_ids: list[int] = []
    for i in range(days):
        day = START_DATE + dt.timedelta(days=i)
        run_eod(system, until=day)
        for a in ids:
            if rng.random() < 0.4:
                amount = rng.choice([10_000, 20_000, 500, 800, rng.randint(100, 30_000)])
                try:
                    out = buy(
                        system,
                        a,
                        amount,
                        merchant=rng.choice(["m-1", "m-2"]),
                        category=rng.choice(["retail", "dining", "travel"]),
                    )
                    purchase_ids.append(out.body["purchase_id"])
                    with system.engine.begin() as c:
                        c.execute(
                            update(s.purchases)
                            .where(s.purchases.c.purchase_id == out.body["purchase_id"])
                            .values(device_id=rng.choice(["d1", "d2", "d3", None]))
                        )
                except HuabeiError:
                    pass
            if purchase_ids and rng.random() < 0.1:
                with contextlib.suppress(HuabeiError):
                    payments.refund_purchase(system, rng.choice(purchase_ids), 100, f"rf-{a}-{i}")
            if payers[a] and day.day == 9:
                with contextlib.suppress(HuabeiError):
                    payments.repay(system, a, 5_000, f"rp-{a}-{i}")
    return ids


def test_one_account_and_all_accounts_agree_on_random_books(system) -> None:
    rng = random.Random(20261128)
    ids = _live_a_book(system, rng, accounts=6, days=50)
    end = START_DATE + dt.timedelta(days=49)
    seen_nonzero: set[str] = set()
    with system.engine.connect() as conn:
        for day in (START_DATE + dt.timedelta(days=12), START_DATE + dt.timedelta(days=31), end):
            everyone = features.compute(conn, ALL, day)
            assert sorted(everyone) == ids
            for a in rng.sample(ids, 3):
                alone = features.compute(conn, ALL, day, [a])
                assert alone == {a: everyone[a]}, (day, a)
            for row in everyone.values():
                seen_nonzero |= {n for n, v in row.items() if v not in (0, False, FEATURES[n].default)}
    # the random book exercised the purchase, overdue and device features (not a vacuous test)
    assert {"dpd_now", "worst_dpd_12m", "round_purchases_one_merchant_30d", "distinct_devices_30d", "score"} <= (
        seen_nonzero | {"score"}
    )
    assert "dpd_now" in seen_nonzero and "tiny_purchase_categories_7d" in seen_nonzero


def test_values_mean_what_the_catalogue_says(system) -> None:
    a = new_account(system, base_limit=300_000)
    b = new_account(system, base_limit=300_000)
    for _i in range(5):
        buy(system, a, 10_000, merchant="m-round")  # whole hundreds at one merchant
    buy(system, a, 12_345, merchant="m-round")
    buy(system, b, 500, category="retail")
    buy(system, b, 600, category="dining")
    with system.engine.connect() as conn:
        v = features.compute(conn, ALL, START_DATE)
        ids = features.evidence(conn, "round_purchases_one_merchant_30d", START_DATE, [a])
    assert v[a]["round_purchases_one_merchant_30d"] == 5 and v[b]["round_purchases_one_merchant_30d"] == 0
    assert len(ids[a]) == 5
    assert v[b]["tiny_purchase_categories_7d"] == 2
    assert v[a]["days_since_last_purchase"] == 0 and v[a]["account_age_days"] == 0
    assert v[a]["dpd_now"] == 0 and v[a]["days_since_overdue_cleared"] == FEATURES["days_since_overdue_cleared"].default
    # as of a later date nothing new happened: the windows move, the past stays
    later = START_DATE + dt.timedelta(days=45)  # the November bill is due on 12-10
    run_eod(system, until=later)
    with system.engine.connect() as conn:
        v = features.compute(conn, ALL, later)
        before = features.compute(conn, ALL, START_DATE)
    assert v[a]["round_purchases_one_merchant_30d"] == 0 and v[a]["days_since_last_purchase"] == 45
    assert before[a]["round_purchases_one_merchant_30d"] == 5  # point in time: the past is unchanged
    assert v[a]["dpd_now"] == (later - dt.date(2026, 12, 10)).days  # the November bill was never repaid
    assert v[a]["worst_dpd_12m"] == v[a]["dpd_now"]
