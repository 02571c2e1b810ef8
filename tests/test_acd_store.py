"""The ACD's atomic claims against a real Redis: however many claims race, no agent gets two calls and no call
two agents; agents' states and ready sets stay in step."""

from __future__ import annotations

import asyncio

import redis.asyncio as aioredis

from cti.acd.policy import AgentProfile
from cti.acd.store import AcdStore, call_score


def _run(redis_url: str, scenario) -> object:  # type: ignore[no-untyped-def]
    async def main() -> object:
        client = aioredis.Redis.from_url(redis_url)
        await client.flushdb()
        try:
            return await scenario(AcdStore(client))
        finally:
            await client.aclose()

    return asyncio.run(main())


async def _agents(store: AcdStore, count: int, skill: str = "billing") -> list[str]:
    agents = [f"a{i}" for i in range(count)]
    for i, agent in enumerate(agents):
        assert (await store.login(agent, f"seat{i}", AgentProfile(agent, (skill,)).groups(), 1000))[0]
        assert (await store.set_agent_state(agent, "ready", "", 1000 + i))[0]
    return agents


def test_racing_claims_never_double_book(redis_url: str) -> None:
    async def scenario(store: AcdStore) -> None:
        await _agents(store, 10)
        for i in range(50):
            await store.enqueue(f"c{i}", "skill:billing", 0, {"score": str(call_score(5, i))})
        # 50 calls and 10 agents at once, from both sides, as several routers would.
        by_call = [store.claim_for_call(f"c{i}", 2000) for i in range(50)]
        by_agent = [store.claim_for_agent(f"a{i}", 2000) for i in range(10)]
        offers = [o for o in await asyncio.gather(*by_call, *by_agent) if o is not None]
        assert len(offers) == 10
        assert len({o.agent for o in offers}) == 10
        assert len({o.call for o in offers}) == 10
        assert len(await store.waiting("skill:billing")) == 40
        for offer in offers:
            assert (await store.agent(offer.agent))["state"] == "ringing"
            assert (await store.call(offer.call))["agent"] == offer.agent

    _run(redis_url, scenario)


def test_longest_idle_agent_and_best_call_first(redis_url: str) -> None:
    async def scenario(store: AcdStore) -> None:
        await _agents(store, 3)  # a0 has been idle longest
        await store.enqueue("standard", "skill:billing", 0, {"score": str(call_score(5, 100))})
        await store.enqueue("key", "skill:billing", 0, {"score": str(call_score(10, 200))})
        offer = await store.claim_for_agent("a1", 3000)
        assert offer is not None and offer.call == "key"
        offer = await store.claim_for_call("standard", 3000)
        assert offer is not None and offer.agent == "a0"

    _run(redis_url, scenario)


def test_no_answer_requeues_at_the_head_and_pauses_after_max_misses(redis_url: str) -> None:
    async def scenario(store: AcdStore) -> None:
        await _agents(store, 1)
        await store.enqueue("c1", "skill:billing", 0, {"score": str(call_score(5, 1))})
        await store.enqueue("c2", "skill:billing", 0, {"score": str(call_score(5, 2))})
        assert (await store.claim_for_call("c1", 10)) is not None
        assert await store.offer_failed("c1", "a0", 20, "noanswer", 2) == ("requeued", "ready")
        assert await store.waiting("skill:billing") == ["c1", "c2"]  # back at the head of its line
        assert (await store.claim_for_call("c1", 30)) is not None
        assert await store.offer_failed("c1", "a0", 40, "noanswer", 2) == ("requeued", "paused")
        agent = await store.agent("a0")
        assert (agent["state"], agent["pause_reason"], agent["misses"]) == ("paused", "missed calls", "2")
        assert await store.claim_for_call("c1", 50) is None  # a paused agent is offered nothing

    _run(redis_url, scenario)


def test_a_refusal_holds_the_agent_back_until_the_timer(redis_url: str) -> None:
    async def scenario(store: AcdStore) -> None:
        await _agents(store, 1)
        await store.enqueue("c1", "skill:billing", 0, {"score": "1"})
        await store.claim_for_call("c1", 10)
        assert await store.offer_failed("c1", "a0", 20, "rejected", 2) == ("requeued", "held")
        assert await store.claim_for_call("c1", 30) is None
        assert await store.timer_ready("a0", "held", 40)
        assert (await store.claim_for_call("c1", 50)) is not None

    _run(redis_url, scenario)


def test_finish_in_every_state(redis_url: str) -> None:
    async def scenario(store: AcdStore) -> None:
        await _agents(store, 2)
        for call in ("waiting", "ringing", "talking"):
            await store.enqueue(call, "skill:nobody", 0, {"score": "1"})
        await store.move("ringing", 0, "skill:billing", 1)
        await store.move("talking", 0, "skill:billing", 1)
        ringing = await store.claim_for_call("ringing", 10)
        talking = await store.claim_for_call("talking", 10)
        assert ringing and talking
        assert await store.connect("talking", talking.agent, 20)
        assert await store.finish("waiting", 30) == ("waiting", "", "", "")
        assert await store.finish("ringing", 30) == ("ringing", ringing.agent, ringing.leg, "ready")
        assert await store.finish("talking", 30) == ("connected", talking.agent, talking.leg, "wrap_up")
        assert await store.finish("talking", 31) is None  # a second finish (the other leg's event) is a no-op
        assert await store.live_calls() == []

    _run(redis_url, scenario)


def test_a_seat_holds_one_agent_and_busy_agents_cannot_log_out(redis_url: str) -> None:
    async def scenario(store: AcdStore) -> None:
        await _agents(store, 1)
        assert await store.login("intruder", "seat0", ("all",), 10) == (False, "a0")
        await store.enqueue("c1", "skill:billing", 0, {"score": "1"})
        await store.claim_for_call("c1", 10)
        assert await store.logout("a0") == -1
        await store.finish("c1", 20)
        assert await store.logout("a0") == 1
        assert await store.agents() == []
        assert await store.members("skill:billing") == 0

    _run(redis_url, scenario)
