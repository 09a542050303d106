"""Use cases: register users, set base and temporary limits; the line's own row written when it
is opened (:func:`add_line`; the opening decision is :mod:`huabei.onboarding`)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.exc import IntegrityError

from huabei import errors
from huabei.errors import HuabeiError
from huabei.events import AccountOpened, UserContactChanged, UserRegistered
from huabei.i18n import N_
from huabei.lines.rules import LimitChange, Product
from huabei.money import format_yuan
from huabei.platform.unit_of_work import Huabei, UnitOfWork

PROFILE_FIELDS = (
    "education",
    "occupation",
    "email",
    "address",
    "employer",
    "id_document_expires_on",
    "bank_card_bound",
    "vehicle",
)
POLICY_OPERATOR = "operator"


def register_user(
    system: Huabei,
    *,
    user_id: str,
    name: str,
    phone: str,
    real_name_verified: bool,
    profile: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Register a user; ``user_exists`` (409) when the id is taken, also when a concurrent
    registration of the same id commits first (its insert wins the primary key)."""
    try:
        return _register_user(system, user_id, name, phone, real_name_verified, profile)
    except IntegrityError:
        with system.uow(readonly=True) as uow:
            if uow.users.exists(user_id):
                raise errors.conflict("user_exists", user_id=user_id) from None
        raise


def _register_user(
    system: Huabei, user_id: str, name: str, phone: str, real_name_verified: bool, profile: dict[str, Any] | None
) -> dict[str, Any]:
    with system.uow() as uow:
        if uow.users.exists(user_id):
            raise errors.conflict("user_exists", user_id=user_id)
        uow.users.add(
            user_id=user_id,
            name=name,
            phone=phone,
            real_name_verified=real_name_verified,
            profile=profile or {},
            created_on=uow.today(),
            created_at=uow.now(),
        )
        uow.events.record(
            UserRegistered(user_id=user_id, real_name_verified=real_name_verified),
            business_date=uow.today(),
            now=uow.now(),
        )
        uow.commit()
        return {
            "user_id": user_id,
            "name": name,
            "phone": phone,
            "real_name_verified": real_name_verified,
            "profile": profile or {},
            "created_on": uow.today().isoformat(),
        }


def get_user(system: Huabei, user_id: str) -> dict[str, Any]:
    with system.uow(readonly=True) as uow:
        u = uow.users.get(user_id)
        if u is None:
            raise errors.not_found("user_not_found", user_id=user_id)
        return {
            "user_id": u.user_id,
            "name": u.name,
            "phone": u.phone,
            "real_name_verified": u.real_name_verified,
            "profile": u.profile,
            "created_on": u.created_on.isoformat(),
            "account_id": uow.accounts.open_account_of(user_id),
            "xinyonggou_account_id": uow.accounts.open_account_of(user_id, Product.XINYONGGOU.value),
            "xinyonggou_account_ids": uow.accounts.product_lines_of(user_id, Product.XINYONGGOU.value),
        }


def update_contact(
    system: Huabei, user_id: str, *, phone: str | None = None, bank_card: str | None = None
) -> dict[str, Any]:
    """换绑: a new phone number and / or bank card (as the host masks it). Each change is recorded
    (``user_profile_changes``, old and new value, the business date) — frequent changes are a
    takeover signal the risk engine counts; giving the current value again records nothing."""
    if phone is None and bank_card is None:
        raise errors.invalid("invalid_request", detail=N_("give a phone number, a bank card or both"))
    with system.uow() as uow:
        u = uow.users.get(user_id, for_update=True)
        if u is None:
            raise errors.not_found("user_not_found", user_id=user_id)
        today, now = uow.today(), uow.now()
        changed = []
        for field, old, new in (
            ("phone", u.phone, phone),
            ("bank_card", uow.users.current_bank_card(user_id), bank_card),
        ):
            if new is None or new == old:
                continue
            uow.users.add_profile_change(
                user_id=user_id, field=field, old_value=old, new_value=new, business_date=today, created_at=now
            )
            if field == "phone":
                uow.users.set_phone(user_id, new)
            changed.append(field)
        if changed:
            uow.events.record(UserContactChanged(user_id=user_id, fields=changed), business_date=today, now=now)
        uow.commit()
    return {**get_user(system, user_id), "changed": changed}


def _check_base_limit(uow: UnitOfWork, base_limit: int) -> None:
    lt = uow.terms.limits
    if not lt.min_base_limit <= base_limit <= lt.max_base_limit:
        raise errors.unprocessable(
            "base_limit_out_of_range", minimum=format_yuan(lt.min_base_limit), maximum=format_yuan(lt.max_base_limit)
        )


@dataclass(frozen=True)
class NewLine:
    """A line to open (:func:`add_lines`): whose, its first base limit, and the first limit
    change's reasons, policy version and actor."""

    user_id: str
    base_limit: int
    reasons: tuple[str, ...]
    policy_version: str
    actor: str
    funding_source: str = "platform"


def add_line(
    uow: UnitOfWork,
    *,
    user_id: str,
    base_limit: int,
    reasons: list[str],
    policy_version: str,
    actor: str,
    funding_source: str = "platform",
) -> int:
    """Open the user's line inside ``uow`` (the caller holds the user's row lock and has decided
    the limit: :func:`huabei.onboarding.service.open_account`): :func:`add_lines` of one line,
    raising its error. ``funding_source``: who funds it (资金方), ``platform`` or a partner of
    ``funding.partners``. The caller commits."""
    (opened,) = add_lines(uow, [NewLine(user_id, base_limit, tuple(reasons), policy_version, actor, funding_source)])
    if isinstance(opened, HuabeiError):
        raise opened
    return opened


def add_lines(uow: UnitOfWork, lines: Sequence[NewLine]) -> list[int | HuabeiError]:
    """Open these users' lines inside ``uow`` (the caller holds the users' row locks), set-based:
    one query for which of them already have an open line, then one insert each for the lines,
    their first limit changes and their ``AccountOpened`` events; the caller commits. Each line
    gets its new id, or the error opening it alone would raise — ``account_exists`` (409) when
    the user already has an open line (also a user listed again: the earlier entry opened it),
    ``base_limit_out_of_range`` (422) outside the product's bounds — and opens nothing."""
    if not lines:
        return []
    taken = uow.accounts.users_with_open_line([n.user_id for n in lines])
    out: list[int | HuabeiError] = []
    todo: list[tuple[int, NewLine]] = []
    for n in lines:
        if n.user_id in taken:
            out.append(errors.conflict("account_exists", user_id=n.user_id))
            continue
        try:
            _check_base_limit(uow, n.base_limit)
        except HuabeiError as e:
            out.append(e)
            continue
        taken.add(n.user_id)
        todo.append((len(out), n))
        out.append(0)
    if not todo:
        return out
    today, now, due_day = uow.today(), uow.now(), uow.terms.billing.default_due_day
    ids = uow.accounts.add_many(
        [
            {
                "user_id": n.user_id,
                "state": "open",
                "base_limit": n.base_limit,
                "temporary_limit": 0,
                "used": 0,
                "credit_balance": 0,
                "due_day": due_day,
                "opened_on": today,
                "created_at": now,
                "funding_source": n.funding_source,
            }
            for _, n in todo
        ]
    )
    uow.limit_changes.record(
        [
            LimitChange(account_id, "base", 0, n.base_limit, n.reasons, n.policy_version, n.actor)
            for account_id, (_, n) in zip(ids, todo, strict=True)
        ],
        today,
        now,
        announce=False,  # the line's first limit is announced by AccountOpened
    )
    uow.events.record_many(
        [
            AccountOpened(account_id=account_id, user_id=n.user_id, base_limit=n.base_limit)
            for account_id, (_, n) in zip(ids, todo, strict=True)
        ],
        business_date=today,
        now=now,
    )
    for account_id, (i, _) in zip(ids, todo, strict=True):
        out[i] = account_id
    return out


def set_base_limit(
    system: Huabei,
    account_id: int,
    *,
    base_limit: int,
    reasons: list[str] | None = None,
    actor: str = POLICY_OPERATOR,
    policy_version: str = POLICY_OPERATOR,
) -> dict[str, Any]:
    """Change the base limit (固定额度). A cut below ``used`` is allowed: the line then
    simply has no available limit until repaid."""
    with system.uow() as uow:
        line = uow.accounts.get(account_id, for_update=True)
        if line is None:
            raise errors.not_found("account_not_found", account_id=account_id)
        _check_base_limit(uow, base_limit)
        if base_limit != line.base_limit:
            uow.accounts.set_base_limit(account_id, base_limit)
            record_limit_change(
                uow,
                account_id,
                "base",
                line.base_limit,
                base_limit,
                reasons or ["operator_set"],
                actor=actor,
                policy_version=policy_version,
            )
        uow.commit()
    return account_view(system, account_id)


def grant_temporary_limit(
    system: Huabei,
    account_id: int,
    *,
    amount: int,
    expires_on: dt.date,
    reasons: list[str] | None = None,
    actor: str = POLICY_OPERATOR,
    policy_version: str = POLICY_OPERATOR,
) -> dict[str, Any]:
    """临时额度: an extra limit usable on days before ``expires_on``. A new grant replaces
    the current one."""
    with system.uow() as uow:
        line = uow.accounts.get(account_id, for_update=True)
        if line is None:
            raise errors.not_found("account_not_found", account_id=account_id)
        lt, today = uow.terms.limits, uow.today()
        days = (expires_on - today).days
        if amount > lt.max_temporary_limit or not 0 < days <= lt.max_temporary_limit_days:
            raise errors.unprocessable(
                "temporary_limit_out_of_range",
                maximum=format_yuan(lt.max_temporary_limit),
                days=lt.max_temporary_limit_days,
            )
        uow.accounts.set_temporary_limit(account_id, amount, expires_on)
        record_limit_change(
            uow,
            account_id,
            "temporary",
            line.temporary_limit_on(today),
            amount,
            reasons or ["temporary_limit_granted"],
            actor=actor,
            policy_version=policy_version,
            expires_on=expires_on,
        )
        uow.commit()
    return account_view(system, account_id)


def record_limit_change(
    uow: UnitOfWork,
    account_id: int,
    kind: str,
    old: int,
    new: int,
    reasons: list[str],
    *,
    actor: str,
    policy_version: str,
    expires_on: dt.date | None = None,
) -> None:
    uow.limit_changes.record(
        [LimitChange(account_id, kind, old, new, tuple(reasons), policy_version, actor, expires_on)],
        uow.today(),
        uow.now(),
    )


def account_view(system: Huabei, account_id: int) -> dict[str, Any]:
    with system.uow(readonly=True) as uow:
        return account_snapshot(uow, account_id)


def account_snapshot(uow: UnitOfWork, account_id: int) -> dict[str, Any]:
    """The line's view (``account_not_found`` 404 when there is none): :func:`account_snapshots`
    of one line."""
    return account_snapshots(uow, [account_id])[0]


def account_snapshots(uow: UnitOfWork, account_ids: Sequence[int]) -> list[dict[str, Any]]:
    """The views of these lines, in their order, set-based: the lines, their active restrictions
    and their delinquency each read in one query (per thousand lines); ``account_not_found``
    (404) for the first id without a line. Days past due are those of the line's oldest overdue
    bill, as the end-of-day job last counted them."""
    lines = uow.accounts.get_many(account_ids)
    restrictions = uow.restrictions.active_of(account_ids)
    delinquency = uow.billing.delinquency_rows(account_ids)
    today = uow.today()
    out = []
    for account_id in account_ids:
        line = lines.get(account_id)
        if line is None:
            raise errors.not_found("account_not_found", account_id=account_id)
        temp = line.temporary_limit_on(today)
        d = delinquency.get(account_id)
        out.append(
            {
                "account_id": line.account_id,
                "user_id": line.user_id,
                "status": line.status().value,
                "base_limit": line.base_limit,
                "temporary_limit": temp,
                "temporary_limit_expires_on": line.temporary_limit_expires_on.isoformat() if temp else None,
                "total_limit": line.total_limit(today),
                "used": line.used,
                "available": line.available(today),
                "spendable_now": line.spendable_now(today),
                "blocked_reason": line.blocked_reason(),
                "days_past_due": int(d.days_past_due) if d is not None and d.bucket != "current" else 0,
                "credit_balance": line.credit_balance,
                "due_day": line.due_day,
                "opened_on": line.opened_on.isoformat(),
                "product": line.product,
                "funding_source": line.funding_source,
                "restrictions": [restriction_view(r) for r in restrictions.get(account_id, [])],
                "as_of": today.isoformat(),
            }
        )
    return out


def restriction_view(r: Any) -> dict[str, Any]:
    return {
        "restriction_id": r.restriction_id,
        "cause": r.cause,
        "active": r.active,
        "evidence": r.evidence,
        "note": r.note,
        "placed_on": r.placed_on.isoformat(),
        "placed_by": r.placed_by,
        "lifts_on": r.lifts_on.isoformat() if r.lifts_on else None,
        "lifted_on": r.lifted_on.isoformat() if r.lifted_on else None,
        "lift_reason": r.lift_reason,
    }
