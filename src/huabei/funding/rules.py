"""Brand isolation's pure rules: which partner may be migrated, and how a line's limit is split
between 花呗 and the new 信用购 line (docs/flows.md)."""

from __future__ import annotations

from huabei import errors

PAUSE_CAUSE = "brand_isolation"
#: ``restrictions.lift_reason`` of a pause lifted because its line's move is done
LIFT_REASON = "funding_moved"
#: ``limit_changes.reasons`` of both lines' limits at a move
LIMIT_REASON = "brand_isolation_split"


def check_partner(partner: str, funding_sources: tuple[str, ...]) -> str:
    """A partner of ``funding.partners`` (never ``platform``: the platform's lines stay 花呗)."""
    partners = tuple(s for s in funding_sources if s != "platform")
    if partner not in partners:
        raise errors.invalid("unknown_funding_partner", partner=partner or "", partners=", ".join(partners) or "-")
    return partner


def split_limit(base_limit: int, principal: int, step: int, floor: int = 0) -> tuple[int, int]:
    """(花呗 limit, 信用购 limit) of a line whose ``principal`` moves to 信用购.

    The 信用购 line is given what it carries rounded up to the limit step, and at least ``floor``
    (``limits.min_base_limit``: no line is given less than the product's minimum); the 花呗 line
    keeps the rest, so the user's total limit does not change with the move. The floor holds for
    the 花呗 line too: one that had at least the minimum keeps at least the minimum (the move is
    the funder's doing, not the user's, and must not leave a usable 花呗 line with next to nothing)
    — the total then grows by at most the minimum. Nothing owed: nothing moves, (base, 0)."""
    if principal <= 0:
        return base_limit, 0
    moved = max(-(-principal // step) * step, floor)
    kept = base_limit - moved
    if kept < floor:
        kept = floor if base_limit >= floor else max(kept, 0)
    return kept, moved
