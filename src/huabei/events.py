"""Domain events: the typed vocabulary of the ``domain_events`` outbox.

Every state change a capability announces is one of the frozen dataclasses below, with its
documented fields; nothing writes an event by a string name and a loose dict. An event names
the line (``account_id``) and/or the user (``user_id``) it is about; its other fields are its
payload, stored as JSON under ``event_type`` (the class name). Money is in fen, dates in a
payload are ISO strings (``YYYY-MM-DD``), reason codes are the registered codes of
:mod:`huabei.reasons`.

``uow.events.record(event, business_date=, now=)`` writes one; set-based steps build rows with
:meth:`DomainEvent.row` and insert them in bulk. Readers (the scoring's repayment record, the
diagnosis, the simulation's checks) read ``event_type`` and the payload keys documented here.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass
from typing import Any, ClassVar


@dataclass(frozen=True, kw_only=True)
class DomainEvent:
    """One event of the outbox. ``account_id``: the line it is about (None: the user's or the
    system's); ``user_id``: the user it is about, when the event names one."""

    #: The stored ``event_type``: the class name.
    event_type: ClassVar[str] = "DomainEvent"
    #: Payload fields left out while None (optional details of some events only).
    omit_when_none: ClassVar[frozenset[str]] = frozenset()

    account_id: int | None = None
    user_id: str | None = None

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls.event_type = cls.__name__

    def payload(self) -> dict[str, Any]:
        """The stored payload: every field but ``account_id`` and ``user_id``."""
        out: dict[str, Any] = {}
        for f in dataclasses.fields(self):
            if f.name in ("account_id", "user_id"):
                continue
            value = getattr(self, f.name)
            if value is None and f.name in self.omit_when_none:
                continue
            out[f.name] = value
        return out

    def row(self, business_date: dt.date, now: dt.datetime) -> dict[str, Any]:
        """The event as a row of ``domain_events`` (for bulk inserts)."""
        return {
            "event_type": self.event_type,
            "account_id": self.account_id,
            "user_id": self.user_id,
            "payload": self.payload(),
            "business_date": business_date,
            "created_at": now,
        }


# --------------------------------------------------------------------------- users and lines


@dataclass(frozen=True, kw_only=True)
class UserRegistered(DomainEvent):
    """A user was registered by the host app."""

    real_name_verified: bool


@dataclass(frozen=True, kw_only=True)
class UserContactChanged(DomainEvent):
    """The user's profile or contact details changed; ``fields``: the names of those that did."""

    fields: list[str]


@dataclass(frozen=True, kw_only=True)
class AccountOpened(DomainEvent):
    """A line was opened (开通) with ``base_limit`` (fen). A line opened by moving another to a
    partner's 信用购 product (:mod:`huabei.funding`) also names its ``product``, its
    ``funding_source`` and the line it was ``moved_from``."""

    omit_when_none = frozenset({"product", "funding_source", "moved_from"})

    base_limit: int
    product: str | None = None
    funding_source: str | None = None
    moved_from: int | None = None


@dataclass(frozen=True, kw_only=True)
class AccountClosed(DomainEvent):
    """A line was closed: ``by`` the user, an operator or a regulatory ``sweep``; ``actor`` who
    did it, ``reason`` why, ``used`` (fen) owed at closing; a sweep's ``evidence`` when it had one."""

    omit_when_none = frozenset({"evidence"})

    by: str
    actor: str
    reason: str | None
    used: int
    evidence: dict[str, Any] | None = None


@dataclass(frozen=True, kw_only=True)
class LimitChanged(DomainEvent):
    """A base or temporary limit changed (``limit_kind``), from ``old_value`` to ``new_value``
    (fen), with the decision's ``reasons``; a temporary limit's ``expires_on``."""

    limit_kind: str
    old_value: int
    new_value: int
    reasons: list[str]
    expires_on: str | None


@dataclass(frozen=True, kw_only=True)
class LimitRaiseApplied(DomainEvent):
    """The user applied for a higher limit (申请提额); ``decision`` and its ``reasons``."""

    application_id: int
    decision: str
    old_limit: int
    new_limit: int
    reasons: list[str]


@dataclass(frozen=True, kw_only=True)
class CampaignJoined(DomainEvent):
    """The line joined a limit campaign (提额任务)."""

    enrolment_id: int
    campaign: str


@dataclass(frozen=True, kw_only=True)
class CampaignCompleted(DomainEvent):
    """A campaign's task was completed and its reward (``reward_kind``, ``reward_amount`` fen) given."""

    enrolment_id: int
    campaign: str
    reward_kind: str
    reward_amount: int


@dataclass(frozen=True, kw_only=True)
class ScoreChanged(DomainEvent):
    """The user's score changed on a rescoring (``trigger``): points and bands before and after,
    each dimension's change in points, and the reasons."""

    old_score: int | None
    new_score: int
    old_band: str | None
    new_band: str
    dimension_changes: dict[str, int]
    reasons: list[str]
    trigger: str


@dataclass(frozen=True, kw_only=True)
class ExternalCreditReported(DomainEvent):
    """The host reported the user's standing on another credit product (``days_past_due`` there)."""

    report_id: int
    product: str
    days_past_due: int


# --------------------------------------------------------------------------- restrictions and their flows


@dataclass(frozen=True, kw_only=True)
class RestrictionPlaced(DomainEvent):
    """A restriction (freeze) was placed for ``cause`` with its ``evidence``; ``lifts_on``: the
    date it lifts by itself, if any."""

    restriction_id: int
    cause: str
    evidence: dict[str, Any]
    lifts_on: str | None


@dataclass(frozen=True, kw_only=True)
class RestrictionLifted(DomainEvent):
    """A restriction was lifted, with the ``reason`` (a code or an operator's words)."""

    restriction_id: int
    cause: str
    reason: str | None


@dataclass(frozen=True, kw_only=True)
class AppealFiled(DomainEvent):
    """The user appealed against a restriction."""

    appeal_id: int
    restriction_id: int
    cause: str


@dataclass(frozen=True, kw_only=True)
class AppealDecided(DomainEvent):
    """An agent decided an appeal (``lift`` or ``uphold``) with an ``outcome`` label and a ``reason``."""

    appeal_id: int
    restriction_id: int
    cause: str
    decision: str
    outcome: str
    reason: str
    restriction_lifted: bool


@dataclass(frozen=True, kw_only=True)
class PaymentPasswordSet(DomainEvent):
    """The user set a payment password; ``actor``: who asked."""

    actor: str


@dataclass(frozen=True, kw_only=True)
class PaymentPasswordReset(DomainEvent):
    """The host reset the password after verifying the user: whether payments ``was_locked``,
    the ``failed_attempts`` counted, and the lockout restrictions lifted."""

    actor: str
    was_locked: bool
    failed_attempts: int
    lifted_restrictions: list[int]


@dataclass(frozen=True, kw_only=True)
class PaymentPasswordLocked(DomainEvent):
    """Too many wrong passwords locked payments; the payload is the lockout's evidence."""

    evidence: dict[str, Any]

    def payload(self) -> dict[str, Any]:
        return dict(self.evidence)


@dataclass(frozen=True, kw_only=True)
class MaintenanceScheduled(DomainEvent):
    """A maintenance window was scheduled; the payload is the window as the API shows it."""

    window: dict[str, Any]

    def payload(self) -> dict[str, Any]:
        return dict(self.window)


@dataclass(frozen=True, kw_only=True)
class MaintenanceCancelled(DomainEvent):
    """A maintenance window was cancelled; the payload is the window as the API shows it."""

    window: dict[str, Any]

    def payload(self) -> dict[str, Any]:
        return dict(self.window)


@dataclass(frozen=True, kw_only=True)
class SweepApplied(DomainEvent):
    """A regulatory sweep ran: its ``rule`` and ``action``, how many lines it ``matched``,
    ``applied`` to and ``failed`` on."""

    sweep_id: int
    rule: str
    action: str
    reason: str
    operator: str
    matched: int
    applied: int
    failed: int


@dataclass(frozen=True, kw_only=True)
class FundingMigrated(DomainEvent):
    """A funding migration to ``partner`` ran (品牌隔离 / 信用购): lines matched, moved, failed."""

    migration_id: int
    partner: str
    operator: str
    reason: str
    matched: int
    moved: int
    failed: int


@dataclass(frozen=True, kw_only=True)
class FundingMoved(DomainEvent):
    """One line's receivables moved to ``partner``'s line ``to_account_id``; ``moved``: fen per
    ledger account."""

    partner: str
    migration_id: int
    to_account_id: int | None
    moved: dict[str, int]


# --------------------------------------------------------------------------- money and bills


@dataclass(frozen=True, kw_only=True)
class RefundIssued(DomainEvent):
    """A purchase was refunded: ``amount`` fen, of which ``to_credit`` became a credit balance."""

    purchase_id: int
    refund_id: int
    amount: int
    to_credit: int


@dataclass(frozen=True, kw_only=True)
class RepaymentReceived(DomainEvent):
    """A repayment of ``amount`` fen and where it went (``bills``: period, component, amount)."""

    repayment_id: int
    amount: int
    bills: list[dict[str, Any]]


@dataclass(frozen=True, kw_only=True)
class InstallmentPlanCreated(DomainEvent):
    """A purchase or a bill was turned into an installment plan (分期) of ``term`` periods."""

    plan_id: int
    kind: str
    principal: int
    term: int
    total_fee: int
    campaign: str | None
    reasons: list[str]


@dataclass(frozen=True, kw_only=True)
class InstallmentRepaidEarly(DomainEvent):
    """An installment plan was repaid early: principal, the fee charged and the fee waived."""

    plan_id: int
    repayment_id: int
    principal: int
    fee_charged: int
    fee_waived: int


@dataclass(frozen=True, kw_only=True)
class DueDayChanged(DomainEvent):
    """The line's repayment day changed."""

    old_day: int
    new_day: int


@dataclass(frozen=True, kw_only=True)
class BureauRecordCorrected(DomainEvent):
    """A month's credit-bureau record was corrected (a new ``seq`` supersedes the old)."""

    month: str
    seq: int
    reason: str
    changes: dict[str, Any]


@dataclass(frozen=True, kw_only=True)
class BecameOverdue(DomainEvent):
    """A bill's minimum was not repaid by its due date: the line is overdue (逾期)."""

    reasons: list[str]
    days_past_due: int
    bucket: str
    amount_overdue: int
    overdue_since: str | None
    reportable: bool


@dataclass(frozen=True, kw_only=True)
class DelinquencyBucketChanged(DomainEvent):
    """An overdue line moved from one days-past-due bucket to another."""

    reasons: list[str]
    from_bucket: str
    to_bucket: str
    days_past_due: int
    amount_overdue: int
    reportable: bool


@dataclass(frozen=True, kw_only=True)
class DelinquencyCured(DomainEvent):
    """An overdue line was repaid back to current."""

    reasons: list[str]
    from_bucket: str
    days_past_due_before: int


#: Every event type, by its stored name.
EVENT_TYPES: dict[str, type[DomainEvent]] = {
    cls.event_type: cls
    for cls in (
        UserRegistered,
        UserContactChanged,
        AccountOpened,
        AccountClosed,
        LimitChanged,
        LimitRaiseApplied,
        CampaignJoined,
        CampaignCompleted,
        ScoreChanged,
        ExternalCreditReported,
        RestrictionPlaced,
        RestrictionLifted,
        AppealFiled,
        AppealDecided,
        PaymentPasswordSet,
        PaymentPasswordReset,
        PaymentPasswordLocked,
        MaintenanceScheduled,
        MaintenanceCancelled,
        SweepApplied,
        FundingMigrated,
        FundingMoved,
        RefundIssued,
        RepaymentReceived,
        InstallmentPlanCreated,
        InstallmentRepaidEarly,
        DueDayChanged,
        BureauRecordCorrected,
        BecameOverdue,
        DelinquencyBucketChanged,
        DelinquencyCured,
    )
}
