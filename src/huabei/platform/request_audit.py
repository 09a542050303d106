"""The audit row of the HTTP request being served, written in the same transaction as the first
state change the request commits.

The access middleware (``huabei.entrypoints.auth.AuditMiddleware``) opens a :class:`RequestAudit`
for each call that may change state; :meth:`huabei.platform.unit_of_work.UnitOfWork.commit` of a
writing unit of work inserts the request's row (actor, route, path, the route's success status)
just before it commits, once per request (with the first line the change's events name as its
``account_id``). A change therefore never commits without the row that
names its actor; a later transaction of the same request commits after it. When the answer is
sent, the middleware completes the row with the status, outcome and error code the client got
when they differ from what was written (a success answered as the route's success status — the
usual case — needs no second transaction), or writes the row then, for a request that changed
nothing: a refusal or a denial. A batch of several requests' changes decided in one transaction
(group commit) writes each request's row in that transaction (:data:`carried`).

The command line opens one for each command (``huabei.entrypoints.cli.common.start_audit``): a
command that changes state is written to the audit log with the operator who ran it as its actor.
"""

from __future__ import annotations

from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any


@dataclass
class RequestAudit:
    #: the row's fields as known before the answer (called at the first commit)
    fields: Callable[[], dict[str, Any]]
    #: the row written in a state change's transaction, if any, and the fields written in it
    audit_id: int | None = None
    written: dict[str, Any] | None = None
    #: the answer was sent: later commits (a background job) are not this request's
    closed: bool = False


current: ContextVar[RequestAudit | None] = ContextVar("huabei_request_audit", default=None)

#: The requests whose changes one transaction decides together (the purchases' group commit,
#: ``huabei.payments.group_commit``): set by the thread that runs the batch, so that its commit
#: writes every one of their rows, each with its own line, in the batch's transaction — not
#: only the row of the request whose thread happens to run it.
carried: ContextVar[tuple[RequestAudit, ...]] = ContextVar("huabei_carried_audits", default=())


def actor(default: str) -> str:
    """The actor of the request or command being served (``default`` outside one)."""
    audit = current.get()
    if audit is None:
        return default
    return str(audit.fields().get("actor") or default)
