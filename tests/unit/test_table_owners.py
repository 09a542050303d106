"""Each table is written only by the capability that owns it (the package whose ``tables`` module
declares it). Another capability changes those rows through the owner's repository — the lines'
``AccountRepository.change_balances_many``, the ledger's ``post_many`` — never with its own
``INSERT``/``UPDATE``/``DELETE`` of the owner's table. import-linter guards who may *import* a
table module; this test guards who *writes* one, by reading every module of the package.

Reads across capabilities are allowed only where pyproject's ``whole-book-schema`` contract says
(the simulation, the ledger check and the named whole-book readers listed there)."""

from __future__ import annotations

import ast
import importlib
import pkgutil
import re
from pathlib import Path

import pytest
from sqlalchemy import Table

import huabei

pytestmark = pytest.mark.pure

SRC = Path(huabei.__file__).parent
#: whole-book writers by design: the schema's migrations, the demo/simulation loaders
EXEMPT = ("platform/migrations/",)
WRITES = {"insert", "update", "delete"}


def _owners() -> dict[str, str]:
    """table name -> the package that declares it (``huabei.lines.tables`` -> ``lines``)."""
    owners: dict[str, str] = {}
    for mod in pkgutil.walk_packages(huabei.__path__, "huabei."):
        if not mod.name.endswith(".tables"):
            continue
        module = importlib.import_module(mod.name)
        package = mod.name.split(".")[1]
        source = Path(str(module.__file__)).read_text(encoding="utf-8")
        for var, value in vars(module).items():
            if isinstance(value, Table) and re.search(rf"^{var} = Table\(", source, re.M):  # declared here
                owners[value.name] = package
    return owners


def _written_tables(tree: ast.AST) -> list[tuple[int, str]]:
    """(line, table name) of every ``insert(x.table)``, ``update(x.table)``, ``delete(x.table)``."""
    found = []
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and node.args):
            continue
        fn = node.func
        name = fn.id if isinstance(fn, ast.Name) else fn.attr if isinstance(fn, ast.Attribute) else None
        arg = node.args[0]
        if name in WRITES and isinstance(arg, ast.Attribute):
            found.append((node.lineno, arg.attr))
    return sorted(found)


def test_every_table_is_written_only_by_its_owner() -> None:
    owners = _owners()
    assert {"credit_accounts", "journal_entries", "bills", "restrictions"} <= set(owners)
    wrong = []
    for path in sorted(SRC.rglob("*.py")):
        rel = path.relative_to(SRC).as_posix()
        if rel.startswith(EXEMPT) or "/" not in rel:
            continue
        package = rel.split("/")[0]
        for line, table in _written_tables(ast.parse(path.read_text(encoding="utf-8"))):
            owner = owners.get(table)
            if owner is not None and owner != package:
                wrong.append(f"{rel}:{line} writes {table} (owned by {owner})")
    assert wrong == []


def test_the_check_sees_a_foreign_write() -> None:
    """The scanner itself: a write of another capability's table is found, a read is not."""
    tree = ast.parse(
        "update(t.credit_accounts).values(used=1)\nconn.execute(insert(t.postings), rows)\nselect(t.purchases)\n"
    )
    assert _written_tables(tree) == [(1, "credit_accounts"), (2, "postings")]
