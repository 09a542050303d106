"""Replay real card holders through the product: the Taiwan credit-default table (2005) as Huabei history.

A program, not a test (the same as ``huabei replay taiwan``; the replay itself is
``huabei.simulation.replay``)::

    .venv/bin/python bench/replay.py [--clients 1000] [--seed 7] [--data FILE] [--db URL] [--out FILE]

Writes, per client, the behavioural features as of 2025-10-02, the shipped card's score and
dimensions, the raw table's columns and the label ``default_next_month``; prints the replay time
and the load average (the machine is shared). Data: Yeh & Lien (2009), UCI dataset 350, CC BY 4.0.
"""

from __future__ import annotations

import argparse
import json
import os

from huabei.simulation import replay as rp


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--clients", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--data", default=None)
    ap.add_argument("--db", default=None, help="an empty database URL (default: a new SQLite file)")
    ap.add_argument("--out", default="replay.csv")
    a = ap.parse_args()
    clients = rp.sample(a.data, a.clients, a.seed)
    system = rp.open_system(a.db)
    load0 = os.getloadavg()[0]
    try:
        df, run = rp.replay(system, clients)
    finally:
        system.engine.dispose()
    df.to_csv(a.out, index=False)
    print(json.dumps(run))
    print(
        f"replayed {run['clients']} clients in {run['seconds']} s ({run['ms_per_client']} ms a client); "
        f"load average {load0:.2f} -> {os.getloadavg()[0]:.2f}; wrote {a.out}"
    )


if __name__ == "__main__":
    main()
