"""Group commit for purchases (TigerBeetle-style batching, in-process).

Concurrent ``authorise_purchase`` calls of one process join a queue; one of them, the
*leader*, takes what is queued (up to ``operations.group_commit_max_batch``) and decides it in
one transaction (``payments.service.authorise_purchases``: the lines locked first in account
order, each purchase in its own savepoint under its own idempotency key, one commit). Every
caller then gets its own answer, exactly the one it would have got alone:

* **a lone purchase closes at once**: the leader waits only while other purchases are still
  *arriving* (inside ``authorise_purchase``, checking their password, not queued yet) or a batch
  of several was answered less than ``operations.group_commit_max_wait_ms`` ago (its callers
  come back with their next purchase: without the wait, every batch of several was followed by
  a batch of one), and then at most that long; on an idle system neither holds. A batch of one
  runs the single purchase's own transaction (``run_idempotent``), statement for statement;
* **per-line order as if serial**: purchases of one line in one batch are decided in the
  order they were queued; batches running at once (``operations.group_commit_batches``) lock
  their lines in account order, so they queue on a shared line and never deadlock;
* **one failing request never fails the others**: a refusal or a failure rolls back its own
  savepoint only; if the batch's transaction itself fails (its commit, a lost connection), no
  one's purchase was committed and every caller of that batch retries alone, in its own
  transaction, under its own key;
* **nothing is acknowledged before its commit**: a caller returns only after the batch's
  commit; a crash before it loses only purchases nobody was told about.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from huabei.platform import request_audit
from huabei.platform.idempotency import Result


@dataclass(eq=False)
class Pending:
    """One caller's purchase in the queue, and its answer once decided."""

    item: Any
    result: Result | None = None
    done: bool = False
    alone: bool = False  #: the batch failed as a whole: decide it alone
    #: the caller's HTTP request, if any: its audit row is written in the batch's transaction
    audit: request_audit.RequestAudit | None = None


class GroupCommit:
    """The queue and its leaders. ``run_batch(items)`` decides a batch (one answer per item, in
    order) and ``run_one(item)`` a single item in its own transaction (raising its error)."""

    def __init__(
        self,
        run_batch: Callable[[Sequence[Any]], list[Result]],
        run_one: Callable[[Any], Any],
        *,
        max_batch: int,
        max_wait_seconds: float,
        batches: int,
    ):
        self._run_batch = run_batch
        self._run_one = run_one
        self.max_batch = max_batch
        self.max_wait = max_wait_seconds
        self.slots = batches
        self._cv = threading.Condition()
        self._queue: deque[Pending] = deque()
        self._arriving = 0
        self._leaders = 0
        #: batches decided and purchases in them (for the benchmark and the tests)
        self.batches = 0
        self.decided = 0
        #: when the last batch of several was answered (-inf: the last one ran alone)
        self._last_batch_end = -math.inf

    def arrive(self) -> None:
        """A purchase is on its way (its caller is preparing it): a leader may wait for it."""
        with self._cv:
            self._arriving += 1

    def leave(self) -> None:
        """An arriving purchase will not be queued after all (its preparation failed)."""
        with self._cv:
            self._arriving -= 1
            self._cv.notify_all()

    def submit(self, item: Any) -> Any:
        """Queue ``item`` (after :meth:`arrive`), wait for its batch and return its answer, or
        raise its error, as deciding it alone would."""
        p = Pending(item, audit=request_audit.current.get())
        with self._cv:
            self._arriving -= 1
            self._queue.append(p)
            self._cv.notify_all()
            while not p.done:
                if self._leaders < self.slots and self._queue:
                    self._lead()
                else:
                    self._cv.wait()
        if p.alone:
            return self._run_one(item)
        assert p.result is not None
        if isinstance(p.result, Exception):
            raise p.result
        return p.result

    def _lead(self) -> None:
        """Called holding the lock: take a batch, decide it without the lock, hand out answers."""
        self._leaders += 1
        try:
            now = time.monotonic()
            deadline = now + self.max_wait
            # busy: a batch of several was answered less than max_wait ago, and its callers are
            # likely on their way back with their next purchase (not arriving yet)
            busy = now - self._last_batch_end < self.max_wait
            while (self._arriving > 0 or busy) and len(self._queue) < self.max_batch:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self._cv.wait(left)
            batch = [self._queue.popleft() for _ in range(min(self.max_batch, len(self._queue)))]
            if not batch:
                return
            self._cv.release()
            try:
                self._decide(batch)
            finally:
                self._cv.acquire()
            self.batches += 1
            self.decided += len(batch)
            self._last_batch_end = time.monotonic() if len(batch) > 1 else -math.inf
        finally:
            self._leaders -= 1
            self._cv.notify_all()

    def _decide(self, batch: list[Pending]) -> None:
        if len(batch) == 1:  # a lone purchase: its own transaction, as without group commit
            p = batch[0]
            try:
                p.result = self._run_one(p.item)
            except Exception as e:
                p.result = e
            p.done = True
            return
        token = request_audit.carried.set(tuple(p.audit for p in batch if p.audit is not None))
        try:
            results = self._run_batch([p.item for p in batch])
        except Exception:
            for p in batch:
                p.alone = True
                p.done = True
            return
        finally:
            request_audit.carried.reset(token)
        for p, r in zip(batch, results, strict=True):
            p.result = r
            p.done = True
