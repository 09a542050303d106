"""Fit the shipped card's repayment-behaviour block on replayed card holders and measure it, side by
side with the worst-delay rule and a logistic regression on the raw table, on the same held-out
clients in one run.

A program, not a test::

    .venv/bin/python bench/replay.py --clients 15000 --out replay.csv      # or huabei replay taiwan
    .venv/bin/python bench/ship_card.py replay.csv [--write]

Training clients: ID ≡ 2 (mod 4); held out: ID ≡ 0 (mod 4) (``huabei.simulation.replay.split_by_id``).
``--write`` replaces ``src/huabei/scoring/cards/book-behaviour.yaml`` (the block the default card
ships with; docs/scoring.md). Data: Yeh & Lien (2009), UCI dataset 350, CC BY 4.0.
"""

from __future__ import annotations

import argparse
import json
import os
import time

import pandas as pd

from huabei.scoring.book_card import BOOK_CARD_FILE
from huabei.simulation import replay as rp


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("replay")
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--write", action="store_true", help=f"write the block to {BOOK_CARD_FILE}")
    a = ap.parse_args()
    t0 = time.perf_counter()
    df = pd.read_csv(a.replay)
    train, test = rp.split_by_id(df)
    block = rp.fit_block(train, seed=a.seed)
    block.fitted_on["replayed_clients"] = len(df)
    out = rp.compare(train, test, block)
    out["seconds"] = round(time.perf_counter() - t0, 1)
    out["load_average"] = [round(x, 2) for x in os.getloadavg()]
    print("| model, held-out clients | AUC | KS |\n| --- | --- | --- |")
    for k, auc in out["auc"].items():
        print(f"| {k} | {auc:.3f} | {out['ks'][k]:.3f} |")
    print(json.dumps({k: v for k, v in out.items() if k not in ("auc", "ks")}, indent=1, default=str))
    if a.write:
        block.fitted_on["held_out"] = {
            "clients": "ID ≡ 0 (mod 4), replayed the same way",
            "n": out["held_out_clients"],
            "auc": out["auc"],
        }
        BOOK_CARD_FILE.parent.mkdir(exist_ok=True)
        BOOK_CARD_FILE.write_text(block.to_yaml(), encoding="utf-8")
        print(f"wrote {BOOK_CARD_FILE}")


if __name__ == "__main__":
    main()
