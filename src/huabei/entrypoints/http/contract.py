"""What the OpenAPI document states beyond what FastAPI derives from the routes, so that it says
what the server really accepts and every answer it gives (tests/api/test_fuzz.py runs schemathesis
against it; docs/api.md).

- Every operation documents ``400`` (any request can be malformed: a control character in the
  query is refused before a route runs), ``413`` where it takes a body (``edge.BodyLimit``), and
  every error answer as JSON in the error shape — also on routes whose success is plain text.
- The edge refuses a control character (NUL …) or a lone surrogate in every text it is sent
  (``schemas.bad_character``): every string of a parameter or a request body that does not already
  constrain its characters (a pattern, an enum, a format) carries :data:`PRINTABLE`, and a
  free-form object's keys and texts do too (:data:`PRINTABLE_JSON`).
- What the product's terms allow is stated where a request names it (merchant categories, the
  payment password's digits, funding sources): the document follows the installation's configuration.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

from fastapi import FastAPI

from huabei.config import ProductTerms

#: Text without the characters ``schemas.bad_character`` refuses: the controls of Unicode category
#: Cc but tab, line feed and carriage return. (Lone surrogates, refused too, cannot be written in
#: UTF-8 JSON at all; a pattern naming them is not portable across regex engines.)
PRINTABLE = "^[^\\x00-\\x08\\x0b\\x0c\\x0e-\\x1f\\x7f-\\x9f]*$"
_ERROR_REF = {"$ref": "#/components/schemas/ErrorOut"}
_JSON_REF = "#/components/schemas/PrintableJson"
#: Any JSON value whose texts and keys are printable (restriction evidence).
PRINTABLE_JSON: dict[str, Any] = {
    "title": "PrintableJson",
    "description": "Any JSON value; every text and key in it without control characters",
    "anyOf": [
        {"type": "null"},
        {"type": "boolean"},
        {"type": "number"},
        {"type": "string", "pattern": PRINTABLE},
        {"type": "array", "items": {"$ref": _JSON_REF}},
        {"type": "object", "additionalProperties": {"$ref": _JSON_REF}, "propertyNames": {"pattern": PRINTABLE}},
    ],
}
_ALWAYS = {
    "400": "Invalid request",
}
_WITH_BODY = {"413": "The request body is larger than the server accepts (request_too_large)"}
_METHODS = ("get", "put", "post", "delete", "patch")


def document(app: FastAPI, terms: ProductTerms) -> None:
    """Wrap ``app.openapi`` (after ``auth.document``) with :func:`complete`."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        app.openapi_schema = complete(build(), terms)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def complete(doc: dict[str, Any], terms: ProductTerms) -> dict[str, Any]:
    """The document with the error answers, the printable-text rule and the product's terms
    stated (see the module)."""
    doc = copy.deepcopy(doc)
    components = doc.setdefault("components", {}).setdefault("schemas", {})
    _product_terms(components, terms)
    components.setdefault("PrintableJson", PRINTABLE_JSON)
    request_refs: set[str] = set()
    for ops in doc.get("paths", {}).values():
        for method in _METHODS:
            op = ops.get(method)
            if not isinstance(op, dict):
                continue
            responses = op.setdefault("responses", {})
            answers = dict(_ALWAYS)
            if "requestBody" in op:
                answers.update(_WITH_BODY)
            for status, text in answers.items():
                responses.setdefault(status, {"description": text})
            for status, response in responses.items():
                if str(status)[0] in "45":
                    response["content"] = {"application/json": {"schema": dict(_ERROR_REF)}}
            for parameter in op.get("parameters", []):
                if "schema" in parameter and parameter.get("in") in ("path", "query"):  # headers are Latin-1 anyway
                    _printable(parameter["schema"], lambda ref: None)
            for media in op.get("requestBody", {}).get("content", {}).values():
                if "schema" in media:
                    _printable(media["schema"], request_refs.add)
    seen: set[str] = set()
    while request_refs - seen:
        name = (request_refs - seen).pop()
        seen.add(name)
        if name in components and name != "PrintableJson":
            _printable(components[name], request_refs.add)
    return doc


def _product_terms(components: dict[str, Any], terms: ProductTerms) -> None:
    """What the product's terms allow, where a request names it: the merchant categories (a
    refused one is declined, 402), the activity categories, the payment password's digits, the
    funding sources (``platform`` and the partners)."""
    cats = terms.categories
    sources = list(terms.funding.codes())
    _narrow(components, "AccountIn", "funding_source", {"enum": sources})
    _narrow(components, "WindowIn", "partner", {"enum": sources})
    _narrow(components, "PurchaseIn", "merchant_category", {"enum": [*cats.allowed, *cats.refused]})
    _narrow(components, "ActivityEventIn", "category", {"enum": list(cats.allowed)})
    _narrow(components, "PaymentPasswordIn", "password", {"pattern": f"^[0-9]{{{terms.passwords.digits}}}$"})


def _narrow(components: dict[str, Any], model: str, field: str, rule: dict[str, Any]) -> None:
    """Add ``rule`` to the string schema of ``model.field`` (the non-null branch of a nullable one)."""
    prop = components[model]["properties"][field]
    for branch in prop.get("anyOf", [prop]):
        if branch.get("type") == "string":
            branch.update(rule)
            return
    raise ValueError(f"{model}.{field} is not a string")


def _printable(schema: Any, found_ref: Callable[[str], None]) -> None:
    """Add :data:`PRINTABLE` to every unconstrained string of ``schema`` (in place); report the
    components it refers to."""
    if isinstance(schema, list):
        for item in schema:
            _printable(item, found_ref)
        return
    if not isinstance(schema, dict):
        return
    ref = schema.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/components/schemas/"):
        found_ref(ref.rsplit("/", 1)[1])
    if schema.get("type") == "string" and not {"pattern", "enum", "const", "format"} & schema.keys():
        schema["pattern"] = PRINTABLE
    if schema.get("type") == "object" and schema.get("additionalProperties") in (True, {}):
        schema["additionalProperties"] = {"$ref": _JSON_REF}
        schema["propertyNames"] = {"pattern": PRINTABLE}
    for key in ("properties", "$defs"):
        for sub in (schema.get(key) or {}).values():
            _printable(sub, found_ref)
    for key in ("items", "additionalProperties", "anyOf", "oneOf", "allOf", "not", "prefixItems"):
        if key in schema:
            _printable(schema[key], found_ref)
