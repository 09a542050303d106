"""The risk engine's repository: policy versions and activations, and decisions.

(The feature definitions, one set-based SQL statement each, are in
:mod:`huabei.risk.features`.)
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, func, insert, select, union_all

from huabei.platform.sql import bulk_rows
from huabei.risk import tables as t


class PolicyRepository:
    def __init__(self, conn: Connection):
        self.conn = conn

    def get(self, version: str) -> Any:
        return self.conn.execute(select(t.risk_policies).where(t.risk_policies.c.version == version)).first()

    def add(self, *, version: str, digest: str, source: str, path: str, loaded_by: str, now: dt.datetime) -> None:
        self.conn.execute(
            insert(t.risk_policies).values(
                version=version, digest=digest, source=source, path=path, loaded_by=loaded_by, created_at=now
            )
        )

    def activate(self, version: str, role: str, actor: str, day: dt.date, now: dt.datetime) -> None:
        self.conn.execute(
            insert(t.risk_policy_activations).values(
                version=version, role=role, actor=actor, business_date=day, created_at=now
            )
        )

    def current(self, roles: tuple[str, ...]) -> Any:
        """The latest activation whose role is one of ``roles`` (with its policy), or None."""
        a, p = t.risk_policy_activations.c, t.risk_policies.c
        return self.conn.execute(
            select(t.risk_policy_activations, p.digest, p.source, p.path)
            .join(t.risk_policies, p.version == a.version)
            .where(a.role.in_(roles))
            .order_by(a.activation_id.desc())
            .limit(1)
        ).first()

    def in_force(self) -> list[Any]:
        """The latest ``active`` activation and the latest ``shadow``/``shadow_off`` one (each
        with its policy's digest and path, not its text), in one query: what
        :func:`huabei.risk.service.policies_in_force` checks on every purchase."""
        a, p = t.risk_policy_activations.c, t.risk_policies.c
        latest = union_all(
            select(func.max(a.activation_id)).where(a.role == "active"),
            select(func.max(a.activation_id)).where(a.role.in_(("shadow", "shadow_off"))),
        )
        return list(
            self.conn.execute(
                select(a.activation_id, a.version, a.role, p.digest, p.path)
                .join(t.risk_policies, p.version == a.version)
                .where(a.activation_id.in_(latest))
            )
        )

    def history(self) -> list[Any]:
        a, p = t.risk_policy_activations.c, t.risk_policies.c
        return list(
            self.conn.execute(
                select(a.activation_id, a.version, a.role, a.actor, a.business_date, a.created_at, p.digest)
                .join(t.risk_policies, p.version == a.version)
                .order_by(a.activation_id)
            )
        )


class DecisionRepository:
    def __init__(self, conn: Connection):
        self.conn = conn

    def add_many(self, rows: list[dict[str, Any]]) -> int:
        bulk_rows(self.conn, t.risk_decisions, rows)
        return len(rows)

    def listing(
        self,
        *,
        mode: str | None = None,
        account_id: int | None = None,
        start: dt.date | None = None,
        end: dt.date | None = None,
    ) -> list[Any]:
        c = t.risk_decisions.c
        q = select(t.risk_decisions)
        if mode is not None:
            q = q.where(c.mode == mode)
        if account_id is not None:
            q = q.where(c.account_id == account_id)
        if start is not None:
            q = q.where(c.business_date >= start)
        if end is not None:
            q = q.where(c.business_date <= end)
        return list(self.conn.execute(q.order_by(c.decision_id)))

    def shadow_open(
        self, version: str, account_ids: Sequence[int] | None = None
    ) -> list[tuple[int, str, dt.date, dt.date]]:
        """What the shadow policy ``version`` holds open (see :meth:`held`)."""
        return self.held("shadow", version=version, account_ids=account_ids)

    def held(
        self,
        mode: str,
        *,
        version: str | None = None,
        before: dt.date | None = None,
        account_ids: Sequence[int] | None = None,
    ) -> list[tuple[int, str, dt.date, dt.date]]:
        """What the rules hold open — ``(account_id, rule_id, placed_on, last_signal_on)`` —
        replayed from the decisions of ``mode`` (of one policy ``version``; dated before
        ``before``): restrict opens, signal moves, lift closes."""
        c = t.risk_decisions.c
        q = select(c.account_id, c.rule_id, c.action, c.business_date).where(c.mode == mode)
        if version is not None:
            q = q.where(c.policy_version == version)
        if before is not None:
            q = q.where(c.business_date < before)
        if account_ids is not None:
            q = q.where(c.account_id.in_(list(account_ids)))
        held: dict[tuple[int, str], tuple[dt.date, dt.date]] = {}
        for account_id, rule_id, action, day in self.conn.execute(q.order_by(c.decision_id)):
            key = (account_id, rule_id)
            if action == "restrict":
                held[key] = (day, day)
            elif action == "signal" and key in held:
                held[key] = (held[key][0], day)
            elif action == "lift":
                held.pop(key, None)
        return [(a, r, p, last) for (a, r), (p, last) in sorted(held.items())]


class ExternalCreditRepository:
    """The host's reports of the user's other credit products (借呗, 网商贷, 备用金 …)."""

    def __init__(self, conn: Connection):
        self.conn = conn

    def add(self, **values: Any) -> int:
        c = t.external_credit_reports.c
        return self.conn.execute(insert(t.external_credit_reports).values(**values).returning(c.report_id)).scalar_one()
