"""Deterministic randomness: one ``random.Random`` per (seed, purpose, day, user, ...).

Every draw of the simulation comes from a generator derived from a hash of *what it is
for*, never from a shared stream. Two consequences:

* results do not depend on the order users are processed in (or on how many threads
  process them), nor on how many draws another user made;
* adding a new kind of draw (a new ``purpose``) leaves every existing draw unchanged.

No wall clock, no process-dependent ``hash()`` (which is salted per process): the key is
the ``repr`` of a tuple of ints, strings and dates, hashed with BLAKE2b.

Probabilities are integers per mille (``chance(r, 25)`` is 2.5 %), and amounts come from
integer distributions (:func:`pick_weighted`, :func:`jitter`): no float ever becomes money.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import random
from collections.abc import Mapping, Sequence
from typing import TypeVar

T = TypeVar("T")

Part = int | str | dt.date | None


def key_of(seed: int, *parts: Part) -> bytes:
    text = repr((seed, *[p.isoformat() if isinstance(p, dt.date) else p for p in parts]))
    return hashlib.blake2b(text.encode("utf-8"), digest_size=16).digest()


def derive(seed: int, *parts: Part) -> random.Random:
    """A generator for one purpose: ``derive(seed, "day", date, user_id)``."""
    return random.Random(int.from_bytes(key_of(seed, *parts), "big"))


def chance(r: random.Random, per_mille: int) -> bool:
    """True with probability ``per_mille`` / 1000 (integers only)."""
    if per_mille <= 0:
        return False
    if per_mille >= 1000:
        return True
    return r.randrange(1000) < per_mille


def pick_weighted(r: random.Random, choices: Sequence[tuple[T, int]]) -> T:
    """One of ``choices`` ((value, integer weight), ...), in proportion to the weights."""
    total = sum(w for _, w in choices)
    if total <= 0:
        raise ValueError("weights must add up to more than zero")
    x = r.randrange(total)
    for value, w in choices:
        if x < w:
            return value
        x -= w
    raise AssertionError("unreachable")  # pragma: no cover


def pick_keyed(r: random.Random, weights: Mapping[T, int]) -> T:
    """:func:`pick_weighted` over a mapping, in sorted key order (stable whatever the dict order)."""
    return pick_weighted(r, sorted(weights.items(), key=lambda kv: str(kv[0])))


def jitter(r: random.Random, amount: int, percent: int) -> int:
    """``amount`` ± up to ``percent`` % of it, in whole fen (uniform integer)."""
    spread = amount * percent // 100
    return amount + (r.randint(-spread, spread) if spread > 0 else 0)


def between(r: random.Random, bounds: tuple[int, int]) -> int:
    lo, hi = bounds
    return r.randint(lo, hi) if hi > lo else lo


def count_from_per_mille(r: random.Random, expected_per_mille: int) -> int:
    """A whole count whose expectation is ``expected_per_mille`` / 1000."""
    whole, frac = divmod(max(0, expected_per_mille), 1000)
    return whole + (1 if chance(r, frac) else 0)


def apportion(total: int, weights: Mapping[str, int]) -> dict[str, int]:
    """Split ``total`` into whole counts in proportion to ``weights`` (largest remainder,
    ties broken by name), so a population of N holds exactly N users."""
    names = sorted(k for k, w in weights.items() if w > 0)
    wsum = sum(weights[k] for k in names)
    if wsum <= 0:
        raise ValueError("the population mix needs at least one positive weight")
    base = {k: total * weights[k] // wsum for k in names}
    rest = total - sum(base.values())
    order = sorted(names, key=lambda k: (-(total * weights[k] % wsum), k))
    for k in order[:rest]:
        base[k] += 1
    return base
