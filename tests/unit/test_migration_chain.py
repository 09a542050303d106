"""The migrations are one linear chain (issue 13: "one linear migration chain"): one head, one
base, every revision with at most one parent and one child, and the files numbered in chain order. Two engineers adding a migration at once leave two heads; this fails until one of
them renumbers theirs after the other's."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.script import ScriptDirectory

import huabei.platform.migrate as migrate

pytestmark = pytest.mark.pure


def test_the_migration_chain_is_linear_and_numbered_in_order() -> None:
    scripts = ScriptDirectory(str(Path(migrate.__file__).with_name("migrations")))
    assert len(scripts.get_heads()) == 1, scripts.get_heads()
    assert len(scripts.get_bases()) == 1, scripts.get_bases()
    chain = list(reversed(list(scripts.walk_revisions())))  # base first
    assert all(not isinstance(r.down_revision, tuple) for r in chain)  # no merge points
    # numbered in chain order (two 0015s were released before this test: a revision id is never
    # renamed once a database may hold it, so numbers only have to rise)
    numbers = [int(r.revision.split("_", 1)[0]) for r in chain]
    assert numbers == sorted(numbers) and numbers[-1] >= len(chain) - 1, [r.revision for r in chain]
    for r in chain:
        assert Path(r.path).name.startswith(r.revision), (r.path, r.revision)
