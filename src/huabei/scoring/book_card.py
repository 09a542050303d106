"""The shipped card's repayment-behaviour part, fitted on a book's own outcomes and kept as data.

The default card (:mod:`huabei.scoring.default_card`) is two things:

* the **application-time** features, hand-set (identity, connections, activity in the app, income
  and assets, length of history, raise applications): what the product knows of a user before any
  bill, and what no replayed book can weigh (the real card-holder table has none of it);
* the **repayment-behaviour** features, *fitted*: the repayment record (:data:`BOOK_FACTS`) and
  the behavioural features of the line (:data:`~huabei.scoring.facts.BEHAVIOUR_FACTS`), binned
  and weighted by :func:`huabei.scoring.training.fit_scorecard` (optbinning + scikit-learn) on
  real card holders replayed through the product (``bench/ship_card.py``: the Taiwan table, its
  clients with ID ≡ 2 (mod 4) for training, ID ≡ 0 (mod 4) held out), and shipped as the versioned
  data file :data:`BOOK_CARD_FILE`.

A fitted feature's missing bin has weight of evidence 0 (``neutral_missing``): an applicant with no
bill yet scores as the average of the book, never as a late payer, and a missing bin cites a
neutral reason (``no_repayment_record``, ``no_statement_yet``). Pure: reads only its data file.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from huabei.scoring.facts import BEHAVIOUR_FACT_SPECS
from huabei.scoring.scorecard import Scorecard, ScorecardError

#: The product facts from the line's own repayment record and utilisation whose points the book's
#: outcomes set (the hand-set bins of these four are replaced by the fitted block's features).
BOOK_FACTS: tuple[str, ...] = (
    "on_time_repayment_ratio",
    "max_days_overdue_12m",
    "overdue_episodes_12m",
    "utilisation_ratio",
)
#: Every fact a fit on the book may keep.
BOOK_CANDIDATES: tuple[str, ...] = (*BOOK_FACTS, *BEHAVIOUR_FACT_SPECS)
#: How the bad rate must move as each fact grows: the fit is constrained to it, so every feature
#: ranks the right way round (a revolver below a full payer, a late payer below an on-time one).
RISK_TRENDS: dict[str, str] = {
    "on_time_repayment_ratio": "descending",
    "max_days_overdue_12m": "ascending",
    "overdue_episodes_12m": "ascending",
    "utilisation_ratio": "ascending",
    "dpd_now": "ascending",
    "worst_dpd_3m": "ascending",
    "worst_dpd_6m": "ascending",
    "months_since_overdue": "descending",
    "paid_in_full_share_6m": "descending",
    "below_minimum_share_6m": "ascending",
    "repaid_share_last_bill": "descending",
    "minimum_only_share_6m": "ascending",
    "revolving_months_12m": "ascending",
    "temp_limit_statements_12m": "ascending",
    "utilisation_last_statement": "ascending",
    "utilisation_trend": "ascending",
}
assert set(RISK_TRENDS) == set(BOOK_CANDIDATES)
#: The shipped block (format: ``fitted_on``: provenance and figures; ``card``: the fitted card).
BOOK_CARD_FILE = Path(__file__).parent / "cards" / "book-behaviour.yaml"


@dataclass(frozen=True)
class BookBlock:
    """The fitted features (points on the fit's own scale: 20 points double the odds, 0 = the
    book's average for every missing bin) and where they come from."""

    card: Scorecard
    fitted_on: dict[str, Any] = field(default_factory=dict)

    def to_yaml(self) -> str:
        data = {"fitted_on": self.fitted_on, "card": self.card.to_dict()}
        return yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=110)


def parse_block(text: str) -> BookBlock:
    """A block from its YAML form; every feature must be a book fact and keep a neutral missing bin."""
    data = yaml.safe_load(text)
    if not isinstance(data, dict) or set(data) != {"fitted_on", "card"}:
        raise ScorecardError("a book block has exactly the keys fitted_on and card")
    card = Scorecard.from_dict(data["card"], require_all_dimensions=False)
    for f in card.features:
        if f.name not in BOOK_CANDIDATES:
            raise ScorecardError(f"book block: {f.name} is not a fact of the book")
        if f.points[f.missing_index] != 0:
            raise ScorecardError(f"book block: {f.name}'s missing bin must be neutral (0 points)")
    fitted_on = dict(data["fitted_on"] or {})
    names = {f.name for f in card.features}
    for name in fitted_on.get("hand_weighted") or ():
        if name not in BOOK_FACTS or name not in names:
            raise ScorecardError(f"book block: hand_weighted {name} is not a repayment-record fact of the block")
    return BookBlock(card=card, fitted_on=fitted_on)


@cache
def shipped_block() -> BookBlock:
    """The block that ships (:data:`BOOK_CARD_FILE`)."""
    return parse_block(BOOK_CARD_FILE.read_text(encoding="utf-8"))
