"""The double-entry ledger (复式记账): immutable entries and postings, one validation pass.

Chart of accounts (see ``docs/ledger.md``). Amounts are signed fen, debit positive,
credit negative; the postings of an entry sum to zero.

=====================  ==========  ===========================================
ledger account         type        per
=====================  ==========  ===========================================
customer_principal     asset       credit line — principal owed (= ``used``)
customer_fee           asset       credit line — installment fees billed, unpaid
customer_interest      asset       credit line — interest billed, unpaid
customer_penalty       asset       credit line — penalty interest, unpaid
customer_credit        liability   credit line — credit balance (溢缴款) owed to the user
merchant_settlement    liability   merchant — owed to merchants for purchases
funding                asset       — the funder's clearing account (repayments in)
income_fee             income      — installment fee income
income_interest        income      — interest income
income_penalty         income      — penalty interest income
=====================  ==========  ===========================================

Only ``customer_principal`` and ``customer_credit`` have a materialised balance
(columns ``used`` and ``credit_balance`` of the credit line); every other balance
is a SUM over postings, so no single hot row is updated by every purchase.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum


class LedgerAccount(StrEnum):
    CUSTOMER_PRINCIPAL = "customer_principal"
    CUSTOMER_FEE = "customer_fee"
    CUSTOMER_INTEREST = "customer_interest"
    CUSTOMER_PENALTY = "customer_penalty"
    CUSTOMER_CREDIT = "customer_credit"
    MERCHANT_SETTLEMENT = "merchant_settlement"
    FUNDING = "funding"
    INCOME_FEE = "income_fee"
    INCOME_INTEREST = "income_interest"
    INCOME_PENALTY = "income_penalty"


CUSTOMER_ACCOUNTS = frozenset(
    {
        LedgerAccount.CUSTOMER_PRINCIPAL,
        LedgerAccount.CUSTOMER_FEE,
        LedgerAccount.CUSTOMER_INTEREST,
        LedgerAccount.CUSTOMER_PENALTY,
        LedgerAccount.CUSTOMER_CREDIT,
    }
)


class EntryKind(StrEnum):
    PURCHASE = "purchase"
    REFUND = "refund"
    REPAYMENT = "repayment"
    FEE = "fee"
    INTEREST = "interest"
    PENALTY = "penalty"
    CREDIT_APPLIED = "credit_applied"
    FUNDING_TRANSFER = "funding_transfer"


@dataclass(frozen=True)
class Posting:
    ledger_account: LedgerAccount
    amount: int  # fen, debit positive
    credit_account_id: int | None = None
    merchant_id: str | None = None


@dataclass(frozen=True)
class Entry:
    kind: EntryKind
    business_date: dt.date
    postings: tuple[Posting, ...]
    credit_account_id: int | None = None
    ref_id: int | None = None
    amount: int = 0  # gross amount for listings (positive fen)
    memo: str | None = None

    def is_balanced(self) -> bool:
        return sum(p.amount for p in self.postings) == 0 and len(self.postings) >= 2


class UnbalancedEntry(ValueError):
    pass


def entry(
    kind: EntryKind,
    business_date: dt.date,
    postings: Iterable[Posting],
    *,
    credit_account_id: int | None = None,
    ref_id: int | None = None,
    amount: int = 0,
    memo: str | None = None,
) -> Entry:
    """Build an entry, refusing one that does not balance (no zero postings kept)."""
    ps = tuple(p for p in postings if p.amount != 0)
    e = Entry(kind, business_date, ps, credit_account_id, ref_id, amount, memo)
    if not e.is_balanced():
        raise UnbalancedEntry(f"{kind} entry does not balance: {ps}")
    return e


def purchase_entry(account_id: int, merchant_id: str, amount: int, day: dt.date, purchase_id: int) -> Entry:
    return entry(
        EntryKind.PURCHASE,
        day,
        [
            Posting(LedgerAccount.CUSTOMER_PRINCIPAL, amount, account_id),
            Posting(LedgerAccount.MERCHANT_SETTLEMENT, -amount, merchant_id=merchant_id),
        ],
        credit_account_id=account_id,
        ref_id=purchase_id,
        amount=amount,
    )


def refund_entry(
    account_id: int, merchant_id: str, to_principal: int, to_credit: int, day: dt.date, refund_id: int
) -> Entry:
    """A refund reduces principal owed; what exceeds it becomes a credit balance (溢缴款)."""
    return entry(
        EntryKind.REFUND,
        day,
        [
            Posting(LedgerAccount.MERCHANT_SETTLEMENT, to_principal + to_credit, merchant_id=merchant_id),
            Posting(LedgerAccount.CUSTOMER_PRINCIPAL, -to_principal, account_id),
            Posting(LedgerAccount.CUSTOMER_CREDIT, -to_credit, account_id),
        ],
        credit_account_id=account_id,
        ref_id=refund_id,
        amount=to_principal + to_credit,
    )


def repayment_entry(account_id: int, allocation: dict[LedgerAccount, int], day: dt.date, repayment_id: int) -> Entry:
    """Cash in from the user, credited to the customer accounts it pays off."""
    total = sum(allocation.values())
    return entry(
        EntryKind.REPAYMENT,
        day,
        [
            Posting(LedgerAccount.FUNDING, total),
            *(Posting(acct, -amt, account_id) for acct, amt in allocation.items()),
        ],
        credit_account_id=account_id,
        ref_id=repayment_id,
        amount=total,
    )


def charge_entry(
    kind: EntryKind, account_id: int, amount: int, day: dt.date, ref_id: int | None = None, memo: str | None = None
) -> Entry:
    """A fee, interest or penalty charged to the user: the customer receivable is debited,
    the matching income account credited (``customer_fee`` / ``income_fee`` …)."""
    receivable, income = _CHARGE_ACCOUNTS[kind]
    return entry(
        kind,
        day,
        [
            Posting(receivable, amount, account_id),
            Posting(income, -amount),
        ],
        credit_account_id=account_id,
        ref_id=ref_id,
        amount=amount,
        memo=memo,
    )


def fee_entry(account_id: int, amount: int, day: dt.date, ref_id: int | None = None) -> Entry:
    """Installment fees (手续费) falling due on a bill, posted when the bill closes."""
    return charge_entry(EntryKind.FEE, account_id, amount, day, ref_id)


def interest_entry(account_id: int, amount: int, day: dt.date, ref_id: int | None = None) -> Entry:
    """Revolving interest (利息) of one day, posted by the end-of-day job."""
    return charge_entry(EntryKind.INTEREST, account_id, amount, day, ref_id)


def penalty_entry(account_id: int, amount: int, day: dt.date, ref_id: int | None = None) -> Entry:
    """Penalty interest (逾期利息) of one day, posted by the end-of-day job."""
    return charge_entry(EntryKind.PENALTY, account_id, amount, day, ref_id)


def credit_applied_entry(
    account_id: int,
    allocation: dict[LedgerAccount, int],
    day: dt.date,
    ref_id: int | None = None,
    memo: str | None = None,
) -> Entry:
    """A credit balance (溢缴款) applied to what the user owes: ``customer_credit`` is debited
    (the liability shrinks) and the customer receivables it pays are credited."""
    total = sum(allocation.values())
    return entry(
        EntryKind.CREDIT_APPLIED,
        day,
        [
            Posting(LedgerAccount.CUSTOMER_CREDIT, total, account_id),
            *(Posting(acct, -amt, account_id) for acct, amt in allocation.items()),
        ],
        credit_account_id=account_id,
        ref_id=ref_id,
        amount=total,
        memo=memo,
    )


def funding_transfer_entry(
    from_account_id: int,
    to_account_id: int,
    balances: dict[LedgerAccount, int],
    day: dt.date,
    ref_id: int | None = None,
) -> Entry:
    """Brand isolation (品牌隔离): what a line owes and holds moves to another line of the same
    user — each customer account's balance (debit positive: owed; ``customer_credit`` negative:
    held for the user) leaves the first line and lands on the second. Nothing else changes."""
    postings = [
        p
        for acct, amt in sorted(balances.items())
        for p in (Posting(acct, -amt, from_account_id), Posting(acct, amt, to_account_id))
    ]
    return entry(
        EntryKind.FUNDING_TRANSFER,
        day,
        postings,
        credit_account_id=to_account_id,
        ref_id=ref_id,
        amount=sum(abs(v) for v in balances.values()),
        memo=f"from line {from_account_id}",
    )


_CHARGE_ACCOUNTS = {
    EntryKind.FEE: (LedgerAccount.CUSTOMER_FEE, LedgerAccount.INCOME_FEE),
    EntryKind.INTEREST: (LedgerAccount.CUSTOMER_INTEREST, LedgerAccount.INCOME_INTEREST),
    EntryKind.PENALTY: (LedgerAccount.CUSTOMER_PENALTY, LedgerAccount.INCOME_PENALTY),
}


# --- validation: one pass over aggregates (beancount-style) ------------------------

#: A line's stored balances and the customer ledger account whose postings they equal, with the
#: sign: ``used`` is the sum of ``customer_principal``, ``credit_balance`` minus the sum of
#: ``customer_credit``. Read by the ledger check and by the simulation's incremental check.
BALANCE_COLUMNS: tuple[tuple[str, LedgerAccount, int], ...] = (
    ("used", LedgerAccount.CUSTOMER_PRINCIPAL, 1),
    ("credit_balance", LedgerAccount.CUSTOMER_CREDIT, -1),
)


@dataclass(frozen=True)
class Finding:
    invariant: str
    detail: str
    credit_account_id: int | None = None
    entry_id: int | None = None


@dataclass
class LedgerReport:
    entries: int = 0
    postings: int = 0
    accounts: int = 0
    findings: list[Finding] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.findings


def validate(
    *,
    unbalanced_entries: Sequence[tuple[int, int, int]],
    balance_mismatches: Sequence[tuple[int, str, int, int]],
    over_refunded: Sequence[tuple[int, int, int]],
    negative_balances: Sequence[tuple[int, str, int]],
    counts: tuple[int, int, int],
    billing: Sequence[Finding] = (),
) -> LedgerReport:
    """Turn the aggregates gathered by the store into a report of broken invariants.

    * ``unbalanced_entries``: (entry_id, sum, posting count) with sum ≠ 0 or < 2 postings
    * ``balance_mismatches``: (account_id, column, stored, sum of postings)
    * ``over_refunded``: (purchase_id, amount, refunded)
    * ``negative_balances``: (account_id, column, value)
    * ``billing``: findings of the billing invariants (:func:`validate_billing`)
    """
    rep = LedgerReport(entries=counts[0], postings=counts[1], accounts=counts[2])
    for entry_id, total, n in unbalanced_entries:
        rep.findings.append(
            Finding(
                "entry_balances", f"entry {entry_id}: postings sum to {total} fen over {n} postings", entry_id=entry_id
            )
        )
    for account_id, column, stored, summed in balance_mismatches:
        rep.findings.append(
            Finding(
                "balance_equals_postings",
                f"account {account_id}: {column} is {stored} fen but its postings sum to {summed} fen",
                credit_account_id=account_id,
            )
        )
    for purchase_id, amount, refunded in over_refunded:
        rep.findings.append(
            Finding("refund_not_above_purchase", f"purchase {purchase_id}: refunded {refunded} of {amount} fen")
        )
    for account_id, column, value in negative_balances:
        rep.findings.append(
            Finding(
                "balance_not_negative", f"account {account_id}: {column} is {value} fen", credit_account_id=account_id
            )
        )
    rep.findings.extend(billing)
    return rep


def validate_billing(
    *,
    lines_mismatch: Sequence[tuple[int, int, int]] = (),
    bill_arithmetic: Sequence[tuple[int, str]] = (),
    receivable_mismatch: Sequence[tuple[int, str, int, int]] = (),
    idle_credit: Sequence[tuple[int, int, int]] = (),
) -> list[Finding]:
    """The billing invariants, from aggregates gathered by the store (docs/ledger.md):

    * ``bill_lines_add_up``: (bill_id, signed sum of its lines, total_due − credit_balance)
    * ``bill_adds_up``: (bill_id, what is wrong) — unpaid by component = total − converted
      − paid − carried out; what was allocated to it = paid; closing balance = its lines
    * ``receivables_equal_bills``: (account_id, ledger account, ledger balance, what the bills
      and the unbilled records say) — fee = unpaid fees; interest / penalty = unpaid on bills
      + posted and not yet billed; principal = unpaid on bills + installments not yet billed
      + purchases not yet billed − what already paid them
    * ``credit_not_idle``: (account_id, credit balance, unpaid on bills) — a credit balance is
      applied to billed dues as soon as both exist
    """
    out: list[Finding] = []
    for bill_id, summed, net in lines_mismatch:
        out.append(Finding("bill_lines_add_up", f"bill {bill_id}: lines sum to {summed} fen, bill says {net} fen"))
    for bill_id, what in bill_arithmetic:
        out.append(Finding("bill_adds_up", f"bill {bill_id}: {what}"))
    for account_id, acct, ledger_balance, expected in receivable_mismatch:
        out.append(
            Finding(
                "receivables_equal_bills",
                f"account {account_id}: {acct} is {ledger_balance} fen on the ledger but {expected} fen "
                f"on bills and unbilled records",
                credit_account_id=account_id,
            )
        )
    for account_id, credit, unpaid in idle_credit:
        out.append(
            Finding(
                "credit_not_idle",
                f"account {account_id}: credit balance {credit} fen while bills have {unpaid} fen unpaid",
                credit_account_id=account_id,
            )
        )
    return out
