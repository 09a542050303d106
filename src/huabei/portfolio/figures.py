"""The risk dashboard's figures as pure rules: a line's status, a score's band, and the figures of
the whole book folded from per-line and per-user rows.

The dashboard reads them with aggregate SQL (:func:`huabei.portfolio.queries.figures`, one
``GROUP BY`` per figure); the batch engines fold them from a snapshot partitioned by user
(``huabei batch run portfolio``) with these functions. Both say the same:
tests/storage/test_batch_portfolio.py compares them on the same book.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from itertools import pairwise
from typing import Any

#: The score bands of the dashboard: [350, 550), [550, 600) … [800, 950).
SCORE_BANDS = (350, 550, 600, 650, 700, 750, 800, 950)
FROZEN_PREFIX = "account_frozen"
OVERDUE_BLOCK = "account_overdue"


def line_status(closed: bool, block_code: str | None) -> str:
    """``closed``, else ``frozen`` (any freeze), else ``overdue`` (blocked for an overdue bill),
    else ``active``."""
    if closed:
        return "closed"
    if block_code is not None and block_code.startswith(FROZEN_PREFIX):
        return "frozen"
    if block_code == OVERDUE_BLOCK:
        return "overdue"
    return "active"


def score_band(score: int) -> int:
    """The lower bound of the band the score falls in (scores from 800 up are in the last band)."""
    return next((lo for lo, hi in pairwise(SCORE_BANDS) if score < hi), SCORE_BANDS[-2])


def fold(lines: Iterable[Mapping[str, Any]], bands: Iterable[int]) -> dict[str, Any]:
    """The figures of the book from each line's row (``status``, ``open``, ``base_limit``,
    ``used``, ``bucket`` — None without a delinquency record —, ``causes``: its active
    restrictions' causes) and each user's latest score band."""
    by_status: dict[str, int] = {}
    buckets: dict[str, list[int]] = {}
    causes: dict[str, int] = {}
    n = limits = used = 0
    for line in lines:
        by_status[line["status"]] = by_status.get(line["status"], 0) + 1
        if line["open"]:
            n += 1
            limits += int(line["base_limit"])
            used += int(line["used"])
        if line["bucket"] is not None:
            b = buckets.setdefault(line["bucket"], [0, 0])
            b[0] += 1
            b[1] += int(line["used"])
        for cause in line["causes"]:
            causes[cause] = causes.get(cause, 0) + 1
    per_band: dict[int, int] = {}
    for band in bands:
        per_band[band] = per_band.get(band, 0) + 1
    overdue_lines = sum(c for b, (c, _) in buckets.items() if b != "current")
    return {
        "lines": n,
        "by_status": dict(sorted(by_status.items())),
        "base_limits": limits,
        "used": used,
        "utilisation": (used / limits) if limits else 0.0,
        "buckets": {b: {"lines": c, "used": u} for b, (c, u) in sorted(buckets.items())},
        "overdue_rate": (overdue_lines / n) if n else 0.0,
        "overdue_amount": sum(u for b, (_, u) in buckets.items() if b != "current"),
        "restrictions_by_cause": dict(sorted(causes.items())),
        "score_bands": {f"{lo}-{hi - 1}": per_band.get(lo, 0) for lo, hi in pairwise(SCORE_BANDS)},
    }
