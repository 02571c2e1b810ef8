"""Outages found from calls through the JSON API: three repair reports from neighbours on one feeder raise a
suspected outage that the dispatch sees; restoring it reports the orders back together and lists the customers to
tell; agents may not restore, and a restored outage cannot be restored twice. And the work-order side of the
agent assessment: orders an agent created, and those a county returned."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from crm.models import Account, Agent, Contact, CountyCompany
from crm.users import Users
from crm.vocabulary import Role
from cti.web import create_app
from cti.web.wiring import build
from hotline.events import event
from reporting.queue_log import QueueLog
from tests.conftest import Testbed, TestUtility, WebLogins
from work_orders.records import NewWorkOrder
from work_orders.rules import Actor, Kind, Origin

_areas = itertools.count(1)


@pytest.fixture(scope="module")
def app(testbed: Testbed) -> Flask:
    return create_app(testbed.config, build(testbed.config, testbed.hotline.contacts.sessions))


def client_of(app: Flask, login: str, password: str) -> FlaskClient:
    client = app.test_client()
    token = client.get("/api/session").get_json()["csrf_token"]
    client.environ_base["HTTP_X_CSRFTOKEN"] = token
    assert client.post("/api/session", json={"login": login, "password": password}).status_code == 200
    return client


def new_area(utility: TestUtility) -> str:
    """A feeder with one transformer area of its own, with no outage on it."""
    return utility.feeder_of_its_own(f"web-outage-{next(_areas)}")


def test_reports_raise_an_outage_the_dispatch_restores_and_the_customers_are_listed(
    app: Flask, testbed: Testbed, utility: TestUtility, web_logins: WebLogins
) -> None:
    area = new_area(utility)
    customers = [utility.customer(area=area)[0] for _ in range(3)]
    service = build(testbed.config, testbed.hotline.contacts.sessions).orders
    numbers = []
    for who in customers:
        report = NewWorkOrder(Kind.REPAIR, "邻居也停电", Origin.IVR, account_number=who.account_number,
                              neighbours_out=True)  # fmt: skip
        numbers.append(service.create(report, Actor.system("IVR")).number)

    dispatch = client_of(app, web_logins.dispatcher, web_logins.password)
    listed = dispatch.get("/api/outages").get_json()["outages"]
    raised = [o for o in listed if area in o["where"]]
    assert len(raised) == 1 and raised[0]["suspected"] and raised[0]["reports"] == 3
    outage_id = raised[0]["id"]
    detail = dispatch.get(f"/api/outages/{outage_id}")
    assert detail.status_code == 200

    agent = client_of(app, web_logins.agents[5], web_logins.password)
    assert agent.get("/api/outages").status_code == 403
    assert agent.post(f"/api/outages/{outage_id}/restore", json={}).status_code == 403

    restored = dispatch.post(f"/api/outages/{outage_id}/restore", json={"notes": "线路抢修完毕"})
    assert restored.status_code == 200, restored.get_json()
    body = restored.get_json()
    assert sorted(body["resolved"]) == sorted(numbers)
    assert {n["phone"] for n in body["notify"]} == {c.phone for c in customers}
    assert all(o["id"] != outage_id for o in dispatch.get("/api/outages").get_json()["outages"])
    again = dispatch.post(f"/api/outages/{outage_id}/restore", json={})
    assert again.status_code == 409 and again.get_json()["detail"]
    for number in numbers:
        order = dispatch.get(f"/api/work-orders/{number}").get_json()
        assert order["state"] == "reported" and order["steps"][-1]["action"] == "resolve"


def test_the_assessment_counts_an_agents_orders_and_those_returned(
    app: Flask, testbed: Testbed, utility: TestUtility, web_logins: WebLogins
) -> None:
    sessions = testbed.hotline.contacts.sessions
    code = web_logins.agents[5]
    # The agent was on the floor today (the assessment lists agents with activity in the period).
    QueueLog(sessions).append([event("agent.login", agent=code, seat="seat-x")])
    supervisor = client_of(app, web_logins.supervisor, web_logins.password)

    def counts() -> tuple[int, int]:
        rows = supervisor.get("/api/assessment").get_json()["agents"]
        row = next(r for r in rows if r["agent"] == code)
        return row["orders_created"], row["orders_returned"]

    before = counts()
    customer = utility.customer()[0]
    with sessions.begin() as s:
        contact = Contact(
            uniqueid=f"web-assess-{customer.phone}",
            caller_number=customer.phone,
            started_at=datetime.now(UTC),
            ivr_path=[],
            account_id=s.scalar(select(Account.id).where(Account.number == customer.account_number)),
            agent_id=s.scalar(select(Agent.id).where(Agent.code == code)),
        )
        s.add(contact)
        s.flush()
        contact_id = contact.id
        county_id = s.scalar(select(CountyCompany.id).where(CountyCompany.code == str(utility.COUNTY)))
    agent = client_of(app, code, web_logins.password)
    made = agent.post("/api/work-orders", json={"contact_id": contact_id, "kind": "complaint", "summary": "抄表不准"})
    assert made.status_code == 201, made.get_json()
    number = made.get_json()["number"]
    assert counts() == (before[0] + 1, before[1])

    dispatch = client_of(app, web_logins.dispatcher, web_logins.password)
    assert dispatch.post(f"/api/work-orders/{number}/dispatch", json={}).status_code == 200
    login = f"county{utility.COUNTY}-assess"
    Users(sessions).create(login, "测试县", Role.COUNTY, web_logins.password, county_company_id=county_id)
    county = client_of(app, login, web_logins.password)
    returned = county.post(f"/api/work-orders/{number}/return", json={"reason": "非本县地址"})
    assert returned.status_code == 200, returned.get_json()
    assert counts() == (before[0] + 1, before[1] + 1)
