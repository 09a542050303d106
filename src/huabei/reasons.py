"""Reason codes: the vocabulary of every decision huabei makes.

A decline, a freeze, a limit change, a score change and an input error each carry
one or more reason codes. This registry gives each code its English message (the
gettext msgid) and, where the user can do something, a remedy. The explanation
layer (:func:`explain`) turns a code into words in zh_CN or en.

Codes are stable API: never rename one; add a new one instead.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from string import Formatter

from huabei.i18n import N_, translate


class ReasonKind(StrEnum):
    INPUT = "input"  # the request itself is wrong
    DECLINE = "decline"  # a purchase or operation the product refuses
    RESTRICTION = "restriction"  # a freeze cause (冻结原因)
    LIMIT = "limit"  # a limit change reason
    SCORE = "score"  # a credit-score reason
    STATE = "state"  # not found / conflicts


@dataclass(frozen=True)
class Reason:
    code: str
    kind: ReasonKind
    message: str  # English msgid; may hold {named} params
    remedy: str | None = None  # English msgid of what the user can do


_REGISTRY: dict[str, Reason] = {}


def register(code: str, kind: ReasonKind, message: str, remedy: str | None = None) -> Reason:
    if code in _REGISTRY and _REGISTRY[code] != Reason(code, kind, message, remedy):
        raise ValueError(f"reason code {code!r} registered twice with different text")
    r = Reason(code, kind, message, remedy)
    _REGISTRY[code] = r
    return r


def get(code: str) -> Reason | None:
    return _REGISTRY.get(code)


def all_reasons() -> list[Reason]:
    return list(_REGISTRY.values())


def explain(code: str, locale: str = "en", **params: object) -> dict[str, str | None]:
    """``{"code", "message", "remedy"}`` in ``locale`` for a reason code."""
    r = _REGISTRY.get(code)
    if r is None:
        return {"code": code, "message": code, "remedy": None}
    return {
        "code": code,
        "message": translate(r.message, locale, **params),
        "remedy": translate(r.remedy, locale, **params) if r.remedy else None,
    }


def message(code: str, locale: str = "en", **params: object) -> str:
    return explain(code, locale, **params)["message"] or code


# --- input errors -----------------------------------------------------------------
I = ReasonKind.INPUT
register("invalid_amount", I, N_("The amount must be a string of yuan with at most two decimals, greater than zero, such as \"88.80\"."))
register("invalid_request", I, N_("The request is not valid: {detail}"))
register("malformed_json", I, N_("The request body is not valid JSON."))
register("idempotency_key_required", I, N_("This request moves money and needs an Idempotency-Key header."))
register("invalid_idempotency_key", I, N_("The Idempotency-Key header must be 1 to 255 printable characters."))
register("invalid_date", I, N_("The date must be written as YYYY-MM-DD."))
register("invalid_category", I, N_("Unknown merchant category \"{category}\"."))
register("invalid_cursor", I, N_("The pagination cursor is not valid."))
register("clock_not_simulated", I, N_("The business date follows the wall clock in production and cannot be set."))
register("route_not_found", I, N_("There is no such endpoint."))
register("method_not_allowed", I, N_("This endpoint does not accept that HTTP method."))
register("http_error", I, N_("The request could not be served: {detail}"))
register("internal_error", I, N_("Something went wrong on our side; nothing was changed. Please retry."))
register("clock_backwards", I, N_("The business date cannot move backwards (from {current} to {requested})."))

# --- state: not found and conflicts ---------------------------------------------
S = ReasonKind.STATE
register("user_not_found", S, N_("No user with id {user_id}."))
register("account_not_found", S, N_("No credit line with id {account_id}."))
register("purchase_not_found", S, N_("No purchase with id {purchase_id}."))
register("restriction_not_found", S, N_("No active restriction with id {restriction_id}."))
register("user_exists", S, N_("A user with id {user_id} already exists."))
register("account_exists", S, N_("User {user_id} already has an open credit line."))
register("idempotency_conflict", S, N_("This Idempotency-Key was already used with a different request."))
register("idempotency_in_progress", S, N_("A request with this Idempotency-Key is still being processed; retry shortly."))
register("real_name_required", S, N_("A credit line can only be opened after real-name verification."), N_("Complete real-name verification in the app, then apply again."))
register("base_limit_out_of_range", S, N_("The base limit must be between {minimum} and {maximum} yuan."))
register("temporary_limit_out_of_range", S, N_("The temporary limit must be at most {maximum} yuan and last at most {days} days."))
register("refund_exceeds_purchase", S, N_("The refund is larger than what remains of the purchase ({refundable} yuan)."))
register("repayment_exceeds_balance", S, N_("The repayment is larger than what you owe ({owed} yuan)."))
register("nothing_owed", S, N_("Nothing is owed on this credit line."))
register("account_closed", S, N_("This credit line is closed."), N_("Apply to open Huabei again when you are eligible."))

# --- purchase declines (消费被拒) -------------------------------------------------
D = ReasonKind.DECLINE
register("insufficient_limit", D, N_("The purchase of {amount} yuan is more than your available limit of {available} yuan."),
         N_("Repay part of your bill to free up limit, or pay with another method."))
register("category_not_allowed", D, N_("Huabei can only pay for consumption; {category} is not allowed (no transfers, cash or gambling)."),
         N_("Use Huabei for purchases of goods and services."))
register("amount_over_single_limit", D, N_("A single purchase can be at most {maximum} yuan."),
         N_("Split the payment or use another method."))
# the remedy of a freeze is its cause's remedy (see render)
register("account_frozen", D, N_("Your credit line is frozen: {cause}"))
register("account_overdue", D, N_("Your credit line has an overdue bill, so new purchases are paused."),
         N_("Repay everything overdue; purchases resume once nothing is past due."))

# --- restriction causes (冻结原因): the nine causes of the second seed -------------
R = ReasonKind.RESTRICTION
register("overdue_reported", R, N_("A repayment is overdue and has been reported to the credit bureau."),
         N_("Repay everything overdue at once, then keep a good record; serious cases need three to six months of on-time repayments."))
register("cash_out_suspected", R, N_("Transactions look like cash-out (套现), which Huabei does not allow."),
         N_("Avoid such transactions and wait for the risk-control period (about one to two months) to end; if you never cashed out, appeal with your recent transaction details."))
register("score_brushing_suspected", R, N_("Activity looks like score brushing (刷分)."),
         N_("Stop the activity and wait for the risk-control period to end; appeal with your transaction details if this is wrong."))
register("score_below_threshold", R, N_("Your credit score has fallen below {threshold}, the minimum for Huabei."),
         N_("Take part in credit tasks, pay on time and complete your profile to raise your score."))
register("inactive_account", R, N_("The credit line was never or rarely used, so its limit was reclaimed."),
         N_("Use the app's payment and life services regularly; the limit is re-evaluated with your activity."))
register("account_takeover_suspected", R, N_("Frequent changes of bank card, phone number or device suggest the account may be stolen."),
         N_("Keep your details stable, update any expired identity document and verify your identity again."))
register("maintenance_window", R, N_("Huabei is under system maintenance."), N_("Nothing to do: it resumes by itself when maintenance ends."))
register("brand_isolation", R, N_("Huabei is pausing while bank-funded credit moves to the partner-funded line (信用购)."),
         N_("Nothing to do: it resumes when the migration ends; viewing bills and repaying are not affected."))
register("wrong_password_lockout", R, N_("Too many wrong payment passwords were entered."),
         N_("It unlocks by itself after 24 hours, or reset your payment password now."))
register("regulatory_tightening", R, N_("Under stricter credit regulation, credit lines of weak credit quality are being closed."),
         N_("Keep a good credit record, build savings in the app and apply again later."))
register("operator_hold", R, N_("An agent has placed a hold on this credit line: {note}"), N_("Contact customer service for details."))

# --- limit change reasons (额度调整) ----------------------------------------------
L = ReasonKind.LIMIT
register("operator_set", L, N_("The limit was set by an operator."))
register("account_opened", L, N_("The credit line was opened with this limit."))
register("temporary_limit_granted", L, N_("A temporary limit was granted until {expires_on}."))
register("temporary_limit_expired", L, N_("The temporary limit expired."))


def placeholders(code: str) -> set[str]:
    """The ``{names}`` a reason's message and remedy need."""
    r = _REGISTRY.get(code)
    if r is None:
        return set()
    return {f for text in (r.message, r.remedy or "") for _, f, _, _ in Formatter().parse(text) if f}


def cause_params(cause: str, note: str | None = None, evidence: Mapping[str, object] | None = None) -> dict[str, object]:
    """Fill a restriction cause's placeholders from the restriction: ``{note}`` from its
    note, anything else (``{threshold}`` …) from its evidence. One it cannot fill stays
    written as ``{name}`` rather than failing."""
    evidence = evidence or {}
    out: dict[str, object] = {}
    for name in placeholders(cause):
        if name == "note":
            out[name] = note or ""
        else:
            out[name] = evidence.get(name, "{" + name + "}")
    return out


def _localised_params(params: dict[str, object], locale: str) -> dict[str, object]:
    """Params that are themselves reason codes (``cause``) are explained in ``locale``,
    with the cause's own placeholders filled from the other params."""
    out = dict(params)
    cause = out.get("cause")
    if isinstance(cause, str):
        own = {k: v for k, v in params.items() if k in placeholders(cause)}
        out["cause"] = message(cause, locale, **own)
    return out




def render(code: str, params: dict[str, object] | None = None) -> dict[str, str | None]:
    """The bilingual error/decision body: code, message, message_zh, remedy, remedy_zh."""
    params = params or {}
    en = explain(code, "en", **_localised_params(params, "en"))
    zh = explain(code, "zh_CN", **_localised_params(params, "zh_CN"))
    cause = params.get("cause")
    if en["remedy"] is None and isinstance(cause, str) and cause in _REGISTRY:
        own = {k: v for k, v in params.items() if k in placeholders(cause)}
        en["remedy"], zh["remedy"] = explain(cause, "en", **own)["remedy"], explain(cause, "zh_CN", **own)["remedy"]
    return {"code": code, "message": en["message"], "message_zh": zh["message"],
            "remedy": en["remedy"], "remedy_zh": zh["remedy"]}
