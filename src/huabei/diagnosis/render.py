"""Words and data of a diagnosis or an advice: each sentence translated from the gettext catalogs
(zh_CN, en) with its money, dates and numbers formatted for the reader's locale by Babel; and the
same content as plain data (yuan strings, ISO dates, codes) for the host app's own screens (pure).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from babel.dates import format_date, format_skeleton, format_time
from babel.lists import format_list
from babel.numbers import format_decimal

from huabei import reasons
from huabei.diagnosis.vocabulary import Code, Fen, Param, Period, Sentence, Term, TermList
from huabei.i18n import N_, normalise_locale, translate
from huabei.money import format_yuan

#: Locales a diagnosis is written in (gettext catalog names).
LOCALES = ("zh_CN", "en")

#: Headings of the printed diagnosis and advice.
LABELS: dict[str, str] = {
    "action": N_("What to do"),
    "lifts": N_("When it lifts"),
    "checks": N_("Checked for you"),
    "warnings": N_("Watch out"),
    "held_down": N_("What holds your limit down"),
}


#: A time on a day ("10:00 AM on November 3, 2026", "2026年11月3日10:00").
MOMENT = N_("{time} on {date}")


def labels(locale: str) -> dict[str, str]:
    return {k: translate(v, locale) for k, v in LABELS.items()}


def negotiate(lang: str | None, accept_language: str | None) -> str:
    """The reader's locale: ``lang`` (``zh-CN``, ``en`` …) if given, else the first language of
    ``Accept-Language`` we write in, else English."""
    if lang:
        return normalise_locale(lang)
    for part in (accept_language or "").split(","):
        tag = part.split(";")[0].strip().lower()
        if tag.startswith("zh"):
            return "zh_CN"
        if tag.startswith("en"):
            return "en"
    return "en"


def money(fen: int, locale: str) -> str:
    return format_decimal(Decimal(fen) / 100, format="#,##0.00", locale=locale)


def day(value: dt.date, locale: str) -> str:
    return format_date(value, format="long", locale=locale)


def moment(value: dt.datetime, locale: str) -> str:
    when = format_time(value, format="short", tzinfo=value.tzinfo, locale=locale)
    return translate(MOMENT, locale, time=when, date=format_date(value.date(), format="long", locale=locale))


def month(period: str, locale: str) -> str:
    try:
        first = dt.date.fromisoformat(f"{period}-01")
    except ValueError:
        return period
    return format_skeleton("yMMMM", first, locale=locale)


def listing(items: list[str], locale: str) -> str:
    """Items as a list in ``locale``: "a, b and c" / "a、b和c"."""
    return format_list(items, locale=locale) if items else ""


def code_text(code: str, locale: str, params: Mapping[str, str]) -> str:
    """A reason code's message, its placeholders filled from ``params`` (already formatted) or
    left out with the colon before them."""
    missing = reasons.placeholders(code) - set(params)
    text = reasons.message(code, locale, **{**dict.fromkeys(missing, ""), **params})
    return text.rstrip().rstrip(":：").rstrip() if missing else text


def _format(value: Param, locale: str, formatted: Mapping[str, str]) -> str:
    if isinstance(value, Fen):
        return money(int(value), locale)
    if isinstance(value, Period):
        return month(str(value), locale)
    if isinstance(value, TermList):
        return listing([translate(str(t), locale) for t in value], locale)
    if isinstance(value, Term):
        return translate(str(value), locale)
    if isinstance(value, dt.datetime):
        return moment(value, locale)
    if isinstance(value, dt.date):
        return day(value, locale)
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return format_decimal(value, locale=locale)
    return str(value)


def text(sentence: Sentence | None, locale: str) -> str | None:
    """The sentence in ``locale``."""
    if sentence is None:
        return None
    locale = normalise_locale(locale)
    plain = {k: _format(v, locale, {}) for k, v in sentence.params.items() if not isinstance(v, Code)}
    for k, v in sentence.params.items():
        if isinstance(v, Code):
            plain[k] = code_text(str(v), locale, plain)
    return translate(sentence.msgid, locale, **plain)


def plain(value: Any) -> Any:
    """A parameter or data value as JSON: money as a yuan string, dates ISO, codes as strings."""
    if isinstance(value, Fen):
        return format_yuan(int(value))
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if isinstance(value, str):
        return str(value)
    return value


def sentence_data(sentence: Sentence | None, locale: str) -> dict[str, Any] | None:
    """``{"text", "msgid", "params"}``: the rendered sentence beside what it was made of."""
    if sentence is None:
        return None
    return {"text": text(sentence, locale), "msgid": sentence.msgid, "params": plain(dict(sentence.params))}
