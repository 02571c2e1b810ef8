"""Turns the ARI events of the dialler's Stasis app into calls on its services (services.py). Nothing here decides
anything."""

from __future__ import annotations

from typing import Any

from cti.outbound.services import OutboundCalls


class StasisEvents:
    """Hands each event to the call it is about, in arrival order (the dialler awaits one before reading the next).

    The StasisStart arguments of the app's channels:
      attempt,<id>                       a callee who answered (the channel was originated into the app)
      amd,<id>,<AMDSTATUS>,<AMDCAUSE>    the same callee back from the machine detection (dialplans/outbound.conf)
    A playback's end names its channel in its target (channel:<id>); every other event in its channel.
    """

    def __init__(self, calls: OutboundCalls) -> None:
        self.calls = calls

    async def handle(self, evt: dict[str, Any]) -> None:
        kind = evt.get("type")
        if kind == "PlaybackFinished":
            playback = evt.get("playback") or {}
            channel = str(playback.get("target_uri", "")).removeprefix("channel:")
            await self.calls.playback_finished(channel, str(playback.get("id", "")))
            return
        channel = str((evt.get("channel") or {}).get("id", ""))
        if kind == "StasisStart":
            args = [str(a) for a in evt.get("args", [])]
            if args[:1] == ["amd"]:
                status, cause = [*args, "", "", ""][2:4]
                await self.calls.detected(channel, status, cause)
            else:
                await self.calls.answered(channel)
        elif kind == "ChannelDtmfReceived":
            await self.calls.key(channel, str(evt.get("digit", "")))
        elif kind == "ChannelDestroyed":
            await self.calls.destroyed(channel, _cause(evt))
        elif kind == "StasisEnd":
            await self.calls.left_app(channel)


def _cause(evt: dict[str, Any]) -> int:
    """The hang-up cause (Q.850) of a ChannelDestroyed; 0 (unknown) if Asterisk gave none."""
    try:
        return int(evt.get("cause", 0) or 0)
    except (TypeError, ValueError):
        return 0
