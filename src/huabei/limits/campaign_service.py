"""Use cases of raise campaigns and challenges (提额活动 / 提额挑战).

Campaigns are configuration (``raises.campaigns``, see :mod:`huabei.limits.campaigns`).
A line enrols; its purchases count towards the task; the end-of-day step
(:func:`settle_campaigns`) grants the reward of a completed task through the same paths as
every limit change (``limit_changes`` with ``campaign_completed``) or expires the enrolment.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from huabei import errors
from huabei.config import CampaignTerms
from huabei.events import CampaignCompleted, CampaignJoined
from huabei.limits import campaigns as dc
from huabei.limits import policy as lp
from huabei.limits.service import ACTOR_SYSTEM, grant_temporary
from huabei.lines.service import record_limit_change
from huabei.platform.sql import AccountRange
from huabei.platform.unit_of_work import Huabei, UnitOfWork
from huabei.scoring import collect
from huabei.scoring import service as scoring


def _campaign(terms: Any, code: str) -> CampaignTerms:
    for c in terms.raises.campaigns:
        if c.code == code:
            return c
    raise errors.not_found("campaign_not_found", campaign=code)


def campaign_view(c: CampaignTerms, today: dt.date) -> dict[str, Any]:
    return {
        "code": c.code,
        "title": c.title,
        "title_zh": c.title_zh,
        "open": dc.is_open(c, today),
        "starts_on": c.starts_on.isoformat() if c.starts_on else None,
        "ends_on": c.ends_on.isoformat() if c.ends_on else None,
        "task": {"payments": c.payments, "days": c.days, "categories": c.categories, "min_payment": c.min_payment},
        "min_score": c.min_score,
        "reward": {"kind": c.reward_kind, "amount": c.reward_amount, "days": c.reward_days},
    }


def list_campaigns(system: Huabei) -> list[dict[str, Any]]:
    with system.uow(readonly=True) as uow:
        today = uow.today()
        return [campaign_view(c, today) for c in uow.terms.raises.campaigns]


def enrolment_view(row: Any) -> dict[str, Any]:
    """An enrolment (a row of the progress query) with its progress: counted now while in
    progress, as counted when it was settled afterwards."""
    live = row.status == dc.EnrolmentStatus.IN_PROGRESS.value
    return {
        "enrolment_id": row.enrolment_id,
        "account_id": row.account_id,
        "campaign": row.campaign_code,
        "status": row.status,
        "enrolled_on": row.enrolled_on.isoformat(),
        "last_day": (row.ends_on - dt.timedelta(days=1)).isoformat(),
        "progress": {
            "payments": int(row.done_payments if live else row.payments),
            "required_payments": row.required_payments,
            "categories": int(row.done_categories if live else row.categories),
            "required_categories": row.required_categories,
        },
        "reward": {"kind": row.reward_kind, "amount": row.reward_amount, "days": row.reward_days},
        "completed_on": row.completed_on.isoformat() if row.completed_on else None,
        "rewarded_on": row.rewarded_on.isoformat() if row.rewarded_on else None,
    }


def enrol(system: Huabei, account_id: int, code: str) -> dict[str, Any]:
    """Join a campaign (once per line), while it is open and the score reaches its minimum."""
    with system.uow() as uow:
        campaign = _campaign(uow.terms, code)
        line = uow.accounts.get(account_id, for_update=True)
        if line is None:
            raise errors.not_found("account_not_found", account_id=account_id)
        if line.state.value != "open":
            raise errors.unprocessable("account_closed")
        today = uow.today()
        score = None
        if campaign.min_score is not None:
            latest = uow.scores.latest_points([line.user_id])
            if latest:
                score = latest[0][1]  # (user_id, score, band, ...)
            else:
                pop = collect.collect_facts(uow, user_ids=[line.user_id])
                score = int(scoring.score_population(pop, collect.card_in_force(uow)).scores[0])
        refusal = dc.enrolment_refusal(campaign, today, score, uow.enrolments.joined(account_id, code))
        if refusal is not None:
            code_, params = refusal
            raise (
                errors.conflict(code_, **params)
                if code_ == "campaign_already_joined"
                else errors.unprocessable(code_, **params)
            )
        enrolment_id = uow.enrolments.add(
            account_id=account_id,
            user_id=line.user_id,
            campaign_code=code,
            enrolled_on=today,
            ends_on=dc.window_end(campaign, today),
            required_payments=campaign.payments,
            required_categories=campaign.categories,
            min_payment=campaign.min_payment,
            reward_kind=campaign.reward_kind,
            reward_amount=campaign.reward_amount,
            reward_days=campaign.reward_days,
            status=dc.EnrolmentStatus.IN_PROGRESS.value,
            created_at=uow.now(),
        )
        uow.events.record(
            CampaignJoined(account_id=account_id, user_id=line.user_id, enrolment_id=enrolment_id, campaign=code),
            business_date=today,
            now=uow.now(),
        )
        uow.commit()
        rows = uow.enrolments.progress(
            today, uow.purchases.counted_in_windows, enrolment_ids=[enrolment_id], unsettled_only=False
        )
        return enrolment_view(rows[0])


def account_campaigns(system: Huabei, account_id: int) -> list[dict[str, Any]]:
    """The line's enrolments with their progress counted now (settled at the end of the day)."""
    with system.uow(readonly=True) as uow:
        if uow.accounts.get(account_id) is None:
            raise errors.not_found("account_not_found", account_id=account_id)
        ids = [r.enrolment_id for r in uow.enrolments.for_account(account_id)]
        if not ids:
            return []
        return [
            enrolment_view(r)
            for r in uow.enrolments.progress(
                uow.today(), uow.purchases.counted_in_windows, enrolment_ids=ids, unsettled_only=False
            )
        ]


def settle_campaigns(uow: UnitOfWork, accounts: AccountRange | None = None) -> int:
    """EOD (daily): settle every unsettled enrolment in one progress query.

    A completed task grants its reward — a temporary raise (stacked on a live temporary
    limit) or a permanent raise of the base limit (floored to the step, at most the maximum)
    — recorded with ``campaign_completed``; never while the line is overdue or frozen (the
    reward then waits, completed, for the first day the line is clear). A window that ended
    without completion expires. Returns the number of enrolments completed or expired today.
    """
    today = uow.today()
    settled = 0
    updates = []
    for row in uow.enrolments.progress(today, uow.purchases.counted_in_windows, accounts=accounts):
        progress = dc.Progress(
            payments=int(row.done_payments),
            categories=int(row.done_categories),
            required_payments=row.required_payments,
            required_categories=row.required_categories,
        )
        status = dc.EnrolmentStatus(row.status)
        completed_on = row.completed_on
        rewarded_on = None
        if status is dc.EnrolmentStatus.IN_PROGRESS:
            status = dc.settle(progress, today, row.ends_on)
            if status is not dc.EnrolmentStatus.IN_PROGRESS:
                settled += 1
            if status is dc.EnrolmentStatus.COMPLETED:
                completed_on = today
        if status is dc.EnrolmentStatus.COMPLETED:
            line = uow.accounts.get(row.account_id, for_update=True)
            if line is not None and line.state.value == "open" and line.block_code is None:
                _reward(uow, row, line)
                rewarded_on = today
            elif line is None or line.state.value != "open":
                rewarded_on = today  # nothing to reward any more
        if status.value != row.status or rewarded_on is not None:
            updates.append(
                {
                    "enrolment_id": row.enrolment_id,
                    "payments": progress.payments,
                    "categories": progress.categories,
                    "status": status.value,
                    "completed_on": completed_on,
                    "rewarded_on": rewarded_on,
                }
            )
    uow.enrolments.set_progress(updates)
    return settled


def _reward(uow: UnitOfWork, row: Any, line: Any) -> None:
    lt = uow.terms.limits
    if row.reward_kind == "temporary":
        grant_temporary(
            uow,
            row.account_id,
            row.reward_amount,
            row.reward_days,
            ["campaign_completed", "temporary_limit_granted"],
            ACTOR_SYSTEM,
        )
    else:
        new = min(
            lp.floor_to_step(line.base_limit + row.reward_amount, lt.limit_step),
            lp.floor_to_step(lt.max_base_limit, lt.limit_step),
        )
        if new > line.base_limit:
            uow.accounts.set_base_limit(row.account_id, new)
            record_limit_change(
                uow,
                row.account_id,
                "base",
                line.base_limit,
                new,
                ["campaign_completed"],
                actor=ACTOR_SYSTEM,
                policy_version=lp.policy_version(lt),
            )
    uow.events.record(
        CampaignCompleted(
            account_id=row.account_id,
            user_id=row.user_id,
            enrolment_id=row.enrolment_id,
            campaign=row.campaign_code,
            reward_kind=row.reward_kind,
            reward_amount=row.reward_amount,
        ),
        business_date=uow.today(),
        now=uow.now(),
    )
