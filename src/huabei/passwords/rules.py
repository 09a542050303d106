"""Payment-password rules (支付密码) that need no database.

A payment password is stored as an argon2id hash (``argon2-cffi``, a maintained binding of the
reference implementation): never plain, never a bare digest. The hash carries its own salt and
cost parameters, so a check works whatever the configured cost is now. Checking costs what the
hash's parameters say (``ProductTerms.passwords``): tens to hundreds of milliseconds in
production, a few milliseconds with the tests' parameters; the purchase path therefore checks
outside its write transaction and only counts inside it.

N consecutive wrong passwords (``restrictions.wrong_password_attempts``) lock payments for
``restrictions.wrong_password_lock_hours`` of real time; a correct one resets the count.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from huabei import errors
from huabei.clock import from_stored
from huabei.config import PasswordTerms, RestrictionTerms

_VERIFIER = PasswordHasher()  # verification reads the cost parameters from the hash itself


def check_format(password: str, terms: PasswordTerms) -> None:
    """A payment password is ``terms.digits`` ASCII digits; else 400 ``invalid_payment_password``."""
    if len(password) != terms.digits or not (password.isascii() and password.isdigit()):
        raise errors.invalid("invalid_payment_password", digits=terms.digits)


def hash_password(password: str, terms: PasswordTerms) -> str:
    hasher = PasswordHasher(
        time_cost=terms.hash_time_cost, memory_cost=terms.hash_memory_kib, parallelism=terms.hash_parallelism
    )
    return hasher.hash(password)


def matches(stored_hash: str, password: str) -> bool:
    """Whether ``password`` is the one ``stored_hash`` was made from."""
    try:
        return _VERIFIER.verify(stored_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def lock_until(now: dt.datetime, terms: RestrictionTerms) -> dt.datetime:
    """When a lock placed at ``now`` ends: ``wrong_password_lock_hours`` of real time later."""
    return now + dt.timedelta(hours=terms.wrong_password_lock_hours)


def is_locked(locked_until: dt.datetime | None, now: dt.datetime) -> bool:
    return locked_until is not None and from_stored(locked_until) > now


@dataclass(frozen=True)
class Verdict:
    """What a purchase's password check found, before the purchase's transaction.

    ``stored_hash`` is the hash the password was checked against (None: the user has none);
    the transaction counts a wrong one only if the hash is still the same (a reset in between
    makes the attempt moot)."""

    user_id: str | None
    stored_hash: str | None
    given: bool
    correct: bool
