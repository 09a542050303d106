"""Side by side on the same replayed clients: the shipped card, its credit-history dimension, the
worst-delay rule on the raw table, a logistic regression on the raw columns and a behavioural card
fitted on the book's own features — ROC AUC / KS for next-month default on held-out clients.

A program, not a test (``huabei replay taiwan --evaluate`` does the replay and this in one run)::

    .venv/bin/python bench/replay.py --clients 1500 --seed 7 --out replay.csv
    .venv/bin/python bench/score_taiwan.py replay.csv [--seed 42] [--test-size 0.3] [--card-out FILE]

The measurement is ``huabei.simulation.replay.evaluate``. Data: Yeh & Lien (2009), UCI dataset
350, CC BY 4.0.
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

import pandas as pd

from huabei.simulation import replay as rp


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("replay")
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--test-size", type=float, default=0.3)
    ap.add_argument("--card-out", default=None)
    a = ap.parse_args()
    out, card = rp.evaluate(pd.read_csv(a.replay), seed=a.seed, test_size=a.test_size)
    print("| model (held-out) | AUC | KS |\n| --- | --- | --- |")
    for k, auc in out["auc"].items():
        print(f"| {k} | {auc:.4f} | {out['ks'][k]:.4f} |")
    out["load_average"] = round(os.getloadavg()[0], 2)
    print(json.dumps({k: v for k, v in out.items() if k not in ("auc", "ks")}, indent=1, default=str))
    if a.card_out:
        import yaml

        Path(a.card_out).write_text(yaml.safe_dump(card.to_dict(), allow_unicode=True, sort_keys=False))


if __name__ == "__main__":
    main()
