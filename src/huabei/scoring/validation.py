"""A card measured on the book's own outcomes, and champion against challenger.

``validate_card(uow, card, as_of=D, horizon=M)`` scores every line open on ``D`` with the facts as
of ``D`` (the same set-based collection rescoring reads, point in time for every fact huabei keeps:
repayment record, purchases, behavioural features) and reads the outcome after it: bad when the
line reached ``bad_dpd`` days past due in the ``M`` × 30 days that followed
(:func:`~huabei.scoring.collect.book_outcomes`). It reports ROC AUC, KS, each dimension's AUC
alone, the bad rate by band (calibration) and the PSI between the scores as of ``D`` and the same
card's scores of the book today. ``held_out=(seed, share)`` restricts it to the lines
``huabei score train --from-book --seed seed --test-size share`` held out.

``challenge(uow, challenger, …)`` scores the same lines with the card in force (the champion) and
a challenger and sets the figures side by side, with how many users each band would move.
``promote`` puts a challenger in force: only when asked, only when it ranks the book at least as
well as the champion (unless forced), and recorded (``scorecard_activations``: the card, who,
when, the comparison it won) — the card in force is then the latest promoted one
(:func:`~huabei.scoring.collect.card_in_force`).
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import numpy as np

from huabei import errors
from huabei.platform.unit_of_work import Huabei, UnitOfWork
from huabei.risk import features as risk_features
from huabei.scoring import training
from huabei.scoring.collect import (
    behaviour_columns,
    book_frame,
    book_outcomes,
    card_in_force,
    collect_facts,
)
from huabei.scoring.dimensions import BANDS, DIMENSIONS, bands_of
from huabei.scoring.facts import BEHAVIOUR_FACT_SPECS
from huabei.scoring.scorecard import Scorecard
from huabei.scoring.stability import population_stability_index, psi_interpretation


def _scores(uow: UnitOfWork, as_of: dt.date, cards: list[Scorecard], lines: list[int]) -> list[Any]:
    """Each card's (scores, dimension points) of the users of ``lines`` as of ``as_of``, aligned
    on ``lines``: one collection of the facts for all the cards."""
    pop = collect_facts(uow, as_of=as_of)
    wanted = sorted({f.name for c in cards for f in c.features if f.name in BEHAVIOUR_FACT_SPECS} - set(pop.columns))
    if wanted:
        pop.columns.update(behaviour_columns(uow, as_of, pop.account_id, wanted))
    row_of = {int(a): i for i, a in enumerate(pop.account_id.tolist()) if a}
    rows = np.array([row_of[a] for a in lines if a in row_of], dtype=np.int64)
    out = []
    for card in cards:
        scores, dims = card.score_batch({f.name: pop.columns.get(f.name) for f in card.features})
        out.append((scores[rows], {d: v[rows] for d, v in dims.items()}))
    return out


def _held_out_lines(uow: UnitOfWork, as_of: dt.date, horizon: int, bad_dpd: int, held_out: tuple[int, float]) -> set:
    """The lines ``huabei score train --from-book`` held out with this seed and share (the same split)."""
    from sklearn.model_selection import train_test_split

    seed, share = held_out
    frame = book_frame(uow, as_of, horizon, bad_dpd)
    _train, test = train_test_split(frame, test_size=share, stratify=frame["bad"], random_state=seed)
    return {int(a) for a in test["account_id"]}


def _figures(card: Scorecard, scores: np.ndarray, dims: dict[str, np.ndarray], y: np.ndarray) -> dict[str, Any]:
    m = training.ranking_metrics(y, -scores.astype(np.float64))
    spreads = card.dimension_spreads()
    return {
        "card": card.version,
        "auc": round(m.auc, 4),
        "ks": round(m.ks, 4),
        "dimensions_auc": {
            d: round(training.ranking_metrics(y, -dims[d].astype(np.float64)).auc, 4)
            for d in DIMENSIONS
            if spreads.get(d, 0) > 0
        },
        "calibration": training.calibration_by_band(scores, y),
    }


def _population(
    uow: UnitOfWork, as_of: dt.date, horizon: int, bad_dpd: int, held_out: tuple[int, float] | None
) -> tuple[list[int], np.ndarray]:
    outcomes = book_outcomes(uow, as_of, horizon, bad_dpd)
    lines = sorted(outcomes)
    if held_out is not None:
        keep = _held_out_lines(uow, as_of, horizon, bad_dpd, held_out)
        lines = [a for a in lines if a in keep]
    y = np.array([outcomes[a] for a in lines], dtype=np.int64)
    if len(lines) < 2 or y.min() == y.max():
        raise errors.unprocessable(
            "not_enough_outcomes",
            detail=f"{len(lines)} line(s) open on {as_of.isoformat()}, {int(y.sum())} bad: need both good and bad lines",
        )
    return lines, y


def validate_card(
    uow: UnitOfWork,
    card: Scorecard | None = None,
    *,
    as_of: dt.date,
    horizon: int,
    bad_dpd: int = 60,
    held_out: tuple[int, float] | None = None,
) -> dict[str, Any]:
    card = card or card_in_force(uow)
    lines, y = _population(uow, as_of, horizon, bad_dpd, held_out)
    ((scores, dims),) = _scores(uow, as_of, [card], lines)
    today = uow.today()
    ((now_scores, _),) = _scores(uow, today, [card], risk_features.open_lines(uow.conn, today))
    psi = population_stability_index(scores, now_scores) if len(now_scores) else None
    return {
        "as_of": as_of.isoformat(),
        "horizon_months": horizon,
        "bad_dpd": bad_dpd,
        "outcomes_until": (as_of + dt.timedelta(days=30 * horizon)).isoformat(),
        "held_out": None if held_out is None else {"seed": held_out[0], "share": held_out[1]},
        "lines": len(lines),
        "bad": int(y.sum()),
        **_figures(card, scores, dims, y),
        "psi": None if psi is None else str(psi),
        "psi_against": today.isoformat(),
        "psi_interpretation": None if psi is None else psi_interpretation(psi),
    }


def challenge(
    uow: UnitOfWork,
    challenger: Scorecard,
    *,
    as_of: dt.date,
    horizon: int,
    bad_dpd: int = 60,
    held_out: tuple[int, float] | None = None,
) -> dict[str, Any]:
    """The champion (the card in force) and ``challenger`` on the same lines, the same outcomes."""
    champion = card_in_force(uow)
    lines, y = _population(uow, as_of, horizon, bad_dpd, held_out)
    (s_a, d_a), (s_b, d_b) = _scores(uow, as_of, [champion, challenger], lines)
    a, b = _figures(champion, s_a, d_a, y), _figures(challenger, s_b, d_b, y)
    ba, bb = bands_of(s_a), bands_of(s_b)
    codes = [c for c, _ in BANDS]
    moves = {c: {d: int(((ba == c) & (bb == d)).sum()) for d in codes} for c in codes}
    return {
        "as_of": as_of.isoformat(),
        "horizon_months": horizon,
        "bad_dpd": bad_dpd,
        "lines": len(lines),
        "bad": int(y.sum()),
        "champion": a,
        "challenger": b,
        "auc_difference": round(b["auc"] - a["auc"], 4),
        "ks_difference": round(b["ks"] - a["ks"], 4),
        "psi_challenger_vs_champion": str(population_stability_index(s_a, s_b)),
        "band_moves": moves,
        "better": b["auc"] >= a["auc"],
    }


def promote(
    system: Huabei,
    challenger: Scorecard,
    *,
    actor: str,
    as_of: dt.date,
    horizon: int,
    bad_dpd: int = 60,
    force: bool = False,
) -> dict[str, Any]:
    """Put ``challenger`` in force after comparing it with the champion on the book; refused
    (422 ``challenger_not_better``) when it ranks the book worse, unless ``force``."""
    with system.uow() as uow:
        result = challenge(uow, challenger, as_of=as_of, horizon=horizon, bad_dpd=bad_dpd)
        if not result["better"] and not force:
            raise errors.unprocessable(
                "challenger_not_better",
                champion_auc=result["champion"]["auc"],
                challenger_auc=result["challenger"]["auc"],
            )
        activation_id = uow.scores.promote_card(
            version=challenger.version,
            fingerprint=challenger.fingerprint(),
            card=json.dumps(challenger.to_dict(), ensure_ascii=False, sort_keys=True),
            previous=result["champion"]["card"],
            actor=actor,
            evidence={k: v for k, v in result.items() if k != "band_moves"} | {"forced": force},
            day=uow.today(),
            now=uow.now(),
        )
        uow.commit()
    return {"activation_id": activation_id, "promoted": challenger.version, "actor": actor, **result}


def promotions(system: Huabei) -> list[dict[str, Any]]:
    """Every promotion, oldest first (who, when, which card replaced which, the figures it won with)."""
    with system.uow(readonly=True) as uow:
        return [
            {
                "activation_id": r.activation_id,
                "version": r.version,
                "previous": r.previous,
                "actor": r.actor,
                "business_date": r.business_date.isoformat(),
                "evidence": r.evidence,
            }
            for r in uow.scores.card_promotions()
        ]
