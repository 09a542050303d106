"""A risk policy: a versioned YAML file of rules whose conditions are CEL expressions.

::

    format: 1
    version: "2026.11-default"          # immutable: one text per version
    description: ...
    rules:
      - id: cash_out_round_amounts      # unique in the policy
        cause: cash_out_suspected       # a cause of huabei.restrictions.causes
        severity: soft                  # hard: no agent lifts it early; soft: an agent may, with a reason
        mode: daily                     # daily (end of day) or inline (inside each purchase)
        trigger: "round_purchases_one_merchant_30d >= 5"
        lift:                           # a condition, a duration, or both
          when: "round_purchases_one_merchant_30d == 0"
          after_days: cash_out_review_days   # days since the last signal: a number or a cfg key
        description: ...

A condition reads the features of :mod:`huabei.risk.catalog` by name and ``cfg.<key>`` (the
product terms of :func:`huabei.risk.catalog.config_values`). Validation refuses unknown keys,
unknown causes, features or ``cfg`` keys, syntax errors and conditions that are not boolean for
typed sample inputs (the ``cel`` package checks types when it evaluates, so every condition is
evaluated against typed samples of the features it reads); each error names the file and line.
Nothing here touches a database: parsing and compiling are pure, and a compiled policy is
cached by its text's digest (compiled once per version).
"""

from __future__ import annotations

import hashlib
import itertools
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Literal

import cel
import yaml

from huabei.restrictions.causes import CAUSES
from huabei.risk.catalog import FEATURES, sample_values

FORMAT = 1
Severity = Literal["hard", "soft"]
Mode = Literal["daily", "inline"]

_TOP_KEYS = {"format", "version", "description", "rules"}
_RULE_KEYS = {"id", "cause", "severity", "mode", "trigger", "lift", "description"}
_LIFT_KEYS = {"when", "after_days"}
_ID = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
_VERSION = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,31}$")


class PolicyError(ValueError):
    """A policy that cannot be used; ``errors`` lists every problem as ``file:line: message``."""

    def __init__(self, errors: list[str]):
        super().__init__("\n".join(errors))
        self.errors = errors


@dataclass(frozen=True)
class Condition:
    source: str
    program: Any  # cel.Program
    #: The features the condition reads (its ``cfg`` keys aside), sorted.
    features: tuple[str, ...]
    #: Whether it reads ``cfg``.
    reads_cfg: bool = False

    def holds(self, activation: Mapping[str, Any]) -> bool:
        """Evaluate with only the variables the condition reads taken from ``activation`` (the
        library converts every variable it is given on each call: a whole row costs ~40x more)."""
        own = {n: activation[n] for n in self.features}
        if self.reads_cfg:
            own["cfg"] = activation["cfg"]
        return bool(self.program.execute(own))

    def holds_all(self, rows: Sequence[Mapping[str, Any]], cfg: Mapping[str, int]) -> list[bool]:
        """The condition over a batch of rows (one per account, the features by name; ``cfg`` the
        same for all): CEL runs once per *distinct* combination of the values the condition reads,
        then every row takes its combination's result. A condition is a pure function of those
        values, so this equals ``holds`` row by row (tests/unit/test_risk_batch_eval.py), and a
        book whose accounts mostly share values (no overdue, no round amounts …) costs a few
        evaluations instead of one per account."""
        names = self.features
        memo: dict[tuple[Any, ...], bool] = {}
        out: list[bool] = []
        for row in rows:
            key = tuple(row[n] for n in names)
            value = memo.get(key)
            if value is None:
                own: dict[str, Any] = dict(zip(names, key))
                if self.reads_cfg:
                    own["cfg"] = cfg
                value = memo[key] = bool(self.program.execute(own))
            out.append(value)
        return out


@dataclass(frozen=True)
class Rule:
    id: str
    cause: str
    severity: Severity
    mode: Mode
    trigger: Condition
    lift_when: Condition | None
    #: Days after the last day the trigger held before it may lift (a number or a cfg key).
    lift_after_days: int | str | None
    description: str
    line: int

    @property
    def features(self) -> tuple[str, ...]:
        names = set(self.trigger.features) | set(self.lift_when.features if self.lift_when else ())
        return tuple(sorted(names))

    def after_days(self, cfg: Mapping[str, int]) -> int:
        """The lifting duration in days (0 when the rule lifts by its condition alone)."""
        if self.lift_after_days is None:
            return 0
        if isinstance(self.lift_after_days, int):
            return self.lift_after_days
        return int(cfg[self.lift_after_days])


@dataclass(frozen=True)
class Policy:
    version: str
    description: str
    rules: tuple[Rule, ...]
    digest: str  # sha256 of the text
    source: str
    path: str

    def rules_in(self, mode: Mode) -> tuple[Rule, ...]:
        return tuple(r for r in self.rules if r.mode == mode)

    def features(self, mode: Mode | None = None) -> tuple[str, ...]:
        rules = self.rules if mode is None else self.rules_in(mode)
        return tuple(sorted({f for r in rules for f in r.features}))

    def rule(self, rule_id: str) -> Rule:
        return next(r for r in self.rules if r.id == rule_id)

    def as_dict(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "description": self.description,
            "digest": self.digest,
            "rules": [
                {
                    "id": r.id,
                    "cause": r.cause,
                    "severity": r.severity,
                    "mode": r.mode,
                    "trigger": r.trigger.source,
                    "lift": {
                        "when": r.lift_when.source if r.lift_when else None,
                        "after_days": r.lift_after_days,
                    },
                    "features": list(r.features),
                    "description": r.description,
                }
                for r in self.rules
            ],
        }


def digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def parse(text: str, path: str, cfg: Mapping[str, int]) -> Policy:
    """The compiled policy of ``text`` (read from ``path``, named in errors), or
    :class:`PolicyError` listing every problem. ``cfg``: the terms conditions may name."""
    return _parse_cached(text, path, tuple(sorted(cfg.items())))


@lru_cache(maxsize=32)
def _parse_cached(text: str, path: str, cfg_items: tuple[tuple[str, int], ...]) -> Policy:
    cfg = dict(cfg_items)
    err = _Errors(path)

    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        line = mark.line + 1 if mark is not None else 1
        raise PolicyError([f"{path}:{line}: not valid YAML: {getattr(e, 'problem', e)}"]) from None
    if not isinstance(root, yaml.MappingNode):
        raise PolicyError([f"{path}:1: a policy is a mapping with format, version and rules"])
    top = _mapping(root)
    for key, (knode, _v) in top.items():
        if key not in _TOP_KEYS:
            err(_line(knode), f"unknown key {key!r} (one of {sorted(_TOP_KEYS)})")
    fmt = _scalar(top, "format")
    if fmt is None or fmt[0] != str(FORMAT):
        err(fmt[1] if fmt else 1, f"format must be {FORMAT}")
    ver = _scalar(top, "version")
    version = ver[0] if ver else ""
    if ver is None or not _VERSION.match(version):
        err(ver[1] if ver else 1, "version is required: letters, digits, '.', '_' or '-', at most 32")
    desc = _scalar(top, "description")
    rules_node = top.get("rules", (None, None))[1]
    rules: list[Rule] = []
    if not isinstance(rules_node, yaml.SequenceNode) or not rules_node.value:
        err(_line(rules_node) if rules_node is not None else 1, "rules must be a non-empty list")
    else:
        seen: set[str] = set()
        for node in rules_node.value:
            rule = _rule(node, cfg, err)
            if rule is None:
                continue
            if rule.id in seen:
                err(rule.line, f"duplicate rule id {rule.id!r}")
            seen.add(rule.id)
            rules.append(rule)
    if err.errors:
        raise PolicyError(err.errors)
    return Policy(version, desc[0] if desc else "", tuple(rules), digest(text), text, path)


class _Errors:
    def __init__(self, path: str):
        self.path = path
        self.errors: list[str] = []

    def __call__(self, line: int, msg: str) -> None:
        self.errors.append(f"{self.path}:{line}: {msg}")


def _rule(node: yaml.Node, cfg: Mapping[str, int], err: _Errors) -> Rule | None:
    line = _line(node)
    if not isinstance(node, yaml.MappingNode):
        err(line, "a rule is a mapping with id, cause, severity, mode, trigger and lift")
        return None
    m = _mapping(node)
    n_before = len(err.errors)
    for key, (knode, _v) in m.items():
        if key not in _RULE_KEYS:
            err(_line(knode), f"unknown rule key {key!r} (one of {sorted(_RULE_KEYS)})")
    rid = _scalar(m, "id")
    if rid is None or not _ID.match(rid[0]):
        err(rid[1] if rid else line, "a rule needs an id of lower-case letters, digits and '_'")
    cause = _scalar(m, "cause")
    if cause is None or cause[0] not in CAUSES:
        err(cause[1] if cause else line, f"unknown cause {cause[0] if cause else None!r} (one of {sorted(CAUSES)})")
    sev = _scalar(m, "severity")
    if sev is None or sev[0] not in ("hard", "soft"):
        err(sev[1] if sev else line, "severity is hard or soft")
    mode = _scalar(m, "mode")
    if mode is None or mode[0] not in ("daily", "inline"):
        err(mode[1] if mode else line, "mode is daily or inline")
    trig = _scalar(m, "trigger")
    trigger = _condition(trig, cfg, err) if trig else None
    if trig is None:
        err(line, "a rule needs a trigger condition")
    lift_when: Condition | None = None
    after: int | str | None = None
    lift_node = m.get("lift", (None, None))[1]
    if not isinstance(lift_node, yaml.MappingNode):
        err(_line(lift_node) if lift_node is not None else line, "a rule needs lift: {when: ..., after_days: ...}")
    else:
        lm = _mapping(lift_node)
        for key, (knode, _v) in lm.items():
            if key not in _LIFT_KEYS:
                err(_line(knode), f"unknown lift key {key!r} (one of {sorted(_LIFT_KEYS)})")
        when = _scalar(lm, "when")
        if when is not None:
            lift_when = _condition(when, cfg, err)
        days = _scalar(lm, "after_days")
        if days is not None:
            if re.fullmatch(r"\d{1,4}", days[0]):
                after = int(days[0])
            elif days[0] in cfg:
                after = days[0]
            else:
                err(days[1], f"after_days is a number of days or a cfg key, not {days[0]!r}")
        if when is None and days is None:
            err(_line(lift_node), "lift needs a condition (when), a duration (after_days) or both")
    if len(err.errors) != n_before or trigger is None or rid is None or cause is None or sev is None or mode is None:
        return None
    desc = _scalar(m, "description")
    return Rule(
        rid[0],
        cause[0],
        sev[0],  # type: ignore[arg-type]
        mode[0],  # type: ignore[arg-type]
        trigger,
        lift_when,
        after,
        desc[0] if desc else "",
        line,
    )


def _condition(src: tuple[str, int], cfg: Mapping[str, int], err: _Errors) -> Condition | None:
    text, line = src
    try:
        program = cel.compile(text)
    except Exception as e:  # the library raises ValueError with the parser's message
        err(line, f"CEL syntax error in {text!r}: {str(e).splitlines()[0]}")
        return None
    names = set(program.variables())
    unknown = sorted(n for n in names if n not in FEATURES and n != "cfg")
    if unknown:
        err(line, f"unknown feature(s) {unknown} in {text!r}")
        return None
    used_cfg = set(re.findall(r"\bcfg\.([A-Za-z_][A-Za-z0-9_]*)", text))
    bad_cfg = sorted(used_cfg - set(cfg))
    if bad_cfg:
        err(line, f"unknown cfg key(s) {bad_cfg} in {text!r} (one of {sorted(cfg)})")
        return None
    features = tuple(sorted(n for n in names if n != "cfg"))
    problem = type_check(program, features, cfg)
    if problem is not None:
        err(line, f"{problem} in {text!r}")
        return None
    return Condition(text, program, features, "cfg" in names)


def type_check(program: Any, features: tuple[str, ...], cfg: Mapping[str, int]) -> str | None:
    """Evaluate ``program`` with typed samples of its features (every combination, at most 64,
    else the extremes and a diagonal); None when each is a bool, else the problem."""
    pools = [sample_values(FEATURES[n]) for n in features]
    combos: list[tuple[Any, ...]]
    total = 1
    for p in pools:
        total *= len(p)
    if total <= 64:
        combos = list(itertools.product(*pools))
    else:
        width = max(len(p) for p in pools)
        combos = [tuple(p[i % len(p)] for p in pools) for i in range(width)]
        combos += [tuple(p[(i + j) % len(p)] for j, p in enumerate(pools)) for i in range(width)]
    for combo in combos:
        activation: dict[str, Any] = dict(zip(features, combo))
        activation["cfg"] = dict(cfg)
        try:
            value = program.execute(activation)
        except Exception as e:
            return f"type error ({str(e).splitlines()[0][:160]})"
        if not isinstance(value, bool):
            return f"a condition must be true or false, not {type(value).__name__}"
    return None


def _line(node: yaml.Node | None) -> int:
    return node.start_mark.line + 1 if node is not None else 1


def _mapping(node: yaml.MappingNode) -> dict[str, tuple[yaml.Node, yaml.Node]]:
    return {str(k.value): (k, v) for k, v in node.value}


def _scalar(m: Mapping[str, tuple[yaml.Node, yaml.Node]], key: str) -> tuple[str, int] | None:
    if key not in m:
        return None
    _k, v = m[key]
    if not isinstance(v, yaml.ScalarNode):
        return ("", _line(v))
    return (str(v.value), _line(v))
