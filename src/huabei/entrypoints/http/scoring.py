"""HTTP routes of the credit score and the limit policy (mounted by ``api/app.py``).

``router(system)`` returns an :class:`~fastapi.APIRouter` with its own request and response
models; errors are :class:`~huabei.errors.HuabeiError` s, answered by the application's
handlers like every other route (stable code, English and Chinese texts). Amounts are yuan
strings, dates ``YYYY-MM-DD``.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Query
from pydantic import ConfigDict, Field, StrictBool, WithJsonSchema

from huabei import errors
from huabei.entrypoints.auth import allow
from huabei.entrypoints.http.common import ERRORS, MAX_ID, USER_ID_PATTERN, AccountId, UserId
from huabei.entrypoints.http.schemas import (
    YUAN_LIMIT_IN_SCHEMA,
    ErrorDetail,
    FreeForm,
    IsoDate,
    Yuan,
    YuanIn,
    _In,
    _Out,
)
from huabei.limits import campaign_service as campaigns
from huabei.limits import service as limits
from huabei.money import AmountError, format_yuan, parse_yuan
from huabei.platform.unit_of_work import Huabei
from huabei.scoring import collect
from huabei.scoring import service as scoring
from huabei.scoring.facts import fact_maximum

ContactUserId = Annotated[str, Field(min_length=1, max_length=64, pattern=USER_ID_PATTERN)]


# --- models ------------------------------------------------------------------------------


class ReasonOut(ErrorDetail):
    """A reason code with its texts (the shape of an error's detail)."""


def _fact_schema(spec: Any) -> dict[str, Any]:
    if spec.unit == "fen":  # money: a yuan string
        value: dict[str, Any] = dict(YUAN_LIMIT_IN_SCHEMA)
    elif spec.type is bool:
        value = {"type": "boolean"}
    elif spec.type is int:
        value = {"type": "integer", "maximum": fact_maximum(spec)}
        if spec.minimum is not None:
            value["minimum"] = spec.minimum
    else:
        value = {"type": "string", "enum": list(spec.values)}
    return {"anyOf": [value, {"type": "null"}], "description": spec.description}


#: The facts a host may post, each with its type and range (``scoring.collect.HOST_FACTS``); the
#: service refuses any other (400 unknown_fact, fact_not_accepted, invalid_fact).
FACTS_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {name: _fact_schema(collect.ALL_FACT_SPECS[name]) for name in collect.HOST_FACTS},
    "additionalProperties": False,
    "minProperties": 1,
    "maxProperties": 50,
}


class FactsIn(_In):
    """Facts the host app knows, all observed on ``effective_on`` (default: the business date).
    Money facts (``monthly_income``, ``assets``) are yuan strings; ``null`` withdraws a fact."""

    effective_on: IsoDate | None = None
    facts: Annotated[FreeForm, WithJsonSchema(FACTS_SCHEMA)] = Field(min_length=1, max_length=50)


class RecordedFact(_Out):
    fact_id: int
    name: str
    value: Any
    current: bool


class FactsRecordedOut(_Out):
    user_id: str
    effective_on: dt.date
    source: str
    recorded: list[RecordedFact]


class FactsOut(_Out):
    user_id: str
    as_of: dt.date
    facts: dict[str, Any]


class ActivityEventIn(_In):
    """A payment names its channel and category (400 invalid_request otherwise); the categories
    are the product's (``categories.allowed``, stated in the document by ``contract``)."""

    model_config = ConfigDict(
        json_schema_extra={
            "anyOf": [
                {"properties": {"kind": {"not": {"const": "payment"}}}},
                {
                    "required": ["channel", "category"],
                    "properties": {"channel": {"type": "string"}, "category": {"type": "string"}},
                },
            ]
        }
    )

    kind: Literal[
        "payment", "utility_payment", "credit_card_repayment", "credit_service", "credit_task", "transfer", "collection"
    ]
    occurred_on: IsoDate
    channel: Literal["online", "offline"] | None = None
    category: str | None = Field(default=None, min_length=1, max_length=32)
    amount: YuanIn | None = None
    external_id: str | None = Field(default=None, min_length=1, max_length=128)


class ActivityIn(_In):
    events: list[ActivityEventIn] = Field(min_length=1, max_length=500)


class ActivityOut(_Out):
    user_id: str
    recorded: int
    duplicates: int


class ContactIn(_In):
    user_id: ContactUserId
    verified: StrictBool = False


class ContactsIn(_In):
    contacts: list[ContactIn] = Field(max_length=5000)


class ContactsOut(_Out):
    user_id: str
    contacts: list[dict[str, Any]]


class DimensionOut(_Out):
    dimension: str
    name_zh: str
    points: int
    max_points: int


class ScoreOut(_Out):
    user_id: str
    score: int
    band: str
    band_zh: str
    dimensions: list[DimensionOut]
    reasons: list[ReasonOut]
    as_of: dt.date
    previous_score: int | None
    scorecard_version: str
    trigger: str
    provisional: bool = False


class ScorePage(_Out):
    data: list[ScoreOut]
    has_more: bool
    next_cursor: int | None


class PsiOut(_Out):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)
    date_from: dt.date = Field(alias="from")
    date_to: dt.date = Field(alias="to")
    psi: str
    interpretation: str
    band_psi: str
    expected_count: int
    actual_count: int
    expected_mean: float
    actual_mean: float


class RaiseApplicationIn(_In):
    requested_limit: YuanIn | None = None


class RaiseApplicationOut(_Out):
    application_id: int
    account_id: int
    decision: Literal["approved", "declined"]
    old_limit: Yuan
    new_limit: Yuan
    requested_limit: Yuan | None
    score: int | None
    reasons: list[ReasonOut]
    applied_on: dt.date
    policy_version: str


class LimitChangeOut(_Out):
    change_id: int
    limit_kind: str
    old_value: Yuan
    new_value: Yuan
    expires_on: dt.date | None
    reasons: list[ReasonOut]
    policy_version: str
    actor: str
    business_date: dt.date


class ReviewOut(_Out):
    action: str
    new_limit: Yuan
    reasons: list[ReasonOut]


class EvaluationOut(_Out):
    account_id: int
    user_id: str
    as_of: dt.date
    score: int
    band: str
    base_limit: Yuan
    used: Yuan
    proposed_limit: Yuan
    band_amount: Yuan
    multipliers: dict[str, str]
    held_down: list[ReasonOut]
    pushed_up: list[ReasonOut]
    review: ReviewOut
    policy_version: str


class TaskOut(_Out):
    payments: int
    days: int
    categories: int
    min_payment: Yuan


class RewardOut(_Out):
    kind: str
    amount: Yuan
    days: int | None


class CampaignOut(_Out):
    code: str
    title: str
    title_zh: str
    open: bool
    starts_on: dt.date | None
    ends_on: dt.date | None
    task: TaskOut
    min_score: int | None
    reward: RewardOut


class ProgressOut(_Out):
    payments: int
    required_payments: int
    categories: int
    required_categories: int


class EnrolmentOut(_Out):
    enrolment_id: int
    account_id: int
    campaign: str
    status: str
    enrolled_on: dt.date
    last_day: dt.date
    progress: ProgressOut
    reward: RewardOut
    completed_on: dt.date | None
    rewarded_on: dt.date | None


# --- helpers -----------------------------------------------------------------------------


def _money_fact(name: str) -> bool:
    spec = collect.ALL_FACT_SPECS.get(name)
    return spec is not None and spec.unit == "fen"


def _facts_in(raw: dict[str, Any]) -> dict[str, Any]:
    """Money facts from yuan strings to fen; everything else as given (validated by the service)."""
    out: dict[str, Any] = {}
    for name, value in raw.items():
        if _money_fact(name) and value is not None:
            try:
                out[name] = parse_yuan(value, allow_zero=True)
            except AmountError:
                raise errors.invalid("invalid_amount") from None
        elif isinstance(value, float) and value.is_integer():  # 3.0 is the JSON integer 3
            out[name] = int(value)
        else:
            out[name] = value
    return out


def _fact_out(name: str, value: Any) -> Any:
    """Money facts from fen to yuan strings; everything else as stored."""
    return format_yuan(value) if _money_fact(name) and isinstance(value, int) else value


def _facts_out(facts: dict[str, Any]) -> dict[str, Any]:
    return {k: _fact_out(k, v) for k, v in facts.items()}


# --- the router --------------------------------------------------------------------------


def router(system: Huabei) -> APIRouter:
    """The routes of the score and limit policy, under ``/v1``."""
    r = APIRouter(prefix="/v1", responses=ERRORS)

    # -- facts, activity, contacts --------------------------------------------------------
    @r.post(
        "/users/{user_id}/facts",
        dependencies=[allow("risk")],
        status_code=201,
        response_model=FactsRecordedOut,
        tags=["score"],
    )
    def post_facts(user_id: UserId, body: FactsIn) -> Any:
        out = scoring.post_facts(system, user_id, _facts_in(body.facts), effective_on=body.effective_on)
        for f in out["recorded"]:
            f["value"] = _fact_out(f["name"], f["value"])
        return out

    @r.get(
        "/users/{user_id}/facts",
        dependencies=[allow("customer", "agent", "risk", own="user_id")],
        response_model=FactsOut,
        tags=["score"],
    )
    def get_facts(user_id: UserId) -> Any:
        out = scoring.current_facts(system, user_id)
        return {**out, "facts": _facts_out(out["facts"])}

    @r.post(
        "/users/{user_id}/activity-events",
        dependencies=[allow("gateway")],
        status_code=201,
        response_model=ActivityOut,
        tags=["score"],
    )
    def post_activity(user_id: UserId, body: ActivityIn) -> Any:
        return scoring.record_activity(system, user_id, [e.model_dump() for e in body.events])

    @r.put(
        "/users/{user_id}/contacts",
        dependencies=[allow("customer", own="user_id")],
        response_model=ContactsOut,
        tags=["score"],
    )
    def put_contacts(user_id: UserId, body: ContactsIn) -> Any:
        return scoring.replace_contacts(system, user_id, [(c.user_id, c.verified) for c in body.contacts])

    # -- scores ---------------------------------------------------------------------------
    @r.get(
        "/users/{user_id}/score",
        dependencies=[allow("customer", "agent", "risk", own="user_id")],
        response_model=ScoreOut,
        tags=["score"],
    )
    def get_score(user_id: UserId) -> Any:
        return scoring.get_score(system, user_id)

    @r.get(
        "/users/{user_id}/score/history",
        dependencies=[allow("customer", "agent", "risk", own="user_id")],
        response_model=ScorePage,
        tags=["score"],
    )
    def score_history(
        user_id: UserId,
        limit: Annotated[int, Query(ge=1, le=100)] = 24,
        starting_after: Annotated[int | None, Query(ge=0, le=MAX_ID)] = None,
    ) -> Any:
        return scoring.score_history(system, user_id, limit=limit, starting_after=starting_after)

    @r.post("/users/{user_id}/score/refresh", dependencies=[allow("risk")], response_model=ScoreOut, tags=["score"])
    def refresh_score(user_id: UserId) -> Any:
        return scoring.refresh_user(system, user_id)

    @r.get("/scores/psi", dependencies=[allow("risk")], response_model=PsiOut, tags=["score"])
    def score_psi(
        date_from: Annotated[dt.date, Query(alias="from")],
        date_to: Annotated[dt.date, Query(alias="to")],
        bins: Annotated[int, Query(ge=2, le=100)] = 10,
    ) -> Any:
        return scoring.psi(system, date_from, date_to, bins)

    # -- limits ---------------------------------------------------------------------------
    @r.post(
        "/accounts/{account_id}/limit-raise-applications",
        dependencies=[allow("customer", own="account_id")],
        status_code=201,
        response_model=RaiseApplicationOut,
        tags=["limits"],
    )
    def apply_for_raise(account_id: AccountId, body: Annotated[RaiseApplicationIn | None, Body()] = None) -> Any:
        return limits.apply_for_raise(
            system, account_id, requested_limit=(body or RaiseApplicationIn()).requested_limit
        )

    @r.get(
        "/accounts/{account_id}/limit-raise-applications",
        dependencies=[allow("customer", "agent", "risk", own="account_id")],
        response_model=list[RaiseApplicationOut],
        tags=["limits"],
    )
    def list_applications(account_id: AccountId) -> Any:
        return limits.list_applications(system, account_id)

    @r.get(
        "/accounts/{account_id}/limit-changes",
        dependencies=[allow("customer", "agent", "risk", own="account_id")],
        response_model=list[LimitChangeOut],
        tags=["limits"],
    )
    def limit_changes(account_id: AccountId) -> Any:
        return limits.limit_changes(system, account_id)

    @r.get(
        "/accounts/{account_id}/limit-evaluation",
        dependencies=[allow("agent", "risk")],
        response_model=EvaluationOut,
        tags=["limits"],
    )
    def limit_evaluation(account_id: AccountId) -> Any:
        return limits.evaluate_account(system, account_id)

    # -- campaigns ------------------------------------------------------------------------
    @r.get(
        "/campaigns",
        dependencies=[allow("customer", "agent", "risk", any_customer=True)],
        response_model=list[CampaignOut],
        tags=["campaigns"],
    )
    def list_campaigns() -> Any:
        return campaigns.list_campaigns(system)

    @r.get(
        "/accounts/{account_id}/campaigns",
        dependencies=[allow("customer", "agent", "risk", own="account_id")],
        response_model=list[EnrolmentOut],
        tags=["campaigns"],
    )
    def account_campaigns(account_id: AccountId) -> Any:
        return campaigns.account_campaigns(system, account_id)

    @r.post(
        "/accounts/{account_id}/campaigns/{code}/enrolment",
        dependencies=[allow("customer", own="account_id")],
        status_code=201,
        response_model=EnrolmentOut,
        tags=["campaigns"],
    )
    def enrol(account_id: AccountId, code: str) -> Any:
        return campaigns.enrol(system, account_id, code)

    return r


def not_eligible_reasons(params: dict[str, Any]) -> list[dict[str, Any]]:
    """The ``reasons`` of a ``not_eligible`` refusal with their texts, for the error body of
    ``POST /v1/accounts`` (``HuabeiError.params["reasons"]`` holds the codes)."""
    return scoring.reason_items(params.get("reasons") or [], params)
