"""A request that fails validation, in Chinese: pydantic writes its messages in English only, so
each kind of validation error has its words in the catalogs (the English answer keeps pydantic's
message; the Chinese one says the same from here)."""

from __future__ import annotations

from typing import Any

from huabei.i18n import N_, translate

_REQUIRED = N_("this field is required")
_WHOLE = N_("must be a whole number")
_BOOL = N_("must be true or false")
_DATE = N_("must be a date written as YYYY-MM-DD")
_OBJECT = N_("must be an object")
_ONE_OF = N_("must be one of {expected}")

TEXTS: dict[str, str] = {
    "missing": _REQUIRED,
    "extra_forbidden": N_("this field is not allowed here"),
    "string_too_long": N_("at most {max_length} characters"),
    "string_too_short": N_("at least {min_length} characters"),
    "too_long": N_("at most {max_length} items"),
    "too_short": N_("at least {min_length} items"),
    "greater_than_equal": N_("must be at least {ge}"),
    "greater_than": N_("must be greater than {gt}"),
    "less_than_equal": N_("must be at most {le}"),
    "less_than": N_("must be less than {lt}"),
    "int_parsing": _WHOLE,
    "int_type": _WHOLE,
    "int_from_float": _WHOLE,
    "bool_parsing": _BOOL,
    "bool_type": _BOOL,
    "string_type": N_("must be a string"),
    "literal_error": _ONE_OF,
    "enum": _ONE_OF,
    "string_pattern_mismatch": N_("does not have the expected format"),
    "date_parsing": _DATE,
    "date_type": _DATE,
    "date_from_datetime_parsing": _DATE,
    "dict_type": _OBJECT,
    "model_type": _OBJECT,
    "model_attributes_type": _OBJECT,
    "list_type": N_("must be a list"),
}
OTHER = N_("is not valid")


def explain(error: dict[str, Any], locale: str) -> str:
    """One validation error's words in ``locale`` (its limits filled from pydantic's context)."""
    msgid = TEXTS.get(str(error.get("type")), OTHER)
    ctx = {k: str(v) for k, v in (error.get("ctx") or {}).items()}
    try:
        return translate(msgid, locale, **ctx)
    except (KeyError, IndexError):  # a context without the limit this text names
        return translate(OTHER, locale)
