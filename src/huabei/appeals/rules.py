"""Appeals (申诉) that need no database: which decisions and outcome labels exist.

An appeal contests one active restriction of an appealable cause
(``huabei.restrictions.causes``). An agent decides it: ``lift`` (the restriction lifts, if its
lifting rule allows an agent to) or ``uphold``, with a reason and an outcome label. The labels
are what the risk backtest measures a rule's precision against: ``false_positive`` means the
rule fired on a user who did nothing wrong; ``confirmed`` means it was right.
"""

from __future__ import annotations

from enum import StrEnum

from huabei import errors
from huabei.i18n import N_


class Decision(StrEnum):
    LIFT = "lift"
    UPHOLD = "uphold"


class Status(StrEnum):
    OPEN = "open"
    LIFTED = "lifted"
    UPHELD = "upheld"


#: The outcome labels each decision may carry.
OUTCOMES: dict[Decision, tuple[str, ...]] = {
    Decision.LIFT: ("false_positive", "resolved_by_user", "goodwill"),
    Decision.UPHOLD: ("confirmed", "insufficient_evidence"),
}

#: Outcome labels that say the restriction was wrong / right (for precision).
FALSE_POSITIVE = "false_positive"
TRUE_POSITIVE = "confirmed"

MAX_EVIDENCE = 50
#: An appeal's statement and a decision's reason: written by a person, at most this many characters.
MAX_STATEMENT = 2000


def check_text(field: str, value: str) -> str:
    """A statement or a reason: 1 to :data:`MAX_STATEMENT` characters (400 otherwise; the API's
    schema states the same bounds)."""
    if not value or len(value) > MAX_STATEMENT:
        raise errors.invalid(
            "invalid_request", detail=N_("{field}: 1 to {maximum} characters"), field=field, maximum=MAX_STATEMENT
        )
    return value


def check_decision(decision: str, outcome: str) -> Decision:
    """The decision, if ``outcome`` is one of its labels; else 400 ``invalid_outcome``."""
    try:
        d = Decision(decision)
    except ValueError:
        raise errors.invalid("invalid_request", detail=N_("the decision is lift or uphold")) from None
    if outcome not in OUTCOMES[d]:
        raise errors.invalid("invalid_outcome", decision=d.value, outcomes=", ".join(OUTCOMES[d]))
    return d


def status_after(decision: Decision) -> Status:
    return Status.LIFTED if decision is Decision.LIFT else Status.UPHELD
