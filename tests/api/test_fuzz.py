"""Schemathesis over the whole HTTP API, in-process (ASGI), on SQLite and PostgreSQL: every
operation of the served OpenAPI document, with every check schemathesis has, each operation
called with an API key of a role it declares (``auth.declared_policy``), through every phase —
the document's examples, the coverage phase (boundaries, missing headers, undeclared methods),
fuzzing and stateful sequences — a bounded number of examples per operation (``FUZZ_EXAMPLES``).

Nothing may fail: no 5xx, no response that breaks its schema or its content type, no status the
document does not state, no well-formed request refused with 400 and no malformed one accepted,
405 with ``Allow``, 401 without a key. What "well-formed but refused" means here: a product rule's
refusal (422, or 402 for a declined purchase) of a request the schema allows — a term not offered,
a limit out of the product's range, a line that owes money — is the API working, not a contract
break, so ``positive_data_acceptance`` accepts 402 and 422 beside its defaults.

Rate limits are off in this app's terms (0 = unlimited): the fuzzer is one client sending
thousands of requests; the limits have their own tests (tests/api/test_access.py).
How to run it, and what to do with a failure: docs/api.md.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from schemathesis.config import SchemathesisConfig
from schemathesis.engine import events, from_schema
from tests.api.conftest import key_for
from tests.conftest import buy, make_system, new_account

from huabei.access.roles import Role
from huabei.config import ProductTerms
from huabei.entrypoints.auth import api_routes, declared_policy
from huabei.entrypoints.http.app import create_app
from huabei.platform.unit_of_work import Huabei

#: Examples per operation and phase; HUABEI_FUZZ_EXAMPLES raises it for a longer run.
FUZZ_EXAMPLES = int(os.environ.get("HUABEI_FUZZ_EXAMPLES", "4"))
FUZZ_SEED = int(os.environ.get("HUABEI_FUZZ_SEED", "20261102"))

#: Which role's key calls a route: the first of these the route declares (admin may call all).
ROLE_ORDER = (Role.GATEWAY, Role.RISK, Role.AGENT, Role.CUSTOMER, Role.ADMIN)


def _unthrottled() -> ProductTerms:
    terms = ProductTerms()
    access = terms.access.model_copy(
        update={
            "failed_auth_attempts": 0,
            "login_attempts": 0,
            "password_attempts": 0,
            "key_requests_per_minute": dict.fromkeys(terms.access.key_requests_per_minute, 0),
        }
    )
    return terms.model_copy(update={"access": access})


@pytest.fixture
def fuzz_system(db_url: str) -> Iterator[Huabei]:
    s = make_system(db_url, _unthrottled())
    yield s
    s.engine.dispose()


def _operation_keys(system: Huabei, app: Any, customer_of: str) -> list[dict[str, Any]]:
    """One ``operations`` entry per route: its path and method, and a key of a role it allows."""
    keys: dict[Role, str] = {}
    out = []
    for method, path, route in api_routes(app):
        if not route.include_in_schema:
            continue
        policy = declared_policy(route)
        assert policy is not None, f"{method} {path} declares no roles"
        if policy.public:
            continue
        role = next(r for r in ROLE_ORDER if r in policy.roles)
        if role not in keys:
            keys[role] = key_for(system, role.value, user_id=customer_of if role is Role.CUSTOMER else None)
        out.append(
            {
                "include-path": path,
                "include-method": method,
                "headers": {"Authorization": f"Bearer {keys[role]}"},
            }
        )
    return out


def _seed(system: Huabei) -> str:
    """A line with a purchase on it, so reads and stateful sequences reach real rows."""
    account = new_account(system, base_limit=500_000, user_id="fuzz-user")
    buy(system, account, 12_345)
    return "fuzz-user"


def _failures(schema: Any) -> tuple[list[str], int]:
    found: list[str] = []
    seen: set[tuple[str, str, str]] = set()
    cases = 0
    for event in from_schema(schema).execute():
        if isinstance(event, events.FatalError):
            found.append(f"fatal: {event.exception!r}")
        elif isinstance(event, events.NonFatalError):
            found.append(f"error in {event.label}: {event.value!r}")
        elif isinstance(event, events.ScenarioFinished):
            cases += len(event.recorder.cases)
            for case_id, checks in event.recorder.checks.items():
                for check in checks:
                    if check.status.name != "FAILURE" or check.failure_info is None:
                        continue
                    failure = check.failure_info.failure
                    key = (event.recorder.label, check.name, failure.title)
                    if key in seen:
                        continue
                    seen.add(key)
                    interaction = event.recorder.interactions.get(case_id)
                    response = interaction.response if interaction is not None else None
                    answer = f" -> {getattr(failure, 'status_code', '?')}"
                    if response is not None:
                        answer = (
                            f" -> {response.status_code} {(response.content or b'')[:300].decode(errors='replace')}"
                        )
                    found.append(
                        f"{event.recorder.label} · {check.name} · {failure.title}\n    {failure.message[:300]}"
                        f"\n    {check.failure_info.code_sample[:500]}{answer}"
                    )
    return found, cases


@pytest.mark.slow
def test_the_whole_api_passes_every_schemathesis_check(fuzz_system: Huabei) -> None:
    customer = _seed(fuzz_system)
    app = create_app(fuzz_system)
    config = SchemathesisConfig.from_dict(
        {
            "seed": FUZZ_SEED,
            "generation": {"max-examples": FUZZ_EXAMPLES},
            "checks": {
                "enabled": True,
                "positive_data_acceptance": {
                    "expected-statuses": ["2xx", "3xx", "401", "403", "404", "409", "429", "402", "422"]
                },
            },
            "operations": _operation_keys(fuzz_system, app, customer),
        }
    )
    schema = schemathesis.openapi.from_asgi("/openapi.json", app, config=config)
    found, cases = _failures(schema)
    assert cases > 10 * len(schema), f"only {cases} cases ran"
    assert not found, f"{len(found)} schemathesis failure(s):\n" + "\n".join(found)
