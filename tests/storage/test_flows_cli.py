"""``huabei risk sweep``, ``huabei accounts close`` and ``huabei funding migrate`` from the command
line, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from tests.test_cli import open_line, plain_output, refused, run, run_json, show  # noqa: F401

from huabei.config import default_terms


def test_risk_sweep_dry_run_apply_and_bad_rule(db_url: str) -> None:
    aid = open_line(db_url)
    run(db_url, "purchase", str(aid), "10.00", "--merchant", "m-1", "--category", "retail", "--key", "k1")
    out = run(
        db_url, "risk", "sweep", "--rule", "used > 0", "--action", "cut:50", "--reason", "notice", "--dry-run"
    ).stdout
    assert "1 line(s) match" in out and "dry run: nothing changed" in out and "500.00" in out
    assert show(db_url, aid)["base_limit"] == "1000.00"
    rep = run_json(
        db_url, "risk", "sweep", "--rule", "used > 0", "--action", "cut:50", "--reason", "notice", "--operator", "ops"
    )
    assert (rep["matched"], rep["applied"]) == (1, 1)
    assert show(db_url, aid)["base_limit"] == "500.00"
    again = run_json(db_url, "risk", "sweep", "--rule", "used > 0", "--action", "cut:50", "--reason", "notice")
    assert again["applied"] == 0
    refused(
        db_url, "risk", "sweep", "--rule", "used >", "--action", "close", "--reason", "r", code=2, reason="invalid_rule"
    )
    refused(
        db_url,
        "risk",
        "sweep",
        "--rule",
        "used > 0",
        "--action",
        "ban",
        "--reason",
        "r",
        code=2,
        reason="invalid_sweep_action",
    )


def test_accounts_close(db_url: str) -> None:
    aid = open_line(db_url)
    closed = json.loads(run(db_url, "accounts", "close", str(aid), "--reason", "not needed", "--json").stdout)
    assert closed["status"] == "closed"
    refused(db_url, "accounts", "close", str(aid), code=5, reason="account_already_closed")


PARTNERS = """
funding:
  partners:
    - {code: bank_a, name: Bank A, name_zh: 甲银行}
"""


def _funded_book(db: str) -> list[int]:
    """Three lines bank_a funds (owing 100.00, 200.00 and nothing) and one of the platform's."""
    run(db, "clock", "set", "2026-11-02")
    ids = []
    for i, funder in enumerate(("bank_a", "bank_a", "bank_a", "platform")):
        run(db, "users", "add", f"u{i}", "--name", "李雷", "--phone", "13800000000")
        ids.append(
            run_json(db, "accounts", "open", f"u{i}", "--base-limit", "1000.00", "--funding-source", funder)[
                "account_id"
            ]
        )
    for i, amount in ((0, "100.00"), (1, "200.00"), (3, "50.00")):
        run(db, "purchase", str(ids[i]), amount, "--merchant", "m-1", "--category", "retail", "--key", f"k{i}")
    return ids


def _state(db: str, ids: list[int]) -> list[tuple[Any, ...]]:
    out = []
    for aid in ids:
        v = show(db, aid)
        out.append((v["funding_source"], v["used"], v["base_limit"], [r["cause"] for r in v["restrictions"]]))
    return out


def test_funding_migrate_dry_run_apply_rerun_and_resume(
    db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest
) -> None:
    from huabei.funding import service as funding
    from huabei.lines import service as accounts
    from huabei.platform.unit_of_work import Huabei

    config = tmp_path / "terms.yaml"
    config.write_text(PARTNERS, encoding="utf-8")
    monkeypatch.setenv("HUABEI_CONFIG", str(config))
    default_terms.cache_clear()  # the terms are read once a process: read them with the partner
    request.addfinalizer(default_terms.cache_clear)
    ids = _funded_book(db_url)
    before = _state(db_url, ids)

    out = run(db_url, "funding", "migrate", "--partner", "bank_a", "--dry-run").stdout
    assert "3 line(s) funded by bank_a; dry run: nothing changed" in out
    dry = run_json(db_url, "funding", "migrate", "--partner", "bank_a", "--dry-run")
    assert [(x["account_id"], x["effect"], x["xinyonggou_limit"]) for x in dry["lines"]] == [
        (ids[0], "move", 50_000),  # 100.00 carried, the product's minimum 500.00 given
        (ids[1], "move", 50_000),
        (ids[2], "refund_to_platform", None),
    ]
    assert _state(db_url, ids) == before
    refused(db_url, "funding", "migrate", "--partner", "bank_z", code=2, reason="unknown_funding_partner")

    # interrupted after the first line moved (batches of one line: the second line's move is killed)
    real, calls = funding._move_one, {"n": 0}

    def killed_on_second(*a: Any, **kw: Any) -> Any:
        calls["n"] += 1
        if calls["n"] == 2:
            raise RuntimeError("killed")
        return real(*a, **kw)

    monkeypatch.setattr(funding, "_move_one", killed_on_second)
    run(db_url, "funding", "migrate", "--partner", "bank_a", "--batch-size", "1", code=1)
    mid = _state(db_url, ids)
    assert mid[0] == ("platform", "0.00", "500.00", [])
    assert mid[1] == ("bank_a", "200.00", "1000.00", ["brand_isolation"])  # paused, waiting
    assert "ledger OK" in run(db_url, "ledger", "check").stdout

    monkeypatch.setattr(funding, "_move_one", real)
    rep = run_json(db_url, "funding", "migrate", "--partner", "bank_a", "--operator", "ops-9", "--batch-size", "1")
    assert (rep["matched"], rep["moved"], rep["failed"]) == (2, 1, 0)
    assert [x["paused"] for x in rep["lines"]] == [True, True]
    after = _state(db_url, ids)
    assert after == [
        ("platform", "0.00", "500.00", []),
        ("platform", "0.00", "500.00", []),
        ("platform", "0.00", "1000.00", []),
        ("platform", "50.00", "1000.00", []),
    ]
    system = Huabei.from_env(db_url)  # the business clock as the commands left it
    try:
        xyg = [accounts.get_user(system, f"u{i}")["xinyonggou_account_id"] for i in range(3)]
    finally:
        system.engine.dispose()
    assert xyg[2] is None
    assert [show(db_url, x)[k] for x in xyg[:2] for k in ("used", "funding_source", "product")] == [
        "100.00",
        "bank_a",
        "xinyonggou",
        "200.00",
        "bank_a",
        "xinyonggou",
    ]
    assert "ledger OK" in run(db_url, "ledger", "check").stdout

    # a rerun applies nothing twice
    again = run_json(db_url, "funding", "migrate", "--partner", "bank_a")
    assert (again["matched"], again["moved"]) == (0, 0)
    assert _state(db_url, ids) == after
    assert "ledger OK" in run(db_url, "ledger", "check").stdout


def test_changes_from_the_command_line_are_audited_with_the_operator(
    db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sqlalchemy import select

    from huabei.access import service as access
    from huabei.platform import schema
    from huabei.platform.unit_of_work import Huabei

    monkeypatch.setenv("HUABEI_ACTOR", "ops-env")
    aid = open_line(db_url)
    placed = run_json(db_url, "--actor", "ops-7", "restrictions", "place", str(aid), "operator_hold", "--note", "check")
    rid = placed["restriction_id"]
    assert placed["placed_by"] == "ops-7"
    run(db_url, "restrictions", "lift", str(rid), "--reason", "lifted_by_agent")
    show(db_url, aid)  # a read: not audited
    rep = run_json(
        db_url, "--actor", "ops-8", "risk", "sweep", "--rule", "used == 0", "--action", "cut:10", "--reason", "r"
    )
    assert rep["operator"] == "ops-8"  # --operator defaults to the actor
    system = Huabei.from_env(db_url)
    try:
        with system.engine.connect() as conn:
            rows = [
                dict(r._mapping) for r in conn.execute(select(schema.audit_log).order_by(schema.audit_log.c.audit_id))
            ]
        trail = access.line_audit_trail(system, aid)
    finally:
        system.engine.dispose()
    cli = [(r["route"], r["actor"], r["account_id"], r["method"], r["outcome"]) for r in rows]
    assert cli == [
        ("clock set", "ops-env", None, "CLI", "ok"),
        ("users add", "ops-env", None, "CLI", "ok"),
        ("accounts open", "ops-env", aid, "CLI", "ok"),
        ("restrictions place", "ops-7", aid, "CLI", "ok"),
        ("restrictions lift", "ops-env", aid, "CLI", "ok"),
        ("risk sweep", "ops-8", None, "CLI", "ok"),  # many lines: each in sweep_actions, with the operator
    ]
    assert rows[3]["path"] == f"restrictions place {aid} operator_hold --note check --json --db ***"
    assert all(db_url not in r["path"] for r in rows)  # never the database URL
    # the agent's line page reads the line's rows by account_id
    assert [r["route"] for r in trail] == ["restrictions lift", "restrictions place", "accounts open"]


@pytest.fixture(autouse=True)
def _plain(plain_output: None) -> None:  # noqa: F811
    pass
