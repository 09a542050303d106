"""Rate limits: a sliding-window counter per (what, who), in memory. Pure: the clock is injected.

Limits are per process (one uvicorn worker holds its own counters); with several workers each
enforces the limit, so the installation admits at most workers x limit. The durable locks (a
payment password locked for 24 hours after five wrong tries) are business state and live with
their capability; this is only the burst guard in front of them.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Rule:
    limit: int  # requests allowed per window; 0 = unlimited
    window_seconds: int


class RateLimited(Exception):
    def __init__(self, what: str, retry_after: int):
        super().__init__(what)
        self.what = what
        self.retry_after = retry_after


class Limiter:
    """``hit(what, who)`` counts one attempt and raises :class:`RateLimited` when over the rule."""

    def __init__(
        self, rules: dict[str, Rule], clock: Callable[[], float] = time.monotonic, max_subjects: int = 100_000
    ):
        self.rules = dict(rules)
        self.clock = clock
        self.max_subjects = max_subjects
        self._hits: dict[tuple[str, str], deque[float]] = {}
        self._lock = threading.Lock()

    def hit(self, what: str, who: str, rule: Rule | None = None) -> None:
        rule = rule or self.rules[what]
        if rule.limit <= 0:
            return
        now = self.clock()
        with self._lock:
            q = self._hits.get((what, who))
            if q is None:
                if len(self._hits) >= self.max_subjects:
                    self._sweep(now)
                q = self._hits[(what, who)] = deque()
            while q and q[0] <= now - rule.window_seconds:
                q.popleft()
            if len(q) >= rule.limit:
                raise RateLimited(what, max(1, math.ceil(q[0] + rule.window_seconds - now)))
            q.append(now)

    def reset(self, what: str, who: str) -> None:
        with self._lock:
            self._hits.pop((what, who), None)

    def _sweep(self, now: float) -> None:
        longest = max((r.window_seconds for r in self.rules.values()), default=0)
        for k in [k for k, q in self._hits.items() if not q or q[-1] <= now - longest]:
            del self._hits[k]
