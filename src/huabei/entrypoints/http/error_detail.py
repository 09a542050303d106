"""The ``error`` object of every error answer of the HTTP API (``schemas.ErrorDetail``), built in one
place for the app's exception handlers and the answers of a batch."""

from __future__ import annotations

from typing import Any

from huabei import reasons

#: refusal params also given to machines, under these names (``ErrorDetail.details``)
DETAIL_PARAMS = {"attempts_left": "attempts_left", "unlocks_at_iso": "unlocks_at", "ends_at_iso": "ends_at"}


def error_detail(code: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
    """The ``error`` object of an error answer (``ErrorDetail``): the code, its texts in both
    languages, and the machine-readable details of some refusals."""
    body: dict[str, Any] = {k: v for k, v in reasons.render(code, params).items() if v is not None}
    details = {out: params[k] for k, out in DETAIL_PARAMS.items() if params and k in params}
    if details:
        body["details"] = details
    if params and isinstance(params.get("reasons"), list):  # e.g. not_eligible: every reason, in words
        from huabei.entrypoints.http.scoring import not_eligible_reasons

        body["reasons"] = not_eligible_reasons(params)
    return body
