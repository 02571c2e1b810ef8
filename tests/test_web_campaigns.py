"""Outbound campaigns (外呼任务) in the API and the pages, on the sandbox's real database: a planned outage's notice
lists exactly the customers under it (key accounts as their manager's tasks), bill reminders and arrears notices
choose customers by their bills, each step of a campaign's life and the one its state refuses, who may do what,
an opt-out that keeps the customer off the next list, restoring an outage with its notice; and in real Chromium,
a supervisor makes a planned-outage notice from the campaigns page, starts it and sees it on the monitor. No
dialler runs: campaigns are made and controlled without a call; every campaign a test started is stopped after."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from playwright.sync_api import Browser, expect
from sqlalchemy import func, select

from campaigns.policy import load_policy
from campaigns.rules import CampaignState
from campaigns.service import CampaignService
from crm.campaign_models import Campaign, CampaignCallee, ManagerTask
from crm.models import Account, Agent, Contact, Outage, SupplyPoint, TransformerArea
from crm.users import Users, set_password
from crm.vocabulary import OutageKind, OutageScope, Role
from cti.web import create_app
from cti.web.wiring import WebServices, build
from tests.conftest import Testbed, TestUtility, WebLogins, new_caller_number, wait_for
from tests.test_web_browser import logged_in
from tests.test_web_outages import client_of, new_area
from work_orders.records import NewWorkOrder
from work_orders.rules import Actor, Kind, Origin

_serial = itertools.count(1)
# Bills this large are the tests' own: a bill campaign with this floor finds the tests' customers, not the demo's.
LARGE_FEN = 900_000_000


@pytest.fixture(scope="module")
def backend(testbed: Testbed) -> Iterator[WebServices]:
    b = build(testbed.config, testbed.hotline.contacts.sessions)
    yield b
    b.close()


@pytest.fixture(scope="module")
def app(backend: WebServices) -> Flask:
    return create_app(backend.config, backend)


@pytest.fixture(scope="module", autouse=True)
def stopped_after(testbed: Testbed) -> Iterator[None]:
    """Every campaign this module started is stopped at its end: a dialler in a later test must call none of them."""
    sessions = testbed.hotline.contacts.sessions
    with sessions() as s:
        first = (s.scalar(select(func.max(Campaign.id))) or 0) + 1
    yield
    service = CampaignService(sessions, load_policy())
    with sessions() as s:
        open_ = list(
            s.scalars(select(Campaign.id).where(Campaign.id >= first, Campaign.state.in_(("running", "paused"))))
        )
    for campaign_id in open_:
        service.stop(campaign_id)


@pytest.fixture(scope="module")
def supervisor(app: Flask, web_logins: WebLogins) -> FlaskClient:
    return client_of(app, web_logins.supervisor, web_logins.password)


@pytest.fixture(scope="module")
def dispatch(app: Flask, web_logins: WebLogins) -> FlaskClient:
    return client_of(app, web_logins.dispatcher, web_logins.password)


@pytest.fixture(scope="module")
def manager_login(testbed: Testbed, utility: TestUtility, web_logins: WebLogins) -> str:
    """The login of the test utility's key-account manager (T-KAM), an agent, with the tests' password."""
    sessions = testbed.hotline.contacts.sessions
    users = Users(sessions)
    found = users.by_agent_code(utility.manager_code)
    if found is None:
        login = f"kam-{next(_serial)}-{new_caller_number()[-4:]}"
        users.create(login, "测试客户经理", Role.AGENT, web_logins.password, agent_code=utility.manager_code)
        return login
    set_password(sessions, found.login, web_logins.password)
    return found.login


@pytest.fixture(scope="module")
def manager(app: Flask, manager_login: str, web_logins: WebLogins) -> FlaskClient:
    return client_of(app, manager_login, web_logins.password)


def planned_outage(utility: TestUtility, hours: int = 8) -> tuple[int, str]:
    """A planned outage from tomorrow on a feeder of its own with one transformer area: (outage id, area name)."""
    name = new_area(utility)
    now = datetime.now(UTC)
    with utility.sessions.begin() as s:
        feeder_id = s.scalar(select(TransformerArea.feeder_id).where(TransformerArea.id == utility.areas[name]))
        outage = Outage(
            kind=OutageKind.PLANNED_MAINTENANCE,
            scope=OutageScope.FEEDER,
            feeder_id=feeder_id,
            starts_at=now + timedelta(days=1),
            expected_restoration_at=now + timedelta(days=1, hours=hours),
            reason="计划检修",
            created_at=now,
        )
        s.add(outage)
        s.flush()
        return outage.id, name


def customers_under(testbed: Testbed, outage_id: int) -> set[int]:
    """The customers with an account under the outage's feeder, straight from the tables."""
    with testbed.hotline.contacts.sessions() as s:
        feeder_id = s.scalar(select(Outage.feeder_id).where(Outage.id == outage_id))
        areas = select(TransformerArea.id).where(TransformerArea.feeder_id == feeder_id)
        return set(
            s.scalars(
                select(Account.customer_id)
                .join(SupplyPoint, SupplyPoint.id == Account.supply_point_id)
                .where(SupplyPoint.transformer_area_id.in_(areas))
                .distinct()
            )
        )


def callees(testbed: Testbed, campaign_id: int) -> dict[int | None, str]:
    """The campaign's callees: customer id -> callee state."""
    with testbed.hotline.contacts.sessions() as s:
        rows = s.execute(
            select(CampaignCallee.customer_id, CampaignCallee.state).where(CampaignCallee.campaign_id == campaign_id)
        )
        return {customer: state for customer, state in rows}


def tasks_of(testbed: Testbed, campaign_id: int) -> dict[int, int]:
    """The campaign's managers' tasks: customer id -> task id."""
    with testbed.hotline.contacts.sessions() as s:
        rows = s.execute(select(ManagerTask.customer_id, ManagerTask.id).where(ManagerTask.campaign_id == campaign_id))
        return {customer: task for customer, task in rows}


# -- making campaigns -----------------------------------------------------------------------------------------


def test_a_planned_outage_notice_lists_exactly_the_customers_under_it(
    dispatch: FlaskClient, testbed: Testbed, utility: TestUtility
) -> None:
    outage_id, area = planned_outage(utility)
    households = [utility.customer(area=area)[0] for _ in range(3)]
    two_accounts = utility.customer(area=area, accounts=2)[0]
    no_phone = utility.customer(area=area, phones=0)[0]
    key_account = utility.customer(area=area, tier="key_account")[0]
    elsewhere = utility.customer(area="quiet")[0]

    planned = dispatch.get("/api/outages?planned=1").get_json()["outages"]
    assert outage_id in [o["id"] for o in planned]

    made = dispatch.post("/api/campaigns", json={"kind": "planned_outage", "outage_id": outage_id})
    assert made.status_code == 201, made.get_json()
    campaign = made.get_json()
    assert (campaign["kind"], campaign["state"], campaign["outage_id"]) == ("planned_outage", "draft", outage_id)
    assert campaign["actions"] == ["start", "stop"]
    assert campaign["without_phone"] == 1 and campaign["opted_out"] == 0

    under = customers_under(testbed, outage_id)
    called, tasked = callees(testbed, campaign["id"]), tasks_of(testbed, campaign["id"])
    assert under == {c.customer_id for c in (*households, two_accounts, no_phone, key_account)}
    # Everyone under it once: a robot call, or their manager's task for the key account; the one without a phone
    # is counted as left out; nobody from elsewhere.
    assert set(called) | set(tasked) | {no_phone.customer_id} == under
    assert set(tasked) == {key_account.customer_id} and elsewhere.customer_id not in called
    assert campaign["callees"] == campaign["figures"]["total"] == len(called) == 4
    assert campaign["tasks"] == campaign["figures"]["tasks"] == 1

    detail = dispatch.get(f"/api/campaigns/{campaign['id']}").get_json()
    assert detail["by_state"]["pending"] == 4 and set(detail["by_outcome"]) >= {"confirmed", "busy", "lost"}
    assert sum(detail["by_outcome"].values()) == 0
    listed = dispatch.get("/api/campaigns").get_json()["campaigns"]
    assert [c["state"] for c in listed if c["id"] == campaign["id"]] == ["draft"]


def test_a_notice_is_refused_for_a_fault_an_unknown_outage_or_a_malformed_request(
    dispatch: FlaskClient, testbed: Testbed, utility: TestUtility
) -> None:
    with testbed.hotline.contacts.sessions() as s:
        fault = s.scalar(select(Outage.id).where(Outage.kind == OutageKind.FAULT, Outage.restored_at.is_(None)))
    refused = dispatch.post("/api/campaigns", json={"kind": "planned_outage", "outage_id": fault})
    assert refused.status_code == 409 and "fault" in refused.get_json()["detail"]
    unknown = dispatch.post("/api/campaigns", json={"kind": "planned_outage", "outage_id": 987_654_321})
    assert unknown.status_code == 404 and "no outage" in unknown.get_json()["detail"]
    for bad, words in (
        ({"kind": "lottery"}, "kind must be one of"),
        ({"kind": "planned_outage"}, "outage_id"),
        ({"kind": "bill_reminder", "due_within_days": "soon"}, "whole number"),
        ({"kind": "arrears_notice", "min_amount_fen": 0}, "1 fen"),
        ({"kind": "bill_reminder", "start": "yes"}, "true or false"),
    ):
        answer = dispatch.post("/api/campaigns", json=bad)
        assert answer.status_code == 400 and words in answer.get_json()["detail"], (bad, answer.get_json())


def test_bill_reminders_and_arrears_notices_choose_customers_by_their_bills(
    supervisor: FlaskClient, testbed: Testbed, utility: TestUtility
) -> None:
    due_soon = utility.customer(due_fen=LARGE_FEN + 1)[0]  # due in 10 days
    in_arrears = utility.customer(arrears_fen=LARGE_FEN + 2)[0]  # 15 days past due
    small = utility.customer(due_fen=100, arrears_fen=100)[0]

    def made(**request: object) -> dict[int | None, str]:
        answer = supervisor.post("/api/campaigns", json={"min_amount_fen": LARGE_FEN, **request})
        assert answer.status_code == 201, answer.get_json()
        assert answer.get_json()["state"] == "draft"
        return callees(testbed, answer.get_json()["id"])

    reminder = made(kind="bill_reminder", due_within_days=12, name="电费提醒（测试）")
    assert due_soon.customer_id in reminder and in_arrears.customer_id not in reminder
    assert small.customer_id not in reminder
    assert due_soon.customer_id not in made(kind="bill_reminder", due_within_days=5)
    arrears = made(kind="arrears_notice")
    assert in_arrears.customer_id in arrears and due_soon.customer_id not in arrears
    assert small.customer_id not in arrears
    with testbed.hotline.contacts.sessions() as s:
        heard = s.scalar(
            select(CampaignCallee.variables)
            .join(Campaign, Campaign.id == CampaignCallee.campaign_id)
            .where(CampaignCallee.customer_id == in_arrears.customer_id, Campaign.kind == "arrears_notice")
        )
    assert heard is not None and heard["amount_fen"] == LARGE_FEN + 2


# -- a campaign's life ----------------------------------------------------------------------------------------


def test_start_pause_resume_and_stop_and_the_step_a_state_refuses(
    supervisor: FlaskClient, testbed: Testbed, utility: TestUtility
) -> None:
    outage_id, area = planned_outage(utility)
    for _ in range(2):
        utility.customer(area=area)
    answer = supervisor.post("/api/campaigns", json={"kind": "planned_outage", "outage_id": outage_id, "start": True})
    assert answer.status_code == 201, answer.get_json()
    campaign = answer.get_json()
    cid = campaign["id"]
    assert campaign["state"] == "running" and campaign["actions"] == ["pause", "stop"]
    on_monitor = [c for c in supervisor.get("/api/monitor").get_json()["campaigns"] if c["id"] == cid]
    assert [(c["state"], c["total"], c["done"]) for c in on_monitor] == [("running", 2, 0)]

    def step(action: str) -> tuple[int, dict[str, object]]:
        response = supervisor.post(f"/api/campaigns/{cid}/{action}", json={})
        return response.status_code, response.get_json()

    assert step("pause")[1]["state"] == "paused"
    status, refused = step("pause")
    assert status == 409 and refused["error"] == "refused" and "paused" in str(refused["detail"])
    assert step("resume")[1]["state"] == "running"
    status, refused = step("start")
    assert status == 409 and "running" in str(refused["detail"])
    stopped = step("stop")[1]
    assert stopped["state"] == "stopped" and stopped["actions"] == []
    figures = stopped["figures"]
    assert isinstance(figures, dict) and (figures["cancelled"], figures["done"]) == (2, 2)
    assert set(callees(testbed, cid).values()) == {"cancelled"}
    assert step("resume")[0] == 409
    assert step("finish")[0] == 404  # the service's, not a person's
    assert supervisor.post("/api/campaigns/987654321/stop", json={}).status_code == 404
    assert supervisor.get("/api/campaigns/987654321").status_code == 404
    assert all(c["id"] != cid for c in supervisor.get("/api/monitor").get_json()["campaigns"])


# -- who may do what ------------------------------------------------------------------------------------------


def test_campaigns_are_the_supervisors_and_the_dispatchs_only(app: Flask, web_logins: WebLogins) -> None:
    agent = client_of(app, web_logins.agents[0], web_logins.password)
    assert agent.get("/api/campaigns").status_code == 403
    assert agent.get("/campaigns").status_code == 403
    refused = agent.post("/api/campaigns", json={"kind": "bill_reminder"})
    assert refused.status_code == 403 and refused.get_json()["detail"]
    assert agent.post("/api/campaigns/1/stop", json={}).status_code == 403
    visitor = app.test_client()
    assert visitor.get("/api/campaigns").status_code == 401
    assert visitor.get("/api/tasks").status_code == 401


def test_a_manager_sees_and_completes_only_their_own_tasks(
    app: Flask,
    dispatch: FlaskClient,
    supervisor: FlaskClient,
    manager: FlaskClient,
    testbed: Testbed,
    utility: TestUtility,
    web_logins: WebLogins,
) -> None:
    outage_id, area = planned_outage(utility)
    key_account = utility.customer(area=area, tier="key_account")[0]
    utility.customer(area=area)
    made = dispatch.post("/api/campaigns", json={"kind": "planned_outage", "outage_id": outage_id}).get_json()
    task_id = tasks_of(testbed, made["id"])[key_account.customer_id]

    mine = manager.get("/api/tasks").get_json()["tasks"]
    task = next(t for t in mine if t["id"] == task_id)
    assert (task["customer_id"], task["kind"], task["phone"]) == (key_account.customer_id, "planned_outage",
                                                                   key_account.phone)  # fmt: skip
    assert task["message"]["reason"] == "计划检修" and task["done_at"] is None

    other = client_of(app, web_logins.agents[0], web_logins.password)
    assert all(t["id"] != task_id for t in other.get("/api/tasks").get_json()["tasks"])
    assert other.get(f"/api/tasks?agent={utility.manager_code}").status_code == 403
    refused = other.post(f"/api/tasks/{task_id}/done", json={"notes": "不是我的客户"})
    assert refused.status_code == 403 and "another manager" in refused.get_json()["detail"]
    assert dispatch.get("/api/tasks").status_code == 403

    theirs = supervisor.get(f"/api/tasks?agent={utility.manager_code}&campaign={made['id']}").get_json()["tasks"]
    assert [t["id"] for t in theirs] == [task_id]
    assert supervisor.get("/api/tasks?agent=nobody-at-all").status_code == 404
    assert manager.post("/api/tasks/987654321/done", json={}).status_code == 404

    done = manager.post(f"/api/tasks/{task_id}/done", json={"notes": "已电话告知厂长"})
    assert done.status_code == 200, done.get_json()
    assert all(t["id"] != task_id for t in manager.get("/api/tasks").get_json()["tasks"])
    finished = next(t for t in manager.get("/api/tasks?all=1").get_json()["tasks"] if t["id"] == task_id)
    assert finished["notes"] == "已电话告知厂长" and finished["done_at"]
    progress = supervisor.get(f"/api/campaigns/{made['id']}").get_json()["figures"]
    assert (progress["tasks"], progress["tasks_done"]) == (1, 1)


# -- opt-outs -------------------------------------------------------------------------------------------------


def test_an_opt_out_takes_the_customer_off_waiting_lists_and_the_next_one(
    app: Flask, supervisor: FlaskClient, testbed: Testbed, utility: TestUtility, web_logins: WebLogins
) -> None:
    customer = utility.customer(arrears_fen=LARGE_FEN + 3)[0]
    agent_code = web_logins.agents[1]
    with testbed.hotline.contacts.sessions.begin() as s:
        s.add(
            Contact(
                uniqueid=f"web-camp-{next(_serial)}-{customer.phone}",
                caller_number=customer.phone,
                started_at=datetime.now(UTC),
                ivr_path=[],
                account_id=customer.account_id,
                agent_id=s.scalar(select(Agent.id).where(Agent.code == agent_code)),
                agent_answered_at=datetime.now(UTC),
            )
        )
    arrears = {"kind": "arrears_notice", "min_amount_fen": LARGE_FEN}
    before = supervisor.post("/api/campaigns", json=arrears).get_json()
    assert callees(testbed, before["id"])[customer.customer_id] == "pending"

    stranger = client_of(app, web_logins.agents[2], web_logins.password)
    url = f"/api/customers/{customer.customer_id}/opt-out"
    refused = stranger.post(url, json={"kinds": ["arrears_notice"]})
    assert refused.status_code == 403 and "not one of your calls" in refused.get_json()["detail"]
    agent = client_of(app, agent_code, web_logins.password)
    assert agent.post(url, json={"kinds": ["jackpot"]}).status_code == 400
    assert agent.post(url, json={"kinds": []}).status_code == 400
    recorded = agent.post(url, json={"kinds": ["arrears_notice"]})
    assert recorded.status_code == 200, recorded.get_json()
    assert recorded.get_json()["opted_out"] == ["arrears_notice"]

    assert callees(testbed, before["id"])[customer.customer_id] == "opted_out"
    after = supervisor.post("/api/campaigns", json=arrears).get_json()
    assert customer.customer_id not in callees(testbed, after["id"]) and after["opted_out"] >= 1
    # Another kind of notice still reaches them.
    assert supervisor.post(url, json={"kinds": ["restoration"]}).get_json()["opted_out"] == [
        "arrears_notice",
        "restoration",
    ]
    assert supervisor.post("/api/customers/987654321/opt-out", json={"kinds": ["bill_reminder"]}).status_code == 404


# -- restoring an outage with its notice ----------------------------------------------------------------------


def test_restoring_an_outage_with_notify_makes_the_restoration_notice(
    app: Flask, backend: WebServices, dispatch: FlaskClient, testbed: Testbed, utility: TestUtility
) -> None:
    area = new_area(utility)
    reporters = [utility.customer(area=area)[0] for _ in range(3)]
    for who in reporters:
        report = NewWorkOrder(Kind.REPAIR, "邻居也停电", Origin.IVR, account_number=who.account_number,
                              neighbours_out=True)  # fmt: skip
        backend.orders.create(report, Actor.system("IVR"))
    raised = [o for o in dispatch.get("/api/outages").get_json()["outages"] if area in o["where"]]
    assert len(raised) == 1, raised
    restored = dispatch.post(f"/api/outages/{raised[0]['id']}/restore", json={"notes": "抢修完毕", "notify": True})
    assert restored.status_code == 200, restored.get_json()
    body = restored.get_json()
    assert {n["phone"] for n in body["notify"]} == {c.phone for c in reporters}
    notice = body["campaign"]
    assert (notice["kind"], notice["state"], notice["outage_id"]) == ("restoration", "draft", raised[0]["id"])
    assert set(callees(testbed, notice["id"])) == {c.customer_id for c in reporters}
    assert dispatch.post(f"/api/outages/{raised[0]['id']}/restore", json={"notify": "yes"}).status_code == 400


# -- the pages ------------------------------------------------------------------------------------------------


def test_a_supervisor_notifies_a_planned_outage_from_the_page_and_watches_it_on_the_monitor(
    browser: Browser, testbed: Testbed, utility: TestUtility, web_logins: WebLogins
) -> None:
    outage_id, area = planned_outage(utility)
    for _ in range(3):
        utility.customer(area=area)
    page = logged_in(browser, testbed, web_logins.supervisor, web_logins.password)
    page.goto("/campaigns")
    outage_row = page.locator(f"#planned-outages tr[data-outage='{outage_id}']")
    expect(outage_row).to_contain_text(area, timeout=10_000)
    outage_row.locator("button[data-action=notify]").click()

    def made() -> int | None:
        with testbed.hotline.contacts.sessions() as s:
            return s.scalar(select(func.max(Campaign.id)).where(Campaign.outage_id == outage_id))

    cid = wait_for(made)
    row = page.locator(f"#campaigns tr[data-campaign='{cid}']")
    expect(row.locator(".campaign-state")).to_have_text("草稿", timeout=10_000)
    expect(row).to_contain_text("计划停电通知")
    row.locator("button[data-action=start]").click()
    expect(row.locator(".campaign-state")).to_have_text("进行中", timeout=10_000)
    expect(row.locator(".progress-cell")).to_have_text("0/3")
    expect(page.locator("#campaigns-error")).to_be_hidden()

    monitor = page.context.new_page()
    monitor.goto("/monitor")
    line = monitor.locator(f"#campaign-progress tr[data-campaign='{cid}']")
    expect(line).to_be_visible(timeout=20_000)
    expect(line.locator("td").nth(1)).to_have_text("进行中")
    expect(line.locator("td").nth(3)).to_have_text("3")  # total
    expect(line.locator("progress")).to_have_attribute("max", "3")

    row.locator("button[data-action=pause]").click()
    expect(row.locator(".campaign-state")).to_have_text("已暂停", timeout=10_000)
    expect(line.locator("td").nth(1)).to_have_text("已暂停", timeout=20_000)
    row.locator("button[data-action=stop]").click()
    expect(row.locator(".campaign-state")).to_have_text("已终止", timeout=10_000)
    expect(line).to_have_count(0, timeout=20_000)
    assert CampaignService(testbed.hotline.contacts.sessions, load_policy()).campaign(cid).state is (
        CampaignState.STOPPED
    )
    page.context.close()


def test_a_manager_gives_the_notice_in_person_from_the_tasks_page(
    browser: Browser,
    dispatch: FlaskClient,
    testbed: Testbed,
    utility: TestUtility,
    manager_login: str,
    web_logins: WebLogins,
) -> None:
    """A key account under a planned outage is not robot-called: its manager finds it on /tasks with what to tell,
    notes the call and marks it done; the task leaves the open list and keeps the notes."""
    outage_id, area = planned_outage(utility)
    key_account = utility.customer(area=area, tier="key_account")[0]
    made = dispatch.post("/api/campaigns", json={"kind": "planned_outage", "outage_id": outage_id}).get_json()
    task_id = tasks_of(testbed, made["id"])[key_account.customer_id]
    page = logged_in(browser, testbed, manager_login, web_logins.password)
    try:
        page.goto("/tasks")
        row = page.locator(f"#tasks tr[data-task='{task_id}']")
        expect(row).to_contain_text(key_account.phone, timeout=10_000)
        expect(row).to_contain_text("计划停电通知")
        expect(row).to_contain_text("计划检修")  # the reason, as the robot's notice would have read it
        row.locator("input").fill("已电话告知厂长")
        row.locator("button").click()
        expect(row).to_have_count(0, timeout=10_000)
        expect(page.locator("#tasks-error")).to_be_hidden()
        with testbed.hotline.contacts.sessions() as s:
            task = s.get(ManagerTask, task_id)
            assert task is not None and task.done_at is not None and task.notes == "已电话告知厂长"
        # With the done ones shown, it is there, finished, its notes no longer editable.
        page.check("#task-filter input[name=all]")
        page.click("#task-filter button[type=submit]")
        expect(row.locator("input")).to_be_disabled(timeout=10_000)
        expect(row.locator("input")).to_have_value("已电话告知厂长")
    finally:
        page.context.close()
