"""A request that fails validation is answered in Chinese in Chinese (pydantic's English stays in
``message``), on SQLite and PostgreSQL."""

from __future__ import annotations

import re

from tests.conftest import new_account

LATIN_WORDS = re.compile(r"\b(?!due_day\b|user_id\b|term\b|phone\b|true\b|false\b|YYYY)[A-Za-z]{3,}\b")


def test_validation_messages_are_chinese_in_chinese(api, system) -> None:
    acct = new_account(system)
    cases = [
        ("put", f"/v1/accounts/{acct}/due-day", {}, "due_day：缺少此字段"),
        ("put", f"/v1/accounts/{acct}/due-day", {"due_day": "x"}, "due_day：必须是整数"),
        ("post", "/v1/users", {"user_id": "u" * 65, "name": "李华", "phone": "13800000000"}, "user_id：最多 64 个字符"),
        ("post", f"/v1/accounts/{acct}/bills/2026-11/installment-quotes", {"term": 3, "x": 1}, "不允许出现此字段"),
    ]
    for method, path, body, expected in cases:
        r = api.request(method.upper(), path, json=body)
        assert r.status_code == 400, (path, r.text)
        err = r.json()["error"]
        assert err["code"] == "invalid_request" and expected in err["message_zh"], err
        assert err["message_zh"].startswith("请求无效：") and not LATIN_WORDS.search(err["message_zh"]), err
        assert err["message"].startswith("The request is not valid:")
