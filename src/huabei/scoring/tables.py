"""Tables of the credit score (migration ``0003_scoring``).

* ``user_facts`` — every fact the host app posted (history, append-only); ``user_facts_current``
  — the value in force per (user, fact): the latest by effective date, then by arrival.
* ``activity_events`` — app activity the host reports (utility payments, credit-card
  repayments, credit services, credit tasks, transfers, app payments ...), counted over windows.
* ``user_contacts`` — the user's contacts (friends in the app) and whether they are verified.
* ``credit_scores`` — every score computed (history kept), with the points of each dimension.
* ``scorecard_activations`` — every challenger card promoted into force (migration ``0017``).

Imported at the bottom of :mod:`huabei.platform.tables` so they share its ``metadata``.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
)

from huabei.platform.tables import TS, Id, Money, metadata

user_facts = Table(
    "user_facts",
    metadata,
    Column("fact_id", Id, primary_key=True, autoincrement=True),
    Column("user_id", String(64), ForeignKey("users.user_id"), nullable=False),
    Column("name", String(64), nullable=False),
    # exactly one of the value columns is set, by the fact's type; all NULL = "no longer known"
    Column("value_int", BigInteger, nullable=True),
    Column("value_bool", Boolean, nullable=True),
    Column("value_text", String(64), nullable=True),
    Column("effective_on", Date, nullable=False),
    Column("source", String(16), nullable=False),
    Column("recorded_at", TS, nullable=False),
)
Index("ix_user_facts_user", user_facts.c.user_id, user_facts.c.name, user_facts.c.fact_id)

user_facts_current = Table(
    "user_facts_current",
    metadata,
    Column("user_id", String(64), ForeignKey("users.user_id"), primary_key=True),
    Column("name", String(64), primary_key=True),
    Column("fact_id", BigInteger, nullable=False),
    Column("value_int", BigInteger, nullable=True),
    Column("value_bool", Boolean, nullable=True),
    Column("value_text", String(64), nullable=True),
    Column("effective_on", Date, nullable=False),
)

activity_events = Table(
    "activity_events",
    metadata,
    Column("event_id", Id, primary_key=True, autoincrement=True),
    Column("user_id", String(64), ForeignKey("users.user_id"), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("occurred_on", Date, nullable=False),
    Column("channel", String(16), nullable=True),
    Column("category", String(32), nullable=True),
    Column("amount", Money, nullable=True),
    Column("external_id", String(128), nullable=True),
    Column("recorded_at", TS, nullable=False),
    CheckConstraint("amount IS NULL OR amount > 0", name="amount_positive"),
)
Index("ix_activity_events_user", activity_events.c.user_id, activity_events.c.occurred_on)
Index("ix_activity_events_day", activity_events.c.occurred_on)
Index("uq_activity_events_external", activity_events.c.user_id, activity_events.c.external_id, unique=True)

user_contacts = Table(
    "user_contacts",
    metadata,
    Column("user_id", String(64), ForeignKey("users.user_id"), primary_key=True),
    Column("contact_user_id", String(64), primary_key=True),
    Column("verified", Boolean, nullable=False),
    Column("added_on", Date, nullable=False),
)

credit_scores = Table(
    "credit_scores",
    metadata,
    Column("score_id", Id, primary_key=True, autoincrement=True),
    Column("user_id", String(64), ForeignKey("users.user_id"), nullable=False),
    Column("as_of", Date, nullable=False),
    Column("score", Integer, nullable=False),
    Column("band", String(16), nullable=False),
    Column("credit_history", Integer, nullable=False),
    Column("behaviour", Integer, nullable=False),
    Column("capacity", Integer, nullable=False),
    Column("identity", Integer, nullable=False),
    Column("connections", Integer, nullable=False),
    Column("reasons", JSON, nullable=False),
    Column("previous_score", Integer, nullable=True),
    Column("scorecard_version", String(64), nullable=False),
    Column("trigger", String(16), nullable=False),
    Column("created_at", TS, nullable=False),
)
Index("ix_credit_scores_user", credit_scores.c.user_id, credit_scores.c.score_id)

#: Every challenger put in force (``huabei score challenge --promote``): the card itself, the one
#: it replaced, who, when, and the comparison on the book it won (``evidence``). The latest row is
#: the card in force; before any, the configured one (``scoring.scorecard_file`` or the default).
scorecard_activations = Table(
    "scorecard_activations",
    metadata,
    Column("activation_id", Id, primary_key=True, autoincrement=True),
    Column("version", String(64), nullable=False),
    Column("fingerprint", String(64), nullable=False),
    Column("card", Text, nullable=False),
    Column("previous", String(64), nullable=False),
    Column("actor", String(64), nullable=False),
    Column("evidence", JSON, nullable=False),
    Column("business_date", Date, nullable=False),
    Column("created_at", TS, nullable=False),
)
Index("ix_credit_scores_as_of", credit_scores.c.as_of)
