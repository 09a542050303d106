"""Repositories of the credit score: facts, contacts, activity events and scores (the score's
own tables; what it reads of the rest of the book — users, lines, purchases, overdue events,
restrictions — is in :mod:`huabei.scoring.book`).

Batch readers (``*_by_user``) are set-based: one aggregate query for the whole population
(or for the users of ``user_ids``), never one query per user. They return plain tuples
that :mod:`huabei.scoring.service` turns into numpy columns.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from functools import cache
from typing import Any

from sqlalchemy import (
    Connection,
    Date,
    bindparam,
    case,
    delete,
    func,
    insert,
    literal,
    null,
    select,
    update,
)

from huabei.platform.sql import add_returning_id, bulk_insert, fetch_rows, for_users, user_params
from huabei.scoring import book
from huabei.scoring import tables as ts


def _in(column: Any, user_ids: Sequence[str] | None) -> Any:
    return literal(True) if user_ids is None else column.in_(list(user_ids))


_START = bindparam("start", type_=Date)
_AS_OF = bindparam("as_of", type_=Date)


@cache
def _current_facts_stmt(names: tuple[tuple[str, str], ...], filtered: bool) -> Any:
    c = ts.user_facts_current.c
    cols = [c.user_id]
    for name, kind in names:
        if kind == "int":
            value: Any = c.value_int
        elif kind == "bool":
            value = case((c.value_bool.is_(True), 1), (c.value_bool.is_(False), 0), else_=null())
        else:
            value = c.value_text
        cols.append(func.max(case((c.name == name, value), else_=null())).label(name))
    cols.append(
        func.max(case((c.name == "credit_history_months", c.effective_on), else_=null())).label(
            "credit_history_months__on"
        )
    )
    return select(*cols).where(for_users(c.user_id, filtered)).group_by(c.user_id)


@cache
def _event_counts_stmt(kinds: tuple[str, ...], filtered: bool) -> Any:
    e = ts.activity_events.c
    cols = [func.sum(case((e.kind == k, 1), else_=0)).label(k) for k in kinds]
    return (
        select(e.user_id, *cols)
        .where(
            e.occurred_on >= _START, e.occurred_on <= _AS_OF, e.kind.in_(list(kinds)), for_users(e.user_id, filtered)
        )
        .group_by(e.user_id)
    )


@cache
def _latest_points_stmt(filtered: bool) -> Any:
    s = ts.credit_scores.c
    latest = (
        select(func.max(s.score_id).label("sid")).where(for_users(s.user_id, filtered)).group_by(s.user_id).subquery()
    )
    return select(
        s.user_id, s.score, s.band, s.credit_history, s.behaviour, s.capacity, s.identity, s.connections
    ).select_from(ts.credit_scores.join(latest, latest.c.sid == s.score_id))


class FactRepository:
    """Host-app facts (``user_facts`` history, ``user_facts_current`` in force), contacts, activity events."""

    def __init__(self, conn: Connection):
        self.conn = conn

    # -- facts ----------------------------------------------------------------------

    def record(
        self, user_id: str, name: str, values: dict[str, Any], effective_on: dt.date, source: str, now: dt.datetime
    ) -> tuple[int, bool]:
        """One fact: :meth:`record_many` of ``{name: values}``."""
        return self.record_many(user_id, {name: values}, effective_on, source, now)[name]

    def record_many(
        self, user_id: str, facts: dict[str, dict[str, Any]], effective_on: dt.date, source: str, now: dt.datetime
    ) -> dict[str, tuple[int, bool]]:
        """Append facts (name → values, in order) to the history and make each current if it
        is the latest; returns name → (fact id, whether it is now the value in force). A
        fixed number of statements whatever the number of facts: one insert into the
        history (executemany), one read of the new fact ids, one of the values in force, then at
        most one delete, one update (executemany) and one insert.

        ``values`` hold ``value_int`` / ``value_bool`` / ``value_text`` (all None: the fact is
        no longer known, and the current value is removed). Latest = greatest
        (effective_on, fact_id); the caller holds the user's row lock.
        """
        if not facts:
            return {}
        f, cur = ts.user_facts, ts.user_facts_current
        names = list(facts)
        self.conn.execute(
            insert(f),
            [
                {
                    "user_id": user_id,
                    "name": name,
                    "effective_on": effective_on,
                    "source": source,
                    "recorded_at": now,
                    **facts[name],
                }
                for name in names
            ],
        )
        # under the user's lock, the user's newest fact of each name is the one just appended (an
        # ordered INSERT … RETURNING of many rows runs row by row on SQLite)
        newest = dict(
            self.conn.execute(
                select(f.c.name, func.max(f.c.fact_id))
                .where(f.c.user_id == user_id, f.c.name.in_(names))
                .group_by(f.c.name)
            ).all()
        )
        ids = [newest[name] for name in names]
        in_force = {
            r.name: (r.effective_on, r.fact_id)
            for r in self.conn.execute(
                select(cur.c.name, cur.c.effective_on, cur.c.fact_id).where(
                    cur.c.user_id == user_id, cur.c.name.in_(names)
                )
            )
        }
        out: dict[str, tuple[int, bool]] = {}
        removed: list[str] = []
        updated: list[dict[str, Any]] = []
        added: list[dict[str, Any]] = []
        for name, fact_id in zip(names, ids):
            values = facts[name]
            held = in_force.get(name)
            current = held is None or held <= (effective_on, fact_id)  # else a late, older observation: history only
            out[name] = (fact_id, current)
            if not current:
                continue
            if all(v is None for v in values.values()):
                if held is not None:
                    removed.append(name)
            elif held is not None:
                updated.append({"k_name": name, "fact_id": fact_id, "effective_on": effective_on, **values})
            else:
                added.append(
                    {"user_id": user_id, "name": name, "fact_id": fact_id, "effective_on": effective_on, **values}
                )
        if removed:
            self.conn.execute(delete(cur).where(cur.c.user_id == user_id, cur.c.name.in_(removed)))
        if updated:
            self.conn.execute(update(cur).where(cur.c.user_id == user_id, cur.c.name == bindparam("k_name")), updated)
        if added:
            self.conn.execute(insert(cur), added)
        return out

    def history(self, user_id: str, limit: int) -> list[Any]:
        f = ts.user_facts.c
        return list(
            self.conn.execute(select(ts.user_facts).where(f.user_id == user_id).order_by(f.fact_id.desc()).limit(limit))
        )

    def lock_user(self, user_id: str) -> Any:
        """The user row, locked for the transaction (serialises fact updates of one user)."""
        return book.lock_user(self.conn, user_id)

    # -- contacts -------------------------------------------------------------------

    def replace_contacts(self, user_id: str, contacts: Sequence[tuple[str, bool]], today: dt.date) -> None:
        c = ts.user_contacts
        old = dict(self.conn.execute(select(c.c.contact_user_id, c.c.added_on).where(c.c.user_id == user_id)).all())
        self.conn.execute(delete(c).where(c.c.user_id == user_id))
        if contacts:
            self.conn.execute(
                insert(c),
                [
                    {"user_id": user_id, "contact_user_id": cid, "verified": verified, "added_on": old.get(cid, today)}
                    for cid, verified in contacts
                ],
            )

    def contacts(self, user_id: str) -> list[Any]:
        c = ts.user_contacts.c
        return list(self.conn.execute(select(ts.user_contacts).where(c.user_id == user_id).order_by(c.contact_user_id)))

    # -- activity events --------------------------------------------------------------

    def existing_external_ids(self, user_id: str, external_ids: Iterable[str]) -> set[str]:
        e = ts.activity_events.c
        ids = list(external_ids)
        if not ids:
            return set()
        return set(
            self.conn.execute(select(e.external_id).where(e.user_id == user_id, e.external_id.in_(ids))).scalars()
        )

    def add_events(self, rows: list[dict[str, Any]]) -> None:
        if rows:
            self.conn.execute(insert(ts.activity_events), rows)

    def events(self, user_id: str, limit: int) -> list[Any]:
        e = ts.activity_events.c
        return list(
            self.conn.execute(
                select(ts.activity_events).where(e.user_id == user_id).order_by(e.event_id.desc()).limit(limit)
            )
        )

    # -- batch readers ----------------------------------------------------------------

    def users_by_user(self, user_ids: Sequence[str] | None) -> list[Any]:
        """user_id, real_name_verified, phone and the profile fields the facts read, by user."""
        return fetch_rows(self.conn, book.users_stmt(user_ids is not None), user_params(user_ids))

    def current_facts_by_user(self, names: Sequence[tuple[str, str]], user_ids: Sequence[str] | None) -> list[Any]:
        """One row per user with a current fact: the value of every fact of ``names``
        (``(name, kind)`` with kind int / bool / str; booleans as 0/1) and, for
        ``credit_history_months``, the date it was effective on (``credit_history_months__on``)."""
        return fetch_rows(self.conn, _current_facts_stmt(tuple(names), user_ids is not None), user_params(user_ids))

    def activity_by_user(self, start: dt.date, as_of: dt.date, user_ids: Sequence[str] | None) -> list[Any]:
        """Over ``start ≤ day ≤ as_of``: payments (purchases not fully refunded, app payments,
        utility payments), offline payments, distinct categories paid, distinct active days
        (any purchase or activity event), by user."""
        return fetch_rows(
            self.conn, book.activity_stmt(user_ids is not None), user_params(user_ids, start=start, as_of=as_of)
        )

    def event_counts_by_user(
        self, kinds: Sequence[str], start: dt.date, as_of: dt.date, user_ids: Sequence[str] | None
    ) -> list[Any]:
        """How many events of each of ``kinds`` each user had over ``start ≤ day ≤ as_of``."""
        return fetch_rows(
            self.conn,
            _event_counts_stmt(tuple(kinds), user_ids is not None),
            user_params(user_ids, start=start, as_of=as_of),
        )

    def contacts_by_user(self, threshold: int, user_ids: Sequence[str] | None) -> list[Any]:
        """Per user: verified contacts, those whose standing huabei knows (they have a score),
        and those in good standing (latest score ≥ ``threshold`` and no overdue open line)."""
        return fetch_rows(
            self.conn, book.contacts_stmt(user_ids is not None), user_params(user_ids, threshold=threshold)
        )


class ScoreRepository:
    def __init__(self, conn: Connection):
        self.conn = conn

    def promoted_card(self) -> Any:
        """The latest promoted card (``scorecard_activations``), or None: the configured one is in force."""
        a = ts.scorecard_activations.c
        return self.conn.execute(
            select(a.activation_id, a.version, a.fingerprint, a.card).order_by(a.activation_id.desc()).limit(1)
        ).first()

    def promote_card(
        self,
        *,
        version: str,
        fingerprint: str,
        card: str,
        previous: str,
        actor: str,
        evidence: dict[str, Any],
        day: dt.date,
        now: dt.datetime,
    ) -> int:
        return add_returning_id(
            self.conn,
            ts.scorecard_activations,
            {
                "version": version,
                "fingerprint": fingerprint,
                "card": card,
                "previous": previous,
                "actor": actor,
                "evidence": evidence,
                "business_date": day,
                "created_at": now,
            },
        )

    def card_promotions(self) -> list[Any]:
        a = ts.scorecard_activations.c
        return list(
            self.conn.execute(
                select(a.activation_id, a.version, a.previous, a.actor, a.business_date, a.evidence).order_by(
                    a.activation_id
                )
            )
        )

    def add_columns(self, columns: dict[str, list[Any]]) -> int:
        """Score rows given column by column (the batch path: :func:`bulk_insert`)."""
        return bulk_insert(self.conn, ts.credit_scores, columns)

    def add(self, **values: Any) -> int:
        return add_returning_id(self.conn, ts.credit_scores, values)

    def _latest_ids(self, user_ids: Sequence[str] | None, on_or_before: dt.date | None = None) -> Any:
        s = ts.credit_scores.c
        q = select(func.max(s.score_id).label("sid")).where(_in(s.user_id, user_ids))
        if on_or_before is not None:
            q = q.where(s.as_of <= on_or_before)
        return q.group_by(s.user_id).subquery()

    def latest_by_user(self, user_ids: Sequence[str] | None, on_or_before: dt.date | None = None) -> list[Any]:
        """The latest stored score of each user (of ``user_ids``), optionally as of a date."""
        latest = self._latest_ids(user_ids, on_or_before)
        s = ts.credit_scores
        return self.conn.execute(select(s).join(latest, latest.c.sid == s.c.score_id).order_by(s.c.user_id)).all()

    def latest_points(self, user_ids: Sequence[str] | None) -> list[Any]:
        """(user_id, score, band and the five dimension points) of each user's latest score."""
        return fetch_rows(self.conn, _latest_points_stmt(user_ids is not None), user_params(user_ids))

    def scores_on(self, day: dt.date) -> list[int]:
        """Each user's latest score with ``as_of <= day`` (the population of that date, for PSI)."""
        latest = self._latest_ids(None, day)
        s = ts.credit_scores.c
        return list(
            self.conn.execute(
                select(s.score).select_from(ts.credit_scores.join(latest, latest.c.sid == s.score_id))
            ).scalars()
        )

    def band_counts_on(self, day: dt.date, cuts: Sequence[int]) -> list[int]:
        """How many users' latest score with ``as_of <= day`` falls in each bin of ``cuts`` (bin i:
        ``cuts[i-1] <= score < cuts[i]``, open at both ends) — one GROUP BY, whatever the book."""
        latest = self._latest_ids(None, day)
        s = ts.credit_scores.c
        band = case(*((s.score < c, i) for i, c in enumerate(cuts)), else_=len(cuts))
        counts = [0] * (len(cuts) + 1)
        rows = self.conn.execute(
            select(band, func.count())
            .select_from(ts.credit_scores.join(latest, latest.c.sid == s.score_id))
            .group_by(band)
        )
        for i, n in rows:
            counts[int(i)] = int(n)
        return counts

    def history(self, user_id: str, limit: int, starting_after: int | None = None) -> list[Any]:
        s = ts.credit_scores.c
        q = select(ts.credit_scores).where(s.user_id == user_id)
        if starting_after is not None:
            q = q.where(s.score_id < starting_after)
        return list(self.conn.execute(q.order_by(s.score_id.desc()).limit(limit + 1)))


__all__ = ["FactRepository", "ScoreRepository"]
