"""The agent desktop's call controls and the supervisor's actions, end to end: real callers into the real Asterisk,
the two routers, real auto-answering seats for agents and supervisors. Assertions are on the events the ACD
published, Redis's state, what the softphones saw, and what Asterisk shows over ARI (snoop channels, bridges)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from crm.db import make_engine, session_factory
from cti.acd.process import AgentDesk
from reporting.queue_log import QueueLog
from testbed.phones import Seat
from tests import test_acd
from tests.conftest import Testbed, wait_for


@dataclass
class SupervisedFloor(test_acd.Floor):
    """test_acd's floor of agents and callers, with supervisors' seats: softphones that answer and stay on."""

    supervisor_seats: list[Seat] = field(default_factory=list)

    def supervisor(self) -> Seat:
        names = self.testbed.config.seats.names()
        name = names[next(test_acd._seat_numbers) % len(names)]
        sip = self.testbed.sip
        seat = sip.run(sip.seat(name, self.testbed.domain, self.testbed.config.secrets.seat_password(name), 0.0, None))
        self.supervisor_seats.append(seat)
        return seat

    def connected_call(self, agent: str) -> str:
        """The call the agent talks on, once they do."""
        return str(wait_for(lambda: self.desk.agent(agent).get("state") == "busy" and self.desk.agent(agent)["call"]))

    def close(self) -> None:
        super().close()
        for seat in self.supervisor_seats:
            self.testbed.sip.run(self.testbed.sip.unregister(seat))


@pytest.fixture
def floor(testbed: Testbed, desk: AgentDesk) -> Iterator[SupervisedFloor]:
    floor = SupervisedFloor(testbed, desk)
    yield floor
    floor.close()


def _channels(ari: httpx.Client, prefix: str) -> list[dict[str, Any]]:
    return [c for c in ari.get("/channels").json() if c["id"].startswith(prefix)]


def _bridge(ari: httpx.Client, bridge: str) -> dict[str, Any] | None:
    response = ari.get(f"/bridges/{bridge}")
    return response.json() if response.status_code == 200 else None


def _call_bridge(ari: httpx.Client, call: str) -> dict[str, Any] | None:
    """The bridge of the call's current conversation (acdbridge-<token>-<call>)."""
    found = [b for b in ari.get("/bridges").json() if b["id"].startswith("acdbridge-") and b["id"].endswith(call)]
    return found[0] if found else None


# -- the agent's hang-up button and transfer ----------------------------------------------------------------------


def test_hanging_up_from_the_desk_sends_the_caller_to_the_survey_and_the_agent_to_wrap_up(
    floor: SupervisedFloor,
) -> None:
    floor.agent("hup-agent", skills=("general",), talk_for=None)
    number, caller = floor.call("general", hold=30)
    call = floor.connected_call("hup-agent")
    assert floor.desk.hang_up(call, "someone-else") == (False, "the call is not connected to someone-else")
    assert floor.desk.hang_up(call, "hup-agent") == (True, "wrap_up")
    complete = wait_for(lambda: floor.events("queue.complete"))
    assert (complete[0]["call"], complete[0]["agent"], complete[0]["data"]["ended_by"]) == (call, "hup-agent", "agent")
    assert [e["agent"] for e in floor.events("agent.wrapup")] == ["hup-agent"]
    # The caller is not dropped: [acd-after-call] takes them to the survey, which opens a contact for the call.
    survey = wait_for(lambda: floor.testbed.hotline.contacts.by_uniqueid(call), timeout=15)
    assert survey.caller_number == number
    assert not caller.done()
    # After the wrap-up (2 s in the test policy) the agent is ready again.
    wait_for(lambda: floor.desk.agent("hup-agent").get("state") == "ready", timeout=10)
    assert floor.desk.hang_up(call, "hup-agent")[0] is False  # the call is over
    assert caller.result().established


def test_a_transfer_to_a_skill_reaches_its_agent_while_the_caller_stays_on(
    floor: SupervisedFloor, ari: httpx.Client
) -> None:
    first = floor.agent("xfer-first", skills=("general",), talk_for=None)
    second = floor.agent("xfer-second", skills=("xfer",), talk_for=None)
    number, caller = floor.call("general", hold=25)
    call = floor.connected_call("xfer-first")
    first_leg = floor.desk.call(call)["leg"]
    entered = floor.desk.call(call)["entered"]

    assert floor.desk.transfer(call, "xfer-first", "skill:xfer") == (True, "ringing")
    transfer = wait_for(lambda: floor.events("queue.transfer"))[0]
    assert (transfer["call"], transfer["queue"], transfer["agent"]) == (call, "skill:xfer", "xfer-first")
    assert transfer["data"]["from_agent"] == "xfer-first" and transfer["data"]["from_queue"] == "skill:general"
    # The first agent goes to wrap-up, not the caller to the survey.
    assert floor.desk.agent("xfer-first")["state"] == "wrap_up"
    assert floor.events("queue.complete") == []
    assert floor.testbed.hotline.contacts.by_uniqueid(call) is None

    wait_for(lambda: second.answered, timeout=10)
    assert number in second.answered[0] and number in first.answered[0]
    assert floor.connected_call("xfer-second") == call
    now = floor.desk.call(call)
    assert (now["agent"], now["group"], now["entered"], now["transfers"]) == ("xfer-second", "skill:xfer", entered, "1")
    # In Asterisk: the first agent's leg is gone; the caller talks with the second agent in a new bridge.
    assert ari.get(f"/channels/{first_leg}").status_code == 404
    # The bridge exists a moment before both channels are in it: wait for the state, not for the bridge.
    both = sorted([call, now["leg"]])
    bridge = wait_for(lambda: (b := _call_bridge(ari, call)) is not None and sorted(b["channels"]) == both and b)
    assert sorted(bridge["channels"]) == both
    assert not caller.done()  # the caller's softphone never hung up
    wait_for(lambda: floor.desk.agent("xfer-first").get("state") == "ready", timeout=10)

    # The queue log (which the contact joins on its uniqueid) keeps the transfer between the two conversations.
    queue_log = QueueLog(session_factory(make_engine(floor.testbed.config.database_url)))

    def steps() -> list[str] | None:
        names = ("ENTERQUEUE", "RINGING", "CONNECT", "TRANSFER")
        events = [r.event for r in queue_log.for_call(call) if r.event in names]
        return events if events.count("CONNECT") == 2 else None

    assert wait_for(steps) == ["ENTERQUEUE", "RINGING", "CONNECT", "TRANSFER", "RINGING", "CONNECT"]
    transfer_row = next(r for r in queue_log.for_call(call) if r.event == "TRANSFER")
    assert (transfer_row.queuename, transfer_row.agent) == ("skill:xfer", "xfer-first")
    assert floor.desk.hang_up(call, "xfer-second") == (True, "wrap_up")
    assert caller.result().established


def test_a_transfer_is_refused_unless_connected_to_that_agent_and_to_a_known_target(floor: SupervisedFloor) -> None:
    floor.agent("refuse-agent", skills=("general",), talk_for=None)
    floor.agent("refuse-other", skills=("refuse",), ready=False)
    _, caller = floor.call("general", hold=10)
    call = floor.connected_call("refuse-agent")
    _, waiting_caller = floor.call("general", hold=6)
    waiting = wait_for(lambda: [c for c in floor.desk.live_calls() if floor.desk.call(c).get("state") == "waiting"])[0]

    assert floor.desk.transfer(waiting, "refuse-agent", "skill:refuse") == (
        False,
        "the call is not connected to refuse-agent",
    )
    assert floor.desk.transfer(call, "refuse-other", "skill:refuse") == (
        False,
        "the call is not connected to refuse-other",
    )
    assert floor.desk.transfer("no-such-call", "refuse-agent", "skill:refuse") == (False, "no such call")
    assert floor.desk.transfer(call, "refuse-agent", "queue 7")[0] is False
    assert floor.desk.transfer(call, "refuse-agent", "skill:nobody-has-it") == (
        False,
        "unknown target skill:nobody-has-it: the routing policy does not name it and no agent belongs to it",
    )
    assert floor.desk.transfer(call, "refuse-agent", "agent:refuse-agent")[0] is False
    assert floor.desk.transfer(call, "refuse-agent", "agent:not-logged-in") == (
        False,
        "agent not-logged-in is not logged in",
    )
    assert floor.events("queue.transfer") == []
    assert floor.desk.agent("refuse-agent")["state"] == "busy" and floor.desk.call(call)["state"] == "connected"

    # A group the routing policy names but no one is logged in to: accepted, the caller waits there.
    assert floor.desk.transfer(call, "refuse-agent", "skill:failover") == (
        True,
        "waiting: no agent of skill:failover is logged in",
    )
    assert (floor.desk.call(call)["state"], floor.desk.call(call)["group"]) == ("waiting", "skill:failover")
    assert floor.desk.agent("refuse-agent")["state"] == "wrap_up"
    assert caller.result().ended_by == "caller" and waiting_caller.result().established
    abandon = wait_for(lambda: [e for e in floor.events("queue.abandon") if e["call"] == call])
    assert abandon[0]["data"]["during"] == "waiting"


# -- supervision ----------------------------------------------------------------------------------------------


def test_listening_snoops_on_the_agents_leg_while_the_call_lasts(floor: SupervisedFloor, ari: httpx.Client) -> None:
    floor.agent("listen-agent", skills=("general",), talk_for=None)
    supervisor = floor.supervisor()
    number, caller = floor.call("general", hold=15)
    call = floor.connected_call("listen-agent")
    leg = floor.desk.call(call)["leg"]
    ok, supervision = floor.desk.listen(call, supervisor.name, by="boss")
    assert ok, supervision
    wait_for(lambda: supervisor.answered, timeout=10)
    start = wait_for(lambda: floor.events("supervise.start"))[0]
    assert (start["call"], start["agent"]) == (call, "listen-agent")
    assert {k: start["data"][k] for k in ("supervision", "mode", "seat", "by")} == {
        "supervision": supervision,
        "mode": "listen",
        "seat": supervisor.name,
        "by": "boss",
    }
    # Asterisk holds a snoop channel on the agent's leg, bridged with the supervisor's leg.
    snoop = _channels(ari, f"acdsnoop-{supervision}-")
    assert len(snoop) == 1 and snoop[0]["name"].startswith("Snoop/")
    spy = _bridge(ari, f"acdspy-{supervision}-{call}")
    assert spy is not None and sorted(spy["channels"]) == sorted([snoop[0]["id"], f"acdsup-{supervision}-{call}"])
    # The call itself is untouched: still caller and agent alone in their bridge.
    assert sorted(wait_for(lambda: _call_bridge(ari, call))["channels"]) == sorted([call, leg])
    # The monitor's floor shows it.
    view = floor.desk.floor()
    agent = next(a for a in view["agents"] if a["id"] == "listen-agent")
    assert (agent["state"], agent["call"], agent["caller"], agent["tier"]) == ("busy", call, number, "standard")
    live = next(c for c in view["calls"] if c["id"] == call)
    assert (live["state"], live["agent"], live["caller"]) == ("connected", "listen-agent", number)
    assert live["supervisions"] == [
        {"id": supervision, "mode": "listen", "seat": supervisor.name, "by": "boss", "state": "active"}
    ]
    # A seat supervises one call at a time.
    assert floor.desk.whisper(call, supervisor.name) == (False, f"seat {supervisor.name} is already supervising")

    # The call ends: the supervision ends with it, and nothing of it is left in Asterisk.
    assert floor.desk.hang_up(call, "listen-agent")[0]
    end = wait_for(lambda: floor.events("supervise.end"))[0]
    assert (end["data"]["reason"], end["data"]["started"]) == ("call_ended", True)
    wait_for(lambda: not _channels(ari, f"acdsnoop-{supervision}") and not _channels(ari, f"acdsup-{supervision}"))
    assert _bridge(ari, f"acdspy-{supervision}-{call}") is None
    assert len(floor.events("supervise.end")) == 1
    assert caller.result().established


def test_whispering_reaches_the_agent_and_stops_when_the_supervisor_says(
    floor: SupervisedFloor, ari: httpx.Client
) -> None:
    floor.agent("whisper-agent", skills=("general",), talk_for=None)
    supervisor = floor.supervisor()
    _, caller = floor.call("general", hold=15)
    call = floor.connected_call("whisper-agent")
    ok, supervision = floor.desk.whisper(call, supervisor.name, by="boss")
    assert ok, supervision
    start = wait_for(lambda: floor.events("supervise.start"), timeout=10)[0]
    assert start["data"]["mode"] == "whisper"
    snoop = wait_for(lambda: _channels(ari, f"acdsnoop-{supervision}-"))
    spy = _bridge(ari, f"acdspy-{supervision}-{call}")
    assert spy is not None and sorted(spy["channels"]) == sorted([snoop[0]["id"], f"acdsup-{supervision}-{call}"])
    # The supervisor leaves from the monitor: the snoop goes, the conversation goes on.
    assert floor.desk.stop_supervision(supervision)
    assert not floor.desk.stop_supervision(supervision)
    end = wait_for(lambda: floor.events("supervise.end"))[0]
    assert end["data"]["reason"] == "stopped"
    wait_for(lambda: not _channels(ari, f"acdsnoop-{supervision}") and not _channels(ari, f"acdsup-{supervision}"))
    # Not a synchronisation: a second in which the routers, having seen the supervisor's leg and the snoop end, would
    # end the call if they wrongly took it for the caller's; nothing is awaited, something must not happen.
    time.sleep(1)  # not a synchronisation (above)
    assert floor.desk.call(call)["state"] == "connected" and not caller.done()
    assert floor.events("queue.complete") == [] and floor.events("queue.abandon") == []
    # The seat is free to supervise again.
    ok, again = floor.desk.listen(call, supervisor.name)
    assert ok, again
    wait_for(lambda: len(floor.events("supervise.start")) == 2, timeout=10)
    assert floor.desk.hang_up(call, "whisper-agent")[0]
    wait_for(lambda: not _channels(ari, f"acdsnoop-{again}") and not _channels(ari, f"acdsup-{again}"))


def test_barging_in_joins_the_calls_bridge(floor: SupervisedFloor, ari: httpx.Client) -> None:
    floor.agent("barge-agent", skills=("general",), talk_for=None)
    supervisor = floor.supervisor()
    _, caller = floor.call("general", hold=12)
    call = floor.connected_call("barge-agent")
    leg = floor.desk.call(call)["leg"]
    ok, supervision = floor.desk.barge(call, supervisor.name, by="boss")
    assert ok, supervision
    wait_for(lambda: floor.events("supervise.start"), timeout=10)
    # Caller, agent and supervisor in one bridge; no snoop.
    bridge = wait_for(lambda: _call_bridge(ari, call))
    assert sorted(bridge["channels"]) == sorted([call, leg, f"acdsup-{supervision}-{call}"])
    assert _channels(ari, "acdsnoop-") == []
    # The caller hangs up: the agent goes to wrap-up, the supervisor's leg and the bridge go.
    assert caller.result().ended_by == "caller"
    end = wait_for(lambda: floor.events("supervise.end"))[0]
    assert end["data"]["reason"] == "call_ended"
    complete = wait_for(lambda: floor.events("queue.complete"))
    assert [e["data"]["ended_by"] for e in complete] == ["caller"]
    wait_for(lambda: not _channels(ari, f"acdsup-{supervision}") and _call_bridge(ari, call) is None)
    assert floor.desk.agent("barge-agent")["state"] in ("wrap_up", "ready")


def test_supervising_is_refused_for_a_call_not_connected(floor: SupervisedFloor) -> None:
    floor.agent("nosup-agent", skills=("general",), ready=False)
    supervisor = floor.supervisor()
    _, caller = floor.call("general", hold=4)
    waiting = wait_for(lambda: [c for c in floor.desk.live_calls() if floor.desk.call(c).get("state") == "waiting"])[0]
    assert floor.desk.listen(waiting, supervisor.name) == (False, "the call is waiting")
    assert floor.desk.barge("no-such-call", supervisor.name) == (False, "no such call")
    used = {s.name for s in floor.seats.values()} | {supervisor.name}
    free_seat = next(n for n in reversed(floor.testbed.config.seats.names()) if n not in used)
    assert floor.desk.listen(waiting, free_seat) == (False, f"seat {free_seat} is not registered")
    assert floor.desk.listen(waiting, "seat-none") == (False, "no seat seat-none")
    assert supervisor.offered == []
    caller.result()


# -- the supervisor's actions on agents and calls -----------------------------------------------------------------


def test_a_supervisor_pauses_and_logs_out_agents(floor: SupervisedFloor) -> None:
    floor.agent("force-idle", skills=("general",))
    assert floor.desk.force_pause("force-idle", "boss") == (True, "paused")
    agent = floor.desk.agent("force-idle")
    assert (agent["state"], agent["pause_reason"], agent["paused_by"]) == ("paused", "supervisor", "boss")
    pause = floor.events("agent.pause")[0]
    assert (pause["agent"], pause["data"]) == ("force-idle", {"reason": "supervisor", "by": "boss"})
    assert floor.desk.force_logout("force-idle", "boss") == (True, "logged_out")
    assert floor.desk.agent("force-idle") == {} and "force-idle" not in floor.desk.agents()
    assert floor.events("agent.logout")[0]["data"] == {"by": "boss"}
    assert floor.desk.force_pause("force-idle", "boss") == (False, "logged_out")

    # An agent on a call is logged out when the call ends; the caller is not cut off for it.
    floor.agent("force-busy", skills=("general",), talk_for=None)
    _, caller = floor.call("general", hold=20)
    call = floor.connected_call("force-busy")
    assert floor.desk.force_logout("force-busy", "boss") == (True, "pending")
    assert floor.events("agent.pending")[0]["data"] == {"action": "logout", "by": "boss"}
    agent = floor.desk.agent("force-busy")
    assert (agent["state"], agent["pending"]) == ("busy", "logout")
    assert floor.desk.call(call)["state"] == "connected"
    assert floor.desk.hang_up(call, "force-busy") == (True, "logged_out")
    logout = wait_for(lambda: [e for e in floor.events("agent.logout") if e["agent"] == "force-busy"])[0]
    assert logout["data"] == {"by": "boss", "deferred": True}
    assert floor.desk.agent("force-busy") == {}
    assert "force-busy" not in [e["agent"] for e in floor.events("agent.wrapup")]
    assert caller.result().established


def test_a_desk_action_returns_once_its_events_are_out(floor: SupervisedFloor) -> None:
    # The queue log is written after the stream; a slow database stands for a loaded one. Whoever acted and then
    # reads the stream or the queue log (the monitor, an operator, a test) must find the action there.
    # Not ready: a caller left waiting by an earlier test of the floor cannot be offered to this agent meanwhile
    # (an offer that fails pauses the agent too, and the pause under test would not be the only one).
    floor.agent("flush-agent", skills=("general",), ready=False)
    notifier = floor.desk.acd.notifier
    real_sink = notifier.sink
    assert real_sink is not None
    logged: list[str] = []

    def slow_sink(batch: list[dict[str, Any]]) -> None:
        time.sleep(0.5)  # not a synchronisation: the queue-log writer made slow on purpose
        real_sink(batch)
        logged.extend(f"{e['type']} {e['agent']}" for e in batch)

    notifier.sink = slow_sink
    try:
        assert floor.desk.force_pause("flush-agent", "boss") == (True, "paused")
        assert logged == ["agent.pause flush-agent"]
        paused = [e["data"] for e in floor.events("agent.pause") if e["agent"] == "flush-agent"]
        assert paused == [{"reason": "supervisor", "by": "boss"}]
        assert floor.desk.ready("flush-agent")[0]
        assert "agent.ready flush-agent" in logged
    finally:
        notifier.sink = real_sink


def test_raising_a_priority_gets_the_call_offered_first(floor: SupervisedFloor) -> None:
    seat = floor.agent("raise-agent", skills=("general",), ready=False, talk_for=0.5)
    numbers = []
    for queued in (1, 2, 3):
        numbers.append(floor.call("general", hold=25)[0])
        wait_for(lambda queued=queued: len(floor.events("queue.enter")) >= queued)
    last = floor.events("queue.enter")[2]["call"]
    assert floor.desk.raise_priority(last, 9, "boss") == (True, "waiting")
    event = floor.events("queue.priority")[0]
    assert (event["call"], event["queue"], event["data"]) == (
        last,
        "skill:general",
        {"priority": 9, "previous": 5, "by": "boss"},
    )
    assert floor.desk.raise_priority(last, 7, "boss") == (False, "its priority is already 9")
    view = floor.desk.floor()
    waiting = [c["id"] for c in view["calls"] if c["state"] == "waiting"]
    assert len(waiting) == 3 and view["groups"]["skill:general"]["waiting"] == 3
    assert next(c for c in view["calls"] if c["id"] == last)["priority"] == 9
    assert view["tiers"]["standard"]["waiting"] == 3 and view["tiers"]["standard"]["longest_wait_ms"] > 0

    floor.desk.ready("raise-agent")
    wait_for(lambda: len(seat.answered) == 3, timeout=30)
    # The raised caller first, then the others in the order they came.
    assert numbers[2] in seat.answered[0]
    assert numbers[0] in seat.answered[1] and numbers[1] in seat.answered[2]
