"""The outbound dialler end to end: campaigns built by the campaign service in the session's hotline database, the
dialler (cti/outbound/dialler.py) running against the real Asterisk's ARI, and real SIP callees on the test SIP
stack, which is the carrier: Asterisk's calls to `PJSIP/<number>@trunk` arrive there and are answered (or rejected)
by a user agent per number. The service's clock is the test's, set inside or outside the allowed hours and moved
forward to the next retry, so no test waits for a policy's minutes. Assertions are on what the service recorded
(attempts, callees, the campaign's state), what the callees' phones saw, and the ACD's events."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import itertools
import json
import math
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import redis
from baresip import Account, Event, StackEvent, UserAgent
from baresip.errors import AudioNotActive, AudioRestarted, BaresipError
from playwright.sync_api import Browser, expect
from sqlalchemy import select

from campaigns.lookups import CampaignLookups
from campaigns.policy import load_policy
from campaigns.rules import CalleeState, CampaignKind, CampaignPolicy, CampaignState, Outcome
from campaigns.service import CampaignService
from crm.campaign_models import CampaignAttempt, CampaignCallee
from crm.contacts import ContactLog
from crm.services import CustomerService
from crm.vocabulary import OutageKind, OutageScope
from cti.acd import routing
from cti.acd.policy import AgentProfile
from cti.acd.process import AgentDesk
from cti.ari import Ari
from cti.outbound.dialler import Dialler
from cti.screenpop import ScreenPop
from demo.builders import DaytimeClock, add_outage, add_transformer_area
from hotline.config import REPO_DIR
from ivr import speech
from testbed.phones import Callee
from tests.conftest import Testbed, TestUtility, WebLogins, wait_for
from tests.test_web_browser import logged_in

_areas = itertools.count(1)

# -- pure parts -------------------------------------------------------------------------------------------------


def test_amd_verdicts_as_the_policy_takes_them() -> None:
    shipped = load_policy().machines
    assert shipped.is_machine("MACHINE", "LONGGREETING-1600-1500")
    assert shipped.is_machine("MACHINE", "MAXWORDS-3-2")
    # Silence is taken for a person unless the policy says otherwise; unsure is a person.
    assert not shipped.is_machine("MACHINE", "INITIALSILENCE-2500-2500")
    assert dataclasses.replace(shipped, silence_is_machine=True).is_machine("MACHINE", "INITIALSILENCE-2500-2500")
    assert not shipped.is_machine("NOTSURE", "TOOLONG-5000")
    assert not shipped.is_machine("HUMAN", "HUMAN-300-800")


# -- the harness ------------------------------------------------------------------------------------------------


# Answered calls first go through Asterisk's answering-machine detection (campaigns/policy.toml [machines]): a callee
# who says nothing is taken for a person after amd.conf's initial_silence (2.5 s), and only then hears the notice.
# A callee's keys are pressed this much later than they would be without it.
DETECTION_S = 3.0


class Carrier:
    """The test SIP stack acting as the carrier network: one phone per callee number (testbed/softphone.py)."""

    def __init__(self, testbed: Testbed) -> None:
        self.testbed = testbed

    def callee(self, number: str, **behaviour: Any) -> Callee:
        """A person's phone: silent, pressing its keys `key_after` seconds into the notice."""
        behaviour["key_after"] = behaviour.get("key_after", 2.5) + DETECTION_S
        sip = self.testbed.sip
        return sip.run(sip.callee(number, self.testbed.domain, **behaviour))

    def machine(self, number: str, greeting_s: float = 4.0) -> Machine:
        """An answering machine on `number`: it answers, speaks its greeting (a tone, as loud as speech) and then
        records whatever it is told in silence, until the hotline hangs up."""
        sip = self.testbed.sip
        machine = Machine(number, greeting_s)

        async def create() -> None:
            account = Account(user=number, domain=self.testbed.domain, password="", reg_interval=0)
            ua = await UserAgent.create(sip.runtime, account)
            ua.on_incoming(lambda call: asyncio.run_coroutine_threadsafe(machine.take(call, sip.loop), sip.loop))

        sip.run(create())
        return machine


@dataclass
class Machine:
    number: str
    greeting_s: float
    answered: int = 0
    greeting_sent_ms: int = 0
    ended_by_far_end: int = 0

    async def take(self, call: Any, loop: asyncio.AbstractEventLoop) -> None:
        closed: asyncio.Future[str] = loop.create_future()

        def on_event(event: StackEvent) -> None:
            if event.event is Event.CALL_CLOSED and not closed.done():
                closed.set_result(event.text or "")

        try:
            call.on(on_event)
            await call.answer()
            self.answered += 1
            await self._speak(call, closed)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.shield(closed), 60)
                self.ended_by_far_end += 1
            if not closed.done():
                await call.hangup()
        except BaresipError:
            pass  # the call ended before we got to it

    async def _speak(self, call: Any, closed: asyncio.Future[str]) -> None:
        """The greeting: a 425 Hz tone at about -12 dBFS, fed frame by frame at the call's own pace."""
        rate, frame_ms = 0, 20
        while not closed.done() and not rate:
            await asyncio.sleep(0.02)  # not a synchronisation: the phone's audio is polled every frame until it runs
            with contextlib.suppress(AudioNotActive, AudioRestarted):
                info = call.audio.info()
                rate = info.tx_sample_rate if info.tx_ready else 0
                frame_ms = info.tx_ptime_ms or 20
        samples = rate * frame_ms // 1000
        t = 0
        started = time.monotonic()
        while not closed.done() and time.monotonic() - started < self.greeting_s:
            frame = b"".join(
                int(8000 * math.sin(2 * math.pi * 425 * (t + i) / rate)).to_bytes(2, "little", signed=True)
                for i in range(samples)
            )
            t += samples
            with contextlib.suppress(AudioNotActive, AudioRestarted):
                call.audio.write(frame)
                self.greeting_sent_ms += frame_ms
            await asyncio.sleep(frame_ms / 1000)  # not a synchronisation: audio is fed at the call's own pace


class RunningDialler:
    """The dialler on an event loop of its own in a thread, as `app.py dialler` runs it, against the testbed."""

    def __init__(self, testbed: Testbed, service: CampaignService, **options: Any) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="dialler", daemon=True)
        self.thread.start()
        c = testbed.config

        async def make() -> tuple[Ari, Dialler]:
            ari = Ari(c.ari.host, c.ari.port, c.ari.user, c.secrets.ari_password)
            return ari, Dialler(ari, service, speech, **options)

        self.ari, self.dialler = asyncio.run_coroutine_threadsafe(make(), self.loop).result(10)

        async def start() -> asyncio.Task[None]:
            return asyncio.create_task(self.dialler.run())

        self.task = asyncio.run_coroutine_threadsafe(start(), self.loop).result(10)
        wait_for(self.dialler.connected.is_set, timeout=20)

    def stop(self) -> None:
        async def halt() -> None:
            self.task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.task
            await self.ari.close()
            # The websocket library's own tasks (its keepalive) end before the loop stops.
            others = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            if others:
                await asyncio.wait(others, timeout=5)

        asyncio.run_coroutine_threadsafe(halt(), self.loop).result(20)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=10)


@dataclass
class Outbound:
    testbed: Testbed
    utility: TestUtility
    service: CampaignService
    clock: DaytimeClock
    carrier: Carrier
    campaigns: list[int] = field(default_factory=list)
    dialler: RunningDialler | None = None

    def campaign(self, callees: Sequence[Callee | Machine]) -> int:
        """A planned-outage notice for an area of its own holding exactly these callees' customers."""
        sessions = self.testbed.hotline.contacts.sessions
        now = datetime.now(UTC)
        n = next(_areas)
        with sessions.begin() as s:
            area_name = f"T-camp-{time.time_ns()}-{n}"
            area_id = add_transformer_area(s, self.utility.feeders["quiet"], area_name, f"外呼台区{n}")
            outage_id = add_outage(
                s,
                OutageKind.PLANNED_MAINTENANCE,
                OutageScope.TRANSFORMER_AREAS,
                starts_at=now + timedelta(days=1),
                expected_restoration_at=now + timedelta(days=1, hours=6),
                reason="计划检修",
                created_at=now,
                transformer_area_ids=[area_id],
            )
            self.utility.areas[area_name] = area_id
        for callee in callees:
            self.utility.customer(area=area_name, phone=callee.number)
        created = self.service.create_for_outage(outage_id, "test", name=f"外呼测试{n}")
        assert created.campaign.callees == len(callees)
        self.campaigns.append(created.campaign.id)
        return created.campaign.id

    def run_dialler(self, **options: Any) -> Dialler:
        self.dialler = RunningDialler(self.testbed, self.service, **options)
        return self.dialler.dialler

    def claims_find_nobody(self, times: int) -> None:
        """Wait until the dialler has looked for whom to call `times` more times and found nobody: whatever it
        would have done, it has had the chance to do."""
        assert self.dialler is not None
        dialler = self.dialler.dialler
        target = dialler.idle_claims + times
        wait_for(lambda: dialler.idle_claims >= target, timeout=30)

    def attempts(self, campaign_id: int) -> list[CampaignAttempt]:
        with self.testbed.hotline.contacts.sessions() as s:
            return list(
                s.scalars(
                    select(CampaignAttempt)
                    .where(CampaignAttempt.campaign_id == campaign_id)
                    .order_by(CampaignAttempt.id)
                )
            )

    def callees(self, campaign_id: int) -> dict[str, CampaignCallee]:
        with self.testbed.hotline.contacts.sessions() as s:
            rows = s.scalars(select(CampaignCallee).where(CampaignCallee.campaign_id == campaign_id))
            return {row.phone: row for row in rows}

    def state(self, campaign_id: int) -> CampaignState:
        return self.service.campaign(campaign_id).state

    def close(self) -> None:
        for campaign_id in self.campaigns:
            if self.state(campaign_id) in (CampaignState.RUNNING, CampaignState.PAUSED):
                self.service.stop(campaign_id)
        if self.dialler is not None:
            # Calls still up end (and are reported) before the dialler goes.
            dialler = self.dialler.dialler
            wait_for(lambda: not dialler.calls, timeout=60)
            self.dialler.stop()


def _policy(calls_per_second: float = 2.0) -> CampaignPolicy:
    """The shipped policy (answering-machine detection included), at the given pace."""
    policy = load_policy()
    assert policy.machines.detect
    pace = policy.trunks[policy.default_trunk]
    return dataclasses.replace(policy, trunks={policy.default_trunk: type(pace)(calls_per_second, pace.max_concurrent)})


@pytest.fixture
def outbound(testbed: Testbed, utility: TestUtility) -> Iterator[Outbound]:
    clock = DaytimeClock(10)  # 10:00 local: inside every kind's allowed hours
    service = CampaignService(testbed.hotline.contacts.sessions, _policy(), clock=clock)
    harness = Outbound(testbed, utility, service, clock, Carrier(testbed))
    yield harness
    harness.close()


def _number() -> str:
    from tests.conftest import new_caller_number

    return new_caller_number()


# -- calls ------------------------------------------------------------------------------------------------------


def test_callees_who_press_2_are_recorded_as_confirmed(outbound: Outbound) -> None:
    people = [outbound.carrier.callee(_number()) for _ in range(2)]
    campaign = outbound.campaign(people)
    outbound.run_dialler()
    outbound.service.start(campaign)
    wait_for(lambda: outbound.state(campaign) is CampaignState.FINISHED, timeout=90)
    attempts = outbound.attempts(campaign)
    assert sorted(a.phone for a in attempts) == sorted(p.number for p in people)
    assert {a.outcome for a in attempts} == {Outcome.CONFIRMED.value}
    callees = outbound.callees(campaign)
    assert {c.state for c in callees.values()} == {CalleeState.REACHED.value}
    for person in people:
        assert len(person.offered_at) == 1 and person.answered == 1
        # The hotline hung up after its thanks: the callee did not have to.
        wait_for(lambda person=person: person.ended_by_far_end == 1, timeout=30)
        # The notice was heard until the key cut it, then the thanks.
        wait_for(lambda person=person: person.heard_ms, timeout=10)
        assert person.heard_ms[0] > 1500, person.heard_ms


def test_a_busy_callee_is_called_again_when_the_policy_says(outbound: Outbound) -> None:
    person = outbound.carrier.callee(_number(), plan=["reject", "answer"])
    campaign = outbound.campaign([person])
    outbound.run_dialler()
    outbound.service.start(campaign)
    wait_for(lambda: [a.outcome for a in outbound.attempts(campaign)] == [Outcome.BUSY.value], timeout=60)
    callee = outbound.callees(campaign)[person.number]
    assert callee.state == CalleeState.PENDING.value
    retry = outbound.service.policy.retries[Outcome.BUSY].spacing
    assert callee.next_attempt_at is not None
    # Not before its time: the dialler looks for whom to call again and again, and calls nobody.
    outbound.claims_find_nobody(5)
    assert len(person.offered_at) == 1
    outbound.clock.move(retry)
    wait_for(lambda: outbound.state(campaign) is CampaignState.FINISHED, timeout=60)
    assert [a.outcome for a in outbound.attempts(campaign)] == [Outcome.BUSY.value, Outcome.CONFIRMED.value]
    assert [a.number for a in outbound.attempts(campaign)] == [1, 2]
    assert len(person.offered_at) == 2 and person.rejected == 1 and person.answered == 1


def test_an_answering_machine_gets_the_short_message_and_is_not_called_again(outbound: Outbound) -> None:
    machine = outbound.carrier.machine(_number())
    person = outbound.carrier.callee(_number())
    campaign = outbound.campaign([machine, person])
    outbound.run_dialler()
    outbound.service.start(campaign)
    wait_for(lambda: outbound.state(campaign) is CampaignState.FINISHED, timeout=90)
    outcomes = {a.phone: a.outcome for a in outbound.attempts(campaign)}
    assert outcomes == {machine.number: Outcome.MACHINE.value, person.number: Outcome.CONFIRMED.value}
    # The policy does not retry machines: the short message counts as delivered.
    callees = outbound.callees(campaign)
    assert callees[machine.number].state == CalleeState.REACHED.value
    # The hotline left its message and hung up; the machine had spoken over a second of its greeting first.
    wait_for(lambda: machine.ended_by_far_end == 1, timeout=30)
    assert machine.answered == 1 and machine.greeting_sent_ms >= 1500
    assert len(person.offered_at) == 1 and person.answered == 1


def test_a_callee_who_does_not_answer_is_due_again_later(outbound: Outbound) -> None:
    person = outbound.carrier.callee(_number(), plan=["ring"])
    campaign = outbound.campaign([person])
    outbound.run_dialler(ring_timeout_s=3)
    outbound.service.start(campaign)
    wait_for(lambda: [a.outcome for a in outbound.attempts(campaign)] == [Outcome.NO_ANSWER.value], timeout=60)
    assert len(person.offered_at) == 1 and person.answered == 0
    callee = outbound.callees(campaign)[person.number]
    assert callee.state == CalleeState.PENDING.value and callee.last_outcome == Outcome.NO_ANSWER.value


def test_call_starts_keep_the_trunk_pace(outbound: Outbound) -> None:
    people = [outbound.carrier.callee(_number(), plan=["reject"]) for _ in range(4)]
    campaign = outbound.campaign(people)
    dialler = outbound.run_dialler()
    outbound.service.start(campaign)
    wait_for(lambda: len(outbound.attempts(campaign)) == 4 and all(a.outcome for a in outbound.attempts(campaign)),
             timeout=60)  # fmt: skip
    spacing = outbound.service.policy.trunks["carrier"].spacing
    starts = sorted(at for _, at in dialler.starts)
    assert len(starts) == 4
    assert all(b - a >= spacing - 0.01 for a, b in itertools.pairwise(starts)), starts
    # What the carrier saw: INVITEs spaced the same (a little jitter on the way).
    arrivals = sorted(at for p in people for at in p.offered_at)
    assert all(b - a >= spacing - 0.15 for a, b in itertools.pairwise(arrivals)), arrivals


def test_pause_and_resume_call_nobody_twice(outbound: Outbound) -> None:
    outbound.service.policy = _policy(calls_per_second=0.5)  # a start every 2 s: room to pause between them
    people = [outbound.carrier.callee(_number(), key_after=1.0) for _ in range(4)]
    campaign = outbound.campaign(people)
    outbound.run_dialler()
    outbound.service.start(campaign)
    wait_for(lambda: sum(len(p.offered_at) for p in people) >= 1, timeout=30)
    outbound.service.pause(campaign)
    # The call in flight ends and is recorded as usual.
    wait_for(lambda: outbound.service.progress(campaign).in_flight == 0, timeout=60)
    called = sum(len(p.offered_at) for p in people)
    assert 1 <= called < 4
    outbound.claims_find_nobody(5)  # a paused campaign gets no call, however often the dialler looks
    assert sum(len(p.offered_at) for p in people) == called
    assert len(outbound.attempts(campaign)) == called
    outbound.service.resume(campaign)
    wait_for(lambda: outbound.state(campaign) is CampaignState.FINISHED, timeout=90)
    assert [len(p.offered_at) for p in people] == [1, 1, 1, 1]
    assert [a.outcome for a in outbound.attempts(campaign)] == [Outcome.CONFIRMED.value] * 4


def test_a_dialler_stopped_mid_call_reports_it_and_the_next_calls_nobody_twice(outbound: Outbound) -> None:
    outbound.service.policy = _policy(calls_per_second=0.5)
    listener = outbound.carrier.callee(_number(), keys="")  # listens to the notice, presses nothing
    others = [outbound.carrier.callee(_number()) for _ in range(2)]
    campaign = outbound.campaign([listener, *others])
    first = outbound.run_dialler(drain_s=1.0)
    outbound.service.start(campaign)
    wait_for(lambda: listener.answered == 1, timeout=30)
    outbound.dialler.stop()  # type: ignore[union-attr]  # as app.py run stops it: SIGTERM cancels its run
    # The call in flight was hung up and reported, not left to lapse into a lost attempt.
    assert not first.calls
    attempts = outbound.attempts(campaign)
    assert all(a.outcome is not None for a in attempts), [(a.phone, a.outcome) for a in attempts]
    assert Outcome.LOST.value not in {a.outcome for a in attempts}
    assert {a.phone: a.outcome for a in attempts}[listener.number] == Outcome.ANSWERED.value
    wait_for(lambda: listener.ended_by_far_end == 1, timeout=10)
    # A new dialler finishes the campaign; the callee who heard the notice is not called again.
    outbound.run_dialler()
    wait_for(lambda: outbound.state(campaign) is CampaignState.FINISHED, timeout=90)
    assert len(listener.offered_at) == 1
    assert [len(p.offered_at) for p in others] == [1, 1]
    assert sorted(a.outcome or "" for a in outbound.attempts(campaign)) == sorted(
        [Outcome.ANSWERED.value, Outcome.CONFIRMED.value, Outcome.CONFIRMED.value]
    )


def test_nobody_is_called_outside_the_allowed_hours(outbound: Outbound) -> None:
    outbound.clock.set_local(23, 30)
    person = outbound.carrier.callee(_number())
    campaign = outbound.campaign([person])
    outbound.run_dialler(poll_s=0.2)
    outbound.service.start(campaign)
    outbound.claims_find_nobody(10)
    assert person.offered_at == []
    assert outbound.attempts(campaign) == []
    # The same campaign is called as soon as the hours allow: at 10:00 the next morning.
    outbound.clock.move(timedelta(hours=10, minutes=30))
    wait_for(lambda: outbound.state(campaign) is CampaignState.FINISHED, timeout=60)
    assert [a.outcome for a in outbound.attempts(campaign)] == [Outcome.CONFIRMED.value]


def test_0_puts_the_callee_through_to_an_agent_with_the_campaign(outbound: Outbound) -> None:
    testbed = outbound.testbed
    desk = AgentDesk(testbed.config, routing.load(testbed.config.acd.policy))
    seat_name = testbed.config.seats.names()[-2]
    password = testbed.config.secrets.seat_password(seat_name)
    seat = testbed.sip.run(testbed.sip.seat(seat_name, testbed.domain, password, 0.0, 2.0))
    agent = f"campaign-agent-{time.time_ns()}"
    started = f"{int(time.time() * 1000)}-0"
    try:
        ok, detail = desk.login(AgentProfile(agent, ("general",), ()), seat_name)
        assert ok, detail
        assert desk.ready(agent)[0]
        person = outbound.carrier.callee(_number(), keys="0", key_after=2.0)
        campaign = outbound.campaign([person])
        dialler = outbound.run_dialler()
        outbound.service.start(campaign)
        wait_for(lambda: outbound.state(campaign) is CampaignState.FINISHED, timeout=60)
        (attempt,) = outbound.attempts(campaign)
        assert attempt.outcome == Outcome.TO_AGENT.value
        client = redis.Redis.from_url(testbed.config.redis.effective_url())

        def entered() -> list[dict[str, Any]]:
            entries: Any = client.xrange("acd:events", min=started)
            events = [json.loads(f[b"event"]) for _, f in entries]
            return [e for e in events if e["type"] == "queue.enter" and
                    str(e["call"]).startswith(f"outbound-{attempt.id}-")]  # fmt: skip

        (enter,) = wait_for(entered, timeout=30)
        assert enter["data"]["intent"] == "outage"
        wait_for(lambda: len(seat.answered) >= 1, timeout=30)
        # With the agent, the call is still up on the carrier trunk: it still counts against the trunk's limit.
        assert dialler.pacers["carrier"].live == 1
        # The agent's screen-pop, as the desk's page gets it for the call: the campaign and the callee's customer.
        sessions = testbed.hotline.contacts.sessions
        screenpop = ScreenPop(ContactLog(sessions), CustomerService(sessions), CampaignLookups(sessions), desk.call)
        pop = screenpop.build(str(enter["call"]))
        assert pop["campaign"]["id"] == campaign and pop["campaign"]["attempt"] == attempt.id
        assert pop["campaign"]["kind"] == "planned_outage" and pop["campaign"]["message"]["reason"] == "计划检修"
        assert pop["call"]["caller"] == person.number
        assert person.number in pop["customer"]["phones"], pop["customer"]
        # The agent hangs up (the seat's talk_for), the callee is offered the satisfaction survey, and the call
        # ends: only then is the trunk's room given back.
        wait_for(lambda: dialler.pacers["carrier"].live == 0 and not dialler.calls, timeout=90)
        # The hotline hung up: its BYE reaches the callee's phone about when Asterisk tells the dialler.
        wait_for(lambda: person.ended_by_far_end == 1, timeout=10)
    finally:
        # Logging out waits for the agent's call to end (a busy agent is logged out after it): the seat is then
        # free for the next test.
        wait_for(lambda: desk.logout(agent) or not desk.agent(agent), timeout=30)
        testbed.sip.run(testbed.sip.unregister(seat))
        desk.close()


def test_the_agents_page_shows_the_notice_the_callee_heard_and_takes_their_opt_out(
    outbound: Outbound, browser: Browser, web_logins: WebLogins
) -> None:
    """The desk in real Chromium: the callee presses 0, the agent's screen-pop names the campaign and the customer
    before the softphone answers, and the customer's wish not to be called for bill reminders is recorded."""
    testbed = outbound.testbed
    sip = testbed.sip
    seat_name = testbed.config.seats.names()[-4]
    seat = sip.run(sip.seat(seat_name, testbed.domain, testbed.config.secrets.seat_password(seat_name), 2.5, 60.0))
    agent = web_logins.agents[1]  # signed in on a desk by no other test
    page = logged_in(browser, testbed, agent, web_logins.password)
    try:
        page.select_option("#seat", seat_name)
        page.click("#btn-login")
        expect(page.locator("#agent-state")).to_have_attribute("data-state", "paused", timeout=10_000)
        page.click("#btn-ready")
        expect(page.locator("#agent-state")).to_have_attribute("data-state", "ready", timeout=10_000)
        person = outbound.carrier.callee(_number(), keys="0", key_after=2.0)
        campaign = outbound.campaign([person])
        name = outbound.service.campaign(campaign).name
        outbound.run_dialler()
        outbound.service.start(campaign)
        expect(page.locator("#pop-campaign")).to_contain_text(name, timeout=40_000)
        expect(page.locator("#pop-campaign")).to_contain_text("计划停电通知")
        expect(page.locator("#pop-caller")).to_have_text(person.number)
        customer_id = outbound.callees(campaign)[person.number].customer_id
        assert customer_id is not None
        expect(page.locator("#pop-customer")).not_to_have_text("—")
        # The customer says they do not want bill reminders by phone: recorded, and kept for every later list.
        page.check("#optout-form input[value=bill_reminder]")
        page.click("#btn-optout")
        expect(page.locator("#optout-done")).to_be_visible(timeout=10_000)
        assert outbound.service.opted_out(customer_id) == {CampaignKind.BILL_REMINDER}
        # The pop came while the seat rang; the softphone answers, and the agent ends the call from the page.
        expect(page.locator("#agent-state")).to_have_attribute("data-state", "busy", timeout=20_000)
        page.click("#btn-hangup")
        expect(page.locator("#agent-state")).to_have_attribute("data-state", "wrap_up", timeout=20_000)
        page.click("#btn-logout")
        expect(page.locator("#agent-state")).to_have_attribute("data-state", "logged_out", timeout=30_000)
    finally:
        # A failure above is the one reported: the seat and the page go whatever state the call is in.
        # (A sign-out asked for during a call takes effect when the call ends.)
        with contextlib.suppress(Exception):
            page.click("#btn-logout", timeout=5_000)
        page.context.close()
        sip.run(sip.unregister(seat))


def test_app_py_dialler_holds_the_outbound_app(testbed: Testbed) -> None:
    """`app.py dialler`, as an operator starts it beside `app.py run`: it registers its Stasis app and stops on
    SIGTERM. (Nothing runs meanwhile: every campaign of these tests is finished or stopped.)"""
    state_dir = testbed.hotline.state_dir
    argv = [sys.executable, str(REPO_DIR / "app.py"), "--config", str(state_dir / "run-config.toml"), "dialler"]
    env = {k: v for k, v in os.environ.items() if not k.startswith("HOTLINE_")}
    process = subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines: list[str] = []

    def read() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            lines.append(line)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        # Its own log says so once the websocket is up. (Asterisk's list of apps is no proof: it keeps an app an
        # earlier dialler held listed while that app still has subscriptions.)
        wait_for(lambda: any("holding hotline-outbound" in line for line in lines), timeout=30)
        assert "hotline-outbound" in testbed.hotline.asterisk.stasis_apps()
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=20)
        reader.join(timeout=5)
    output = "".join(lines)
    assert process.returncode == 0, output
    assert "Traceback" not in output, output
