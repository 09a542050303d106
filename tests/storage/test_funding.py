"""Brand isolation and 信用购 (``huabei funding migrate``) on SQLite and PostgreSQL: a partner's
funded balances move to a 信用购 line of the same user with balanced ledger entries, bills,
installments, overdue days and repayment carry on there, the books check stays green; purchases
are paused (402 ``brand_isolation``) while a line waits and the bureau file does not call the
pause a freeze; a crash mid-migration resumes to the same result and a rerun moves nothing twice."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import func, select
from tests.conftest import buy, make_system

from huabei.batch import books, eod
from huabei.billing import plans
from huabei.billing import views as billing_views
from huabei.config import FundingPartner, FundingTerms, ProductTerms
from huabei.errors import HuabeiError
from huabei.funding import service as funding
from huabei.lines import service as accounts
from huabei.onboarding import service as onboarding
from huabei.payments import service as payments
from huabei.platform import schema as t
from huabei.platform.unit_of_work import Huabei

D = dt.date
TERMS = ProductTerms(
    funding=FundingTerms(
        partners=(
            FundingPartner(code="bank_a", name="Bank A", name_zh="甲银行"),
            FundingPartner(code="bank_b", name="Bank B", name_zh="乙银行"),
        )
    )
)


@pytest.fixture
def at(db_url: str) -> Iterator[Any]:
    made: list[Huabei] = []

    def make(start: dt.date) -> Huabei:
        s = make_system(db_url, TERMS, start=start)
        made.append(s)
        return s

    yield make
    for s in made:
        s.engine.dispose()


def code(fn: Any, *a: Any, **kw: Any) -> str:
    with pytest.raises(HuabeiError) as ei:
        fn(*a, **kw)
    return ei.value.code


def open_line(system: Huabei, user_id: str, funding_source: str = "bank_a", base_limit: int = 500_000) -> int:
    accounts.register_user(system, user_id=user_id, name="测试用户", phone="13800000000", real_name_verified=True)
    view = onboarding.open_account(system, user_id=user_id, base_limit=base_limit, funding_source=funding_source)
    return int(view["account_id"])


def check_books(system: Huabei) -> None:
    report = books.ledger_check(system)
    assert report.ok, report.findings


def test_a_partners_balances_move_to_a_xinyonggou_line_and_everything_carries_on(at: Any) -> None:
    s = at(D(2026, 10, 25))
    a = open_line(s, "alice")  # owes: a bill, an installment plan, purchases not billed yet
    b = open_line(s, "bob")  # owes nothing
    c = open_line(s, "carol", funding_source="platform")
    buy(s, a, 120_000)
    buy(s, c, 30_000)
    eod.run_eod(s, until=D(2026, 11, 3))  # the bill of 1,200.00 closes on 11-01 (period 2026-11)
    pid = buy(s, a, 60_000).body["purchase_id"]
    plans.create_purchase_installments(s, pid, 3, "inst-1")
    buy(s, a, 10_000)
    eod.run_eod(s, until=D(2026, 11, 12))  # the bill is overdue (due 11-10), not reported yet: penalty accrues
    check_books(s)
    before = accounts.account_view(s, a)
    assert before["status"] == "overdue" and before["funding_source"] == "bank_a"

    dry = funding.migrate(s, partner="bank_a", dry_run=True)
    assert (dry["matched"], dry["moved"]) == (2, 0)
    assert [(x["account_id"], x["effect"]) for x in dry["lines"]] == [(a, "move"), (b, "refund_to_platform")]
    assert dry["lines"][0]["xinyonggou_limit"] == 190_000 and dry["lines"][0]["huabei_limit"] == 310_000
    assert accounts.account_view(s, a)["used"] == before["used"]

    rep = funding.migrate(s, partner="bank_a", operator="ops-3", batch_size=1)
    assert (rep["matched"], rep["moved"], rep["failed"]) == (2, 1, 0)
    n = rep["lines"][0]["to_account_id"]
    assert rep["lines"][1]["to_account_id"] is None
    old, new = accounts.account_view(s, a), accounts.account_view(s, n)
    assert (old["product"], old["funding_source"], old["used"], old["status"]) == ("huabei", "platform", 0, "active")
    assert (new["product"], new["funding_source"], new["user_id"]) == ("xinyonggou", "bank_a", "alice")
    assert new["used"] == before["used"] == 190_000 and new["status"] == "overdue"  # the overdue bill moved
    assert old["base_limit"] + new["base_limit"] == 500_000 and new["restrictions"] == []
    assert [r["cause"] for r in old["restrictions"]] == []  # the pause was lifted
    user = accounts.get_user(s, "alice")
    assert (user["account_id"], user["xinyonggou_account_id"]) == (a, n)
    assert accounts.account_view(s, b)["funding_source"] == "platform"
    assert accounts.get_user(s, "bob")["xinyonggou_account_id"] is None
    assert accounts.account_view(s, c)["funding_source"] == "platform"
    check_books(s)
    with s.engine.connect() as conn:
        transfers = conn.execute(
            select(t.journal_entries.c.entry_id).where(t.journal_entries.c.kind == "funding_transfer")
        ).all()
        assert len(transfers) == 1
        funders = dict(
            conn.execute(
                select(t.purchases.c.account_id, func.count())
                .where(t.purchases.c.funding_source == "bank_a")
                .group_by(t.purchases.c.account_id)
            ).all()
        )
        assert funders == {n: 3}

    # bills, installments and repayment go on on the 信用购 line; 花呗 buys with the platform's money
    bills = billing_views.list_bills(s, n)
    assert [x["period"] for x in bills] == ["2026-11"] and bills[0]["status"] == "overdue"
    assert billing_views.list_bills(s, a) == []
    assert buy(s, a, 5_000).status == 201
    assert code(buy, s, n, 5_000) == "account_overdue"
    payments.repay(s, n, 130_000, "repay-n")  # the overdue bill and its penalty
    assert accounts.account_view(s, n)["status"] == "active"
    eod.run_eod(s, until=D(2026, 12, 2))  # the next bill (installment period 1) on the new line
    check_books(s)
    assert [x["period"] for x in billing_views.list_bills(s, n)] == ["2026-12", "2026-11"]
    with s.engine.connect() as conn:
        records = dict(
            conn.execute(
                select(t.bureau_records.c.account_id, t.bureau_records.c.account_status).where(
                    t.bureau_records.c.month == "2026-11"
                )
            ).all()
        )
    assert records[a] == "normal" and records[n] == "normal"

    again = funding.migrate(s, partner="bank_a")
    assert (again["matched"], again["moved"]) == (0, 0)
    check_books(s)


def test_a_crash_mid_migration_resumes_to_the_same_result(at: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    s = at(D(2026, 11, 28))
    ids = [open_line(s, f"u{i}") for i in range(3)]
    for i, aid in enumerate(ids):
        buy(s, aid, 10_000 * (i + 1))
    real = funding._move_one
    calls = {"n": 0}

    def killed_on_second(*a: Any, **kw: Any) -> Any:
        calls["n"] += 1
        if calls["n"] == 2:
            raise RuntimeError("killed")
        return real(*a, **kw)

    monkeypatch.setattr(funding, "_move_one", killed_on_second)
    with pytest.raises(RuntimeError):
        funding.migrate(s, partner="bank_a", batch_size=1)
    views = [accounts.account_view(s, i) for i in ids]
    assert [v["funding_source"] for v in views] == ["platform", "bank_a", "bank_a"]
    # the lines still waiting are paused: purchases answer brand_isolation, repaying works
    assert [r["cause"] for r in views[1]["restrictions"]] == ["brand_isolation"]
    assert views[1]["status"] == "frozen"
    assert code(buy, s, ids[1], 1_000) == "brand_isolation"
    payments.repay(s, ids[1], 1_000, "repay-paused")
    check_books(s)
    # the bureau file written while they wait does not report the pause as a credit freeze
    eod.run_eod(s, until=D(2026, 12, 1))
    with s.engine.connect() as conn:
        status = dict(
            conn.execute(
                select(t.bureau_records.c.account_id, t.bureau_records.c.account_status).where(
                    t.bureau_records.c.month == "2026-11"
                )
            ).all()
        )
    assert [status[i] for i in ids] == ["normal"] * 3

    monkeypatch.setattr(funding, "_move_one", real)
    rerun = funding.migrate(s, partner="bank_a", batch_size=1)
    assert (rerun["matched"], rerun["moved"], rerun["failed"]) == (2, 2, 0)
    assert [x["paused"] for x in rerun["lines"]] == [True, True]
    check_books(s)
    for i, (aid, owed) in enumerate(zip(ids, (10_000, 19_000, 30_000), strict=True)):
        user = accounts.get_user(s, f"u{i}")
        assert user["account_id"] == aid
        new = accounts.account_view(s, user["xinyonggou_account_id"])
        old = accounts.account_view(s, aid)
        assert (new["used"], old["used"], old["funding_source"], old["restrictions"]) == (owed, 0, "platform", [])
    with s.engine.connect() as conn:
        n_transfers = conn.execute(
            select(func.count()).select_from(t.journal_entries).where(t.journal_entries.c.kind == "funding_transfer")
        ).scalar_one()
        lines = conn.execute(select(func.count()).select_from(t.credit_accounts)).scalar_one()
    assert (n_transfers, lines) == (3, 6)
    assert funding.migrate(s, partner="bank_a")["matched"] == 0


def test_an_unknown_partner_and_a_second_xinyonggou_line(at: Any) -> None:
    s = at(D(2026, 11, 2))
    assert code(funding.migrate, s, partner="bank_z") == "unknown_funding_partner"
    assert code(funding.migrate, s, partner="platform") == "unknown_funding_partner"
    assert code(open_line, s, "zed", "bank_z") == "unknown_funding_partner"
    a = open_line(s, "dave")
    buy(s, a, 20_000)
    first = funding.migrate(s, partner="bank_a")["lines"][0]["to_account_id"]
    # a second partner comes to fund the 花呗 line, then leaves while the 信用购 line is open
    with s.engine.begin() as conn:
        conn.execute(
            t.credit_accounts.update().where(t.credit_accounts.c.account_id == a).values(funding_source="bank_b")
        )
    buy(s, a, 5_000)
    dry = funding.migrate(s, partner="bank_b", dry_run=True)
    assert dry["lines"][0]["xinyonggou_state"] == "closed"
    rep = funding.migrate(s, partner="bank_b")
    # the line is not left paused: bank_b's balance goes to a 信用购 line of its own, which takes
    # no purchases (one open 信用购 line per user) while its bills and repayment go on
    assert (rep["moved"], rep["failed"]) == (1, 0)
    second = rep["lines"][0]["to_account_id"]
    old, new = accounts.account_view(s, a), accounts.account_view(s, second)
    assert (new["status"], new["funding_source"], new["used"], new["product"]) == (
        "closed",
        "bank_b",
        5_000,
        "xinyonggou",
    )
    assert old["restrictions"] == [] and old["funding_source"] == "platform"
    assert buy(s, a, 1_000).status == 201
    assert code(buy, s, second, 1_000) == "account_closed"
    assert accounts.account_view(s, first)["status"] == "active"
    assert accounts.get_user(s, "dave")["xinyonggou_account_ids"] == [first, second]
    payments.repay(s, second, 5_000, "repay-second")
    assert accounts.account_view(s, second)["used"] == 0
    check_books(s)
    assert funding.migrate(s, partner="bank_b")["matched"] == 0


def test_a_closed_line_still_owing_moves_too(at: Any) -> None:
    from huabei.closures import service as closures

    s = at(D(2026, 11, 2))
    a = open_line(s, "hana")
    buy(s, a, 30_000)
    with s.engine.begin() as conn:  # closed by a sweep: no purchases, its bills still due
        conn.execute(
            t.credit_accounts.update()
            .where(t.credit_accounts.c.account_id == a)
            .values(state="closed", closed_on=D(2026, 11, 2))
        )
    b = open_line(s, "hana2")
    closures.close_by_user(s, b)  # owes nothing: only handed to the platform
    rep = funding.migrate(s, partner="bank_a")
    assert [(x["account_id"], x["state"], x["effect"]) for x in rep["lines"]] == [
        (a, "closed", "move"),
        (b, "closed", "refund_to_platform"),
    ]
    assert (rep["moved"], rep["failed"]) == (1, 0)  # a line owing nothing is not counted as moved
    n = rep["lines"][0]["to_account_id"]
    new = accounts.account_view(s, n)
    assert (new["status"], new["funding_source"], new["used"]) == ("closed", "bank_a", 30_000)
    assert accounts.account_view(s, a)["used"] == 0
    assert [accounts.account_view(s, i)["funding_source"] for i in (a, b)] == ["platform", "platform"]
    eod.run_eod(s, until=D(2026, 12, 2))  # its bill closes on the 信用购 line
    assert [x["period"] for x in billing_views.list_bills(s, n)] == ["2026-12"]
    check_books(s)
    assert funding.migrate(s, partner="bank_a")["matched"] == 0


@pytest.mark.parametrize(
    ("base", "principal", "expected"),
    [
        (500_000, 120_000, (380_000, 120_000)),  # what it carries, rounded up to the step
        (500_000, 12_345, (450_000, 50_000)),  # the 信用购 line gets at least the minimum
        (500_000, 480_000, (50_000, 480_000)),  # the 花呗 line keeps at least the minimum
        (60_000, 55_000, (50_000, 60_000)),
        (30_000, 20_000, (0, 50_000)),  # a line below the minimum (an operator's) keeps what is left
        (500_000, 0, (500_000, 0)),
    ],
)
def test_the_limit_split_has_a_floor(base: int, principal: int, expected: tuple[int, int]) -> None:
    from huabei.funding.rules import split_limit

    assert split_limit(base, principal, 10_000, 50_000) == expected


def test_the_diagnosis_tells_the_user_where_the_balance_went(at: Any) -> None:
    from huabei.diagnosis import service as diagnosis

    s = at(D(2026, 11, 2))
    a = open_line(s, "erin")
    b = open_line(s, "fay")
    buy(s, a, 25_000)
    rep = funding.migrate(s, partner="bank_a")
    n = rep["lines"][0]["to_account_id"]

    def funding_check(account_id: int, locale: str) -> dict[str, Any]:
        d = diagnosis.diagnosis(s, account_id, locale=locale)
        (c,) = [c for c in d["checks"] if c["code"] == "funding"]
        return c

    old_en, old_zh = funding_check(a, "en"), funding_check(a, "zh_CN")
    assert old_en["data"]["to_account_id"] == n and old_en["data"]["amount"] == 25_000
    assert "250.00 yuan" in old_en["text"] and f"no. {n}" in old_en["text"] and "repay it there" in old_en["text"]
    assert "250.00元" in old_zh["text"] and "信用购" in old_zh["text"] and f"编号 {n}" in old_zh["text"]
    new_zh = funding_check(n, "zh_CN")
    assert new_zh["data"]["from_account_id"] == a and f"编号 {a}" in new_zh["text"] and "账单" in new_zh["text"]
    assert "nothing you owed moved" in funding_check(b, "en")["text"]


def test_purchases_moved_to_xinyonggou_still_count_as_the_huabei_lines_use(at: Any) -> None:
    from huabei.risk import features

    s = at(D(2026, 11, 2))
    a = open_line(s, "gus")
    eod.run_eod(s, until=D(2026, 11, 20))
    buy(s, a, 8_000)
    funding.migrate(s, partner="bank_a")
    n = accounts.get_user(s, "gus")["xinyonggou_account_id"]
    eod.run_eod(s, until=D(2026, 11, 25))
    with s.engine.connect() as conn:
        v = features.compute(conn, ["days_since_last_purchase", "account_age_days"], D(2026, 11, 25), [a, n])
    # the 花呗 line opened 23 days ago; its last purchase (now on 信用购) was 5 days ago
    assert v[a]["account_age_days"] == 23 and v[a]["days_since_last_purchase"] == 5
    assert v[n]["days_since_last_purchase"] == 5
    assert [r["cause"] for r in accounts.account_view(s, a)["restrictions"]] == []


def test_every_receivable_carries_its_funder_and_keeps_it_when_it_moves(at: Any) -> None:
    s = at(D(2026, 10, 25))
    a = open_line(s, "ivy")
    c = open_line(s, "jon", funding_source="platform")
    for aid in (a, c):
        buy(s, aid, 120_000)
    eod.run_eod(s, until=D(2026, 11, 3))  # bills close on 11-01
    pid = buy(s, a, 60_000).body["purchase_id"]
    plans.create_purchase_installments(s, pid, 3, "inst-ivy")
    eod.run_eod(s, until=D(2026, 11, 13))  # ivy's bill overdue: penalty accrues
    receivables = (t.purchases, t.bills, t.bill_accruals, t.installment_plans, t.installment_periods)

    def funders() -> dict[str, set[tuple[int, str]]]:
        with s.engine.connect() as conn:
            return {
                tb.name: {(r[0], r[1]) for r in conn.execute(select(tb.c.account_id, tb.c.funding_source).distinct())}
                for tb in receivables
            }

    before = funders()
    assert before["bills"] == {(a, "bank_a"), (c, "platform")}
    assert before["bill_accruals"] == {(a, "bank_a"), (c, "platform")}  # the penalties of the overdue bills
    assert before["installment_plans"] == before["installment_periods"] == {(a, "bank_a")}
    n = funding.migrate(s, partner="bank_a")["lines"][0]["to_account_id"]
    after = funders()
    # each moved with its funder; nothing of the partner's stays on the 花呗 line
    for name, rows in after.items():
        assert {(x, f) for x, f in rows if x in (a, n)} == {(n, f) for x, f in before[name] if x == a}, name
    # what the 花呗 line writes from now on is the platform's, what the 信用购 line writes the partner's
    buy(s, a, 10_000)
    eod.run_eod(s, until=D(2026, 12, 2))
    later = funders()
    assert (a, "platform") in later["bills"] and (n, "bank_a") in later["bills"]
    assert {f for x, f in later["bills"] if x == a} == {"platform"}
    check_books(s)
