"""The typed domain events (huabei.events): what each stores, and that every type is registered."""

from __future__ import annotations

import datetime as dt

from huabei import events as ev


def test_every_event_type_is_registered_under_its_class_name():
    subclasses = set(ev.DomainEvent.__subclasses__())
    assert subclasses == set(ev.EVENT_TYPES.values())
    for name, cls in ev.EVENT_TYPES.items():
        assert cls.event_type == name == cls.__name__


def test_the_payload_is_every_field_but_the_subject():
    e = ev.RefundIssued(account_id=7, purchase_id=1, refund_id=2, amount=300, to_credit=0)
    assert e.payload() == {"purchase_id": 1, "refund_id": 2, "amount": 300, "to_credit": 0}
    row = e.row(dt.date(2026, 3, 1), dt.datetime(2026, 3, 1, 12, tzinfo=dt.UTC))
    assert row["event_type"] == "RefundIssued" and row["account_id"] == 7 and row["user_id"] is None
    assert row["payload"] == e.payload() and row["business_date"] == dt.date(2026, 3, 1)


def test_optional_details_are_left_out_while_absent_and_kept_when_none_is_meaningful():
    assert ev.AccountOpened(account_id=1, user_id="u", base_limit=100_000).payload() == {"base_limit": 100_000}
    moved = ev.AccountOpened(account_id=2, user_id="u", base_limit=1, product="xyg", funding_source="p", moved_from=1)
    assert moved.payload() == {"base_limit": 1, "product": "xyg", "funding_source": "p", "moved_from": 1}
    closed = ev.AccountClosed(account_id=1, by="user", actor="user", reason=None, used=0)
    assert closed.payload() == {"by": "user", "actor": "user", "reason": None, "used": 0}
    # a restriction without an automatic lift still says so
    placed = ev.RestrictionPlaced(account_id=1, restriction_id=3, cause="c", evidence={}, lifts_on=None)
    assert placed.payload()["lifts_on"] is None


def test_events_whose_payload_is_a_whole_record():
    window = {"window_id": 1, "reason": "upgrade"}
    assert ev.MaintenanceScheduled(window=window).payload() == window
    assert ev.PaymentPasswordLocked(user_id="u", evidence={"attempts": 5}).payload() == {"attempts": 5}


def test_a_limit_change_announces_itself_as_a_typed_event():
    from huabei.lines.rules import LimitChange

    c = LimitChange(4, "base", 100_000, 150_000, ("score_improved",), "limit-v1", "system")
    e = c.event()
    assert isinstance(e, ev.LimitChanged) and e.account_id == 4
    assert e.payload() == {
        "limit_kind": "base",
        "old_value": 100_000,
        "new_value": 150_000,
        "reasons": ["score_improved"],
        "expires_on": None,
    }
