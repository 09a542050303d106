"""Every user-facing text has a Chinese translation, and the catalogs match the code."""

import re
import subprocess
import sys
from pathlib import Path

from babel.messages.pofile import read_po

from huabei import reasons
from huabei.entrypoints.web import pages
from huabei.i18n import LOCALE_DIR, catalog, normalise_locale, translate

ROOT = Path(__file__).resolve().parents[2]


def _page_strings():
    out = [v for k, v in vars(pages).items() if k.startswith("T_") and isinstance(v, str)]
    return out + list(pages.T_STATUS_NAMES.values())


def test_every_reason_and_page_text_has_a_chinese_translation():
    zh = catalog("zh_CN")
    texts = [r.message for r in reasons.all_reasons()] + [r.remedy for r in reasons.all_reasons() if r.remedy]
    missing = [t for t in texts + _page_strings() if t not in zh]
    assert not missing, f"untranslated in zh_CN: {missing}"


def test_translations_keep_their_placeholders():
    zh = catalog("zh_CN")
    for msgid, text in zh.items():
        assert set(re.findall(r"{(\w+)}", msgid)) == set(re.findall(r"{(\w+)}", text)), msgid


def test_catalog_template_is_in_sync_with_the_code(tmp_path):
    pot = tmp_path / "huabei.pot"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "babel.messages.frontend",
            "extract",
            "-F",
            str(ROOT / "babel.cfg"),
            "-k",
            "N_",
            "--no-location",
            "--sort-output",
            "-o",
            str(pot),
            str(ROOT),
        ],
        check=True,
        capture_output=True,
        cwd=ROOT,
    )
    in_code = {m.id for m in read_po(pot.open("rb")) if m.id}
    in_po = {m.id for m in read_po((LOCALE_DIR / "zh_CN/LC_MESSAGES/huabei.po").open("rb")) if m.id}
    assert in_code - in_po == set(), "run the pybabel update described in docs/i18n.md"


def test_locale_negotiation_and_formatting():
    assert normalise_locale("zh-CN,zh;q=0.9") == "zh_CN"
    assert normalise_locale("en-US") == "en" and normalise_locale(None) == "en"
    assert translate("No user with id {user_id}.", "zh", user_id="u1") == "没有用户 u1。"
    assert translate("No user with id {user_id}.", "en", user_id="u1") == "No user with id u1."


def test_render_gives_both_languages_and_the_cause_remedy():
    body = reasons.render("account_frozen", {"cause": "wrong_password_lockout"})
    assert "密码" in body["message_zh"] and "password" in body["message"]
    assert body["remedy"] and "24" in body["remedy"] and body["remedy_zh"]
