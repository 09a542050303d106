"""Idempotent execution of money-moving use cases (Stripe-style ``Idempotency-Key``).

* A key belongs to its **caller** (``caller``: the public API's one caller today; an API key's
  id once access control lands), across every money-moving operation: the row is keyed by
  (caller, key) and the request hash covers the operation. So one key used on a purchase, then
  on a refund or a repayment, moves money once: the reuse is ``409 idempotency_conflict``.
* Same key + same request → the first answer again, and nothing moves twice.
* Same key + a different request (or another operation) → ``409 idempotency_conflict``.
* Concurrent duplicates: the key row is inserted in the same transaction as the
  work. The loser's insert fails on the primary key (PostgreSQL makes it wait
  for the winner's commit first), its whole transaction — debit included — rolls
  back, and it answers with the winner's stored response.
* A business refusal (402 decline, 422 rule) is an answer too: it is stored in a
  fresh transaction together with the use case's audit record, so a retry gets
  the same refusal. Input errors (400) and not-found (404) are not stored:
  nothing started.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.exc import IntegrityError

from huabei import errors
from huabei.errors import ErrorKind, HuabeiError
from huabei.platform.unit_of_work import Huabei, UnitOfWork

MAX_KEY_LENGTH = 255
#: An idempotency key: printable ASCII (it travels in an HTTP header), no space at either end.
KEY_PATTERN = r"^[!-~]([ -~]*[!-~])?$"
_KEY = re.compile(KEY_PATTERN)
#: The caller of every request until callers are told apart (API keys): one key space for all.
PUBLIC_CALLER = "public"
STORED_ERROR_KINDS = (ErrorKind.DECLINED, ErrorKind.UNPROCESSABLE)


@dataclass(frozen=True)
class Outcome:
    """A use case's answer: an HTTP-like status and a JSON-able body (money in fen)."""

    status: int
    body: dict[str, Any]
    replayed: bool = False


def request_hash(scope: str, request: dict[str, Any]) -> str:
    canonical = json.dumps({"scope": scope, "request": request}, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def check_key(key: str | None) -> str:
    if key is None or key == "":
        raise errors.invalid("idempotency_key_required")
    if len(key) > MAX_KEY_LENGTH or not _KEY.fullmatch(key):
        raise errors.invalid("invalid_idempotency_key")
    return key


def error_body(e: HuabeiError) -> dict[str, Any]:
    return {"error": {"code": e.code, "params": dict(e.params.items())}}


def run_idempotent(
    system: Huabei,
    operation: str,
    key: str | None,
    request: dict[str, Any],
    work: Callable[[UnitOfWork], Outcome],
    on_refusal: Callable[[UnitOfWork, HuabeiError], None] | None = None,
    caller: str = PUBLIC_CALLER,
) -> Outcome:
    """Run ``work`` — the operation ``operation`` — once per (caller, key); see the module docstring."""
    key = check_key(key)
    h = request_hash(operation, request)
    scope = caller
    for _attempt in range(5):
        try:
            with system.uow() as uow:
                prior = uow.idempotency.get(scope, key)
                if prior is not None:
                    return _replay(prior, h)
                outcome = work(uow)
                uow.idempotency.put(scope, key, h, outcome.status, outcome.body, uow.now())
                uow.commit()
                return outcome
        except IntegrityError:
            if _key_taken(system, scope, key):
                continue  # a concurrent duplicate won: replay its answer
            raise
        except HuabeiError as e:
            if e.kind not in STORED_ERROR_KINDS:
                raise
            try:
                with system.uow() as uow:
                    prior = uow.idempotency.get(scope, key)
                    if prior is not None:
                        return _replay(prior, h)
                    if on_refusal is not None:
                        on_refusal(uow, e)
                    uow.idempotency.put(scope, key, h, e.http_status, error_body(e), uow.now())
                    uow.commit()
            except IntegrityError:
                continue
            raise
    raise errors.conflict("idempotency_in_progress")


def _key_taken(system: Huabei, scope: str, key: str) -> bool:
    with system.uow(readonly=True) as uow:
        return uow.idempotency.get(scope, key) is not None


def _replay(prior: Any, h: str) -> Outcome:
    if prior.request_hash != h:
        raise errors.conflict("idempotency_conflict")
    body = prior.response
    if prior.status >= 400:
        err = body["error"]
        kind = next(k for k, s in errors.HTTP_STATUS.items() if s == prior.status)
        e = HuabeiError(err["code"], kind, **err.get("params", {}))
        e.replayed = True
        raise e
    return Outcome(prior.status, body, replayed=True)


@dataclass
class Job:
    """One idempotent request of a batch (:func:`run_idempotent_batch`): what :func:`run_idempotent`
    takes, for one request."""

    operation: str
    key: str | None
    request: dict[str, Any]
    work: Callable[[UnitOfWork], Outcome]
    on_refusal: Callable[[UnitOfWork, HuabeiError], None] | None = None
    caller: str = PUBLIC_CALLER
    #: what a set-based decider of the batch reads instead of running ``work`` (its own data)
    plan: Any = None


#: A request's answer in a batch: its outcome, or the error it would have raised on its own.
Result = Outcome | Exception

#: A set-based decider of a batch (:func:`run_idempotent_batch`): given the jobs to decide (each
#: key's first use in the batch, not stored before), in order, it writes their work and the audit
#: of their refusals and answers each one as its ``work`` would have, one after another — or
#: returns None (or raises) when it cannot, having then written nothing that must stay.
SetBased = Callable[[UnitOfWork, Sequence[Job]], "list[Result] | None"]


class Fallback(Exception):
    """A set-based decision found it cannot answer this batch exactly (a guard refused a write it
    had decided): the batch is decided one by one instead."""


def run_idempotent_batch(
    system: Huabei,
    jobs: Sequence[Job],
    prepare: Callable[[UnitOfWork], None] | None = None,
    set_based: SetBased | None = None,
) -> list[Result]:
    """Run ``jobs`` in **one transaction**, in order, each under its own key, with the answers
    :func:`run_idempotent` would give them one after another (group commit: one commit, one
    fsync, for the whole batch).

    Each job runs inside a savepoint. A business refusal (402/422) rolls its savepoint back and
    stores the refusal with its audit record in a fresh savepoint, as the one-by-one path does
    in a fresh transaction; an input error (400/404) or any other exception rolls back that job
    only and is that job's answer. A later job sees what the earlier ones wrote: two purchases
    of one line are decided in order, and a key repeated in the batch replays the first one's
    answer (409 ``idempotency_conflict`` if the request differs). A key taken by a concurrent
    transaction makes the job's insert fail; its savepoint rolls back and it replays the
    winner's answer. ``prepare`` runs first (e.g. lock every line of the batch in account
    order, so that two batches never deadlock). If the commit itself fails, it raises: no job
    of the batch is answered as done.

    ``set_based``, if given, is tried first (:func:`_set_based`): the batch decided at once and
    written with one statement per table, the keys stored by one insert; when it cannot answer
    exactly, everything it wrote is rolled back and the jobs run one by one as above."""
    with system.uow() as uow:
        if prepare is not None:
            prepare(uow)
        # every key of the batch read in one query; a key not stored then, and not used by an
        # earlier job of the batch, is not read again (a concurrent writer of it makes the insert
        # fail, and the retry reads it)
        stored = uow.idempotency.get_many([(j.caller, j.key) for j in jobs if isinstance(j.key, str)])
        results = _set_based(uow, jobs, stored, set_based) if set_based is not None else None
        if results is None:
            results = [None] * len(jobs)
            seen: set[tuple[str, str]] = set()
            for i, job in enumerate(jobs):
                results[i] = _run_in_savepoint(uow, job, stored, seen)
        uow.commit()
    return [r if r is not None else errors.conflict("idempotency_in_progress") for r in results]


@dataclass(frozen=True)
class _Answer:
    """An answer of this batch as a stored key row reads (an earlier job's, for a repeated key)."""

    request_hash: str
    status: int
    response: dict[str, Any]


#: How often a batch was decided set-based, and how often it fell back to one by one (the
#: benchmark reports the share; the tests check the set-based path ran).
SET_BASED_STATS = {"set_based": 0, "fallback": 0}


def _set_based(
    uow: UnitOfWork, jobs: Sequence[Job], stored: dict[tuple[str, str], Any], decide: SetBased
) -> list[Result | None] | None:
    """The keys resolved first (a bad key, a stored answer replayed, a key repeated in the batch),
    the first use of each other key decided by ``decide`` in a savepoint, every key stored by one
    insert. None (the savepoint rolled back) when ``decide`` cannot answer, a repeated key follows
    an answer that stores nothing (the repeat would run afresh), or a concurrent transaction
    stored one of the keys (the one-by-one path replays it)."""
    results: list[Result | None] = [None] * len(jobs)
    first: dict[tuple[str, str], int] = {}
    hashes: dict[int, str] = {}
    fresh: list[int] = []
    repeats: list[tuple[int, int]] = []
    for i, job in enumerate(jobs):
        try:
            key = check_key(job.key)
        except HuabeiError as e:
            results[i] = e
            continue
        sk = (job.caller, key)
        hashes[i] = request_hash(job.operation, job.request)
        if sk in stored:
            results[i] = _replay_result(stored[sk], hashes[i])
        elif sk in first:
            repeats.append((i, first[sk]))
        else:
            first[sk] = i
            fresh.append(i)
    sp = uow.conn.begin_nested()
    try:
        answers = decide(uow, [jobs[i] for i in fresh])
        if answers is None:
            raise Fallback
        now = uow.now()
        rows: list[dict[str, Any]] = []
        kept: dict[int, _Answer] = {}
        for i, a in zip(fresh, answers, strict=True):
            results[i] = a
            if isinstance(a, Outcome):
                kept[i] = _Answer(hashes[i], a.status, a.body)
            elif isinstance(a, HuabeiError) and a.kind in STORED_ERROR_KINDS:
                kept[i] = _Answer(hashes[i], a.http_status, error_body(a))
            else:
                continue
            job = jobs[i]
            rows.append(
                {
                    "scope": job.caller,
                    "key": job.key,
                    "request_hash": hashes[i],
                    "status": kept[i].status,
                    "response": kept[i].response,
                    "created_at": now,
                }
            )
        for i, j in repeats:
            if j not in kept:  # the first use stored nothing (400, 404): this one runs afresh
                raise Fallback
            results[i] = _replay_result(kept[j], hashes[i])
        uow.idempotency.put_many(rows)
    except Exception:  # Fallback, a concurrent key (IntegrityError), any failure: one by one
        sp.rollback()
        SET_BASED_STATS["fallback"] += 1
        return None
    sp.commit()
    SET_BASED_STATS["set_based"] += 1
    return results


def _run_in_savepoint(
    uow: UnitOfWork, job: Job, stored: dict[tuple[str, str], Any], seen: set[tuple[str, str]]
) -> Result:
    try:
        key = check_key(job.key)
    except HuabeiError as e:
        return e
    h = request_hash(job.operation, job.request)
    scope = job.caller
    known_absent = (scope, key) not in stored and (scope, key) not in seen
    seen.add((scope, key))
    for attempt in range(5):
        sp = uow.conn.begin_nested()
        try:
            if attempt == 0 and (scope, key) in stored:
                prior = stored[(scope, key)]
            elif attempt == 0 and known_absent:
                prior = None
            else:
                prior = uow.idempotency.get(scope, key)
            if prior is not None:
                sp.commit()
                return _replay_result(prior, h)
            outcome = job.work(uow)
            uow.idempotency.put(scope, key, h, outcome.status, outcome.body, uow.now())
            sp.commit()
            return outcome
        except IntegrityError:
            sp.rollback()
            continue  # a concurrent duplicate won (and has committed): replay its answer
        except HuabeiError as e:
            sp.rollback()
            if e.kind not in STORED_ERROR_KINDS:
                return e
            refusal = uow.conn.begin_nested()
            try:
                prior = uow.idempotency.get(scope, key)
                if prior is not None:
                    refusal.commit()
                    return _replay_result(prior, h)
                if job.on_refusal is not None:
                    job.on_refusal(uow, e)
                uow.idempotency.put(scope, key, h, e.http_status, error_body(e), uow.now())
                refusal.commit()
            except IntegrityError:
                refusal.rollback()
                continue
            except Exception as exc:
                refusal.rollback()
                return exc
            return e
        except Exception as exc:
            sp.rollback()
            return exc
    return errors.conflict("idempotency_in_progress")


def _replay_result(prior: Any, h: str) -> Result:
    try:
        return _replay(prior, h)
    except HuabeiError as e:
        return e
