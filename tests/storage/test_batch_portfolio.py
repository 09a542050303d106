"""The portfolio step of ``batch run`` on both databases: the risk dashboard's figures folded from
each line's and each user's part (``huabei.portfolio.figures``, decided per partition) equal the
dashboard's aggregate SQL (``huabei.portfolio.queries.figures``) on the same book; the step
changes nothing."""

from __future__ import annotations

import datetime as dt
import json

from sqlalchemy import func, select
from tests.conftest import buy, make_system, new_account

from huabei.batch import eod, runs
from huabei.platform import schema as t
from huabei.portfolio import figures as pf
from huabei.portfolio import queries as portfolio

START = dt.date(2026, 9, 2)
DAY = dt.date(2026, 11, 1)


def _counts(system) -> dict[str, int]:
    with system.engine.connect() as c:
        return {
            name: c.execute(select(func.count()).select_from(t.metadata.tables[name])).scalar_one()
            for name in ("credit_scores", "limit_changes", "restrictions", "bureau_records", "batch_decisions")
        }


def test_the_folded_figures_equal_the_dashboards_sql(db_url, tmp_path) -> None:
    system = make_system(db_url, start=START)
    try:
        for i in range(4):
            acct = new_account(system, base_limit=400_000 * (i + 1), user_id=f"pf-u{i}")
            for k in range(i + 1):
                buy(system, acct, 15_000 * (k + 1), key=f"pf-buy-{i}-{k}")
        new_account(system, user_id="pf-idle")
        eod.run_eod(system, until=DAY)
        from huabei.lines import service as accounts

        accounts.register_user(system, user_id="pf-nolines", name="测试", phone="13800000002", real_name_verified=True)
        sql = {k: v for k, v in portfolio.figures(system).items() if k not in ("as_of", "last_eod")}
        assert sql["buckets"] and sql["restrictions_by_cause"] and sum(sql["score_bands"].values()) >= 5
        before = _counts(system)

        report = runs.run(system, "portfolio", as_of=DAY)
        assert report["status"] == "reported" and report["figures"] == sql
        out = tmp_path / "portfolio.jsonl"
        dry = runs.run(system, "portfolio", as_of=DAY, dry_run=True, out=out)
        lines = [json.loads(x) for x in out.read_text(encoding="utf-8").splitlines()]
        assert dry["decisions"] == len(lines) == report["decisions"]
        keys = [(x["account_id"], x["user_id"] or "", x["kind"], x["key"]) for x in lines]
        assert keys == sorted(keys) and {x["kind"] for x in lines} == {"line", "score"}
        assert _counts(system) == before
    finally:
        system.engine.dispose()


def test_a_lines_status_and_a_scores_band() -> None:
    assert pf.line_status(True, "account_frozen:fraud") == "closed"
    assert pf.line_status(False, "account_frozen:fraud") == "frozen"
    assert pf.line_status(False, "account_overdue") == "overdue"
    assert pf.line_status(False, None) == "active"
    assert [pf.score_band(s) for s in (350, 549, 550, 799, 800, 950)] == [350, 350, 550, 750, 800, 800]
