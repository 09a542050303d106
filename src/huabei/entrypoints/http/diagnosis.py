"""HTTP routes of the diagnosis (诊断) and the limit advice (提额建议), mounted by ``http/app.py``.

``GET /v1/accounts/{id}/diagnosis?lang=zh-CN|en`` (else ``Accept-Language``, else English): the
line's state, its findings most severe first and the checks, as structured data (codes, yuan
strings, ISO dates, ids) beside the texts in the reader's language. Read only.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Header, Query

from huabei.diagnosis import render
from huabei.diagnosis import service as diagnosis
from huabei.entrypoints.auth import allow
from huabei.entrypoints.http.common import ERRORS, AccountId
from huabei.entrypoints.http.schemas import _Out
from huabei.platform.unit_of_work import Huabei

Lang = Annotated[
    str | None,
    Query(pattern=r"^(zh|zh-CN|zh_CN|zh-Hans|en|en-US|en-GB)$", description="zh-CN or en (else Accept-Language)"),
]
AcceptLanguage = Annotated[str | None, Header(alias="Accept-Language")]


class FindingOut(_Out):
    code: str
    kind: str
    blocks: list[str]
    restriction_id: int | None
    appealable: bool
    lift_rule: str | None
    lifts_on: str | None
    data: dict[str, Any]
    message: str
    evidence: list[str]
    remedy: str | None
    lifts: str | None


class CheckOut(_Out):
    code: str
    data: dict[str, Any]
    text: str


class DiagnosisOut(_Out):
    account_id: int
    user_id: str
    as_of: str
    locale: str
    state: str
    summary: str
    findings: list[FindingOut]
    checks: list[CheckOut]


class ActionOut(_Out):
    code: str
    score_points: int
    score_after: int
    policy_limit_change: str
    review_limit_change: str
    base_limit_after_review: str
    data: dict[str, Any]
    message: str
    effect: str


class WarningOut(_Out):
    code: str
    data: dict[str, Any]
    message: str
    evidence: list[str]
    remedy: str


class FactorOut(_Out):
    code: str
    multiplier: str | None
    data: dict[str, Any]
    message: str
    evidence: str
    remedy: str | None


class AdviceOut(_Out):
    account_id: int
    user_id: str
    as_of: str
    locale: str
    score: int
    stored_score: int | None
    base_limit: str
    policy_limit: str
    next_review: str
    raise_blocked_by: list[str]
    summary: list[str]
    actions: list[ActionOut]
    warnings: list[WarningOut]
    held_down_by: list[FactorOut] = []  # added after the contract snapshot: optional in the schema


def router(system: Huabei) -> APIRouter:
    r = APIRouter(prefix="/v1")

    @r.get(
        "/accounts/{account_id}/diagnosis",
        dependencies=[allow("customer", "agent", "risk", own="account_id")],
        response_model=DiagnosisOut,
        responses=ERRORS,
        tags=["diagnosis"],
    )
    def get_diagnosis(account_id: AccountId, lang: Lang = None, accept_language: AcceptLanguage = None) -> Any:
        """Why this line can or cannot be used, what to do and when it lifts (read only)."""
        return diagnosis.diagnosis(system, account_id, render.negotiate(lang, accept_language))

    @r.get(
        "/accounts/{account_id}/limit-advice",
        dependencies=[allow("customer", "agent", "risk", own="account_id")],
        response_model=AdviceOut,
        responses=ERRORS,
        tags=["diagnosis"],
    )
    def get_limit_advice(account_id: AccountId, lang: Lang = None, accept_language: AcceptLanguage = None) -> Any:
        """How to raise this line's limit: actions ranked by their effect under the real score and
        limit policy, the next review's date, and the warnings that apply (read only)."""
        return diagnosis.limit_advice(system, account_id, render.negotiate(lang, accept_language))

    return r
