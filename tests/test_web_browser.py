"""The agent desktop and the supervisor monitor in real headless Chromium (Debian's, driven by Playwright), on the
real stack: a known customer calls 95598 over SIP, goes through the IVR to a person, waits, is offered to the
agent whose page shows the screen-pop before the softphone answers; the agent writes a disposition and a work
order; the supervisor's page shows the waiting count rise and fall and the agent's state change, pushed live."""

from __future__ import annotations

import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import select

from crm.models import Contact
from crm.work_order_models import WorkOrder
from testbed.phones import HANG_UP, Seat
from tests.conftest import BOUND_S, Testbed, TestUtility, WebLogins

LANG = ("language", "1")


def base_url(testbed: Testbed) -> str:
    return f"http://{testbed.config.web.host}:{testbed.config.web.port}"


def logged_in(browser: Browser, testbed: Testbed, login: str, password: str, lang: str = "zh") -> Page:
    context = browser.new_context(base_url=base_url(testbed), locale="zh-CN")
    context.add_cookies([{"name": "lang", "value": lang, "url": base_url(testbed)}])
    page = context.new_page()
    page.goto("/login")
    page.fill("input[name=login]", login)
    page.fill("input[name=password]", password)
    # The page the login leads to, loaded with its scripts: waiting for the load state alone could return while
    # the login page was still the one loaded, and a click on a control whose script had not run yet did nothing.
    with page.expect_navigation():
        page.click("button[type=submit]")
    page.wait_for_load_state("networkidle")
    return page


@pytest.fixture
def seat(testbed: Testbed) -> Iterator[Seat]:
    """The agent's softphone: answers 2.5 s after it starts ringing (the test policy rings a seat for 4 s), and
    would hang up only after a minute of talk (the agent ends the call from the page first)."""
    # A seat no other test signs in on by name (test_acd's agents take seats in turn and sign out after).
    name = testbed.config.seats.names()[-3]
    sip = testbed.sip
    phone = sip.run(sip.seat(name, testbed.domain, testbed.config.secrets.seat_password(name), 2.5, 60.0))
    yield phone
    sip.run(sip.unregister(phone))


def test_login_page_refuses_a_wrong_password_in_words(browser: Browser, testbed: Testbed) -> None:
    page = logged_in(browser, testbed, "supervisor", "not-the-password")
    expect(page.locator(".error")).to_have_text("账号或密码错误")
    assert page.url.endswith("/login")
    page.context.close()


def test_a_call_from_ivr_to_agent_with_screen_pop_disposition_work_order_and_live_monitor(
    browser: Browser, testbed: Testbed, web_logins: WebLogins, utility: TestUtility, seat: Seat
) -> None:
    agent = web_logins.agents[2]
    customer = utility.customer(due_fen=23_456, arrears_fen=7_800)[0]
    desk = logged_in(browser, testbed, agent, web_logins.password)
    assert desk.url.endswith("/desk")
    monitor = logged_in(browser, testbed, web_logins.supervisor, web_logins.password)
    assert monitor.url.endswith("/monitor")

    # Sign in on the seat: the agent starts paused, and the monitor shows the tile.
    desk.select_option("#seat", seat.name)
    desk.click("#btn-login")
    signed_in_or_refused = (
        "() => document.getElementById('agent-state').dataset.state !== 'logged_out'"
        " || !document.getElementById('desk-error').hidden"
    )
    desk.wait_for_function(signed_in_or_refused, timeout=10_000)
    assert desk.locator("#desk-error").is_hidden(), desk.locator("#desk-error").inner_text()
    expect(desk.locator("#agent-state")).to_have_attribute("data-state", "paused", timeout=10_000)
    tile = monitor.locator(f'.agent[data-agent="{agent}"]')
    expect(tile).to_have_attribute("data-state", "paused", timeout=10_000)
    expect(monitor.locator("#total-waiting")).to_have_text("0")

    # The customer calls, asks for a person, and waits: the monitor's waiting count rises.
    with ThreadPoolExecutor(1) as pool:
        # The caller asks for a person, and leaves when the survey asks them for a score after the agent.
        script = [LANG, ("main_menu", "0"), ("survey", HANG_UP)]
        call = pool.submit(testbed.call, "95598", caller_number=customer.phone, script=script, hold=BOUND_S)
        expect(monitor.locator("#total-waiting")).to_have_text("1", timeout=30_000)
        waiting_row = monitor.locator("#waiting tbody tr")
        expect(waiting_row).to_contain_text(customer.phone[-4:])

        # The agent goes ready: the call is offered, and the screen-pop shows before the softphone answers.
        desk.click("#btn-ready")
        expect(desk.locator("#pop-account")).to_have_text(customer.account_number, timeout=15_000)
        shown_at = time.monotonic()
        expect(desk.locator("#pop-tier")).to_have_text("普通")  # the standard tier, in the page's Chinese
        expect(desk.locator('#pop-path [data-value="main_menu"]')).to_have_text("主菜单")
        expect(desk.locator("#pop-verified")).to_contain_text("✔")
        expect(desk.locator("#pop-arrears")).to_contain_text("78.00")
        assert seat.offered_at, "the seat was never rung"
        assert not seat.answered, "the screen-pop came only after the softphone answered"
        # The monitor: the waiting count falls, the agent's tile shows the call.
        expect(monitor.locator("#total-waiting")).to_have_text("0", timeout=10_000)
        expect(tile).to_have_attribute("data-state", "ringing", timeout=10_000)
        expect(tile).to_have_attribute("data-state", "busy", timeout=15_000)
        assert seat.answered and time.monotonic() >= shown_at

        # After-call work on the page: disposition, notes, hot topics, and a work order from the call.
        desk.select_option("#disposition", "complaint")
        desk.fill("#topics", "电价, 阶梯电价")
        desk.fill("#notes", "客户对欠费有异议")
        desk.click("#btn-save")
        expect(desk.locator("#saved")).to_be_visible(timeout=10_000)
        desk.select_option("#order-kind", "complaint")
        desk.fill("#order-summary", "客户对欠费金额有异议")
        desk.click("#btn-order")
        expect(desk.locator("#order-number")).to_have_text(lambda_digits(), timeout=10_000)
        number = desk.locator("#order-number").inner_text()

        # The agent ends the call from the page: the softphone did not hang up, the agent goes to wrap-up and then
        # ready again, live on the monitor, and the caller goes on to the survey.
        desk.click("#btn-hangup")
        expect(tile).to_have_attribute("data-state", "wrap_up", timeout=20_000)
        assert not seat.hung_up_at
        expect(tile).to_have_attribute("data-state", "ready", timeout=20_000)
        result = call.result(timeout=60)
    assert result.established

    sessions = testbed.hotline.contacts.sessions
    with sessions() as s:
        contact = s.scalars(select(Contact).where(Contact.caller_number == customer.phone)).one()
        assert contact.disposition == "complaint"
        assert contact.agent_notes == "客户对欠费有异议"
        assert contact.topics == sorted(["电价", "阶梯电价"])
        order = s.scalars(select(WorkOrder).where(WorkOrder.number == number)).one()
        assert order.contact_id == contact.id and order.kind == "complaint"
    # What happened to the call, as an operator reads it from the API: the IVR path, the queue events, the outcome.
    listed = monitor.request.get(f"/api/contacts?ani={customer.phone}").json()["contacts"]
    assert [c["id"] for c in listed] == [contact.id]
    seen = listed[0]
    steps = [s["step"] for s in seen["ivr_path"]]
    assert {"identified", "language", "main_menu", "to_person"} <= set(steps)
    assert seen["outcome"] == "human" and seen["agent"] == agent and seen["disposition"] == "complaint"
    events = [e["event"] for e in seen["queue_events"]]
    assert events[:3] == ["ENTERQUEUE", "RINGING", "CONNECT"] and events[-1] in ("COMPLETEAGENT", "COMPLETECALLER")
    # The agent reads their own call the same way; another agent's page would be refused (test_web_security).
    assert desk.request.get(f"/api/contacts/{contact.id}").json()["id"] == contact.id

    desk.click("#btn-logout")
    expect(tile).to_have_count(0, timeout=10_000)
    desk.context.close()
    monitor.context.close()


def lambda_digits() -> object:
    import re

    return re.compile(r"^GD\d{14}$")
