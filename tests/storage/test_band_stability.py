"""The dashboard's score stability on SQLite and PostgreSQL: the bands counted by one GROUP BY in
the database (``ScoreRepository.band_counts_on``) give the same PSI as the Python path
(``scoring.service.psi``'s ``band_psi``: scores loaded and counted by numpy), for any population."""

from __future__ import annotations

import datetime as dt

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, insert

from huabei.lines import tables as lt
from huabei.platform.unit_of_work import Huabei
from huabei.scoring import service as scoring
from huabei.scoring import tables as ts

D1, D2 = dt.date(2026, 10, 31), dt.date(2026, 11, 30)
AT = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)
scores = st.lists(st.integers(min_value=350, max_value=950), min_size=1, max_size=40)


def _store(system: Huabei, before: list[int], after: list[int]) -> None:
    n = max(len(before), len(after))
    with system.uow() as uow:
        uow.conn.execute(delete(ts.credit_scores))
        uow.conn.execute(delete(lt.users))
        uow.conn.execute(
            insert(lt.users),
            [
                {
                    "user_id": f"u{i}",
                    "name": "x",
                    "phone": f"1{i:010d}",
                    "real_name_verified": True,
                    "profile": {},
                    "created_on": D1,
                    "created_at": AT,
                }
                for i in range(n)
            ],
        )
        rows = [(f"u{i}", D1, s) for i, s in enumerate(before)] + [(f"u{i}", D2, s) for i, s in enumerate(after)]
        uow.conn.execute(
            insert(ts.credit_scores),
            [
                {
                    "user_id": u,
                    "as_of": d,
                    "score": s,
                    "band": "good",
                    "credit_history": 0,
                    "behaviour": 0,
                    "capacity": 0,
                    "identity": 0,
                    "connections": 0,
                    "reasons": [],
                    "previous_score": None,
                    "scorecard_version": "t",
                    "trigger": "test",
                    "created_at": AT,
                }
                for u, d, s in rows
            ],
        )
        uow.commit()


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(before=scores, after=scores)
def test_band_psi_in_the_database_is_the_python_one(system: Huabei, before: list[int], after: list[int]) -> None:
    _store(system, before, after)
    python = scoring.psi(system, D1, D2)
    first, second = scoring.band_stability(system, [D1, D2])
    assert first["psi"] is None and sum(first["bands"].values()) == len(before)
    # a user scored only before D2 keeps the earlier score on D2 (the latest on or before it)
    assert sum(second["bands"].values()) == max(len(before), len(after))
    assert second["psi"] == python["band_psi"]


def test_no_scores_yet_gives_no_psi(system: Huabei) -> None:
    points = scoring.band_stability(system, [D1, D2])
    assert [p["psi"] for p in points] == [None, None] and sum(points[1]["bands"].values()) == 0
