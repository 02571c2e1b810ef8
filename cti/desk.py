"""The agent desk: log in on a seat, go ready, pause, log out, and read agents' and calls' states. A synchronous
face over the ACD's services, for the CLI, the web pages and tests; it runs its own event loop on a thread."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

from cti.ari import Ari
from cti.notifier import Notifier, queue_log_sink
from cti.policy import AgentProfile, Policy
from cti.services import Acd
from cti.store import AcdStore, connect_redis
from hotline.config import Config

T = TypeVar("T")


class AgentDesk:
    def __init__(self, config: Config, policy: Policy) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, name="agent-desk", daemon=True)
        self._thread.start()
        self.acd: Acd = self._run(self._build(config, policy))

    async def _build(self, config: Config, policy: Policy) -> Acd:
        ari = Ari(config.ari.host, config.ari.port, config.ari.user, config.secrets.ari_password)
        client = connect_redis(config.redis.effective_url())
        return Acd(AcdStore(client), ari, Notifier(client, queue_log_sink(config.database_url)), policy)

    def _run(self, coro: Coroutine[Any, Any, T], timeout: float = 30) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def close(self) -> None:
        async def shutdown() -> None:
            await self.acd.notifier.close()
            await self.acd.ari.close()
            await self.acd.store.r.aclose()

        self._run(shutdown())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(timeout=5)

    def login(self, profile: AgentProfile, seat: str) -> tuple[bool, str]:
        return self._run(self.acd.login(profile, seat))

    def ready(self, agent: str) -> tuple[bool, str]:
        return self._run(self.acd.ready(agent))

    def pause(self, agent: str, reason: str) -> tuple[bool, str]:
        return self._run(self.acd.pause(agent, reason))

    def logout(self, agent: str) -> bool:
        return self._run(self.acd.logout(agent))

    def agent(self, agent: str) -> dict[str, str]:
        return self._run(self.acd.store.agent(agent))

    def agents(self) -> list[str]:
        return self._run(self.acd.store.agents())

    def live_calls(self) -> list[str]:
        return self._run(self.acd.store.live_calls())

    def call(self, call: str) -> dict[str, str]:
        return self._run(self.acd.store.call(call))
