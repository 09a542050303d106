"""Repositories: the only code that writes SQL. Each works on the unit of work's connection.

Hot-path rule: the available-limit check and the debit are one conditional UPDATE
(:meth:`AccountRepository.try_debit`), never read-then-write in Python.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import BigInteger, Connection, Date, bindparam, case, func, insert, literal, select, update
from sqlalchemy.exc import CompileError

from huabei.domain.accounts import AccountState, CreditLine
from huabei.domain.ledger import Entry, LedgerAccount, LedgerReport, validate, validate_billing
from huabei.store import tables as t


@dataclass(frozen=True)
class Debit:
    """An approved debit: the available limit left, and the part on the temporary limit."""

    available: int
    on_temporary_limit: int


# --- hot-path statements (purchase authorisation) ---------------------------------------
# Built once, executed with a parameter dict: SQLAlchemy then finds the compiled form from the
# statement's memoised cache key instead of rebuilding and coercing the statement (and every
# value in it) on each call. The SQL sent is the same as building them per call; only the bind
# names differ. Bind names must not clash with the column names of the table being updated.
_ca = t.credit_accounts.c


def temporary_limit_in_force(today: Any) -> Any:
    """SQL of :func:`huabei.domain.accounts.temporary_limit_on` over ``credit_accounts``: the
    temporary limit counts on the days before its expiry date, else 0. ``today`` is a date or
    a bound parameter. Every statement that needs a line's total limit uses this one form."""
    a = t.credit_accounts.c
    return case((a.temporary_limit_expires_on > today, a.temporary_limit), else_=0)


_debit_temp = temporary_limit_in_force(bindparam("debit_today", type_=Date))
_debit_amount = bindparam("debit_amount", type_=BigInteger)
_TRY_DEBIT = (
    update(t.credit_accounts)
    .where(_ca.account_id == bindparam("debit_account_id", type_=_ca.account_id.type), _ca.state == "open",
           _ca.block_code.is_(None), _ca.used + _debit_amount <= _ca.base_limit + _debit_temp)
    .values(used=_ca.used + _debit_amount)
    .returning(_ca.base_limit + _debit_temp - _ca.used, _ca.used, _ca.base_limit)
)
_CLOCK_GET = select(t.business_clock.c.business_date).where(t.business_clock.c.id == 1)
_ik = t.idempotency_keys.c
_IDEMPOTENCY_GET = select(_ik.request_hash, _ik.status, _ik.response).where(
    _ik.scope == bindparam("idem_scope", type_=_ik.scope.type), _ik.key == bindparam("idem_key", type_=_ik.key.type))
_IDEMPOTENCY_PUT = insert(t.idempotency_keys)
_PURCHASE_ADD = insert(t.purchases).returning(t.purchases.c.purchase_id)
_PURCHASE_COLUMNS = frozenset(t.purchases.c.keys())
_ENTRY_ADD = insert(t.journal_entries).returning(t.journal_entries.c.entry_id)
_POSTINGS_ADD = insert(t.postings)
del _ca, _ik


def _row_to_line(r: Any) -> CreditLine:
    return CreditLine(
        account_id=r.account_id, user_id=r.user_id, state=AccountState(r.state),
        base_limit=r.base_limit, temporary_limit=r.temporary_limit,
        temporary_limit_expires_on=r.temporary_limit_expires_on, used=r.used,
        credit_balance=r.credit_balance, block_code=r.block_code, due_day=r.due_day,
        opened_on=r.opened_on,
    )


class ClockRepository:
    def __init__(self, conn: Connection):
        self.conn = conn

    def get(self) -> dt.date | None:
        return self.conn.execute(_CLOCK_GET).scalar()

    def set(self, day: dt.date, now: dt.datetime) -> None:
        n = self.conn.execute(update(t.business_clock).where(t.business_clock.c.id == 1)
                              .values(business_date=day, updated_at=now)).rowcount
        if n == 0:
            self.conn.execute(insert(t.business_clock).values(id=1, business_date=day, updated_at=now))


class UserRepository:
    def __init__(self, conn: Connection):
        self.conn = conn

    def exists(self, user_id: str) -> bool:
        return self.conn.execute(select(literal(1)).where(t.users.c.user_id == user_id)).first() is not None

    def add(self, **values: Any) -> None:
        self.conn.execute(insert(t.users).values(**values))

    def get(self, user_id: str) -> Any:
        return self.conn.execute(select(t.users).where(t.users.c.user_id == user_id)).first()


class AccountRepository:
    def __init__(self, conn: Connection):
        self.conn = conn

    def add(self, **values: Any) -> int:
        return self.conn.execute(insert(t.credit_accounts).values(**values).returning(t.credit_accounts.c.account_id)).scalar_one()

    def get(self, account_id: int, *, for_update: bool = False) -> CreditLine | None:
        q = select(t.credit_accounts).where(t.credit_accounts.c.account_id == account_id)
        if for_update:
            q = q.with_for_update()
        r = self.conn.execute(q).first()
        return _row_to_line(r) if r else None

    def ids(self, limit: int, starting_after: int | None = None) -> list[int]:
        c = t.credit_accounts.c
        q = select(c.account_id)
        if starting_after is not None:
            q = q.where(c.account_id < starting_after)
        return list(self.conn.execute(q.order_by(c.account_id.desc()).limit(limit)).scalars())

    def open_account_of(self, user_id: str) -> int | None:
        c = t.credit_accounts.c
        return self.conn.execute(select(c.account_id).where(c.user_id == user_id, c.state == "open")).scalar()

    def try_debit(self, account_id: int, amount: int, today: dt.date) -> int | None:
        """Atomically add ``amount`` to ``used`` if the line is open, unblocked and has
        the available limit on ``today``. Returns the new available limit, or None
        when no row matched (the caller explains why)."""
        debit = self.try_debit_detail(account_id, amount, today)
        return debit.available if debit is not None else None

    def try_debit_detail(self, account_id: int, amount: int, today: dt.date) -> Debit | None:
        """:meth:`try_debit`, also saying how much of ``amount`` fell on the temporary limit
        (临时额度): what takes ``used`` above the base limit. The same single UPDATE."""
        row = self.conn.execute(_TRY_DEBIT, {"debit_account_id": account_id, "debit_amount": amount,
                                             "debit_today": today}).first()
        if row is None:
            return None
        available, used, base = row
        before = used - amount
        return Debit(available=available, on_temporary_limit=max(0, used - max(base, before)))

    def change_balances(self, account_id: int, *, used: int = 0, credit_balance: int = 0) -> None:
        c = t.credit_accounts.c
        self.conn.execute(update(t.credit_accounts).where(c.account_id == account_id)
                          .values(used=c.used + used, credit_balance=c.credit_balance + credit_balance))

    def set_base_limit(self, account_id: int, base_limit: int) -> None:
        self.conn.execute(update(t.credit_accounts).where(t.credit_accounts.c.account_id == account_id)
                          .values(base_limit=base_limit))

    def set_temporary_limit(self, account_id: int, amount: int, expires_on: dt.date | None) -> None:
        self.conn.execute(update(t.credit_accounts).where(t.credit_accounts.c.account_id == account_id)
                          .values(temporary_limit=amount, temporary_limit_expires_on=expires_on))

    def set_block_code(self, account_id: int, block_code: str | None) -> None:
        self.conn.execute(update(t.credit_accounts).where(t.credit_accounts.c.account_id == account_id)
                          .values(block_code=block_code))


class PurchaseRepository:
    def __init__(self, conn: Connection):
        self.conn = conn

    def add(self, **values: Any) -> int:
        if not _PURCHASE_COLUMNS.issuperset(values):  # as insert().values(**values) would refuse them
            raise CompileError("Unconsumed column names: " + ", ".join(sorted(set(values) - _PURCHASE_COLUMNS)))
        return self.conn.execute(_PURCHASE_ADD, values).scalar_one()

    def get(self, purchase_id: int) -> Any:
        return self.conn.execute(select(t.purchases).where(t.purchases.c.purchase_id == purchase_id)).first()

    def try_refund(self, purchase_id: int, amount: int) -> bool:
        """Atomically record a refund if it keeps refunded ≤ amount."""
        c = t.purchases.c
        n = self.conn.execute(update(t.purchases)
                              .where(c.purchase_id == purchase_id, c.refunded + amount <= c.amount)
                              .values(refunded=c.refunded + amount)).rowcount
        return n == 1

    def add_refund(self, **values: Any) -> int:
        return self.conn.execute(insert(t.refunds).values(**values).returning(t.refunds.c.refund_id)).scalar_one()

    def add_decline(self, **values: Any) -> None:
        self.conn.execute(insert(t.purchase_declines).values(**values))


class RepaymentRepository:
    def __init__(self, conn: Connection):
        self.conn = conn

    def add(self, **values: Any) -> int:
        return self.conn.execute(insert(t.repayments).values(**values).returning(t.repayments.c.repayment_id)).scalar_one()


class LedgerRepository:
    def __init__(self, conn: Connection):
        self.conn = conn

    def post(self, entry: Entry, now: dt.datetime) -> int:
        if not entry.is_balanced():  # the domain builder refuses these; belt and braces
            raise ValueError("refusing to post an unbalanced entry")
        entry_id = self.conn.execute(_ENTRY_ADD, {
            "kind": entry.kind.value, "account_id": entry.credit_account_id, "ref_id": entry.ref_id,
            "amount": entry.amount, "memo": entry.memo, "business_date": entry.business_date, "created_at": now,
        }).scalar_one()
        self.conn.execute(_POSTINGS_ADD, [
            {"entry_id": entry_id, "ledger_account": p.ledger_account.value, "account_id": p.credit_account_id,
             "merchant_id": p.merchant_id, "amount": p.amount, "business_date": entry.business_date}
            for p in entry.postings
        ])
        return entry_id

    def entries(self, account_id: int, limit: int, starting_after: int | None) -> list[Any]:
        c = t.journal_entries.c
        q = select(t.journal_entries).where(c.account_id == account_id)
        if starting_after is not None:
            q = q.where(c.entry_id < starting_after)
        return list(self.conn.execute(q.order_by(c.entry_id.desc()).limit(limit + 1)))

    def postings(self, account_id: int, limit: int, starting_after: int | None) -> list[Any]:
        c = t.postings.c
        q = select(t.postings).where(c.account_id == account_id)
        if starting_after is not None:
            q = q.where(c.posting_id < starting_after)
        return list(self.conn.execute(q.order_by(c.posting_id.desc()).limit(limit + 1)))

    def check(self) -> LedgerReport:
        """One validation pass over the whole ledger, set-based (no per-account queries)."""
        p, a, e, pu = t.postings.c, t.credit_accounts.c, t.journal_entries.c, t.purchases.c
        counts = (
            self.conn.execute(select(func.count()).select_from(t.journal_entries)).scalar_one(),
            self.conn.execute(select(func.count()).select_from(t.postings)).scalar_one(),
            self.conn.execute(select(func.count()).select_from(t.credit_accounts)).scalar_one(),
        )
        sums = (select(p.entry_id, func.sum(p.amount).label("total"), func.count().label("n"))
                .group_by(p.entry_id).subquery())
        unbalanced = self.conn.execute(
            select(e.entry_id, func.coalesce(sums.c.total, 0), func.coalesce(sums.c.n, 0))
            .select_from(t.journal_entries.outerjoin(sums, sums.c.entry_id == e.entry_id))
            .where((func.coalesce(sums.c.total, 0) != 0) | (func.coalesce(sums.c.n, 0) < 2))
            .order_by(e.entry_id)
        ).all()
        orphans = self.conn.execute(
            select(p.entry_id, func.sum(p.amount), func.count())
            # NOT EXISTS, an anti-join: NOT IN (subquery) goes quadratic on PostgreSQL once the
            # subquery no longer fits in work_mem (millions of entries)
            .where(~select(e.entry_id).where(e.entry_id == p.entry_id).exists()).group_by(p.entry_id)
        ).all()
        mismatches: list[tuple[int, str, int, int]] = []
        for column, ledger_account, sign in (("used", LedgerAccount.CUSTOMER_PRINCIPAL, 1),
                                             ("credit_balance", LedgerAccount.CUSTOMER_CREDIT, -1)):
            per_acct = (select(p.account_id, func.sum(p.amount).label("total"))
                        .where(p.ledger_account == ledger_account.value)
                        .group_by(p.account_id).subquery())
            stored = getattr(a, column)
            summed = sign * func.coalesce(per_acct.c.total, 0)
            rows = self.conn.execute(
                select(a.account_id, stored, summed)
                .select_from(t.credit_accounts.outerjoin(per_acct, per_acct.c.account_id == a.account_id))
                .where(stored != summed).order_by(a.account_id)
            ).all()
            mismatches += [(r[0], column, r[1], r[2]) for r in rows]
            # postings on customer accounts whose credit line does not exist
            ghost = self.conn.execute(
                select(per_acct.c.account_id, per_acct.c.total)
                .where(~select(a.account_id).where(a.account_id == per_acct.c.account_id).exists())
            ).all()
            mismatches += [(r[0], column, 0, sign * r[1]) for r in ghost]
        over = self.conn.execute(select(pu.purchase_id, pu.amount, pu.refunded)
                                 .where((pu.refunded > pu.amount) | (pu.refunded < 0))).all()
        negative = self.conn.execute(select(a.account_id, a.used, a.credit_balance)
                                     .where((a.used < 0) | (a.credit_balance < 0))).all()
        neg = [(r[0], "used", r[1]) for r in negative if r[1] < 0] + [(r[0], "credit_balance", r[2]) for r in negative if r[2] < 0]
        return validate(unbalanced_entries=[tuple(r) for r in unbalanced] + [tuple(r) for r in orphans],
                        balance_mismatches=mismatches, over_refunded=[tuple(r) for r in over],
                        negative_balances=neg, counts=counts, billing=self._billing_findings())

    def _billing_findings(self) -> list[Any]:
        """The billing invariants (docs/ledger.md): bills add up, receivables equal what
        bills and unbilled records say, no idle credit balance."""
        from huabei.store.repositories_billing import BillingRepository, EodRepository

        last_close = EodRepository(self.conn).last_close()
        return validate_billing(**BillingRepository(self.conn).check(last_close))


class IdempotencyRepository:
    def __init__(self, conn: Connection):
        self.conn = conn

    def get(self, scope: str, key: str) -> Any:
        return self.conn.execute(_IDEMPOTENCY_GET, {"idem_scope": scope, "idem_key": key}).first()

    def put(self, scope: str, key: str, request_hash: str, status: int, response: dict[str, Any], now: dt.datetime) -> None:
        self.conn.execute(_IDEMPOTENCY_PUT, {"scope": scope, "key": key, "request_hash": request_hash,
                                             "status": status, "response": response, "created_at": now})


class RestrictionRepository:
    def __init__(self, conn: Connection):
        self.conn = conn

    def add(self, **values: Any) -> int:
        return self.conn.execute(insert(t.restrictions).values(**values).returning(t.restrictions.c.restriction_id)).scalar_one()

    def active(self, account_id: int) -> list[Any]:
        c = t.restrictions.c
        return list(self.conn.execute(select(t.restrictions).where(c.account_id == account_id, c.active.is_(True))
                                      .order_by(c.restriction_id)))

    def get(self, restriction_id: int) -> Any:
        return self.conn.execute(select(t.restrictions).where(t.restrictions.c.restriction_id == restriction_id)).first()

    def lift(self, restriction_ids: Sequence[int], *, on: dt.date, by: str, reason: str) -> None:
        c = t.restrictions.c
        self.conn.execute(update(t.restrictions).where(c.restriction_id.in_(list(restriction_ids)), c.active.is_(True))
                          .values(active=False, lifted_on=on, lifted_by=by, lift_reason=reason))

    def due_to_lift(self, today: dt.date) -> list[Any]:
        c = t.restrictions.c
        return list(self.conn.execute(select(c.restriction_id, c.account_id, c.cause)
                                      .where(c.active.is_(True), c.lifts_on.is_not(None), c.lifts_on <= today)
                                      .order_by(c.account_id, c.restriction_id)))


class LimitChangeRepository:
    def __init__(self, conn: Connection):
        self.conn = conn

    def add(self, **values: Any) -> int:
        return self.conn.execute(insert(t.limit_changes).values(**values).returning(t.limit_changes.c.change_id)).scalar_one()

    def for_account(self, account_id: int) -> list[Any]:
        c = t.limit_changes.c
        return list(self.conn.execute(select(t.limit_changes).where(c.account_id == account_id).order_by(c.change_id)))


class EventRepository:
    def __init__(self, conn: Connection):
        self.conn = conn

    def add(self, event_type: str, *, payload: dict[str, Any], business_date: dt.date, now: dt.datetime,
            account_id: int | None = None, user_id: str | None = None) -> None:
        self.conn.execute(insert(t.domain_events).values(event_type=event_type, account_id=account_id, user_id=user_id,
                                                         payload=payload, business_date=business_date, created_at=now))

    def for_account(self, account_id: int, event_type: str | None = None) -> list[Any]:
        c = t.domain_events.c
        q = select(t.domain_events).where(c.account_id == account_id)
        if event_type:
            q = q.where(c.event_type == event_type)
        return list(self.conn.execute(q.order_by(c.event_id)))


