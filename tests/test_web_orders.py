"""Work orders (工单) and the agent assessment (座席考核) in real headless Chromium, on the real stack: the dispatcher
dispatches an agent's order from its page, a county of another company is refused and the right county takes it
on, each step in the history; the overdue filter and the monitor's overdue count; and after an agent's real call,
the assessment's row and its recording, played in the page, which an agent may not fetch."""

from __future__ import annotations

import re
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta

import pytest
from playwright.sync_api import Browser, Locator, Page, expect
from sqlalchemy import select

from crm.models import CountyCompany, User
from crm.users import Users, agent_skills, set_password
from crm.vocabulary import Role
from cti.acd.process import AgentDesk
from hotline import periods
from reporting.queue_rows import Period
from reporting.reports import Reports
from testbed.phones import HANG_UP
from tests.conftest import BOUND_S, Testbed, TestUtility, WebLogins, wait_for
from tests.test_acd import Floor
from tests.test_web_browser import LANG, logged_in
from work_orders.policy import load_policy
from work_orders.records import NewWorkOrder, OrderDetail, OrderFilter
from work_orders.rules import Action, Actor, Kind, Origin, State
from work_orders.service import WorkOrderService

LIVE = 20_000  # ms: the monitor's figures are recomputed every few seconds and pushed


@pytest.fixture(scope="module")
def orders(testbed: Testbed) -> WorkOrderService:
    return WorkOrderService(testbed.hotline.contacts.sessions, load_policy(testbed.config.work_orders.policy))


@pytest.fixture(scope="module")
def counties(testbed: Testbed, web_logins: WebLogins, utility: TestUtility) -> tuple[str, str]:
    """Two county logins with the tests' password: the test utility's county (one made here), and a demo county."""
    sessions = testbed.hotline.contacts.sessions
    with sessions() as s:
        county_id = s.scalars(select(CountyCompany.id).where(CountyCompany.code == str(utility.COUNTY))).one()
        ours = s.scalars(select(User.login).where(User.county_company_id == county_id)).first()
    if ours is None:
        ours = f"county{utility.COUNTY}"
        Users(sessions).create(ours, "测试县供电公司", Role.COUNTY, web_logins.password, county_company_id=county_id)
    assert set_password(sessions, "county31", web_logins.password)
    return ours, "county31"


def staff(testbed: Testbed, login: str) -> Actor:
    """A login as the work-order flow knows it."""
    sessions = testbed.hotline.contacts.sessions
    with sessions() as s:
        user = s.scalars(select(User).where(User.login == login)).one()
        return Actor(user.login, user.role, user.id, user.county_company_id)


def agents_order(testbed: Testbed, orders: WorkOrderService, utility: TestUtility, agent: str, summary: str
                 ) -> OrderDetail:  # fmt: skip
    """An order an agent opened from a customer's call, as the desk's 生成工单 does."""
    customer = utility.customer()[0]
    new = NewWorkOrder(Kind.COMPLAINT, summary, Origin.AGENT, account_number=customer.account_number)
    return orders.create(new, staff(testbed, agent))


def local(moment: datetime, minutes: bool = False) -> str:
    """A moment as the pages show it: the utility's local time (China Standard Time)."""
    return moment.astimezone(periods.LOCAL).strftime("%Y-%m-%d %H:%M" if minutes else "%Y-%m-%d %H:%M:%S")


def csrf(page: Page) -> str:
    return str(page.locator('meta[name="csrf-token"]').get_attribute("content"))


def state_on(page: Page) -> Locator:
    """The order page's state: the second of its facts (its value in data-value, its words in the page's
    language)."""
    return page.locator("#order-facts dd").nth(1)


def actions_on(page: Page) -> Locator:
    return page.locator("#order-actions button")


def listed(page: Page, number: str) -> Locator:
    return page.locator("#orders tbody tr").filter(has_text=number)


# -- the dispatch flow ---------------------------------------------------------------------------------------


def test_the_dispatcher_dispatches_an_agents_order_and_only_its_own_county_takes_it_on(
    browser: Browser,
    testbed: Testbed,
    web_logins: WebLogins,
    utility: TestUtility,
    orders: WorkOrderService,
    counties: tuple[str, str],
) -> None:
    agent = web_logins.agents[4]
    ours, theirs = counties
    order = agents_order(testbed, orders, utility, agent, "客户反映电压忽高忽低")
    assert order.state is State.CREATED and order.county == "测试县供电公司"

    # The dispatcher's list shows the new order; its page offers the one step the dispatcher may take.
    dispatcher = logged_in(browser, testbed, web_logins.dispatcher, web_logins.password)
    assert dispatcher.url.endswith("/orders")
    expect(listed(dispatcher, order.number)).to_have_count(1, timeout=10_000)
    expect(listed(dispatcher, order.number).locator("td").nth(2)).to_have_text("已受理")
    listed(dispatcher, order.number).get_by_role("link", name=order.number).click()
    expect(dispatcher).to_have_url(re.compile(f"/orders/{order.number}$"))
    expect(state_on(dispatcher)).to_have_attribute("data-value", "created", timeout=10_000)
    expect(actions_on(dispatcher)).to_have_count(1)
    dispatcher.click("#order-actions button[data-action=dispatch]")
    expect(state_on(dispatcher)).to_have_attribute("data-value", "dispatched", timeout=10_000)
    expect(actions_on(dispatcher)).to_have_count(0)
    expect(dispatcher.locator("#order-error")).to_be_hidden()
    dispatched = orders.detail(order.number, Actor.system("test"))
    assert (dispatched.state, dispatched.county_id, dispatched.contact_deadline is not None) == (
        State.DISPATCHED,
        order.county_id,
        True,
    )

    # A county company that is not the order's: its page says why not, and the API refuses the step.
    stranger = logged_in(browser, testbed, theirs, web_logins.password)
    stranger.goto(f"/orders/{order.number}")
    expect(stranger.locator("#order-error")).to_contain_text("county staff act only on their own county's orders")
    expect(actions_on(stranger)).to_have_count(0)
    refused = stranger.request.post(
        f"/api/work-orders/{order.number}/accept", headers={"X-CSRFToken": csrf(stranger)}, data={}
    )
    assert refused.status == 409
    assert refused.json()["detail"].startswith("county staff act only on their own county's orders")
    assert orders.detail(order.number, Actor.system("test")).state is State.DISPATCHED
    stranger.goto("/orders")
    expect(stranger.locator("#order-total")).to_have_text(re.compile(r"^\d+$"), timeout=10_000)
    expect(listed(stranger, order.number)).to_have_count(0)
    stranger.context.close()

    # The order's county: accepts it, then records that the customer was contacted.
    county = logged_in(browser, testbed, ours, web_logins.password)
    assert county.url.endswith("/orders")
    listed(county, order.number).get_by_role("link", name=order.number).click()
    expect(state_on(county)).to_have_attribute("data-value", "dispatched", timeout=10_000)
    expect(actions_on(county)).to_have_count(2)
    assert sorted(actions_on(county).evaluate_all("(bs) => bs.map((b) => b.dataset.action)")) == ["accept", "return"]
    county.click("#order-actions button[data-action=accept]")
    expect(state_on(county)).to_have_attribute("data-value", "accepted", timeout=10_000)
    county.click("#order-actions button[data-action=contact]")
    expect(state_on(county)).to_have_attribute("data-value", "contacted", timeout=10_000)
    expect(county.locator("#order-error")).to_be_hidden()

    # The history, on the page, step by step with who took it.
    history = county.locator("#order-steps li")
    expect(history).to_have_count(4)
    steps = [
        f"受理 → 已受理 · {agent}",
        "派发 → 已派发 · dispatch",
        f"接单 → 已接单 · {ours}",
        f"联系客户 → 已联系 · {ours}",
    ]
    taken = orders.detail(order.number, Actor.system("test"))
    for n, step in enumerate(steps):
        # Each at the utility's local time (the API gives UTC).
        expect(history.nth(n)).to_have_text(re.compile(f"^{local(taken.steps[n].at)} {re.escape(step)}"))
    assert taken.contact_deadline is not None
    expect(county.locator("#order-facts dd").nth(7)).to_have_text(local(taken.contact_deadline))
    # The dispatcher's page, reloaded, shows where the order stands now.
    dispatcher.reload()
    expect(state_on(dispatcher)).to_have_attribute("data-value", "contacted", timeout=10_000)
    assert orders.detail(order.number, Actor.system("test")).contacted_at is not None
    county.context.close()
    dispatcher.context.close()


# -- overdue orders ------------------------------------------------------------------------------------------


def test_an_order_past_its_contact_deadline_is_in_the_overdue_list_and_the_monitors_count(
    browser: Browser,
    testbed: Testbed,
    web_logins: WebLogins,
    utility: TestUtility,
    orders: WorkOrderService,
) -> None:
    before = orders.overdue_count()
    monitor = logged_in(browser, testbed, web_logins.supervisor, web_logins.password)
    expect(monitor.locator("#total-overdue")).to_have_text(str(before), timeout=LIVE)

    agent = web_logins.agents[4]
    dispatch = staff(testbed, web_logins.dispatcher)
    late = agents_order(testbed, orders, utility, agent, "客户投诉抄表员态度差")
    on_time = agents_order(testbed, orders, utility, agent, "客户咨询峰谷电价")
    # Dispatched two hours ago: the county had an hour to call the customer.
    earlier = WorkOrderService(orders.sessions, orders.policy, clock=lambda: periods.now_utc() - timedelta(hours=2))
    assert earlier.transition(late.number, Action.DISPATCH, dispatch).contact_deadline is not None
    orders.transition(on_time.number, Action.DISPATCH, dispatch)
    assert orders.detail(late.number, dispatch).overdue and not orders.detail(on_time.number, dispatch).overdue

    page = logged_in(browser, testbed, web_logins.dispatcher, web_logins.password)
    expect(listed(page, on_time.number)).to_have_count(1, timeout=10_000)
    page.check("#order-filter input[name=overdue]")
    page.click("#order-filter button[type=submit]")
    expect(listed(page, late.number)).to_have_count(1, timeout=10_000)
    expect(listed(page, on_time.number)).to_have_count(0)
    expect(listed(page, late.number)).to_have_class("error")
    deadline = orders.detail(late.number, dispatch).contact_deadline
    assert deadline is not None
    expect(listed(page, late.number).locator("td").nth(6)).to_have_text(local(deadline, minutes=True))
    total = orders.list_orders(OrderFilter(overdue=True), dispatch).total
    assert total == before + 1
    expect(page.locator("#order-total")).to_have_text(str(total))
    assert page.locator("#orders tbody tr").count() == min(total, 50)
    page.context.close()

    # The supervisor's monitor counts it, pushed live, and marks the tile.
    expect(monitor.locator("#total-overdue")).to_have_text(str(before + 1), timeout=LIVE)
    expect(monitor.locator("#total-overdue").locator("..")).to_have_class(re.compile(r"\balarm\b"))
    monitor.context.close()


# -- the assessment ------------------------------------------------------------------------------------------


@pytest.fixture
def floor(testbed: Testbed, desk: AgentDesk) -> Iterator[Floor]:
    floor = Floor(testbed, desk)
    yield floor
    floor.close()


def test_the_assessment_shows_an_agents_call_and_plays_its_recording_to_supervisors_only(
    browser: Browser, testbed: Testbed, web_logins: WebLogins, utility: TestUtility, floor: Floor
) -> None:
    agent = web_logins.agents[5]
    sessions = testbed.hotline.contacts.sessions
    customer = utility.customer()[0]
    # Signed in as the desk signs an agent in: general calls and the agent's own skills. The softphone answers,
    # talks for four seconds and hangs up.
    seat = floor.agent(agent, skills=("general", *agent_skills(sessions, agent)), answer_after=0.5, talk_for=4.0)
    with ThreadPoolExecutor(1) as pool:
        script = [LANG, ("main_menu", "0"), ("survey", HANG_UP)]
        call = pool.submit(testbed.call, "95598", caller_number=customer.phone, script=script, hold=BOUND_S)
        wait_for(lambda: seat.answered, timeout=60)
        assert call.result(timeout=90).established
    contact = testbed.contacts(customer.phone)[0]
    recording = testbed.hotline.asterisk.host_dir / "spool" / "monitor" / f"acd-{contact.uniqueid}.wav"
    wait_for(lambda: recording.is_file() and recording.stat().st_size > 8000, timeout=20)

    # The queue log reaches the database in batches: wait until the assessment counts the call as handled.
    reports = Reports(sessions)
    today = periods.local_day(periods.now_utc())

    def assessed() -> object:
        rows = reports.assessment(Period.local_days(today, today), recording.parent, [agent])
        return rows[0] if rows[0].calls_handled >= 1 and rows[0].recordings else None

    expected = wait_for(assessed, timeout=30)
    assert expected.recordings[0].contact_id == contact.id

    page = logged_in(browser, testbed, web_logins.supervisor, web_logins.password)
    page.goto("/assessment")
    row = page.locator("#assessment tbody tr").filter(has=page.locator("td:first-child", has_text=agent))
    expect(row).to_have_count(1, timeout=10_000)
    cells = row.locator("td")
    expect(cells.nth(1)).to_have_text(re.compile(r"^\d+$"))
    handled = int(cells.nth(1).inner_text())
    assert handled >= 1 and handled == expected.calls_handled
    player = page.locator("#player")
    expect(player).to_be_hidden()
    cells.last.get_by_role("button").first.click()
    expect(player).to_be_visible()
    expect(player).to_have_attribute("src", f"/api/recordings/{contact.id}")
    # Chromium fetched and decoded it: the recording has a length, and it plays.
    page.wait_for_function(
        "() => { const p = document.getElementById('player');"
        " return !p.error && p.duration > 1 && p.currentTime > 0; }",
        timeout=15_000,
    )
    fetched = page.request.get(f"/api/recordings/{contact.id}")
    assert fetched.status == 200
    assert fetched.headers["content-type"].startswith("audio/wav")
    assert fetched.body()[:4] == b"RIFF" and len(fetched.body()) == recording.stat().st_size
    expect(page.locator("#assessment-error")).to_be_hidden()
    page.context.close()

    # An agent may not listen to recordings, not even their own call's.
    desk = logged_in(browser, testbed, agent, web_logins.password)
    refused = desk.request.get(f"/api/recordings/{contact.id}")
    assert refused.status == 403
    assert refused.json()["detail"] == "your role may not do this"
    desk.context.close()


def test_an_anonymous_report_is_dispatched_to_the_county_the_dispatcher_picks(
    browser: Browser, testbed: Testbed, web_logins: WebLogins, orders: WorkOrderService, utility: TestUtility
) -> None:
    # A supervisor records an anonymous report through the API: no customer, so no county of its own.
    supervisor = logged_in(browser, testbed, web_logins.supervisor, web_logins.password)
    made = supervisor.request.post(
        "/api/work-orders",
        headers={"X-CSRFToken": csrf(supervisor)},
        data={"kind": "suggestion", "summary": "匿名建议：增设缴费网点", "anonymous": True},
    )
    assert made.status == 201, made.text()
    order = made.json()
    assert order["anonymous"] and order["customer_id"] is None and order["county_id"] is None
    supervisor.context.close()

    dispatcher = logged_in(browser, testbed, web_logins.dispatcher, web_logins.password)
    dispatcher.goto(f"/orders/{order['number']}")
    expect(state_on(dispatcher)).to_have_attribute("data-value", "created", timeout=10_000)
    with testbed.hotline.contacts.sessions() as s:
        county_id = s.scalars(select(CountyCompany.id).where(CountyCompany.code == str(utility.COUNTY))).one()
    dispatcher.select_option("#order-county", str(county_id))
    dispatcher.click("#order-actions button[data-action=dispatch]")
    expect(state_on(dispatcher)).to_have_attribute("data-value", "dispatched", timeout=10_000)
    taken = orders.detail(order["number"], Actor.system("test"))
    assert taken.county_id == county_id and taken.anonymous
    # Anonymous reports have no contact deadline: there is nobody to call back.
    assert taken.contact_deadline is None
    dispatcher.context.close()
