"""Use cases of the risk engine: the policy in force (validate, show, activate).

The policy in force is the latest ``active`` activation recorded in ``risk_policy_activations``;
before any activation it is the configured file (``HUABEI_RISK_POLICY``, else
``restrictions.risk_policy`` of the product terms, else the policy shipped in the package).
A policy's text is compiled once per version (:func:`huabei.risk.policy.parse` caches it), and
read from the database only when its activation is new to this process: a purchase checks the
policies in force with one small query (:func:`policies_in_force`), not by reading their texts.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Any

from huabei import errors
from huabei.config import ProductTerms
from huabei.events import ExternalCreditReported
from huabei.i18n import N_
from huabei.platform.unit_of_work import Huabei, UnitOfWork
from huabei.restrictions.causes import CAUSES, severity_for_agent
from huabei.risk import catalog
from huabei.risk.policy import Policy, PolicyError, parse

DEFAULT_POLICY = Path(__file__).with_name("default_policy.yaml")
ROLES = ("active", "shadow")


def configured_policy_path(terms: ProductTerms) -> Path:
    """``HUABEI_RISK_POLICY``, else ``restrictions.risk_policy``, else the shipped default."""
    named = os.environ.get("HUABEI_RISK_POLICY") or terms.restrictions.risk_policy
    return Path(named) if named else DEFAULT_POLICY


def load_file(path: str | os.PathLike[str], terms: ProductTerms) -> Policy:
    """Read and compile a policy file; 400 ``risk_policy_not_found`` / ``risk_policy_invalid``."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        raise errors.invalid("risk_policy_not_found", path=str(p)) from None
    return compile_text(text, str(p), terms)


def compile_text(text: str, path: str, terms: ProductTerms) -> Policy:
    try:
        return parse(text, path, catalog.config_values(terms))
    except PolicyError as e:
        raise errors.invalid("risk_policy_invalid", path=path, detail="; ".join(e.errors), errors=e.errors) from None


def active_policy(uow: UnitOfWork) -> Policy:
    """The policy in force for this unit of work (see the module docstring)."""
    return policies_in_force(uow)[0]


def policies_in_force(uow: UnitOfWork) -> tuple[Policy, Policy | None]:
    """The active policy and the one running in shadow (if any), with one query for both
    activations; a policy's text is read and compiled only the first time this process meets its
    activation (then kept, by digest). Before any activation: the configured file, read again
    only when it changes on disk."""
    rows = uow.risk_policies.in_force()
    active = next((r for r in rows if r.role == "active"), None)
    shadow = next((r for r in rows if r.role != "active"), None)
    live = _recorded(uow, active) if active is not None else _configured(uow.terms)
    return live, (_recorded(uow, shadow) if shadow is not None and shadow.role == "shadow" else None)


#: compiled policies of this process, by (digest, path, configuration); bounded (see _remember)
_COMPILED: dict[tuple[object, ...], Policy] = {}
_COMPILED_LOCK = threading.Lock()
_COMPILED_MAX = 64


def _remember(key: tuple[object, ...], policy: Policy) -> Policy:
    with _COMPILED_LOCK:
        if len(_COMPILED) >= _COMPILED_MAX:
            _COMPILED.clear()
        _COMPILED[key] = policy
    return policy


def _recorded(uow: UnitOfWork, row: Any) -> Policy:
    """The compiled policy of an activation row (digest, path, version)."""
    key = ("recorded", row.digest, row.path, tuple(sorted(catalog.config_values(uow.terms).items())))
    policy = _COMPILED.get(key)
    if policy is None:
        stored = uow.risk_policies.get(row.version)
        policy = _remember(key, compile_text(stored.source, stored.path, uow.terms))
    return policy


def _configured(terms: ProductTerms) -> Policy:
    """The configured policy file, compiled; read again when its size or time of change moves."""
    path = configured_policy_path(terms)
    try:
        st = path.stat()
    except OSError:
        return load_file(path, terms)  # 400 risk_policy_not_found, as before
    key = ("file", str(path), st.st_mtime_ns, st.st_size, tuple(sorted(catalog.config_values(terms).items())))
    policy = _COMPILED.get(key)
    return policy if policy is not None else _remember(key, load_file(path, terms))


def agent_check(uow: UnitOfWork, cause: str, rule_severity: str | None) -> None:
    """An agent places and lifts only soft restrictions (``restrictions.causes.severity_for_agent``
    over the policy in force): a hard one is 409 ``restriction_hard_for_agent``."""
    severities = {r.severity for r in active_policy(uow).rules if r.cause == cause}
    if severity_for_agent(cause, rule_severity, severities) == "hard":
        raise errors.conflict("restriction_hard_for_agent", cause=cause)


def restrictions_for_agent(system: Huabei, account_id: int) -> list[dict[str, Any]]:
    """A line's active restrictions with the rule that placed them and whether an agent may lift
    them (``agent``: soft or hard), for the agents' line page."""
    with system.uow(readonly=True) as uow:
        rows = uow.restrictions.active(account_id)
        rules = active_policy(uow).rules if rows else ()
    return [
        {
            "restriction_id": x.restriction_id,
            "cause": x.cause,
            "rule_id": x.rule_id,
            "severity": x.severity,
            "evidence": dict(x.evidence or {}),
            "note": x.note,
            "placed_on": x.placed_on.isoformat(),
            "placed_by": x.placed_by,
            "lifts_on": x.lifts_on.isoformat() if x.lifts_on else None,
            "agent": severity_for_agent(
                x.cause,
                x.severity if x.rule_id is not None else None,
                {r.severity for r in rules if r.cause == x.cause},
            ),
        }
        for x in rows
    ]


def causes_for_agent(system: Huabei) -> dict[str, str]:
    """Every cause and whether an agent may place it (soft or hard) under the policy in force."""
    with system.uow(readonly=True) as uow:
        rules = active_policy(uow).rules
    return {c: severity_for_agent(c, None, {r.severity for r in rules if r.cause == c}) for c in CAUSES}


def shadow_policy(uow: UnitOfWork) -> Policy | None:
    """The candidate policy running in shadow, if any."""
    return policies_in_force(uow)[1]


def validate(path: str, terms: ProductTerms) -> dict[str, Any]:
    policy = load_file(path, terms)
    return {"valid": True, **policy.as_dict()}


def activate(system: Huabei, path: str, *, actor: str, role: str = "active") -> dict[str, Any]:
    """Record the policy of ``path`` (a new version, or the very same text of a known one) and
    make it the ``active`` (or ``shadow``) policy, with who and when. A version already stored
    with another text is refused (409); an invalid file activates nothing (400)."""
    if role not in ROLES:
        raise errors.invalid("invalid_request", detail=N_("role is one of {expected}"), expected=", ".join(ROLES))
    policy = load_file(path, system.terms)
    with system.uow() as uow:
        record(uow, policy, actor)
        uow.risk_policies.activate(policy.version, role, actor, uow.today(), uow.now())
        uow.commit()
    return {"version": policy.version, "digest": policy.digest, "role": role, "actor": actor}


def stop_shadow(system: Huabei, *, actor: str) -> dict[str, Any]:
    with system.uow() as uow:
        current = shadow_policy(uow)
        if current is None:
            return {"shadow": None}
        uow.risk_policies.activate(current.version, "shadow_off", actor, uow.today(), uow.now())
        uow.commit()
        return {"shadow": None, "stopped": current.version}


def record(uow: UnitOfWork, policy: Policy, actor: str) -> None:
    """Store a policy version once; the same version with another text is refused."""
    known = uow.risk_policies.get(policy.version)
    if known is None:
        uow.risk_policies.add(
            version=policy.version,
            digest=policy.digest,
            source=policy.source,
            path=policy.path,
            loaded_by=actor,
            now=uow.now(),
        )
    elif known.digest != policy.digest:
        raise errors.conflict("risk_policy_version_exists", version=policy.version)


def report_external_credit(
    system: Huabei, user_id: str, *, product: str, days_past_due: int, amount_overdue: int
) -> dict[str, Any]:
    """The host reports the user's standing on another credit product (借呗, 网商贷, 备用金 …):
    days past due (0: nothing overdue) and the amount overdue, as of today. The latest report
    of each product counts (feature ``overdue_elsewhere_days``); the end-of-day run decides."""
    if days_past_due < 0 or amount_overdue < 0:
        raise errors.invalid("invalid_request", detail=N_("days past due and the amount overdue cannot be negative"))
    with system.uow() as uow:
        if uow.users.get(user_id) is None:
            raise errors.not_found("user_not_found", user_id=user_id)
        today, now = uow.today(), uow.now()
        report_id = uow.external_credit.add(
            user_id=user_id,
            product=product,
            days_past_due=days_past_due,
            amount_overdue=amount_overdue,
            reported_on=today,
            created_at=now,
        )
        uow.events.record(
            ExternalCreditReported(user_id=user_id, report_id=report_id, product=product, days_past_due=days_past_due),
            business_date=today,
            now=now,
        )
        uow.commit()
    return {
        "report_id": report_id,
        "user_id": user_id,
        "product": product,
        "days_past_due": days_past_due,
        "amount_overdue": amount_overdue,
        "reported_on": today.isoformat(),
    }


def show(system: Huabei, version: str | None = None) -> dict[str, Any]:
    """The policy in force (or a stored ``version``), the shadow one and every activation."""
    with system.uow(readonly=True) as uow:
        if version is not None:
            row = uow.risk_policies.get(version)
            if row is None:
                raise errors.not_found("risk_policy_version_not_found", version=version)
            policy = compile_text(row.source, row.path, uow.terms)
        else:
            policy = active_policy(uow)
        shadow = shadow_policy(uow)
        recorded = uow.risk_policies.current(("active",)) is not None
        return {
            "policy": policy.as_dict(),
            "source": "recorded" if recorded or version else "configured",
            "path": policy.path,
            "shadow": shadow.version if shadow else None,
            "activations": [
                {
                    "version": a.version,
                    "role": a.role,
                    "actor": a.actor,
                    "business_date": a.business_date.isoformat(),
                    "created_at": a.created_at.isoformat(),
                    "digest": a.digest,
                }
                for a in uow.risk_policies.history()
            ],
        }
