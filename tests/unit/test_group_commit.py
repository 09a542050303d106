"""The group-commit queue (``huabei.payments.group_commit``) on its own: who waits, who leads, what
a batch holds and what each caller gets back. Deterministic: the deciding functions are fakes
that block on events."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest

from huabei.payments.group_commit import GroupCommit

pytestmark = pytest.mark.pure


class Boom(Exception):
    pass


def _gc(batches: list[list[Any]], alone: list[Any], *, gate: threading.Event | None = None, fail_batch=False):
    def run_batch(items):
        batches.append(list(items))
        if fail_batch:
            raise Boom("the transaction failed")
        return [ValueError(i) if i == "bad" else f"ok:{i}" for i in items]

    def run_one(item):
        alone.append(item)
        if gate is not None and item == "first":
            gate.wait(10)
        if item == "bad":
            raise ValueError(item)
        return f"alone:{item}"

    return GroupCommit(run_batch, run_one, max_batch=3, max_wait_seconds=0.05, batches=1)


def _submit(gc: GroupCommit, item: Any) -> Any:
    gc.arrive()
    try:
        return gc.submit(item)
    except Exception as e:
        return e


def test_a_lone_purchase_runs_alone_and_does_not_wait():
    batches: list[list[Any]] = []
    alone: list[Any] = []
    gc = _gc(batches, alone)
    t0 = time.monotonic()
    assert _submit(gc, "a") == "alone:a"
    assert time.monotonic() - t0 < 0.04  # no one else arriving: no wait of max_wait (50 ms)
    assert batches == [] and alone == ["a"] and (gc.batches, gc.decided) == (1, 1)


def test_purchases_queued_behind_a_batch_are_decided_together_each_with_its_answer():
    batches: list[list[Any]] = []
    alone: list[Any] = []
    gate = threading.Event()
    gc = _gc(batches, alone, gate=gate)
    out: dict[str, Any] = {}
    first = threading.Thread(target=lambda: out.__setitem__("first", _submit(gc, "first")))
    first.start()
    while not alone:  # the first purchase is being decided (alone) and holds the only slot
        time.sleep(0.001)
    others = [threading.Thread(target=lambda i=i: out.__setitem__(i, _submit(gc, i))) for i in ("x", "bad", "y", "z")]
    for t in others:
        t.start()
    while len(gc._queue) < 4:
        time.sleep(0.001)
    gate.set()
    for t in [first, *others]:
        t.join(10)
    assert out["first"] == "alone:first"
    # queued order, at most max_batch (3) per batch; the fourth runs alone after them
    assert batches == [["x", "bad", "y"]] and alone == ["first", "z"]
    assert (out["x"], out["y"], out["z"]) == ("ok:x", "ok:y", "alone:z")
    assert isinstance(out["bad"], ValueError)  # its own failure, nobody else's


def test_when_a_batch_fails_as_a_whole_each_caller_decides_alone():
    batches: list[list[Any]] = []
    alone: list[Any] = []
    gate = threading.Event()
    gc = _gc(batches, alone, gate=gate, fail_batch=True)
    out: dict[str, Any] = {}
    first = threading.Thread(target=lambda: out.__setitem__("first", _submit(gc, "first")))
    first.start()
    while not alone:
        time.sleep(0.001)
    others = [threading.Thread(target=lambda i=i: out.__setitem__(i, _submit(gc, i))) for i in ("x", "bad")]
    for t in others:
        t.start()
    while len(gc._queue) < 2:
        time.sleep(0.001)
    gate.set()
    for t in [first, *others]:
        t.join(10)
    assert batches == [["x", "bad"]]
    assert sorted(alone) == ["bad", "first", "x"]
    assert out["x"] == "alone:x" and isinstance(out["bad"], ValueError)


def test_a_leader_waits_for_purchases_still_arriving():
    batches: list[list[Any]] = []
    alone: list[Any] = []
    gc = _gc(batches, alone)
    out: dict[str, Any] = {}
    gc.arrive()  # someone else is preparing a purchase
    t = threading.Thread(target=lambda: out.__setitem__("a", _submit(gc, "a")))
    t.start()
    time.sleep(0.01)  # within max_wait (50 ms) the other one is queued
    out["b"] = gc.submit("b")
    t.join(10)
    assert batches == [["a", "b"]] and out == {"a": "ok:a", "b": "ok:b"}


def test_an_arrival_that_gives_up_does_not_hold_the_batch():
    batches: list[list[Any]] = []
    alone: list[Any] = []
    gc = _gc(batches, alone)
    gc.arrive()
    gc.leave()
    t0 = time.monotonic()
    assert _submit(gc, "a") == "alone:a"
    assert time.monotonic() - t0 < 0.04


def test_after_a_batch_of_several_the_next_leader_waits_for_its_callers_to_come_back():
    """Right after a batch of several was answered its callers come back with their next purchase:
    the next leader waits for them (at most max_wait) instead of deciding its own purchase alone.
    After a batch of one, or once max_wait has passed, a lone purchase does not wait."""
    batches: list[list[Any]] = []
    alone: list[Any] = []
    gc = _gc(batches, alone)
    gc._last_batch_end = time.monotonic()  # a batch of several was just answered
    out: dict[str, Any] = {}
    t = threading.Thread(target=lambda: out.__setitem__("a", _submit(gc, "a")))
    t.start()
    time.sleep(0.01)  # within max_wait (50 ms) a caller of that batch is back
    out["b"] = _submit(gc, "b")
    t.join(10)
    assert batches == [["a", "b"]] and out == {"a": "ok:a", "b": "ok:b"}
    time.sleep(0.06)  # max_wait passed: idle again
    t0 = time.monotonic()
    assert _submit(gc, "c") == "alone:c"
    assert time.monotonic() - t0 < 0.04
