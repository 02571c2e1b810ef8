"""The ACD's routing decision alone, against Redis, at the scale of a national centre: 10,000 logged-in agents and
2,000 waiting calls. Times the two atomic claims the router makes (as the router makes them, round trip
included): a call looking for the longest-idle agent of its group, and a freed agent looking for the best call
among all its groups.

    .venv/bin/python bench/acd_routing_decision.py [--agents 10000] [--calls 2000] [--samples 5000]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import tempfile
import time
from pathlib import Path

import redis.asyncio as aioredis

from cti.acd.policy import AgentProfile
from cti.acd.store import AcdStore, call_score
from hotline import redis_server
from testbed.sandbox import free_port

SKILLS = ("billing", "repair", "complaint", "business")


def percentiles(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)

    def at(p: float) -> float:
        return round(ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))] * 1000, 3)

    return {"n": len(ordered), "p50_ms": at(50), "p99_ms": at(99), "max_ms": round(ordered[-1] * 1000, 3)}


async def populate(store: AcdStore, agents: int, calls: int, rng: random.Random) -> list[str]:
    now = int(time.time() * 1000)
    for i in range(agents):
        profile = AgentProfile(str(i), (rng.choice(SKILLS), rng.choice(SKILLS)), (f"team{i % 20}",))
        await store.login(profile.agent_id, f"seat{i}", profile.groups(), now)
    # The waiting calls are for groups whose agents are all on calls (paused here): the queue is long.
    busy_skill = "overflow"
    for i in range(calls):
        await store.enqueue(
            f"wait-{i}", f"skill:{busy_skill}", 0, {"score": str(call_score(rng.choice((3, 5, 10)), now + i))}
        )
    ready = [str(i) for i in range(agents)]
    for agent in ready:
        await store.set_agent_state(agent, "ready", "", now - rng.randrange(600_000))
    return ready


async def run(agents: int, calls: int, samples: int) -> dict[str, object]:
    rng = random.Random(95598)
    with tempfile.TemporaryDirectory(prefix="acd-decision-") as tmp:
        port = free_port()
        process = redis_server.start(port, Path(tmp) / "redis", Path(tmp) / "redis.log")
        client = aioredis.Redis.from_url(f"redis://127.0.0.1:{port}/0")
        try:
            store = AcdStore(client)
            started = time.perf_counter()
            await populate(store, agents, calls, rng)
            populate_s = time.perf_counter() - started

            # A new call arrives for a skill group with thousands of ready agents: claim the longest idle.
            call_claims = []
            for i in range(samples):
                call = f"new-{i}"
                skill = rng.choice(SKILLS)
                now = int(time.time() * 1000)
                await store.enqueue(call, f"skill:{skill}", 0, {"score": str(call_score(5, now))})
                t0 = time.perf_counter()
                offer = await store.claim_for_call(call, now)
                call_claims.append(time.perf_counter() - t0)
                assert offer is not None
                await store.finish(call, now)  # the agent goes back to ready: the population stays the same

            # A freed agent looks at the head of every queue it serves; the 2,000 waiting calls are there.
            agent_claims = []
            for _ in range(samples):
                agent = str(rng.randrange(agents))
                groups = (await client.hget(f"acd:agent:{agent}", "groups")).decode()
                # This agent now also serves the long queue (a supervisor moved them there).
                await client.hset(f"acd:agent:{agent}", "groups", f"{groups} skill:overflow")
                now = int(time.time() * 1000)
                t0 = time.perf_counter()
                offer = await store.claim_for_agent(agent, now)
                agent_claims.append(time.perf_counter() - t0)
                if offer is not None:
                    # Put the call back where it was and the agent back to ready.
                    fields = await store.call(offer.call)
                    await store.finish(offer.call, now)
                    await store.enqueue(offer.call, "skill:overflow", 0, {"score": fields["score"]})
                await client.hset(f"acd:agent:{agent}", "groups", groups)
            waiting = len(await store.waiting("skill:overflow"))
        finally:
            await client.aclose()
            redis_server.stop(process)
    return {
        "agents": agents,
        "waiting_calls": waiting,
        "populate_s": round(populate_s, 1),
        "claim_for_call": percentiles(call_claims),
        "claim_for_agent": percentiles(agent_claims),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--agents", type=int, default=10_000)
    parser.add_argument("--calls", type=int, default=2_000)
    parser.add_argument("--samples", type=int, default=5_000)
    args = parser.parse_args()
    print(json.dumps(asyncio.run(run(args.agents, args.calls, args.samples)), indent=2))


if __name__ == "__main__":
    main()
