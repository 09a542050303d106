"""The end-of-day job (日终批处理): an ordered list of named steps run for a business date.

``run_eod(system, date=D)`` runs day ``D``; ``run_eod(system, until=D)`` runs every day not
yet run up to ``D``, one after the other (a gap of days is caught up day by day, so it ends
exactly where running each day would). See docs/billing.md, "The end-of-day job".

Semantics
---------
* The job for ``D`` books what happens **on** ``D`` and runs *before* the activity of
  ``D``: it closes the bills whose statement date is ``D``, accrues ``D``'s interest on the
  bills as they stood at the start of ``D``, marks overdue the bills due ``D − 1`` whose
  minimum was not repaid, and so on. Repayments, refunds and installment conversions dated
  ``D`` wait until the job for ``D`` has finished (409 ``eod_pending``).
* Simulated clock (the demo, the tests): the job is how time moves forward — running ``D``
  first sets the business date to ``D`` if it is earlier, then waits for transactions that
  began under the old date. System clock (production): ``D`` may not be after today.
* Days run in order. The first run may start anywhere; after it, ``--date D`` needs ``D − 1``
  done (``eod_days_pending`` otherwise; ``--until`` catches up).
* One bad record never stops the book: a step that fails on a data error (a text the database
  cannot convert, a value a rule cannot take) is rolled back to a savepoint and rerun over
  halves of its population (every step can run over part of it: the user ids or the account
  ids of :meth:`~huabei.batch.steps.Step.population`) until the records it fails on are found;
  those are quarantined (``eod_quarantine``, with their error, reported by the run as
  ``quarantined``) and everything else is done. More than ``operations.eod_max_quarantined``
  failing records is a failure for everyone: the step stops the job as before. Once the data is
  fixed, :func:`retry_quarantined` runs the step again for that record as of its date.
* Idempotent and resumable: each step of a day is one transaction holding its work *and*
  its completion marker (``eod_runs``), inserted first so a concurrent run of the same
  step waits and then finds it done. A crash rolls the step back; the next run skips the
  steps done and redoes the rest. Replaying a day already run changes nothing. The day is
  complete (``eod_days``) when its last step is.

The steps
---------
:data:`STEPS` below is the one place the job's steps and their order are declared. A step
follows the protocol of :mod:`huabei.batch.steps`: a :class:`~huabei.batch.steps.SnapshotStep`
is a set-based reader, a pure decision ``(snapshot, terms, day) -> decisions`` and one writer,
each owned by the capability whose rule it is (the rescoring by ``scoring``, the limit review
by ``limits``), so a backtest or a Spark job calls the same decision; the others are
:class:`~huabei.batch.steps.UnitOfWorkStep` functions ``(uow, day) -> counts`` that read
set-based (never one query per account) and write in batches. To add a step, write its
reader, decision and writer in its capability and add one entry here.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Callable, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.exc import DataError, IntegrityError, OperationalError

from huabei import errors
from huabei.batch.steps import Counts, SnapshotStep, Step, UnitOfWorkStep, idle
from huabei.billing import bureau
from huabei.billing import service as billing
from huabei.i18n import N_
from huabei.limits import campaign_service as campaigns
from huabei.limits import service as limits
from huabei.platform.sql import AccountRange
from huabei.platform.unit_of_work import ClockMode, Huabei, UnitOfWork
from huabei.restrictions import service as restrictions
from huabei.risk import evaluation as risk
from huabei.scoring import service as scoring

log = logging.getLogger("huabei.eod")

#: ``after_step(name, uow)``: called inside a step's transaction after its work, before its
#: completion marker and commit (tests and the simulator's crash fault raise there).
AfterStep = Callable[[str, UnitOfWork], None]


def _lift_restrictions(uow: UnitOfWork, day: dt.date, accounts: AccountRange | None = None) -> Counts:
    return {"lifted": restrictions.lift_due_restrictions(uow, accounts)}


def _settle_campaigns(uow: UnitOfWork, day: dt.date, accounts: AccountRange | None = None) -> Counts:
    return {"settled": campaigns.settle_campaigns(uow, accounts)}


def _every_line(uow: UnitOfWork, day: dt.date) -> list[int]:
    return uow.accounts.every_id()


def _read_risk_of(uow: UnitOfWork, day: dt.date, account_ids: Sequence[int]) -> risk.Snapshot:
    return risk.read(uow, day, list(account_ids))


def _write_scheduled_rescore(uow: UnitOfWork, rescore: scoring.Rescore) -> Counts:
    return {"scored": scoring.write_rescore(uow, rescore, "scheduled")}


def _write_review(uow: UnitOfWork, decisions: limits.ReviewDecisions) -> Counts:
    return {"changed": limits.write_review(uow, decisions)}


def _every_user(uow: UnitOfWork, day: dt.date) -> list[str]:
    return uow.users.ids()


def _read_rescore_of(uow: UnitOfWork, day: dt.date, user_ids: Sequence[str]) -> scoring.RescoreSnapshot:
    return scoring.read_rescore(uow, day, user_ids=user_ids)


def _read_review_of(uow: UnitOfWork, day: dt.date, user_ids: Sequence[str]) -> limits.ReviewSnapshot:
    return limits.read_review(uow, day, user_ids=list(user_ids))


#: The steps, in the order they run. Documented in docs/billing.md; names are stable (they
#: key the completion markers).
STEPS: tuple[Step, ...] = (
    UnitOfWorkStep(
        "close_bills",
        "on a statement date, close every line's bill: lines, totals, minimum, fees charged, credit applied",
        billing.close_bills_step,
    ),
    UnitOfWorkStep(
        "accrue_interest",
        "revolving interest of the day on what a minimum repayment left unpaid (and on carried balances)",
        billing.accrue_interest_step,
    ),
    UnitOfWorkStep(
        "mark_overdue",
        "bills whose minimum was not repaid by their due date become overdue; their lines are blocked",
        billing.mark_overdue_step,
    ),
    UnitOfWorkStep("accrue_penalty", "penalty interest of the day on overdue bills", billing.accrue_penalty_step),
    UnitOfWorkStep(
        "delinquency",
        "days past due and bucket per line; BecameOverdue / DelinquencyBucketChanged / DelinquencyCured events",
        billing.delinquency_step,
    ),
    # after delinquency, so the day's overdue events count
    SnapshotStep(
        "refresh_scores",
        "on the scheduled day (monthly by default), every user is rescored; history kept",
        read=scoring.read_rescore,
        decide=scoring.decide_rescore,
        write=_write_scheduled_rescore,
        due=scoring.rescoring_due,
        idle={"scored": 0},
        keys=_every_user,
        read_keys=_read_rescore_of,
    ),
    # after the rescoring (a score below the threshold) and before the limit review (which cuts
    # lines held for cash-out) and the date-based lifting
    SnapshotStep(
        "risk_rules",
        "the active risk policy's daily rules over every open line: restrictions placed and lifted "
        "with evidence; a shadow policy's decisions recorded only (docs/risk.md)",
        read=risk.read,
        decide=risk.decide,
        write=risk.write,
        idle={"restricted": 0, "lifted": 0, "signals": 0, "shadow": 0},
        keys=_every_line,
        read_keys=_read_risk_of,
        key_kind="account",
    ),
    SnapshotStep(
        "reevaluate_limits",
        "on the scheduled day (monthly by default), every open line is reviewed against the "
        "limit policy: raises and cuts with reason codes",
        read=limits.read_review,
        decide=limits.decide_review,
        write=_write_review,
        due=limits.review_due,
        idle={"changed": 0},
        keys=_every_user,
        read_keys=_read_review_of,
    ),
    UnitOfWorkStep(
        "expire_temporary_limits",
        "temporary limits expiring today end; the change is recorded",
        billing.expire_temporary_limits_step,
    ),
    UnitOfWorkStep("lift_restrictions", "restrictions whose lifting date has come are lifted", _lift_restrictions),
    UnitOfWorkStep(
        "settle_campaigns",
        "raise challenges: completed tasks get their reward, windows over expire",
        _settle_campaigns,
    ),
    UnitOfWorkStep(
        "bureau_records",
        "on the first day of a month, the credit-bureau record of every line for the month before",
        bureau.bureau_step,
    ),
)


@dataclass
class StepReport:
    name: str
    status: str  # ran | done_before
    counts: dict[str, Any]
    seconds: float = 0.0
    #: ``{"kind", "record", "error"}`` of each record the step set aside this run
    quarantined: list[dict[str, str]] = field(default_factory=list)


@dataclass
class DayReport:
    business_date: dt.date
    steps: list[StepReport] = field(default_factory=list)


@dataclass
class EodReport:
    days: list[DayReport]
    last_completed: dt.date | None
    business_date: dt.date

    def as_dict(self) -> dict[str, Any]:
        return {
            "last_completed": self.last_completed.isoformat() if self.last_completed else None,
            "business_date": self.business_date.isoformat(),
            "days": [
                {
                    "business_date": d.business_date.isoformat(),
                    "steps": [
                        {
                            "name": s.name,
                            "status": s.status,
                            "counts": s.counts,
                            "seconds": round(s.seconds, 3),
                            "quarantined": s.quarantined,
                        }
                        for s in d.steps
                    ],
                }
                for d in self.days
            ],
        }


def status(system: Huabei) -> dict[str, Any]:
    with system.uow(readonly=True) as uow:
        last = uow.eod.last_completed()
        return {
            "last_completed": last.isoformat() if last else None,
            "business_date": uow.today().isoformat(),
            "steps": [{"name": s.name, "description": s.description} for s in STEPS],
            "quarantined": [quarantine_view(q) for q in uow.eod.quarantined(latest=50, open_only=True)],
        }


_KIND = {s.name: s.key_kind for s in STEPS}


def quarantine_view(q: Any) -> dict[str, Any]:
    """A quarantined record as the API, the CLI and the report show it."""
    return {
        "quarantine_id": q.quarantine_id,
        "business_date": q.business_date.isoformat(),
        "step": q.step,
        "kind": _KIND.get(q.step, "user"),
        "record": q.record,
        "error": q.error,
        "retried_at": q.retried_at.isoformat() if q.retried_at else None,
        "retry_counts": q.retry_counts,
    }


def retry_quarantined(system: Huabei, quarantine_id: int, actor: str = "operator") -> dict[str, Any]:
    """Run the step a record was quarantined from again, for that record only and as of the
    day it failed on (once its data is fixed), in one transaction. Success marks the record
    retried (it leaves the open list); a failure changes nothing and says why."""
    with system.uow() as uow:
        q = uow.eod.quarantined_record(quarantine_id, for_update=True)
        if q is None:
            raise errors.not_found("eod_quarantine_not_found", quarantine_id=quarantine_id)
        if q.retried_at is not None:
            raise errors.conflict("eod_quarantine_retried", quarantine_id=quarantine_id, at=q.retried_at.isoformat())
        step = next((s for s in STEPS if s.name == q.step), None)
        if step is None:  # pragma: no cover - a step renamed since (names are stable)
            raise errors.conflict("eod_quarantine_retry_failed", quarantine_id=quarantine_id, error=q.step)
        key: Any = int(q.record) if step.key_kind == "account" else q.record
        dated = uow.as_of(q.business_date)  # service code sees the record's business date
        sp = uow.conn.begin_nested()
        try:
            counts = step.run_one(dated, q.business_date, key)
        except Exception as e:
            sp.rollback()
            if not _bad_data(e):
                raise
            raise errors.conflict(
                "eod_quarantine_retry_failed", quarantine_id=quarantine_id, error=_describe(e)
            ) from None
        sp.commit()
        uow.eod.retried(quarantine_id, counts, actor, uow.now())
        uow.commit()
    with system.uow(readonly=True) as ro:
        return quarantine_view(ro.eod.quarantined_record(quarantine_id))


def pending_days(system: Huabei, *, until: dt.date) -> int:
    """How many days ``run_eod(until=…)`` would run now (0 when done already)."""
    with system.uow(readonly=True) as uow:
        last, today = uow.eod.last_completed(), uow.today()
    start = last + dt.timedelta(days=1) if last is not None else min(today, until)
    return max(0, (until - start).days + 1)


def run_eod(
    system: Huabei,
    *,
    date: dt.date | None = None,
    until: dt.date | None = None,
    after_step: AfterStep | None = None,
    on_day: Callable[[DayReport], None] | None = None,
) -> EodReport:
    """Run the job for ``date``, or for every day not run yet up to ``until``. ``after_step``
    (see :data:`AfterStep`) lets a test or the simulator kill the run mid-way; ``on_day`` is told
    each day as it completes (progress of a long run)."""
    if (date is None) == (until is None):
        raise errors.invalid("invalid_request", detail=N_("give either a date or an until date, not both"))
    with system.uow(readonly=True) as uow:
        last, today = uow.eod.last_completed(), uow.today()
    target = date or until
    assert target is not None
    if system.clock_mode is not ClockMode.SIMULATED and target > today:
        raise errors.unprocessable("eod_date_in_future", date=target.isoformat(), today=today.isoformat())
    if date is not None:
        if last is not None and date <= last:
            return EodReport([_replayed(system, date)], last, today)
        if last is not None and date > last + dt.timedelta(days=1):
            raise errors.conflict(
                "eod_days_pending", first=(last + dt.timedelta(days=1)).isoformat(), date=date.isoformat()
            )
        days = [date]
    else:
        assert until is not None
        start = last + dt.timedelta(days=1) if last is not None else min(today, until)
        n = (until - start).days + 1
        most = system.terms.operations.eod_max_days_per_run
        if n > most:
            raise errors.unprocessable(
                "eod_range_too_long",
                first=start.isoformat(),
                until=until.isoformat(),
                days=n,
                most=most,
                latest=(start + dt.timedelta(days=most - 1)).isoformat(),
            )
        days = [start + dt.timedelta(days=i) for i in range(n)]
    reports = []
    for d in days:
        reports.append(_run_day(system, d, after_step))
        if on_day is not None:
            on_day(reports[-1])
    with system.uow(readonly=True) as uow:
        return EodReport(reports, uow.eod.last_completed(), uow.today())


def _replayed(system: Huabei, day: dt.date) -> DayReport:
    with system.uow(readonly=True) as uow:
        order = {s.name: i for i, s in enumerate(STEPS)}
        runs = sorted(uow.eod.runs(day), key=lambda r: (order.get(r.step, len(order)), r.step))
        return DayReport(day, [StepReport(r.step, "done_before", r.counts) for r in runs])


def _run_day(system: Huabei, day: dt.date, after_step: AfterStep | None = None) -> DayReport:
    # each retry follows a step another run committed first, so progress bounds the retries
    for _attempt in range(len(STEPS) + 3):
        done = _open_day(system, day)
        try:
            return _run_steps(system, day, done, after_step)
        except IntegrityError:
            # a concurrent run of the same day committed a step first: start again from
            # what it has done (our own uncommitted work was rolled back)
            with system.uow(readonly=True) as uow:
                if not uow.eod.runs(day):
                    raise
    with system.uow(readonly=True) as uow:  # pragma: no cover - concurrent runs kept winning
        last, today = uow.eod.last_completed(), uow.today()
    raise errors.conflict(
        "eod_busy", date=day.isoformat(), seconds=0, business_date=str(today), last_completed=str(last)
    )


def _run_steps(system: Huabei, day: dt.date, done: dict[str, Any], after_step: AfterStep | None = None) -> DayReport:
    """Run the day's steps not done yet. Each step's work and its completion marker are in
    one transaction; a step that changed nothing shares the transaction of the next one
    (its marker commits with that step's work, or is rolled back with it), so a quiet day
    costs one commit. The last step's transaction also completes the day."""
    report = DayReport(day)
    steps = list(STEPS)
    pending: list[StepReport] = []
    with ExitStack() as stack:
        uow: UnitOfWork | None = None
        for i, step in enumerate(steps):
            last = i == len(steps) - 1
            if step.name in done:
                report.steps.append(StepReport(step.name, "done_before", done[step.name]))
                if not last:
                    continue
            else:
                if uow is None:
                    # service code called by a step sees the step's business date
                    uow = stack.enter_context(system.uow()).as_of(day)
                started, t0 = uow.now(), time.perf_counter()
                counts, bad = _run_isolating(uow, step, day)
                if bad:
                    counts = {**counts, "quarantined": len(bad)}
                    uow.eod.quarantine(day, step.name, bad, uow.now())
                    log.warning("eod %s %s: %d record(s) quarantined: %s", day, step.name, len(bad), bad[:5])
                if after_step is not None:
                    after_step(step.name, uow)
                uow.eod.mark(day, step.name, counts, started, uow.now())
                rep = StepReport(
                    step.name,
                    "ran",
                    counts,
                    time.perf_counter() - t0,
                    [{"kind": step.key_kind, "record": r, "error": e} for r, e in bad],
                )
                report.steps.append(rep)
                pending.append(rep)
                log.info("eod %s %s: %s (%.3fs)", day, step.name, counts, rep.seconds)
            if uow is not None and (last or not idle(pending[-1].counts)):
                if last and step.name not in done:
                    uow.eod.complete_day(day, uow.now())
                uow.commit()
                stack.close()
                uow, pending = None, []
    return report


def _bad_data(e: BaseException) -> bool:
    """An error of the data of some record (the step is rerun around it), as opposed to a
    conflict between concurrent runs, a lock wait or a refusal (never isolated)."""
    if isinstance(e, errors.HuabeiError | IntegrityError):
        return False
    return isinstance(e, DataError | ValueError | ArithmeticError | LookupError | TypeError)


def _describe(e: BaseException) -> str:
    orig = getattr(e, "orig", None) or e
    first = (str(orig).strip().splitlines() or [""])[0]
    text_ = f"{type(orig).__name__}: {first}"[:500]
    return "".join(ch if ch.isprintable() else "?" for ch in text_)


def _add(total: Counts, counts: Counts) -> Counts:
    out = dict(total)
    for k, v in counts.items():
        if isinstance(v, int) and not isinstance(v, bool) and isinstance(out.get(k, 0), int):
            out[k] = out.get(k, 0) + v
        else:
            out[k] = v
    return out


def _run_isolating(uow: UnitOfWork, step: Step, day: dt.date) -> tuple[Counts, list[tuple[str, str]]]:
    """Run ``step`` in a savepoint; on a data error, isolate the records it fails on (see the
    module docstring). Returns the counts and the ``(record, error)`` pairs set aside."""
    sp = uow.conn.begin_nested()
    try:
        counts = step.run(uow, day)
    except Exception as first:
        sp.rollback()
        keys = step.population(uow, day) if _bad_data(first) else None
        if keys is None:
            raise
        log.warning("eod %s %s failed (%s): isolating the records it fails on", day, step.name, _describe(first))
        return _bisect(uow, step, day, list(keys), first)
    sp.commit()
    return counts, []


def _bisect(
    uow: UnitOfWork, step: Step, day: dt.date, keys: list[Any], first: Exception
) -> tuple[Counts, list[tuple[str, str]]]:
    """Run ``step`` over halves of ``keys`` (index ranges), each in a savepoint, halving a part
    that fails until one record is left: that record is set aside with its error."""
    cap = uow.terms.operations.eod_max_quarantined
    totals: Counts = dict(getattr(step, "idle", {}))
    bad: list[tuple[str, str]] = []
    n = len(keys)
    if n == 0:  # no record to blame: not one record's data
        raise first
    parts = [(n // 2, n), (0, n // 2)]
    while parts:
        i, j = parts.pop()
        if i >= j:
            continue
        sp = uow.conn.begin_nested()
        try:
            counts = step.run_part(uow, day, keys, i, j)
        except Exception as e:
            sp.rollback()
            if not _bad_data(e):
                raise
            if j - i > 1:
                m = (i + j) // 2
                parts += [(m, j), (i, m)]
                continue
            bad.append((str(keys[i]), _describe(e)))
            if len(bad) > cap:  # failing for everyone: not one record's data
                raise first from e
            continue
        sp.commit()
        totals = _add(totals, counts)
    if not bad:  # the whole failed and no part did: not a record's data
        raise first
    return totals, bad


def _open_day(system: Huabei, day: dt.date) -> dict[str, Any]:
    """The steps of ``day`` already done; in simulated mode, first move the business date
    forward to ``day`` (never back). The move waits behind the clock's barrier for every
    transaction still writing under the old date (``ClockRepository.move``), so the bill closing
    sees all of it; in system mode the job takes the same barrier without moving anything. A
    wait longer than ``operations.clock_barrier_timeout_seconds`` is ``eod_busy``, with nothing
    changed."""
    timeout = system.terms.operations.clock_barrier_timeout_seconds
    with system.uow() as uow:
        done = {r.step: r.counts for r in uow.eod.runs(day)}
        current = uow.clock.get()
        if system.clock_mode is ClockMode.SIMULATED and current is not None and current >= day:
            return done  # the date moved here already, behind the barrier
        try:
            if current is None or system.clock_mode is ClockMode.SIMULATED:
                uow.clock.move(day, system.wall_clock(system.tz), timeout)
            else:
                uow.clock.lock(timeout)
        except OperationalError:
            with system.uow(readonly=True) as ro:
                last = ro.eod.last_completed()
            raise errors.conflict(
                "eod_busy",
                date=day.isoformat(),
                seconds=int(timeout),
                business_date=str(current),
                last_completed=str(last),
            ) from None
        uow.commit()
    return done
