"""The HTTP and CLI contracts stay byte-compatible: everything in the snapshot taken from main
before the packages were reorganised is still served, unchanged (additions are allowed)."""

from __future__ import annotations

import json

import pytest
from tests.contracts.contract import SNAPSHOT, cli_tree, missing_or_changed, openapi_document


def _snapshot(name: str) -> dict:
    return json.loads((SNAPSHOT / name).read_text(encoding="utf-8"))


@pytest.mark.smoke
@pytest.mark.parametrize(("name", "current"), [("openapi.json", openapi_document), ("cli.json", cli_tree)])
def test_everything_in_the_snapshot_is_unchanged(name: str, current) -> None:
    problems = missing_or_changed(_snapshot(name), current())
    assert not problems, f"{name}: the contract changed:\n" + "\n".join(problems[:50])


@pytest.mark.smoke
def test_the_comparison_sees_a_removed_or_changed_entry_and_allows_an_added_one() -> None:
    old = {"paths": {"/a": {"get": {"responses": {"200": {}}}}}, "help": "", "required": ["x"]}
    assert (
        missing_or_changed(
            old, {**old, "paths": {"/a": {"get": {"responses": {"200": {}, "404": {}}}}, "/b": {}}, "help": "filled in"}
        )
        == []
    )
    assert missing_or_changed(old, {**old, "paths": {}}) == ["/paths//a: removed"]
    assert missing_or_changed(old, {**old, "required": ["x", "y"]}) == ['/required: was ["x"], now ["x", "y"]']
