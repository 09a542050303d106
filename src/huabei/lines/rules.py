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


class AccountState(StrEnum):
    OPEN = "open"
    CLOSED = "closed"


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

    def temporary_limit_on(self, today: dt.date) -> int:
        return temporary_limit_on(self.temporary_limit, self.temporary_limit_expires_on, today)

    def total_limit(self, today: dt.date) -> int:
        return self.base_limit + self.temporary_limit_on(today)

    def available(self, today: dt.date) -> int:
        return available(self.base_limit, self.temporary_limit, self.temporary_limit_expires_on, self.used, today)

    def status(self) -> AccountStatus:
        if self.state is AccountState.CLOSED:
            return AccountStatus.CLOSED
        if self.block_code and self.block_code.startswith("account_frozen"):
            return AccountStatus.FROZEN
        if self.block_code == "account_overdue":
            return AccountStatus.OVERDUE
        return AccountStatus.ACTIVE


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
