"""Turns Asterisk's ARI events into calls on the ACD's services. Nothing here decides anything."""

from __future__ import annotations

import asyncio
import logging
from collections import Counter, defaultdict
from typing import Any

from cti.services import Acd, Caller, call_of_leg
from hotline.logs import call_context

log = logging.getLogger(__name__)


class StasisEvents:
    """Handles events one call at a time (in arrival order), different calls concurrently."""

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
        call = call_of_leg(channel_id) or channel_id
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
            await self.acd.agent_left(call)
        elif kind == "StasisEnd":
            if is_leg:
                await self.acd.agent_left(call)
            else:
                await self.acd.caller_left(call)
        elif kind == "PlaybackFinished":
            await self.acd.announcement_finished(call, str((evt.get("playback") or {}).get("state", "")))
        elif kind == "ChannelDestroyed" and is_leg:
            await self.acd.leg_gone_unanswered(channel_id, int(evt.get("cause", 0)))
