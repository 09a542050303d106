"""Roles and who may call what: pure rules, no I/O.

A route declares the roles that may call it (``huabei.entrypoints.auth.allow``); ``admin``
may call everything. A ``customer`` key is bound to one user and reaches only what that user
owns; the route names the path parameter that says whose it is.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Role(StrEnum):
    CUSTOMER = "customer"  # one user: their own lines, bills, repayments, installments, appeals
    AGENT = "agent"  # customer service: reads any line, appeals, soft freezes; moves no money
    RISK = "risk"  # risk analysts: policies, backtests, sweeps, maintenance windows, limits
    ADMIN = "admin"  # whoever runs the installation: everything (audited like the rest)
    GATEWAY = "gateway"  # the payment network: purchases, refunds, repayments; nothing else


ROLES: tuple[str, ...] = tuple(r.value for r in Role)


@dataclass(frozen=True)
class Principal:
    """Who is calling: the key (or login session) and its role."""

    key_id: int
    role: Role
    user_id: str | None = None  # set for (and only for) a customer
    label: str = ""

    @property
    def actor(self) -> str:
        """How the audit log and ``placed_by`` columns name this caller, e.g. ``agent:7``."""
        return f"{self.role.value}:{self.key_id}"


@dataclass(frozen=True)
class Policy:
    """One route's declaration: the roles allowed, and for a customer, what makes it theirs."""

    roles: frozenset[Role]
    own: str | None = None  # the path parameter naming what a customer must own
    own_in_body: bool = False  # the handler checks ownership itself (the owner is in the body)
    any_customer: bool = False  # what the route shows is nobody's own (the campaigns on offer)
    public: bool = False  # no key needed (health check)

    def __post_init__(self) -> None:
        if (
            Role.CUSTOMER in self.roles
            and not self.public
            and [self.own is not None, self.own_in_body, self.any_customer].count(True) != 1
        ):
            raise ValueError(
                "a route open to customers says what they own: one of own=, own_in_body=True, any_customer=True"
            )


def policy(*roles: str, own: str | None = None, own_in_body: bool = False, any_customer: bool = False) -> Policy:
    """``policy("agent", "risk")``: those roles and ``admin``. Unknown role names fail at import."""
    parsed = {Role(r) for r in roles} | {Role.ADMIN}
    return Policy(frozenset(parsed), own=own, own_in_body=own_in_body, any_customer=any_customer)


PUBLIC = Policy(frozenset(Role), public=True)


class Decision(StrEnum):
    ALLOWED = "allowed"
    WRONG_ROLE = "forbidden"  # 403: the role may not call the route
    CHECK_OWNER = "check_owner"  # allowed if the customer owns the resource named by the path


def decide(p: Policy, principal: Principal) -> Decision:
    """Whether ``principal`` may call a route declared ``p`` (ownership is checked after, with I/O)."""
    if p.public:
        return Decision.ALLOWED
    if principal.role not in p.roles:
        return Decision.WRONG_ROLE
    if principal.role is Role.CUSTOMER and p.own is not None:
        return Decision.CHECK_OWNER
    return Decision.ALLOWED
