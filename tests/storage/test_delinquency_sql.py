"""Days-past-due buckets and bureau reportability have one home (huabei.billing.calendar's bounds
table): the Python form and the SQL form the whole-book queries use agree on every boundary and on
random counts and grace days, on SQLite and PostgreSQL."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Integer, literal, select, union_all

from huabei.billing import calendar as cal
from huabei.billing.repository import dpd_bucket_sql, is_reportable_sql
from huabei.config import BillingTerms

BOUNDARIES = sorted({0, 1, 2, 365, 10_000} | {u + d for u, _ in cal.DPD_BUCKET_UPPER for d in (-1, 0, 1) if u + d >= 0})


def _sql(system, dpds: list[int], grace_days: int) -> list[tuple[str, bool]]:
    rows = union_all(
        *(select(literal(i, Integer).label("i"), literal(d, Integer).label("dpd")) for i, d in enumerate(dpds))
    ).subquery()
    q = select(rows.c.i, dpd_bucket_sql(rows.c.dpd), is_reportable_sql(rows.c.dpd, grace_days)).order_by(rows.c.i)
    with system.engine.connect() as c:
        return [(bucket, bool(rep)) for _, bucket, rep in c.execute(q)]


def _python(dpds: list[int], grace_days: int) -> list[tuple[str, bool]]:
    terms = BillingTerms(grace_days=grace_days)
    return [(cal.dpd_bucket(d), cal.is_reportable(d, terms)) for d in dpds]


def test_every_boundary_agrees(system) -> None:
    for grace in (0, 3, 30):
        assert _sql(system, BOUNDARIES, grace) == _python(BOUNDARIES, grace)
    assert [cal.dpd_bucket(u) for u, _ in cal.DPD_BUCKET_UPPER] == list(cal.DPD_BUCKETS[:-1])


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(dpds=st.lists(st.integers(min_value=0, max_value=5_000), min_size=1, max_size=40), grace=st.integers(0, 30))
def test_random_counts_agree(system, dpds: list[int], grace: int) -> None:
    assert _sql(system, dpds, grace) == _python(dpds, grace)
