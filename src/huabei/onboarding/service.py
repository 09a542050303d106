"""Use case: open a user's credit line (开通).

With ``base_limit`` an operator gives the limit (the user must have a verified real name).
Without it the automatic decision (:func:`huabei.limits.service.decide_opening`: verified real
name, score ≥ the opening threshold, no disqualifying record) grants the policy's base limit, or
refuses with the reasons. Either way the user's row is locked first, so concurrent openings for
one user serialise and every one but the first answers ``account_exists``.
"""

from __future__ import annotations

from typing import Any

from huabei import errors
from huabei.limits.service import ACTOR_SYSTEM, decide_opening
from huabei.lines.service import POLICY_OPERATOR, account_view, add_line
from huabei.platform.unit_of_work import Huabei


def open_account(
    system: Huabei,
    *,
    user_id: str,
    base_limit: int | None = None,
    actor: str = POLICY_OPERATOR,
    funding_source: str = "platform",
) -> dict[str, Any]:
    """开通. With ``base_limit``: an operator-given limit. Without: the automatic decision grants
    the policy's base limit, or raises ``HuabeiError("not_eligible", UNPROCESSABLE,
    reasons=[codes...], threshold=, score=)`` (the decision's score is kept in the score history
    either way). ``funding_source``: who funds the line (资金方), ``platform`` or a partner of
    ``funding.partners`` (400 ``unknown_funding_partner`` otherwise)."""
    codes = system.terms.funding.codes()
    if funding_source not in codes:
        raise errors.invalid("unknown_funding_partner", partner=funding_source, partners=", ".join(codes))
    with system.uow() as uow:
        user = uow.users.get(user_id, for_update=True)
        if user is None:
            raise errors.not_found("user_not_found", user_id=user_id)
        reasons, policy_version = ["account_opened"], POLICY_OPERATOR
        if base_limit is None:
            if uow.accounts.open_account_of(user_id) is not None:
                raise errors.conflict("account_exists", user_id=user_id)
            uow.facts.lock_user(user_id)
            decision = decide_opening(uow, user_id)
            if not decision.eligible:
                uow.commit()  # keep the decision's score
                raise errors.unprocessable("not_eligible", reasons=list(decision.reasons), **decision.params)
            base_limit, policy_version = decision.base_limit, decision.policy_version
            reasons += list(decision.reasons)
            actor = ACTOR_SYSTEM if actor == POLICY_OPERATOR else actor
        elif not user.real_name_verified:
            raise errors.unprocessable("real_name_required")
        account_id = add_line(
            uow,
            user_id=user_id,
            base_limit=base_limit,
            reasons=reasons,
            policy_version=policy_version,
            actor=actor,
            funding_source=funding_source,
        )
        uow.commit()
    return account_view(system, account_id)
