"""The block code has one reading (huabei.lines.rules): the Python functions and the SQL form of
"frozen" agree on every code the system writes and on random ones, on SQLite and PostgreSQL."""

from __future__ import annotations

import random

from sqlalchemy import select, update
from tests.conftest import new_account

from huabei.lines.repository import is_frozen_sql
from huabei.lines.rules import BLOCK_OVERDUE, frozen_block, frozen_cause, is_frozen
from huabei.platform import schema as t
from huabei.restrictions.causes import CAUSES, block_code_for


def test_python_and_sql_agree_on_what_is_a_freeze(system) -> None:
    rng = random.Random(7)
    written = [None, BLOCK_OVERDUE, *(frozen_block(c) for c in CAUSES)]
    odd = ["", "account_frozen", "account_frozen:", "frozen", "account_overduex", "ACCOUNT_FROZEN:x"]
    noise = ["".join(rng.choice("account_frozen:_xyz") for _ in range(rng.randint(1, 20))) for _ in range(20)]
    codes = written + odd + noise
    ids = [new_account(system) for _ in codes]
    a = t.credit_accounts.c
    with system.engine.begin() as c:
        for i, code in zip(ids, codes):
            c.execute(update(t.credit_accounts).where(a.account_id == i).values(block_code=code))
        sql = dict(c.execute(select(a.account_id, is_frozen_sql(a.block_code)).where(a.account_id.in_(ids))).all())
    for i, code in zip(ids, codes):
        assert bool(sql[i]) == is_frozen(code), code


def test_a_freeze_carries_its_leading_cause() -> None:
    for cause in CAUSES:
        assert frozen_cause(frozen_block(cause)) == cause and is_frozen(frozen_block(cause))
    code, lead = block_code_for(list(CAUSES))
    assert code is not None and frozen_cause(code) == lead
    assert frozen_cause(BLOCK_OVERDUE) is None and not is_frozen(BLOCK_OVERDUE) and not is_frozen(None)
