"""Access control's use cases: keys made, listed, revoked and checked; ownership; the audit log.

The server secret (the HMAC key of stored API keys) comes from ``HUABEI_SECRET``, else from the
file ``HUABEI_SECRET_FILE`` (default ``huabei.secret`` in the working directory), which is made
with a fresh random secret (mode 0600) the first time it is needed. It is never stored in the
database and never committed (``.gitignore``). Changing it invalidates every key.
"""

from __future__ import annotations

import datetime as dt
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, cast

from huabei import errors
from huabei.access import keys as k
from huabei.access.roles import Principal, Role
from huabei.errors import ErrorKind, HuabeiError, invalid, not_found
from huabei.i18n import N_
from huabei.passwords import rules as password_rules
from huabei.platform import request_audit
from huabei.platform.unit_of_work import ClockMode, Huabei

DEFAULT_SECRET_FILE = "huabei.secret"
_secret_lock = threading.Lock()
_secrets: dict[str, str] = {}


def server_secret() -> str:
    env = os.environ.get("HUABEI_SECRET")
    if env:
        if len(env) < k.MIN_SECRET_BYTES:
            raise invalid("secret_too_short", min=k.MIN_SECRET_BYTES)
        return env
    path = os.environ.get("HUABEI_SECRET_FILE", DEFAULT_SECRET_FILE)
    with _secret_lock:
        if path not in _secrets:
            p = Path(path)
            if not p.exists():
                fd = os.open(p, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                with os.fdopen(fd, "w", encoding="ascii") as f:
                    f.write(k.new_secret() + "\n")
            _secrets[path] = p.read_text(encoding="ascii").strip()
        return _secrets[path]


def unauthenticated(code: str = "unauthenticated", **params: Any) -> HuabeiError:
    return HuabeiError(code, ErrorKind.UNAUTHENTICATED, **params)


def forbidden(code: str = "forbidden", **params: Any) -> HuabeiError:
    return HuabeiError(code, ErrorKind.FORBIDDEN, **params)


def _key_view(row: Any) -> dict[str, Any]:
    return {
        "key_id": row.key_id,
        "prefix": row.prefix,
        "role": row.role,
        "user_id": row.user_id,
        "label": row.label,
        "created_at": row.created_at,
        "expires_at": row.expires_at,
        "revoked_at": row.revoked_at,
    }


def create_key(
    system: Huabei, role: str, user_id: str | None = None, label: str = "", expires_on: dt.date | None = None
) -> dict[str, Any]:
    """A new key: the returned ``key`` is the only time its plain text exists."""
    try:
        r = Role(role)
    except ValueError:
        raise invalid("invalid_role", role=role) from None
    if (r is Role.CUSTOMER) != (user_id is not None):
        raise invalid("customer_key_needs_user")
    if len(label) > 200:
        raise invalid("invalid_request", detail=N_("{field}: 1 to {maximum} characters"), field="label", maximum=200)
    secret = server_secret()
    key = k.new_key()
    with system.uow() as uow:
        now = uow.now()
        if user_id is not None and uow.users.get(user_id) is None:
            raise not_found("user_not_found", user_id=user_id)
        expires_at = None
        if expires_on is not None:
            if expires_on <= uow.today():
                raise invalid("key_expiry_in_past", expires_on=expires_on.isoformat())
            expires_at = dt.datetime.combine(expires_on, dt.time(), tzinfo=now.tzinfo)
        key_id = uow.keys.add(
            digest=k.digest(secret, key),
            prefix=k.shown(key),
            role=r.value,
            user_id=user_id,
            label=label,
            created_at=now,
            expires_at=expires_at,
        )
        uow.audit.add(
            at=now, key_id=None, role="operator", user_id=None, method="CLI", route="keys create",
            path=f"keys/{key_id}", status=201, outcome="ok", code=None, actor=request_audit.actor("operator"),
        )  # fmt: skip
        uow.commit()
    return {
        "key_id": key_id,
        "key": key,
        "prefix": k.shown(key),
        "role": r.value,
        "user_id": user_id,
        "label": label,
        "expires_at": expires_at,
    }


def list_keys(system: Huabei, include_revoked: bool = False) -> list[dict[str, Any]]:
    with system.uow(readonly=True) as uow:
        return [_key_view(row) for row in uow.keys.all(include_revoked)]


def revoke_key(system: Huabei, key_id: int, actor: str = "operator") -> dict[str, Any]:
    with system.uow() as uow:
        row = uow.keys.get(key_id)
        if row is None:
            raise not_found("api_key_not_found", key_id=key_id)
        now = uow.now()
        uow.keys.revoke(key_id, now)
        uow.audit.add(
            at=now, key_id=None, role=actor, user_id=None, method="CLI", route="keys revoke",
            path=f"keys/{key_id}", status=200, outcome="ok", code=None, actor=request_audit.actor(actor),
        )  # fmt: skip
        uow.commit()
        _key_cache(system).forget(key_id)
        return _key_view(uow.keys.get(key_id) or row)


def authenticate(system: Huabei, key: str, max_age: float = 0.0) -> Principal:
    """The principal of a presented key, or 401 ``invalid_api_key`` (unknown, revoked or expired
    keys all answer the same, so the answer tells nothing about which).

    ``max_age`` > 0 (the HTTP API: ``access.key_cache_seconds``): a key this process found valid
    less than ``max_age`` seconds ago is taken as valid without a transaction. A key revoked by
    this process (:func:`revoke_key`) is refused at once; revoked by another (the command line,
    another server worker), within ``max_age``. A key with an expiry is taken from the cache only
    on the wall clock (``HUABEI_CLOCK=system``) and only before it expires; on the simulated
    clock, whose date moves in jumps, it is read every time. Unknown keys are never cached."""
    if not k.looks_like_key(key):
        raise unauthenticated("invalid_api_key")
    d = k.digest(server_secret(), key)
    cache = _key_cache(system) if max_age > 0 else None
    if cache is not None and (hit := cache.get(d, max_age, system)) is not None:
        return hit
    generation = cache.generation if cache is not None else 0
    with system.uow(readonly=True) as uow:
        row = uow.keys.by_digest(d)
        if row is None or row.revoked_at is not None:
            raise unauthenticated("invalid_api_key")
        expires_at = _aware(row.expires_at, uow.now()) if row.expires_at is not None else None
        if expires_at is not None and expires_at <= uow.now():
            raise unauthenticated("invalid_api_key")
        principal = Principal(key_id=row.key_id, role=Role(row.role), user_id=row.user_id, label=row.label)
    if cache is not None:
        cache.put(d, principal, expires_at, generation)
    return principal


def recently_valid(system: Huabei, key: str, max_age: float) -> Principal | None:
    """The principal of ``key`` if this process found it valid less than ``max_age`` seconds ago
    (see :func:`authenticate`); None otherwise. Never reads the database."""
    if max_age <= 0 or not k.looks_like_key(key):
        return None
    return _key_cache(system).get(k.digest(server_secret(), key), max_age, system)


class KeyCache:
    """Keys this process found valid, by digest, and when (monotonic seconds). Bounded: past
    ``max_entries`` it starts again empty."""

    def __init__(self, max_entries: int = 10_000, clock: Callable[[], float] = time.monotonic):
        self.max_entries = max_entries
        self.clock = clock
        #: counts revocations: a key read before one is not cached after it (it may be the one)
        self.generation = 0
        self._lock = threading.Lock()
        self._entries: dict[str, tuple[Principal, dt.datetime | None, float]] = {}

    def get(self, digest: str, max_age: float, system: Huabei) -> Principal | None:
        entry = self._entries.get(digest)
        if entry is None:
            return None
        principal, expires_at, checked = entry
        if self.clock() - checked >= max_age:
            return None
        on_wall_clock = system.clock_mode is ClockMode.SYSTEM
        if expires_at is not None and (not on_wall_clock or expires_at <= system.wall_clock(system.tz)):
            return None  # an expiring key: read again unless the wall clock says it still runs
        return principal

    def put(self, digest: str, principal: Principal, expires_at: dt.datetime | None, generation: int) -> None:
        with self._lock:
            if generation != self.generation:
                return
            if len(self._entries) >= self.max_entries:
                self._entries.clear()
            self._entries[digest] = (principal, expires_at, self.clock())

    def forget(self, key_id: int) -> None:
        """A revoked key: refused from the next request on."""
        with self._lock:
            self.generation += 1
            for d in [d for d, e in self._entries.items() if e[0].key_id == key_id]:
                del self._entries[d]


def _key_cache(system: Huabei) -> KeyCache:
    cache = system.services.get("access.key_cache")
    if cache is None:
        with _secret_lock:
            cache = system.services.setdefault("access.key_cache", KeyCache())
    return cast(KeyCache, cache)


def principal_of_key(system: Huabei, key_id: int) -> Principal | None:
    """The principal of a key by id, if it is still valid (a web session names its key)."""
    with system.uow(readonly=True) as uow:
        row = uow.keys.get(key_id)
        if row is None or row.revoked_at is not None:
            return None
        if row.expires_at is not None and _aware(row.expires_at, uow.now()) <= uow.now():
            return None
        return Principal(key_id=row.key_id, role=Role(row.role), user_id=row.user_id, label=row.label)


def _aware(at: dt.datetime, like: dt.datetime) -> dt.datetime:
    """SQLite returns naive datetimes (stored as UTC-less text): read them in the clock's zone."""
    return at if at.tzinfo is not None else at.replace(tzinfo=like.tzinfo)


def owner_of(system: Huabei, kind: str, value: Any) -> str | None:
    """The user who owns the thing a path parameter names (None: no such thing)."""
    with system.uow(readonly=True) as uow:
        if kind == "user_id":
            return str(value)
        account_id: int | None
        if kind == "account_id":
            account_id = int(value)
        elif kind == "purchase_id":
            p = uow.purchases.get(int(value))
            account_id = p.account_id if p is not None else None
        elif kind == "restriction_id":
            r = uow.restrictions.get(int(value))
            account_id = r.account_id if r is not None else None
        elif kind == "plan_id":
            plan = uow.installments.plan(int(value))
            account_id = plan.account_id if plan is not None else None
        else:
            raise ValueError(f"no owner resolver for path parameter {kind!r}")
        if account_id is None:
            return None
        line = uow.accounts.get(account_id)
        return line.user_id if line is not None else None


def record(system: Huabei, rows: list[dict[str, Any]]) -> None:
    """Write audit rows (``at`` is filled from the business clock)."""
    if not rows:
        return
    with system.uow() as uow:
        now = uow.now()
        for row in rows:
            uow.audit.add(at=now, **row)
        uow.commit()


def complete(system: Huabei, audit_id: int, status: int, outcome: str, code: str | None) -> None:
    """Fill in the answer of a request whose audit row was written with its state change."""
    with system.uow() as uow:
        uow.audit.complete(audit_id, status=status, outcome=outcome, code=code)
        uow.commit()


def audit_trail(
    system: Huabei, limit: int = 50, starting_after: int | None = None, key_id: int | None = None,
    path_prefix: str | None = None,
) -> list[dict[str, Any]]:  # fmt: skip
    with system.uow(readonly=True) as uow:
        return [dict(r._mapping) for r in uow.audit.recent(limit, starting_after, key_id, path_prefix)]


def line_audit_trail(system: Huabei, account_id: int, limit: int = 50) -> list[dict[str, Any]]:
    """The audit rows about one line, newest first: every change to it (``audit_log.account_id``:
    its restrictions, appeals, purchases, repayments … from HTTP, the web pages or the command
    line), the denials on its routes, and its user's own calls."""
    with system.uow(readonly=True) as uow:
        line = uow.accounts.get(account_id)
        if line is None:
            raise not_found("account_not_found", account_id=account_id)
        return [dict(r._mapping) for r in uow.audit.about(account_id, line.user_id, limit)]


# --- staff users: a name and a password for the web login ------------------------------


def _staff_view(row: Any) -> dict[str, Any]:
    return {
        "staff_id": row.staff_id,
        "name": row.name,
        "key_id": row.key_id,
        "role": row.role,
        "created_at": row.created_at,
        "password_changed_at": row.password_changed_at,
        "disabled_at": row.revoked_at,
    }


def _check_password(system: Huabei, password: str) -> str:
    n = system.terms.access.staff_password_min_length
    if not k.password_ok(password, n):
        raise invalid("weak_staff_password", min=n)
    return password_rules.hash_password(password, system.terms.passwords)


def create_staff(system: Huabei, name: str, role: str, password: str) -> dict[str, Any]:
    """A staff user who logs in with ``name`` and ``password``: bound to a new key of ``role``
    (agent, risk or admin) whose plain text nobody sees; the password is stored as argon2id."""
    if not k.staff_name_ok(name):
        raise invalid("invalid_staff_name", name=name[:64])
    if role not in k.STAFF_ROLES:
        raise invalid("invalid_role", role=role)
    digest = _check_password(system, password)  # slow: outside the transaction
    secret = server_secret()
    key = k.new_key()
    with system.uow() as uow:
        if uow.staff.by_name(name) is not None:
            raise errors.conflict("staff_user_exists", name=name)
        now = uow.now()
        key_id = uow.keys.add(
            digest=k.digest(secret, key), prefix=k.shown(key), role=role, user_id=None,
            label=f"staff:{name}", created_at=now, expires_at=None,
        )  # fmt: skip
        uow.staff.add(name=name, key_id=key_id, password_hash=digest, created_at=now, password_changed_at=now)
        uow.audit.add(
            at=now, key_id=None, role="operator", user_id=None, method="CLI", route="staff create",
            path=f"staff/{name}", status=201, outcome="ok", code=None, actor=request_audit.actor("operator"),
        )  # fmt: skip
        uow.commit()
        return _staff_view(next(r for r in uow.staff.all() if r.name == name))


def list_staff(system: Huabei) -> list[dict[str, Any]]:
    with system.uow(readonly=True) as uow:
        return [_staff_view(r) for r in uow.staff.all()]


def set_staff_password(system: Huabei, name: str, password: str) -> dict[str, Any]:
    digest = _check_password(system, password)
    with system.uow() as uow:
        row = uow.staff.by_name(name)
        if row is None:
            raise not_found("staff_user_not_found", name=name[:64])
        now = uow.now()
        uow.staff.set_password(row.staff_id, digest, now)
        uow.audit.add(
            at=now, key_id=None, role="operator", user_id=None, method="CLI", route="staff password",
            path=f"staff/{name}", status=200, outcome="ok", code=None, actor=request_audit.actor("operator"),
        )  # fmt: skip
        uow.commit()
        return _staff_view(next(r for r in uow.staff.all() if r.name == name))


def disable_staff(system: Huabei, name: str) -> dict[str, Any]:
    """Revoke the staff user's key: their sessions end and they can no longer log in."""
    with system.uow(readonly=True) as uow:
        row = uow.staff.by_name(name)
        if row is None:
            raise not_found("staff_user_not_found", name=name[:64])
    revoke_key(system, row.key_id)
    return next(x for x in list_staff(system) if x["name"] == name)


def change_own_password(system: Huabei, key_id: int, current: str, new: str) -> dict[str, Any]:
    """A staff user changes their own password (the web page ``/password``): the current one must
    match (403 ``wrong_current_password``: the caller counts it as a failed login for the rate
    limit), the new one is checked like any (``access.staff_password_min_length``) and stored as
    argon2id. A plain API key has no password (422 ``not_a_staff_user``). The request's audit row
    records it (``huabei.platform.request_audit``)."""
    with system.uow(readonly=True) as uow:
        row = uow.staff.by_key(key_id)
    if row is None:
        raise HuabeiError("not_a_staff_user", ErrorKind.UNPROCESSABLE)
    if not password_rules.matches(row.password_hash, current[:256]):
        raise HuabeiError("wrong_current_password", ErrorKind.FORBIDDEN)
    digest = _check_password(system, new)  # slow: outside the transaction
    with system.uow() as uow:
        now = uow.now()
        uow.staff.set_password(row.staff_id, digest, now)
        uow.commit()
        return _staff_view(next(r for r in uow.staff.all() if r.staff_id == row.staff_id))


def staff_login(system: Huabei, name: str, password: str) -> Principal:
    """The principal of a staff user's name and password, or 401 ``invalid_api_key`` — an unknown
    name, a wrong password and a disabled user answer alike (the check costs the same: a dummy
    hash is verified for an unknown name)."""
    with system.uow(readonly=True) as uow:
        row = uow.staff.by_name(name) if k.staff_name_ok(name) else None
    stored = row.password_hash if row is not None else _dummy_hash(system)
    if not password_rules.matches(stored, password[:256]) or row is None:
        raise unauthenticated("invalid_api_key")
    p = principal_of_key(system, row.key_id)
    if p is None:
        raise unauthenticated("invalid_api_key")
    return p


_dummy: dict[str, str] = {}


def _dummy_hash(system: Huabei) -> str:
    if "h" not in _dummy:
        _dummy["h"] = password_rules.hash_password(k.new_key(), system.terms.passwords)
    return _dummy["h"]
