"""Unit of work: one database transaction per use case, with its repositories.

``with system.uow() as uow: ...; uow.commit()`` — anything not committed is
rolled back when the block ends, so a use case that fails half-way writes
nothing. The business date is read once per unit of work, inside its
transaction, from the database clock (simulated mode) or the wall clock
(production).
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass, field
from enum import StrEnum
from types import TracebackType

from sqlalchemy import Engine

from huabei.access.repository import AuditRepository, KeyRepository, StaffRepository
from huabei.appeals.repository import AppealRepository
from huabei.batch.repository import BatchRepository, EodRepository
from huabei.billing import repository as rb
from huabei.billing.bureau_repository import BureauRepository
from huabei.billing.check_repository import BillingCheckRepository
from huabei.billing.installment_repository import InstallmentRepository, LineMoveRepository
from huabei.clock import DEFAULT_TZ, WallClock, at_business_date, wall_now
from huabei.config import ProductTerms, default_terms
from huabei.funding.repository import FundingRepository
from huabei.ledger.repository import LedgerRepository
from huabei.limits import repository as lim
from huabei.lines import repository as lr
from huabei.maintenance.repository import MaintenanceRepository
from huabei.passwords.repository import PasswordRepository
from huabei.platform import repositories as r
from huabei.platform import request_audit
from huabei.platform.db import READONLY, make_engine
from huabei.restrictions.repository import RestrictionRepository
from huabei.risk.repository import DecisionRepository, ExternalCreditRepository, PolicyRepository
from huabei.scoring import book as scoring_book
from huabei.scoring import repository as rs
from huabei.sweeps.repository import SweepRepository


class ClockMode(StrEnum):
    SIMULATED = "simulated"  # business date stored in the database (demo, tests)
    SYSTEM = "system"  # wall clock (production)


class UnitOfWork:
    def __init__(self, system: Huabei, readonly: bool = False):
        self.system = system
        self.readonly = readonly
        self._today: dt.date | None = None
        #: what a use case may reuse for the rest of this transaction, by name (e.g. the risk
        #: policies in force, read once for a batch of purchases: no purchase changes them)
        self.cache: dict[str, object] = {}

    def __enter__(self) -> UnitOfWork:
        conn = self.system.engine.connect()
        if self.readonly:
            # one consistent snapshot for every read of the unit of work
            opts = {READONLY: True}
            if conn.dialect.name == "postgresql":
                opts["isolation_level"] = "REPEATABLE READ"
            conn = conn.execution_options(**opts)
        self.conn = conn
        self._tx = conn.begin()
        self.clock = r.ClockRepository(conn)
        self.users = lr.UserRepository(conn)
        self.accounts = lr.AccountRepository(conn)
        self.purchases = lr.PurchaseRepository(conn)
        self.repayments = lr.RepaymentRepository(conn)
        self.ledger = LedgerRepository(conn)
        self.idempotency = r.IdempotencyRepository(conn)
        self.restrictions = RestrictionRepository(conn)
        self.limit_changes = lr.LimitChangeRepository(conn)
        self.events = r.EventRepository(conn)
        self.facts = rs.FactRepository(conn)
        self.credit_record = scoring_book.CreditRecordRepository(conn)
        self.scores = rs.ScoreRepository(conn)
        self.applications = lim.ApplicationRepository(conn)
        self.enrolments = lim.EnrolmentRepository(conn)
        self.billing = rb.BillingRepository(conn)
        self.installments = InstallmentRepository(conn)
        self.line_moves = LineMoveRepository(conn)
        self.eod = EodRepository(conn)
        self.batch = BatchRepository(conn)
        self.bureau = BureauRepository(conn)
        self.billing_check = BillingCheckRepository(conn)
        self.risk_policies = PolicyRepository(conn)
        self.risk_decisions = DecisionRepository(conn)
        self.external_credit = ExternalCreditRepository(conn)
        self.passwords = PasswordRepository(conn)
        self.keys = KeyRepository(conn)
        self.staff = StaffRepository(conn)
        self.audit = AuditRepository(conn)
        self.maintenance = MaintenanceRepository(conn)
        self.appeals = AppealRepository(conn)
        self.sweeps = SweepRepository(conn)
        self.funding = FundingRepository(conn)
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        try:
            if self._tx.is_active:
                self._tx.rollback()
        finally:
            self.conn.close()

    def commit(self) -> None:
        """Commit; the first writing commit of an HTTP request that may change state writes the
        request's audit row in this same transaction (``huabei.platform.request_audit``)."""
        carried = () if self.readonly else request_audit.carried.get()
        if carried:  # several requests' changes in this one transaction: each one's row
            rows = [a for a in carried if not a.closed and a.audit_id is None]
            for a in rows:
                a.written = a.fields()  # its own line, from its own path
                a.audit_id = self.audit.add(at=self.now(), **a.written)
            try:
                self._tx.commit()
            except BaseException:
                for a in rows:
                    a.audit_id = None  # rolled back with the changes: each middleware writes its own
                raise
            return
        audit = None if self.readonly else request_audit.current.get()
        if audit is not None and not audit.closed and audit.audit_id is None and self.audit.written is not None:
            audit.audit_id = self.audit.written  # the use case audited its change itself
        elif audit is not None and not audit.closed and audit.audit_id is None:
            row = audit.fields()
            row["account_id"] = self.events.first_account_id or row.get("account_id")
            audit.written = row
            audit.audit_id = self.audit.add(at=self.now(), **row)
            try:
                self._tx.commit()
            except BaseException:
                audit.audit_id = None  # rolled back with the change: the middleware writes it
                raise
            return
        self._tx.commit()

    @property
    def terms(self) -> ProductTerms:
        return self.system.terms

    def as_of(self, day: dt.date) -> UnitOfWork:
        """Date this unit of work's business day ``day`` (the end-of-day job runs each of its
        steps for the day it books, whatever the clock says by then)."""
        self._today = day
        return self

    def today(self) -> dt.date:
        """The business date, read once. A writing unit of work holds the clock row while it runs
        (``ClockRepository.get(share=True)``), so a date change waits for it: nothing dated the
        old day commits after the date moved (the end-of-day job closes the old day's bills)."""
        if self._today is None:
            share = not self.readonly
            if self.system.clock_mode is ClockMode.SIMULATED:
                stored = self.clock.get(share=share)
                self._today = stored if stored is not None else self.system.wall_clock(self.system.tz).date()
            else:
                if share:
                    self.clock.get(share=True)  # the barrier, before the wall clock is read
                self._today = self.system.wall_clock(self.system.tz).date()
        return self._today

    def now(self) -> dt.datetime:
        """A real timestamp (``huabei.clock``): the wall clock in system mode, the business date
        at the wall clock's time of day in simulated mode."""
        if self.system.clock_mode is ClockMode.SIMULATED:
            return at_business_date(self.today(), self.system.tz, self.system.wall_clock)
        return self.system.wall_clock(self.system.tz)


@dataclass
class Huabei:
    """The running system: an engine, the product terms and the clock mode.

    Every entrypoint (HTTP, CLI, simulation, tests) builds one of these and passes
    it to the service functions.
    """

    engine: Engine
    terms: ProductTerms = field(default_factory=default_terms)
    clock_mode: ClockMode = ClockMode.SIMULATED
    tz: str = DEFAULT_TZ
    #: Where real time comes from (``huabei.clock.wall_now``; tests inject a ``ManualWallClock``).
    wall_clock: WallClock = wall_now
    #: Long-lived helpers of the running system, by name, made on first use (the purchases'
    #: group commit, ``huabei.payments.group_commit``).
    services: dict[str, object] = field(default_factory=dict, repr=False, compare=False)

    def uow(self, readonly: bool = False) -> UnitOfWork:
        return UnitOfWork(self, readonly=readonly)

    @classmethod
    def from_env(cls, url: str | None = None) -> Huabei:
        """``HUABEI_DATABASE_URL``, ``HUABEI_CONFIG`` and ``HUABEI_CLOCK`` (simulated|system)."""
        mode = ClockMode(os.environ.get("HUABEI_CLOCK", ClockMode.SIMULATED.value))
        terms = default_terms()
        return cls(engine=make_engine(url), terms=terms, clock_mode=mode, tz=terms.timezone)
