"""Three forms of the pages, on SQLite and PostgreSQL: the customer's appeal carries evidence (their
own purchases, ticked; anything else is a clear 400 that files nothing), the agent's place form
takes a lifting date (a day after today; a past or malformed one changes nothing), and a staff user
changes their own password with the current one (argon2id, the configured minimum length; a wrong
current password counts as a failed login, so guessing meets 429 with Retry-After)."""

from __future__ import annotations

import datetime as dt
import warnings

from tests.api.conftest import key_for
from tests.api.test_web_login import csrf, login
from tests.api.test_web_staff import staff_login
from tests.conftest import buy, new_account

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

from huabei.access import service as access
from huabei.appeals import service as appeals
from huabei.entrypoints.http.app import create_app
from huabei.lines import service as accounts
from huabei.platform import admin
from huabei.platform.unit_of_work import Huabei
from huabei.restrictions import service as restrictions


def test_an_appeal_attaches_the_users_own_purchases(system: Huabei) -> None:
    mine = new_account(system, user_id="u1")
    theirs = new_account(system, user_id="u2")
    p1 = buy(system, mine, 1_000).body["purchase_id"]
    p2 = buy(system, mine, 2_000).body["purchase_id"]
    foreign = buy(system, theirs, 3_000).body["purchase_id"]
    r = restrictions.place_restriction(system, mine, cause="cash_out_suspected", actor="test")
    with TestClient(create_app(system), raise_server_exceptions=False) as c:
        assert login(c, key_for(system, "customer", "u1")).status_code == 303
        page = c.get("/me").text
        assert f"name='purchase_{p1}'" in page and f"name='purchase_{p2}'" in page
        assert f"purchase_{foreign}" not in page and "附上相关的消费记录" in page
        form = {"csrf": csrf(page), "restriction_id": str(r["restriction_id"]), "statement": "都是日常消费"}
        # another user's purchase, or a field that is not a purchase id: 400, nothing filed
        bad = c.post("/me/appeals", data={**form, f"purchase_{foreign}": str(foreign)})
        assert bad.status_code == 400 and "证据" in bad.text
        assert c.post("/me/appeals", data={**form, "purchase_x1": "x1"}).status_code == 400
        assert c.post("/me/appeals", data={**form, f"purchase_{p1}": str(p2)}).status_code == 400
        assert appeals.listing(system) == []
        done = c.post("/me/appeals", data={**form, f"purchase_{p2}": str(p2), f"purchase_{p1}": str(p1)})
        assert done.status_code == 200 and "已提交" in done.text
        assert f"附交易：{p1}, {p2}" in done.text  # the user sees what they attached
    (filed,) = appeals.listing(system)
    assert filed["purchase_ids"] == [p1, p2]


def test_the_place_form_takes_a_lifting_date(system: Huabei) -> None:
    aid = new_account(system, user_id="u1")
    today = admin.business_date(system)
    with TestClient(create_app(system), raise_server_exceptions=False) as c:
        assert login(c, key_for(system, "agent")).status_code == 303
        page = c.get(f"/accounts/{aid}").text
        assert f"name='lifts_on' min='{today + dt.timedelta(days=1)}'" in page and "解除日期" in page
        form = {"csrf": csrf(page), "cause": "operator_hold", "note": "用户要求暂停"}
        past = c.post(f"/accounts/{aid}/restrictions", data={**form, "lifts_on": today.isoformat()})
        assert past.status_code == 422 and "id='error'" in past.text
        assert c.post(f"/accounts/{aid}/restrictions", data={**form, "lifts_on": "2026-13-01"}).status_code == 400
        assert c.post(f"/accounts/{aid}/restrictions", data={**form, "lifts_on": "next week"}).status_code == 400
        assert accounts.account_view(system, aid)["restrictions"] == []
        lifts = today + dt.timedelta(days=7)
        ok = c.post(f"/accounts/{aid}/restrictions", data={**form, "lifts_on": lifts.isoformat()})
        assert ok.status_code == 200 and "已设置" in ok.text and f"{lifts.isoformat()}解除" in ok.text
        no_date = c.post(f"/accounts/{aid}/restrictions", data={**form, "cause": "operator_hold", "lifts_on": ""})
        assert no_date.status_code == 200
    placed = accounts.account_view(system, aid)["restrictions"]
    assert placed[0]["lifts_on"] == lifts.isoformat()
    assert placed[0]["placed_by"].startswith("agent:")


def test_a_staff_user_changes_their_own_password(system: Huabei) -> None:
    access.create_staff(system, "li.na", "agent", "correct-horse-42")
    app = create_app(system)
    with TestClient(app, raise_server_exceptions=False) as c:
        assert staff_login(c, "li.na", "correct-horse-42").status_code == 303
        page = c.get("/password").text
        assert "修改密码" in page and "id='password-form'" in page
        assert "href='/password" in c.get("/console").text
        token = csrf(page)

        def change(current: str, new: str, repeat: str | None = None) -> object:
            body = {"csrf": token, "current": current, "new": new, "repeat": new if repeat is None else repeat}
            return c.post("/password", data=body)

        wrong = change("wrong-horse-00", "battery-staple-77")
        assert wrong.status_code == 403 and "当前密码不正确" in wrong.text
        assert change("correct-horse-42", "battery-staple-77", "battery-staple-78").status_code == 400
        short = change("correct-horse-42", "short-1")
        assert short.status_code == 400 and "至少 12 个字符" in short.text
        assert change("correct-horse-42", "12345678901234").status_code == 400  # only digits
        assert c.post("/password", data={"current": "correct-horse-42", "new": "x" * 12}).status_code == 403  # CSRF
        done = change("correct-horse-42", "battery-staple-77")
        assert done.status_code == 200 and "密码已修改" in done.text
    with TestClient(app, raise_server_exceptions=False) as c:
        assert staff_login(c, "li.na", "correct-horse-42").status_code == 401
        assert staff_login(c, "li.na", "battery-staple-77").status_code == 303
    (row,) = [s for s in access.list_staff(system) if s["name"] == "li.na"]
    assert row["password_changed_at"] > row["created_at"] or row["password_changed_at"] is not None
    with system.engine.connect() as conn:
        from sqlalchemy import select

        from huabei.access import tables as at

        rows = conn.execute(
            select(at.audit_log.c.route, at.audit_log.c.status, at.audit_log.c.actor).where(
                at.audit_log.c.route == "/password"
            )
        ).all()
    assert (("/password", 200) in {(r[0], r[1]) for r in rows}) and (("/password", 403) in {(r[0], r[1]) for r in rows})
    assert {r[2] for r in rows if r[1] != 403} == {f"agent:{row['key_id']}"}  # the change names its actor

    # a plain agent key has no password to change
    with TestClient(app, raise_server_exceptions=False) as c:
        assert login(c, key_for(system, "agent")).status_code == 303
        page = c.get("/console").text
        assert "href='/password" not in page
        r = c.post("/password", data={"csrf": csrf(page), "current": "x", "new": "y" * 12, "repeat": "y" * 12})
        assert r.status_code == 422 and "只有用账号和密码登录的工作人员" in r.text


def test_guessing_the_current_password_meets_the_rate_limit(system: Huabei) -> None:
    access.create_staff(system, "wang.wu", "risk", "correct-horse-42")
    with TestClient(create_app(system), raise_server_exceptions=False) as c:
        assert staff_login(c, "wang.wu", "correct-horse-42").status_code == 303
        token = csrf(c.get("/password").text)
        statuses = []
        for i in range(system.terms.access.login_attempts + 2):
            r = c.post("/password", data={"csrf": token, "current": f"guess-{i}", "new": "x1" * 7, "repeat": "x1" * 7})
            statuses.append(r.status_code)
            if r.status_code == 429:
                assert int(r.headers["Retry-After"]) > 0
                break
        assert statuses[-1] == 429 and set(statuses[:-1]) == {403}
