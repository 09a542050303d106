"""提额活动 / 提额挑战: raise campaigns and challenges — pure rules.

A campaign is configuration (:class:`huabei.config.CampaignTerms`, under ``raises.campaigns``):
a *task* — ``payments`` purchases of at least ``min_payment`` fen on the credit line, across
``categories`` distinct merchant categories (scenarios), within ``days`` days of enrolling —
and a *reward* — a ``temporary`` raise of ``reward_amount`` for ``reward_days`` days or a
``permanent`` raise of the base limit.

* A line enrols while the campaign is open (``starts_on`` ≤ today ≤ ``ends_on``, either
  bound optional), once per campaign, if its user's score reaches ``min_score`` (when set).
  The task and reward are copied onto the enrolment, so a later change of configuration
  never moves the goalposts of a running challenge.
* Progress counts the line's purchases on days ``enrolled_on ≤ d < ends_on`` whose amount
  net of refunds is at least ``min_payment``; the task is complete when both the count and
  the number of distinct categories reach their targets.
* The end-of-day step settles enrolments: complete → reward granted (reason
  ``campaign_completed``; a permanent raise never while the line is overdue or frozen —
  it waits, completed, until the line is clear); window over and not complete → expired.
* Completed challenges count as credit tasks (``credit_tasks_12m``) in the score.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum

from huabei.config import CampaignTerms


class EnrolmentStatus(StrEnum):
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"  # task done; reward granted (``rewarded_on``) or waiting for a clear line
    EXPIRED = "expired"


def is_open(campaign: CampaignTerms, today: dt.date) -> bool:
    """Whether a line may enrol on ``today``."""
    if campaign.starts_on is not None and today < campaign.starts_on:
        return False
    return not (campaign.ends_on is not None and today > campaign.ends_on)


def window_end(campaign: CampaignTerms, enrolled_on: dt.date) -> dt.date:
    """The first day that no longer counts (the window is ``[enrolled_on, window_end)``)."""
    return enrolled_on + dt.timedelta(days=campaign.days)


def enrolment_refusal(
    campaign: CampaignTerms, today: dt.date, score: int | None, already_joined: bool
) -> tuple[str, dict[str, object]] | None:
    """Why a line may not enrol (code, params), or None."""
    if not is_open(campaign, today):
        return "campaign_not_open", {"campaign": campaign.code}
    if already_joined:
        return "campaign_already_joined", {"campaign": campaign.code}
    if campaign.min_score is not None and (score is None or score < campaign.min_score):
        return "campaign_score_too_low", {"campaign": campaign.code, "min_score": campaign.min_score}
    return None


@dataclass(frozen=True)
class Progress:
    payments: int
    categories: int
    required_payments: int
    required_categories: int

    @property
    def complete(self) -> bool:
        return self.payments >= self.required_payments and self.categories >= self.required_categories


def settle(progress: Progress, today: dt.date, ends_on: dt.date) -> EnrolmentStatus:
    """The status of an in-progress enrolment at the end of ``today``."""
    if progress.complete:
        return EnrolmentStatus.COMPLETED
    if today >= ends_on - dt.timedelta(days=1):  # the last counting day is over
        return EnrolmentStatus.EXPIRED
    return EnrolmentStatus.IN_PROGRESS
