"""Limits at the edge of the HTTP API: the size of a request body, control characters in the URL.

A body larger than :data:`MAX_BODY_BYTES` is refused with ``413 request_too_large`` before any
route reads it — from its ``Content-Length``, or, for a body sent in chunks, by counting while
it arrives (nothing is parsed or stored). Free-form fields have their own caps
(``schemas.FreeForm``)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

#: The largest request body (the largest legitimate one, a list of 5,000 contacts, is ~0.4 MB).
MAX_BODY_BYTES = 1_048_576

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


class BodyLimit:
    """ASGI middleware: refuse bodies over ``max_bytes`` with ``too_large(scope, receive, send)``."""

    def __init__(self, app: ASGIApp, too_large: ASGIApp, max_bytes: int = MAX_BODY_BYTES):
        self.app, self.too_large, self.max_bytes = app, too_large, max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        length = dict(scope.get("headers") or []).get(b"content-length")
        if length is not None:
            try:
                too_big = int(length) > self.max_bytes
            except ValueError:
                too_big = False
            if too_big:
                await self.too_large(scope, receive, send)
                return
            await self.app(scope, receive, send)
            return
        # no Content-Length (chunked): read it all, counting, then hand it on
        messages: list[Message] = []
        size = 0
        while True:
            message = await receive()
            messages.append(message)
            if message["type"] != "http.request":
                break
            size += len(message.get("body", b""))
            if size > self.max_bytes:
                await self.too_large(scope, receive, send)
                return
            if not message.get("more_body", False):
                break

        async def replay() -> Message:
            return messages.pop(0) if messages else await receive()

        await self.app(scope, replay, send)


class PrintableUrl:
    """ASGI middleware: a control character (NUL …) in the path or the query is refused with
    ``bad(field)`` (an ASGI app) before any route runs: a path id such as ``/v1/users/a%00``
    never reaches the database. ``is_bad(text)`` says whether a text holds one. (Plain ASGI,
    not ``BaseHTTPMiddleware``: it costs nothing on the hot path.)"""

    def __init__(self, app: ASGIApp, bad: Callable[[str], ASGIApp], is_bad: Callable[[str], bool]):
        self.app, self.bad, self.is_bad = app, bad, is_bad

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            field = self._bad_field(scope)
            if field is not None:
                await self.bad(field)(scope, receive, send)
                return
        await self.app(scope, receive, send)

    def _bad_field(self, scope: Scope) -> str | None:
        if self.is_bad(scope["path"]):
            return "path"
        query = scope.get("query_string") or b""
        if not query:
            return None
        from urllib.parse import parse_qsl

        for name, value in parse_qsl(query.decode("latin-1"), keep_blank_values=True):
            if self.is_bad(name) or self.is_bad(value):
                return name if not self.is_bad(name) else "query"
        return None
