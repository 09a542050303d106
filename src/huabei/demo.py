"""Demo data: a few users and credit lines showing the product's states."""

from __future__ import annotations

from collections.abc import Iterator

from huabei.domain.purchases import Channel, PurchaseRequest
from huabei.errors import HuabeiError
from huabei.money import yuan
from huabei.services import accounts, purchases, restrictions
from huabei.services.unit_of_work import Huabei

DEMO_USERS = (
    # user_id, name, phone, verified, base limit, purchases (yuan, merchant, category, channel)
    ("demo-lihua", "李华", "13800000001", True, "5000.00",
     [("88.80", "m-taobao", "retail", "online"), ("45.00", "m-canteen", "dining", "offline")]),
    ("demo-zhangwei", "张伟", "13800000002", True, "12000.00",
     [("2999.00", "m-tmall", "retail", "online"), ("320.50", "m-didi", "transport", "online")]),
    ("demo-wangfang", "王芳", "13800000003", True, "800.00", [("799.00", "m-jd", "retail", "online")]),
    ("demo-liuyang", "刘洋", "13800000004", True, "3000.00", []),
)


def load_demo(system: Huabei) -> Iterator[str]:
    for user_id, name, phone, verified, limit, buys in DEMO_USERS:
        try:
            accounts.register_user(system, user_id=user_id, name=name, phone=phone, real_name_verified=verified)
        except HuabeiError as e:
            if e.code != "user_exists":
                raise
            yield f"{user_id}: exists, skipped"
            continue
        acct = accounts.open_account(system, user_id=user_id, base_limit=yuan(limit))
        aid = acct["account_id"]
        for i, (amount, merchant, category, channel) in enumerate(buys):
            purchases.authorise_purchase(system, PurchaseRequest(aid, yuan(amount), merchant, category, Channel(channel)),
                                         f"demo-{user_id}-{i}")
        yield f"{user_id}: credit line {aid} with base limit {limit} yuan"
        if user_id == "demo-liuyang":
            restrictions.place_restriction(system, aid, cause="wrong_password_lockout",
                                           evidence={"wrong_attempts": 5}, actor="demo")
            yield f"{user_id}: locked after too many wrong payment passwords"
