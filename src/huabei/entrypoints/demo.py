"""Demo data (``huabei demo load``): a small book that has lived two months, so every state of
the product can be seen in the API and the pages — scores with their dimensions and reasons,
an automatic opening and a declined one, bills (paid in full, minimum only with revolving
interest, converted into installments, overdue with penalty), a temporary limit for Double 11
(双十一) and a frozen line.

It runs through the service layer only, on the **simulated** business clock, from
:data:`START` to :data:`END`, with the end-of-day job run every day (bills close on the 1st,
scores refresh on the 2nd). It only loads into an empty database: a second run does nothing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from typing import Any

from huabei import errors
from huabei.batch import books, eod
from huabei.billing import service as billing
from huabei.errors import HuabeiError
from huabei.lines import service as accounts
from huabei.lines.purchase_rules import Channel, PurchaseRequest
from huabei.money import format_yuan, yuan
from huabei.onboarding import service as onboarding
from huabei.payments import service as purchases
from huabei.platform import admin
from huabei.platform.unit_of_work import ClockMode, Huabei
from huabei.restrictions import service as restrictions
from huabei.scoring import service as scoring

START = dt.date(2026, 9, 20)
END = dt.date(2026, 11, 20)

#: Complete profiles: education, contact details, a bound card, a valid identity document.
_PROFILE = {
    "education": "bachelor",
    "bank_card_bound": True,
    "id_document_expires_on": "2036-01-01",
    "occupation": "employee",
}

#: user_id, name, phone, real name verified, profile, host facts, operator limit (None: the
#: automatic decision), its story.
DEMO_USERS: tuple[tuple[str, str, str, bool, dict[str, Any] | None, dict[str, Any] | None, str | None, str], ...] = (
    (
        "demo-lihua",
        "李华",
        "13800000001",
        True,
        {**_PROFILE, "email": "lihua@example.cn"},
        {
            "monthly_income": 1_500_000,
            "income_verified": True,
            "assets": 8_000_000,
            "verified_contacts": 12,
            "contacts_good_standing_ratio": 950,
            "credit_authorised": True,
        },
        None,
        "full",
    ),
    (
        "demo-zhangwei",
        "张伟",
        "13800000002",
        True,
        {**_PROFILE, "email": "zhangwei@example.cn", "education": "master"},
        {
            "monthly_income": 2_500_000,
            "income_verified": True,
            "assets": 20_000_000,
            "verified_contacts": 20,
            "contacts_good_standing_ratio": 900,
            "credit_authorised": True,
        },
        None,
        "installments",
    ),
    ("demo-wangfang", "王芳", "13800000003", True, None, None, "800.00", "minimum"),
    ("demo-chenjing", "陈静", "13800000005", True, None, None, "2000.00", "overdue"),
    ("demo-liuyang", "刘洋", "13800000004", True, None, None, "3000.00", "locked"),
    ("demo-zhaolei", "赵磊", "13800000006", False, None, None, None, "declined"),
)

#: Purchases: (day, user, yuan, merchant, category, channel).
_PURCHASES = (
    (dt.date(2026, 9, 21), "demo-lihua", "88.80", "m-taobao", "retail", "online"),
    (dt.date(2026, 9, 23), "demo-lihua", "45.00", "m-canteen", "dining", "offline"),
    (dt.date(2026, 9, 24), "demo-zhangwei", "2999.00", "m-tmall", "retail", "online"),
    (dt.date(2026, 9, 26), "demo-zhangwei", "320.50", "m-didi", "transport", "online"),
    (dt.date(2026, 9, 22), "demo-wangfang", "600.00", "m-jd", "retail", "online"),
    (dt.date(2026, 9, 25), "demo-chenjing", "1000.00", "m-suning", "retail", "online"),
    (dt.date(2026, 10, 8), "demo-lihua", "256.00", "m-meituan", "dining", "online"),
    (dt.date(2026, 10, 15), "demo-lihua", "39.90", "m-hema", "groceries", "offline"),
    (dt.date(2026, 10, 18), "demo-zhangwei", "1288.00", "m-ctrip", "travel", "online"),
    (dt.date(2026, 10, 20), "demo-wangfang", "99.00", "m-pdd", "retail", "online"),
    (dt.date(2026, 11, 11), "demo-lihua", "1999.00", "m-tmall", "digital_goods", "online"),  # Double 11
    (dt.date(2026, 11, 11), "demo-zhangwei", "699.00", "m-jd", "retail", "online"),
    (dt.date(2026, 11, 16), "demo-wangfang", "58.00", "m-canteen", "dining", "offline"),
)


def load_demo(system: Huabei) -> Iterator[str]:
    """Load the demo book; yields one line per thing done (for the CLI)."""
    if system.clock_mode is not ClockMode.SIMULATED:
        raise errors.invalid("clock_not_simulated")
    with system.uow(readonly=True) as uow:
        if uow.users.exists(DEMO_USERS[0][0]):
            yield f"demo data already loaded (business date {uow.today().isoformat()}): nothing to do"
            return
        if uow.eod.last_completed() is not None:
            raise errors.invalid("demo_needs_empty_database", last=uow.eod.last_completed().isoformat())
    admin.set_business_date(system, START, allow_backwards=True)
    eod.run_eod(system, until=START)
    account_of: dict[str, int] = {}
    stories = {u[0]: u[7] for u in DEMO_USERS}
    for user_id, name, phone, verified, profile, facts, limit, _story in DEMO_USERS:
        accounts.register_user(
            system, user_id=user_id, name=name, phone=phone, real_name_verified=verified, profile=profile
        )
        if facts:
            scoring.post_facts(system, user_id, facts)
            scoring.record_activity(system, user_id, _app_activity(user_id))
        try:
            opened = onboarding.open_account(
                system, user_id=user_id, base_limit=yuan(limit) if limit is not None else None
            )
        except HuabeiError as e:
            if e.code != "not_eligible":
                raise
            yield f"{user_id}: not eligible ({', '.join(e.params.get('reasons', []))})"
            continue
        account_of[user_id] = opened["account_id"]
        how = "operator limit" if limit is not None else "automatic decision"
        yield (
            f"{user_id}: credit line {opened['account_id']} with base limit "
            f"{format_yuan(opened['base_limit'])} yuan ({how})"
        )

    keys = iter(range(1, 10_000))

    def key(what: str) -> str:
        return f"demo-{what}-{next(keys)}"

    def on(day: dt.date, fn: Callable[[], str | None]) -> None:
        plan.setdefault(day, []).append(fn)

    plan: dict[dt.date, list[Callable[[], str | None]]] = {}
    for day, uid, amount, merchant, category, channel in _PURCHASES:

        def buy(uid=uid, amount=amount, merchant=merchant, category=category, channel=channel) -> str | None:
            purchases.authorise_purchase(
                system, PurchaseRequest(account_of[uid], yuan(amount), merchant, category, Channel(channel)), key("buy")
            )
            return None

        on(day, buy)

    def settle(period: str) -> Callable[[], str | None]:
        def run() -> str | None:
            out = []
            for uid, acct in account_of.items():
                bill = next((b for b in billing.list_bills(system, acct) if b["period"] == period), None)
                if bill is None or bill["unpaid"] == 0:
                    continue
                story = stories[uid]
                if story == "full":
                    purchases.repay(system, acct, bill["unpaid"], key("repay"))
                    out.append(f"{uid} repaid bill {period} in full ({format_yuan(bill['unpaid'])})")
                elif story == "minimum":
                    purchases.repay(system, acct, bill["minimum_unpaid"], key("repay"))
                    out.append(
                        f"{uid} repaid only the minimum of bill {period} ({format_yuan(bill['minimum_unpaid'])})"
                    )
                elif story == "installments" and period == "2026-10":
                    billing.create_bill_installments(system, acct, period, 6, key("plan"))
                    out.append(f"{uid} converted bill {period} into 6 installments")
                elif story == "installments":
                    purchases.repay(system, acct, bill["unpaid"], key("repay"))
                    out.append(f"{uid} repaid bill {period} in full ({format_yuan(bill['unpaid'])})")
            return "; ".join(out) or None

        return run

    on(dt.date(2026, 10, 5), settle("2026-10"))
    on(dt.date(2026, 11, 6), settle("2026-11"))

    def double_eleven() -> str:
        accounts.grant_temporary_limit(
            system, account_of["demo-lihua"], amount=yuan("2000.00"), expires_on=dt.date(2026, 12, 1)
        )
        return "demo-lihua: temporary limit 2000.00 yuan for Double 11, until 2026-12-01"

    on(dt.date(2026, 11, 1), double_eleven)

    day = START
    while day <= END:
        eod.run_eod(system, until=day)
        for fn in plan.get(day, []):
            said = fn()
            if said:
                yield f"{day.isoformat()}: {said}"
        day += dt.timedelta(days=1)

    restrictions.place_restriction(
        system, account_of["demo-liuyang"], cause="wrong_password_lockout", evidence={"wrong_attempts": 5}, actor="demo"
    )
    yield "demo-liuyang: locked after too many wrong payment passwords"
    status = accounts.account_view(system, account_of["demo-chenjing"])["status"]
    yield f"demo-chenjing: never repaid — {status}"
    yield f"business date {END.isoformat()}; the ledger check: {'ok' if books.ledger_check(system).ok else 'FAILED'}"


def _app_activity(user_id: str) -> list[dict[str, Any]]:
    """Forty days of payments in the host app, online and offline, across scenarios."""
    categories = ("retail", "dining", "travel", "groceries", "transport", "health", "entertainment")
    return [
        {
            "kind": "payment",
            "occurred_on": START - dt.timedelta(days=d),
            "channel": "offline" if d % 2 else "online",
            "category": categories[d % 7],
            "external_id": f"{user_id}-app-{d}",
        }
        for d in range(1, 41)
    ]
