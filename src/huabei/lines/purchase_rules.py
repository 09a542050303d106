"""Purchase authorisation rules (消费授权) that need no database.

Huabei pays only for consumption (花呗只能用于消费): transfers, cash withdrawal,
gambling, virtual currency and the like are refused whatever the limit. The limit
check itself is atomic in the database (see ``AccountRepository.try_debit``); this
module holds the rules decided before it, and the one that explains a failed debit.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from huabei import errors
from huabei.config import ProductTerms
from huabei.lines.rules import BLOCK_OVERDUE
from huabei.money import format_yuan


class Channel(StrEnum):
    ONLINE = "online"
    OFFLINE = "offline"


@dataclass(frozen=True)
class PurchaseRequest:
    account_id: int
    amount: int
    merchant_id: str
    merchant_category: str
    channel: Channel
    #: the payment password (支付密码) as typed; required when the user has set one. Never
    #: stored, logged or part of the idempotency request hash (``huabei.passwords``).
    password: str | None = field(default=None, repr=False)
    #: The payment device the host saw (a takeover signal when it churns); None: not reported.
    device_id: str | None = None


def check_purchase(req: PurchaseRequest, terms: ProductTerms) -> None:
    """Raise a decline (or input error) for what is refused regardless of the account."""
    cats = terms.categories
    if req.merchant_category in cats.refused:
        raise errors.declined("category_not_allowed", category=req.merchant_category)
    if req.merchant_category not in cats.allowed:
        raise errors.invalid("invalid_category", category=req.merchant_category)
    if req.amount > terms.authorisation.max_single_purchase:
        raise errors.declined("amount_over_single_limit", maximum=format_yuan(terms.authorisation.max_single_purchase))


def explain_failed_debit(
    *, state: str, block_code: str | None, block_cause: str | None, amount: int, available: int
) -> errors.HuabeiError:
    """Why the atomic debit matched no row: the decline to return, most severe first."""
    if state != "open":
        return errors.declined("account_closed")
    if block_code == BLOCK_OVERDUE:
        return errors.declined("account_overdue")
    if block_cause == "brand_isolation":  # paused while a partner's balances move to 信用购
        return errors.declined("brand_isolation")
    if block_code:
        return errors.declined("account_frozen", cause=block_cause or block_code)
    return errors.declined("insufficient_limit", amount=format_yuan(amount), available=format_yuan(available))
