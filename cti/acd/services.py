"""The ACD's services: the one object that the stasis layer (Asterisk's events), the router's timers and the agent
desk call. A caller enters, waits, is offered to agents step by step, is connected, and leaves; agents log in,
take calls and rest; supervisors listen in and act on agents and calls.

The logic is in parts, one module each, put together here as Acd:
  queueing.py     callers entering, waiting, hearing their place, escalating, offered, answered, leaving
  agents.py       agents' states, after-call work, the desk's hang-up and transfer, the supervisor's pause and logout
  supervision.py  listening, whispering and barging in
Every part changes state only through AcdStore's atomic scripts, so any router may run any of these for any call.
"""

from __future__ import annotations

import logging

from cti.acd.agents import AgentStates
from cti.acd.calls import now_ms
from cti.acd.floor import FloorView, floor_view
from cti.acd.notifier import Notifier
from cti.acd.policy import Policy
from cti.acd.queueing import Queueing, SayNumber
from cti.acd.store import AcdStore
from cti.acd.supervision import Supervision
from cti.ari import Ari
from hotline.logs import call_context

log = logging.getLogger(__name__)

# The timers of acd:timers whose id is a call (the others' is an agent: the end of a wrap-up or a hold-back).
CALL_TIMERS = ("escalate", "announce")


class Acd(Queueing, AgentStates, Supervision):
    """The ACD's services over one store, one ARI client and one notifier."""

    def __init__(
        self, store: AcdStore, ari: Ari, notifier: Notifier, policy: Policy, say_number: SayNumber | None = None
    ) -> None:
        self.store = store
        self.ari = ari
        self.notifier = notifier
        self.policy = policy
        self.say_number = say_number

    async def floor(self) -> FloorView:
        """The live floor for the supervisor's monitor, read in one round trip."""
        return floor_view(await self.store.floor(), now_ms())

    # -- timers ----------------------------------------------------------------------------------------------

    async def run_timer(self, kind: str, ident: str, token: str) -> None:
        """A timer of acd:timers (store.py) is due: a call's escalation or announcement, an agent's rest over."""
        if kind == "escalate":
            await self.escalate(ident, int(token))
        elif kind == "announce":
            await self.announce(ident, int(token))
        elif kind in ("wrapup", "holdback"):
            await self.ready_again(ident, kind, token)

    async def run_due_timers(self) -> int:
        """Run the timers due now (each taken by exactly one router); how many there were."""
        due = await self.store.pop_timers(now_ms())
        for kind, ident, token in due:
            # A call's timer is logged with the call's uniqueid; an agent's names no call.
            with call_context(ident if kind in CALL_TIMERS else ""):
                try:
                    await self.run_timer(kind, ident, token)
                except Exception:
                    log.exception("timer %s:%s failed", kind, ident)
        return len(due)
