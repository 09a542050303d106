"""``GET /v1/accounts/{id}/diagnosis`` over HTTP (a live server, both databases): the language from
``lang`` or ``Accept-Language``, structured data beside the texts, 404 / 400 with stable codes."""

from __future__ import annotations

import pytest
from tests.conftest import buy, new_account

from huabei.money import yuan
from huabei.restrictions import service as restrictions


@pytest.mark.smoke
def test_diagnosis_in_both_languages_with_structured_data(api, system):
    acct = new_account(system, yuan("2000.00"))
    buy(system, acct, yuan("100.00"))
    restrictions.place_restriction(system, acct, cause="wrong_password_lockout", evidence={"attempts": 5})

    en = api.get(f"/v1/accounts/{acct}/diagnosis")
    assert en.status_code == 200, en.text
    body = en.json()
    assert body["locale"] == "en" and body["state"] == "frozen"
    (f,) = body["findings"]
    assert f["code"] == "wrong_password_lockout" and f["data"]["attempts"] == 5 and f["lifts_on"] == "2026-11-03"
    assert f["message"] == "The payment password was entered wrongly 5 times in a row."
    assert f["lifts"] == "It unlocks by itself on November 3, 2026."

    zh = api.get(f"/v1/accounts/{acct}/diagnosis", params={"lang": "zh-CN"}).json()
    assert zh["locale"] == "zh_CN" and zh["findings"][0]["message"] == "支付密码连续输错5次。"
    assert zh["findings"][0]["data"] == f["data"]  # the same structured content whatever the language
    by_header = api.get(f"/v1/accounts/{acct}/diagnosis", headers={"Accept-Language": "zh-CN,zh;q=0.9"}).json()
    assert by_header["summary"] == zh["summary"] and "2026年11月3日" in zh["summary"]
    # lang wins over the header
    assert api.get(f"/v1/accounts/{acct}/diagnosis?lang=en", headers={"Accept-Language": "zh"}).json()["locale"] == "en"


def test_diagnosis_refusals_are_4xx_with_stable_codes(api, system):
    assert api.get("/v1/accounts/424242/diagnosis").json()["error"]["code"] == "account_not_found"
    assert api.get("/v1/accounts/999999/diagnosis").status_code == 404
    acct = new_account(system)
    bad = api.get(f"/v1/accounts/{acct}/diagnosis", params={"lang": "fr"})
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "invalid_request"


def test_limit_advice_over_http(api, system):
    acct = new_account(system, yuan("1000.00"))
    buy(system, acct, yuan("900.00"))
    body = api.get(f"/v1/accounts/{acct}/limit-advice", headers={"Accept-Language": "zh-CN"}).json()
    assert body["locale"] == "zh_CN" and body["base_limit"] == "1000.00" and body["next_review"]
    codes = [a["code"] for a in body["actions"]]
    assert "lower_utilisation" in codes
    utilisation = body["actions"][codes.index("lower_utilisation")]
    assert utilisation["data"]["repay"] == "600.00" and "600.00元" in utilisation["message"]
    assert all(a["effect"].startswith("预计效果") for a in body["actions"])
    assert api.get("/v1/accounts/424242/limit-advice").json()["error"]["code"] == "account_not_found"
