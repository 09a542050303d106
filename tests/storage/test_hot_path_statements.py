"""The authorisation hot path's statements are built once at module level
(``huabei.lines.repository``, docs/performance.md). They must send exactly the SQL and
values that building them per call sent: checked here against the per-call form, on SQLite
and PostgreSQL, with the bind names normalised away."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import case, event, insert, select, update
from sqlalchemy.exc import CompileError
from tests.conftest import START_DATE, new_account

from huabei.ledger import rules as ledger
from huabei.platform import schema as t
from huabei.platform.unit_of_work import Huabei, UnitOfWork

_NAMED = re.compile(r"%\((\w+)\)s")


def _value(v: Any) -> Any:
    """psycopg's ``Json`` wrapper has no equality: compare what it wraps."""
    return ("Json", v.obj) if type(v).__name__ == "Json" else v


def _positional(statement: str, params: Any) -> tuple[str, Any]:
    """pyformat (PostgreSQL) → positional, so bind names do not matter; qmark (SQLite) as is."""
    if isinstance(params, dict):
        return _NAMED.sub("%s", statement), [_value(params[n]) for n in _NAMED.findall(statement)]
    if isinstance(params, (list, tuple)) and params and isinstance(params[0], dict):
        names = _NAMED.findall(statement)
        return _NAMED.sub("%s", statement), [[_value(p[n]) for n in names] for p in params]
    return statement, [[_value(x) for x in p] if isinstance(p, (list, tuple)) else _value(p) for p in params]


@contextmanager
def _captured(system: Huabei) -> Iterator[list[tuple[str, Any]]]:
    sent: list[tuple[str, Any]] = []

    def on_exec(_conn, _cur, statement, params, _ctx, _many):  # type: ignore[no-untyped-def]
        sent.append(_positional(statement, params))

    event.listen(system.engine, "before_cursor_execute", on_exec)
    try:
        yield sent
    finally:
        event.remove(system.engine, "before_cursor_execute", on_exec)


def _same_sql(system: Huabei, new: Callable[[UnitOfWork], Any], old: Callable[[UnitOfWork], Any]) -> tuple[Any, Any]:
    """Run both forms in their own transaction (rolled back); same statements and values."""
    results, logs = [], []
    for fn in (new, old):
        with system.uow() as uow:
            uow.today()  # the clock read happens outside the capture
            with _captured(system) as sent:
                results.append(fn(uow))
            logs.append([s for s in sent if not s[0].startswith("BEGIN")])
    assert logs[0] == logs[1]
    assert logs[0], "nothing was sent"
    return results[0], results[1]


def _old_try_debit(uow: UnitOfWork, account_id: int, amount: int, today: dt.date) -> Any:
    c = t.credit_accounts.c
    temp = case((c.temporary_limit_expires_on > today, c.temporary_limit), else_=0)
    stmt = (
        update(t.credit_accounts)
        .where(
            c.account_id == account_id,
            c.state == "open",
            c.block_code.is_(None),
            c.used + amount <= c.base_limit + temp,
        )
        .values(used=c.used + amount)
        .returning(c.base_limit + temp - c.used, c.used, c.base_limit, c.funding_source)
    )
    return uow.conn.execute(stmt).first()


@pytest.mark.parametrize("amount,temp_expires_in_days", [(5_000, 3), (120_000, 3), (120_000, 0), (10**9, 3)])
def test_try_debit_sends_the_same_conditional_update(system: Huabei, amount: int, temp_expires_in_days: int) -> None:
    aid = new_account(system, base_limit=100_000)
    with system.uow() as uow:
        uow.accounts.set_temporary_limit(aid, 50_000, START_DATE + dt.timedelta(days=temp_expires_in_days))
        uow.commit()
    new, old = _same_sql(
        system,
        lambda u: u.accounts.try_debit_detail(aid, amount, u.today()),
        lambda u: _old_try_debit(u, aid, amount, u.today()),
    )
    if old is None:
        assert new is None
    else:
        available, used, base, funding = old
        assert new.available == available and new.funding_source == funding
        assert new.on_temporary_limit == max(0, used - max(base, used - amount))


def test_clock_and_idempotency_reads_send_the_same_sql(system: Huabei) -> None:
    c = t.idempotency_keys.c
    _same_sql(
        system,
        lambda u: u.clock.get(),
        lambda u: u.conn.execute(select(t.business_clock.c.business_date).where(t.business_clock.c.id == 1)).scalar(),
    )
    _same_sql(
        system,
        lambda u: u.idempotency.get("purchase", "k-1"),
        lambda u: u.conn.execute(
            select(c.request_hash, c.status, c.response).where(c.scope == "purchase", c.key == "k-1")
        ).first(),
    )


def test_inserts_send_the_same_sql(system: Huabei) -> None:
    aid = new_account(system)
    now = dt.datetime(2026, 11, 2, 10, 30, tzinfo=dt.UTC)
    values = dict(
        account_id=aid,
        amount=1234,
        merchant_id="m-1",
        merchant_category="retail",
        channel="online",
        business_date=START_DATE,
        created_at=now,
        on_temporary_limit=0,
    )
    _same_sql(
        system,
        lambda u: u.purchases.add(**values) and None,
        lambda u: (
            u.conn.execute(insert(t.purchases).values(**values).returning(t.purchases.c.purchase_id)).scalar_one()
            and None
        ),
    )
    response = {"purchase_id": 1, "available": 98_766, "status": "approved"}
    _same_sql(
        system,
        lambda u: u.idempotency.put("purchase", "k-2", "h" * 64, 201, response, now),
        lambda u: (
            u.conn.execute(
                insert(t.idempotency_keys).values(
                    scope="purchase", key="k-2", request_hash="h" * 64, status=201, response=response, created_at=now
                )
            )
            and None
        ),
    )

    entry = ledger.purchase_entry(aid, "m-1", 1234, START_DATE, 1)

    def old_post(u: UnitOfWork) -> None:
        entry_id = u.conn.execute(
            insert(t.journal_entries)
            .values(
                kind=entry.kind.value,
                account_id=entry.credit_account_id,
                ref_id=entry.ref_id,
                amount=entry.amount,
                memo=entry.memo,
                business_date=entry.business_date,
                created_at=now,
            )
            .returning(t.journal_entries.c.entry_id)
        ).scalar_one()
        u.conn.execute(
            insert(t.postings),
            [
                {
                    "entry_id": entry_id,
                    "ledger_account": p.ledger_account.value,
                    "account_id": p.credit_account_id,
                    "merchant_id": p.merchant_id,
                    "amount": p.amount,
                    "business_date": entry.business_date,
                }
                for p in entry.postings
            ],
        )

    # entry ids differ between the two transactions on PostgreSQL (sequences do not roll
    # back), so compare with the id normalised
    logs = []
    for fn in (lambda u: u.ledger.post(entry, now), old_post):
        with system.uow() as uow:
            with _captured(system) as sent:
                fn(uow)
            logs.append(sent)
    first_new, first_old = logs[0][0], logs[1][0]
    assert first_new == first_old
    for (sql_new, rows_new), (sql_old, rows_old) in zip(logs[0][1:], logs[1][1:]):
        assert sql_new == sql_old
        assert [r[1:] for r in rows_new] == [r[1:] for r in rows_old]
    assert len(logs[0]) == len(logs[1])


def test_purchase_add_still_refuses_unknown_columns(system: Huabei) -> None:
    aid = new_account(system)
    with system.uow() as uow, pytest.raises(CompileError, match="Unconsumed column names: bogus"):
        uow.purchases.add(
            account_id=aid,
            amount=1,
            merchant_id="m",
            merchant_category="retail",
            channel="online",
            business_date=START_DATE,
            created_at=dt.datetime(2026, 11, 2, tzinfo=dt.UTC),
            bogus=1,
        )


def test_a_purchase_that_fires_no_rule_reads_no_restriction_and_no_policy_text(system: Huabei) -> None:
    """The statements of one ordinary purchase: the inline risk check reads the policies in force
    with one small query (texts cached per process) and the restrictions only when a rule fired."""
    from tests.conftest import buy

    acct = new_account(system)
    buy(system, acct, 1_000, key="warm")  # the policy compiled once
    seen: list[str] = []

    def capture(conn, cursor, statement, params, context, executemany) -> None:  # type: ignore[no-untyped-def]
        seen.append(" ".join(statement.split()))

    event.listen(system.engine, "before_cursor_execute", capture)
    try:
        buy(system, acct, 1_000, key="measured")
    finally:
        event.remove(system.engine, "before_cursor_execute", capture)
    reads = [s for s in seen if s.upper().startswith("SELECT")]
    assert not any("FROM restrictions" in s for s in reads), reads
    assert sum("risk_policy_activations" in s for s in reads) == 1
    assert not any("risk_policies.source" in s for s in reads)
    assert any(s.upper().startswith("UPDATE CREDIT_ACCOUNTS") for s in seen)  # the purchase happened
