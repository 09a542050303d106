"""Maintenance windows (系统维护) that need no database.

A window pauses purchases from ``starts_at`` (included) to ``ends_at`` (excluded), real
timestamps, for everyone or one scope: a payment channel (``online`` / ``offline``) or the lines
a funding partner funds (``platform`` or a partner of ``funding.partners``). Repayments,
refunds and views keep working. Overlapping windows are allowed; a purchase inside several is
told the latest end among them.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum

from huabei import errors
from huabei.i18n import N_

CHANNELS = ("online", "offline")


class Scope(StrEnum):
    EVERYONE = "everyone"
    CHANNEL = "channel"
    FUNDING = "funding"


@dataclass(frozen=True)
class Window:
    window_id: int
    starts_at: dt.datetime
    ends_at: dt.datetime
    scope: Scope
    #: the channel (scope ``channel``) or the funding source (scope ``funding``); None for everyone
    target: str | None


def check_new(
    starts_at: dt.datetime,
    ends_at: dt.datetime,
    now: dt.datetime,
    scope: Scope,
    target: str | None,
    funding_sources: tuple[str, ...],
) -> None:
    """Refuse a window that ends at or before it starts or has already ended (422: well formed,
    refused by a rule), and a scope without its target or a partner the product does not have
    (400: the OpenAPI document states which scope names what, and the partners)."""
    if ends_at <= starts_at:
        raise errors.unprocessable("invalid_window")
    if ends_at <= now:
        raise errors.unprocessable("window_already_ended")
    if scope is Scope.EVERYONE and target is not None:
        raise errors.invalid("invalid_request", detail=N_("a window for everyone names no channel or partner"))
    if scope is Scope.CHANNEL and target not in CHANNELS:
        raise errors.invalid(
            "invalid_request",
            detail=N_("a channel window names its channel: one of {expected}"),
            expected=", ".join(CHANNELS),
        )
    if scope is Scope.FUNDING and target not in funding_sources:
        raise errors.invalid("unknown_funding_partner", partner=target or "", partners=", ".join(funding_sources))


def covers(window: Window, channel: str, funding_source: str) -> bool:
    """Whether a purchase on ``channel`` from a line funded by ``funding_source`` falls in the
    window's scope (its time is the caller's query)."""
    if window.scope is Scope.EVERYONE:
        return True
    if window.scope is Scope.CHANNEL:
        return window.target == channel
    return window.target == funding_source


def status(starts_at: dt.datetime, ends_at: dt.datetime, cancelled: bool, now: dt.datetime) -> str:
    """upcoming | active | ended | cancelled"""
    if cancelled:
        return "cancelled"
    if now < starts_at:
        return "upcoming"
    return "active" if now < ends_at else "ended"
