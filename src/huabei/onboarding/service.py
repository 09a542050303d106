"""Use case: open a user's credit line (开通).

With ``base_limit`` an operator gives the limit (the user must have a verified real name).
Without it the automatic decision (:func:`huabei.limits.service.decide_opening`: verified real
name, score ≥ the opening threshold, no disqualifying record) grants the policy's base limit, or
refuses with the reasons. Either way the user's row is locked first, so concurrent openings for
one user serialise and every one but the first answers ``account_exists``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from huabei import errors
from huabei.errors import HuabeiError
from huabei.limits.service import ACTOR_SYSTEM, decide_opening, decide_openings
from huabei.lines.service import POLICY_OPERATOR, NewLine, account_snapshots, account_view, add_line, add_lines
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


def open_accounts(
    system: Huabei, user_ids: Sequence[str], *, funding_source: str = "platform"
) -> list[dict[str, Any] | HuabeiError]:
    """开通 for many users at once, by the automatic decision, in **one transaction**: each user
    gets what :func:`open_account` without ``base_limit`` would answer, called for them one after
    another — the line's view, or the error it would raise (``user_not_found``,
    ``account_exists``, ``not_eligible`` with its reasons). Set-based: the users' rows are locked
    in one statement (in user order), their facts collected together, scored as one batch
    (every score stored, trigger ``opening``) and decided by the same rules
    (:func:`huabei.limits.service.decide_openings`); the lines, their first limit changes and
    events are written with one insert each (:func:`huabei.lines.service.add_lines`) and the new
    lines' views read in one query each (lines, restrictions, delinquency) before the commit. A
    user listed twice is decided once: the later entries answer ``account_exists`` if the line
    opened, or the same refusal."""
    codes = system.terms.funding.codes()
    if funding_source not in codes:
        raise errors.invalid("unknown_funding_partner", partner=funding_source, partners=", ".join(codes))
    answers: dict[str, HuabeiError | int] = {}
    order: list[str] = []
    with system.uow() as uow:
        known = uow.users.lock_many(user_ids)
        opened = uow.accounts.users_with_open_line(list(known))
        for user_id in dict.fromkeys(user_ids):  # each user once, in order
            if user_id not in known:
                answers[user_id] = errors.not_found("user_not_found", user_id=user_id)
            elif user_id in opened:
                answers[user_id] = errors.conflict("account_exists", user_id=user_id)
            else:
                order.append(user_id)
        decisions = decide_openings(uow, order) if order else {}
        lines: list[NewLine] = []
        for user_id in order:
            d = decisions[user_id]
            if not d.eligible:
                answers[user_id] = errors.unprocessable("not_eligible", reasons=list(d.reasons), **d.params)
            else:
                reasons = ("account_opened", *d.reasons)
                lines.append(NewLine(user_id, d.base_limit, reasons, d.policy_version, ACTOR_SYSTEM, funding_source))
        # e.g. a proposed limit outside the product's bounds refuses that user alone
        answers.update(zip([n.user_id for n in lines], add_lines(uow, lines), strict=True))
        fresh = [a for a in answers.values() if isinstance(a, int)]
        views = dict(zip(fresh, account_snapshots(uow, fresh), strict=True))
        uow.commit()
    out: list[dict[str, Any] | HuabeiError] = []
    seen: set[str] = set()
    for user_id in user_ids:
        a = answers[user_id]
        if user_id in seen and isinstance(a, int):
            out.append(errors.conflict("account_exists", user_id=user_id))
        else:
            out.append(a if isinstance(a, HuabeiError) else views[a])
        seen.add(user_id)
    return out
