"""``huabei diagnose`` (in-process, both databases): text in the chosen language, ``--json`` as the API."""

from __future__ import annotations

import json

import pytest
from tests.conftest import plain_consoles
from tests.test_cli import open_line, run

from huabei.entrypoints.cli import diagnosis as cli_diagnosis
from huabei.entrypoints.cli import main as cli


@pytest.fixture(autouse=True)
def plain_output(monkeypatch: pytest.MonkeyPatch) -> None:
    plain_consoles(monkeypatch, cli, cli_diagnosis)
    for var in ("HUABEI_DATABASE_URL", "HUABEI_CLOCK", "HUABEI_CONFIG", "FORCE_COLOR", "LANG"):
        monkeypatch.delenv(var, raising=False)


@pytest.mark.smoke
def test_diagnose_prints_the_state_findings_and_checks(db_url):
    aid = open_line(db_url)
    run(db_url, "purchase", str(aid), "88.80", "--merchant", "m-1", "--category", "retail", "--key", "k-1")
    out = run(db_url, "diagnose", str(aid)).stdout
    assert out.startswith("Nothing blocks you") and "Checked for you" in out and "911.20" in out
    run(db_url, "restrictions", "place", str(aid), "wrong_password_lockout")
    zh = run(db_url, "diagnose", str(aid), "--lang", "zh-CN").stdout
    assert zh.startswith("花呗已被冻结") and "怎么办：等待自动解锁" in zh and "已为您检查" in zh
    data = json.loads(run(db_url, "diagnose", str(aid), "--json").stdout)
    assert data["state"] == "frozen" and data["findings"][0]["code"] == "wrong_password_lockout"
    assert run(db_url, "diagnose", "99999", code=4).stderr.startswith("account_not_found")


def test_advise_prints_ranked_actions_with_their_effect(db_url):
    aid = open_line(db_url)
    run(db_url, "purchase", str(aid), "900.00", "--merchant", "m-1", "--category", "retail", "--key", "k-1")
    out = run(db_url, "advise", str(aid)).stdout
    assert out.startswith("Your base limit is 1,000.00 yuan") and "Estimated effect:" in out
    assert "repay 600.00 yuan now" in out
    data = json.loads(run(db_url, "advise", str(aid), "--json", "--lang", "zh-CN").stdout)
    assert data["locale"] == "zh_CN" and data["actions"]
