"""API keys: how a key is made and how it is stored. Pure: no I/O.

A key is ``hb_`` and 43 characters of URL-safe base64 (256 random bits). It is shown once, at
creation; the database keeps only ``HMAC-SHA256(server secret, key)``, so a copy of the database
alone cannot be used to call the API, and a lookup is one indexed equality (the HMAC is
deterministic, unlike a salted slow hash, and 256 random bits need no stretching).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets

KEY_PREFIX = "hb_"
#: How many characters of a key ``keys list`` shows to tell keys apart (never enough to use one).
SHOWN_PREFIX = 10
MIN_SECRET_BYTES = 32


def new_key() -> str:
    return KEY_PREFIX + secrets.token_urlsafe(32)


def new_secret() -> str:
    return secrets.token_hex(MIN_SECRET_BYTES)


def digest(secret: str, key: str) -> str:
    """The stored form of ``key``: hex HMAC-SHA256 under the server secret."""
    return hmac.new(secret.encode("utf-8"), key.encode("utf-8"), hashlib.sha256).hexdigest()


def looks_like_key(value: str) -> bool:
    """A cheap shape check before any database lookup (a malformed header is a 401 straight away)."""
    return value.startswith(KEY_PREFIX) and 20 <= len(value) <= 128 and value.isascii() and value.isprintable()


def shown(key: str) -> str:
    return key[:SHOWN_PREFIX]


#: Staff users (the web login with a password): a name and the roles a person may hold.
STAFF_NAME = re.compile(r"^[a-z][a-z0-9._-]{1,63}$")
STAFF_ROLES = ("agent", "risk", "admin")


def staff_name_ok(name: str) -> bool:
    return bool(STAFF_NAME.match(name))


def password_ok(password: str, min_length: int) -> bool:
    """A staff password: at least ``min_length`` characters, printable, not only digits or letters."""
    return (
        len(password) >= min_length
        and len(password) <= 256
        and password.isprintable()
        and not password.isdigit()
        and not password.isalpha()
    )
