from huabei.domain.purchases import Channel, PurchaseRequest
from huabei.services import accounts, admin, purchases


def test_smoke(system):
    accounts.register_user(system, user_id="u1", name="Li Lei", phone="13800000000", real_name_verified=True)
    acct = accounts.open_account(system, user_id="u1", base_limit=100000)
    aid = acct["account_id"]
    out = purchases.authorise_purchase(system, PurchaseRequest(aid, 8880, "m1", "retail", Channel.ONLINE), "k1")
    assert out.status == 201 and out.body["available"] == 100000 - 8880
    again = purchases.authorise_purchase(system, PurchaseRequest(aid, 8880, "m1", "retail", Channel.ONLINE), "k1")
    assert again.replayed and again.body == out.body
    purchases.refund_purchase(system, out.body["purchase_id"], 880, "r1")
    purchases.repay(system, aid, 8000, "p1")
    view = accounts.account_view(system, aid)
    assert view["used"] == 0 and view["available"] == 100000
    assert admin.ledger_check(system).ok
