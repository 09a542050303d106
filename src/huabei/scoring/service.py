"""Use cases of the credit score (芝麻信用分): facts, activity, scoring, history, PSI, EOD steps.

Facts
    A user's facts (the inputs of :data:`huabei.scoring.scorecard.FACTS` and of the limit
    policy) come from three places, combined by :func:`collect_facts` for everyone at once
    with a few aggregate queries (or for one user with the same queries and a filter):

    * the system's own tables — payment activity from ``purchases`` (90 days), the line's
      utilisation from ``credit_accounts``, credit-history length from the first line's
      ``opened_on``, raise applications from ``limit_raise_applications``, completed raise
      challenges from ``campaign_enrolments`` and the repayment record from the
      delinquency events of the ``domain_events`` outbox (:func:`repayment_record`);
    * activity events the host app posts (``POST /v1/users/{id}/activity-events``): app
      payments, utility payments, credit-card repayments, credit services, credit tasks,
      transfers and collections, counted over 90 days / 12 months;
    * facts the host app posts (``POST /v1/users/{id}/facts``; typed, validated with
      :func:`~huabei.scoring.scorecard.check_facts`, time-stamped, history kept, the latest
      effective value wins), with the user record and profile as fallback for identity.

    docs/scoring.md ("Where each fact comes from") has the table of sources and of how
    they combine.

Scores
    A rescoring is a batch step (``huabei.batch.steps``): :func:`read_rescore` reads the
    facts and the previous scores, :func:`decide_rescore` scores them with
    :meth:`Scorecard.score_batch_explained` (pure), :func:`write_rescore` stores one
    ``credit_scores`` row per user in one batched insert (history kept, the five dimensions'
    points, the top reason codes, the previous score) and a ``ScoreChanged`` event per change.
    :func:`refresh_scores` runs the three now; :func:`score_user` is the same path for one user.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from huabei import errors, reasons
from huabei.config import ProductTerms, ScoringTerms
from huabei.events import ScoreChanged
from huabei.i18n import N_
from huabei.platform.unit_of_work import Huabei, UnitOfWork
from huabei.scoring.collect import (
    ACTIVITY_KINDS,
    ALL_FACT_SPECS,
    SCORE_TRIGGERS,
    SYSTEM_ONLY_FACTS,
    Aligner,
    Population,
    card_in_force,
    collect_facts,
    fact_kind,
    int_or_zero,
    scorecard_for,
    unknown,
)
from huabei.scoring.dimensions import BAND_ZH, BANDS, DIMENSION_ZH, DIMENSIONS, bands_of
from huabei.scoring.facts import (
    POLICY_FACT_SPECS,
    FactError,
    check_facts,
    check_policy_facts,
)
from huabei.scoring.scorecard import FactValue, Scorecard
from huabei.scoring.stability import population_stability_index, psi_from_counts, psi_interpretation

# ---------------------------------------------------------------------------------------
# Scoring and storing
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Scored:
    """Scores of a population (aligned with it) and what was stored."""

    scores: np.ndarray
    dims: dict[str, np.ndarray]
    reasons: list[list[str]]
    version: str


def score_population(pop: Population, card: Scorecard) -> Scored:
    out = card.score_batch_explained({f.name: pop.columns.get(f.name) for f in card.features})
    return Scored(scores=out.scores, dims=out.dimensions, reasons=out.reason_lists(), version=card.version)


@dataclass(frozen=True)
class RescoreSnapshot:
    """What a rescoring reads: the facts of every user (or of some) as of a date, and each
    user's latest stored score (``previous``: ``score``, ``band`` and the five dimensions,
    aligned with ``population.user_ids``; ``None`` where the user was never scored)."""

    population: Population
    previous: dict[str, np.ndarray]
    #: The card in force when the snapshot was read (a promoted one, else the configured one).
    card: Scorecard | None = None


@dataclass(frozen=True)
class ScoreChange:
    """A user's score moved from their previous one (the ``ScoreChanged`` event)."""

    user_id: str
    account_id: int | None  # the user's open line, if any
    old_score: int
    new_score: int
    old_band: str
    new_band: str
    dimension_changes: dict[str, int]  # new minus old points, per dimension
    reasons: list[str]  # the new score's reason codes


@dataclass(frozen=True)
class Rescore:
    """The decisions of a rescoring: every user's new score (aligned with the population),
    the previous score each row records, and the changes to announce."""

    population: Population
    scored: Scored
    bands: np.ndarray
    previous_score: list[int | None]
    changes: list[ScoreChange]


def read_rescore(
    uow: UnitOfWork, day: dt.date, *, user_ids: Sequence[str] | None = None, population: Population | None = None
) -> RescoreSnapshot:
    """The snapshot of a rescoring as of ``day`` (the unit of work's business date), set-based."""
    pop = population if population is not None else collect_facts(uow, as_of=day, user_ids=user_ids)
    card = card_in_force(uow)
    if len(pop) == 0:
        return RescoreSnapshot(pop, {}, card)
    previous = Aligner(pop.user_ids)(uow.scores.latest_points(user_ids), ["score", "band", *DIMENSIONS])
    return RescoreSnapshot(pop, previous, card)


def decide_rescore(snapshot: RescoreSnapshot, terms: ProductTerms, day: dt.date) -> Rescore:
    """Score the snapshot with the card in force (pure: the same snapshot and terms, the same scores)."""
    pop = snapshot.population
    scored = score_population(pop, snapshot.card or scorecard_for(terms.scoring))
    if len(pop) == 0:
        return Rescore(pop, scored, np.array([], dtype=object), [], [])
    prev = snapshot.previous
    known = ~unknown(prev["score"])
    prev_score = int_or_zero(prev["score"])
    bands = bands_of(scored.scores)
    changes = [
        ScoreChange(
            user_id=pop.user_ids[i],
            account_id=int(pop.account_id[i]) or None,
            old_score=int(prev_score[i]),
            new_score=int(scored.scores[i]),
            old_band=prev["band"][i],
            new_band=bands[i],
            dimension_changes={d: int(scored.dims[d][i]) - int(prev[d][i]) for d in DIMENSIONS},
            reasons=scored.reasons[i],
        )
        for i in np.flatnonzero(known & (prev_score != scored.scores)).tolist()
    ]
    return Rescore(pop, scored, bands, np.where(known, prev_score, None).tolist(), changes)


def write_rescore(uow: UnitOfWork, rescore: Rescore, trigger: str) -> int:
    """One ``credit_scores`` row per user (one bulk insert, built column by column) and a
    ``ScoreChanged`` event for every user whose score moved. Returns the number of users scored."""
    if trigger not in SCORE_TRIGGERS:
        raise ValueError(f"unknown score trigger {trigger!r}")
    pop, scored = rescore.population, rescore.scored
    n = len(pop)
    if n == 0:
        return 0
    now, today = uow.now(), pop.as_of
    columns: dict[str, list[Any]] = {
        "user_id": pop.user_ids.tolist(),
        "as_of": [today] * n,
        "score": scored.scores.tolist(),
        "band": rescore.bands.tolist(),
        **{d: scored.dims[d].tolist() for d in DIMENSIONS},
        "reasons": scored.reasons,
        "previous_score": rescore.previous_score,
        "scorecard_version": [scored.version] * n,
        "trigger": [trigger] * n,
        "created_at": [now] * n,
    }
    uow.scores.add_columns(columns)
    uow.events.record_many(
        [
            ScoreChanged(
                account_id=c.account_id,
                user_id=c.user_id,
                old_score=c.old_score,
                new_score=c.new_score,
                old_band=c.old_band,
                new_band=c.new_band,
                dimension_changes=c.dimension_changes,
                reasons=c.reasons,
                trigger=trigger,
            )
            for c in rescore.changes
        ],
        business_date=today,
        now=now,
    )
    return n


def refresh_scores(
    uow: UnitOfWork,
    *,
    trigger: str = "scheduled",
    user_ids: Sequence[str] | None = None,
    population: Population | None = None,
) -> int:
    """Score every user (or ``user_ids``) as of the business date and store the scores. Returns the count."""
    day = uow.today()
    snapshot = read_rescore(uow, day, user_ids=user_ids, population=population)
    return write_rescore(uow, decide_rescore(snapshot, uow.terms, day), trigger)


def rescoring_due(terms: ProductTerms, day: dt.date) -> bool:
    """The end-of-day rescoring runs on its scheduled day (``scoring.refresh_cadence`` / ``refresh_day``)."""
    return is_scheduled(day, terms.scoring.refresh_cadence, terms.scoring.refresh_day)


def score_user(
    uow: UnitOfWork, user_id: str, trigger: str, *, adjust: Callable[[Population], None] | None = None
) -> tuple[Population, dict[str, Any]]:
    """Score one user now, store it, and return the user's population row and the stored score
    view. ``adjust`` may correct the facts first (an application being made counts itself)."""
    pop = collect_facts(uow, user_ids=[user_id])
    if len(pop) == 0:
        raise errors.not_found("user_not_found", user_id=user_id)
    if adjust is not None:
        adjust(pop)
    refresh_scores(uow, trigger=trigger, user_ids=[user_id], population=pop)
    row = uow.scores.latest_by_user([user_id])[0]
    return pop, score_view(row, uow.terms.scoring, card=card_in_force(uow))


# ---------------------------------------------------------------------------------------
# Views
# ---------------------------------------------------------------------------------------


def reason_params(terms: ProductTerms) -> dict[str, Any]:
    """Parameters some reason texts take (the threshold, the application cool-off)."""
    return {"threshold": terms.scoring.opening_threshold, "days": terms.raises.application_cooldown_days}


def reason_items(codes: Sequence[str], params: Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
    """Reason codes with their texts (en and zh_CN): ``code``, ``message``, ``message_zh``,
    ``remedy``, ``remedy_zh``. A placeholder ``params`` cannot fill (an operator hold's
    ``{note}`` in a list of reasons) is left out, with the colon before it."""
    out = []
    for code in codes:
        missing = reasons.placeholders(code) - set(params or {})
        body = reasons.render(code, {**dict.fromkeys(missing, ""), **(params or {})})
        if missing:
            for key in ("message", "message_zh"):
                if body[key]:
                    body[key] = body[key].rstrip().rstrip(":：").rstrip()
        out.append(body)
    return out


def score_view(
    row: Any, terms: ScoringTerms, *, provisional: bool = False, card: Scorecard | None = None
) -> dict[str, Any]:
    card = card or scorecard_for(terms)
    spreads = card.dimension_spreads()
    return {
        "user_id": row.user_id,
        "score": row.score,
        "band": row.band,
        "band_zh": BAND_ZH[row.band],
        "dimensions": [
            {"dimension": d, "name_zh": DIMENSION_ZH[d], "points": getattr(row, d), "max_points": spreads[d]}
            for d in DIMENSIONS
        ],
        "reasons": reason_items(row.reasons, {"threshold": terms.opening_threshold}),
        "as_of": row.as_of.isoformat(),
        "previous_score": row.previous_score,
        "scorecard_version": row.scorecard_version,
        "trigger": row.trigger,
        "score_id": getattr(row, "score_id", None),
        "provisional": provisional,
    }


@dataclass
class _Row:
    user_id: str
    score: int
    band: str
    credit_history: int
    behaviour: int
    capacity: int
    identity: int
    connections: int
    reasons: list[str]
    as_of: dt.date
    previous_score: int | None
    scorecard_version: str
    trigger: str
    score_id: int | None = None


def get_score(system: Huabei, user_id: str) -> dict[str, Any]:
    """The user's latest stored score; a user never scored gets a provisional score computed
    now from their facts (not stored: a read changes nothing)."""
    with system.uow(readonly=True) as uow:
        if not uow.users.exists(user_id):
            raise errors.not_found("user_not_found", user_id=user_id)
        rows = uow.scores.latest_by_user([user_id])
        if rows:
            return score_view(rows[0], uow.terms.scoring, card=card_in_force(uow))
        pop = collect_facts(uow, user_ids=[user_id])
        card = card_in_force(uow)
        scored = score_population(pop, card)
        s = int(scored.scores[0])
        row = _Row(
            user_id=user_id,
            score=s,
            band=str(bands_of(scored.scores)[0]),
            **{d: int(scored.dims[d][0]) for d in DIMENSIONS},
            reasons=scored.reasons[0],
            as_of=pop.as_of,
            previous_score=None,
            scorecard_version=scored.version,
            trigger="provisional",
        )
        return score_view(row, uow.terms.scoring, provisional=True, card=card)


def score_history(
    system: Huabei, user_id: str, *, limit: int = 24, starting_after: int | None = None
) -> dict[str, Any]:
    with system.uow(readonly=True) as uow:
        if not uow.users.exists(user_id):
            raise errors.not_found("user_not_found", user_id=user_id)
        rows = uow.scores.history(user_id, limit, starting_after)
        page = rows[:limit]
        return {
            "data": [score_view(r, uow.terms.scoring, card=card_in_force(uow)) for r in page],
            "has_more": len(rows) > limit,
            "next_cursor": page[-1].score_id if len(rows) > limit else None,
        }


def refresh_user(system: Huabei, user_id: str) -> dict[str, Any]:
    """Operator: rescore one user now (stored, trigger ``operator``)."""
    with system.uow() as uow:
        if uow.facts.lock_user(user_id) is None:
            raise errors.not_found("user_not_found", user_id=user_id)
        _, view = score_user(uow, user_id, "operator")
        uow.commit()
        return view


def refresh_all(system: Huabei) -> int:
    """Operator: rescore everyone now (trigger ``operator``)."""
    with system.uow() as uow:
        n = refresh_scores(uow, trigger="operator")
        uow.commit()
        return n


def psi(system: Huabei, date_from: dt.date, date_to: dt.date, bins: int | Sequence[int] = 10) -> dict[str, Any]:
    """Population stability of the score between two dates: each user's latest stored score
    on or before ``date_from`` (expected) against on or before ``date_to`` (actual)."""
    with system.uow(readonly=True) as uow:
        expected = uow.scores.scores_on(date_from)
        actual = uow.scores.scores_on(date_to)
    for day, got in ((date_from, expected), (date_to, actual)):
        if not got:
            raise errors.unprocessable("no_scores", date=day.isoformat())
    value = population_stability_index(expected, actual, bins)
    band_psi = population_stability_index(expected, actual, [lo for _, lo in BANDS[1:]])
    return {
        "from": date_from.isoformat(),
        "to": date_to.isoformat(),
        "psi": str(value),
        "interpretation": psi_interpretation(value),
        "band_psi": str(band_psi),
        "expected_count": len(expected),
        "actual_count": len(actual),
        "expected_mean": round(float(np.mean(expected)), 1),
        "actual_mean": round(float(np.mean(actual)), 1),
    }


def band_stability(system: Huabei, days: Sequence[dt.date]) -> list[dict[str, Any]]:
    """The score bands' population on each of ``days`` (each user's latest score on or before it,
    counted in the database) and its PSI against the day before it in the list: the ``band_psi``
    of :func:`psi` for each pair, from one GROUP BY per day (the risk dashboard)."""
    cuts = [lo for _, lo in BANDS[1:]]
    with system.uow(readonly=True) as uow:
        counts = [uow.scores.band_counts_on(d, cuts) for d in days]
    out: list[dict[str, Any]] = []
    for i, (day, c) in enumerate(zip(days, counts, strict=True)):
        value = None
        if i and sum(c) and sum(counts[i - 1]):
            value = psi_from_counts(counts[i - 1], c)
        out.append(
            {
                "date": day.isoformat(),
                "bands": {name: n for (name, _lo), n in zip(BANDS, c, strict=True)},
                "psi": str(value) if value is not None else None,
                "interpretation": psi_interpretation(value) if value is not None else None,
            }
        )
    return out


# ---------------------------------------------------------------------------------------
# Host inputs: facts, activity events, contacts
# ---------------------------------------------------------------------------------------


def _fact_error(e: FactError) -> errors.HuabeiError:
    return errors.invalid(e.code, field=e.field, detail=e.detail, **e.params)


def validate_facts(facts: Mapping[str, Any]) -> dict[str, FactValue]:
    """Type- and range-check facts a host posts; refuse facts only huabei computes."""
    score_facts = {k: v for k, v in facts.items() if k not in POLICY_FACT_SPECS}
    policy_facts = {k: v for k, v in facts.items() if k in POLICY_FACT_SPECS}
    for name in facts:
        if name in SYSTEM_ONLY_FACTS:
            raise errors.invalid("fact_not_accepted", field=name)
    try:
        out = check_facts(score_facts, partial=True)
        out.update(check_policy_facts(policy_facts))
    except FactError as e:
        raise _fact_error(e) from None
    return out


def _values(name: str, value: FactValue) -> dict[str, Any]:
    kind = fact_kind(ALL_FACT_SPECS[name])
    return {
        "value_int": value if kind == "int" else None,
        "value_bool": value if kind == "bool" else None,
        "value_text": value if kind == "str" else None,
    }


def post_facts(
    system: Huabei,
    user_id: str,
    facts: Mapping[str, Any],
    *,
    effective_on: dt.date | None = None,
    source: str = "host_app",
) -> dict[str, Any]:
    """Record facts the host app knows (validated, time-stamped, history kept; the latest
    effective value of each fact wins). ``real_name_verified`` also updates the user record."""
    if not facts:
        raise errors.invalid("invalid_request", detail=N_("give at least one fact"))
    checked = validate_facts(facts)
    with system.uow() as uow:
        user = uow.facts.lock_user(user_id)
        if user is None:
            raise errors.not_found("user_not_found", user_id=user_id)
        today, now = uow.today(), uow.now()
        day = effective_on or today
        if day > today:
            raise errors.unprocessable("date_in_future", date=day.isoformat(), today=today.isoformat())
        names = sorted(checked)
        stored = uow.facts.record_many(
            user_id, {name: _values(name, checked[name]) for name in names}, day, source, now
        )
        recorded = [
            {"fact_id": stored[name][0], "name": name, "value": checked[name], "current": stored[name][1]}
            for name in names
        ]
        verified = checked.get("real_name_verified")
        if isinstance(verified, bool) and stored["real_name_verified"][1]:
            uow.users.set_real_name_verified(user_id, verified)
        uow.commit()
        return {"user_id": user_id, "effective_on": day.isoformat(), "source": source, "recorded": recorded}


def current_facts(system: Huabei, user_id: str) -> dict[str, Any]:
    """Every fact of the user as the score would read it today."""
    with system.uow(readonly=True) as uow:
        if not uow.users.exists(user_id):
            raise errors.not_found("user_not_found", user_id=user_id)
        pop = collect_facts(uow, user_ids=[user_id])
        return {"user_id": user_id, "as_of": pop.as_of.isoformat(), "facts": pop.facts_of(0)}


def record_activity(system: Huabei, user_id: str, events: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Store activity events (all or nothing). An event whose ``external_id`` the user already
    sent is skipped (a retry), and counted in ``duplicates``."""
    if not events:
        raise errors.invalid("invalid_request", detail=N_("give at least one event"))
    with system.uow() as uow:
        if uow.facts.lock_user(user_id) is None:
            raise errors.not_found("user_not_found", user_id=user_id)
        today, now = uow.today(), uow.now()
        allowed = set(uow.terms.categories.allowed)
        rows = []
        seen: set[str] = set()
        for k, e in enumerate(events):
            kind = e.get("kind")
            if kind not in ACTIVITY_KINDS:
                raise errors.invalid(
                    "invalid_request",
                    detail=N_("{field}: one of {expected}"),
                    field=f"events.{k}.kind",
                    expected=", ".join(ACTIVITY_KINDS),
                )
            day = e.get("occurred_on")
            if not isinstance(day, dt.date):
                raise errors.invalid("invalid_date")
            if day > today:
                raise errors.unprocessable("date_in_future", date=day.isoformat(), today=today.isoformat())
            category = e.get("category")
            if category is not None and category not in allowed:
                raise errors.invalid("invalid_category", category=category)
            channel = e.get("channel")
            if kind == "payment" and (channel is None or category is None):
                raise errors.invalid(
                    "invalid_request",
                    detail=N_("{field}: a payment needs a channel and a category"),
                    field=f"events.{k}",
                )
            amount = e.get("amount")
            if amount is not None and (isinstance(amount, bool) or not isinstance(amount, int) or amount <= 0):
                raise errors.invalid("invalid_amount")
            ext = e.get("external_id")
            if ext is not None:
                if ext in seen:
                    continue
                seen.add(ext)
            rows.append(
                {
                    "user_id": user_id,
                    "kind": kind,
                    "occurred_on": day,
                    "channel": channel,
                    "category": category,
                    "amount": amount,
                    "external_id": ext,
                    "recorded_at": now,
                }
            )
        dupes = uow.facts.existing_external_ids(user_id, [r["external_id"] for r in rows if r["external_id"]])
        fresh = [r for r in rows if r["external_id"] not in dupes or r["external_id"] is None]
        uow.facts.add_events(fresh)
        uow.commit()
        return {"user_id": user_id, "recorded": len(fresh), "duplicates": len(events) - len(fresh)}


def replace_contacts(system: Huabei, user_id: str, contacts: Sequence[tuple[str, bool]]) -> dict[str, Any]:
    """The user's contacts (friends in the app), replacing the previous list."""
    ids = [c for c, _ in contacts]
    if len(set(ids)) != len(ids):
        raise errors.unprocessable("contacts_refused", detail=N_("name each contact once"))
    if user_id in ids:
        raise errors.unprocessable("contacts_refused", detail=N_("a user cannot be their own contact"))
    with system.uow() as uow:
        if uow.facts.lock_user(user_id) is None:
            raise errors.not_found("user_not_found", user_id=user_id)
        uow.facts.replace_contacts(user_id, list(contacts), uow.today())
        uow.commit()
    return {"user_id": user_id, "contacts": [{"user_id": c, "verified": v} for c, v in contacts]}


# ---------------------------------------------------------------------------------------
# End of day
# ---------------------------------------------------------------------------------------


def is_scheduled(day: dt.date, cadence: str, day_number: int) -> bool:
    """Whether a ``daily`` / ``weekly`` (ISO weekday ``day_number``) / ``monthly`` (day of month) job runs on ``day``."""
    if cadence == "daily":
        return True
    if cadence == "weekly":
        return day.isoweekday() == day_number
    return day.day == day_number
