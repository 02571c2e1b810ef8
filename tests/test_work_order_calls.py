"""Outages found from calls, end to end: real SIP callers from one transformer area go through repair triage in the
real Asterisk and FastAGI IVR; their orders raise a suspected fault outage in the database; the next caller from
that area hears the announcement at the start of the call, and at the known-outage leaf of repair triage the call
is attached to the outage instead of opening an order.

The IVR is served for this module with the tests' work-order policy (tests/work_orders_policy.toml: three reports
within thirty minutes), built the way ivr/process.py builds it, so the test does not depend on the shipped policy.
Key timing follows tests/test_ivr_calls.py: a key a second into the prompt that asks for it.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from crm.models import Contact, Outage, OutageArea
from crm.work_order_models import OutageReport, WorkOrder
from ivr.customers import CrmCustomers
from ivr.fastagi import FastAgiServer
from ivr.guesses import GuessLimiter
from ivr.process import build_ivr
from ivr.progress import IvrProgress
from ivr.routes import Ivr
from testbed.phones import CallResult, Script
from tests.conftest import BOUND_S, Testbed, TestCustomer, TestUtility, wait_for
from work_orders.policy import load_policy
from work_orders.service import WorkOrderService

POLICY = Path(__file__).with_name("work_orders_policy.toml")
LANG = ("language", "1")  # Mandarin
ANNOUNCEMENT = ("outage/fault_in_area", "outage/no_estimate", "outage/hang_up_ok")


@dataclass
class Call:
    result: CallResult
    contact: Contact
    customer: TestCustomer

    def step(self, name: str) -> dict[str, Any]:
        found = [s for s in self.contact.ivr_path if s["step"] == name]
        assert found, f"no step {name} in {[s['step'] for s in self.contact.ivr_path]}"
        return found[-1]

    def played(self, step: str) -> list[str]:
        return [p for s in self.contact.ivr_path if s["step"] == step for p in s.get("played", [])]


@contextlib.contextmanager
def serving_with_test_policy(testbed: Testbed) -> Iterator[WorkOrderService]:
    """The hotline's FastAGI server replaced, for the block, by one whose work orders follow the tests' policy."""
    contacts = testbed.hotline.contacts
    work_orders = WorkOrderService(contacts.sessions, load_policy(POLICY))
    guesses = GuessLimiter(testbed.config.redis.effective_url())
    progress = IvrProgress.to_redis(testbed.config.redis.effective_url())
    data = CrmCustomers(contacts.sessions, work_orders)
    ivr = Ivr(contacts, testbed.config.ivr.language, data, guesses, progress=progress)
    assert testbed.hotline.agi is not None
    testbed.hotline.agi.stop()
    testbed.hotline.agi = FastAgiServer(testbed.config.agi.host, testbed.config.agi.port, ivr.routes())
    testbed.hotline.agi.start()
    try:
        yield work_orders
    finally:
        testbed.hotline.agi.stop()
        routes = build_ivr(testbed.config, contacts).routes()
        testbed.hotline.agi = FastAgiServer(testbed.config.agi.host, testbed.config.agi.port, routes)
        testbed.hotline.agi.start()
        guesses.close()
        progress.close()


@pytest.fixture(scope="module")
def storm_area(utility: TestUtility) -> str:
    """A feeder and transformer area of their own in the test utility's county, with no outage on them: the
    `storm` area of utility.customer(area="storm")."""
    return utility.feeder_of_its_own("storm")


def _call(testbed: Testbed, customer: TestCustomer, script: Script) -> Call:
    """A caller who follows `script` (keys when the IVR waits at each menu), then waits for the hotline to hang up."""
    before = max((c.id for c in testbed.contacts(customer.phone)), default=0)
    result = testbed.call(caller_number=customer.phone, script=script, hold=BOUND_S)
    assert result.script_stopped is None, f"{result.script_stopped}; the call reported {result.reported}"

    def closed() -> Contact | None:
        rows = [c for c in testbed.contacts(customer.phone) if c.outcome is not None and c.id > before]
        return rows[-1] if rows else None

    return Call(result, wait_for(closed, timeout=15), customer)


def _orders_of(testbed: Testbed, contact: Contact) -> list[WorkOrder]:
    with testbed.hotline.contacts.sessions() as s:
        return list(s.scalars(select(WorkOrder).where(WorkOrder.contact_id == contact.id)))


def _outages_in(testbed: Testbed, area_id: int) -> list[Outage]:
    with testbed.hotline.contacts.sessions() as s:
        return list(
            s.scalars(
                select(Outage)
                .join(OutageArea, OutageArea.outage_id == Outage.id)
                .where(OutageArea.transformer_area_id == area_id)
            )
        )


def test_three_repair_callers_raise_an_outage_the_fourth_hears_it_and_is_attached(
    testbed: Testbed, utility: TestUtility, storm_area: str
) -> None:
    area_id = utility.areas[storm_area]
    callers = [utility.customer(area=storm_area)[0] for _ in range(4)]
    with serving_with_test_policy(testbed) as work_orders:
        # Three neighbours call at once: repair (3), the neighbours are out too (2). No outage is known yet, so
        # each opens an order and hears its number; the third order makes the pattern.
        reporting = [LANG, ("main_menu", "3"), ("repair_scope", "2")]
        with ThreadPoolExecutor(3) as pool:
            first = list(pool.map(lambda c: _call(testbed, c, reporting), callers[:3]))
        for call in first:
            assert call.step("repair_result")["leaf"] == "work_order", call.contact.ivr_path
            assert "fault_notice" not in [s["step"] for s in call.contact.ivr_path]
        orders = [o for call in first for o in _orders_of(testbed, call.contact)]
        assert len(orders) == 3 and {(o.kind, o.origin, o.neighbours_out) for o in orders} == {("repair", "ivr", True)}
        [outage] = _outages_in(testbed, area_id)
        assert (outage.kind.value, outage.suspected, outage.origin) == ("fault", True, "calls")
        assert outage.restored_at is None
        detail = work_orders.outage(outage.id)
        assert sorted(r.order_number or "" for r in detail.reports) == sorted(o.number for o in orders)

        # The fourth neighbour hears the announcement to its end, then still presses 3 for repair and 2.
        fourth = _call(testbed, callers[3], [LANG, ("main_menu", "3"), ("repair_scope", "2")])

    steps = [s["step"] for s in fourth.contact.ivr_path]
    assert steps[:3] == ["identified", "language", "fault_notice"]
    notice = fourth.step("fault_notice")
    assert tuple(notice["played"]) == ANNOUNCEMENT and "key" not in notice  # heard whole, not cut short
    assert fourth.step("main_menu")["key"] == "3"
    result = fourth.step("repair_result")
    assert result["leaf"] == "known_outage" and result["outage"] == outage.id
    assert fourth.played("repair")[:2] == ["outage/now", "outage/cause/fault"]
    assert fourth.contact.outcome == "completed"
    # No order of its own: the call is one more report on the outage, with the number to tell when power is back.
    assert _orders_of(testbed, fourth.contact) == []
    with testbed.hotline.contacts.sessions() as s:
        attached = s.scalars(select(OutageReport).where(OutageReport.contact_id == fourth.contact.id)).one()
    assert attached.outage_id == outage.id and attached.work_order_id is None
    assert attached.callback_number == callers[3].phone
    assert [o.id for o in _outages_in(testbed, area_id)] == [outage.id]
