"""Regulatory sweeps (平台监管变严) that need no database: the rule, the action and its effect.

A sweep's rule is a CEL expression (the ``common-expression-language`` package, as the risk
policies; never Python ``eval``) over a line's columns — ``base_limit``, ``temporary_limit``,
``used``, ``available``, ``credit_balance`` (fen, integers), ``days_open``, ``due_day``,
``frozen``, ``overdue`` (bools), ``funding_source``, ``user_id`` (strings) — and any feature of
the risk catalogue (``huabei.risk.catalog.FEATURES``: ``latest_score``, ``dpd_now``,
``worst_dpd_12m`` …) as of the sweep's day. The action closes the line (``close``) or cuts its
base limit by a percentage (``cut:PCT``, 1-99: the new limit is rounded down to
``limits.limit_step`` and never below ``limits.min_base_limit``).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import cel

from huabei import errors

#: The line columns a rule may read, with a sample value of their type (for the type check).
LINE_COLUMNS: dict[str, Any] = {
    "base_limit": 0,
    "temporary_limit": 0,
    "used": 0,
    "available": 0,
    "credit_balance": 0,
    "days_open": 0,
    "due_day": 10,
    "frozen": False,
    "overdue": False,
    "funding_source": "platform",
    "user_id": "u",
}
_ACTION = re.compile(r"close|cut:([1-9][0-9]?)")


@dataclass(frozen=True)
class Action:
    kind: str  # close | cut
    percent: int = 0

    def __str__(self) -> str:
        return "close" if self.kind == "close" else f"cut:{self.percent}"


@dataclass(frozen=True)
class Rule:
    text: str
    program: Any
    line_columns: tuple[str, ...]
    features: tuple[str, ...]

    def matches(self, activation: Mapping[str, Any]) -> bool:
        return bool(self.program.execute(dict(activation)))


def parse_action(text: str) -> Action:
    m = _ACTION.fullmatch(text.strip())
    if m is None:
        raise errors.invalid("invalid_sweep_action", action=text)
    return Action("close") if m.group(1) is None else Action("cut", int(m.group(1)))


def compile_rule(text: str, features: Mapping[str, Any]) -> Rule:
    """Compile and type-check ``text``: 400 ``invalid_rule`` naming the problem (syntax, an
    unknown name, a type error, a result that is not true or false). ``features`` maps each
    catalogued feature name to a sample value of its type."""
    try:
        program = cel.compile(text)
    except Exception as e:  # the library raises ValueError with the parser's message
        raise errors.invalid("invalid_rule", detail=str(e).splitlines()[0][:300]) from None
    names = set(program.variables())
    unknown = sorted(n for n in names if n not in LINE_COLUMNS and n not in features)
    if unknown:
        raise errors.invalid("invalid_rule", detail=f"unknown name(s) {unknown}")
    sample = {n: LINE_COLUMNS[n] if n in LINE_COLUMNS else features[n] for n in names}
    try:
        value = program.execute(sample)
    except Exception as e:
        raise errors.invalid("invalid_rule", detail=f"type error: {str(e).splitlines()[0][:200]}") from None
    if not isinstance(value, bool):
        raise errors.invalid("invalid_rule", detail=f"a rule must be true or false, not {type(value).__name__}")
    return Rule(
        text,
        program,
        tuple(sorted(n for n in names if n in LINE_COLUMNS)),
        tuple(sorted(n for n in names if n not in LINE_COLUMNS)),
    )


def sweep_key(rule: str, action: Action) -> str:
    """What makes two runs the same sweep: the rule and the action. A rerun applies nothing twice."""
    return hashlib.sha256(f"{rule.strip()}\n{action}".encode()).hexdigest()[:32]


def cut_limit(base_limit: int, percent: int, step: int, minimum: int) -> int:
    """The base limit after a cut of ``percent`` %: rounded down to ``step``, never below ``minimum``
    (and never raised)."""
    cut = base_limit * (100 - percent) // 100
    cut -= cut % step
    return min(base_limit, max(minimum, cut))
