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


def split_limit(base_limit: int, principal: int, step: int) -> tuple[int, int]:
    """(花呗 limit, 信用购 limit) of a line whose ``principal`` moves to 信用购: the 信用购 line is
    given what it carries, rounded up to the limit step (never more than the line had), and the
    花呗 line keeps the rest — the user's total limit does not change with the move."""
    if principal <= 0:
        return base_limit, 0
    moved = min(base_limit, -(-principal // step) * step)
    return base_limit - moved, moved
