"""The score's five dimensions, its bands and the texts of its reasons (gettext msgids, read in
Chinese from the zh_CN catalog). Pure."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from huabei.i18n import N_, translate
from huabei.reasons import SCORE_REASON_CODES
from huabei.reasons import get as _get_reason


def _reason_remedy(code: str) -> str:
    reason = _get_reason(code)
    if reason is None or reason.remedy is None:
        raise RuntimeError(f"score reason {code!r} is not registered with a remedy in huabei.reasons")
    return reason.remedy


# ---------------------------------------------------------------------------------------
# Dimensions, bands, reason texts
# ---------------------------------------------------------------------------------------

#: The five dimensions of the score, in display order.
DIMENSIONS: tuple[str, ...] = ("credit_history", "behaviour", "capacity", "identity", "connections")

#: The dimensions' names (gettext msgids; :data:`DIMENSION_ZH` gives the Chinese users see).
DIMENSION_NAMES: dict[str, str] = {
    "credit_history": N_("Credit history"),
    "behaviour": N_("Behaviour"),
    "capacity": N_("Capacity to repay"),
    "identity": N_("Identity"),
    "connections": N_("Connections"),
}

#: Score bands as (code, lowest score of the band). A band runs from its lower bound
#: (inclusive) to the next band's lower bound (exclusive): 350–549 poor, 550–599 fair,
#: 600–649 good, 650–699 very good, 700–950 excellent. 600, the opening threshold, is
#: therefore the first "good" score.
BANDS: tuple[tuple[str, int], ...] = (
    ("poor", 350),
    ("fair", 550),
    ("good", 600),
    ("very_good", 650),
    ("excellent", 700),
)

#: The band names (gettext msgids; :data:`BAND_ZH` gives the Chinese users see).
BAND_NAMES: dict[str, str] = {
    "poor": N_("Poor"),
    "fair": N_("Fair"),
    "good": N_("Good"),
    "very_good": N_("Very good"),
    "excellent": N_("Excellent"),
}

#: At most this many reason codes are returned with a score.
MAX_REASONS = 4

#: What to do about each reason code, in English: the remedies registered with the reason
#: codes in :mod:`huabei.reasons` (the gettext msgids). Codes are stable API.
REASON_TEXT: dict[str, str] = {code: _reason_remedy(code) for code in SCORE_REASON_CODES}


class _TranslatedTexts(Mapping[str, str]):
    """The same texts in one locale, looked up in the gettext catalog on access (the module
    stays free of I/O at import)."""

    def __init__(self, texts: Mapping[str, str], locale: str):
        self._texts, self._locale = texts, locale

    def __getitem__(self, code: str) -> str:
        return translate(self._texts[code], self._locale)

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter(self._texts)

    def __len__(self) -> int:
        return len(self._texts)


#: 中文 / the same reason texts in Chinese, from the zh_CN catalog.
REASON_TEXT_ZH: Mapping[str, str] = _TranslatedTexts(REASON_TEXT, "zh_CN")
#: The dimensions' and the bands' names in Chinese, from the zh_CN catalog.
DIMENSION_ZH: Mapping[str, str] = _TranslatedTexts(DIMENSION_NAMES, "zh_CN")
BAND_ZH: Mapping[str, str] = _TranslatedTexts(BAND_NAMES, "zh_CN")


_BAND_LOWS = np.array([lower for _, lower in BANDS], dtype=np.int64)
_BAND_CODES = np.array([code for code, _ in BANDS], dtype=object)


def band_indices(scores: Any) -> np.ndarray:
    """The index into :data:`BANDS` of each score: the band with the largest lower bound at
    or below it (below every bound: the first band). The one statement of the banding rule."""
    idx = np.searchsorted(_BAND_LOWS, np.asarray(scores, dtype=np.int64), side="right") - 1
    return np.clip(idx, 0, len(BANDS) - 1)


def bands_of(scores: Any) -> np.ndarray:
    """:func:`band_of` over an array of scores (an object array of band codes)."""
    codes: np.ndarray = _BAND_CODES[band_indices(scores)]
    return codes


def band_of(score: int) -> str:
    """The band code (``poor`` … ``excellent``) of a score; :data:`BAND_ZH` names it."""
    return BANDS[int(band_indices(score))][0]
