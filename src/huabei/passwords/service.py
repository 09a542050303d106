"""Use cases of the payment password (支付密码): set, reset, and its check on each purchase.

The purchase path (``huabei.payments.service``) checks in three steps:

1. :func:`check` — outside any write transaction, since an argon2 check costs milliseconds
   (configurable, ``ProductTerms.passwords``): reads the user's hash and checks the given
   password against it. Nothing is written.
2. :func:`guard` — first thing inside the purchase's transaction: payments locked → 402
   ``password_locked`` (with the time they unlock); the user has a password and none was
   given → 402 ``password_required``; the check found it wrong → 402 ``wrong_password``. A
   correct password restarts the count of wrong ones; an expired lock is released (its
   ``wrong_password_lockout`` restriction lifted).
3. :func:`after_refusal` — in the fresh transaction that stores a refusal (the purchase's
   own rolled back): a wrong password is counted there, atomically (the user's credit lines
   are locked first, then one conditional UPDATE: ``PasswordRepository.count_wrong``). The N-th
   consecutive wrong one (``restrictions.wrong_password_attempts``) locks payments for
   ``restrictions.wrong_password_lock_hours`` of real time and answers ``password_locked``;
   concurrent wrong ones after it count nothing. The lock places a ``wrong_password_lockout``
   restriction on the user's open lines (evidence: attempts, when, until), so the line's view
   and its diagnosis show it; it lifts when a purchase finds the lock expired, at the end of
   the day it ends (``lifts_on``), or at once on a reset.

Replays of an Idempotency-Key count nothing (the stored answer is returned first).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, cast
from zoneinfo import ZoneInfo

from huabei import errors
from huabei.clock import from_stored, local_text, to_stored
from huabei.errors import HuabeiError
from huabei.events import PaymentPasswordLocked, PaymentPasswordReset, PaymentPasswordSet
from huabei.lines.rules import AccountState
from huabei.passwords import rules
from huabei.platform.unit_of_work import Huabei, UnitOfWork
from huabei.restrictions import service as restrictions

LOCKOUT_CAUSE = "wrong_password_lockout"
PASSWORD_CODES = frozenset({"wrong_password", "password_locked", "password_required"})


# --- set, reset, status -----------------------------------------------------------------


def set_password(system: Huabei, user_id: str, password: str, *, actor: str = "host") -> dict[str, Any]:
    """Set a user's first payment password; one already set is changed by :func:`reset_password`
    (409 ``payment_password_exists``)."""
    rules.check_format(password, system.terms.passwords)
    hashed = rules.hash_password(password, system.terms.passwords)
    with system.uow() as uow:
        _user(uow, user_id)
        uow.accounts.lines_of(user_id, for_update=True)  # serialise with the user's purchases
        if uow.passwords.get(user_id) is not None:
            raise errors.conflict("payment_password_exists", user_id=user_id)
        now = to_stored(uow.now())
        uow.passwords.add(user_id, hashed, now)
        uow.events.record(PaymentPasswordSet(user_id=user_id, actor=actor), business_date=uow.today(), now=uow.now())
        uow.commit()
        return _status(uow, user_id)


def reset_password(system: Huabei, user_id: str, password: str, *, actor: str = "host") -> dict[str, Any]:
    """重置支付密码: the host has verified the user's identity. Sets the new password, restarts
    the count and unlocks payments at once (the lockout restrictions lift, reason
    ``password_reset``); recorded as a ``PaymentPasswordReset`` event with who did it."""
    rules.check_format(password, system.terms.passwords)
    hashed = rules.hash_password(password, system.terms.passwords)
    with system.uow() as uow:
        _user(uow, user_id)
        lines = uow.accounts.lines_of(user_id, for_update=True)
        prior = uow.passwords.get(user_id)
        now = to_stored(uow.now())
        if prior is None:
            uow.passwords.add(user_id, hashed, now)
        else:
            uow.passwords.replace(user_id, hashed, now)
        lifted = _lift_lockouts(uow, lines, reason="password_reset", actor=actor)
        uow.events.record(
            PaymentPasswordReset(
                user_id=user_id,
                actor=actor,
                was_locked=bool(prior is not None and rules.is_locked(prior.locked_until, now)),
                failed_attempts=prior.failed_attempts if prior is not None else 0,
                lifted_restrictions=lifted,
            ),
            business_date=uow.today(),
            now=uow.now(),
        )
        uow.commit()
        return _status(uow, user_id)


def password_status(system: Huabei, user_id: str) -> dict[str, Any]:
    with system.uow(readonly=True) as uow:
        _user(uow, user_id)
        return _status(uow, user_id)


def status_in(uow: UnitOfWork, user_id: str) -> dict[str, Any]:
    """Inside a unit of work (the diagnosis reads it): whether the user has a payment password,
    the wrong ones counted, and the lock's end if payments are locked now."""
    return _status(uow, user_id)


def _status(uow: UnitOfWork, user_id: str) -> dict[str, Any]:
    pw = uow.passwords.get(user_id)
    now = uow.now()
    attempts = uow.terms.restrictions.wrong_password_attempts
    if pw is None:
        return {
            "user_id": user_id,
            "has_password": False,
            "locked": False,
            "locked_until": None,
            "failed_attempts": 0,
            "attempts_left": None,
        }
    locked = rules.is_locked(pw.locked_until, now)
    failed = 0 if pw.locked_until is not None and not locked else pw.failed_attempts
    return {
        "user_id": user_id,
        "has_password": True,
        "locked": locked,
        "locked_until": from_stored(pw.locked_until).isoformat() if locked else None,
        "failed_attempts": failed,
        "attempts_left": 0 if locked else attempts - failed,
    }


def _user(uow: UnitOfWork, user_id: str) -> None:
    if not uow.users.exists(user_id):
        raise errors.not_found("user_not_found", user_id=user_id)


# --- the purchase path --------------------------------------------------------------------


@dataclass
class PasswordCheck:
    """A purchase's password check, carried from :func:`check` through :func:`guard` to
    :func:`after_refusal`. Holds no secret: only whether the given password matched."""

    verdict: rules.Verdict
    #: set by :func:`guard`: the password passed (or none is needed)
    passed: bool = field(default=False)


def check(system: Huabei, account_id: int, password: str | None) -> PasswordCheck:
    """Step 1, outside any write transaction: check a given password against the user's hash."""
    if password is None:  # whether one is needed is read inside the purchase's transaction
        return PasswordCheck(rules.Verdict(None, None, given=False, correct=False))
    with system.uow(readonly=True) as uow:
        user_id = uow.accounts.user_of(account_id)
        pw = uow.passwords.get(user_id) if user_id is not None else None
        stored = pw.password_hash if pw is not None else None
    correct = stored is not None and rules.matches(stored, password)
    return PasswordCheck(rules.Verdict(user_id, stored, given=True, correct=correct))


_BATCH_USERS = "passwords.users_of_batch"


def read_for_batch(uow: UnitOfWork, account_ids: Sequence[int], users: Mapping[int, str] | None = None) -> None:
    """For a batch of purchases in one transaction: read the lines' users (unless given: the
    lines that exist and their users), and which of them have no payment password, in one query
    for every :func:`guard` of the transaction. A purchase never sets a password, so a user
    without one has none for the rest of the batch; a user with one is read again by each guard
    (a wrong attempt changes the row)."""
    if users is None:
        users = uow.accounts.users_of(account_ids)
    having = uow.passwords.with_password(list(users.values()))
    uow.cache[_BATCH_USERS] = {aid: (uid, uid in having) for aid, uid in users.items()}


def may_count(uow: UnitOfWork, account_id: int) -> bool:
    """In a batch that read its users (:func:`read_for_batch`): whether a purchase on this line
    may read or write its user's password row (the user has a password: a wrong attempt is
    counted, a right one clears the count). False for a line without one or no such line: its
    :func:`guard` and :func:`after_refusal` then read the batch's users only and write nothing."""
    batch = cast(dict[int, tuple[str, bool]] | None, uow.cache.get(_BATCH_USERS))
    if batch is None:
        return True
    known = batch.get(account_id)
    return known is not None and known[1]


def guard(uow: UnitOfWork, pc: PasswordCheck, account_id: int) -> None:
    """Step 2, inside the purchase's transaction, before the debit."""
    v = pc.verdict
    batch = cast(dict[int, tuple[str, bool]] | None, uow.cache.get(_BATCH_USERS))
    if batch is not None and account_id in batch and not batch[account_id][1]:
        user_id: str | None = batch[account_id][0]
        pw = None
    else:
        user_id = v.user_id or uow.accounts.user_of(account_id)
        pw = uow.passwords.get(user_id) if user_id is not None else None
    if user_id is None or pw is None:  # no such line (the debit explains), or no password set
        pc.passed = True
        return
    now = uow.now()
    if rules.is_locked(pw.locked_until, now):
        raise errors.declined("password_locked", **_unlock_params(uow, pw.locked_until))
    if not v.given:
        raise errors.declined("password_required")
    if not v.correct or v.stored_hash != pw.password_hash:
        raise errors.declined("wrong_password")
    pc.passed = True
    _after_correct(uow, user_id, pw, now)


def after_refusal(uow: UnitOfWork, pc: PasswordCheck, account_id: int, e: HuabeiError) -> None:
    """Step 3, in the transaction storing a refusal: count a wrong password (and lock at the
    N-th), or redo what a correct one does (the purchase's transaction rolled it back). May turn
    ``e`` into ``password_locked`` and fills its params (attempts left, unlock time)."""
    v = pc.verdict
    if e.code == "wrong_password" and v.user_id is not None and v.stored_hash is not None:
        _count_wrong(uow, v.user_id, v.stored_hash, e)
    elif pc.passed and e.code not in PASSWORD_CODES:
        user_id = v.user_id or uow.accounts.user_of(account_id)
        pw = uow.passwords.get(user_id) if user_id is not None else None
        if user_id is not None and pw is not None:
            _after_correct(uow, user_id, pw, uow.now())


def _count_wrong(uow: UnitOfWork, user_id: str, checked_hash: str, e: HuabeiError) -> None:
    rt = uow.terms.restrictions
    lines = uow.accounts.lines_of(user_id, state=AccountState.OPEN, for_update=True)  # the line rows first
    now = to_stored(uow.now())
    row = uow.passwords.count_wrong(
        user_id, checked_hash, attempts=rt.wrong_password_attempts, lock_until=rules.lock_until(now, rt), now=now
    )
    if row is None:  # already locked by a concurrent attempt, or the password changed meanwhile
        pw = uow.passwords.get(user_id)
        if pw is not None and rules.is_locked(pw.locked_until, now):
            e.code = "password_locked"
            e.params = _unlock_params(uow, pw.locked_until)
        else:
            left = rt.wrong_password_attempts - (pw.failed_attempts if pw is not None else 0)
            e.params = {"attempts_left": left}
        return
    failed, locked_until = row
    if locked_until is None:
        e.params = {"attempts_left": rt.wrong_password_attempts - failed}
        return
    e.code = "password_locked"
    e.params = _unlock_params(uow, locked_until)
    until = from_stored(locked_until)
    evidence = {
        "user_id": user_id,
        "wrong_attempts": rt.wrong_password_attempts,
        "locked_at": now.isoformat(),
        "unlocks_at": until.isoformat(),
    }
    lifts_on = until.astimezone(ZoneInfo(uow.terms.timezone)).date()
    for account_id in lines:
        restrictions.place(uow, account_id, LOCKOUT_CAUSE, evidence, None, lifts_on, "system")
    uow.events.record(
        PaymentPasswordLocked(user_id=user_id, evidence=evidence), business_date=uow.today(), now=uow.now()
    )


def _after_correct(uow: UnitOfWork, user_id: str, pw: Any, now: dt.datetime) -> None:
    if pw.locked_until is not None:  # an expired lock: release its restrictions
        lines = uow.accounts.lines_of(user_id, state=AccountState.OPEN)
        _lift_lockouts(uow, lines, reason="lock_expired", actor="system")
    if pw.failed_attempts or pw.locked_until is not None:
        uow.passwords.clear_count(user_id, to_stored(now))


def _lift_lockouts(uow: UnitOfWork, account_ids: list[int], *, reason: str, actor: str) -> list[int]:
    rows = [
        (r.restriction_id, r.account_id, r.cause)
        for a in account_ids
        for r in uow.restrictions.active(a)
        if r.cause == LOCKOUT_CAUSE
    ]
    if rows:
        restrictions.lift(uow, rows, reason=reason, actor=actor)
    return [r[0] for r in rows]


def _unlock_params(uow: UnitOfWork, locked_until: dt.datetime) -> dict[str, Any]:
    local = from_stored(locked_until).astimezone(ZoneInfo(uow.terms.timezone))
    return {"unlocks_at": local_text(local, uow.terms.timezone), "unlocks_at_iso": local.isoformat()}
