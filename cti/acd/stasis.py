"""Turns Asterisk's ARI events into calls on the ACD's services. Nothing here decides anything."""

from __future__ import annotations

import asyncio
import logging
from collections import Counter, defaultdict
from typing import Any

from cti.acd.calls import Caller, call_of_leg, supervision_of
from cti.acd.services import Acd
from hotline.logs import call_context

log = logging.getLogger(__name__)


class StasisEvents:
    """Handles events one call at a time (in arrival order), different calls concurrently.

    The StasisStart arguments of the channels in the ACD's apps:
      caller,<intent>,<tier>,<account>,<manager>,<language>  a caller, from [acd-entry]
      agent,<call>,<agent>                                   an agent's leg that answered (acdleg-…)
      supervise,<call>,<supervision>                         a supervisor's seat that answered (acdsup-…)
      snoop,<call>,<supervision>                             the snoop on the agent's leg (acdsnoop-…)
    """

    def __init__(self, acd: Acd) -> None:
        self.acd = acd
        self._locks: defaultdict[str, asyncio.Lock] = defaultdict(asyncio.Lock)
        self._queued: Counter[str] = Counter()
        self.tasks: set[asyncio.Task[None]] = set()

    def dispatch(self, evt: dict[str, Any]) -> None:
        channel = evt.get("channel") or {}
        channel_id = str(channel.get("id", ""))
        if evt.get("type") == "PlaybackFinished":
            # Announcements name their call in the playback id: announce-<n>-<call>.
            playback = evt.get("playback") or {}
            parts = str(playback.get("id", "")).split("-", 2)
            if parts[0] == "announce" and len(parts) == 3:
                channel_id = parts[2]
        if not channel_id:
            return
        # A call's own channels (caller, agent legs, supervisors' legs and snoops) are handled in one line.
        supervision = supervision_of(channel_id)
        call = call_of_leg(channel_id) or (supervision[1] if supervision else channel_id)
        self._queued[call] += 1
        task = asyncio.ensure_future(self._handle(call, channel_id, evt))
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def _handle(self, call: str, channel_id: str, evt: dict[str, Any]) -> None:
        async with self._locks[call]:
            with call_context(call):
                try:
                    await self._route(call, channel_id, evt)
                except Exception:
                    log.exception("handling %s failed", evt.get("type"))
        self._queued[call] -= 1
        if not self._queued[call]:
            # No more events of this call are waiting: drop its lock so that finished calls leave nothing behind.
            del self._queued[call]
            self._locks.pop(call, None)

    async def _route(self, call: str, channel_id: str, evt: dict[str, Any]) -> None:
        kind = evt.get("type")
        supervision = supervision_of(channel_id)
        if supervision is not None:
            # A supervisor's leg or snoop: never the caller or the agent leaving.
            await self._route_supervision(supervision[0], channel_id, evt)
            return
        is_leg = channel_id != call
        if kind == "StasisStart":
            args = [str(a) for a in evt.get("args", [])]
            if args and args[0] == "agent" and len(args) >= 3:
                await self.acd.agent_answered(args[1], args[2], channel_id)
            elif args and args[0] == "caller":
                number = str((evt["channel"].get("caller") or {}).get("number", ""))
                await self.acd.caller_entered(Caller.from_args(channel_id, str(evt["application"]), number, args))
        elif kind == "ChannelHangupRequest" and is_leg:
            # The agent hung up: the earliest word of it, so the agent is freed without waiting for the teardown.
            await self.acd.agent_left(call, channel_id)
        elif kind == "StasisEnd":
            if is_leg:
                await self.acd.agent_left(call, channel_id)
            else:
                await self.acd.caller_left(call)
        elif kind == "PlaybackFinished":
            await self.acd.announcement_finished(call, str((evt.get("playback") or {}).get("state", "")))
        elif kind == "ChannelDestroyed" and is_leg:
            await self.acd.leg_gone_unanswered(channel_id, int(evt.get("cause", 0)))

    async def _route_supervision(self, supervision: str, channel_id: str, evt: dict[str, Any]) -> None:
        kind = evt.get("type")
        is_snoop = channel_id.startswith("acdsnoop-")
        if kind == "StasisStart":
            args = [str(a) for a in evt.get("args", [])]
            if args[:1] == ["snoop"]:
                await self.acd.snoop_started(supervision, channel_id)
            elif args[:1] == ["supervise"]:
                await self.acd.supervisor_answered(supervision, channel_id)
        elif kind == "StasisEnd":
            # The supervisor hung up; a snoop ends by itself only with the agent's leg.
            await self.acd.end_supervision(supervision, "call_ended" if is_snoop else "supervisor")
        elif kind == "ChannelDestroyed" and not is_snoop:
            # Gone without entering the app: the supervisor's seat did not answer (after StasisEnd: a no-op).
            await self.acd.end_supervision(supervision, "unanswered")
