"""A request that fails validation is answered in Chinese in Chinese (pydantic's English stays in
``message``), on SQLite and PostgreSQL."""

from __future__ import annotations

import re

import pytest
from tests.conftest import new_account

LATIN_WORDS = re.compile(r"\b(?!true\b|false\b|YYYY)[A-Za-z]{3,}\b")
LATIN = re.compile(r"[A-Za-z]")
#: not English: the JSON values to send, and a name the client sent, quoted as sent
JSON_WORDS = re.compile(r"\b(true|false|null)\b|“[^”]*”")


def test_validation_messages_are_chinese_in_chinese(api, system) -> None:
    acct = new_account(system)
    cases = [
        ("put", f"/v1/accounts/{acct}/due-day", {}, "还款日：缺少此字段"),
        ("put", f"/v1/accounts/{acct}/due-day", {"due_day": "x"}, "还款日：必须是整数"),
        (
            "post",
            "/v1/users",
            {"user_id": "u" * 65, "name": "李华", "phone": "13800000000"},
            "用户编号：最多 64 个字符",
        ),
        ("post", f"/v1/accounts/{acct}/bills/2026-11/installment-quotes", {"term": 3, "x": 1}, "不允许出现此字段"),
    ]
    for method, path, body, expected in cases:
        r = api.request(method.upper(), path, json=body)
        assert r.status_code == 400, (path, r.text)
        err = r.json()["error"]
        assert err["code"] == "invalid_request" and expected in err["message_zh"], err
        assert err["message_zh"].startswith("请求无效：") and not LATIN_WORDS.search(err["message_zh"]), err
        assert err["message"].startswith("The request is not valid:")


def test_chinese_refusals_name_fields_in_chinese_and_carry_no_english(api, system) -> None:
    """Refusals from the schema (pydantic) and from the services, read in Chinese: the field in
    Chinese words (nested ones joined by ·, list items as 第n项), the rule in Chinese, no Latin
    letter at all — while the English message keeps the API's field names."""
    acct = new_account(system, user_id="zh1")
    user = {"user_id": "zh2", "name": "李华", "phone": "13800000000", "real_name_verified": True}
    cases = [
        (
            "post",
            "/v1/users",
            {**user, "profile": {"occupation": "x" * 101}},
            "个人资料·职业：最多 100 个字符",
            "profile.occupation",
        ),
        ("post", "/v1/users", {**user, "profile": {"vehicle": "yes"}}, "个人资料·车辆：", "profile.vehicle"),
        (
            "put",
            "/v1/users/zh1/contacts",
            {"contacts": [{"user_id": "zh1", "verified": "perhaps"}]},
            "联系人·第1项·已核实",
            "contacts.0.verified",
        ),
        ("patch", "/v1/users/zh1", {}, "请提供手机号、银行卡，或两者都提供", "give a phone number"),
        (
            "post",
            "/v1/admin/eod",
            {"date": "2026-11-02", "until": "2026-11-03"},
            "日期和截止日期只能提供其中一个",
            "not both",
        ),
        (
            "put",
            "/v1/users/zh1/contacts",
            {"contacts": [{"user_id": "zh1"}]},
            "用户不能把自己设为联系人",
            "their own contact",
        ),
        ("put", f"/v1/accounts/{acct}/due-day", {"due_day": 9, "x": 1}, "“x”：不允许出现此字段", "x: "),
    ]
    for method, path, body, expected, english in cases:
        r = api.request(method.upper(), path, json=body, headers={"Accept-Language": "zh-CN"})
        assert 400 <= r.status_code < 500, (path, r.status_code, r.text)
        err = r.json()["error"]
        assert expected in err["message_zh"], (path, err)
        assert not LATIN.search(JSON_WORDS.sub("", err["message_zh"])), (path, err["message_zh"])
        assert english in err["message"], (path, err)
    assert api.get("/v1/users/zh2").status_code == 404


@pytest.mark.smoke
def test_every_field_of_the_document_has_a_chinese_name() -> None:
    """Every request field and parameter the served OpenAPI document names (and every fact a host
    may post) has its words in huabei.field_names, translated: a new field cannot slip through."""
    from tests.contracts.contract import openapi_document

    from huabei.field_names import LABELS
    from huabei.i18n import catalog
    from huabei.scoring.collect import ALL_FACT_SPECS

    doc = openapi_document()
    schemas = doc["components"]["schemas"]
    names: set[str] = set(ALL_FACT_SPECS)

    def walk(node: dict, seen: frozenset[str]) -> None:
        if "$ref" in node:
            ref = node["$ref"].split("/")[-1]
            if ref not in seen:
                walk(schemas[ref], seen | {ref})
            return
        for key, sub in node.get("properties", {}).items():
            names.add(key)
            walk(sub, seen)
        for key in ("items", "additionalProperties"):
            if isinstance(node.get(key), dict):
                walk(node[key], seen)
        for key in ("anyOf", "oneOf", "allOf"):
            for sub in node.get(key, []):
                walk(sub, seen)

    for ops in doc["paths"].values():
        for op in ops.values():
            names.update(p["name"] for p in op.get("parameters", []))
            for content in (op.get("requestBody") or {}).get("content", {}).values():
                walk(content["schema"], frozenset())
    assert len(names) > 90
    zh = catalog("zh_CN")
    assert sorted(n for n in names if n not in LABELS) == []
    assert sorted(n for n in names if LATIN.search(zh.get(LABELS[n], "x")) is not None) == []


#: Modules whose refusals only the command line or an operator's file meets, in English by design
#: (their ``detail`` names a file, a CEL compiler's message, a command-line option).
OPERATOR_ONLY = {
    "src/huabei/batch/runs.py",
    "src/huabei/batch/snapshot.py",
    "src/huabei/risk/backtest.py",
    "src/huabei/scoring/collect.py",
    "src/huabei/scoring/validation.py",
    "src/huabei/sweeps/rules.py",
}


@pytest.mark.smoke
def test_every_refusal_detail_a_user_can_meet_is_in_the_catalogs() -> None:
    """A refusal's ``detail`` is a catalog msgid (``N_``), translated, so its Chinese message says it
    in Chinese (huabei.reasons._words). Scans the source: a literal or f-string detail outside the
    operator-only modules fails; the exceptions are named here with why."""
    import ast
    from pathlib import Path

    from huabei.i18n import catalog

    echoes = {
        # the validation handler: pydantic's own message (the Chinese one is rebuilt from its type)
        "src/huabei/entrypoints/http/app.py",
        # the appeal form's evidence field echoed as the user sent it
        "src/huabei/entrypoints/web/customer.py",
        # a risk policy file's own errors (an operator's YAML), and a fact error's msgid passed on
        "src/huabei/risk/service.py",
        "src/huabei/scoring/service.py",
    }
    zh = catalog("zh_CN")
    wrong: list[str] = []
    seen = 0
    for path in sorted(Path("src/huabei").rglob("*.py")):
        name = str(path)
        if name in OPERATOR_ONLY or "/entrypoints/cli/" in name or "/simulation/" in name:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call):
                continue
            for kw in node.keywords:
                if kw.arg != "detail":
                    continue
                v = kw.value
                if isinstance(v, ast.Call) and getattr(v.func, "id", None) == "N_":
                    seen += 1
                    text = v.args[0].value  # type: ignore[attr-defined]
                    if not zh.get(text):
                        wrong.append(f"{name}:{node.lineno}: {text!r} has no Chinese")
                elif name not in echoes:
                    wrong.append(f"{name}:{node.lineno}: detail is not an N_() msgid")
    assert seen > 25
    assert not wrong, "\n".join(wrong)
