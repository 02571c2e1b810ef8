"""What the parts of the ACD's services share: the store, ARI, the notifier and the routing policy they act
through, the quiet ARI actions they all use, and what one part asks of another (declared here, carried out in
queueing.py, agents.py and supervision.py; services.py puts the parts together as one object)."""

from __future__ import annotations

import abc
import contextlib

from cti.acd.notifier import Notifier
from cti.acd.policy import Policy
from cti.acd.store import AcdStore
from cti.ari import Ari, AriError


class AcdBase(abc.ABC):
    """The ground every part of the services stands on; services.Acd sets the connections."""

    store: AcdStore
    ari: Ari
    notifier: Notifier
    policy: Policy

    async def _hold(self, channel: str) -> None:
        """Music for a waiting caller; a caller already gone is no fault."""
        with contextlib.suppress(AriError):
            await self.ari.start_moh(channel)

    async def _hangup(self, channel: str) -> None:
        """Hang up a channel if there is one; a channel already gone is no fault."""
        if channel:
            with contextlib.suppress(AriError):
                await self.ari.hangup(channel)

    # -- what one part asks of another ----------------------------------------------------------------------

    @abc.abstractmethod
    async def offer_call(self, call: str) -> bool:
        """queueing.py: offer a waiting call to a ready agent of its group; True if it rings somewhere."""

    @abc.abstractmethod
    async def offer_agent(self, agent: str) -> bool:
        """queueing.py: offer a ready agent the best call waiting for any of their groups."""

    @abc.abstractmethod
    async def agent_left(self, call: str, leg: str | None = None) -> None:
        """queueing.py: the agent hung up a connected call."""

    @abc.abstractmethod
    async def _after_call(self, agent: str, agent_state: str) -> None:
        """agents.py: the agent's conversation is over (wrap-up, or a pause or logout that waited for it)."""

    @abc.abstractmethod
    async def _paused_after_call(self, agent: str, reason: str = "") -> None:
        """agents.py: the agent was paused as their call or offer ended."""

    @abc.abstractmethod
    async def _end_supervisions(self, call: str, reason: str) -> None:
        """supervision.py: end every supervision of the call."""
