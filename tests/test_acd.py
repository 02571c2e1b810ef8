"""The ACD router end to end: real callers into the real Asterisk, two router processes sharing Redis, real
auto-answering agent softphones. Assertions are on the queue events the routers published, the agents' states
in Redis, and what the softphones saw."""

from __future__ import annotations

import itertools
import json
import os
import signal
import time
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field

import pytest
import redis

from crm.db import make_engine, session_factory
from cti.acd.policy import AgentProfile
from cti.acd.process import AgentDesk
from hotline import redis_server
from reporting.queue_log import QueueLog
from testbed.phones import CallResult, Seat
from tests.conftest import Testbed, new_caller_number, wait_for

_seat_numbers = itertools.count()


@dataclass
class Floor:
    """Agents and callers of one test; everything it started is cleaned up at the end."""

    testbed: Testbed
    desk: AgentDesk
    seats: dict[str, Seat] = field(default_factory=dict)
    pool: ThreadPoolExecutor = field(default_factory=lambda: ThreadPoolExecutor(40))
    started_at: str = field(default_factory=lambda: f"{int(time.time() * 1000)}-0")

    def agent(self, agent: str, *, skills: tuple[str, ...] = (), teams: tuple[str, ...] = (), ready: bool = True,
              answer_after: float | None = 0.0, talk_for: float | None = 1.0) -> Seat:  # fmt: skip
        """A softphone registered on a free seat, and the agent logged in on it."""
        names = self.testbed.config.seats.names()
        seat_name = names[next(_seat_numbers) % len(names)]
        password = self.testbed.config.secrets.seat_password(seat_name)
        sip = self.testbed.sip
        seat = sip.run(sip.seat(seat_name, self.testbed.domain, password, answer_after, talk_for))
        self.seats[agent] = seat
        ok, detail = self.desk.login(AgentProfile(agent, skills, teams), seat_name)
        assert ok, detail
        if ready:
            assert self.desk.ready(agent)[0]
        return seat

    def call(self, intent: str, tier: str = "standard", manager: str = "", hold: float = 30,
             number: str | None = None) -> tuple[str, Future[CallResult]]:  # fmt: skip
        """A caller entering the ACD with what the IVR would have learned; returns its number and the call."""
        number = number or new_caller_number()
        headers = {"X-Hotline-Intent": intent, "X-Hotline-Tier": tier, "X-Hotline-Manager": manager}
        future = self.pool.submit(self.testbed.call, "acd", caller_number=number, headers=headers, hold=hold)
        return number, future

    def events(self, kind: str | None = None) -> list[dict]:  # type: ignore[type-arg]
        client = redis.Redis.from_url(self.testbed.config.redis.effective_url())
        entries = client.xrange("acd:events", min=self.started_at)
        events = [json.loads(fields[b"event"]) for _, fields in entries]
        return [e for e in events if kind is None or e["type"] == kind]

    def close(self) -> None:
        self.pool.shutdown(wait=True)
        for agent, seat in self.seats.items():
            self.desk.logout(agent)
            self.testbed.sip.run(self.testbed.sip.unregister(seat))


@pytest.fixture
def floor(testbed: Testbed, desk: AgentDesk) -> Iterator[Floor]:
    floor = Floor(testbed, desk)
    yield floor
    floor.close()


def _queued(floor: Floor, count: int) -> bool:
    return len(floor.events("queue.enter")) >= count


def test_a_key_account_waiting_beside_standard_callers_reaches_an_agent_first(floor: Floor) -> None:
    seat = floor.agent("prio-1", skills=("prio",), ready=False, talk_for=0.5)
    standard = []
    for queued in (1, 2):
        standard.append(floor.call("prio"))
        wait_for(lambda queued=queued: _queued(floor, queued))
    key_number, key_call = floor.call("prio", tier="key_account")
    wait_for(lambda: _queued(floor, 3))
    floor.desk.ready("prio-1")
    wait_for(lambda: len(seat.answered) >= 1, timeout=15)
    assert key_number in seat.answered[0]
    wait_for(lambda: len(seat.answered) == 3, timeout=30)
    # Then the standard callers, in the order they came.
    assert [n for n, _ in standard] == [next(n for n, _ in standard if n in a) for a in seat.answered[1:]]
    assert all(f.result().established for _, f in [*standard, (key_number, key_call)])


def test_the_dedicated_manager_gets_his_key_account(floor: Floor) -> None:
    # The team member has been idle longer, so without the manager step he would get the call.
    colleague = floor.agent("kam-colleague", skills=("keyacct",), teams=("kam",))
    time.sleep(0.2)  # not a synchronisation: the next agent becomes ready later, so who is longest idle is clear
    manager = floor.agent("kam-manager", skills=("keyacct",), teams=("kam",))
    number, call = floor.call("keyacct", tier="key_account", manager="kam-manager", hold=5)
    wait_for(lambda: manager.answered, timeout=10)
    assert number in manager.answered[0]
    assert colleague.offered == []
    assert call.result().established
    # Every step is in the database's queue log, with Asterisk's queue_log event names.
    queue_log = QueueLog(session_factory(make_engine(floor.testbed.config.database_url)))
    connected_call = floor.events("queue.connect")[0]["call"]

    def complete_log():  # type: ignore[no-untyped-def]
        rows = queue_log.for_call(connected_call)
        return rows if rows and rows[-1].event == "COMPLETEAGENT" else None

    rows = wait_for(complete_log)
    assert [r.event for r in rows] == ["ENTERQUEUE", "RINGING", "CONNECT", "COMPLETEAGENT"]
    assert rows[1].agent == "kam-manager" and rows[0].queuename == "agent:kam-manager"
    # The conversation was recorded, from the caller's side while bridged with the agent.
    connected = floor.events("queue.connect")[0]["call"]
    recording = floor.testbed.hotline.asterisk.host_dir / "spool" / "monitor" / f"acd-{connected}.wav"
    wait_for(lambda: recording.exists() and recording.stat().st_size > 8000)


def test_after_the_timeout_the_call_escalates_to_the_next_target(floor: Floor) -> None:
    # Manager and team are logged in but busy elsewhere (paused): their steps are not skipped, they time out.
    floor.agent("esc-manager", teams=("kam",), ready=False)
    floor.agent("esc-team", teams=("kam",), ready=False)
    skilled = floor.agent("esc-skilled", skills=("keyacct",))
    started = time.monotonic()
    number, _ = floor.call("keyacct", tier="key_account", manager="esc-manager", hold=12)
    wait_for(lambda: skilled.answered, timeout=15)
    waited = time.monotonic() - started
    assert number in skilled.answered[0]
    assert waited >= 6  # 3 s at the manager, 3 s at the team
    steps = [e["data"]["step"] for e in floor.events("queue.escalate")]
    assert steps[:2] == [1, 2]


def test_an_empty_target_is_skipped_at_once(floor: Floor) -> None:
    skilled = floor.agent("skip-skilled", skills=("keyacct",))
    started = time.monotonic()
    # The manager is not logged in and the key-account team is empty: both steps are skipped.
    number, _ = floor.call("keyacct", tier="key_account", manager="nobody-here", hold=4)
    wait_for(lambda: skilled.answered, timeout=10)
    assert time.monotonic() - started < 3
    assert number in skilled.answered[0]
    enter = floor.events("queue.enter")[0]
    assert enter["queue"] == "skill:keyacct"


def test_no_answer_goes_to_the_next_agent_and_pauses_a_repeat_offender(floor: Floor) -> None:
    sleepy = floor.agent("miss-sleepy", skills=("miss",), answer_after=None)
    time.sleep(0.2)  # not a synchronisation: the next agent becomes ready later, so who is longest idle is clear
    awake = floor.agent("miss-awake", skills=("miss",), talk_for=6)
    first, _ = floor.call("miss", hold=15)
    wait_for(lambda: awake.answered, timeout=15)
    assert first in sleepy.offered[0] and first in awake.answered[0]
    assert floor.desk.agent("miss-sleepy")["misses"] == "1"
    second, _ = floor.call("miss", hold=15)
    wait_for(lambda: floor.desk.agent("miss-sleepy").get("state") == "paused", timeout=15)
    assert floor.desk.agent("miss-sleepy")["pause_reason"] == "missed calls"
    # The router publishes after it changes Redis's state: wait for the event rather than race it.
    wait_for(lambda: len(floor.events("queue.noanswer")) == 2)
    wait_for(lambda: len(awake.answered) == 2, timeout=20)
    assert second in awake.answered[1]


def test_caller_hanging_up_while_the_agent_rings_cancels_the_agents_leg(floor: Floor) -> None:
    ringing = floor.agent("abandon-ring", skills=("abandon",), answer_after=None)
    number, call = floor.call("abandon", hold=2)
    assert call.result().ended_by == "caller"
    assert number in ringing.offered[0]
    wait_for(lambda: floor.desk.agent("abandon-ring").get("state") == "ready")
    assert floor.desk.agent("abandon-ring")["misses"] == "0"
    abandons = wait_for(lambda: floor.events("queue.abandon"))
    assert [a["data"]["during"] for a in abandons] == ["ringing"]
    # Asterisk shows no channel left for that seat.
    wait_for(lambda: "acdleg-" not in floor.testbed.hotline.asterisk.cli("core show channels concise"))


def test_a_waiting_caller_hears_their_place_and_the_expected_wait(floor: Floor) -> None:
    floor.agent("announce-paused", skills=("wrap",), ready=False)
    for queued in (1, 2):
        floor.call("wrap", hold=12)
        wait_for(lambda queued=queued: _queued(floor, queued))
    # Every 4 s (the test policy) each waiting caller is told where they stand, and Asterisk plays all of it.
    wait_for(lambda: len(floor.events("queue.announced")) >= 2, timeout=12)
    announces = floor.events("queue.announce")
    assert sorted(a["data"]["ahead"] for a in announces[:2]) == [0, 1]
    assert all(a["data"]["minutes"] >= 1 for a in announces)
    assert [a["data"]["state"] for a in floor.events("queue.announced")[:2]] == ["done", "done"]


def test_caller_hanging_up_while_waiting_is_an_abandon(floor: Floor) -> None:
    floor.agent("abandon-paused", skills=("abandon",), ready=False)
    number, call = floor.call("abandon", hold=2)
    assert call.result().ended_by == "caller"
    wait_for(lambda: floor.events("queue.abandon"))
    assert floor.events("queue.abandon")[0]["data"]["during"] == "waiting"
    wait_for(lambda: not [c for c in floor.desk.live_calls() if floor.desk.call(c).get("caller") == number])


def test_wrap_up_holds_the_agent_before_the_next_call(floor: Floor) -> None:
    seat = floor.agent("wrap-1", skills=("wrap",), talk_for=1.0)
    floor.call("wrap", hold=10)
    floor.call("wrap", hold=15)
    wait_for(lambda: len(seat.answered) == 2, timeout=20)
    completes = floor.events("queue.complete")
    offers = floor.events("queue.offer")
    assert completes[0]["data"]["ended_by"] == "agent"
    first_end = completes[0]["at"]
    second_offer = offers[1]["at"]
    gap = _seconds(second_offer) - _seconds(first_end)
    assert 1.9 <= gap < 3.5  # wrap_up is 2 s in the test policy
    assert [e["agent"] for e in floor.events("agent.wrapup")][:1] == ["wrap-1"]


def test_a_rejecting_agent_is_held_back_and_the_call_goes_on(floor: Floor) -> None:
    refuser = floor.agent("reject-no", skills=("reject",))
    refuser.reject = True
    time.sleep(0.2)  # not a synchronisation: the next agent becomes ready later, so who is longest idle is clear
    taker = floor.agent("reject-yes", skills=("reject",))
    number, _ = floor.call("reject", hold=4)
    wait_for(lambda: taker.answered, timeout=10)
    assert number in refuser.rejected[0] and number in taker.answered[0]
    assert floor.desk.agent("reject-no")["state"] == "held"
    wait_for(lambda: floor.desk.agent("reject-no")["state"] == "ready", timeout=6)


def test_an_unregistered_seat_is_noticed(floor: Floor) -> None:
    free_seat = floor.testbed.config.seats.names()[-1]
    assert floor.desk.login(AgentProfile("ghost", ("reject",)), free_seat) == (
        False,
        f"seat {free_seat} is not registered",
    )
    gone = floor.agent("reject-gone", skills=("reject",))
    time.sleep(0.2)  # not a synchronisation: the next agent becomes ready later, so who is longest idle is clear
    present = floor.agent("reject-present", skills=("reject",))
    # The first agent's softphone goes away after login: the router finds out when it offers a call.
    floor.testbed.sip.run(floor.testbed.sip.unregister(gone))
    number, _ = floor.call("reject", hold=4)
    wait_for(lambda: present.answered, timeout=10)
    assert number in present.answered[0]
    agent = floor.desk.agent("reject-gone")
    assert (agent["state"], agent["pause_reason"]) == ("paused", "seat unreachable")


def test_two_routers_thirty_callers_no_double_offer_no_lost_call(floor: Floor) -> None:
    seats = [floor.agent(f"load-{i}", skills=("load",), talk_for=0.5) for i in range(6)]
    calls = [floor.call("load", hold=60) for _ in range(30)]
    wait_for(lambda: sum(len(s.answered) for s in seats) == 30, timeout=90)
    results = [f.result() for _, f in calls]
    assert all(r.established and r.ended_by == "far end" for r in results)
    connects = floor.events("queue.connect")
    assert len(connects) == 30 and len({c["call"] for c in connects}) == 30
    # No agent was offered a call while another call rang or talked with them.
    for seat_agent in (f"load-{i}" for i in range(6)):
        busy_until = 0.0
        for evt in floor.events():
            if evt["agent"] != seat_agent:
                continue
            if evt["type"] == "queue.offer":
                assert _seconds(evt["at"]) >= busy_until
                busy_until = float("inf")
            elif evt["type"] in ("queue.complete", "queue.noanswer", "queue.reject", "queue.abandon"):
                busy_until = _seconds(evt["at"])
    # The callers came through both routers' apps: two routers shared the queue.
    assert {e["data"]["app"] for e in floor.events("queue.enter")} == {"hotline-acd-1", "hotline-acd-2"}


def test_a_router_killed_with_callers_waiting_loses_none_of_them(floor: Floor) -> None:
    seats = [floor.agent(f"failover-{i}", skills=("failover",), ready=False, talk_for=0.5) for i in range(2)]
    calls = [floor.call("failover", hold=60) for _ in range(6)]
    wait_for(lambda: _queued(floor, 6))
    for process in floor.testbed.hotline.routers.values():
        os.kill(process.pid, signal.SIGKILL)
    # Both routers die at once; the hotline restarts them and they re-adopt the callers from Asterisk and Redis.
    wait_for(lambda: len(floor.events("router.adopted")) >= 2, timeout=15)
    for i in range(2):
        floor.desk.ready(f"failover-{i}")
    wait_for(lambda: sum(len(s.answered) for s in seats) == 6, timeout=60)
    assert all(f.result().established for _, f in calls)
    assert len({e["call"] for e in floor.events("queue.connect")}) == 6


def test_callers_survive_a_redis_that_lost_its_data(floor: Floor) -> None:
    floor.agent("redis-agent", skills=("failover",), ready=False, talk_for=0.5)
    calls = [floor.call("failover", hold=60) for _ in range(3)]
    wait_for(lambda: _queued(floor, 3))
    hotline = floor.testbed.hotline
    assert hotline.redis_process is not None
    hotline.redis_process.kill()
    hotline.redis_process.wait()
    (hotline.state_dir / "redis" / "dump.rdb").unlink(missing_ok=True)
    hotline.redis_process = redis_server.start(
        hotline.config.redis.port, hotline.state_dir / "redis", hotline.state_dir / "logs" / "redis.log"
    )
    # Redis is empty: the routers rebuild the queue from the callers Asterisk still holds in their apps.
    wait_for(lambda: len(floor.desk.live_calls()) == 3, timeout=20)
    # The agent's desktop logs in again (agents' sessions live in Redis) and takes all three.
    seat = floor.seats["redis-agent"]
    assert floor.desk.login(AgentProfile("redis-agent", ("failover",)), seat.name)[0]
    floor.desk.ready("redis-agent")
    wait_for(lambda: len(seat.answered) == 3, timeout=30)
    assert all(f.result().established for _, f in calls)


def _seconds(iso: str) -> float:
    from datetime import datetime

    return datetime.fromisoformat(iso).timestamp()
