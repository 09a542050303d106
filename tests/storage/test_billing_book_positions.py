"""``billing.views.repayment_positions``: every line's position read set-based equals what
``billing_status`` answers line by line, and the latest bill is the line's last — on a book
with current, overdue (interest, penalty) and never-billed lines, on both databases."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from sqlalchemy import select

from huabei.billing import views as billing
from huabei.lines import service as accounts
from huabei.onboarding import service as onboarding
from huabei.platform import schema as s
from huabei.simulation import replay as rp

STATUS = ["PAY_0", "PAY_2", "PAY_3", "PAY_4", "PAY_5", "PAY_6"]


def _client(cid: int, status: int) -> dict[str, int]:
    """A row of the Taiwan table's form: 4,000 NT$ billed a month; ``status`` every month (−1
    paid in full, 2 two months late paying nothing)."""
    row = {"ID": cid, "LIMIT_BAL": 40_000, "SEX": 2, "EDUCATION": 2, "MARRIAGE": 1, "AGE": 30}
    row.update(dict.fromkeys(STATUS, status))
    row.update({f"BILL_AMT{i}": 4_000 for i in range(1, 7)})
    row.update({f"PAY_AMT{i}": 0 if status > 0 else 4_000 for i in range(1, 7)})
    row["default_next_month"] = int(status > 0)
    return row


def test_the_book_read_at_once_is_each_line_read_alone(db_url: str, tmp_path: Path) -> None:
    data = tmp_path / "clients.csv"
    pd.DataFrame([_client(2, -1), _client(4, 2), _client(6, -1)]).to_csv(data, index=False)
    system = rp.open_system(db_url)
    try:
        rp.replay(system, rp.sample(data, 3, 7))
        accounts.register_user(system, user_id="fresh", name="客户", phone="13800000000", real_name_verified=True)
        fresh = onboarding.open_account(system, user_id="fresh", base_limit=100_000)["account_id"]
        book = billing.repayment_positions(system)
        with system.engine.connect() as c:
            bills = c.execute(select(s.bills).order_by(s.bills.c.bill_id)).all()
        latest = {b.account_id: b for b in bills}
        assert len(book) == 4 and book[fresh]["latest_bill"] is None and book[fresh]["owed"] == 0
        owing = 0
        for a, got in book.items():
            alone = billing.billing_status(system, a)
            assert (got["owed"], got["billed_unpaid"]) == (alone["owed"], alone["billed_unpaid"])
            owing += alone["bucket"] != "current" and alone["billed_unpaid"] > 0
            if a in latest:
                b = latest[a]
                assert got["latest_bill"] == {"total_due": b.total_due, "minimum_due": b.minimum_due, "paid": b.paid}
        assert owing == 1  # the client recorded late is overdue and owes billed amounts
    finally:
        system.engine.dispose()
