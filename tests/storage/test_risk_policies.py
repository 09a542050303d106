"""Activating a risk policy is recorded with who and when; invalid or conflicting ones change nothing."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from huabei.errors import HuabeiError
from huabei.risk import service as risk
from huabei.risk.service import DEFAULT_POLICY


def _variant(tmp_path: Path, version: str, extra: str = "") -> str:
    text = DEFAULT_POLICY.read_text(encoding="utf-8").replace('version: "2026.11-default"', f'version: "{version}"')
    path = tmp_path / f"{version}.yaml"
    path.write_text(text + extra, encoding="utf-8")
    return str(path)


def test_activation_is_recorded_and_earlier_versions_stay_queryable(system, tmp_path) -> None:
    shown = risk.show(system)
    assert shown["source"] == "configured" and shown["policy"]["version"] == "2026.11-default"
    risk.activate(system, str(DEFAULT_POLICY), actor="alice")
    risk.activate(system, _variant(tmp_path, "v2"), actor="bob")
    shown = risk.show(system)
    assert shown["policy"]["version"] == "v2" and shown["source"] == "recorded"
    assert [(a["version"], a["actor"], a["role"]) for a in shown["activations"]] == [
        ("2026.11-default", "alice", "active"),
        ("v2", "bob", "active"),
    ]
    assert risk.show(system, "2026.11-default")["policy"]["version"] == "2026.11-default"
    with pytest.raises(HuabeiError) as e:
        risk.show(system, "nope")
    assert e.value.code == "risk_policy_version_not_found"


def test_invalid_or_conflicting_policies_activate_nothing(system, tmp_path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(DEFAULT_POLICY.read_text(encoding="utf-8").replace("dpd_now > cfg.grace_days", "dpd_now >"))
    with pytest.raises(HuabeiError) as e:
        risk.activate(system, str(bad), actor="alice")
    assert e.value.code == "risk_policy_invalid" and "bad.yaml:" in e.value.params["detail"]
    risk.activate(system, _variant(tmp_path, "v3"), actor="alice")
    changed = _variant(tmp_path / "..", "v3", "\n# a changed text under the same version\n")
    with pytest.raises(HuabeiError) as e:
        risk.activate(system, changed, actor="mallory")
    assert e.value.code == "risk_policy_version_exists"
    assert [a["actor"] for a in risk.show(system)["activations"]] == ["alice"]


def test_cli_validate_names_file_and_line(tmp_path, monkeypatch) -> None:
    from tests.conftest import plain_consoles

    from huabei.entrypoints.cli import common
    from huabei.entrypoints.cli.main import app

    plain_consoles(monkeypatch, common)
    bad = tmp_path / "bad.yaml"
    bad.write_text(DEFAULT_POLICY.read_text(encoding="utf-8").replace("score > 0 &&", "scor > 0 &&"))
    out = CliRunner().invoke(app, ["risk", "policy", "validate", str(bad)])
    assert out.exit_code == 2
    assert f"{bad}:" in out.output and "unknown feature" in out.output
    ok = CliRunner().invoke(app, ["risk", "policy", "validate", str(DEFAULT_POLICY)])
    assert ok.exit_code == 0 and "valid policy 2026.11-default" in " ".join(ok.output.split())  # Rich wraps long paths


def test_the_policies_in_force_are_one_query_and_a_new_activation_counts_at_once(system, tmp_path) -> None:
    """A purchase checks the policies in force with one small query; a policy's text is read only
    when this process meets its activation for the first time, and a new activation (or shadow)
    is in force for the very next unit of work."""
    from sqlalchemy import event

    risk.activate(system, str(DEFAULT_POLICY), actor="alice")
    seen: list[str] = []

    def capture(conn, cursor, statement, params, context, executemany) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            seen.append(statement)

    event.listen(system.engine, "before_cursor_execute", capture)
    try:

        def in_force() -> tuple[str, str | None]:
            seen.clear()
            with system.uow(readonly=True) as uow:
                live, shadow = risk.policies_in_force(uow)
            return live.version, shadow.version if shadow else None

        assert in_force() == ("2026.11-default", None)
        assert in_force() == ("2026.11-default", None)
        assert len(seen) == 1 and "risk_policies.source" not in seen[0]
        risk.activate(system, _variant(tmp_path, "v4"), actor="bob", role="shadow")
        assert in_force() == ("2026.11-default", "v4")
        assert any("risk_policies.source" in s or "FROM risk_policies" in s for s in seen[1:])
        assert in_force() == ("2026.11-default", "v4") and len(seen) == 1
        risk.activate(system, _variant(tmp_path, "v4"), actor="bob")
        risk.stop_shadow(system, actor="bob")
        assert in_force() == ("v4", None)
    finally:
        event.remove(system.engine, "before_cursor_execute", capture)
