"""The diagnosis (诊断) through storage, on SQLite and PostgreSQL: a healthy line gets the honest
"nothing blocks you"; a line held back by normal use (a bill overdue, the limit used up, spending
left on an expired temporary limit) and by each restriction cause, placed with the evidence the
risk engine writes, is named with its evidence, what to do and when it lifts, in both languages."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from tests.conftest import buy, make_system, new_account

from huabei.batch import eod
from huabei.diagnosis import service as diagnosis
from huabei.errors import HuabeiError
from huabei.lines import service as accounts
from huabei.money import yuan
from huabei.payments import service as payments
from huabei.platform import admin
from huabei.restrictions import service as restrictions
from huabei.restrictions.causes import CAUSES

D = dt.date
CJK = re.compile(r"[\u4e00-\u9fff]")


@pytest.fixture
def s(db_url):
    system = make_system(db_url, start=D(2026, 10, 25))
    yield system
    system.engine.dispose()


def both(system, account_id: int) -> tuple[dict[str, Any], dict[str, Any]]:
    return diagnosis.diagnosis(system, account_id, "en"), diagnosis.diagnosis(system, account_id, "zh_CN")


def finding(view: dict[str, Any], code: str) -> dict[str, Any]:
    hits = [f for f in view["findings"] if f["code"] == code]
    assert hits, (code, [f["code"] for f in view["findings"]])
    return hits[0]


def all_text(view: dict[str, Any]) -> str:
    parts = [view["summary"]]
    for f in view["findings"]:
        parts += [f["message"], *f["evidence"], f["remedy"] or "", f["lifts"] or ""]
    parts += [c["text"] for c in view["checks"]]
    return "\n".join(parts)


@pytest.mark.smoke
def test_a_healthy_line_is_told_nothing_blocks_it(s):
    acct = new_account(s, yuan("5000.00"))
    buy(s, acct, yuan("88.80"))
    en, zh = both(s, acct)
    assert en["state"] == zh["state"] == "usable"
    assert en["findings"] == zh["findings"] == []
    assert en["summary"].startswith("Nothing blocks you") and "4,911.20" in en["summary"]
    assert zh["summary"].startswith("没有任何限制") and "4,911.20元" in zh["summary"]
    checks = {c["code"]: c for c in en["checks"]}
    assert checks["limit"]["data"] == {
        "base_limit": "5000.00",
        "temporary_limit": "0.00",
        "temporary_limit_expires_on": None,
        "used": "88.80",
        "available": "4911.20",
    }
    assert checks["overdue_bills"]["data"]["count"] == 0
    assert checks["recent_purchases"]["data"]["count"] == 1
    assert "October 25, 2026" in checks["recent_purchases"]["text"]
    zh_checks = {c["code"]: c["text"] for c in zh["checks"]}
    assert "2026年10月25日" in zh_checks["recent_purchases"]
    assert "花呗以此额度开通" in zh_checks["last_limit_change"]
    assert not CJK.search(all_text(en).replace("套现", "").replace("刷分", "").replace("信用购", ""))


def test_an_overdue_bill_made_by_normal_use_is_named_with_amount_days_and_remedy(s):
    acct = new_account(s, yuan("5000.00"))
    eod.run_eod(s, until=D(2026, 10, 25))
    buy(s, acct, yuan("1000.00"))
    eod.run_eod(s, until=D(2026, 11, 13))  # within the grace days: not reported (no overdue_reported yet)
    en, zh = both(s, acct)
    assert en["state"] == "frozen"
    f = finding(en, "bill_overdue")
    data = f["data"]
    assert data["days_past_due"] == 3 and data["due_date"] == "2026-11-10"
    outstanding = data["outstanding"]
    assert yuan(outstanding) >= yuan("1000.00")
    shown = f"{yuan(outstanding) // 100:,}.{yuan(outstanding) % 100:02d}"
    assert f"{shown} yuan" in f["message"] and "3 days overdue" in f["message"]
    assert f["remedy"].startswith(f"Repay {shown} yuan of the") and "penalty" in f["remedy"]
    assert f["lifts"]
    zf = finding(zh, "bill_overdue")
    assert f"{shown}元" in zf["message"] and "逾期3天" in zf["message"] and "罚息" in zf["remedy"]
    assert "2026年11月10日" in zf["message"]
    # repaying everything lifts it, and the diagnosis says so at once
    payments.repay(s, acct, yuan(outstanding), "repay-all")
    assert not [x for x in diagnosis.diagnosis(s, acct)["findings"] if x["code"] == "bill_overdue"]


def test_a_used_up_limit_and_an_overspent_temporary_limit(s):
    acct = new_account(s, yuan("1000.00"))
    buy(s, acct, yuan("1000.00"))
    en = diagnosis.diagnosis(s, acct)
    assert en["state"] == "usable_with_limits"
    assert finding(en, "limit_used_up")["message"] == "Your whole limit of 1,000.00 yuan is in use."

    other = new_account(s, yuan("1000.00"))
    accounts.grant_temporary_limit(s, other, amount=yuan("500.00"), expires_on=D(2026, 11, 1))
    view = diagnosis.diagnosis(s, other)
    limit = {c["code"]: c for c in view["checks"]}["limit"]
    assert limit["data"]["temporary_limit"] == "500.00" and limit["data"]["temporary_limit_expires_on"] == "2026-11-01"
    assert "valid through October 31, 2026" in limit["text"]
    buy(s, other, yuan("1300.00"))
    admin.set_business_date(s, D(2026, 11, 1))
    en, zh = both(s, other)
    f = finding(en, "temporary_limit_overspent")
    assert f["data"]["over_base_limit"] == "300.00" and f["data"]["temporary_limit_expired_on"] == "2026-11-01"
    assert "300.00 yuan" in f["message"] and f["remedy"].startswith("Repay at least 300.00 yuan")
    assert "300.00元" in finding(zh, "temporary_limit_overspent")["remedy"]


# Each cause, placed with the evidence the risk engine writes (docs/diagnosis.md lists the keys),
# and what the diagnosis must say about it in English and Chinese.
CASES: dict[str, tuple[dict[str, Any], str | None, list[str], list[str]]] = {
    # cause: (evidence, note, English fragments, Chinese fragments)
    "cash_out_suspected": (
        {"purchase_ids": ["PID"], "last_flagged_on": "2026-10-25"},
        None,
        ["One purchase looked like cash-out", "Purchase PID: 900.00 yuan at m-1 on October 25, 2026", "appeal"],
        ["疑似套现", "900.00元", "申诉"],
    ),
    "score_brushing_suspected": ({}, None, ["score brushing", "appeal"], ["刷分", "申诉"]),
    "score_below_threshold": (
        {"score": 580, "threshold": 600},
        None,
        ["Your credit score is 580, below the 600", "back at 600 or above"],
        ["580分", "600分"],
    ),
    "inactive_account": (
        {"last_purchase_on": "2026-10-25"},
        None,
        ["rarely used (last purchase on October 25, 2026)", "regularly"],
        ["2026年10月25日", "额度已被收回"],
    ),
    "account_takeover_suspected": (
        {"changes": [{"kind": "phone", "on": "2026-10-20"}, {"kind": "bank_card", "on": "2026-10-22"}]},
        None,
        ["changed 2 times", "Your phone number changed on October 20, 2026", "bank card", "Verify your identity"],
        ["手机号", "银行卡", "2026年10月22日", "验证身份"],
    ),
    "maintenance_window": (
        {"ends_at": "2026-10-26T06:00:00"},
        None,
        ["maintenance", "October 26, 2026", "6:00"],
        ["维护", "2026年10月26日", "06:00"],
    ),
    "brand_isolation": ({}, None, ["信用购", "repaying still work"], ["信用购", "还款不受影响"]),
    "wrong_password_lockout": (
        {"attempts": 5},
        None,
        ["wrongly 5 times", "reset your payment password", "October 26, 2026"],
        ["连续输错5次", "重置支付密码", "2026年10月26日"],
    ),
    "regulatory_tightening": ({}, None, ["regulation", "apply again"], ["监管", "重新申请"]),
    "overdue_reported": ({"period": "2026-09"}, None, ["reported to the credit bureau"], ["征信"]),
    "operator_hold": ({}, "identity check pending", ["identity check pending", "customer service"], ["客服"]),
}


def test_every_cause_has_a_case():
    assert set(CASES) == set(CAUSES)


@pytest.mark.parametrize("cause", sorted(CASES))
def test_each_restriction_is_named_with_evidence_remedy_and_lifting_in_both_languages(s, cause):
    evidence, note, en_parts, zh_parts = CASES[cause]
    acct = new_account(s, yuan("5000.00"))
    bought = buy(s, acct, yuan("900.00"))
    pid = bought.body["purchase_id"]
    evidence = {k: ([pid if x == "PID" else x for x in v] if isinstance(v, list) else v) for k, v in evidence.items()}
    en_parts = [p.replace("PID", str(pid)) for p in en_parts]
    placed = restrictions.place_restriction(s, acct, cause=cause, evidence=evidence, note=note)
    en, zh = both(s, acct)
    assert en["state"] == zh["state"] == "frozen"
    f, zf = finding(en, cause), finding(zh, cause)
    assert f["restriction_id"] == placed["restriction_id"] and f["kind"] == "restriction"
    assert f["data"]["evidence"] == placed["evidence"]
    assert f["lift_rule"] == CAUSES[cause].lift_rule.value
    assert f["lifts_on"] == placed["lifts_on"]
    assert f["remedy"] and zf["remedy"] and f["lifts"] and zf["lifts"]
    text, zh_text = all_text(en), all_text(zh)
    for part in en_parts:
        assert part in text, (part, text)
    for part in zh_parts:
        assert part in zh_text, (part, zh_text)
    assert CJK.search(zf["message"]) and CJK.search(zf["remedy"]) and CJK.search(zf["lifts"])


def test_findings_are_ordered_most_severe_first(s):
    acct = new_account(s, yuan("5000.00"))
    restrictions.place_restriction(s, acct, cause="wrong_password_lockout", evidence={"attempts": 5})
    restrictions.place_restriction(s, acct, cause="cash_out_suspected", evidence={})
    restrictions.place_restriction(s, acct, cause="maintenance_window", evidence={})
    codes = [f["code"] for f in diagnosis.diagnosis(s, acct)["findings"]]
    assert codes == ["cash_out_suspected", "wrong_password_lockout", "maintenance_window"]


def test_an_unknown_line_is_not_found(s):
    with pytest.raises(HuabeiError) as e:
        diagnosis.diagnosis(s, 999_999)
    assert e.value.code == "account_not_found"


def test_a_password_lock_made_by_wrong_passwords_says_when_it_ends(db_url):
    from zoneinfo import ZoneInfo

    from huabei.clock import ManualWallClock
    from huabei.config import PasswordTerms, ProductTerms
    from huabei.lines.purchase_rules import Channel, PurchaseRequest
    from huabei.passwords import service as passwords

    cheap = PasswordTerms(hash_time_cost=1, hash_memory_kib=4096, hash_parallelism=1)
    system = make_system(db_url, ProductTerms(passwords=cheap))
    system.wall_clock = ManualWallClock(dt.datetime(2026, 11, 2, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai")))
    try:
        acct = new_account(system, yuan("1000.00"))
        passwords.set_password(system, accounts.account_view(system, acct)["user_id"], "135790")

        def wrong(n: int) -> None:
            for i in range(n):
                req = PurchaseRequest(acct, 1_000, "m-1", "retail", Channel.ONLINE, "000000")
                with pytest.raises(HuabeiError):
                    payments.authorise_purchase(system, req, f"wrong-{n}-{i}")

        wrong(2)
        en = diagnosis.diagnosis(system, acct)
        assert en["state"] == "usable" and en["findings"] == []
        check = {c["code"]: c for c in en["checks"]}["payment_password"]
        assert check["data"] == {"failed_attempts": 2, "attempts_left": 3}
        assert check["text"] == "Payment password: 2 wrong in a row; 3 more wrong ones lock payments for a while."
        wrong(3)
        en, zh = both(system, acct)
        assert en["state"] == "frozen"
        f, zf = finding(en, "wrong_password_lockout"), finding(zh, "wrong_password_lockout")
        assert f["message"] == "The payment password was entered wrongly 5 times in a row."
        assert f["lifts"].replace("\u202f", " ") == "It unlocks by itself at 10:00 AM on November 3, 2026."
        assert zf["lifts"] == "将于2026年11月3日10:00自动解锁。"
        assert "reset your payment password" in f["remedy"] and "重置支付密码" in zf["remedy"]
        assert {c["code"]: c for c in zh["checks"]}["payment_password"]["text"] == (
            "支付密码：已锁定，2026年11月3日10:00解锁。"
        )
    finally:
        system.engine.dispose()


def test_a_maintenance_window_in_force_and_one_planned(db_url):
    from zoneinfo import ZoneInfo

    from huabei.clock import ManualWallClock
    from huabei.maintenance import service as maintenance

    sh = ZoneInfo("Asia/Shanghai")
    system = make_system(db_url)
    system.wall_clock = ManualWallClock(dt.datetime(2026, 11, 2, 10, 0, tzinfo=sh))
    try:
        acct = new_account(system, yuan("1000.00"))
        maintenance.schedule(
            system,
            starts_at=dt.datetime(2026, 11, 2, 9, 0, tzinfo=sh),
            ends_at=dt.datetime(2026, 11, 2, 12, 30, tzinfo=sh),
            reason="database upgrade",
            scope="everyone",
        )
        maintenance.schedule(
            system,
            starts_at=dt.datetime(2026, 11, 9, 1, 0, tzinfo=sh),
            ends_at=dt.datetime(2026, 11, 9, 3, 0, tzinfo=sh),
            reason="network work",
            scope="channel",
            target="offline",
        )
        en, zh = both(system, acct)
        assert en["state"] == "frozen"
        f, zf = finding(en, "maintenance_window"), finding(zh, "maintenance_window")
        assert f["kind"] == "maintenance" and f["message"] == "Huabei is paused for system maintenance."
        assert f["lifts"].replace("\u202f", " ") == "It resumes by itself at 12:30 PM on November 2, 2026."
        assert zf["lifts"] == "将于2026年11月2日12:30自动恢复。" and "还款不受影响" in zf["remedy"]
        planned = {c["code"]: c for c in zh["checks"]}["maintenance"]
        assert planned["text"] == "计划于2026年11月9日01:00至2026年11月9日03:00进行系统维护，届时花呗暂停使用。"
        assert planned["data"]["target"] == "offline"
        # the window ends: the line is usable again, the planned one still shows
        system.wall_clock = ManualWallClock(dt.datetime(2026, 11, 2, 13, 0, tzinfo=sh))
        later = diagnosis.diagnosis(system, acct)
        assert later["state"] == "usable" and "maintenance" in {c["code"] for c in later["checks"]}
    finally:
        system.engine.dispose()


def test_an_appeal_is_followed_from_open_to_its_decision(s):
    from huabei.appeals import service as appeals

    acct = new_account(s, yuan("5000.00"))
    assert "appeals" not in {c["code"] for c in both(s, acct)[0]["checks"]}  # no appeal, no such line
    with s.uow() as uow:
        rid = restrictions.place(uow, acct, "cash_out_suspected", {}, None, None, "risk")
        uow.commit()
    a = appeals.file_appeal(s, acct, restriction_id=rid, statement="I bought a phone for my mother.")
    en, zh = both(s, acct)
    check = {c["code"]: c for c in en["checks"]}["appeals"]
    assert check["data"]["appeal_id"] == a["appeal_id"] and check["data"]["status"] == "open"
    assert f"no. {a['appeal_id']}" in check["text"] and "waiting" in check["text"]
    assert "正在等待客服处理" in {c["code"]: c["text"] for c in zh["checks"]}["appeals"]
    appeals.decide(s, a["appeal_id"], decision="uphold", reason="pattern is clear", outcome="confirmed")
    en, zh = both(s, acct)
    assert {c["code"]: c for c in en["checks"]}["appeals"]["data"]["status"] == "upheld"
    assert "冻结维持不变" in {c["code"]: c["text"] for c in zh["checks"]}["appeals"]
    again = appeals.file_appeal(s, acct, restriction_id=rid, statement="Here is the receipt.")
    appeals.decide(s, again["appeal_id"], decision="lift", reason="receipt checked", outcome="false_positive")
    en, zh = both(s, acct)
    check = {c["code"]: c for c in en["checks"]}["appeals"]
    assert (check["data"]["appeal_id"], check["data"]["outcome"]) == (again["appeal_id"], "false_positive")
    assert (
        "freeze was lifted" in check["text"] and "冻结已解除" in {c["code"]: c["text"] for c in zh["checks"]}["appeals"]
    )
    assert en["state"] == "usable"
