"""Maintenance windows (系统维护) on SQLite and PostgreSQL: a purchase inside a window in its
scope is declined 402 maintenance with the end time; repayments keep working; a window that ends
before it starts or has already ended is refused; overlaps are allowed; cancelling ends it."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from tests.conftest import buy, make_system, new_account

from huabei.batch import books
from huabei.billing import plans
from huabei.clock import ManualWallClock
from huabei.config import FundingPartner, FundingTerms, ProductTerms
from huabei.errors import HuabeiError
from huabei.lines.purchase_rules import Channel, PurchaseRequest
from huabei.maintenance import service as maintenance
from huabei.payments import service as payments
from huabei.platform import schema as t
from huabei.platform.unit_of_work import Huabei

SH = ZoneInfo("Asia/Shanghai")
T0 = dt.datetime(2026, 11, 2, 1, 0, tzinfo=SH)  # 01:00 on the business date 2026-11-02
PARTNER = FundingPartner(code="bank_a", name="Bank A", name_zh="甲银行")


@pytest.fixture
def msystem(db_url: str) -> Iterator[Huabei]:
    s = make_system(db_url, ProductTerms(funding=FundingTerms(partners=(PARTNER,))))
    s.wall_clock = ManualWallClock(T0)
    yield s
    s.engine.dispose()


def at(hour: int, minute: int = 0) -> dt.datetime:
    return T0.replace(hour=hour, minute=minute)


def attempt(system: Huabei, aid: int, channel: Channel = Channel.ONLINE) -> HuabeiError | None:
    try:
        buy_on(system, aid, channel)
        return None
    except HuabeiError as e:
        return e


_n = {"n": 0}


def buy_on(system: Huabei, aid: int, channel: Channel) -> None:
    _n["n"] += 1
    payments.authorise_purchase(system, PurchaseRequest(aid, 1_000, "m-1", "retail", channel), f"mw-{_n['n']}")


def code(fn, *a, **kw) -> str:  # type: ignore[no-untyped-def]
    with pytest.raises(HuabeiError) as ei:
        fn(*a, **kw)
    return ei.value.code


def test_a_purchase_inside_a_window_is_declined_with_its_end_and_repayments_work(msystem: Huabei) -> None:
    aid = new_account(msystem)
    buy(msystem, aid, 5_000)
    plan = plans.create_purchase_installments(msystem, buy(msystem, aid, 30_000).body["purchase_id"], 3, "i-1").body
    w = maintenance.schedule(msystem, starts_at=at(2), ends_at=at(4), reason="database upgrade", scope="everyone")
    assert w["status"] == "upcoming" and w["ends_at"] == "2026-11-02T04:00:00+08:00"
    assert attempt(msystem, aid) is None  # 01:00: before it
    msystem.wall_clock.set(at(2))  # type: ignore[attr-defined]
    e = attempt(msystem, aid)
    assert e is not None and e.code == "maintenance" and e.kind.value == "declined"
    assert e.params["ends_at"] == "2026-11-02 04:00"
    assert dt.datetime.fromisoformat(e.params["ends_at_iso"]) == at(4)
    assert payments.repay(msystem, aid, 1_000, "repay-in-window").status == 201
    # repaying an installment plan early is a repayment too: it works inside the window
    assert plans.repay_installments_early(msystem, plan["plan_id"], "early-in-window").status == 201
    assert maintenance.listing(msystem)[0]["status"] == "active"
    msystem.wall_clock.set(at(3, 59))  # type: ignore[attr-defined]
    assert attempt(msystem, aid, Channel.OFFLINE) is not None
    msystem.wall_clock.set(at(4))  # type: ignore[attr-defined]
    assert attempt(msystem, aid) is None  # the end is excluded
    assert (
        maintenance.listing(msystem) == [] and maintenance.listing(msystem, "ended")[0]["window_id"] == w["window_id"]
    )
    with msystem.engine.connect() as c:
        declines = c.execute(select(t.purchase_declines.c.code).where(t.purchase_declines.c.account_id == aid)).all()
    assert [d[0] for d in declines] == ["maintenance", "maintenance"]
    assert books.ledger_check(msystem).ok


def test_scopes_overlaps_and_the_latest_end(msystem: Huabei) -> None:
    aid = new_account(msystem)
    maintenance.schedule(
        msystem, starts_at=at(1), ends_at=at(3), reason="offline acquirer", scope="channel", target="offline"
    )
    assert attempt(msystem, aid, Channel.ONLINE) is None
    assert code(buy_on, msystem, aid, Channel.OFFLINE) == "maintenance"
    maintenance.schedule(
        msystem, starts_at=at(0, 30), ends_at=at(5), reason="bank A batch", scope="funding", target="bank_a"
    )
    assert attempt(msystem, aid, Channel.ONLINE) is None  # a platform-funded line
    with msystem.engine.begin() as c:
        c.execute(t.credit_accounts.update().values(funding_source="bank_a"))
    e = attempt(msystem, aid, Channel.OFFLINE)
    assert e is not None and e.params["ends_at"] == "2026-11-02 05:00"  # the latest end of the two
    overlapping = maintenance.schedule(msystem, starts_at=at(1), ends_at=at(6), reason="everything", scope="everyone")
    e = attempt(msystem, aid, Channel.ONLINE)
    assert e is not None and e.params["ends_at"] == "2026-11-02 06:00"
    cancelled = maintenance.cancel(msystem, overlapping["window_id"], reason="done early")
    assert cancelled["status"] == "cancelled" and cancelled["cancel_reason"] == "done early"
    assert code(maintenance.cancel, msystem, overlapping["window_id"]) == "maintenance_window_closed"
    assert code(maintenance.cancel, msystem, 999) == "maintenance_window_not_found"
    assert attempt(msystem, aid, Channel.ONLINE).params["window_id"] != overlapping["window_id"]  # type: ignore[union-attr]
    assert len(maintenance.listing(msystem, "all")) == 3


def test_bad_windows_are_refused_and_change_nothing(msystem: Huabei) -> None:
    def sched(start: dt.datetime, end: dt.datetime, scope: str = "everyone", target: str | None = None) -> str:
        return code(maintenance.schedule, msystem, starts_at=start, ends_at=end, reason="r", scope=scope, target=target)

    assert sched(at(4), at(2)) == "invalid_window"
    assert sched(at(4), at(4)) == "invalid_window"
    assert sched(at(0), at(0, 30)) == "window_already_ended"  # now is 01:00
    assert sched(at(2), at(3), "funding", "bank_z") == "unknown_funding_partner"
    assert sched(at(2), at(3), "channel", None) == "invalid_request"
    assert sched(at(2), at(3), "everyone", "online") == "invalid_request"
    assert maintenance.listing(msystem, "all") == []
    # one already running (started before now) but not over is fine
    assert (
        maintenance.schedule(msystem, starts_at=at(0), ends_at=at(2), reason="r", scope="everyone")["status"]
        == "active"
    )


def test_a_batch_of_purchases_reads_the_windows_once_with_the_same_answers(msystem: Huabei) -> None:
    """``authorise_purchases`` reads the windows in force once for the batch (set-based); each
    purchase gets the answer it would get alone: offline ones are declined inside an offline
    window, online ones pass."""
    aid, other = new_account(msystem), new_account(msystem)
    maintenance.schedule(
        msystem, starts_at=at(2), ends_at=at(4), reason="offline upgrade", scope="channel", target="offline"
    )
    msystem.wall_clock.set(at(3))  # type: ignore[attr-defined]
    reqs = [
        (PurchaseRequest(aid, 1_000, "m-1", "retail", Channel.OFFLINE), "bw-1"),
        (PurchaseRequest(other, 1_000, "m-1", "retail", Channel.ONLINE), "bw-2"),
        (PurchaseRequest(aid, 1_000, "m-1", "retail", Channel.ONLINE), "bw-3"),
    ]
    out = payments.authorise_purchases(msystem, reqs)
    alone = [attempt(msystem, aid, Channel.OFFLINE), attempt(msystem, other), attempt(msystem, aid)]
    assert [getattr(r, "code", None) for r in out] == ["maintenance", None, None]
    assert [getattr(r, "code", None) for r in alone] == ["maintenance", None, None]
    assert isinstance(out[0], HuabeiError) and out[0].params["ends_at"] == "2026-11-02 04:00"
