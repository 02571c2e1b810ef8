"""The ACD's logic: a caller enters, waits, is offered to agents step by step, is connected, and leaves.

Called by stasis.py (Asterisk's events), by the router's timers and by the agent desk; changes state only through
AcdStore's atomic scripts, so any router may run any of these for any call.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypedDict

from cti.acd.notifier import Notifier
from cti.acd.policy import AgentProfile, Policy, Step
from cti.acd.store import MAX_PRIORITY, AcdStore, FloorData, Offer, Refused, call_score
from cti.ari import Ari, AriError, AriUnreachableError
from hotline.events import event

log = logging.getLogger(__name__)

# Hang-up causes of an agent's leg that mean the agent (or the seat) refused rather than did not answer.
_REFUSED_CAUSES = {17, 21}  # user busy, call rejected
_NO_ANSWER_CAUSES = {18, 19}  # no user responding, no answer
# Until calls have been handled, the expected wait assumes this average handling time per call.
DEFAULT_HANDLE_S = 180
# Any other cause means the seat could not be reached (unregistered: 20 subscriber absent; 3 no route; 27...).
SURVEY_CONTEXT = "acd-after-call"
# How a supervisor takes part: listen (hears both), whisper (hears both, is heard by the agent only), barge (joins
# the conversation).
SUPERVISION_MODES = ("listen", "whisper", "barge")
# Seconds a supervisor's seat rings before the supervision is given up.
SUPERVISOR_RING_S = 20
_TARGET = re.compile(r"(skill|team|agent):\S+|all")


def now_ms() -> int:
    return int(time.time() * 1000)


@dataclass(frozen=True)
class Caller:
    """What the IVR learned about a caller, handed to the ACD as Stasis arguments."""

    channel: str
    app: str
    number: str
    intent: str = "general"
    tier: str = "standard"
    account: str = ""
    manager: str = ""
    language: str = "zh"
    # An outbound notice's callee put through to a person: the campaign attempt (crm campaign_attempts.id).
    campaign_attempt: str = ""

    @classmethod
    def from_args(cls, channel: str, app: str, number: str, args: list[str]) -> Caller:
        # Stasis(app,caller,intent,tier,account,manager,language,campaign_attempt): missing or empty arguments take
        # the defaults.
        f = (args + [""] * 7)[1:8]
        return cls(channel, app, number, f[0] or "general", f[1] or "standard", f[2], f[3], f[4] or "zh", f[5])


def call_of_leg(channel_id: str) -> str | None:
    """The call an agent leg belongs to: store.py names legs acdleg-<token>-<call>."""
    if not channel_id.startswith("acdleg-"):
        return None
    return channel_id.split("-", 2)[2]


def bridge_of_leg(leg: str) -> str:
    """The bridge of an agent leg's conversation, acdbridge-<token>-<call>: one per conversation, so that a
    transferred caller's next conversation never meets the last one's bridge."""
    return "acdbridge-" + leg.removeprefix("acdleg-")


def supervision_of(channel_id: str) -> tuple[str, str] | None:
    """(supervision, call) of a supervisor's leg (acdsup-<id>-<call>) or of the snoop on the agent's leg
    (acdsnoop-<id>-<call>)."""
    kind, _, rest = channel_id.partition("-")
    supervision, _, call = rest.partition("-")
    if kind not in ("acdsup", "acdsnoop") or not supervision or not call:
        return None
    return supervision, call


# How a number is said: the prompt fragments (hotline/<lang>/<name>) for a whole number in a language. app.py
# passes the IVR's (ivr/speech.py); without one, announcements name no figures.
SayNumber = Callable[[int, str], list[str]]


class Acd:
    def __init__(
        self, store: AcdStore, ari: Ari, notifier: Notifier, policy: Policy, say_number: SayNumber | None = None
    ) -> None:
        self.store = store
        self.ari = ari
        self.notifier = notifier
        self.policy = policy
        self.say_number = say_number

    # -- callers ---------------------------------------------------------------------------------------------

    async def caller_entered(self, caller: Caller, entered_ms: int | None = None) -> None:
        entered = entered_ms or now_ms()
        steps = self.policy.steps_for(caller.intent, caller.tier)
        index, group = await self._first_live_step(steps, 0, caller.manager)
        priority = self.policy.priority_of(caller.tier)
        fields = {
            "channel": caller.channel,
            "app": caller.app,
            "caller": caller.number,
            "intent": caller.intent,
            "tier": caller.tier,
            "account": caller.account,
            "manager": caller.manager,
            "language": caller.language,
            "campaign_attempt": caller.campaign_attempt,
            "priority": str(priority),
            "score": str(call_score(priority, entered)),
            "entered": str(entered),
        }
        if not await self.store.enqueue(caller.channel, group, index, fields):
            return  # already queued: a re-delivered StasisStart after a router restart
        await self._schedule_escalation(caller.channel, steps, index, entered)
        await self._schedule_announcement(caller.channel, 1)
        await self.notifier.publish(
            event(
                "queue.enter",
                caller.channel,
                group,
                priority=priority,
                tier=caller.tier,
                intent=caller.intent,
                app=caller.app,
            )
        )
        if not await self.offer_call(caller.channel):
            await self._hold(caller.channel)

    async def _hold(self, channel: str) -> None:
        with contextlib.suppress(AriError):
            await self.ari.start_moh(channel)

    async def _first_live_step(self, steps: tuple[Step, ...], start: int, manager: str) -> tuple[int, str]:
        """The first step from `start` whose target has a logged-in agent; the last step if none has."""
        for index in range(start, len(steps)):
            group = steps[index].group(manager or None)
            if group and await self.store.members(group) > 0:
                return index, group
        last = len(steps) - 1
        return last, steps[last].group(manager or None) or "all"

    async def _schedule_escalation(self, call: str, steps: tuple[Step, ...], index: int, from_ms: int) -> None:
        if index < len(steps) - 1 and steps[index].timeout > 0:
            await self.store.add_timer("escalate", call, str(index), from_ms + steps[index].timeout * 1000)

    async def _schedule_announcement(self, call: str, n: int) -> None:
        every = self.policy.timing.announce_every
        if every > 0:
            await self.store.add_timer("announce", call, str(n), now_ms() + every * 1000)

    async def announce(self, call: str, n: int) -> None:
        """Tell a waiting caller their place in line and the expected wait, then music again."""
        fields = await self.store.call(call)
        if fields.get("state") != "waiting":
            if fields:
                await self._schedule_announcement(call, n + 1)
            return
        position = await self.store.position(call, fields["group"]) or 1
        ahead = position - 1
        agents = max(await self.store.members(fields["group"]), 1)
        minutes = max(1, -(-position * await self.average_handle_s() // (agents * 60)))
        lang = fields.get("language") or "zh"
        names = ["queue/next"] if ahead == 0 else ["queue/ahead", *self._number(ahead, lang), "queue/callers"]
        names += ["queue/wait", *self._number(minutes, lang), "queue/minutes"]
        media = ",".join(f"sound:hotline/{lang}/{name}" for name in names)
        playback = f"announce-{n}-{call}"
        await self.store.set_call_fields(call, playback=playback)
        with contextlib.suppress(AriError):
            await self.ari.stop_moh(call)
            await self.ari.play(call, media, playback_id=playback)
            if (await self.store.call(call)).get("state") != "waiting":
                # An agent answered meanwhile: the caller must reach the bridge, not hear the rest of this.
                await self.ari.stop_playback(playback)
        await self.notifier.publish(event("queue.announce", call, fields["group"], ahead=ahead, minutes=minutes))
        await self._schedule_announcement(call, n + 1)

    def _number(self, n: int, language: str) -> list[str]:
        return self.say_number(n, language) if self.say_number else []

    async def announcement_finished(self, call: str, state: str) -> None:
        if (await self.store.call(call)).get("state") == "waiting":
            await self._hold(call)
        await self.notifier.publish(event("queue.announced", call, None, None, state=state))

    async def average_handle_s(self) -> int:
        talks, talk_ms = await self.store.handle_stats()
        return round(talk_ms / talks / 1000) if talks else DEFAULT_HANDLE_S

    async def escalate(self, call: str, from_step: int) -> None:
        fields = await self.store.call(call)
        if not fields or fields.get("step") != str(from_step):
            return
        steps = self.policy.steps_for(fields["intent"], fields["tier"])
        index, group = await self._first_live_step(steps, from_step + 1, fields.get("manager", ""))
        if not await self.store.move(call, from_step, group, index):
            return
        await self._schedule_escalation(call, steps, index, now_ms())
        await self.notifier.publish(event("queue.escalate", call, group, step=index, previous=fields["group"]))
        if fields.get("state") == "waiting":
            await self.offer_call(call)

    async def caller_left(self, call: str) -> None:
        """The caller's channel left the ACD: hung up, or handed to the after-call survey by agent_left."""
        finished = await self.store.finish(call, now_ms())
        if finished is None:
            return
        state, agent, leg, agent_state = finished
        if state == "waiting":
            await self.notifier.publish(event("queue.abandon", call, None, None, during="waiting"))
        elif state == "ringing":
            await self._hangup(leg)
            await self.notifier.publish(event("queue.abandon", call, None, agent, during="ringing"))
            if agent_state == "ready":
                await self.offer_agent(agent)
            elif agent_state == "paused":
                await self._paused_after_call(agent)
        elif state == "connected":
            await self._hangup(leg)
            await self._after_call(agent, agent_state)
            await self.notifier.publish(event("queue.complete", call, None, agent, ended_by="caller"))
            with contextlib.suppress(AriError):
                await self.ari.destroy_bridge(bridge_of_leg(leg))
            await self._end_supervisions(call, "call_ended")

    # -- offering --------------------------------------------------------------------------------------------

    async def offer_call(self, call: str) -> bool:
        """Offer a waiting call to an agent of its current group, if one is ready; True if it rings somewhere."""
        offer = await self.store.claim_for_call(call, now_ms())
        return offer is not None and await self._ring(offer)

    async def offer_agent(self, agent: str) -> bool:
        """Offer a ready agent the best call waiting for any of their groups."""
        offer = await self.store.claim_for_agent(agent, now_ms())
        return offer is not None and await self._ring(offer)

    async def _ring(self, offer: Offer) -> bool:
        try:
            await self.ari.originate(
                endpoint=f"PJSIP/{offer.seat}",
                app=offer.app,
                app_args=f"agent,{offer.call},{offer.agent}",
                channel_id=offer.leg,
                timeout=self.policy.timing.ring_timeout,
                caller_id=offer.caller,
                originator=offer.channel,
            )
        except AriUnreachableError as exc:
            # Asterisk did not answer in time: it may still ring the seat, so the leg is cancelled, and the call
            # goes back to its line (the agent, through no fault of theirs, sits out the hold-back).
            log.warning("originating to seat %s failed: %s", offer.seat, exc)
            await self._hangup(offer.leg)
            await self._offer_failed(offer.call, offer.agent, "rejected", cause=0)
            return False
        except AriError as exc:
            # The seat cannot be dialled at all (unregistered, unknown): pause the agent and offer the call to
            # someone else.
            log.warning("seat %s of agent %s cannot be dialled: %s", offer.seat, offer.agent, exc)
            await self._offer_failed(offer.call, offer.agent, "unreachable", cause=0)
            return False
        await self.notifier.publish(event("queue.offer", offer.call, offer.group, offer.agent, seat=offer.seat))
        return True

    async def leg_gone_unanswered(self, leg: str, cause: int) -> None:
        """An agent's leg ended before it was answered: no answer, a refusal, or a seat that failed."""
        call = call_of_leg(leg)
        if call is None:
            return
        fields = await self.store.call(call)
        if fields.get("leg") != leg or fields.get("state") != "ringing":
            return
        if cause in _NO_ANSWER_CAUSES:
            outcome = "noanswer"
        elif cause in _REFUSED_CAUSES:
            outcome = "rejected"
        else:
            outcome = "unreachable"
        await self._offer_failed(call, fields["agent"], outcome, cause)

    async def _offer_failed(self, call: str, agent: str, outcome: str, cause: int) -> None:
        requeued, agent_state = await self.store.offer_failed(
            call, agent, now_ms(), outcome, self.policy.timing.max_misses
        )
        kind = "queue.noanswer" if outcome == "noanswer" else "queue.reject"
        await self.notifier.publish(event(kind, call, None, agent, cause=cause, agent_state=agent_state))
        if agent_state == "held":
            await self.store.add_timer("holdback", agent, "held", now_ms() + self.policy.timing.holdback * 1000)
        elif agent_state == "paused":
            await self._paused_after_call(agent, "missed calls" if outcome == "noanswer" else "seat unreachable")
        if requeued == "requeued" and not await self.offer_call(call):
            await self._hold(call)

    async def agent_answered(self, call: str, agent: str, leg: str) -> None:
        if not await self.store.connect(call, agent, now_ms()):
            # The caller left while the seat rang, or the call went elsewhere: this leg has no one to talk to.
            await self._hangup(leg)
            return
        fields = await self.store.call(call)
        bridge = bridge_of_leg(leg)
        try:
            # Asterisk runs a channel's commands one after another: an announcement still playing would hold the
            # caller out of the bridge until it ends.
            if fields.get("playback"):
                with contextlib.suppress(AriError):
                    await self.ari.stop_playback(fields["playback"])
            with contextlib.suppress(AriError):
                await self.ari.stop_moh(call)
            await self.ari.create_bridge(bridge)
            await self.ari.add_to_bridge(bridge, [call, leg])
            await self.store.set_call_fields(call, bridge=bridge)
        except AriError as exc:
            # Caller and agent cannot talk: end the agent's leg, so the call goes back to its line.
            log.warning("bridging call %s with agent %s failed: %r", call, agent, exc)
            await self._hangup(leg)
        hold_s = (now_ms() - int(fields.get("entered", now_ms()))) / 1000 if fields else 0.0
        await self.notifier.publish(event("queue.connect", call, fields.get("group"), agent, hold_s=round(hold_s, 3)))

    async def agent_left(self, call: str, leg: str | None = None) -> None:
        """The agent hung up a connected call: the agent goes to wrap-up (or straight on to the next call), the
        caller on to the satisfaction survey. `leg` is the agent leg that ended, when known: the leg of a
        conversation the caller has since been transferred out of ends nothing."""
        fields = await self.store.call(call)
        if fields.get("state") != "connected":
            return  # a leg hung up before it was answered ends in leg_gone_unanswered
        if leg is not None and fields.get("leg") != leg:
            return
        finished = await self.store.finish(call, now_ms())
        if finished is None:
            return
        state, agent, _, agent_state = finished
        if state == "connected":
            # The agent first: a freed agent should not wait on the caller's housekeeping.
            await self.notifier.publish(event("queue.complete", call, fields.get("group"), agent, ended_by="agent"))
            await self._after_call(agent, agent_state)
            await self.store.add_handle_time(now_ms() - int(fields.get("connected") or now_ms()))
        with contextlib.suppress(AriError):
            await self.ari.continue_in_dialplan(call, SURVEY_CONTEXT)
        if fields.get("bridge"):
            with contextlib.suppress(AriError):
                await self.ari.destroy_bridge(fields["bridge"])
        await self._end_supervisions(call, "call_ended")

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
            await self.run_timer("wrapup", agent, "wrap_up")

    async def _hangup(self, channel: str) -> None:
        if channel:
            with contextlib.suppress(AriError):
                await self.ari.hangup(channel)

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

    # -- supervision -----------------------------------------------------------------------------------------

    async def supervise(self, call: str, seat: str, mode: str, by: str = "") -> tuple[bool, str]:
        """Ring a supervisor's seat to listen to, whisper to the agent of, or barge into a connected call. Returns
        (True, the supervision's id) once the seat rings, or (False, why not). The supervision begins when the
        supervisor answers (supervise.start) and ends with the call, a transfer, or the supervisor hanging up."""
        if mode not in SUPERVISION_MODES:
            return False, f"unknown supervision mode {mode!r}"
        state = await self.ari.endpoint_state("PJSIP", seat)
        if state is None:
            return False, f"no seat {seat}"
        if state != "online":
            return False, f"seat {seat} is not registered"
        start = await self.store.start_supervision(call, mode, seat, by, now_ms())
        if isinstance(start, Refused):
            return False, start.reason
        try:
            await self.ari.originate(
                endpoint=f"PJSIP/{seat}",
                app=start.app,
                app_args=f"supervise,{call},{start.supervision}",
                channel_id=start.leg,
                timeout=SUPERVISOR_RING_S,
                caller_id=f'"{mode} {start.agent}" <{start.caller}>',
                originator=call,
            )
        except AriError as exc:
            log.warning("ringing supervisor seat %s failed: %r", seat, exc)
            await self.end_supervision(start.supervision, "failed")
            return False, f"seat {seat} cannot be rung"
        return True, start.supervision

    async def supervisor_answered(self, supervision: str, channel: str) -> None:
        """The supervisor's seat answered: barge joins the call's bridge; listen and whisper snoop on the agent's
        leg, and are bridged with the snoop when it enters the app (snoop_started)."""
        record = await self.store.supervision(supervision)
        fields = await self.store.call(record["call"]) if record else {}
        if not record or fields.get("state") != "connected" or fields.get("agent") != record.get("agent"):
            # The call ended, or moved to another agent, while the supervisor's seat rang.
            await self.end_supervision(supervision, "call_ended")
            await self._hangup(channel)
            return
        call = record["call"]
        try:
            if record["mode"] == "barge":
                await self.ari.add_to_bridge(fields["bridge"], [channel])
                await self._supervision_started(supervision, "", fields["bridge"])
            else:
                await self.ari.snoop(
                    fields["leg"],
                    app=fields["app"],
                    app_args=f"snoop,{call},{supervision}",
                    snoop_id=f"acdsnoop-{supervision}-{call}",
                    spy="both",
                    # Whisper: what the supervisor says goes out toward the agent's phone, not to the caller.
                    whisper="out" if record["mode"] == "whisper" else "none",
                )
        except (AriError, KeyError) as exc:
            log.warning("supervision %s of call %s failed: %r", supervision, call, exc)
            await self.end_supervision(supervision, "failed")

    async def snoop_started(self, supervision: str, snoop: str) -> None:
        """The snoop on the agent's leg entered the app: bridge it with the supervisor."""
        record = await self.store.supervision(supervision)
        if record.get("state") != "ringing":
            await self._hangup(snoop)
            return
        bridge = f"acdspy-{supervision}-{record['call']}"
        try:
            await self.ari.create_bridge(bridge)
            await self.ari.add_to_bridge(bridge, [snoop, record["leg"]])
        except AriError as exc:
            log.warning("bridging supervision %s failed: %r", supervision, exc)
            await self.end_supervision(supervision, "failed")
            return
        await self._supervision_started(supervision, snoop, bridge)

    async def _supervision_started(self, supervision: str, snoop: str, bridge: str) -> None:
        if not await self.store.supervision_active(supervision, now_ms(), snoop, bridge):
            # It ended while being set up: undo what the ending could not know of yet.
            if snoop:
                await self._hangup(snoop)
                with contextlib.suppress(AriError):
                    await self.ari.destroy_bridge(bridge)
            return
        record = await self.store.supervision(supervision)
        await self.notifier.publish(
            event(
                "supervise.start",
                record.get("call"),
                None,
                record.get("agent"),
                supervision=supervision,
                mode=record.get("mode"),
                seat=record.get("seat"),
                by=record.get("by"),
            )
        )

    async def end_supervision(self, supervision: str, reason: str) -> bool:
        """End a supervision (once): the supervisor's leg, the snoop and their bridge go. False if it had ended."""
        record = await self.store.end_supervision(supervision)
        if record is None:
            return False
        call = record.get("call", "")
        await self._hangup(record.get("leg", ""))
        if record.get("mode") != "barge":
            await self._hangup(f"acdsnoop-{supervision}-{call}")
            with contextlib.suppress(AriError):
                await self.ari.destroy_bridge(f"acdspy-{supervision}-{call}")
        started = int(record.get("started") or 0)
        await self.notifier.publish(
            event(
                "supervise.end",
                call,
                None,
                record.get("agent"),
                supervision=supervision,
                mode=record.get("mode"),
                seat=record.get("seat"),
                by=record.get("by"),
                reason=reason,
                started=bool(started),
                duration_s=round((now_ms() - started) / 1000, 3) if started else 0,
            )
        )
        return True

    async def _end_supervisions(self, call: str, reason: str) -> None:
        for supervision in await self.store.supervisions_of(call):
            await self.end_supervision(supervision, reason)

    # -- the supervisor's actions on agents and calls --------------------------------------------------------

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

    async def raise_priority(self, call: str, priority: int, by: str) -> tuple[bool, str]:
        """A supervisor raises a waiting call's priority: it moves ahead in its line (its first arrival still
        orders it among calls of the new priority) and is offered at once if an agent of its group is ready.
        Returns (True, "ringing" | "waiting") or (False, why not)."""
        if not 0 <= priority < MAX_PRIORITY:
            return False, f"a priority is 0 to {MAX_PRIORITY - 1}"
        fields = await self.store.call(call)
        if not fields:
            return False, "no such call"
        score = call_score(priority, int(fields.get("entered") or now_ms()))
        result = await self.store.raise_priority(call, priority, score)
        if isinstance(result, Refused):
            return False, result.reason
        state, previous, group = result
        await self.notifier.publish(
            event("queue.priority", call, group, None, priority=priority, previous=previous, by=by)
        )
        if state == "waiting" and await self.offer_call(call):
            return True, "ringing"
        return True, state

    async def floor(self) -> FloorView:
        """The live floor for the supervisor's monitor, read in one round trip."""
        return floor_view(await self.store.floor(), now_ms())

    # -- timers ----------------------------------------------------------------------------------------------

    async def run_timer(self, kind: str, ident: str, token: str) -> None:
        if kind == "escalate":
            await self.escalate(ident, int(token))
        elif kind == "announce":
            await self.announce(ident, int(token))
        elif kind in ("wrapup", "holdback") and await self.store.timer_ready(ident, token, now_ms()):
            await self.notifier.publish(event("agent.ready", None, None, ident, after=kind))
            await self.offer_agent(ident)

    async def run_due_timers(self) -> int:
        due = await self.store.pop_timers(now_ms())
        for kind, ident, token in due:
            try:
                await self.run_timer(kind, ident, token)
            except Exception:
                log.exception("timer %s:%s failed", kind, ident)
        return len(due)


# -- the live floor, as the supervisor's monitor shows it ---------------------------------------------------------


class AgentView(TypedDict):
    id: str
    state: str
    since_ms: int
    pause_reason: str
    paused_by: str
    pending: str  # "pause" or "logout" asked for by a supervisor during a call, else ""
    seat: str
    groups: list[str]
    call: str | None
    caller: str | None
    tier: str | None


class SupervisionView(TypedDict):
    id: str
    mode: str
    seat: str
    by: str
    state: str  # ringing (the supervisor's seat) or active


class CallView(TypedDict):
    id: str
    state: str
    group: str
    priority: int
    tier: str
    intent: str
    entered_ms: int
    agent: str | None
    caller: str
    transfers: int
    supervisions: list[SupervisionView]


class Waiting(TypedDict):
    waiting: int
    longest_wait_ms: int


class GroupView(Waiting):
    agents: int  # logged in
    ready: int


class FloorView(TypedDict):
    at_ms: int
    agents: list[AgentView]
    calls: list[CallView]
    groups: dict[str, GroupView]
    tiers: dict[str, Waiting]


def floor_view(data: FloorData, now: int) -> FloorView:
    """The floor from Redis's hashes: agents by id, calls by arrival, and per group (personal agent:… groups only
    when a call waits there) and per tier the calls waiting and the longest wait."""
    calls: list[CallView] = []
    for call, f in data.calls.items():
        supervisions = data.supervisions.get(call, {})
        calls.append(
            CallView(
                id=call,
                state=f.get("state", ""),
                group=f.get("group", ""),
                priority=int(f.get("priority") or 0),
                tier=f.get("tier", ""),
                intent=f.get("intent", ""),
                entered_ms=int(f.get("entered") or now),
                agent=f.get("agent") or None,
                caller=f.get("caller", ""),
                transfers=int(f.get("transfers") or 0),
                supervisions=[
                    SupervisionView(
                        id=sid,
                        mode=s.get("mode", ""),
                        seat=s.get("seat", ""),
                        by=s.get("by", ""),
                        state=s.get("state", ""),
                    )
                    for sid, s in sorted(supervisions.items())
                ],
            )
        )
    calls.sort(key=lambda c: (c["entered_ms"], c["id"]))
    by_id = {c["id"]: c for c in calls}
    groups: dict[str, GroupView] = {}
    agents: list[AgentView] = []
    for agent, f in sorted(data.agents.items()):
        current = by_id.get(f.get("call", ""))
        names = f.get("groups", "").split()
        agents.append(
            AgentView(
                id=agent,
                state=f.get("state", ""),
                since_ms=int(f.get("since") or now),
                pause_reason=f.get("pause_reason", ""),
                paused_by=f.get("paused_by", ""),
                pending=f.get("pending", ""),
                seat=f.get("seat", ""),
                groups=names,
                call=current["id"] if current else None,
                caller=current["caller"] if current else None,
                tier=current["tier"] if current else None,
            )
        )
        for name in names:
            group = groups.setdefault(name, GroupView(waiting=0, longest_wait_ms=0, agents=0, ready=0))
            group["agents"] += 1
            group["ready"] += int(f.get("state") == "ready")
    tiers: dict[str, Waiting] = {}
    for c in calls:
        if c["state"] != "waiting":
            continue
        waited = max(now - c["entered_ms"], 0)
        group = groups.setdefault(c["group"], GroupView(waiting=0, longest_wait_ms=0, agents=0, ready=0))
        tier = tiers.setdefault(c["tier"], Waiting(waiting=0, longest_wait_ms=0))
        for line in (group, tier):
            line["waiting"] += 1
            line["longest_wait_ms"] = max(line["longest_wait_ms"], waited)
    # Every agent is alone in a personal group: it is worth a line only while a call waits for that agent.
    groups = {name: g for name, g in sorted(groups.items()) if g["waiting"] or not name.startswith("agent:")}
    return FloorView(at_ms=now, agents=agents, calls=calls, groups=groups, tiers=tiers)
