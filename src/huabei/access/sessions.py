"""Web login sessions and CSRF tokens: signed values, no server-side store. Pure: no I/O, the time
and the secret are given.

A session cookie is ``<key id>.<expiry, unix seconds>.<HMAC-SHA256 of both under the server
secret>``; it names the API key (or staff key) that logged in, so revoking the key ends its
sessions at the next request. A CSRF token is random and sent twice — in an HttpOnly,
SameSite=Strict cookie and in the form (or the ``X-CSRF-Token`` header) — and must match.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets


def _sign(secret: str, payload: str) -> str:
    return hmac.new(secret.encode("utf-8"), ("session:" + payload).encode("utf-8"), hashlib.sha256).hexdigest()


def issue(secret: str, key_id: int, expires_at: int) -> str:
    payload = f"{key_id}.{expires_at}"
    return f"{payload}.{_sign(secret, payload)}"


def verify(secret: str, token: str, now: int) -> int | None:
    """The key id of a valid, unexpired session token; None for anything else."""
    parts = token.split(".")
    if len(parts) != 3 or not all(p.isascii() and p.isalnum() for p in parts):
        return None
    key_id, expires_at, sig = parts
    if not (key_id.isdigit() and expires_at.isdigit()):
        return None
    if not hmac.compare_digest(sig, _sign(secret, f"{key_id}.{expires_at}")):
        return None
    if int(expires_at) <= now:
        return None
    return int(key_id)


def new_csrf_token() -> str:
    return secrets.token_urlsafe(24)


def same_token(sent: str | None, expected: str | None) -> bool:
    return bool(sent) and bool(expected) and hmac.compare_digest(str(sent), str(expected))
