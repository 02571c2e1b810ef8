"""The self-service funnel (自助语音漏斗) on the supervisor's monitor: in real headless Chromium, a real SIP caller
waiting at a menu shows there, and once the caller is served by self-service today's containment moves as
reporting/ivr_funnel.py defines it; the IVR's reports bring the supervisors a fresh snapshot at once; and a funnel that
cannot be read leaves the rest of the monitor whole."""

from __future__ import annotations

import queue
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import redis
from playwright.sync_api import Page, expect

from crm.users import Identity
from crm.vocabulary import Role
from cti.web import live
from cti.web.live import LiveHub, Subscriber
from cti.web.monitor import snapshot
from cti.web.wiring import build
from ivr.progress import IvrProgress
from testbed.phones import Gate
from testbed.sandbox import free_port
from tests.conftest import BOUND_S, Testbed, TestUtility, new_caller_number, wait_for
from tests.test_web_supervisor import _js_percent

LIVE = 15_000  # ms: what the monitor gets to show a change pushed over /ws


def funnel(page: Page) -> dict[str, Any]:
    """The funnel as /api/monitor gives it now, asked with the page's session."""
    response = page.request.get("/api/monitor")
    assert response.ok, response.status
    found: dict[str, Any] = response.json()["ivr"]
    assert found["available"], found
    return found


def test_a_caller_at_a_menu_shows_there_and_completing_self_service_raises_the_containment(
    testbed: Testbed, utility: TestUtility, monitor: Page
) -> None:
    customer = utility.customer(area="quiet")[0]  # one account, its own meter, no outage
    gate = Gate("1")  # the breaker reset, once the test has looked: the power is back
    script = [("language", "1"), ("main_menu", "3"), ("repair_scope", "1"), ("repair_breaker", "1"),
              ("repair_reset", gate)]  # fmt: skip
    rate = monitor.locator("#ivr-containment")
    at_reset = monitor.locator('#ivr-menus tbody tr:has([data-value="repair_reset"])')
    with ThreadPoolExecutor(1) as pool:
        caller = pool.submit(testbed.call, "95598", caller_number=customer.phone, script=script, hold=BOUND_S)
        try:
            # The caller waits at the breaker reset: one call there, the menu named in the page's language.
            expect(at_reset).to_have_count(1, timeout=LIVE)
            expect(at_reset.locator("td")).to_have_text(["空开复位", "1"], timeout=LIVE)
            assert int(monitor.locator("#ivr-now").inner_text()) >= 1
            # The day so far, as the API has it and the page shows it (a push may come a moment after the API).
            before = funnel(monitor)
            assert before["at_menu"].get("repair_reset") == 1
            expect(rate).to_have_attribute("data-calls", str(before["calls_today"]), timeout=LIVE)
            expect(rate).to_have_attribute("data-completed", str(before["outcomes"]["completed"]))
            expect(rate).to_have_text(_js_percent(before["containment"]))
            expect(monitor.locator("#ivr-calls")).to_have_text(str(before["calls_today"]))
        finally:
            gate.open()  # a failed check must not leave the caller waiting out its bound
        result = caller.result(timeout=BOUND_S + 30)
    assert result.established and result.script_stopped is None, (result.script_stopped, result.reported)
    assert result.ended_by == "far end"  # the hotline said goodbye: the caller was served

    # One more call today, and it was served by self-service: containment = completed / calls.
    calls, completed = before["calls_today"] + 1, before["outcomes"]["completed"] + 1
    after = wait_for(lambda: (now := funnel(monitor))["calls_today"] != before["calls_today"] and now, timeout=15)
    assert (after["calls_today"], after["outcomes"]) == (calls, {**before["outcomes"], "completed": completed})
    assert after["containment"] == completed / calls
    expect(rate).to_have_attribute("data-calls", str(calls), timeout=LIVE)
    expect(rate).to_have_attribute("data-completed", str(completed))
    expect(rate).to_have_text(_js_percent(completed / calls))
    expect(monitor.locator("#ivr-calls")).to_have_text(str(calls))
    expect(monitor.locator("#ivr-outcomes")).to_contain_text(f"自助完成 {completed}")
    # The call left self-service: nobody waits at the breaker reset any more.
    expect(at_reset).to_have_count(0, timeout=LIVE)
    expect(monitor.locator("#ivr-unavailable")).to_be_hidden()
    expect(monitor.locator("#monitor-error")).to_be_hidden()


def test_the_funnel_panel_speaks_english_too(monitor: Page) -> None:
    monitor.click("#lang-switch")
    expect(monitor.locator("html")).to_have_attribute("lang", "en", timeout=10_000)
    card = monitor.locator("#ivr-card")
    expect(card.locator("h2")).to_contain_text("Self-service")
    tiles = ["In self-service now", "Containment", "Self-service calls today"]
    expect(card.locator(".tile .label")).to_have_text(tiles)
    expect(card.locator("#ivr-trouble th")).to_have_text(["Menu", "Gave up", "Failed 3 times"])


# -- the live push ------------------------------------------------------------------------------------------------


def next_floor(sub: Subscriber, wanted: Callable[[dict[str, Any]], bool], timeout: float) -> dict[str, Any] | None:
    """The next monitor.floor snapshot `wanted` accepts within `timeout` seconds, the events in between skipped."""
    deadline = time.monotonic() + timeout
    while (left := deadline - time.monotonic()) > 0:
        try:
            message = sub.messages.get(timeout=left)
        except queue.Empty:
            return None
        if message["type"] == "monitor.floor" and wanted(message["data"]):
            data: dict[str, Any] = message["data"]
            return data
    return None


def test_a_caller_reaching_a_menu_brings_the_supervisors_a_snapshot_at_once(
    testbed: Testbed, monkeypatch: pytest.MonkeyPatch
) -> None:
    # No push for lack of news during the test: only an event can bring the next snapshot.
    monkeypatch.setattr(live, "FLOOR_IDLE_S", 600.0)
    b = build(testbed.config, testbed.hotline.contacts.sessions)
    hub = LiveHub(b)
    progress = IvrProgress.to_redis(testbed.config.redis.effective_url())
    uniqueid = f"push-{new_caller_number()}"
    menu = "complaint_menu"
    sub = hub.subscribe(Identity(0, "supervisor", "班长", Role.SUPERVISOR, None, None))
    try:
        assert hub.connected.wait(10), "the hub never heard the event stream"
        first = next_floor(sub, lambda data: True, timeout=30)  # every supervisor gets one on arrival
        assert first is not None and first["ivr"]["available"]
        there = first["ivr"]["at_menu"].get(menu, 0)

        # The IVR reports, as it does for a real call, that a caller waits at the complaints menu.
        progress.report("ivr.start", uniqueid, line="main", contact=0, sip_call_id="")
        progress.report("ivr.wait", uniqueid, menu=menu, attempt=1, line="main")
        assert progress.flush()
        pushed = next_floor(sub, lambda data: data["ivr"]["at_menu"].get(menu, 0) > there, timeout=10)
        assert pushed is not None, "no snapshot followed the IVR's report"
        assert pushed["ivr"]["at_menu"][menu] == there + 1
        assert pushed["ivr"]["in_ivr"] >= 1
    finally:
        progress.report("ivr.end", uniqueid, line="main", outcome="abandoned", at=menu, reason="", failed_at="")
        progress.close()
        hub.unsubscribe(sub)
        hub.stop()
        hub.changed()  # wakes the pushing thread, which sees the hub stopped
        b.close()


# -- without the funnel ---------------------------------------------------------------------------------------------


def test_a_funnel_that_cannot_be_read_leaves_the_rest_of_the_monitor_whole(testbed: Testbed) -> None:
    b = build(testbed.config, testbed.hotline.contacts.sessions)
    working = b.redis
    try:
        assert snapshot(b)["ivr"]["available"] is True
        # The web's Redis client on a port nobody listens on: the funnel's read fails, the ACD's floor is read as
        # before.
        b.redis = redis.Redis(port=free_port(), decode_responses=True, socket_connect_timeout=1, socket_timeout=1)
        shot = snapshot(b)
        assert shot["ivr"] == {"available": False}
        assert {"agents", "calls"} <= set(shot["floor"]) and "total" in shot["today"]
        assert isinstance(shot["campaigns"], list)
    finally:
        b.close()
        working.close()
