"""Repositories of credit lines: users, lines, purchases, refunds, repayments, limit changes.

Hot-path rule: the available-limit check and the debit are one conditional UPDATE
(:meth:`AccountRepository.try_debit`), never read-then-write in Python.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    Connection,
    Date,
    MetaData,
    Table,
    and_,
    any_,
    bindparam,
    case,
    column,
    delete,
    distinct,
    func,
    insert,
    literal,
    or_,
    select,
    update,
    values,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.exc import CompileError

from huabei.lines import tables as t
from huabei.lines.rules import (
    BLOCK_FROZEN,
    BLOCK_OVERDUE,
    OPERATIONAL_PAUSES,
    AccountState,
    CreditLine,
    LimitChange,
    Product,
    frozen_block,
    on_temporary_limit,
)
from huabei.platform.sql import AccountRange, bulk_insert, bulk_rows, fetch_rows, in_chunks, in_range, insert_ids
from huabei.platform.tables import domain_events


@dataclass(frozen=True)
class Debit:
    """An approved debit: the available limit left, and the part on the temporary limit."""

    available: int
    on_temporary_limit: int
    #: who funds the line, so the purchase (the receivable) carries its funder
    funding_source: str = "platform"


# --- hot-path statements (purchase authorisation) ---------------------------------------
# Built once, executed with a parameter dict: SQLAlchemy then finds the compiled form from the
# statement's memoised cache key instead of rebuilding and coercing the statement (and every
# value in it) on each call. The SQL sent is the same as building them per call; only the bind
# names differ. Bind names must not clash with the column names of the table being updated.
_ca = t.credit_accounts.c


def temporary_limit_in_force(today: Any) -> Any:
    """SQL of :func:`huabei.lines.rules.temporary_limit_on` over ``credit_accounts``: the
    temporary limit counts on the days before its expiry date, else 0. ``today`` is a date or
    a bound parameter. Every statement that needs a line's total limit uses this one form."""
    a = t.credit_accounts.c
    return case((a.temporary_limit_expires_on > today, a.temporary_limit), else_=0)


def is_frozen_sql(block_code: Any) -> Any:
    """SQL of :func:`huabei.lines.rules.is_frozen` over a ``block_code`` column (a case-sensitive
    prefix test, as in Python: SQLite's LIKE would ignore case)."""
    return func.substr(block_code, 1, len(BLOCK_FROZEN)) == BLOCK_FROZEN


def is_credit_freeze_sql(block_code: Any) -> Any:
    """SQL: the line is frozen for a reason about the user's credit — a freeze whose leading cause
    is not an operational pause (``OPERATIONAL_PAUSES``: brand isolation, maintenance). The
    credit-bureau file reports only these as ``frozen``."""
    return is_frozen_sql(block_code) & block_code.not_in([frozen_block(c) for c in OPERATIONAL_PAUSES])


def _debit_guard(amount: Any, today: Any) -> tuple[Any, ...]:
    """The guard of a purchase's debit of ``amount`` (SQL): the line is open, unblocked, and
    ``used + amount`` within its total limit on ``today``. Every debit statement uses this one
    form (its Python form: ``huabei.lines.rules.debit_allowed``)."""
    a = t.credit_accounts.c
    return (
        a.state == "open",
        a.block_code.is_(None),
        a.used + amount <= a.base_limit + temporary_limit_in_force(today),
    )


_debit_today = bindparam("debit_today", type_=Date)
_debit_temp = temporary_limit_in_force(_debit_today)
_debit_amount = bindparam("debit_amount", type_=BigInteger)
_TRY_DEBIT = (
    update(t.credit_accounts)
    .where(
        _ca.account_id == bindparam("debit_account_id", type_=_ca.account_id.type),
        *_debit_guard(_debit_amount, _debit_today),
    )
    .values(used=_ca.used + _debit_amount)
    .returning(_ca.base_limit + _debit_temp - _ca.used, _ca.used, _ca.base_limit, _ca.funding_source)
)
# PostgreSQL: a batch's lines and amounts as two arrays (one statement text whatever the batch's
# size: compiled once, its parameters not spelled out one by one)
_many = select(
    func.unnest(bindparam("d_ids", type_=ARRAY(BigInteger))).label("d_account_id"),
    func.unnest(bindparam("d_amounts", type_=ARRAY(BigInteger))).label("d_amount"),
).subquery("d")
_TRY_DEBIT_MANY_PG = (
    update(t.credit_accounts)
    .where(_ca.account_id == _many.c.d_account_id, *_debit_guard(_many.c.d_amount, _debit_today))
    .values(used=_ca.used + _many.c.d_amount)
    .returning(_ca.account_id)
)
_LOCK_LINES_PG = (
    select(t.credit_accounts)
    .where(_ca.account_id == any_(bindparam("lock_ids", type_=ARRAY(BigInteger))))
    .order_by(_ca.account_id)
    .with_for_update()
)
del _many
_PURCHASE_ADD = insert(t.purchases).returning(t.purchases.c.purchase_id)
_PURCHASE_COLUMNS = frozenset(t.purchases.c.keys())
del _ca


def _row_to_line(r: Any) -> CreditLine:
    return CreditLine(
        account_id=r.account_id,
        user_id=r.user_id,
        state=AccountState(r.state),
        base_limit=r.base_limit,
        temporary_limit=r.temporary_limit,
        temporary_limit_expires_on=r.temporary_limit_expires_on,
        used=r.used,
        credit_balance=r.credit_balance,
        block_code=r.block_code,
        due_day=r.due_day,
        opened_on=r.opened_on,
        funding_source=r.funding_source,
        product=r.product,
    )


class UserRepository:
    def __init__(self, conn: Connection):
        self.conn = conn

    def exists(self, user_id: str) -> bool:
        return self.conn.execute(select(literal(1)).where(t.users.c.user_id == user_id)).first() is not None

    def add(self, **values: Any) -> None:
        self.conn.execute(insert(t.users).values(**values))

    def set_real_name_verified(self, user_id: str, verified: bool) -> None:
        self.conn.execute(update(t.users).where(t.users.c.user_id == user_id).values(real_name_verified=verified))

    def set_phone(self, user_id: str, phone: str) -> None:
        self.conn.execute(update(t.users).where(t.users.c.user_id == user_id).values(phone=phone))

    def add_profile_change(self, **values: Any) -> int:
        c = t.user_profile_changes.c
        return self.conn.execute(insert(t.user_profile_changes).values(**values).returning(c.change_id)).scalar_one()

    def current_bank_card(self, user_id: str) -> str | None:
        """The bank card of the user's latest bank-card change (None: never given)."""
        c = t.user_profile_changes.c
        return self.conn.execute(
            select(c.new_value)
            .where(c.user_id == user_id, c.field == "bank_card")
            .order_by(c.change_id.desc())
            .limit(1)
        ).scalar()

    def add_verification(self, **values: Any) -> int:
        c = t.user_verifications.c
        return self.conn.execute(
            insert(t.user_verifications).values(**values).returning(c.verification_id)
        ).scalar_one()

    def page(self, limit: int, starting_after: str | None = None) -> list[Any]:
        """Up to ``limit`` users in id order, after ``starting_after``."""
        c = t.users.c
        q = select(c.user_id, c.name, c.real_name_verified, c.created_on).order_by(c.user_id).limit(limit)
        if starting_after is not None:
            q = q.where(c.user_id > starting_after)
        return list(self.conn.execute(q))

    def ids(self) -> list[str]:
        """Every user id, in order."""
        c = t.users.c
        return list(self.conn.execute(select(c.user_id).order_by(c.user_id)).scalars())

    def profile_changes(self, user_id: str, change_ids: Sequence[int]) -> list[Any]:
        """The user's profile changes (phone, bank card …) among ``change_ids``, oldest first."""
        c = t.user_profile_changes.c
        if not change_ids:
            return []
        return list(
            self.conn.execute(
                select(c.change_id, c.field, c.business_date)
                .where(c.user_id == user_id, c.change_id.in_(list(change_ids)))
                .order_by(c.change_id)
            )
        )

    def lock_many(self, user_ids: Sequence[str]) -> set[str]:
        """Lock these users' rows (in user order, so two lockers never deadlock) until the
        transaction ends; returns the ids that exist."""
        if not user_ids:
            return set()
        c = t.users.c
        q = select(c.user_id).where(c.user_id.in_(sorted(set(user_ids)))).order_by(c.user_id).with_for_update()
        return set(self.conn.execute(q).scalars())

    def get(self, user_id: str, *, for_update: bool = False) -> Any:
        """The user's row; ``for_update`` locks it until the transaction ends (opening a line
        serialises on its user)."""
        q = select(t.users).where(t.users.c.user_id == user_id)
        if for_update:
            q = q.with_for_update()
        return self.conn.execute(q).first()


class AccountRepository:
    def __init__(self, conn: Connection):
        self.conn = conn

    def add(self, **values: Any) -> int:
        return self.conn.execute(
            insert(t.credit_accounts).values(**values).returning(t.credit_accounts.c.account_id)
        ).scalar_one()

    def add_many(self, rows: Sequence[dict[str, Any]]) -> list[int]:
        """Insert lines (rows with the same keys) in one statement (a multi-row ``INSERT …
        RETURNING``); their ids in the order of ``rows``."""
        if not rows:
            return []
        q = insert(t.credit_accounts).returning(t.credit_accounts.c.account_id, sort_by_parameter_order=True)
        return list(self.conn.execute(q, list(rows)).scalars())

    def get_many(self, account_ids: Sequence[int]) -> dict[int, CreditLine]:
        """These lines by id, in one query per thousand (chunked IN lists); missing ids are absent."""
        c = t.credit_accounts.c
        return {
            r.account_id: _row_to_line(r)
            for chunk in in_chunks(sorted(set(account_ids)))
            for r in self.conn.execute(select(t.credit_accounts).where(c.account_id.in_(chunk)))
        }

    def get(self, account_id: int, *, for_update: bool = False) -> CreditLine | None:
        q = select(t.credit_accounts).where(t.credit_accounts.c.account_id == account_id)
        if for_update:
            q = q.with_for_update()
        r = self.conn.execute(q).first()
        return _row_to_line(r) if r else None

    def lock(self, account_ids: Sequence[int]) -> None:
        """Lock these lines' rows (``SELECT … FOR UPDATE``, in account order so two lockers never
        deadlock) until the transaction ends: every change of a line's restrictions or block code
        serialises on the line. SQLite write transactions already hold the database's write lock."""
        ids = sorted(set(account_ids))
        if ids:
            c = t.credit_accounts.c
            self.conn.execute(
                select(c.account_id).where(c.account_id.in_(ids)).order_by(c.account_id).with_for_update()
            ).all()

    def lock_lines(self, account_ids: Sequence[int]) -> dict[int, CreditLine]:
        """:meth:`lock`, reading the locked lines (the same one statement): a batch of purchases
        is decided over them (``huabei.payments.batch``)."""
        ids = sorted(set(account_ids))
        if not ids:
            return {}
        if self.conn.dialect.name == "postgresql":
            rows = self.conn.execute(_LOCK_LINES_PG, {"lock_ids": ids})
        else:
            c = t.credit_accounts.c
            q = select(t.credit_accounts).where(c.account_id.in_(ids)).order_by(c.account_id).with_for_update()
            rows = self.conn.execute(q)
        return {r.account_id: _row_to_line(r) for r in rows}

    def every_id(self) -> list[int]:
        """Every line's id, in ascending order (the population an end-of-day step bisects)."""
        c = t.credit_accounts.c
        return list(self.conn.execute(select(c.account_id).order_by(c.account_id)).scalars())

    def ids_from(self, limit: int, starting_after: int | None = None) -> list[int]:
        """Up to ``limit`` line ids in ascending order, after ``starting_after`` (a keyset page:
        the batch export walks the whole book this way in bounded memory)."""
        c = t.credit_accounts.c
        q = select(c.account_id).order_by(c.account_id).limit(limit)
        if starting_after is not None:
            q = q.where(c.account_id > starting_after)
        return list(self.conn.execute(q).scalars())

    def ids(self, limit: int, starting_after: int | None = None) -> list[int]:
        c = t.credit_accounts.c
        q = select(c.account_id)
        if starting_after is not None:
            q = q.where(c.account_id < starting_after)
        return list(self.conn.execute(q.order_by(c.account_id.desc()).limit(limit)).scalars())

    def open_lines(self) -> list[CreditLine]:
        """Every open line (a sweep reads them all, set-based)."""
        c = t.credit_accounts.c
        q = select(t.credit_accounts).where(c.state == AccountState.OPEN.value).order_by(c.account_id)
        return [_row_to_line(r) for r in self.conn.execute(q)]

    def users_of(self, account_ids: Sequence[int]) -> dict[int, str]:
        """The users of these lines (one query)."""
        if not account_ids:
            return {}
        c = t.credit_accounts.c
        rows = self.conn.execute(select(c.account_id, c.user_id).where(c.account_id.in_(sorted(set(account_ids)))))
        return {r[0]: r[1] for r in rows}

    def user_of(self, account_id: int) -> str | None:
        c = t.credit_accounts.c
        return self.conn.execute(select(c.user_id).where(c.account_id == account_id)).scalar()

    def lines_of(self, user_id: str, *, state: AccountState | None = None, for_update: bool = False) -> list[int]:
        """The user's credit lines (ids, oldest first); ``for_update`` locks their rows in that order."""
        c = t.credit_accounts.c
        q = select(c.account_id).where(c.user_id == user_id)
        if state is not None:
            q = q.where(c.state == state.value)
        q = q.order_by(c.account_id)
        if for_update:
            q = q.with_for_update()
        return list(self.conn.execute(q).scalars())

    def users_with_open_line(self, user_ids: Sequence[str], product: str = Product.HUABEI.value) -> set[str]:
        """Which of these users have an open line of ``product`` (one query)."""
        if not user_ids:
            return set()
        c = t.credit_accounts.c
        q = select(c.user_id).where(c.user_id.in_(sorted(set(user_ids))), c.state == "open", c.product == product)
        return set(self.conn.execute(q).scalars())

    def open_account_of(self, user_id: str, product: str = Product.HUABEI.value) -> int | None:
        """The user's open line of ``product`` (花呗 unless said), if any."""
        c = t.credit_accounts.c
        return self.conn.execute(
            select(c.account_id).where(c.user_id == user_id, c.state == "open", c.product == product)
        ).scalar()

    def product_lines_of(self, user_id: str, product: str) -> list[int]:
        """The user's lines of ``product`` that are open or still carry a balance (a closed 信用购
        line brand isolation moved a partner's balance to), in id order."""
        c = t.credit_accounts.c
        q = select(c.account_id).where(
            c.user_id == user_id, c.product == product, (c.state == "open") | (c.used > 0) | (c.credit_balance > 0)
        )
        return list(self.conn.execute(q.order_by(c.account_id)).scalars())

    def try_debit(self, account_id: int, amount: int, today: dt.date) -> int | None:
        """Atomically add ``amount`` to ``used`` if the line is open, unblocked and has
        the available limit on ``today``. Returns the new available limit, or None
        when no row matched (the caller explains why)."""
        debit = self.try_debit_detail(account_id, amount, today)
        return debit.available if debit is not None else None

    def try_debit_detail(self, account_id: int, amount: int, today: dt.date) -> Debit | None:
        """:meth:`try_debit`, also saying how much of ``amount`` fell on the temporary limit
        (临时额度): what takes ``used`` above the base limit. The same single UPDATE."""
        row = self.conn.execute(
            _TRY_DEBIT, {"debit_account_id": account_id, "debit_amount": amount, "debit_today": today}
        ).first()
        if row is None:
            return None
        available, used, base, funding = row
        return Debit(available, on_temporary_limit(used, base, amount), funding)

    def try_debit_many(self, amounts: Mapping[int, int], today: dt.date) -> int:
        """The set-based :meth:`try_debit` of a batch: one ``UPDATE … FROM (VALUES …)`` adding to
        each line's ``used`` its amount, under the same guard (open, unblocked, within the total
        limit on ``today``). Returns how many lines it changed: fewer than given means a guard
        refused one, and the caller rolls the batch back (the limit is never exceeded)."""
        if not amounts:
            return 0
        items = sorted(amounts.items())
        if self.conn.dialect.name == "postgresql":
            params = {"d_ids": [a for a, _ in items], "d_amounts": [x for _, x in items], "debit_today": today}
            return len(self.conn.execute(_TRY_DEBIT_MANY_PG, params).all())
        c = t.credit_accounts.c
        d = values(column("d_account_id", BigInteger), column("d_amount", BigInteger), name="d").data(items).cte("d")
        stmt = (
            update(t.credit_accounts)
            .where(c.account_id == d.c.d_account_id, *_debit_guard(d.c.d_amount, today))
            .values(used=c.used + d.c.d_amount)
            .returning(c.account_id)
        )
        return len(self.conn.execute(stmt).all())

    def change_balances(self, account_id: int, *, used: int = 0, credit_balance: int = 0) -> None:
        c = t.credit_accounts.c
        self.conn.execute(
            update(t.credit_accounts)
            .where(c.account_id == account_id)
            .values(used=c.used + used, credit_balance=c.credit_balance + credit_balance)
        )

    def set_funding_source(self, account_id: int, funding_source: str) -> None:
        c = t.credit_accounts.c
        self.conn.execute(
            update(t.credit_accounts).where(c.account_id == account_id).values(funding_source=funding_source)
        )

    def lines_funded_by(
        self, funding_source: str, product: str = Product.HUABEI.value, *, closed_too: bool = False
    ) -> list[CreditLine]:
        """The open lines of ``product`` that ``funding_source`` funds, in id order (``closed_too``:
        the closed ones as well)."""
        c = t.credit_accounts.c
        q = select(t.credit_accounts).where(c.product == product, c.funding_source == funding_source)
        if not closed_too:
            q = q.where(c.state == AccountState.OPEN.value)
        q = q.order_by(c.account_id)
        return [_row_to_line(r) for r in self.conn.execute(q)]

    def move_receivables(self, from_account_id: int, to_account_id: int) -> dict[str, int]:
        """Brand isolation: the line's purchases (each a receivable with its funder), their refunds
        and the repayments that paid its bills now belong to ``to_account_id``. Declines, limit
        changes and the ledger's history stay where they happened. Returns rows moved per table."""
        moved = {}
        for table in (t.purchases, t.refunds, t.repayments):
            moved[table.name] = self.conn.execute(
                update(table).where(table.c.account_id == from_account_id).values(account_id=to_account_id)
            ).rowcount
        return moved

    def set_base_limit(self, account_id: int, base_limit: int) -> None:
        self.conn.execute(
            update(t.credit_accounts).where(t.credit_accounts.c.account_id == account_id).values(base_limit=base_limit)
        )

    def apply_base_limits(self, account_ids: list[int], old: list[int], new: list[int]) -> list[int]:
        """Set ``base_limit`` to ``new`` where the line is still as the decision saw it — open,
        ``base_limit = old``, unblocked for a raise, ``used <= new`` for a cut — with one
        ``UPDATE … FROM`` a temporary staging table per 50,000 decisions (PostgreSQL, SQLite
        ≥ 3.33). Returns the account ids changed; a line that changed meanwhile waits for the
        next review. The staging table is created and dropped inside the transaction (a
        rollback removes it too)."""
        if not account_ids:
            return []
        md = MetaData()
        stage = Table(
            "limit_review_stage",
            md,
            Column("account_id", BigInteger, primary_key=True),
            Column("old", BigInteger),
            Column("new", BigInteger),
            prefixes=["TEMPORARY"],
        )
        stage.create(self.conn)
        a = t.credit_accounts
        changed: list[int] = []
        for i in range(0, len(account_ids), 50_000):
            self.conn.execute(delete(stage))
            bulk_insert(
                self.conn,
                stage,
                {"account_id": account_ids[i : i + 50_000], "old": old[i : i + 50_000], "new": new[i : i + 50_000]},
            )
            s = stage.c
            stmt = (
                update(a)
                .values(base_limit=s.new)
                .where(
                    a.c.account_id == s.account_id,
                    a.c.state == "open",
                    a.c.base_limit == s.old,
                    or_(and_(s.new > s.old, a.c.block_code.is_(None)), and_(s.new < s.old, a.c.used <= s.new)),
                )
                .returning(a.c.account_id)
            )
            changed += list(self.conn.execute(stmt).scalars())
        stage.drop(self.conn)
        return changed

    def open_unblocked_spenders(self, category: str, start: dt.date, as_of: dt.date) -> list[Any]:
        """Open, unblocked lines that paid in ``category`` over ``start ≤ day ≤ as_of``, with their user."""
        a, p = t.credit_accounts.c, t.purchases.c
        spent = (
            select(p.account_id)
            .where(
                p.merchant_category == category,
                p.business_date >= start,
                p.business_date <= as_of,
                p.refunded < p.amount,
            )
            .distinct()
            .subquery()
        )
        return self.conn.execute(
            select(a.account_id, a.user_id, a.temporary_limit, a.temporary_limit_expires_on)
            .select_from(t.credit_accounts.join(spent, spent.c.account_id == a.account_id))
            .where(a.state == "open", a.block_code.is_(None))
            .order_by(a.account_id)
        ).all()

    def set_due_day(self, account_id: int, due_day: int) -> None:
        self.conn.execute(
            update(t.credit_accounts).where(t.credit_accounts.c.account_id == account_id).values(due_day=due_day)
        )

    def change_balances_many(self, rows: Sequence[dict[str, Any]]) -> None:
        """``used += :d_used, credit_balance += :d_credit`` per account (executemany)."""
        if not rows:
            return
        a = t.credit_accounts.c
        self.conn.execute(
            update(t.credit_accounts)
            .where(a.account_id == bindparam("a_id"))
            .values(used=a.used + bindparam("d_used"), credit_balance=a.credit_balance + bindparam("d_credit")),
            list(rows),
        )

    def block_overdue(self, overdue: Any, accounts: AccountRange | None = None) -> int:
        """``account_overdue`` on every unblocked line among ``overdue`` (a query of account ids:
        the lines with an overdue bill, as billing states it); a freeze outranks it."""
        a = t.credit_accounts.c
        return self.conn.execute(
            update(t.credit_accounts)
            .where(a.block_code.is_(None), a.account_id.in_(overdue), in_range(a.account_id, accounts))
            .values(block_code=BLOCK_OVERDUE)
        ).rowcount

    def unblock_cured(self, overdue: Any, accounts: AccountRange | None = None) -> int:
        """Lift ``account_overdue`` from every line no longer among ``overdue`` (a query of
        account ids: the lines with an overdue bill)."""
        a = t.credit_accounts.c
        return self.conn.execute(
            update(t.credit_accounts)
            .where(a.block_code == BLOCK_OVERDUE, a.account_id.not_in(overdue), in_range(a.account_id, accounts))
            .values(block_code=None)
        ).rowcount

    def expiring_temporary_limits(self, day: dt.date, accounts: AccountRange | None = None) -> list[Any]:
        """The lines whose temporary limit ends on or before ``day`` (end-of-day, set-based)."""
        a = t.credit_accounts.c
        return list(
            self.conn.execute(
                select(a.account_id, a.temporary_limit, a.temporary_limit_expires_on)
                .where(
                    a.temporary_limit > 0,
                    a.temporary_limit_expires_on.is_not(None),
                    a.temporary_limit_expires_on <= day,
                    in_range(a.account_id, accounts),
                )
                .order_by(a.account_id)
            )
        )

    def expire_temporary_limits(self, day: dt.date, accounts: AccountRange | None = None) -> int:
        """End every temporary limit expiring on or before ``day`` (one UPDATE); how many."""
        a = t.credit_accounts.c
        return self.conn.execute(
            update(t.credit_accounts)
            .where(
                a.temporary_limit > 0,
                a.temporary_limit_expires_on.is_not(None),
                a.temporary_limit_expires_on <= day,
                in_range(a.account_id, accounts),
            )
            .values(temporary_limit=0)
        ).rowcount

    def set_temporary_limit(self, account_id: int, amount: int, expires_on: dt.date | None) -> None:
        self.conn.execute(
            update(t.credit_accounts)
            .where(t.credit_accounts.c.account_id == account_id)
            .values(temporary_limit=amount, temporary_limit_expires_on=expires_on)
        )

    def close(self, account_id: int, today: dt.date) -> bool:
        """Close an open line (state ``closed``, ``closed_on``); False if it was not open."""
        c = t.credit_accounts.c
        n = self.conn.execute(
            update(t.credit_accounts)
            .where(c.account_id == account_id, c.state == AccountState.OPEN.value)
            .values(state=AccountState.CLOSED.value, closed_on=today)
        ).rowcount
        return n == 1

    def set_block_code(self, account_id: int, block_code: str | None) -> None:
        self.conn.execute(
            update(t.credit_accounts).where(t.credit_accounts.c.account_id == account_id).values(block_code=block_code)
        )


class PurchaseRepository:
    def __init__(self, conn: Connection):
        self.conn = conn

    def add(self, **values: Any) -> int:
        if not _PURCHASE_COLUMNS.issuperset(values):  # as insert().values(**values) would refuse them
            raise CompileError("Unconsumed column names: " + ", ".join(sorted(set(values) - _PURCHASE_COLUMNS)))
        return self.conn.execute(_PURCHASE_ADD, values).scalar_one()

    def add_many(self, rows: Sequence[dict[str, Any]]) -> list[int]:
        """Insert purchases in one statement; their ids in the order given."""
        return insert_ids(self.conn, t.purchases, rows)

    def get(self, purchase_id: int) -> Any:
        return self.conn.execute(select(t.purchases).where(t.purchases.c.purchase_id == purchase_id)).first()

    @staticmethod
    def counted_in_windows(windows: Any, today: dt.date) -> Any:
        """A query over ``windows`` (a subquery with ``window_id``, ``account_id``, ``starts_on``,
        ``ends_on``, ``min_payment``): per window, the line's purchases on days ``starts_on ≤ d <
        ends_on`` (and ≤ ``today``) of at least ``min_payment`` net of refunds, not wholly
        refunded — ``payments`` (count) and ``categories`` (distinct merchant categories). The
        campaigns' progress (``huabei.limits``) joins it in one statement."""
        p, w = t.purchases.c, windows.c
        return (
            select(
                w.window_id,
                func.count(p.purchase_id).label("payments"),
                func.count(distinct(p.merchant_category)).label("categories"),
            )
            .select_from(
                windows.join(
                    t.purchases,
                    and_(
                        p.account_id == w.account_id,
                        p.business_date >= w.starts_on,
                        p.business_date < w.ends_on,
                        p.business_date <= today,
                        p.amount - p.refunded >= w.min_payment,
                        p.refunded < p.amount,
                    ),
                )
            )
            .group_by(w.window_id)
        )

    def try_refund(self, purchase_id: int, amount: int) -> bool:
        """Atomically record a refund if it keeps refunded ≤ amount."""
        c = t.purchases.c
        n = self.conn.execute(
            update(t.purchases)
            .where(c.purchase_id == purchase_id, c.refunded + amount <= c.amount)
            .values(refunded=c.refunded + amount)
        ).rowcount
        return n == 1

    def add_refund(self, **values: Any) -> int:
        return self.conn.execute(insert(t.refunds).values(**values).returning(t.refunds.c.refund_id)).scalar_one()

    def add_decline(self, **values: Any) -> None:
        self.conn.execute(insert(t.purchase_declines).values(**values))

    def add_declines(self, rows: Sequence[dict[str, Any]]) -> None:
        """Insert declines in one statement."""
        if rows:
            self.conn.execute(insert(t.purchase_declines), rows)

    def recent(self, account_id: int, since: dt.date, limit: int) -> list[Any]:
        """The line's purchases dated ``since`` or later, newest first, at most ``limit``."""
        c = t.purchases.c
        return list(
            self.conn.execute(
                select(t.purchases)
                .where(c.account_id == account_id, c.business_date >= since)
                .order_by(c.purchase_id.desc())
                .limit(limit)
            )
        )

    def find(self, account_id: int, purchase_ids: Sequence[int]) -> list[Any]:
        """The line's purchases among ``purchase_ids`` (the ones a restriction's evidence names)."""
        c = t.purchases.c
        if not purchase_ids:
            return []
        return list(
            self.conn.execute(
                select(t.purchases)
                .where(c.account_id == account_id, c.purchase_id.in_(list(purchase_ids)))
                .order_by(c.purchase_id.desc())
            )
        )


class RepaymentRepository:
    def __init__(self, conn: Connection):
        self.conn = conn

    def add(self, **values: Any) -> int:
        return self.conn.execute(
            insert(t.repayments).values(**values).returning(t.repayments.c.repayment_id)
        ).scalar_one()

    def recent(self, account_id: int, limit: int) -> list[Any]:
        """The line's latest repayments, newest first."""
        c = t.repayments.c
        return list(
            self.conn.execute(
                select(c.repayment_id, c.amount, c.business_date)
                .where(c.account_id == account_id)
                .order_by(c.repayment_id.desc())
                .limit(limit)
            )
        )


class LimitChangeRepository:
    def __init__(self, conn: Connection):
        self.conn = conn

    def record(
        self,
        changes: Sequence[LimitChange],
        business_date: dt.date,
        created_at: dt.datetime,
        *,
        announce: bool = True,
    ) -> None:
        """Write the ``limit_changes`` rows of ``changes`` and (``announce``) their ``LimitChanged``
        events, each with one batched insert."""
        if not changes:
            return
        bulk_rows(self.conn, t.limit_changes, [c.row(business_date, created_at) for c in changes])
        if announce:
            bulk_rows(self.conn, domain_events, [c.event().row(business_date, created_at) for c in changes])

    def for_account(self, account_id: int) -> list[Any]:
        c = t.limit_changes.c
        return list(self.conn.execute(select(t.limit_changes).where(c.account_id == account_id).order_by(c.change_id)))

    def last_base_changes(self, account_ids: Sequence[int] | None = None) -> list[Any]:
        """(account_id, date of the latest base-limit change) of every line (or of ``account_ids``)."""
        lc = t.limit_changes.c
        q = select(lc.account_id, func.max(lc.business_date)).where(lc.limit_kind == "base")
        if account_ids is not None:
            q = q.where(lc.account_id.in_(list(account_ids)))
        return fetch_rows(self.conn, q.group_by(lc.account_id))

    def latest(self, account_id: int) -> Any:
        """The line's latest limit change (None if never changed)."""
        c = t.limit_changes.c
        return self.conn.execute(
            select(t.limit_changes).where(c.account_id == account_id).order_by(c.change_id.desc()).limit(1)
        ).first()
