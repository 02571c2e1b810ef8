"""The agent desk and the supervisor's monitor: log in on a seat, go ready, pause, log out, hang up and transfer a
call; listen, whisper, barge, force a pause or a logout, raise a caller's priority; read the live floor. A
synchronous face over the ACD's services, for the CLI, the web pages and tests; it runs its own event loop on a
thread. It is handed its connections (cti/acd/process.py opens them from the configuration)."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

import redis.asyncio as aioredis

from cti.acd.floor import FloorView
from cti.acd.notifier import Notifier, QueueLogSink
from cti.acd.policy import AgentProfile, Policy
from cti.acd.services import Acd
from cti.acd.store import AcdStore
from cti.ari import Ari
from hotline.logs import call_context

T = TypeVar("T")


class Desk:
    """The desk over an ARI client, a Redis client and the queue log's sink. It takes them over: they are used on the
    desk's own event loop, and closed with the desk."""

    def __init__(self, policy: Policy, ari: Ari, redis: aioredis.Redis, queue_log: QueueLogSink | None) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, name="agent-desk", daemon=True)
        self._thread.start()
        self.acd: Acd = self._run(self._build(policy, ari, redis, queue_log))

    async def _build(self, policy: Policy, ari: Ari, redis: aioredis.Redis, queue_log: QueueLogSink | None) -> Acd:
        # On the desk's loop: the notifier's queue and task belong to it.
        return Acd(AcdStore(redis), ari, Notifier(redis, queue_log), policy)

    def _run(self, coro: Coroutine[Any, Any, T], timeout: float = 30) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def _act(self, coro: Coroutine[Any, Any, T], call: str = "", timeout: float = 30) -> T:
        """Run an action and return once the events it published are out: whoever acted and then reads the stream
        (the monitor, an operator, a test) sees them. An action on a call logs with the call's uniqueid."""

        async def act() -> T:
            with call_context(call):
                try:
                    return await coro
                finally:
                    await self.acd.notifier.flush()

        return self._run(act(), timeout)

    def close(self) -> None:
        async def shutdown() -> None:
            await self.acd.notifier.close()
            await self.acd.ari.close()
            await self.acd.store.r.aclose()

        self._run(shutdown())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(timeout=5)

    def login(self, profile: AgentProfile, seat: str) -> tuple[bool, str]:
        return self._act(self.acd.login(profile, seat))

    def ready(self, agent: str) -> tuple[bool, str]:
        return self._act(self.acd.ready(agent))

    def pause(self, agent: str, reason: str) -> tuple[bool, str]:
        return self._act(self.acd.pause(agent, reason))

    def logout(self, agent: str) -> bool:
        return self._act(self.acd.logout(agent))

    def agent(self, agent: str) -> dict[str, str]:
        return self._run(self.acd.store.agent(agent))

    def agents(self) -> list[str]:
        return self._run(self.acd.store.agents())

    def live_calls(self) -> list[str]:
        return self._run(self.acd.store.live_calls())

    def call(self, call: str) -> dict[str, str]:
        return self._run(self.acd.store.call(call))

    # -- the agent's call controls ----------------------------------------------------------------------------

    def hang_up(self, call: str, agent: str) -> tuple[bool, str]:
        """(True, the agent's state now: "wrap_up", or "paused"/"logged_out" if a supervisor asked for it) or
        (False, why not)."""
        return self._act(self.acd.hang_up(call, agent), call)

    def transfer(self, call: str, agent: str, target: str) -> tuple[bool, str]:
        """target: "skill:NAME", "team:NAME", "agent:ID" or "all". (True, "ringing" | "waiting" | "waiting: no agent
        of <target> is logged in") or (False, why not)."""
        return self._act(self.acd.transfer(call, agent, target), call)

    # -- the supervisor's --------------------------------------------------------------------------------------

    def listen(self, call: str, supervisor_seat: str, by: str = "") -> tuple[bool, str]:
        """(True, the supervision's id) once the seat rings, or (False, why not)."""
        return self._act(self.acd.supervise(call, supervisor_seat, "listen", by), call)

    def whisper(self, call: str, supervisor_seat: str, by: str = "") -> tuple[bool, str]:
        return self._act(self.acd.supervise(call, supervisor_seat, "whisper", by), call)

    def barge(self, call: str, supervisor_seat: str, by: str = "") -> tuple[bool, str]:
        return self._act(self.acd.supervise(call, supervisor_seat, "barge", by), call)

    def stop_supervision(self, supervision: str) -> bool:
        """Hang up the supervisor's leg; False if the supervision had already ended."""
        return self._act(self.acd.end_supervision(supervision, "stopped"))

    def force_pause(self, agent: str, by: str) -> tuple[bool, str]:
        """(True, "paused" | "pending") or (False, "logged_out"); pending: when the agent's current call ends."""
        return self._act(self.acd.force_pause(agent, by))

    def force_logout(self, agent: str, by: str) -> tuple[bool, str]:
        """(True, "logged_out" | "pending") or (False, "logged_out"); pending: when the agent's current call ends."""
        return self._act(self.acd.force_logout(agent, by))

    def raise_priority(self, call: str, priority: int, by: str) -> tuple[bool, str]:
        """(True, "ringing" | "waiting") or (False, why not)."""
        return self._act(self.acd.raise_priority(call, priority, by), call)

    def floor(self) -> FloorView:
        return self._run(self.acd.floor())
