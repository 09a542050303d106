"""The portfolio simulation: a synthetic population living day by day through the service layer.

Each simulated day::

    the end-of-day job for the day (services.eod.run_eod: it moves the business date and books
        the day before its activity — bills closing on the statement date, interest and
        penalty, overdue marking, delinquency, bureau records; then the score and limit steps
        on their schedule; after downtime it catches up every missed day first. Without the
        billing modules: the core's daily close, lifting restrictions whose date has come)
    operator actions (temporary-limit campaigns)
    every user who has arrived, in user-id order (or split over worker threads):
        apply for a line / read the new bill / repay / convert to installments /
        apply for a raise / join a campaign / lock the account out / refunds due / spend
    every invariant (simulation.invariants) — the first violation stops the run
    on a month's last day: the month's portfolio figures (simulation.report)

Determinism: every draw comes from ``derive(seed, purpose, day, user, …)``; idempotency keys
are ``sim<seed>:<date>:<user>:<action><n>``; users only touch their own line, so splitting a
day's users over threads changes nothing but wall time; no figure of the report depends on a
database id or the wall clock.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from huabei.billing import calendar as cal
from huabei.config import ProductTerms
from huabei.errors import ErrorKind
from huabei.lines.purchase_rules import Channel
from huabei.platform.unit_of_work import Huabei
from huabei.simulation.faults import FaultPlan, InjectedCrash
from huabei.simulation.fraud import FraudActor
from huabei.simulation.gateway import BillView, Result, ServiceGateway
from huabei.simulation.invariants import (
    Expected,
    InvariantChecker,
    SimulationViolation,
    Violation,
)
from huabei.simulation.population import SyntheticUser, build_population, calendar
from huabei.simulation.profiles import BehaviourProfile, PopulationConfig
from huabei.simulation.rng import (
    between,
    chance,
    count_from_per_mille,
    derive,
    jitter,
    pick_keyed,
    pick_weighted,
)

DEFAULT_START = dt.date(2026, 1, 1)
STORED_REFUSALS = (ErrorKind.DECLINED, ErrorKind.UNPROCESSABLE)
#: Opening decisions per bulk request (``gateway.open_lines``: one transaction each).
ONBOARDING_BATCH = 200


class SimulationError(RuntimeError):
    """The simulation cannot run (not a broken invariant: a setup problem)."""


@dataclass(frozen=True)
class RunSpec:
    """Everything that determines a run (and the command that replays it)."""

    users: int
    months: int
    seed: int
    start: dt.date = DEFAULT_START
    until_day: int | None = None
    faults: FaultPlan = field(default_factory=FaultPlan)
    workers: int = 1
    #: Paths given on the command line, only for the replay command and the report's labels.
    policy_path: str | None = None
    population_path: str | None = None
    faults_flag: bool = False
    core_only: bool = False
    #: ``full``: the whole ledger check every day (the default). ``incremental`` (large runs,
    #: benchmarks): each day folds in the postings since the previous check; the whole check,
    #: billing's included, runs on every month's last day.
    checks: str = "full"

    def replay_command(self, day: int) -> str:
        parts = ["huabei simulate", f"--users {self.users}", f"--months {self.months}", f"--seed {self.seed}"]
        if self.start != DEFAULT_START:
            parts.append(f"--start {self.start.isoformat()}")
        if self.policy_path:
            parts.append(f"--policy {self.policy_path}")
        if self.population_path:
            parts.append(f"--population {self.population_path}")
        if self.faults_flag:
            parts.append("--faults")
        if self.core_only:
            parts.append("--core-only")
        parts.append(f"--until-day {day}")
        return " ".join(parts)


@dataclass
class DayTally:
    """What one user (or one day) did: the invariant checker's expectations and the report's counters."""

    expected: Expected = field(default_factory=Expected)
    counts: Counter[str] = field(default_factory=Counter)
    owners: dict[int, str] = field(default_factory=dict)

    def merge(self, other: DayTally) -> None:
        self.expected.merge(other.expected)
        self.counts.update(other.counts)
        self.owners.update(other.owners)


@dataclass(order=True)
class Planned:
    day: dt.date
    seq: int
    action: str = field(compare=False)
    args: dict[str, Any] = field(compare=False, default_factory=dict)


@dataclass
class UserState:
    user: SyntheticUser
    profile: BehaviourProfile
    status: str = "new"  # new | open | declined
    account_id: int | None = None
    registered: bool = False
    next_application_day: int = 0
    bills_seen: int = 0
    stopped: bool = False
    last_statement: str | None = None
    planned_month: str | None = None
    plan: list[Planned] = field(default_factory=list)
    refunds: list[tuple[dt.date, int, int, int]] = field(default_factory=list)  # (day, seq, purchase_id, amount)
    plans: list[int] = field(default_factory=list)  # installment plans the user made, oldest first
    seq: int = 0

    def next_seq(self) -> int:
        self.seq += 1
        return self.seq


class Simulator:
    """One run. ``Simulator(system, spec, population).run()`` returns the report (a dict)."""

    def __init__(
        self,
        system: Huabei,
        spec: RunSpec,
        population: PopulationConfig | None = None,
        *,
        gateway: ServiceGateway | None = None,
        progress: Callable[[int, int, dt.date], None] | None = None,
        checker: InvariantChecker | None = None,
    ):
        from huabei.simulation.report import ReportBuilder

        if spec.users < 1 or spec.months < 1:
            raise SimulationError("a run needs at least one user and one month")
        self.system = system
        self.terms: ProductTerms = system.terms
        self.spec = spec
        self.seed = spec.seed
        self.population = population or PopulationConfig()
        self.gateway = gateway or ServiceGateway(system, core_only=spec.core_only)
        self.days = calendar(spec.start, spec.months)
        self.users = build_population(spec.seed, spec.users, len(self.days), self.population, self.terms)
        self.states = [
            UserState(u, self.population.profiles[u.profile], next_application_day=u.arrival_day) for u in self.users
        ]
        self.owners: dict[int, str] = {}
        self.checker = checker or InvariantChecker(system, mode=spec.checks)
        self.report = ReportBuilder(system, spec, self.population, self.users, self.gateway.capabilities)
        self.fraud = FraudActor(self)
        self.report.truth = self.fraud.truth
        self.progress = progress
        self.faults = spec.faults
        self.fault_counts: Counter[str] = Counter()
        self._lock = threading.Lock()
        self._pool: ThreadPoolExecutor | None = None
        self._day_no, self._day = 0, spec.start

    # --- the run -------------------------------------------------------------------------------

    def run(self) -> dict[str, Any]:
        self._require_empty()
        self.gateway.set_date(self.days[0], first=True)
        month_counts: Counter[str] = Counter()
        skip_until = 0
        last_eod: dt.date | None = None
        if self.spec.workers > 1:
            self._pool = ThreadPoolExecutor(max_workers=self.spec.workers, thread_name_prefix="sim")
        try:
            for day_no, day in enumerate(self.days, 1):
                if day_no <= skip_until:
                    self._tick(day_no, day)
                    continue
                skip = self._skip_length(day_no, day)
                if skip:
                    skip_until = day_no + skip - 1
                    self.fault_counts["skip_days"] += 1
                    self.fault_counts["days_skipped"] += skip
                    self._tick(day_no, day)
                    continue
                self._day_no, self._day = day_no, day
                # the end-of-day job for ``day`` books it before its activity; after downtime
                # it catches up every missed day first
                self._end_of_day(day, catch_up=last_eod is not None and (day - last_eod).days > 1)
                last_eod = day
                tally = DayTally()
                self._operator(day, tally)
                tally.merge(self._users_day(day, day_no))
                self.owners.update(tally.owners)
                self.report.add_owners(tally.owners)
                for k in [k for k in tally.counts if k.startswith("fault:")]:
                    self.fault_counts[k[len("fault:") :]] += tally.counts.pop(k)
                month_end = (day + dt.timedelta(days=1)).day == 1 or day_no == len(self.days)
                self._check(day_no, day, tally.expected, full=month_end)
                month_counts.update(tally.counts)
                if month_end:
                    self.report.close_month(day, month_counts, self.fault_counts)
                    month_counts = Counter()
                self._tick(day_no, day)
                if self.spec.until_day is not None and day_no >= self.spec.until_day:
                    if not month_end:  # the partial month the replay stopped in
                        self.report.close_month(day, month_counts, self.fault_counts)
                    break
        except SimulationViolation as e:
            # what the run saw up to the violation, for --report
            e.report = self.report.build(self.checker.days_checked, self.fault_counts, violation=e.as_dict())
            raise
        except (SimulationError, KeyboardInterrupt):
            raise
        except Exception as exc:
            v = self._violation("service_error", f"{type(exc).__name__}: {exc}")
            v.report = self.report.build(
                self.checker.days_checked,
                self.fault_counts,  # type: ignore[attr-defined]
                violation=v.as_dict(),
            )
            raise v from exc
        finally:
            if self._pool is not None:
                self._pool.shutdown(wait=True)
        return self.report.build(self.checker.days_checked, self.fault_counts)

    def _tick(self, day_no: int, day: dt.date) -> None:
        if self.progress is not None:
            self.progress(day_no, len(self.days), day)

    def _require_empty(self) -> None:
        from sqlalchemy import func, select

        from huabei.platform import schema as t

        with self.system.uow(readonly=True) as uow:
            n = uow.conn.execute(select(func.count()).select_from(t.users)).scalar_one()
        if n:
            raise SimulationError(
                f"the database already holds {n} user(s): a simulation needs an empty, migrated "
                f"database (use --scratch for a throwaway one)"
            )

    def _skip_length(self, day_no: int, day: dt.date) -> int:
        f = self.faults
        if not f.skip_days_per_mille or day_no == 1:
            return 0
        r = derive(self.seed, "fault-skip", day)
        if not chance(r, f.skip_days_per_mille):
            return 0
        n = between(r, f.skip_length)
        last = day + dt.timedelta(days=n - 1)
        month_end = cal.add_months(day.replace(day=1), 1) - dt.timedelta(days=1)
        # never skip a month's last day (the report's snapshot) nor past the end of the run
        if last >= month_end or day_no + n > len(self.days):
            return 0
        if self.spec.until_day is not None and day_no + n > self.spec.until_day:
            return 0
        return n

    def _end_of_day(self, day: dt.date, *, catch_up: bool = False) -> None:
        f = self.faults
        if f.eod_crash_per_mille and chance(derive(self.seed, "fault-eod", day), f.eod_crash_per_mille):
            steps = self.gateway.eod_steps(day)
            if not steps:
                self.fault_counts["eod_crash_unsupported"] += 1
            else:
                target = steps[derive(self.seed, "fault-eod-step", day).randrange(len(steps))]

                def hook(step: str) -> None:
                    if step == target:
                        raise InjectedCrash(f"end-of-day run killed in step {step}")

                try:
                    self.gateway.end_of_day(day, hook=hook)
                except InjectedCrash:
                    self.fault_counts["eod_crash"] += 1
                else:
                    self.fault_counts["eod_crash_missed"] += 1
        self.gateway.end_of_day(day)
        if catch_up:
            self.fault_counts["eod_catch_up"] += 1

    def _check(self, day_no: int, day: dt.date, expected: Expected, *, full: bool = False) -> None:
        found = self.checker.check(day, expected, full=full)
        if found:
            self._raise(day_no, day, found[0], more=len(found) - 1)

    def _raise(self, day_no: int, day: dt.date, v: Violation, more: int = 0) -> None:
        raise SimulationViolation(
            day=day_no,
            date=day,
            invariant=v.invariant,
            detail=v.detail,
            account_id=v.account_id,
            user_id=self.owners.get(v.account_id or -1),
            replay=self.spec.replay_command(day_no),
            more=more,
        )

    def _violation(
        self, invariant: str, detail: str, account_id: int | None = None, user_id: str | None = None
    ) -> SimulationViolation:
        """A violation seen on the users' path (a replay that answered differently, a burst
        that broke the limit): raised at once, on the day it happens."""
        return SimulationViolation(
            day=self._day_no,
            date=self._day,
            invariant=invariant,
            detail=detail,
            account_id=account_id,
            user_id=user_id or self.owners.get(account_id or -1),
            replay=self.spec.replay_command(self._day_no),
        )

    # --- the operator --------------------------------------------------------------------------

    def _operator(self, day: dt.date, tally: DayTally) -> None:
        md = day.strftime("%m-%d")
        lt = self.terms.limits
        for grant in self.population.temporary_limit_grants:
            if grant.on != md:
                continue
            days = min(grant.days, lt.max_temporary_limit_days)
            for st in self.states:
                if st.status != "open" or st.account_id is None:
                    continue
                view = self.gateway.account(st.account_id)
                if view["status"] != "active":
                    continue
                amount = min(
                    lt.max_temporary_limit,
                    int(view["base_limit"]) * grant.percent // 100 // lt.limit_step * lt.limit_step,
                )
                if amount <= 0:
                    continue
                res = self.gateway.grant_temporary_limit(st.account_id, amount, day + dt.timedelta(days=days))
                tally.counts[
                    "temporary_limits_granted" if res.error is None else f"temporary_limit_refused:{res.code}"
                ] += 1

    # --- the users ------------------------------------------------------------------------------

    def _users_day(self, day: dt.date, day_no: int) -> DayTally:
        active = [st for st in self.states if st.user.arrival_day <= day_no]
        total = DayTally()
        self._applications(active, day, day_no, total)
        if self._pool is None or len(active) < 2:
            for st in active:
                total.merge(self._user_day(st, day, day_no))
            return total
        n = self.spec.workers
        chunks = [active[i::n] for i in range(n)]
        for part in self._pool.map(lambda chunk: self._chunk(chunk, day, day_no), chunks):
            total.merge(part)
        return total

    def _chunk(self, chunk: list[UserState], day: dt.date, day_no: int) -> DayTally:
        out = DayTally()
        for st in chunk:
            out.merge(self._user_day(st, day, day_no))
        return out

    def _key(self, day: dt.date, st: UserState, action: str) -> str:
        return f"sim{self.seed}:{day.isoformat()}:{st.user.user_id}:{action}"

    def _applications(self, active: list[UserState], day: dt.date, day_no: int, t: DayTally) -> None:
        """The day's applicants: registered and their facts posted (each user's own requests,
        split over the worker threads like the users' days), then the opening decisions in bulk,
        ``ONBOARDING_BATCH`` at a time (``gateway.open_lines``: one transaction each, the same
        answers as one by one)."""
        due = [st for st in active if st.status in ("new", "declined") and day_no >= st.next_application_day]
        self._register_all([st for st in due if not st.registered], t)
        for k in range(0, len(due), ONBOARDING_BATCH):
            part = due[k : k + ONBOARDING_BATCH]
            results = self.gateway.open_lines([(st.user.user_id, st.user.operator_limit) for st in part])
            for st, res in zip(part, results, strict=True):
                self._opened(st, day_no, res, t)

    def _user_day(self, st: UserState, day: dt.date, day_no: int) -> DayTally:
        t = DayTally()
        if st.status != "open" or st.account_id is None:
            return t
        self._month_plan(st, day, t)
        self._statement(st, day, t)
        self._planned(st, day, t)
        self._refunds_due(st, day, t)
        self._spend(st, day, t)
        self.fraud.act(st, day, t)
        self._burst(st, day, t)
        return t

    def _register_all(self, applicants: list[UserState], t: DayTally) -> None:
        if self._pool is None or len(applicants) < 2:
            for st in applicants:
                self._register(st, t)
            return
        n = self.spec.workers
        for part in self._pool.map(self._register_chunk, [applicants[i::n] for i in range(n)]):
            t.merge(part)

    def _register_chunk(self, chunk: list[UserState]) -> DayTally:
        out = DayTally()
        for st in chunk:
            self._register(st, out)
        return out

    def _register(self, st: UserState, t: DayTally) -> None:
        u = st.user
        if not st.registered:
            res = self.gateway.register(
                user_id=u.user_id, name=u.name, phone=u.phone, verified=u.real_name_verified, profile=u.profile_fields
            )
            if res.error is not None:
                raise SimulationError(f"registering {u.user_id} failed: {res.code}")
            st.registered = True
            t.counts["users_registered"] += 1
            facts = self.gateway.post_facts(u.user_id, {k: v for k, v in u.facts.items() if v is not None})
            if facts.error is not None:
                t.counts[f"facts_refused:{facts.code}"] += 1

    def _opened(self, st: UserState, day_no: int, res: Result, t: DayTally) -> None:
        u = st.user
        t.counts["applications"] += 1
        account_id = res.body.get("account_id") if res.error is None else None
        if account_id is not None and res.body.get("decision", "approved") == "approved":
            st.account_id = int(account_id)
            st.status = "open"
            t.owners[st.account_id] = u.user_id
            t.counts["accounts_opened"] += 1
            t.counts[f"opened:{u.profile}"] += 1
            return
        code = res.code if res.error is not None else str(res.body.get("reason", "declined"))
        t.counts[f"open_declined:{code}"] += 1
        reasons = res.error.params.get("reasons") if res.error is not None else None
        if isinstance(reasons, list) and reasons:
            t.counts[f"open_declined_reason:{reasons[0]}"] += 1
        st.status = "declined"
        again = st.profile.reapply_after_days
        st.next_application_day = day_no + again if again else 10**9

    def _schedule(self, st: UserState, day: dt.date, action: str, **args: Any) -> None:
        st.plan.append(Planned(day, st.next_seq(), action, args))
        st.plan.sort()

    def _month_plan(self, st: UserState, day: dt.date, t: DayTally) -> None:
        month = day.strftime("%Y-%m")
        if st.planned_month == month:
            return
        st.planned_month = month
        p = st.profile
        r = derive(self.seed, "month", month, st.user.user_id)
        first = day.replace(day=1)
        length = cal.days_in_month(day.year, day.month)

        def some_day() -> dt.date:
            return max(day, first + dt.timedelta(days=r.randrange(length)))

        if chance(r, p.lockout_per_mille):
            self._schedule(st, some_day(), "lock_out")
        if chance(r, p.raise_application_per_mille):
            self._schedule(st, some_day(), "apply_for_raise")
        if st.plans and chance(r, p.installments.early_repayment_per_mille):
            self._schedule(st, some_day(), "repay_early", index=r.randrange(len(st.plans)))
        if chance(r, p.campaign_enrol_per_mille) and self.terms.raises.campaigns:
            code = self.terms.raises.campaigns[r.randrange(len(self.terms.raises.campaigns))].code
            self._schedule(st, some_day(), "enrol_campaign", code=code)

    def _statement(self, st: UserState, day: dt.date, t: DayTally) -> None:
        if day.day < self.gateway.statement_day():
            return
        statement_date = day.replace(day=self.terms.billing.statement_day)
        period = cal.period_of_statement(statement_date)
        if st.last_statement == period:
            return
        st.last_statement = period
        assert st.account_id is not None
        bill = self.gateway.statement(st.account_id, statement_date)
        if bill is None or bill.total_due <= 0:
            return
        t.counts["bills_read"] += 1
        st.bills_seen += 1
        beh = st.profile.repayment
        r = derive(self.seed, "bill", bill.period, st.user.user_id)
        if st.stopped:
            if chance(r, beh.cure_per_mille):
                st.stopped = False
                st.bills_seen = 0
                t.counts["cured"] += 1
                self._schedule(st, day + dt.timedelta(days=between(r, (0, 5))), "repay", kind="all", bill=None)
            return
        if st.user.stop_after_bills is not None and st.bills_seen > st.user.stop_after_bills:
            st.stopped = True
            t.counts["stopped_paying"] += 1
            return
        inst = st.profile.installments
        if (
            bill.convertible_until is not None
            and bill.total_due >= inst.min_bill
            and chance(r, inst.bill_conversion_per_mille)
        ):
            self._schedule(st, day, "convert_bill", period=bill.period, term=pick_keyed(r, inst.terms))
        if chance(r, beh.skip_per_mille):
            t.counts["bills_skipped"] += 1
            return
        kind = beh.mode
        if kind == "minimum" and chance(r, beh.full_instead_per_mille):
            kind = "full"
        if chance(r, beh.late_per_mille):
            when = bill.due_date + dt.timedelta(days=between(r, beh.late_days))
            t.counts["late_planned"] += 1
        else:
            when = bill.due_date + dt.timedelta(days=between(r, beh.pay_offset_days))
        self._schedule(st, max(when, day), "repay", kind=kind, bill=bill)

    def _planned(self, st: UserState, day: dt.date, t: DayTally) -> None:
        assert st.account_id is not None
        n = 0
        while st.plan and st.plan[0].day <= day:
            item = st.plan.pop(0)
            n += 1
            key = self._key(day, st, f"{item.action}{n}")
            if item.action == "repay":
                self._repay(st, item.args.get("kind", "full"), item.args.get("bill"), key, t)
            elif item.action == "lock_out":
                res = self.gateway.lock_out(st.account_id)
                t.counts["lockouts" if res.error is None else f"lockout_refused:{res.code}"] += 1
            elif item.action == "apply_for_raise":
                res = self.gateway.apply_for_raise(st.account_id, key)
                if res is not None:
                    decision = res.body.get("decision", res.code) if res.error is None else res.code
                    t.counts[f"raise_application:{decision}"] += 1
            elif item.action == "enrol_campaign":
                res = self.gateway.enrol_campaign(st.account_id, item.args["code"], key)
                if res is not None:
                    t.counts["campaign_enrolled" if res.error is None else f"campaign_refused:{res.code}"] += 1
            elif item.action == "convert_bill":
                res = self.gateway.convert_bill(st.account_id, item.args["period"], item.args["term"], key)
                if res is not None:
                    t.counts["bill_converted" if res.error is None else f"bill_conversion_refused:{res.code}"] += 1
                    self._plan_made(st, res)
            elif item.action == "convert_purchase":
                res = self.gateway.convert_purchase(st.account_id, item.args["purchase_id"], item.args["term"], key)
                if res is not None:
                    t.counts[
                        "purchase_converted" if res.error is None else f"purchase_conversion_refused:{res.code}"
                    ] += 1
                    self._plan_made(st, res)
            elif item.action == "repay_early":
                if not st.plans:
                    continue
                plan_id = st.plans.pop(min(item.args["index"], len(st.plans) - 1))
                account_id = st.account_id
                res = self._money(lambda: self.gateway.repay_installments_early(plan_id, key) or Result(), key, t)
                if res.ok:
                    t.expected.repayment(account_id, int(res.body["amount"]))
                    t.counts["installments_repaid_early"] += 1
                elif res.error is not None:
                    t.counts[f"early_repayment_refused:{res.code}"] += 1

    @staticmethod
    def _plan_made(st: UserState, res: Result) -> None:
        if res.ok and res.body.get("plan_id") is not None:
            st.plans.append(int(res.body["plan_id"]))

    def _repay(self, st: UserState, kind: str, bill: BillView | None, key: str, t: DayTally) -> None:
        assert st.account_id is not None
        amount = self.gateway.repayment_amount(st.account_id, kind, bill)
        if amount <= 0:
            t.counts["repayment_not_needed"] += 1
            return
        res = self._money(lambda: self.gateway.repay(st.account_id, amount, key), key, t)  # type: ignore[arg-type]
        if res.ok:
            t.expected.repayment(st.account_id, amount)
            t.counts[f"repaid_{kind}"] += 1
        else:
            t.counts[f"repayment_refused:{res.code}"] += 1

    def _refunds_due(self, st: UserState, day: dt.date, t: DayTally) -> None:
        assert st.account_id is not None
        n = 0
        while st.refunds and st.refunds[0][0] <= day:
            _, _, purchase_id, amount = st.refunds.pop(0)
            n += 1
            key = self._key(day, st, f"refund{n}")
            res = self._money(lambda: self.gateway.refund(purchase_id, amount, key), key, t)
            if res.ok:
                t.expected.refund(st.account_id, amount)
                t.counts["refunds"] += 1
            else:
                t.counts[f"refund_refused:{res.code}"] += 1

    def _spend(self, st: UserState, day: dt.date, t: DayTally) -> None:
        assert st.account_id is not None
        sp = st.profile.spend
        r = derive(self.seed, "day", day, st.user.user_id)
        lam = (
            sp.purchases_per_year
            * 1000
            * sp.monthly_percent[day.month - 1]
            * sp.peak_days.get(day.strftime("%m-%d"), 100)
            * self.population.activity_percent
            // (365 * 100 * 100 * 100)
        )
        device = f"d-{st.user.user_id}"  # the user's own phone
        for i in range(count_from_per_mille(r, lam)):
            amount = max(100, jitter(r, pick_weighted(r, sp.price_points), sp.jitter_percent))
            amount = min(amount, self.terms.authorisation.max_single_purchase)
            category = pick_keyed(r, sp.categories)
            channel = Channel.OFFLINE if chance(r, sp.offline_per_mille) else Channel.ONLINE
            merchant = f"m-{category}-{r.randrange(sp.merchants_per_category)}"
            key = self._key(day, st, f"buy{i + 1}")
            t.counts["purchase_attempts"] += 1
            res = self._money(
                lambda: self.gateway.purchase(st.account_id, amount, merchant, category, channel, key, device),  # type: ignore[arg-type]
                key,
                t,
            )
            if res.ok:
                t.expected.purchase(st.account_id, amount)
                t.counts["purchases_approved"] += 1
                self._after_purchase(st, day, key, int(res.body["purchase_id"]), amount)
            else:
                if res.error is not None and res.error.kind in STORED_REFUSALS:
                    t.expected.decline(st.account_id)
                t.counts[f"purchase_declined:{res.code}"] += 1

    def _after_purchase(self, st: UserState, day: dt.date, key: str, purchase_id: int, amount: int) -> None:
        r = derive(self.seed, "after-purchase", key)
        sp = st.profile.spend
        if chance(r, sp.refund_per_mille):
            part = (
                amount if not chance(r, sp.partial_refund_per_mille) else max(1, amount * between(r, (10, 90)) // 100)
            )
            when = day + dt.timedelta(days=between(r, sp.refund_delay_days))
            st.refunds.append((when, st.next_seq(), purchase_id, part))
            st.refunds.sort()
        inst = st.profile.installments
        if amount >= inst.min_purchase and chance(r, inst.purchase_conversion_per_mille):
            self._schedule(st, day, "convert_purchase", purchase_id=purchase_id, term=pick_keyed(r, inst.terms))

    # --- faults on the users' path -----------------------------------------------------------

    def _money(self, call: Callable[[], Result], key: str, t: DayTally) -> Result:
        """A money-moving call, sent twice with the same key when the ``retry`` fault fires."""
        f = self.faults
        if not f.retry_per_mille:
            return call()
        r = derive(self.seed, "fault-retry", key)
        if not chance(r, f.retry_per_mille):
            return call()
        if chance(r, f.concurrent_retry_per_mille):
            results: list[Result] = []
            barrier = threading.Barrier(2)

            def twin() -> None:
                barrier.wait()
                results.append(call())

            threads = [threading.Thread(target=twin) for _ in range(2)]
            for th in threads:
                th.start()
            for th in threads:
                th.join()
            a, b = results
            first = a if (a.outcome is not None and not a.outcome.replayed) or b.error is not None else b
            second = b if first is a else a
            t.counts["fault:retry_concurrent"] += 1
        else:
            first = call()
            second = call()
            t.counts["fault:retry"] += 1
        if not _replays(first, second):
            raise self._violation(
                "idempotent_replay",
                f"key {key}: first answer {first.code} {first.body}, replay {second.code} {second.body}",
            )
        return first

    def _burst(self, st: UserState, day: dt.date, t: DayTally) -> None:
        f = self.faults
        if not f.burst_per_mille:
            return
        r = derive(self.seed, "fault-burst", day, st.user.user_id)
        if not chance(r, f.burst_per_mille):
            return
        assert st.account_id is not None
        account_id = st.account_id
        n = between(r, f.burst_size)
        before = self.gateway.account(account_id)
        available = int(before["available"])
        amount = max(100, min(self.terms.authorisation.max_single_purchase, available // max(1, n - 1) + 1))
        expect = 0 if before["status"] != "active" else min(n, available // amount)
        category = "retail"
        results: list[Result] = []
        barrier = threading.Barrier(n)

        def buyer(i: int) -> None:
            barrier.wait()
            res = self.gateway.purchase(
                account_id, amount, "m-burst", category, Channel.ONLINE, self._key(day, st, f"burst{i}")
            )
            with self._lock:
                results.append(res)

        threads = [threading.Thread(target=buyer, args=(i,)) for i in range(n)]
        for th in threads:
            th.start()
        for th in threads:
            th.join()
        approved = [res for res in results if res.ok]
        after = self.gateway.account(account_id)
        t.counts["fault:burst"] += 1
        t.counts["fault:burst_purchases"] += n
        t.counts["fault:burst_approved"] += len(approved)
        for res in results:
            if res.ok:
                t.expected.purchase(account_id, amount)
            elif res.error is not None and res.error.kind in STORED_REFUSALS:
                t.expected.decline(account_id)
        if len(approved) != expect or int(after["used"]) != int(before["used"]) + expect * amount:
            raise self._violation(
                "limit_respected",
                f"a burst of {n} purchases of {amount} fen with {available} fen available "
                f"approved {len(approved)} (expected {expect}); used went {before['used']} -> "
                f"{after['used']}",
                account_id,
                st.user.user_id,
            )


def _replays(first: Result, second: Result) -> bool:
    if first.error is not None or second.error is not None:
        return first.same_answer(second)
    assert first.outcome is not None and second.outcome is not None
    return second.outcome.replayed and first.outcome.status == second.outcome.status and first.body == second.body
