"""The pages in a real browser: Debian's Chromium, headless, driven by Playwright against the app
served by uvicorn on a free port (the demo book lived to 2 December, one key per role). Each role
logs in and does its page's main task; screenshots are kept under tests/artifacts/browser/
(gitignored). Both databases."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect, sync_playwright
from tests.api.conftest import _start, key_for
from tests.conftest import make_system

from huabei.access import service as access
from huabei.batch import eod
from huabei.entrypoints.demo import load_demo
from huabei.entrypoints.http.app import create_app
from huabei.lines import service as accounts
from huabei.restrictions import service as restrictions

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(__file__).parents[1] / "artifacts" / "browser"


@pytest.fixture
def site(db_url: str, backend: str) -> Iterator[tuple[str, dict[str, str], Path]]:
    system = make_system(db_url, start=dt.date(2026, 9, 20))
    list(load_demo(system))
    eod.run_eod(system, until=dt.date(2026, 12, 2))  # the December bill is out: it can be paid or split
    keys = {
        r: key_for(system, r, user_id="demo-lihua" if r == "customer" else None) for r in ("customer", "agent", "risk")
    }
    # 王芳's line is frozen on a suspicion of cash-out: she appeals, an agent decides
    wangfang = accounts.get_user(system, "demo-wangfang")["account_id"]
    restrictions.place_restriction(system, wangfang, cause="cash_out_suspected", actor="test")
    keys["appellant"] = key_for(system, "customer", user_id="demo-wangfang")
    access.create_staff(system, "zhang.min", "agent", "correct-horse-42")
    server, _thread, port = _start(create_app(system))
    shots = ARTIFACTS / backend
    shots.mkdir(parents=True, exist_ok=True)
    try:
        yield f"http://127.0.0.1:{port}", keys, shots
    finally:
        server.should_exit = True
        system.engine.dispose()


def login(page: Page, base: str, key: str) -> None:
    page.goto(f"{base}/login")
    page.fill("input[name=key]", key)
    page.click("button[type=submit]")


@pytest.mark.slow
def test_each_role_does_its_main_task_in_the_browser(site: tuple[str, dict[str, str], Path]) -> None:
    base, keys, shots = site
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox"])
        try:
            ctx = browser.new_context(locale="zh-CN", viewport={"width": 1200, "height": 1000})
            page = ctx.new_page()

            # the customer: 我的花呗 — the ring, repay part of the bill, split the rest into installments
            page.goto(f"{base}/me")
            expect(page).to_have_url(re.compile(r"/login"))  # no session: the login form
            login(page, base, keys["customer"])
            expect(page).to_have_url(re.compile(r"/me"))
            expect(page.locator("#limit-ring")).to_contain_text("可用额度")
            expect(page.locator("#score-chart")).to_have_attribute("data-drawn", "yes")
            owed_before = page.locator("#owed").inner_text()
            page.screenshot(path=str(shots / "customer-me.png"), full_page=True)
            page.fill("#repay-form input[name=amount]", "10.00")
            page.click("#repay-form button")
            expect(page.locator("#notice")).to_contain_text("已还款 10.00 元")
            assert page.locator("#owed").inner_text() != owed_before
            page.click("#installments-form button")
            expect(page.locator("#notice")).to_contain_text("期")
            page.screenshot(path=str(shots / "customer-after.png"), full_page=True)
            page.click("header form button")  # log out
            expect(page).to_have_url(re.compile(r"/login"))

            # a frozen customer: why, what to do, how to raise the limit; she appeals
            login(page, base, keys["appellant"])
            expect(page.locator("#diagnosis")).to_contain_text("套现")
            expect(page.locator("#advice li").first).to_be_visible()
            page.fill(".appeal-form textarea", "这些都是给家人买的日用品，没有套现。")
            evidence = page.locator(".appeal-form .evidence input[type=checkbox]")
            expect(evidence.first).to_be_visible()  # her own recent purchases, to attach
            evidence.first.check()
            page.click(".appeal-form button")
            expect(page.locator("#notice")).to_contain_text("已提交")
            expect(page.locator("#appeals")).to_contain_text("处理中")
            expect(page.locator("#appeals .evidence")).to_contain_text("附交易")
            page.screenshot(path=str(shots / "customer-appeal.png"), full_page=True)
            page.click("header form button")

            # the agent: search a user, open the line, see why it is frozen
            login(page, base, keys["agent"])
            expect(page).to_have_url(re.compile(r"/console"))
            page.fill("input[name=q]", "demo-chenjing")
            page.click("form.card button")
            page.locator("#results a").first.click()
            expect(page.locator("main")).to_contain_text("冻结")
            expect(page.locator("#line-history")).to_have_attribute("data-drawn", "yes")
            expect(page.locator("#transactions")).to_contain_text("逾期费")
            expect(page.locator("#audit")).to_be_visible()
            # an agent's own hold (soft): placed with a reason, then lifted
            page.select_option("#place-form select", "operator_hold")
            page.fill("#place-form textarea", "用户来电要求暂停")
            page.fill("#place-form input[name=lifts_on]", "2026-12-20")
            page.click("#place-form button")
            expect(page.locator("#notice")).to_contain_text("已设置")
            expect(page.locator(".restriction[data-cause='operator_hold']")).to_contain_text("2026-12-20解除")
            page.locator(".restriction[data-cause='operator_hold'] .lift-form button").click()
            expect(page.locator("#notice")).to_contain_text("已解除")
            page.screenshot(path=str(shots / "agent-line.png"), full_page=True)
            # the appeals queue: lift 王芳's restriction, the rule was wrong
            page.click("header a[href^='/console/appeals']")
            expect(page.locator("#queue")).to_contain_text("没有套现")
            page.select_option(".decide-form select", "lift:false_positive")
            page.fill(".decide-form textarea", "核实为家庭日常消费")
            page.click(".decide-form button")
            expect(page.locator("#notice")).to_contain_text("已解除")
            expect(page.locator("#queue-empty")).to_be_visible()
            page.screenshot(path=str(shots / "agent-appeals.png"), full_page=True)
            page.click("header form button")

            # a staff user logs in with a name and a password, and changes the password
            page.goto(f"{base}/login")
            page.fill("#staff-login input[name=name]", "zhang.min")
            page.fill("#staff-login input[name=password]", "correct-horse-42")
            page.click("#staff-login button[type=submit]")
            expect(page).to_have_url(re.compile(r"/console"))
            page.click("header a[href^='/password']")
            page.fill("#password-form input[name=current]", "wrong-horse-00")
            page.fill("#password-form input[name=new]", "battery-staple-77")
            page.fill("#password-form input[name=repeat]", "battery-staple-77")
            page.click("#password-form button")
            expect(page.locator("#password-error")).to_contain_text("当前密码不正确")
            page.fill("#password-form input[name=current]", "correct-horse-42")
            page.fill("#password-form input[name=new]", "battery-staple-77")
            page.fill("#password-form input[name=repeat]", "battery-staple-77")
            page.click("#password-form button")
            expect(page.locator("#notice")).to_contain_text("密码已修改")
            page.screenshot(path=str(shots / "staff-password.png"), full_page=True)
            page.click("header form button")
            page.fill("#staff-login input[name=name]", "zhang.min")
            page.fill("#staff-login input[name=password]", "battery-staple-77")
            page.click("#staff-login button[type=submit]")
            expect(page).to_have_url(re.compile(r"/console"))
            page.click("header form button")

            # she sees the outcome
            login(page, base, keys["appellant"])
            expect(page.locator("#appeals")).to_contain_text("申诉成功")
            page.click("header form button")

            # the risk analyst: the portfolio dashboard, its charts drawn; then in English
            login(page, base, keys["risk"])
            expect(page).to_have_url(re.compile(r"/portfolio"))
            for chart in (
                "#chart-status",
                "#chart-buckets",
                "#chart-causes",
                "#chart-scores",
                "#chart-overdue-time",
                "#chart-utilisation-time",
                "#chart-psi",
                "#chart-bands",
            ):
                expect(page.locator(chart)).to_have_attribute("data-drawn", "yes")
            expect(page.locator("#headline")).to_contain_text("花呗账户")
            page.click("#lang-switch")
            expect(page.locator("h1")).to_have_text("Portfolio")
            page.screenshot(path=str(shots / "risk-portfolio.png"), full_page=True)
        finally:
            browser.close()
