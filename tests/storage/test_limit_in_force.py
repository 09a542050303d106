""" "Temporary limit in force" has one home, huabei.lines.rules (Python, scalar and columns), with
its SQL form beside the line's queries (huabei.lines.repository.temporary_limit_in_force): the
three agree on random lines and dates, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import random

import numpy as np
import pytest
from sqlalchemy import select, update
from tests.conftest import new_account

from huabei.lines.repository import temporary_limit_in_force
from huabei.lines.rules import temporary_limit_on, temporary_limits_on
from huabei.platform import schema as t


@pytest.mark.smoke
def test_python_numpy_and_sql_agree_on_random_lines(system) -> None:
    rng = random.Random(13)
    base = dt.date(2026, 11, 2)
    ids = [new_account(system, base_limit=100_000) for _ in range(24)]
    a = t.credit_accounts.c
    for _round in range(6):
        lines = {
            i: (
                rng.choice([0, 1, 500_000, rng.randint(1, 10**9)]),
                rng.choice([None, base + dt.timedelta(rng.randint(-3, 3))]),
            )
            for i in ids
        }
        today = base + dt.timedelta(rng.randint(-2, 2))
        with system.engine.begin() as c:
            for i, (amount, expires) in lines.items():
                c.execute(
                    update(t.credit_accounts)
                    .where(a.account_id == i)
                    .values(temporary_limit=amount, temporary_limit_expires_on=expires)
                )
            sql = dict(
                c.execute(select(a.account_id, temporary_limit_in_force(today)).where(a.account_id.in_(ids))).all()
            )
        amounts = np.array([lines[i][0] for i in ids], dtype=np.int64)
        expiries = np.array([lines[i][1] or "NaT" for i in ids], dtype="datetime64[D]")
        columns = temporary_limits_on(amounts, expiries, today).tolist()
        for k, i in enumerate(ids):
            amount, expires = lines[i]
            assert temporary_limit_on(amount, expires, today) == sql[i] == columns[k], (amount, expires, today)
