"""The agents' side of the ACD: logging in on a seat, going ready, pausing, logging out; the rest after a call
(wrap-up, or a supervisor's pause or logout that waited for the call to end); the agent desktop's call controls
(hang up, transfer); the supervisor's pause and logout."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re

from cti.acd.base import AcdBase
from cti.acd.calls import bridge_of_leg, now_ms
from cti.acd.policy import AgentProfile
from cti.acd.store import Refused
from cti.ari import AriError
from hotline.events import event

log = logging.getLogger(__name__)

# Where an agent may transfer a caller: a group (skill:…, team:…, all) or an agent (agent:…).
_TARGET = re.compile(r"(skill|team|agent):\S+|all")


class AgentStates(AcdBase):
    """Agents' states, their after-call work, and what an agent or a supervisor does to them from a desk."""

    async def _after_call(self, agent: str, agent_state: str) -> None:
        """The agent's conversation is over: wrap-up, unless a supervisor's pause or logout was waiting for it."""
        if agent_state == "paused":
            await self._paused_after_call(agent)
        else:
            await self._wrap_up(agent)

    async def _paused_after_call(self, agent: str, reason: str = "") -> None:
        """The agent was paused as their call or offer ended: by a supervisor's pause or logout asked for during the
        call (a logout is carried out now), or for `reason` (missed calls, an unreachable seat)."""
        info = await self.store.agent(agent)
        by = info.get("paused_by", "")
        if info.get("pending") == "logout":
            if await self.store.logout(agent) == 1:
                await self.notifier.publish(event("agent.logout", None, None, agent, by=by, deferred=True))
        elif info.get("pause_reason") == "supervisor":
            await self.notifier.publish(
                event("agent.pause", None, None, agent, reason="supervisor", by=by, deferred=True)
            )
        elif reason:
            await self.notifier.publish(event("agent.pause", None, None, agent, reason=reason))

    async def _wrap_up(self, agent: str) -> None:
        if not agent:
            return
        seconds = self.policy.timing.wrap_up
        await self.notifier.publish(event("agent.wrapup", None, None, agent, seconds=seconds))
        if seconds > 0:
            await self.store.add_timer("wrapup", agent, "wrap_up", now_ms() + seconds * 1000)
        else:
            await self.ready_again(agent, "wrapup", "wrap_up")

    async def ready_again(self, agent: str, after: str, expected: str) -> None:
        """A wrap-up or a hold-back (`after`) is over: the agent in state `expected` is ready and offered the best
        waiting call; nothing if the agent moved on meanwhile (paused, logged out)."""
        if await self.store.timer_ready(agent, expected, now_ms()):
            await self.notifier.publish(event("agent.ready", None, None, agent, after=after))
            await self.offer_agent(agent)

    # -- agents ----------------------------------------------------------------------------------------------

    async def login(self, profile: AgentProfile, seat: str) -> tuple[bool, str]:
        """Log an agent in on a seat whose softphone is registered; the agent starts paused."""
        state = await self.ari.endpoint_state("PJSIP", seat)
        if state is None:
            return False, f"no seat {seat}"
        # A softphone that registered a moment ago may not show as online yet.
        for _ in range(20):
            if state == "online":
                break
            await asyncio.sleep(0.1)
            state = await self.ari.endpoint_state("PJSIP", seat)
        else:
            return False, f"seat {seat} is not registered"
        ok, detail = await self.store.login(profile.agent_id, seat, profile.groups(), now_ms())
        if ok:
            await self.notifier.publish(event("agent.login", None, None, profile.agent_id, seat=seat))
        return ok, detail

    async def ready(self, agent: str) -> tuple[bool, str]:
        ok, detail = await self.store.set_agent_state(agent, "ready", "", now_ms())
        if ok:
            await self.notifier.publish(event("agent.ready", None, None, agent))
            await self.offer_agent(agent)
        return ok, detail

    async def pause(self, agent: str, reason: str) -> tuple[bool, str]:
        ok, detail = await self.store.set_agent_state(agent, "paused", reason, now_ms())
        if ok:
            await self.notifier.publish(event("agent.pause", None, None, agent, reason=reason))
        return ok, detail

    async def logout(self, agent: str) -> bool:
        result = await self.store.logout(agent)
        if result == 1:
            await self.notifier.publish(event("agent.logout", None, None, agent))
        return result == 1

    # -- the agent desktop's call controls -------------------------------------------------------------------

    async def hang_up(self, call: str, agent: str) -> tuple[bool, str]:
        """The agent's hang-up button: ends a connected call as the agent's softphone hanging up does (the caller
        goes on to the survey, the agent to wrap-up). Returns (True, the agent's state now) or (False, why not)."""
        fields = await self.store.call(call)
        if fields.get("state") != "connected" or fields.get("agent") != agent:
            return False, f"the call is not connected to {agent}"
        # The call is finished here before the leg is hung up, so that the router holding the call, seeing the leg
        # end, finds nothing left to do, and the agent's state can be answered at once.
        await self.agent_left(call, fields["leg"])
        await self._hangup(fields["leg"])
        return True, (await self.store.agent(agent)).get("state") or "logged_out"

    async def transfer(self, call: str, agent: str, target: str) -> tuple[bool, str]:
        """The agent hands a connected caller to a group ("skill:…", "team:…", "all") or an agent ("agent:…"). The
        agent's leg ends and the agent goes to wrap-up; the caller hears music and waits in the target's line with
        their priority and first arrival, offered like any waiting call. A target no logged-in agent belongs to is
        accepted (the caller waits for one) if the routing policy names it. Returns (True, "ringing" | "waiting" |
        "waiting: no agent of <target> is logged in") or (False, why not)."""
        problem = await self._transfer_problem(target, agent)
        if problem:
            return False, problem
        members = await self.store.members(target)
        result = await self.store.transfer(call, agent, target, now_ms())
        if isinstance(result, Refused):
            return False, result.reason
        talk_ms = now_ms() - result.connected_ms
        await self.notifier.publish(
            event(
                "queue.transfer",
                call,
                target,
                agent,
                from_agent=agent,
                from_queue=result.from_group,
                to=target,
                talk_s=round(talk_ms / 1000, 3),
            )
        )
        await self._after_call(agent, result.agent_state)
        await self.store.add_handle_time(talk_ms)
        await self._end_supervisions(call, "transferred")
        await self._hangup(result.leg)
        with contextlib.suppress(AriError):
            await self.ari.destroy_bridge(bridge_of_leg(result.leg))
        await self._hold(call)
        detail = "ringing" if await self.offer_call(call) else "waiting"
        if (await self.store.call(call)).get("state") == "connected":
            # Another router offered the call and its agent answered while the music started: the bridge wins.
            with contextlib.suppress(AriError):
                await self.ari.stop_moh(call)
        if members == 0:
            log.warning("call %s transferred to %s, where no agent is logged in", call, target)
            detail = f"waiting: no agent of {target} is logged in"
        return True, detail

    async def _transfer_problem(self, target: str, agent: str) -> str | None:
        if not _TARGET.fullmatch(target):
            return f"unknown target {target!r}: skill:NAME, team:NAME, agent:ID or all"
        if target == f"agent:{agent}":
            return "a call cannot be transferred to the agent who has it"
        if target.startswith("agent:"):
            if not await self.store.agent(target.removeprefix("agent:")):
                return f"agent {target.removeprefix('agent:')} is not logged in"
            return None
        named = {step.target for steps in self.policy.workflows.values() for step in steps}
        if target not in named and await self.store.members(target) == 0:
            return f"unknown target {target}: the routing policy does not name it and no agent belongs to it"
        return None

    # -- the supervisor's actions on agents -------------------------------------------------------------------

    async def force_pause(self, agent: str, by: str) -> tuple[bool, str]:
        """A supervisor pauses an agent (reason "supervisor"): at once, or when the call the agent rings or talks
        on ends. Returns (True, "paused" | "pending") or (False, "logged_out")."""
        ok, detail = await self.store.force(agent, "pause", by, now_ms())
        if ok and detail == "paused":
            await self.notifier.publish(event("agent.pause", None, None, agent, reason="supervisor", by=by))
        elif ok:
            await self.notifier.publish(event("agent.pending", None, None, agent, action="pause", by=by))
        return ok, detail

    async def force_logout(self, agent: str, by: str) -> tuple[bool, str]:
        """A supervisor logs an agent out: at once, or when the call the agent rings or talks on ends (a caller is
        never cut off for it). Returns (True, "logged_out" | "pending") or (False, "logged_out")."""
        ok, detail = await self.store.force(agent, "logout", by, now_ms())
        if ok and detail == "logged_out":
            await self.notifier.publish(event("agent.logout", None, None, agent, by=by))
        elif ok:
            await self.notifier.publish(event("agent.pending", None, None, agent, action="logout", by=by))
        return ok, detail
