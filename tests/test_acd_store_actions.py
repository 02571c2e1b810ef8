"""The desk's and the supervisor's changes to the ACD's state, against a real Redis: transfer, a supervisor's pause
and logout (at once, or when the agent's call ends), raising a caller's priority, supervisions, and the floor
snapshot (with its cost at 200 agents and 100 waiting callers)."""

from __future__ import annotations

import time

from cti.acd.floor import floor_view
from cti.acd.policy import AgentProfile
from cti.acd.store import AcdStore, Refused, SupervisionStart, Transferred, call_score
from tests.test_acd_store import _run


async def _agent(store: AcdStore, agent: str, *skills: str, seat: str | None = None, at: int = 1000) -> None:
    assert (await store.login(agent, seat or f"seat-{agent}", AgentProfile(agent, skills).groups(), at))[0]
    assert (await store.set_agent_state(agent, "ready", "", at))[0]


async def _connected(store: AcdStore, call: str, group: str, entered: int = 1, priority: int = 5) -> str:
    """A call of `group` connected to the longest-idle ready agent; returns the agent."""
    fields = {"score": str(call_score(priority, entered)), "priority": str(priority), "entered": str(entered)}
    await store.enqueue(call, group, 0, fields)
    offer = await store.claim_for_call(call, 10)
    assert offer is not None
    assert await store.connect(call, offer.agent, 20)
    return offer.agent


def test_a_transfer_puts_the_caller_in_the_target_line_with_its_first_arrival(redis_url: str) -> None:
    async def scenario(store: AcdStore) -> None:
        await _agent(store, "a1", "billing")
        await _connected(store, "moved", "skill:billing", entered=500)
        # Two callers already wait for repair, one who came before the transferred caller and one after.
        await store.enqueue("earlier", "skill:repair", 0, {"score": str(call_score(5, 100))})
        await store.enqueue("later", "skill:repair", 0, {"score": str(call_score(5, 900))})
        result = await store.transfer("moved", "a1", "skill:repair", 30)
        assert isinstance(result, Transferred)
        assert (result.from_group, result.connected_ms, result.agent_state) == ("skill:billing", 20, "wrap_up")
        assert result.leg.startswith("acdleg-") and result.leg.endswith("-moved")
        assert await store.waiting("skill:repair") == ["earlier", "moved", "later"]
        call = await store.call("moved")
        assert (call["state"], call["group"], call["agent"], call["step"]) == (
            "waiting",
            "skill:repair",
            "",
            "transfer",
        )
        assert (call["transfers"], call["transferred_from"]) == ("1", "a1")
        assert "leg" not in call and "bridge" not in call
        agent = await store.agent("a1")
        assert (agent["state"], agent["call"]) == ("wrap_up", "")
        # An escalation timer of the call's old step no longer moves it.
        assert not await store.move("moved", 0, "all", 1)
        # The agent's leg ending afterwards finds nothing to finish: the call is no longer theirs.
        assert await store.transfer("moved", "a1", "skill:repair", 40) == Refused("the call is not connected to a1")

    _run(redis_url, scenario)


def test_a_transfer_is_refused_unless_the_call_is_connected_to_that_agent(redis_url: str) -> None:
    async def scenario(store: AcdStore) -> None:
        await _agent(store, "a1", "billing")
        await _agent(store, "a2", "billing", at=1001)
        await _connected(store, "talking", "skill:billing")
        await store.enqueue("waiting", "skill:nobody", 0, {"score": "1"})
        assert await store.transfer("talking", "a2", "all", 30) == Refused("the call is not connected to a2")
        assert await store.transfer("waiting", "a1", "all", 30) == Refused("the call is not connected to a1")
        assert await store.transfer("gone", "a1", "all", 30) == Refused("no such call")
        assert (await store.call("talking"))["state"] == "connected"

    _run(redis_url, scenario)


def test_a_supervisor_pauses_or_logs_out_at_once_unless_the_agent_is_on_a_call(redis_url: str) -> None:
    async def scenario(store: AcdStore) -> None:
        await _agent(store, "idle", "billing")
        assert await store.force("idle", "pause", "boss", 50) == (True, "paused")
        agent = await store.agent("idle")
        assert (agent["state"], agent["pause_reason"], agent["paused_by"]) == ("paused", "supervisor", "boss")
        assert await store.r.zscore("acd:ready:skill:billing", "idle") is None
        assert await store.force("idle", "logout", "boss", 60) == (True, "logged_out")
        assert await store.agents() == [] and await store.members("skill:billing") == 0
        assert await store.agent_on_seat("seat-idle") is None
        assert await store.force("idle", "pause", "boss", 70) == (False, "logged_out")
        # The agent's own "ready" clears the supervisor's name from the pause.
        await _agent(store, "again", "billing")
        await store.force("again", "pause", "boss", 80)
        await store.set_agent_state("again", "ready", "", 90)
        assert (await store.agent("again"))["paused_by"] == ""

    _run(redis_url, scenario)


def test_a_supervisors_pause_or_logout_waits_for_the_end_of_the_call(redis_url: str) -> None:
    async def scenario(store: AcdStore) -> None:
        for agent in ("talker", "ringer", "leaver", "mover"):
            await _agent(store, agent, agent)
        await _connected(store, "c-talk", "skill:talker")
        assert await store.force("talker", "pause", "boss", 30) == (True, "pending")
        assert (await store.agent("talker"))["state"] == "busy"  # the conversation goes on
        finished = await store.finish("c-talk", 40)
        assert finished is not None and (finished[0], finished[1], finished[3]) == ("connected", "talker", "paused")
        agent = await store.agent("talker")
        assert (agent["state"], agent["pause_reason"], agent["paused_by"], agent["pending"]) == (
            "paused",
            "supervisor",
            "boss",
            "",
        )

        # Ringing, then the offer fails: paused instead of charged a miss.
        await store.enqueue("c-ring", "skill:ringer", 0, {"score": "1"})
        await store.claim_for_call("c-ring", 10)
        assert await store.force("ringer", "pause", "boss", 20) == (True, "pending")
        assert await store.offer_failed("c-ring", "ringer", 30, "noanswer", 2) == ("requeued", "paused")
        assert (await store.agent("ringer"))["misses"] == "0"

        # A logout wins over a pause asked for before it; the agent is left paused ("logging out") for the
        # service to log out and name who asked.
        await _connected(store, "c-leave", "skill:leaver")
        assert await store.force("leaver", "pause", "boss", 30) == (True, "pending")
        assert await store.force("leaver", "logout", "chief", 31) == (True, "pending")
        assert await store.force("leaver", "pause", "boss", 32) == (True, "pending")
        finished = await store.finish("c-leave", 40)
        assert finished is not None and finished[3] == "paused"
        agent = await store.agent("leaver")
        assert (agent["pause_reason"], agent["paused_by"], agent["pending"]) == ("logging out", "chief", "logout")
        assert await store.logout("leaver") == 1

        # A transfer ends the agent's call too.
        await _connected(store, "c-move", "skill:mover")
        await store.force("mover", "pause", "boss", 30)
        result = await store.transfer("c-move", "mover", "all", 40)
        assert isinstance(result, Transferred) and result.agent_state == "paused"

    _run(redis_url, scenario)


def test_raising_a_priority_moves_the_call_ahead_keeping_its_arrival(redis_url: str) -> None:
    async def scenario(store: AcdStore) -> None:
        for call, entered in (("first", 100), ("second", 200), ("third", 300)):
            fields = {"score": str(call_score(5, entered)), "priority": "5", "entered": str(entered)}
            await store.enqueue(call, "skill:billing", 0, fields)
        key = {"score": str(call_score(10, 50)), "priority": "10", "entered": "50"}
        await store.enqueue("key", "skill:billing", 0, key)
        assert await store.raise_priority("third", 10, call_score(10, 300)) == ("waiting", 5, "skill:billing")
        # Ahead of the standard callers, behind the key account who came before it.
        assert await store.waiting("skill:billing") == ["key", "third", "first", "second"]
        assert (await store.call("third"))["priority"] == "10"
        assert await store.raise_priority("third", 10, call_score(10, 300)) == Refused("its priority is already 10")
        assert await store.raise_priority("third", 3, call_score(3, 300)) == Refused("its priority is already 10")
        assert await store.raise_priority("nobody", 10, 1) == Refused("no such call")
        await _agent(store, "a1", "billing")
        offer = await store.claim_for_agent("a1", 400)
        assert offer is not None and offer.call == "key"
        await store.connect("key", "a1", 410)
        assert await store.raise_priority("key", 20, call_score(20, 50)) == Refused("the call is connected")

    _run(redis_url, scenario)


def test_a_supervision_is_recorded_once_per_seat_and_ended_once(redis_url: str) -> None:
    async def scenario(store: AcdStore) -> None:
        await _agent(store, "a1", "billing", seat="seat1")
        await _agent(store, "team-lead", "billing", seat="seat9", at=1001)
        await _connected(store, "c1", "skill:billing")
        await store.set_call_fields("c1", app="hotline-acd-1", caller="13900000000", bridge="acdbridge-x-c1")
        assert await store.start_supervision("c1", "listen", "seat1", "boss", 30) == Refused(
            "seat seat1 is the agent's own"
        )
        # The team lead's seat may supervise once its agent is paused: it could be offered a call otherwise.
        assert await store.start_supervision("c1", "listen", "seat9", "boss", 30) == Refused(
            "seat seat9 has agent team-lead on it, not paused"
        )
        await store.set_agent_state("team-lead", "paused", "supervising", 31)
        start = await store.start_supervision("c1", "listen", "seat9", "boss", 32)
        assert isinstance(start, SupervisionStart)
        assert (start.app, start.caller, start.agent, start.bridge) == (
            "hotline-acd-1",
            "13900000000",
            "a1",
            "acdbridge-x-c1",
        )
        assert start.leg == f"acdsup-{start.supervision}-c1" and start.agent_leg.startswith("acdleg-")
        assert await store.start_supervision("c1", "barge", "seat9", "boss", 33) == Refused(
            "seat seat9 is already supervising"
        )
        assert await store.supervisions_of("c1") == [start.supervision]
        assert await store.supervision_active(start.supervision, 40, "acdsnoop-x", "acdspy-x")
        assert not await store.supervision_active(start.supervision, 41, "acdsnoop-x", "acdspy-x")
        ended = await store.end_supervision(start.supervision)
        assert ended is not None and (ended["state"], ended["mode"], ended["started"]) == ("active", "listen", "40")
        assert await store.end_supervision(start.supervision) is None
        assert not await store.supervision_active(start.supervision, 50, "", "")  # no half record left behind
        assert await store.supervision(start.supervision) == {}
        assert await store.supervisions_of("c1") == []
        assert isinstance(await store.start_supervision("c1", "barge", "seat9", "boss", 60), SupervisionStart)
        # Only a connected call can be supervised.
        await store.enqueue("c2", "skill:nobody", 0, {"score": "1"})
        assert await store.start_supervision("c2", "listen", "seat7", "boss", 60) == Refused("the call is waiting")

    _run(redis_url, scenario)


def test_the_floor_snapshot_of_200_agents_and_100_waiting_callers(redis_url: str) -> None:
    async def scenario(store: AcdStore) -> float:
        teams = ("billing", "repair", "complaint", "business")
        for i in range(200):
            await _agent(store, f"a{i:03}", teams[i % 4], at=1000 + i)
        # 60 of them talk, 100 callers wait (20 of them key accounts), one talk is listened to.
        for i in range(60):
            await _connected(store, f"talk{i}", f"skill:{teams[i % 4]}", entered=500 + i)
        for i in range(20):
            await store.force(f"a{60 + i:03}", "pause", "boss", 2000)
        for i in range(100):
            tier, priority = ("key_account", 10) if i % 5 == 0 else ("standard", 5)
            fields = {"score": str(call_score(priority, 3000 + i)), "priority": str(priority), "tier": tier,
                      "entered": str(3000 + i), "caller": f"1390000{i:04}", "intent": "billing"}  # fmt: skip
            await store.enqueue(f"wait{i}", f"skill:{teams[i % 4]}", 0, fields)
        await store.set_call_fields("talk0", caller="13911112222", tier="key_account")
        start = await store.start_supervision("talk0", "listen", "seat-sup", "boss", 4000)
        assert isinstance(start, SupervisionStart)

        timings = []
        for _ in range(20):
            started = time.perf_counter()
            view = floor_view(await store.floor(), 10_000)
            timings.append(time.perf_counter() - started)
        assert len(view["agents"]) == 200 and len(view["calls"]) == 160
        a000 = view["agents"][0]
        assert (a000["id"], a000["state"], a000["call"], a000["caller"], a000["tier"]) == (
            "a000",
            "busy",
            "talk0",
            "13911112222",
            "key_account",
        )
        assert a000["groups"] == ["agent:a000", "skill:billing", "all"]
        paused = view["agents"][60]
        assert (paused["state"], paused["pause_reason"], paused["paused_by"]) == ("paused", "supervisor", "boss")
        assert view["calls"][0]["supervisions"] == [
            {"id": start.supervision, "mode": "listen", "seat": "seat-sup", "by": "boss", "state": "ringing"}
        ]
        billing = view["groups"]["skill:billing"]
        assert billing == {"waiting": 25, "longest_wait_ms": 7000, "agents": 50, "ready": 30}  # 15 talk, 5 paused
        assert view["groups"]["all"]["agents"] == 200 and "agent:a000" not in view["groups"]
        assert view["tiers"] == {
            "key_account": {"waiting": 20, "longest_wait_ms": 7000},
            "standard": {"waiting": 80, "longest_wait_ms": 6999},
        }
        timings.sort()
        return timings[len(timings) // 2]

    median = _run(redis_url, scenario)
    assert isinstance(median, float)
    print(f"floor(): {median * 1000:.1f} ms (median of 20) for 200 agents, 160 calls")
    # One round trip and a pure function: a few milliseconds; generous for a loaded two-core machine.
    assert median < 0.1
