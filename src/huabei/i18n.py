"""User-facing text: gettext catalogs for zh_CN and en.

Message ids are the English sentences, marked in code with :func:`N_` so
``pybabel extract -k N_`` finds them (see ``docs/i18n.md``). Catalogs live in
``huabei/locale/<locale>/LC_MESSAGES/huabei.po`` and are read with Babel at first
use (no compiled ``.mo`` build step). ``translate(msgid, "zh_CN", **params)``
returns the translated, formatted text; a missing translation falls back to the
English text (a test checks that none is missing).
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from babel.messages.pofile import read_po

LOCALE_DIR = Path(__file__).parent / "locale"
DOMAIN = "huabei"
LOCALES = ("en", "zh_CN")
DEFAULT_LOCALE = "en"


def N_(message: str) -> str:
    """Mark a string for extraction without translating it here."""
    return message


def normalise_locale(value: str | None) -> str:
    """Map 'zh', 'zh-CN', 'zh_CN', 'zh-Hans' … to 'zh_CN'; anything else to 'en'."""
    if not value:
        return DEFAULT_LOCALE
    v = value.split(",")[0].split(";")[0].strip().replace("-", "_").lower()
    if v.startswith("zh"):
        return "zh_CN"
    return "en"


@cache
def catalog(locale: str) -> dict[str, str]:
    """msgid -> translated text for ``locale`` (empty translations left out)."""
    path = LOCALE_DIR / locale / "LC_MESSAGES" / f"{DOMAIN}.po"
    if not path.exists():
        return {}
    with path.open("rb") as fh:
        cat = read_po(fh, locale=locale)
    out: dict[str, str] = {}
    for msg in cat:
        if msg.id and msg.string and not msg.fuzzy:
            out[str(msg.id)] = str(msg.string)
    return out


def translate(msgid: str, locale: str = DEFAULT_LOCALE, /, **params: object) -> str:
    text = catalog(normalise_locale(locale)).get(msgid, msgid)
    if params:
        try:
            return text.format(**params)
        except (KeyError, IndexError, ValueError):
            return msgid.format(**params)
    return text
