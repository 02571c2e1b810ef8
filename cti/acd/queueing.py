"""The callers' side of the ACD: a caller enters, waits in the line of their current step (hearing their place and
the expected wait), escalates step by step, is offered to agents, is connected, and leaves."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable

from cti.acd.base import AcdBase
from cti.acd.calls import Caller, bridge_of_leg, call_of_leg, now_ms
from cti.acd.policy import Step
from cti.acd.store import MAX_PRIORITY, Offer, Refused, call_score
from cti.ari import AriError, AriUnreachableError
from cti.causes import NOT_ANSWERED, REFUSED
from hotline.events import event
from hotline.logs import call_context

log = logging.getLogger(__name__)

# Until calls have been handled, the expected wait assumes this average handling time per call.
DEFAULT_HANDLE_S = 180
# Where a caller goes when the agent hangs up: the satisfaction survey (dialplans/acd.conf).
SURVEY_CONTEXT = "acd-after-call"

# How a number is said: the prompt fragments (hotline/<lang>/<name>) for a whole number in a language. app.py
# passes the IVR's (ivr/speech.py); without one, announcements name no figures.
SayNumber = Callable[[int, str], list[str]]


class Queueing(AcdBase):
    """Callers entering, waiting, escalating, offered, answered and leaving; the supervisor's raising of a caller's
    priority."""

    say_number: SayNumber | None

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
        if offer is None:
            return False
        # The call is found only now: what is logged about its offer carries its uniqueid.
        with call_context(offer.call):
            return await self._ring(offer)

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
        # Not answered, or refused by the agent or the seat (cti/causes.py); any other cause means the seat could
        # not be reached (unregistered: 20 subscriber absent; 3 no route; 27...).
        if cause in NOT_ANSWERED:
            outcome = "noanswer"
        elif cause in REFUSED:
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

    # -- the supervisor's action on a waiting caller -----------------------------------------------------------

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
