"""Fraud schemes the synthetic users carry out, and the ground truth the run records.

A profile with ``fraud`` (:class:`~huabei.simulation.profiles.FraudBehaviour`) behaves like any
other user and, from a day drawn after its line opens, also runs its scheme through the same
service layer the host would call:

* ``cash_out_ring`` (套现): purchases of whole hundreds of yuan at one of a few colluding
  merchants shared by every ring member (``m-ring-<k>``), about ``ring_purchases_per_month``
  a month;
* ``score_brushing`` (刷分): in some months a burst of tiny purchases (under 10 yuan) across
  as many scenarios, followed the same day by a limit-raise application;
* ``takeover`` (盗用): on the takeover day the phone number and the bank card are changed
  (换绑), then the taker buys from new payment devices over the next days; the owner
  re-verifies their identity (身份核验) some days later;
* ``overdue_elsewhere``: the host reports the user 31+ days past due on another credit product,
  and reports it cleared later.

The ground truth is :meth:`FraudActor.truth`: for each user, the freeze causes their profile
truly deserves (``BehaviourProfile.truth``) — from the scheme's first day for a fraud profile
(a scheme that never started is no truth), for the whole run otherwise. The report measures
each risk rule's precision and recall against it (``simulation.report.risk_section``).

Determinism: every draw comes from ``derive(seed, "fraud", …, user)``; the ordinary behaviour's
draws are untouched, so adding a scheme to a profile changes nothing of the others.
"""

from __future__ import annotations

import datetime as dt
import threading
from dataclasses import dataclass
from typing import Any

from huabei.errors import ErrorKind
from huabei.lines.purchase_rules import Channel
from huabei.simulation.rng import between, chance, count_from_per_mille, derive, pick_weighted

#: The engine's types (``Simulator``, ``UserState``, ``DayTally``): the engine imports this module,
#: so they are not imported back (no cycle inside the package).
Simulator = UserState = DayTally = Any

STORED_REFUSALS = (ErrorKind.DECLINED, ErrorKind.UNPROCESSABLE)


@dataclass
class Scheme:
    opened_on: dt.date
    starts_on: dt.date
    started: bool = False
    ends_on: dt.date | None = None  # takeover: the owner re-verifies; overdue elsewhere: cleared


class FraudActor:
    """The schemes of one run. ``act`` is called for every open line each day, after its
    ordinary activity (users only touch their own line: safe over worker threads)."""

    def __init__(self, sim: Simulator):
        self.sim = sim
        self.schemes: dict[str, Scheme] = {}
        self._lock = threading.Lock()

    def truth(self) -> dict[str, tuple[str, ...]]:
        """user id → the causes the user truly deserves, for every user whose truth is known."""
        out: dict[str, tuple[str, ...]] = {}
        for st in self.sim.states:
            causes = st.profile.truth
            if not causes:
                continue
            if st.profile.fraud is not None:
                scheme = self.schemes.get(st.user.user_id)
                if scheme is None or not scheme.started:
                    continue
            out[st.user.user_id] = causes
        return dict(sorted(out.items()))

    def act(self, st: UserState, day: dt.date, t: DayTally) -> None:
        fraud = st.profile.fraud
        if fraud is None or st.account_id is None:
            return
        uid = st.user.user_id
        scheme = self.schemes.get(uid)
        if scheme is None:
            r = derive(self.sim.seed, "fraud-start", uid)
            scheme = Scheme(day, day + dt.timedelta(days=between(r, fraud.starts_after_days)))
            with self._lock:
                self.schemes[uid] = scheme
        if day < scheme.starts_on:
            return
        first = not scheme.started
        if first:
            scheme.started = True
            t.counts[f"fraud_started:{fraud.kind}"] += 1
        getattr(self, f"_{fraud.kind}")(st, day, t, scheme, first)

    # --- the schemes ---------------------------------------------------------------------------

    def _buy(
        self,
        st: UserState,
        day: dt.date,
        t: DayTally,
        action: str,
        amount: int,
        merchant: str,
        category: str,
        device: str | None = None,
    ) -> bool:
        sim, account_id = self.sim, st.account_id
        assert account_id is not None
        key = sim._key(day, st, action)
        t.counts["purchase_attempts"] += 1
        t.counts[f"fraud_purchase_attempts:{st.profile.fraud.kind if st.profile.fraud else '-'}"] += 1
        res = sim._money(
            lambda: sim.gateway.purchase(account_id, amount, merchant, category, Channel.ONLINE, key, device), key, t
        )
        if res.ok:
            t.expected.purchase(account_id, amount)
            t.counts["purchases_approved"] += 1
            return True
        if res.error is not None and res.error.kind in STORED_REFUSALS:
            t.expected.decline(account_id)
        t.counts[f"purchase_declined:{res.code}"] += 1
        return False

    def _cash_out_ring(self, st: UserState, day: dt.date, t: DayTally, scheme: Scheme, first: bool) -> None:
        f = st.profile.fraud
        assert f is not None
        r = derive(self.sim.seed, "fraud", day, st.user.user_id)
        merchant = f"m-ring-{st.user.index % f.ring_merchants}"
        for i in range(count_from_per_mille(r, f.ring_purchases_per_month * 1000 // 30)):
            amount = pick_weighted(r, f.ring_amounts) // 10_000 * 10_000  # whole hundreds of yuan
            self._buy(st, day, t, f"ring{i + 1}", max(10_000, amount), merchant, "retail")

    def _score_brushing(self, st: UserState, day: dt.date, t: DayTally, scheme: Scheme, first: bool) -> None:
        f = st.profile.fraud
        assert f is not None
        # at most one burst a month, on a day drawn for the month
        r = derive(self.sim.seed, "fraud-month", day.strftime("%Y-%m"), st.user.user_id)
        if not chance(r, f.bursts_per_month_per_mille) or day.day != 1 + r.randrange(28):
            return
        categories = sorted(st.profile.spend.categories)
        r.shuffle(categories)
        n = between(r, f.burst_purchases)
        for i in range(n):
            amount = between(r, f.tiny_amount)
            self._buy(st, day, t, f"tiny{i + 1}", amount, f"m-tiny-{i}", categories[i % len(categories)])
        assert st.account_id is not None
        res = self.sim.gateway.apply_for_raise(st.account_id, self.sim._key(day, st, "brush-raise"))
        if res is not None:
            t.counts["fraud_raise_applications"] += 1

    def _takeover(self, st: UserState, day: dt.date, t: DayTally, scheme: Scheme, first: bool) -> None:
        f = st.profile.fraud
        assert f is not None and st.account_id is not None
        uid = st.user.user_id
        r = derive(self.sim.seed, "fraud-takeover", uid)  # the whole plan, drawn once
        changes = between(r, f.detail_changes)
        devices = between(r, f.taker_devices)
        buys = between(r, f.taker_purchases)
        buy_days = sorted(between(r, (0, 2)) for _ in range(buys))
        amounts = [pick_weighted(r, f.taker_amounts) for _ in range(buys)]
        phones = [f"138{r.randrange(10**8):08d}" for _ in range(changes)]
        cards = [f"6222****{r.randrange(10**4):04d}" for _ in range(changes)]
        reverify = scheme.starts_on + dt.timedelta(days=between(r, f.reverify_after_days))
        offset = (day - scheme.starts_on).days
        if first:
            for i in range(changes):
                res = self.sim.gateway.change_contact(uid, phone=phones[i], bank_card=cards[i])
                t.counts["fraud_contact_changes" if res.error is None else f"contact_change_refused:{res.code}"] += 1
        for i, (d, amount) in enumerate(zip(buy_days, amounts)):
            if d == offset:
                device = f"taker-{uid}-{i % devices}"
                self._buy(st, day, t, f"taker{i + 1}", amount, f"m-digital_goods-{i}", "digital_goods", device)
        if day == reverify:
            res = self.sim.gateway.verify_identity(uid)
            t.counts["identity_verified" if res.error is None else f"verification_refused:{res.code}"] += 1

    def _overdue_elsewhere(self, st: UserState, day: dt.date, t: DayTally, scheme: Scheme, first: bool) -> None:
        f = st.profile.fraud
        assert f is not None
        uid = st.user.user_id
        r = derive(self.sim.seed, "fraud-elsewhere", uid)
        dpd = between(r, f.days_past_due)
        amount = pick_weighted(r, f.amount_overdue)
        clears = scheme.starts_on + dt.timedelta(days=between(r, f.clears_after_days))
        if first:
            res = self.sim.gateway.report_external_credit(uid, dpd, amount)
            t.counts["external_overdue_reported" if res.error is None else f"external_refused:{res.code}"] += 1
        elif day == clears:
            res = self.sim.gateway.report_external_credit(uid, 0, 0)
            t.counts["external_overdue_cleared" if res.error is None else f"external_refused:{res.code}"] += 1
