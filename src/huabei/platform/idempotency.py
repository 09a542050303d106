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
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy.exc import IntegrityError

from huabei import errors
from huabei.errors import ErrorKind, HuabeiError
from huabei.platform.unit_of_work import Huabei, UnitOfWork

MAX_KEY_LENGTH = 255
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
    if len(key) > MAX_KEY_LENGTH or not key.isprintable():
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
