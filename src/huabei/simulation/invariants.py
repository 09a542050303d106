"""The books, checked after every simulated day with set-based queries (none per account).

=============================  ==============================================================
invariant                      what it says
=============================  ==============================================================
``ledger:<finding>``           everything :func:`huabei.batch.books.ledger_check` proves:
                               every entry balances, ``used`` and ``credit_balance`` equal
                               their postings, no refund above its purchase, no negative
                               balance — and, once billing is installed, its own checks
                               (bills add up to the fen, receivables equal the bills, …)
``limit_respected``            nothing was approved beyond the limit: a line whose ``used``
                               exceeds its total limit (base + unexpired temporary) got
                               there only by a limit decrease (a cut, an expired or replaced
                               temporary limit) — never by a purchase approved since the
                               previous check, and never without a cause. Everywhere else
                               ``used + available = total limit``
``nothing_lost_or_doubled``    every purchase, refund, repayment and decline the service
                               layer answered (first answers, not replays) is stored exactly
                               once: counts and sums per account since the previous check
                               equal what the simulation was told
``block_matches_restrictions`` a line is frozen (``block_code account_frozen:…``) exactly
                               when it has an active restriction that blocks purchases
``delinquency_consistent``     (billing) no account is both current and in a delinquency
                               bucket: bucket ``current`` ⇔ 0 days past due ⇔ no overdue bill
=============================  ==============================================================

The first violation stops the run (:class:`SimulationViolation`) with the day, the account,
the invariant and the command that replays the run up to that day.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import and_, case, exists, func, literal, select

from huabei.batch import books
from huabei.billing.repository import dpd_bucket_sql
from huabei.ledger.repository import LedgerRepository
from huabei.ledger.rules import BALANCE_COLUMNS, validate
from huabei.lines.repository import temporary_limit_in_force
from huabei.platform import schema as t
from huabei.platform.unit_of_work import Huabei
from huabei.restrictions.causes import CAUSES, Capability

#: Purchase-blocking restriction causes (from the catalogue, not hard-coded).
BLOCKING_CAUSES = tuple(sorted(c for c, cause in CAUSES.items() if Capability.PURCHASE in cause.blocks))

ORDER = ("ledger", "limit_respected", "nothing_lost_or_doubled", "block_matches_restrictions", "delinquency_consistent")


@dataclass(frozen=True)
class Violation:
    invariant: str
    detail: str
    account_id: int | None = None

    def sort_key(self) -> tuple[int, str, int]:
        head = self.invariant.split(":", 1)[0]
        return (ORDER.index(head) if head in ORDER else len(ORDER), self.invariant, self.account_id or 0)


class SimulationViolation(AssertionError):
    """The first broken invariant of a run: when, where, what, and how to replay it."""

    def __init__(
        self,
        *,
        day: int,
        date: dt.date,
        invariant: str,
        detail: str,
        account_id: int | None,
        user_id: str | None,
        replay: str,
        more: int = 0,
    ):
        self.day = day
        self.date = date
        self.invariant = invariant
        self.detail = detail
        self.account_id = account_id
        self.user_id = user_id
        self.replay = replay
        self.more = more
        where = f"account {account_id} (user {user_id})" if account_id is not None else "the books"
        extra = f" (+{more} more violation(s) that day)" if more else ""
        super().__init__(
            f"day {day} ({date.isoformat()}): invariant {invariant} broken on {where}: {detail}{extra}\n"
            f"replay: {replay}"
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "day": self.day,
            "date": self.date.isoformat(),
            "invariant": self.invariant,
            "detail": self.detail,
            "account_id": self.account_id,
            "user_id": self.user_id,
            "replay": self.replay,
            "more": self.more,
        }


@dataclass
class Expected:
    """What the service layer answered since the previous check, per account:
    [purchases, purchase fen, refunds, refund fen, repayments, repayment fen, declines]."""

    per_account: dict[int, list[int]] = field(default_factory=dict)

    def add(self, account_id: int, slot: int, amount: int) -> None:
        row = self.per_account.setdefault(account_id, [0] * 7)
        if slot == 6:
            row[6] += 1
            return
        row[slot] += 1
        row[slot + 1] += amount

    def purchase(self, account_id: int, amount: int) -> None:
        self.add(account_id, 0, amount)

    def refund(self, account_id: int, amount: int) -> None:
        self.add(account_id, 2, amount)

    def repayment(self, account_id: int, amount: int) -> None:
        self.add(account_id, 4, amount)

    def decline(self, account_id: int) -> None:
        self.add(account_id, 6, 0)

    def merge(self, other: Expected) -> None:
        for acct, row in other.per_account.items():
            mine = self.per_account.setdefault(acct, [0] * 7)
            for i, v in enumerate(row):
                mine[i] += v


def _int(v: Any) -> int:
    return int(v or 0)


class InvariantChecker:
    """Runs every invariant for a day. Keeps only watermarks (the highest ids already
    checked) and the set of lines over their limit at the previous check."""

    def __init__(
        self, system: Huabei, *, mode: str = "full", extra: Iterable[Callable[[Any, dt.date], list[Violation]]] = ()
    ):
        if mode not in ("full", "incremental"):
            raise ValueError("the ledger check mode is full or incremental")
        self.system = system
        self.mode = mode
        self.extra = list(extra)
        #: incremental mode: the running balance of every customer ledger account, from the
        #: postings seen so far, and the highest entry and posting ids already folded in
        self.balances: dict[tuple[int, str], int] = {}
        self.ledger_marks = {"entry": 0, "posting": 0}
        self.last_check: dt.date | None = None
        self.over_limit: set[int] = set()
        self.marks = {"purchase": 0, "refund": 0, "repayment": 0, "decline": 0, "limit_change": 0}
        self.days_checked = 0

    # --- entry point ---------------------------------------------------------------------

    def check(self, today: dt.date, expected: Expected, *, full: bool = False) -> list[Violation]:
        """Every invariant for ``today``. In ``incremental`` mode the ledger part folds in only
        the postings made since the previous check (and the whole ledger check, billing's
        included, runs when ``full`` — the engine asks on every month's last day)."""
        incremental = self.mode == "incremental" and not full
        out = [] if incremental else self.ledger()
        with self.system.uow(readonly=True) as uow:
            conn = uow.conn
            if incremental:
                out += self.ledger_incremental(conn)
            else:
                self._rebase(conn)
            marks = self._marks(conn)
            out += self.limits(conn, today, marks)
            out += self.conservation(conn, expected, marks)
            out += self.blocks(conn)
            out += self.delinquency(conn)
            for fn in self.extra:
                out += fn(conn, today)
        self.marks = marks
        self.last_check = today
        if not out:
            self.days_checked += 1
        return sorted(out, key=Violation.sort_key)

    def _marks(self, conn: Any) -> dict[str, int]:
        def mx(col: Any) -> int:
            return _int(conn.execute(select(func.max(col))).scalar())

        return {
            "purchase": mx(t.purchases.c.purchase_id),
            "refund": mx(t.refunds.c.refund_id),
            "repayment": mx(t.repayments.c.repayment_id),
            "decline": mx(t.purchase_declines.c.decline_id),
            "limit_change": mx(t.limit_changes.c.change_id),
        }

    # --- the invariants ------------------------------------------------------------------

    def ledger(self) -> list[Violation]:
        rep = books.ledger_check(self.system)
        return [Violation(f"ledger:{f.invariant}", f.detail, f.credit_account_id) for f in rep.findings]

    def _rebase(self, conn: Any) -> None:
        """After a full check: the running balances start again from the whole ledger."""
        if self.mode != "incremental":
            return
        p, e = t.postings.c, t.journal_entries.c
        self.ledger_marks = {
            "entry": _int(conn.execute(select(func.max(e.entry_id))).scalar()),
            "posting": _int(conn.execute(select(func.max(p.posting_id))).scalar()),
        }
        self.balances = {
            (acct, la): total
            for acct, la, total in LedgerRepository(conn).posting_totals(upto_posting=self.ledger_marks["posting"])
        }

    def ledger_incremental(self, conn: Any) -> list[Violation]:
        """The core ledger invariants from the postings since the previous check, with the ledger
        check's own queries and rules (huabei.ledger): every new entry balances, and every line's
        stored balances (``ledger.rules.BALANCE_COLUMNS``) equal the running sums of its postings."""
        p, e, a = t.postings.c, t.journal_entries.c, t.credit_accounts.c
        top_e = _int(conn.execute(select(func.max(e.entry_id))).scalar())
        top_p = _int(conn.execute(select(func.max(p.posting_id))).scalar())
        lo_e, lo_p = self.ledger_marks["entry"], self.ledger_marks["posting"]
        repo = LedgerRepository(conn)
        unbalanced = repo.unbalanced_entries(lo_e, top_e)
        for acct, la, total in repo.posting_totals(lo_p, top_p):
            self.balances[(acct, la)] = self.balances.get((acct, la), 0) + total
        columns = [getattr(a, column) for column, _, _ in BALANCE_COLUMNS]
        mismatches = [
            (acct, column, stored, sign * self.balances.get((acct, la.value), 0))
            for acct, *values in conn.execute(select(a.account_id, *columns).order_by(a.account_id))
            for (column, la, sign), stored in zip(BALANCE_COLUMNS, values, strict=True)
            if stored != sign * self.balances.get((acct, la.value), 0)
        ]
        rep = validate(
            unbalanced_entries=unbalanced,
            balance_mismatches=mismatches,
            over_refunded=(),
            negative_balances=(),
            counts=(0, 0, 0),
        )
        self.ledger_marks = {"entry": top_e, "posting": top_p}
        return [Violation(f"ledger:{f.invariant}", f.detail, f.credit_account_id) for f in rep.findings]

    def limits(self, conn: Any, today: dt.date, marks: dict[str, int]) -> list[Violation]:
        a, p, lc = t.credit_accounts.c, t.purchases.c, t.limit_changes.c
        total = a.base_limit + temporary_limit_in_force(today)
        last = self.last_check or dt.date.min
        bought = (
            select(p.account_id, func.count().label("n"))
            .where(p.purchase_id > self.marks["purchase"], p.purchase_id <= marks["purchase"])
            .group_by(p.account_id)
            .subquery()
        )
        cut = exists().where(
            lc.account_id == a.account_id, lc.change_id > self.marks["limit_change"], lc.new_value < lc.old_value
        )
        expired = and_(
            a.temporary_limit_expires_on.is_not(None),
            a.temporary_limit_expires_on > last,
            a.temporary_limit_expires_on <= today,
        )
        rows = conn.execute(
            select(
                a.account_id,
                a.used,
                total.label("total"),
                func.coalesce(bought.c.n, 0),
                case((cut, literal(True)), else_=literal(False)),
                case((expired, literal(True)), else_=literal(False)),
            )
            .select_from(t.credit_accounts.outerjoin(bought, bought.c.account_id == a.account_id))
            .where(a.state == "open", a.used > total)
            .order_by(a.account_id)
        ).all()
        out: list[Violation] = []
        now_over: set[int] = set()
        for account_id, used, tot, n_bought, was_cut, was_expired in rows:
            now_over.add(account_id)
            decreased = bool(was_cut) or bool(was_expired)
            if n_bought and not decreased:
                out.append(
                    Violation(
                        "limit_respected",
                        f"used {used} fen exceeds the total limit {tot} fen after "
                        f"{n_bought} purchase(s) approved since the previous check",
                        account_id,
                    )
                )
            elif not n_bought and not decreased and account_id not in self.over_limit:
                out.append(
                    Violation(
                        "limit_respected",
                        f"used {used} fen exceeds the total limit {tot} fen with no "
                        f"limit decrease and no purchase since the previous check",
                        account_id,
                    )
                )
        self.over_limit = now_over
        return out

    def conservation(self, conn: Any, expected: Expected, marks: dict[str, int]) -> list[Violation]:
        stored: dict[int, list[int]] = {}

        def gather(table: Any, id_col: Any, slot: int, mark: str, amount: Any | None) -> None:
            cols = [table.c.account_id, func.count()] + ([func.sum(amount)] if amount is not None else [])
            for row in conn.execute(
                select(*cols).where(id_col > self.marks[mark], id_col <= marks[mark]).group_by(table.c.account_id)
            ):
                r = stored.setdefault(row[0], [0] * 7)
                r[slot] = _int(row[1])
                if amount is not None:
                    r[slot + 1] = _int(row[2])

        gather(t.purchases, t.purchases.c.purchase_id, 0, "purchase", t.purchases.c.amount)
        gather(t.refunds, t.refunds.c.refund_id, 2, "refund", t.refunds.c.amount)
        gather(t.repayments, t.repayments.c.repayment_id, 4, "repayment", t.repayments.c.amount)
        gather(t.purchase_declines, t.purchase_declines.c.decline_id, 6, "decline", None)
        names = ("purchases", "purchase fen", "refunds", "refund fen", "repayments", "repayment fen", "declines")
        out: list[Violation] = []
        for account_id in sorted(set(stored) | set(expected.per_account)):
            have = stored.get(account_id, [0] * 7)
            want = expected.per_account.get(account_id, [0] * 7)
            if have != want:
                diffs = ", ".join(f"{n}: stored {h}, answered {w}" for n, h, w in zip(names, have, want) if h != w)
                out.append(Violation("nothing_lost_or_doubled", diffs, account_id))
        return out

    def blocks(self, conn: Any) -> list[Violation]:
        a, r = t.credit_accounts.c, t.restrictions.c
        blocking = exists().where(r.account_id == a.account_id, r.active.is_(True), r.cause.in_(BLOCKING_CAUSES))
        frozen = a.block_code.like("account_frozen:%")
        rows = conn.execute(
            select(a.account_id, a.block_code, case((blocking, literal(True)), else_=literal(False)))
            .where((frozen & ~blocking) | (blocking & a.block_code.is_(None)))
            .order_by(a.account_id)
        ).all()
        return [
            Violation(
                "block_matches_restrictions",
                f"block_code {code!r} but {'an' if has else 'no'} active purchase-blocking restriction",
                account_id,
            )
            for account_id, code, has in rows
        ]

    def delinquency(self, conn: Any) -> list[Violation]:
        """Billing's delinquency, read only: no account both current and in a delinquency
        bucket. As of the day's end-of-day run every overdue bill has put its line in a
        bucket and blocked it; a repayment later in the day may clear a bill (the bucket
        follows at the next run), so only these directions hold all day."""
        md = t.metadata.tables
        if "account_delinquency" not in md or "bills" not in md:
            return []
        d, b, a = md["account_delinquency"].c, md["bills"].c, t.credit_accounts.c
        expected = dpd_bucket_sql(d.days_past_due)
        out = [
            Violation("delinquency_consistent", f"bucket {bucket!r} with {dpd} days past due", acct)
            for acct, bucket, dpd in conn.execute(
                select(d.account_id, d.bucket, d.days_past_due).where(d.bucket != expected).order_by(d.account_id)
            )
        ]
        overdue = select(b.account_id).where(b.status == "overdue").distinct().subquery()
        dq = md["account_delinquency"]
        for acct, bucket, dpd, _code in conn.execute(
            select(overdue.c.account_id, d.bucket, d.days_past_due, a.block_code)
            .select_from(
                overdue.outerjoin(dq, d.account_id == overdue.c.account_id).join(
                    t.credit_accounts, a.account_id == overdue.c.account_id
                )
            )
            .where((d.bucket.is_(None)) | (d.bucket == "current") | (a.block_code.is_(None)))
            .order_by(overdue.c.account_id)
        ):
            if bucket in (None, "current"):
                out.append(
                    Violation(
                        "delinquency_consistent",
                        f"an overdue bill but the line is {bucket or 'not tracked'} ({dpd} days past due)",
                        acct,
                    )
                )
            else:
                out.append(Violation("delinquency_consistent", "an overdue bill but purchases are not blocked", acct))
        has_overdue = exists().where(b.account_id == a.account_id, b.status == "overdue")
        for (acct,) in conn.execute(
            select(a.account_id).where(a.block_code == "account_overdue", ~has_overdue).order_by(a.account_id)
        ):
            out.append(Violation("delinquency_consistent", "blocked account_overdue without an overdue bill", acct))
        return out
