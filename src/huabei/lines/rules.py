"""The credit line (花呗账户) and its limits.

Invariants (checked by ``huabei ledger check`` and the simulation):

* ``total_limit = base_limit + temporary_limit`` while the temporary limit (临时额度)
  has not expired (it applies on days ``< temporary_limit_expires_on``), else
  ``base_limit``.
* ``available = max(0, total_limit - used)``. ``used`` counts unbilled purchases and
  every principal not yet repaid (installment principal not yet due included); it
  equals the balance of the account's ``customer_principal`` ledger account.
* A limit cut never cuts below ``used``: the account simply has no available limit
  until it is repaid.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum

import numpy as np

from huabei.events import LimitChanged


class AccountState(StrEnum):
    OPEN = "open"
    CLOSED = "closed"


class Product(StrEnum):
    """What a line is sold as: 花呗, or 信用购 — the credit a partner institution funds, kept on a
    line of its own under brand isolation (品牌隔离, ``huabei.funding``). One open line per user
    and product."""

    HUABEI = "huabei"
    XINYONGGOU = "xinyonggou"


#: Freeze causes that pause purchases for an operational reason, not the user's credit: the
#: credit-bureau file reports such a line ``normal``, never ``frozen``.
OPERATIONAL_PAUSES = ("brand_isolation", "maintenance_window")


class AccountStatus(StrEnum):
    """What a user sees: derived from the state, restrictions and delinquency."""

    ACTIVE = "active"
    FROZEN = "frozen"
    OVERDUE = "overdue"
    CLOSED = "closed"


@dataclass(frozen=True)
class CreditLine:
    account_id: int
    user_id: str
    state: AccountState
    base_limit: int
    temporary_limit: int
    temporary_limit_expires_on: dt.date | None
    used: int
    credit_balance: int
    block_code: str | None
    due_day: int
    opened_on: dt.date
    #: who funds the line (资金方): ``platform`` or a partner code (``funding.partners``)
    funding_source: str = "platform"
    #: ``huabei`` (花呗) or ``xinyonggou`` (信用购, a partner's balances moved by brand isolation)
    product: str = "huabei"

    def temporary_limit_on(self, today: dt.date) -> int:
        return temporary_limit_on(self.temporary_limit, self.temporary_limit_expires_on, today)

    def total_limit(self, today: dt.date) -> int:
        return self.base_limit + self.temporary_limit_on(today)

    def available(self, today: dt.date) -> int:
        return available(self.base_limit, self.temporary_limit, self.temporary_limit_expires_on, self.used, today)

    def spendable_now(self, today: dt.date) -> int:
        """What a purchase may take now: the available limit, or 0 while the line is closed or
        blocked (overdue, frozen) — the available limit is still there, but not usable."""
        if self.state is AccountState.CLOSED or self.block_code is not None:
            return 0
        return self.available(today)

    def blocked_reason(self) -> str | None:
        """Why nothing can be spent now, as a reason code: ``account_closed``, the freeze's cause
        (``account_frozen:<cause>`` → ``<cause>``), ``account_overdue``; None when usable."""
        if self.state is AccountState.CLOSED:
            return "account_closed"
        if self.block_code is None:
            return None
        return frozen_cause(self.block_code) or self.block_code

    def status(self) -> AccountStatus:
        if self.state is AccountState.CLOSED:
            return AccountStatus.CLOSED
        if is_frozen(self.block_code):
            return AccountStatus.FROZEN
        if self.block_code == BLOCK_OVERDUE:
            return AccountStatus.OVERDUE
        return AccountStatus.ACTIVE


#: ``credit_accounts.block_code``: NULL while purchases are allowed, else why they are not —
#: ``account_overdue`` (a bill is past due) or ``account_frozen:<cause>`` (the leading active
#: restriction; a freeze outranks overdue). Written by ``huabei.restrictions.service.refresh_block``
#: and the end-of-day overdue marking; read by the purchase decline, the line's status, the limit
#: policy and the bureau file. The functions below are the one reading of it (its SQL form:
#: ``huabei.lines.repository.is_frozen_sql``).
BLOCK_OVERDUE = "account_overdue"
BLOCK_FROZEN = "account_frozen"


def frozen_block(cause: str) -> str:
    """The block code of a line frozen by ``cause``."""
    return f"{BLOCK_FROZEN}:{cause}"


def is_frozen(block_code: str | None) -> bool:
    """Whether the block code is a freeze (whatever its cause)."""
    return block_code is not None and block_code.startswith(BLOCK_FROZEN)


def frozen_cause(block_code: str | None) -> str | None:
    """The restriction cause a block code carries (``account_frozen:<cause>``), else None."""
    if block_code and ":" in block_code:
        return block_code.split(":", 1)[1]
    return None


def temporary_limit_on(temporary_limit: int, expires_on: dt.date | None, today: dt.date) -> int:
    """The temporary limit that applies on ``today`` (0 once expired)."""
    if expires_on is None or today >= expires_on:
        return 0
    return temporary_limit


def temporary_limits_on(amounts: np.ndarray, expires_on: np.ndarray, today: dt.date) -> np.ndarray:
    """:func:`temporary_limit_on` over columns (``expires_on`` as ``datetime64[D]``, NaT: none),
    for the set-based readers; its SQL form is ``huabei.lines.repository.temporary_limit_in_force``."""
    live = ~np.isnat(expires_on) & (expires_on > np.datetime64(today, "D"))
    return np.where(live, amounts, 0)


def available(base_limit: int, temporary_limit: int, expires_on: dt.date | None, used: int, today: dt.date) -> int:
    """可用额度 = base + unexpired temporary − used, never below zero.

    The purchase path enforces the same rule atomically in SQL
    (``huabei.lines.repository.AccountRepository.try_debit``); a property test
    checks that the two agree.
    """
    return max(0, base_limit + temporary_limit_on(temporary_limit, expires_on, today) - used)


def on_temporary_limit(used_after: int, base_limit: int, amount: int) -> int:
    """The part of a debit of ``amount`` that fell on the temporary limit (临时额度): what took
    ``used`` above the base limit (``used_after`` is ``used`` once debited)."""
    return max(0, used_after - max(base_limit, used_after - amount))


def debit_allowed(line: CreditLine, amount: int, today: dt.date) -> bool:
    """Whether a purchase of ``amount`` may be debited from ``line`` on ``today``: within what the
    line can spend now (:meth:`CreditLine.spendable_now`: open, no block code, the available limit). The Python form of the purchase's guarded
    debit (``huabei.lines.repository.AccountRepository.try_debit``, one conditional UPDATE): a
    batch decided in Python (``huabei.payments.batch``) still writes through the SQL guard, and
    falls back to deciding one by one if the two ever disagree."""
    return 0 < amount <= line.spendable_now(today)


@dataclass(frozen=True)
class LimitChange:
    """One change of a line's limit (额度调整): the row of ``limit_changes`` and the payload of its
    ``LimitChanged`` event are both built here, whoever changes the limit (an operator, the
    opening decision, a review, a campaign, the end-of-day expiry of a temporary limit)."""

    account_id: int
    limit_kind: str  #: ``base`` (固定额度) or ``temporary`` (临时额度)
    old_value: int  #: fen
    new_value: int  #: fen
    reasons: tuple[str, ...]  #: reason codes (huabei.reasons)
    policy_version: str  #: the limit policy's version, or who decided (``operator``, ``eod``)
    actor: str  #: ``system`` or the operator
    expires_on: dt.date | None = None  #: a temporary limit's expiry

    def row(self, business_date: dt.date, created_at: dt.datetime) -> dict[str, object]:
        """The ``limit_changes`` row."""
        return {
            "account_id": self.account_id,
            "limit_kind": self.limit_kind,
            "old_value": self.old_value,
            "new_value": self.new_value,
            "expires_on": self.expires_on,
            "reasons": list(self.reasons),
            "policy_version": self.policy_version,
            "actor": self.actor,
            "business_date": business_date,
            "created_at": created_at,
        }

    def event(self) -> LimitChanged:
        """The ``LimitChanged`` event announcing it."""
        return LimitChanged(
            account_id=self.account_id,
            limit_kind=self.limit_kind,
            old_value=self.old_value,
            new_value=self.new_value,
            reasons=list(self.reasons),
            expires_on=self.expires_on.isoformat() if self.expires_on else None,
        )
