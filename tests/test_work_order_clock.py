"""The contact clock on the running hotline: the ACD routers escalate an order that passed its deadline
uncontacted, once although two routers look, and announce it on the event stream the monitor and the dispatch
read; an order the county has called is left alone. The live hub passes such events to the city dispatch and to
the county's own staff only."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import redis

from crm.users import Identity
from crm.vocabulary import Role
from cti.web.live import Subscriber
from tests.conftest import Testbed, TestUtility, wait_for
from work_orders.policy import load_policy
from work_orders.records import NewWorkOrder
from work_orders.rules import Action, Actor, Kind, Origin
from work_orders.service import WorkOrderService

DISPATCH = Actor("dispatch", Role.DISPATCHER)
AGENT = Actor("A1001", Role.AGENT)


def _overdue_events(testbed: Testbed, number: str) -> list[dict]:  # type: ignore[type-arg]
    client = redis.Redis.from_url(testbed.config.redis.effective_url())
    events = [json.loads(f[b"event"]) for _, f in client.xrange("acd:events", min="-")]
    return [e for e in events if e["type"] == "workorder.overdue" and e["data"]["number"] == number]


def test_an_order_past_its_deadline_is_escalated_once_and_announced(testbed: Testbed, utility: TestUtility) -> None:
    sessions = testbed.hotline.contacts.sessions
    # Created and dispatched two hours ago (the service's clock), so its one-hour deadline has passed.
    two_hours_ago = datetime.now(UTC) - timedelta(hours=2)
    past = WorkOrderService(sessions, load_policy(testbed.config.work_orders.policy), clock=lambda: two_hours_ago)
    # The other was dispatched half an hour ago and the county has called the customer since.
    half_an_hour_ago = datetime.now(UTC) - timedelta(minutes=30)
    recent = WorkOrderService(sessions, load_policy(testbed.config.work_orders.policy), clock=lambda: half_an_hour_ago)
    orders = []
    for service in (past, recent):
        who = utility.customer()[0]
        new = NewWorkOrder(Kind.COMPLAINT, "客户投诉抄表", Origin.AGENT, account_number=who.account_number)
        order = service.create(new, AGENT)
        orders.append(service.transition(order.number, Action.DISPATCH, DISPATCH, county_id=order.county_id))
    county = Actor("county", Role.COUNTY, county_id=orders[1].county_id)
    recent.transition(orders[1].number, Action.ACCEPT, county)
    recent.transition(orders[1].number, Action.CONTACT, county)

    events = wait_for(lambda: _overdue_events(testbed, orders[0].number), timeout=15)
    assert events[0]["data"]["order_kind"] == "complaint" and events[0]["data"]["county_id"] == orders[0].county_id
    # Any later sweep, the routers' or this one, finds nothing more to escalate: the order is escalated once.
    now = WorkOrderService(sessions, load_policy(testbed.config.work_orders.policy))
    assert [o.number for o in now.escalate_overdue() if o.number in (orders[0].number, orders[1].number)] == []
    assert len(_overdue_events(testbed, orders[0].number)) == 1
    assert _overdue_events(testbed, orders[1].number) == []
    detail = now.detail(orders[0].number, DISPATCH)
    assert detail.escalated_at is not None and detail.overdue
    assert [s.action for s in detail.steps].count("escalate") == 1


def test_overdue_events_reach_the_dispatch_and_the_orders_county_only() -> None:
    evt = {"type": "workorder.overdue", "agent": None, "data": {"number": "GD1", "county_id": 3}}

    def sees(role: Role, county: int | None = None, agent: str | None = None) -> bool:
        return Subscriber(Identity(1, "x", "x", role, agent, county)).wants(evt)

    assert sees(Role.DISPATCHER) and sees(Role.SUPERVISOR) and sees(Role.COUNTY, 3)
    assert not sees(Role.COUNTY, 4) and not sees(Role.AGENT, agent="A1001")
