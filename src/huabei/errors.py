"""Errors with stable machine-readable codes.

Every refusal huabei gives — bad input, a declined purchase, a conflict — is a
:class:`HuabeiError` carrying a stable ``code`` (snake_case, never renamed), a
``kind`` that entrypoints map to a status (HTTP 4xx, CLI exit code), and params
for the message. The English and Chinese messages come from the gettext catalogs
through :mod:`huabei.reasons`.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any


class ErrorKind(StrEnum):
    INVALID_REQUEST = "invalid_request"  # 400
    NOT_FOUND = "not_found"  # 404
    CONFLICT = "conflict"  # 409
    DECLINED = "declined"  # 402: a purchase the product refuses
    UNPROCESSABLE = "unprocessable"  # 422: well-formed but refused by a rule
    FORBIDDEN = "forbidden"  # 403
    UNAUTHENTICATED = "unauthenticated"  # 401: no valid key or session
    RATE_LIMITED = "rate_limited"  # 429: too many attempts; Retry-After says when to come back


HTTP_STATUS = {
    ErrorKind.INVALID_REQUEST: 400,
    ErrorKind.NOT_FOUND: 404,
    ErrorKind.CONFLICT: 409,
    ErrorKind.DECLINED: 402,
    ErrorKind.UNPROCESSABLE: 422,
    ErrorKind.FORBIDDEN: 403,
    ErrorKind.UNAUTHENTICATED: 401,
    ErrorKind.RATE_LIMITED: 429,
}


class HuabeiError(Exception):
    def __init__(self, code: str, kind: ErrorKind, /, **params: Any):
        super().__init__(code)
        self.code = code
        self.kind = kind
        self.params = params
        #: True when this refusal is a stored answer replayed for its Idempotency-Key.
        self.replayed = False

    @property
    def http_status(self) -> int:
        return HTTP_STATUS[self.kind]

    def __repr__(self) -> str:
        return f"HuabeiError({self.code!r}, {self.kind.value}, {self.params!r})"


def invalid(code: str, **params: Any) -> HuabeiError:
    return HuabeiError(code, ErrorKind.INVALID_REQUEST, **params)


def not_found(code: str, **params: Any) -> HuabeiError:
    return HuabeiError(code, ErrorKind.NOT_FOUND, **params)


def conflict(code: str, **params: Any) -> HuabeiError:
    return HuabeiError(code, ErrorKind.CONFLICT, **params)


def declined(code: str, **params: Any) -> HuabeiError:
    return HuabeiError(code, ErrorKind.DECLINED, **params)


def unprocessable(code: str, **params: Any) -> HuabeiError:
    return HuabeiError(code, ErrorKind.UNPROCESSABLE, **params)
