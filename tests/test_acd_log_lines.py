"""The ACD's log lines about a call carry the call's uniqueid wherever the work on the call started: a timer, an
agent's offer (the call found only then), and never the uniqueid of a call the line is not about."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

import pytest
import redis.asyncio as aioredis

from cti.acd.notifier import Notifier
from cti.acd.policy import AgentProfile, Policy, Step
from cti.acd.services import Acd
from cti.acd.store import AcdStore, call_score
from cti.ari import Ari
from hotline import logs
from hotline.events import event
from testbed.sandbox import free_port

CALL = "1700000000.42"


def _logged(capsys: pytest.CaptureFixture[str], work: Callable[[], None]) -> list[str]:
    """The lines `work` logs in the hotline's own format (logs.setup, on the test's captured stderr); pytest's
    handlers are put back after."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    capsys.readouterr()
    logs.setup()
    try:
        work()
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)
    return capsys.readouterr().err.splitlines()


def _on_acd(redis_url: str, scenario) -> None:  # type: ignore[no-untyped-def]
    """Run `scenario(acd)` on an ACD over the module's Redis (flushed) and an ARI nobody answers."""

    async def main() -> None:
        client = aioredis.Redis.from_url(redis_url)
        await client.flushdb()
        ari = Ari("127.0.0.1", free_port(), "hotline", "secret", timeout=1.0)
        notifier = Notifier(client)
        policy = Policy(priority={"standard": 5}, workflows={"general": (Step("skill:billing", 5), Step("all", 0))})
        try:
            await scenario(Acd(AcdStore(client), ari, notifier, policy))
        finally:
            await notifier.close()
            await ari.close()
            await client.aclose()

    asyncio.run(main())


def test_a_failing_timer_of_a_call_is_logged_with_the_calls_uniqueid(
    redis_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    async def scenario(acd: Acd) -> None:
        await acd.store.add_timer("escalate", CALL, "not-a-step", 0)
        assert await acd.run_due_timers() == 1

    lines = _logged(capsys, lambda: _on_acd(redis_url, scenario))
    failed = [line for line in lines if "timer escalate" in line]
    assert failed and f"[{CALL}]" in failed[0]


def test_an_offer_found_for_a_ready_agent_is_logged_with_the_calls_uniqueid(
    redis_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    async def scenario(acd: Acd) -> None:
        await acd.store.enqueue(CALL, "skill:billing", 0, {"score": str(call_score(5, 1000)), "app": "hotline-acd-1"})
        assert (await acd.store.login("a1", "seat1001", AgentProfile("a1", ("billing",)).groups(), 1000))[0]
        assert (await acd.store.set_agent_state("a1", "ready", "", 1000))[0]
        # The agent becomes ready: the offer finds the call, and ringing the seat fails (Asterisk does not answer).
        assert not await acd.offer_agent("a1")

    lines = _logged(capsys, lambda: _on_acd(redis_url, scenario))
    ringing = [line for line in lines if "originating to seat seat1001" in line]
    assert ringing and f"[{CALL}]" in ringing[0]


def test_the_event_publisher_logs_under_no_calls_uniqueid(capsys: pytest.CaptureFixture[str]) -> None:
    async def main() -> None:
        # Nothing listens on this Redis's port: publishing fails and is logged.
        client = aioredis.Redis.from_url(f"redis://127.0.0.1:{free_port()}/0")
        notifier = Notifier(client)
        try:
            with logs.call_context(CALL):
                await notifier.publish(event("queue.enter", CALL, "all"))
            await notifier.flush()
        finally:
            await notifier.close()
            await client.aclose()

    lines = _logged(capsys, lambda: asyncio.run(main()))
    failed = [line for line in lines if "publishing 1 queue events failed" in line]
    assert failed and "[-]" in failed[0]
