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

from huabei import field_names
from huabei.i18n import N_, catalog, translate
from huabei.reasons_scoring import SCORE_REASONS, SCORING_REASONS


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
    """``{"code", "message", "remedy"}`` in ``locale`` for a reason code (its ``field`` and
    ``detail`` said in ``locale``: :func:`_words`)."""
    r = _REGISTRY.get(code)
    if r is None:
        return {"code": code, "message": code, "remedy": None}
    params = _words(params, locale)
    return {
        "code": code,
        "message": translate(r.message, locale, **params),
        "remedy": translate(r.remedy, locale, **params) if r.remedy else None,
    }


def _words(params: dict[str, object], locale: str) -> dict[str, object]:
    """A ``field`` named in words (:func:`huabei.field_names.label`) and a ``detail`` that is a
    catalog msgid translated, its placeholders filled from the other params (a detail that is not
    one — pydantic's, an operator's — stays as written)."""
    out = dict(params)
    field = out.get("field")
    if isinstance(field, str):
        out["field"] = field_names.label(field, locale)
    detail = out.get("detail")
    if isinstance(detail, str) and detail in catalog("zh_CN"):
        others = {k: v for k, v in out.items() if k != "detail"}
        try:
            out["detail"] = translate(detail, locale, **others)
        except (KeyError, IndexError, ValueError):  # a placeholder without its param
            out["detail"] = translate(detail, locale)
    return out


def message(code: str, locale: str = "en", **params: object) -> str:
    return explain(code, locale, **params)["message"] or code


# --- input errors -----------------------------------------------------------------
I = ReasonKind.INPUT
register(
    "invalid_amount",
    I,
    N_('The amount must be a string of yuan with at most two decimals, greater than zero, such as "88.80".'),
)
register("amount_too_large", I, N_("The amount is larger than any huabei accepts (at most {maximum} yuan)."))
register("invalid_request", I, N_("The request is not valid: {detail}"))
register("malformed_json", I, N_("The request body is not valid JSON."))
# a well-formed list of contacts the product refuses (422): a user named twice, or the user themselves
register("contacts_refused", I, N_("These contacts cannot be saved: {detail}"))
register(
    "database_not_migrated",
    ReasonKind.STATE,
    N_("The database is not migrated: it is at {current}, this version of huabei needs {head}."),
    N_("Run `huabei db upgrade` (with the same --db or HUABEI_DATABASE_URL), then try again."),
)
register("invalid_id", I, N_("{field} must be a positive whole number, not “{value}”."))
register(
    "request_too_large",
    I,
    N_("The request body is too large: at most {limit}."),
    N_("Send less at a time."),
)
register("field_too_large", I, N_("{field} is too large: at most {limit} bytes as JSON."))
register(
    "control_character",
    I,
    N_("{field} holds a control character (such as NUL); only printable text is accepted."),
    N_("Remove the control character and send the request again."),
)
register("idempotency_key_required", I, N_("This request moves money and needs an Idempotency-Key header."))
register("invalid_idempotency_key", I, N_("The Idempotency-Key header must be 1 to 255 printable characters."))
register("invalid_date", I, N_("The date must be written as YYYY-MM-DD."))
register("invalid_category", I, N_('Unknown merchant category "{category}".'))
register("invalid_cursor", I, N_("The pagination cursor is not valid."))
register("clock_not_simulated", I, N_("The business date follows the wall clock in production and cannot be set."))
register("route_not_found", I, N_("There is no such endpoint."))
register("method_not_allowed", I, N_("This endpoint does not accept that HTTP method."))
register("http_error", I, N_("The request could not be served: {detail}"))
register("internal_error", I, N_("Something went wrong on our side; nothing was changed. Please retry."))
register("clock_backwards", I, N_("The business date cannot move backwards (from {current} to {requested})."))
register(
    "clock_jump_too_far",
    I,
    N_("The business date cannot move to {requested}: at most {days} days ahead, so {latest} at the latest."),
)
register(
    "clock_jump_over_eod",
    ReasonKind.STATE,
    N_(
        "The business date cannot jump to {requested}: the end-of-day job has not run for {first} to "
        "{last}, and their bills, interest and overdue marks would be skipped."
    ),
    N_(
        "Run `huabei eod --until {requested}` (or POST /v1/admin/eod with until): it moves the date and runs those days."
    ),
)
register(
    "clock_busy",
    ReasonKind.STATE,
    N_(
        "The business date was not moved: transactions begun under {current} were still writing after "
        "{seconds} seconds. Nothing was changed."
    ),
    N_("Try again in a moment."),
)
register(
    "demo_needs_empty_database",
    I,
    N_("The demo data loads only into an empty database (its end-of-day job has already run up to {last})."),
)

# --- state: not found and conflicts ---------------------------------------------
S = ReasonKind.STATE
register("user_not_found", S, N_("No user with id {user_id}."))
register(
    "lifts_on_not_future",
    S,
    N_("A restriction lifts on a day after today ({today}); {lifts_on} has already come."),
)
register("account_not_found", S, N_("No credit line with id {account_id}."))
register("purchase_not_found", S, N_("No purchase with id {purchase_id}."))
register("restriction_not_found", S, N_("No active restriction with id {restriction_id}."))
register("user_exists", S, N_("A user with id {user_id} already exists."))
register("account_exists", S, N_("User {user_id} already has an open credit line."))
register("idempotency_conflict", S, N_("This Idempotency-Key was already used with a different request."))
register(
    "idempotency_in_progress", S, N_("A request with this Idempotency-Key is still being processed; retry shortly.")
)
register(
    "real_name_required",
    S,
    N_("A credit line can only be opened after real-name verification."),
    N_("Complete real-name verification in the app, then apply again."),
)
register("base_limit_out_of_range", S, N_("The base limit must be between {minimum} and {maximum} yuan."))
register(
    "temporary_limit_out_of_range",
    S,
    N_("The temporary limit must be at most {maximum} yuan and last at most {days} days."),
)
register(
    "refund_exceeds_purchase", S, N_("The refund is larger than what remains of the purchase ({refundable} yuan).")
)
register("repayment_exceeds_balance", S, N_("The repayment is larger than what you owe ({owed} yuan)."))
register("nothing_owed", S, N_("Nothing is owed on this credit line."))
register(
    "account_closed", S, N_("This credit line is closed."), N_("Apply to open Huabei again when you are eligible.")
)

register("account_already_closed", S, N_("Credit line {account_id} is already closed."))
register(
    "balance_outstanding",
    S,
    N_("A credit line can only be closed when nothing is owed; {owed} yuan is still owed."),
    N_("Repay everything you owe, then close the line."),
)
register("maintenance_window_not_found", S, N_("No maintenance window with id {window_id}."))
register("maintenance_window_closed", S, N_("Maintenance window {window_id} has already ended or been cancelled."))
register("invalid_window", I, N_("A maintenance window must end after it starts."))
register("window_already_ended", I, N_("This maintenance window would already have ended."))
register(
    "invalid_timestamp",
    I,
    N_(
        "A timestamp is written in ISO 8601, such as 2026-11-05T02:00:00+08:00 (without an offset: the product's time zone)."
    ),
)
register("unknown_funding_partner", I, N_("No funding source {partner}; one of: {partners}."))
register(
    "verification_required",
    S,
    N_("This restriction lifts when the user verifies their identity again, not by an agent."),
    N_("Verify your identity again in the app; the restriction lifts at once."),
)
register(
    "not_appealable",
    S,
    N_("This restriction cannot be appealed: {cause}"),
)
register("invalid_evidence", I, N_("The evidence is not valid: {detail}"))
register("appeal_exists", S, N_("Restriction {restriction_id} already has an open appeal."))
register("appeal_not_found", S, N_("No appeal with id {appeal_id}."))
register("appeal_closed", S, N_("Appeal {appeal_id} has already been decided."))
register("invalid_outcome", I, N_("A {decision} decision takes one of these outcomes: {outcomes}."))
register("invalid_rule", I, N_("The sweep rule is not valid: {detail}"))
register("invalid_sweep_action", I, N_("A sweep action is close or cut:PCT (1 to 99), not {action}."))
register("payment_password_exists", S, N_("User {user_id} already has a payment password; reset it instead."))
register("invalid_payment_password", I, N_("A payment password is {digits} digits."))

# --- purchase declines (消费被拒) -------------------------------------------------
D = ReasonKind.DECLINE
register(
    "insufficient_limit",
    D,
    N_("The purchase of {amount} yuan is more than your available limit of {available} yuan."),
    N_("Repay part of your bill to free up limit, or pay with another method."),
)
register(
    "category_not_allowed",
    D,
    N_("Huabei can only pay for consumption; {category} is not allowed (no transfers, cash or gambling)."),
    N_("Use Huabei for purchases of goods and services."),
)
register(
    "amount_over_single_limit",
    D,
    N_("A single purchase can be at most {maximum} yuan."),
    N_("Split the payment or use another method."),
)
# the remedy of a freeze is its cause's remedy (see render)
register("account_frozen", D, N_("Your credit line is frozen: {cause}"))
register(
    "account_overdue",
    D,
    N_("Your credit line has an overdue bill, so new purchases are paused."),
    N_("Repay everything overdue; purchases resume once nothing is past due."),
)

# payment password (支付密码, huabei.passwords)
register(
    "wrong_password",
    D,
    N_("The payment password is wrong; {attempts_left} more wrong attempts lock payments."),
    N_("Check the password and try again, or reset your payment password."),
)
register(
    "password_locked",
    D,
    N_("Payments are locked after too many wrong payment passwords, until {unlocks_at}."),
    N_("Wait until then, or reset your payment password to unlock at once."),
)
register(
    "password_required",
    D,
    N_("This purchase needs your payment password."),
    N_("Enter your payment password to pay."),
)

# maintenance windows (系统维护, huabei.maintenance)
register(
    "maintenance",
    D,
    N_("Huabei is under system maintenance until {ends_at}."),
    N_("Pay again after {ends_at}, or pay another way now; repaying and viewing bills are not affected."),
)

# --- restriction causes (冻结原因): the nine causes of the second seed -------------
R = ReasonKind.RESTRICTION
register(
    "overdue_reported",
    R,
    N_("A repayment is overdue and has been reported to the credit bureau."),
    N_(
        "Repay everything overdue at once, then keep a good record; serious cases need three to six months of on-time repayments."
    ),
)
register(
    "cash_out_suspected",
    R,
    N_("Transactions look like cash-out (套现), which Huabei does not allow."),
    N_(
        "Avoid such transactions and wait for the risk-control period (about one to two months) to end; if you never cashed out, appeal with your recent transaction details."
    ),
)
register(
    "score_brushing_suspected",
    R,
    N_("Activity looks like score brushing (刷分)."),
    N_(
        "Stop the activity and wait for the risk-control period to end; appeal with your transaction details if this is wrong."
    ),
)
register(
    "score_below_threshold",
    R,
    N_("Your credit score is below {threshold}, the minimum for Huabei."),
    N_("Take part in credit tasks, pay on time and complete your profile to raise your score."),
)
register(
    "inactive_account",
    R,
    N_("The credit line was never or rarely used, so its limit was reclaimed."),
    N_("Use the app's payment and life services regularly; the limit is re-evaluated with your activity."),
)
register(
    "account_takeover_suspected",
    R,
    N_("Frequent changes of bank card, phone number or device suggest the account may be stolen."),
    N_("Keep your details stable, update any expired identity document and verify your identity again."),
)
register(
    "maintenance_window",
    R,
    N_("Huabei is under system maintenance."),
    N_("Nothing to do: it resumes by itself when maintenance ends."),
)
register(
    "brand_isolation",
    R,
    N_("Huabei is pausing while bank-funded credit moves to the partner-funded line (信用购)."),
    N_("Nothing to do: it resumes when the migration ends; viewing bills and repaying are not affected."),
)
register(
    "wrong_password_lockout",
    R,
    N_("Too many wrong payment passwords were entered."),
    N_("It unlocks by itself after 24 hours, or reset your payment password now."),
)
register(
    "regulatory_tightening",
    R,
    N_("Under stricter credit regulation, credit lines of weak credit quality are being closed."),
    N_("Keep a good credit record, build savings in the app and apply again later."),
)
register(
    "operator_hold",
    R,
    N_("An agent has placed a hold on this credit line: {note}"),
    N_("Contact customer service for details."),
)

# --- limit change reasons (额度调整) ----------------------------------------------
L = ReasonKind.LIMIT
register("operator_set", L, N_("The limit was set by an operator."))
register("account_opened", L, N_("The credit line was opened with this limit."))
register(
    "brand_isolation_split",
    L,
    N_("The limit was split between Huabei and the partner-funded 信用购 line that took over the partner's balance."),
)
register("temporary_limit_granted", L, N_("A temporary limit was granted until {expires_on}."))
register("temporary_limit_expired", L, N_("The temporary limit expired."))

# --- billing cycle (账单 / 还款 / 分期 / 逾期 / 日终 / 征信) ----------------------------
register("invalid_period", I, N_('A bill period is written as YYYY-MM, such as "2026-11".'))
register("invalid_month", I, N_('A month is written as YYYY-MM, such as "2026-11".'))
register("bill_not_found", S, N_("Credit line {account_id} has no bill for {period}."))
register("installment_plan_not_found", S, N_("No installment plan with id {plan_id}."))
register("bureau_month_not_reported", S, N_("No credit-bureau records exist for {month} yet."))
register("bureau_record_not_found", S, N_("Credit line {account_id} has no credit-bureau record for {month}."))
register("installment_plan_exists", S, N_("This has already been converted into installments."))
register(
    "eod_pending",
    S,
    N_("The end-of-day run for {date} has not finished yet; repayments, refunds and installments wait for it."),
    N_("Retry in a moment, once the end-of-day run has finished."),
)
register(
    "eod_days_pending",
    S,
    N_("The end-of-day run must first run every day from {first}."),
    N_("Run the end-of-day job up to {date} instead; it catches up the days in between."),
)
register(
    "eod_job_running",
    ReasonKind.STATE,
    N_("An end-of-day run is already going on as job {run}."),
    N_("Follow it at /v1/admin/eod/{run}; start another once it is done."),
)
register(
    "bureau_correction_inconsistent",
    I,
    N_(
        "The correction of line {account_id} for {month} contradicts the line: {field} = {value} "
        "does not agree with {basis} = {basis_value}."
    ),
    N_("Correct the fields together so that they agree with each other and with the line's history."),
)
register(
    "batch_step_done_by_eod",
    ReasonKind.STATE,
    N_("The end-of-day job already did the work of batch step {step} for {date} ({eod_steps})."),
    N_(
        "Nothing was applied: a day's rescoring, limit review, risk rules and bureau file are applied once. Run the step for a day the end-of-day job has not reached."
    ),
)
register("eod_run_not_found", ReasonKind.STATE, N_("There is no end-of-day run {run}."))
register(
    "eod_job_not_running",
    ReasonKind.STATE,
    N_("End-of-day run {run} is not running any more; see its state at /v1/admin/eod/{run}."),
)
register(
    "eod_quarantine_not_found",
    ReasonKind.STATE,
    N_("No record set aside by the end-of-day run has number {quarantine_id}."),
)
register(
    "eod_quarantine_retried",
    ReasonKind.STATE,
    N_("Record {quarantine_id} set aside by the end-of-day run was already run again, at {at}."),
)
register(
    "eod_quarantine_retry_failed",
    ReasonKind.STATE,
    N_("Record {quarantine_id} set aside by the end-of-day run still fails: {error}. Nothing was changed."),
    N_("Fix the record's data first, then retry it."),
)
register(
    "eod_range_too_long",
    I,
    N_("One end-of-day run covers at most {most} days; {first} to {until} is {days}."),
    N_("Run it up to {latest} first, then continue."),
)
register("eod_date_in_future", I, N_("The end-of-day run cannot run for {date}, which is after today ({today})."))
register(
    "eod_busy",
    S,
    N_(
        "The end-of-day run for {date} did not start: transactions begun under the business date "
        "{business_date} were still writing after {seconds} seconds. The business date was not moved "
        "and the days already run (through {last_completed}) are kept; nothing else changed."
    ),
    N_("Run the end-of-day job again in a moment; it continues from {date}."),
)
register("due_day_not_offered", D, N_("The repayment day must be one of {choices}."))
register(
    "due_day_change_too_soon",
    D,
    N_("The repayment day was changed recently; it can be changed again from {next_allowed}."),
)
register("bill_settled", D, N_("Bill {period} is already settled; there is nothing to convert."))
register(
    "installment_term_not_offered", D, N_("Installments over {term} periods are not offered; choose {offered} periods.")
)
register("installment_amount_too_small", D, N_("{principal} yuan is too small to divide into {term} periods."))
register(
    "installment_window_closed",
    D,
    N_("It is too late to convert this into installments: that was possible until {window_end}."),
    N_("Repay the bill by its due date instead, or pay the minimum repayment."),
)
register(
    "installment_exceeds_convertible_amount",
    D,
    N_(
        "At most {convertible} yuan can be converted into installments: spending on a temporary limit, installment parts and amounts already repaid cannot."
    ),
)
register("installment_fully_billed", D, N_("Every period of this plan is already billed; repay the bills instead."))
register("installment_plan_closed", D, N_("Installment plan {plan_id} is already repaid."))
# decisions of the end-of-day job (carried by events for the risk engine)
register(
    "minimum_not_repaid",
    S,
    N_("The minimum repayment was not repaid by the due date, so the bill is overdue."),
    N_("Repay everything overdue; penalty interest runs every day until you do."),
)
register("delinquency_bucket_changed", S, N_("The days past due moved into another delinquency bucket."))
register("overdue_repaid", S, N_("Everything overdue was repaid."))
register("fee_waived", S, N_("The installment fee is waived by an interest-free promotion."))

# --- credit score reasons (信用分): what held a score down, and what to do ---------
# (the scorecard's reason codes, text in huabei.reasons_scoring; huabei.scoring.dimensions.REASON_TEXT
# reads the remedies)
for _code, _message, _remedy in SCORE_REASONS:
    register(_code, ReasonKind.SCORE, _message, _remedy)

#: The scorecard's reason codes, in the order of the default card's features.
SCORE_REASON_CODES: tuple[str, ...] = (
    "late_repayments",
    "recent_overdue",
    "short_credit_history",
    "too_many_raise_applications",
    "low_activity",
    "single_payment_channel",
    "few_scenarios",
    "few_bill_payments",
    "no_credit_services",
    "no_credit_tasks",
    "low_income",
    "income_not_verified",
    "low_assets",
    "high_utilisation",
    "identity_not_verified",
    "id_document_expired",
    "incomplete_profile",
    "few_connections",
    "contacts_in_poor_standing",
    # neutral codes of missing data (cited instead of a claim the data does not show)
    "no_repayment_record",
    "no_statement_yet",
)

# --- limit policy, re-evaluation, raise applications and campaigns (额度策略 / 提额) -----
register(
    "limit_score_band",
    L,
    N_("Your credit score band sets the starting amount of your limit."),
    N_("A higher credit score gives a higher limit: repay on time, use the app regularly and complete your profile."),
)
register("high_score_band", L, N_("Your high credit score supports a higher limit."))
register("strong_income", L, N_("Your income supports a higher limit."))
register("substantial_assets", L, N_("Your savings and fund balances support a higher limit."))
register("frequent_use", L, N_("Your regular use of the app supports a higher limit."))
register("long_credit_history", L, N_("Your long credit history supports a higher limit."))
register("complete_profile", L, N_("Your complete profile supports a higher limit."))
register("diverse_scenarios", L, N_("Using Huabei in many scenarios supports a higher limit."))
register("limit_at_maximum", L, N_("Your limit is at the product's maximum."))
register("limit_at_minimum", L, N_("Your limit is at the product's minimum."))
register("periodic_review_raise", L, N_("The periodic review raised your limit."))
register(
    "periodic_review_cut",
    L,
    N_("The periodic review lowered your limit."),
    N_("Repay on time, use Huabei regularly and keep your profile complete; the next review looks again."),
)
register("cut_limited_to_used", L, N_("The cut stops at what you have already used."))
register("line_too_new", L, N_("The credit line is too new for a limit review; it keeps its opening limit for now."))
register("limit_recently_changed", L, N_("The limit changed recently; a later review looks at it again."))
register("raise_step_capped", L, N_("A raise is given in steps; more may follow at a later review."))
register("raise_application_approved", L, N_("Your raise application was approved."))
register("campaign_completed", L, N_("You completed a raise challenge and earned its reward."))
register("scenario_temporary_limit", L, N_("A temporary limit was granted for a spending scenario."))
register(
    "raise_blocked_overdue",
    D,
    N_("Your credit line has an overdue bill, so its limit cannot be raised."),
    N_("Repay everything overdue; raises resume once nothing is past due."),
)
register("raise_blocked_frozen", D, N_("Your credit line is frozen, so its limit cannot be raised."))
register(
    "raise_blocked_over_limit",
    D,
    N_("You have used more than your base limit, so it cannot be raised now."),
    N_(
        "Repay what was spent beyond the base limit (a temporary limit must be repaid in full); raises resume after that."
    ),
)
register(
    "too_frequent",
    D,
    N_("You applied for a limit raise less than {days} days after your previous application."),
    N_("Wait for the periodic review instead: frequent applications lower your credit score."),
)
register(
    "no_raise_available",
    D,
    N_("Your current limit already matches what your credit profile supports."),
    N_(
        "Keep repaying on time, use Huabei in more scenarios and complete your profile; reviews raise limits as your profile grows."
    ),
)
register(
    "not_eligible",
    D,
    N_("You are not eligible for Huabei yet."),
    N_("Each reason below says what you can do; apply again once they are resolved."),
)
register(
    "overdue_on_record",
    D,
    N_("A repayment is overdue now, or was seriously overdue in the last 12 months."),
    N_(
        "Repay everything overdue and keep a good record; serious cases need three to six months of on-time repayments."
    ),
)
register(
    "restricted_on_record",
    D,
    N_("One of your credit lines is under a restriction that prevents opening."),
    N_("Resolve that restriction first (see its remedy), then apply again."),
)

# --- scoring inputs and campaigns: input errors and state -----------------------
register("unknown_fact", I, N_('Unknown fact "{field}".'))
register("invalid_fact", I, N_("The fact {field} is not valid: {detail}"))
register("fact_not_accepted", I, N_("{field} is computed by huabei from its own records and cannot be posted."))
register("date_in_future", I, N_("The date {date} is after the business date {today}."))
for _code, _message, _remedy in SCORING_REASONS:  # campaigns, score history, card validation
    register(_code, S, _message, _remedy)


# --- the risk engine (风控策略) -----------------------------------------------------
register("risk_policy_invalid", I, N_("The risk policy {path} is not valid: {detail}"))
register("risk_policy_not_found", I, N_("There is no risk policy file at {path}."))
register(
    "risk_policy_version_exists",
    S,
    N_("Risk policy version {version} already exists with a different text."),
    N_("Give the changed policy a new version."),
)
register("risk_policy_version_not_found", S, N_("No risk policy version {version}."))
register(
    "restriction_hard",
    S,
    N_("This restriction was placed by the hard rule {rule_id}; no agent can lift it early."),
    N_("It lifts by itself when its lifting rule is met; its evidence says when."),
)
register(
    "invalid_staff_name",
    I,
    N_(
        "A staff name is 2 to 64 lower-case letters, digits, dots, dashes or underscores, starting with a letter: {name} is not."
    ),
)
register(
    "weak_staff_password",
    I,
    N_("A staff password has at least {min} characters and is not only digits or only letters."),
)
register("staff_user_exists", S, N_("There is already a staff user named {name}."))
register("staff_user_not_found", S, N_("No staff user named {name}."))
register(
    "restriction_hard_for_agent",
    S,
    N_("This restriction is hard: customer service can place and lift only soft ones."),
    N_("It lifts by its own rule, or a risk analyst places or lifts it."),
)
register(
    "lift_reason_required",
    I,
    N_("Lifting a restriction placed by a risk rule early needs a reason code: one of {codes}."),
)


# --- access control (API keys, roles, login, rate limits) ------------------------
A = ReasonKind.STATE
register(
    "unauthenticated",
    A,
    N_("Sign in first: send an API key as Authorization: Bearer KEY, or log in to the web pages."),
)
register("invalid_api_key", A, N_("The API key is not valid: it is unknown, revoked or expired."))
register("forbidden", A, N_("A {role} key may not call this endpoint."))
register("not_owner", A, N_("This key may only reach the credit lines and records of its own user."))
register("route_not_declared", A, N_("This endpoint has no declared access rule, so nobody may call it."))
register("rate_limited", A, N_("Too many attempts; try again in {retry_after} seconds."))
register("wrong_current_password", A, N_("The current password is not right; nothing was changed."))
register("not_a_staff_user", A, N_("Only a staff user who logs in with a name and password has a password to change."))
register("passwords_differ", I, N_("The new password and its repetition differ; nothing was changed."))
register("csrf_failed", A, N_("The form has expired or did not come from this site; reload the page and try again."))
register("login_failed", A, N_("The key or the password is not right."))
register("invalid_role", I, N_('Unknown role "{role}"; it must be customer, agent, risk, admin or gateway.'))
register("customer_key_needs_user", I, N_("A customer key needs --user, and only a customer key takes one."))
register("key_expiry_in_past", I, N_("A key's expiry date must be after today ({expires_on} is not)."))
register("secret_too_short", I, N_("HUABEI_SECRET must be at least {min} characters long."))
register("api_key_not_found", S, N_("No API key with id {key_id}."))


def placeholders(code: str) -> set[str]:
    """The ``{names}`` a reason's message and remedy need."""
    r = _REGISTRY.get(code)
    if r is None:
        return set()
    return {f for text in (r.message, r.remedy or "") for _, f, _, _ in Formatter().parse(text) if f}


def cause_params(
    cause: str, note: str | None = None, evidence: Mapping[str, object] | None = None
) -> dict[str, object]:
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
    return {
        "code": code,
        "message": en["message"],
        "message_zh": zh["message"],
        "remedy": en["remedy"],
        "remedy_zh": zh["remedy"],
    }
