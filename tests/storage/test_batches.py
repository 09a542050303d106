"""The operator's batched run (``huabei.platform.batches.apply_in_batches``), shared by regulatory
sweeps and funding migrations, on SQLite and PostgreSQL: one transaction per batch, one savepoint
per line; a refused line is kept with its code and the others go on; a line whose resume row a
concurrent run wrote first is skipped; any other error stops the run with the batches before it
committed, and a rerun does only what is left."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from tests.conftest import new_account

from huabei import errors
from huabei.lines.rules import LimitChange
from huabei.platform import schema as t
from huabei.platform.batches import Refused, apply_in_batches, batches
from huabei.platform.unit_of_work import Huabei, UnitOfWork


def changes_of(system: Huabei, policy: str) -> list[int]:
    with system.engine.connect() as c:
        q = select(t.limit_changes.c.account_id).where(t.limit_changes.c.policy_version == policy)
        return sorted(c.execute(q).scalars())


def record(uow: UnitOfWork, account_id: int, policy: str) -> int:
    uow.limit_changes.record(
        [LimitChange(account_id, "base", 1, 2, ("regulatory_sweep",), policy, "test")], uow.today(), uow.now()
    )
    return account_id


def test_batches_cut_in_order() -> None:
    assert list(batches(range(5), 2)) == [[0, 1], [2, 3], [4]]
    assert list(batches([], 3)) == []
    with pytest.raises(ValueError):
        list(batches([1], 0))


def test_a_refused_line_is_kept_and_the_rest_is_applied(system: Huabei) -> None:
    ids = [new_account(system) for _ in range(5)]

    def apply(uow: UnitOfWork, account_id: int) -> int | None:
        if account_id == ids[1]:
            record(uow, account_id, "p1")  # rolled back with its savepoint
            raise errors.conflict("account_closed", account_id=account_id)
        if account_id == ids[3]:
            return None  # nothing to do: left out
        return record(uow, account_id, "p1")

    run = apply_in_batches(system, ids, 2, apply)
    assert sorted(run.applied) == [ids[0], ids[2], ids[4]]
    assert list(run.refused) == [ids[1]] and isinstance(run.refused[ids[1]], Refused)
    assert run.refused[ids[1]].code == "account_closed"
    assert changes_of(system, "p1") == sorted([ids[0], ids[2], ids[4]])


def test_a_crash_keeps_the_batches_before_it_and_a_rerun_does_the_rest(system: Huabei) -> None:
    ids = [new_account(system) for _ in range(5)]
    done: set[int] = set()

    def apply(uow: UnitOfWork, account_id: int, crash_at: int | None) -> int | None:
        if account_id in done:
            return None
        if account_id == crash_at:
            raise RuntimeError("the process dies here")
        done.add(account_id)  # (a real run writes its resume row in the same savepoint)
        return record(uow, account_id, "p2")

    with pytest.raises(RuntimeError):
        apply_in_batches(system, ids, 2, lambda uow, a: apply(uow, a, ids[3]))
    # the first batch committed; the second (ids[2], ids[3]) rolled back whole
    assert changes_of(system, "p2") == sorted(ids[:2])
    done.difference_update(ids[2:])
    rerun = apply_in_batches(system, ids, 2, lambda uow, a: apply(uow, a, None))
    assert sorted(rerun.applied) == sorted(ids[2:])
    assert changes_of(system, "p2") == sorted(ids)


def test_a_line_done_by_a_concurrent_run_is_skipped(system: Huabei) -> None:
    """The resume row's primary key: a second insert of it is an IntegrityError, which skips the line."""
    ids = [new_account(system) for _ in range(3)]

    def apply(uow: UnitOfWork, account_id: int) -> int:
        uow.eod.mark(uow.today(), f"test-{account_id}", {}, uow.now(), uow.now())  # (day, step) is unique
        return record(uow, account_id, "p3")

    first = apply_in_batches(system, ids[:2], 5, apply)
    second = apply_in_batches(system, ids, 5, apply)
    assert sorted(first.applied) == sorted(ids[:2]) and list(second.applied) == [ids[2]] and not second.refused
    with system.engine.connect() as c:
        assert (
            c.execute(
                select(func.count()).select_from(t.limit_changes).where(t.limit_changes.c.policy_version == "p3")
            ).scalar_one()
            == 3
        )
