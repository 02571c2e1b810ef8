"""Follows the hotline's events (hotline/events.py) of particular calls, for a phone that acts on what the hotline
reports: "when the IVR waits at `repair_scope`, press 2", "hang up once the call is queued for a person".

One thread reads the event stream from where it stood when the follower started (so nothing published after that
is missed, whenever a phone starts to look) and wakes the phones' coroutines on their event loop. A call is found
by the SIP Call-ID of its caller leg, which the IVR reports in ivr.start; its later events carry its uniqueid.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

import redis

from hotline.events import STREAM

log = logging.getLogger(__name__)

# Calls whose events are kept, at most (the oldest are forgotten first).
KEEP_CALLS = 5000

Event = dict[str, Any]


class CallEvents:
    """The follower. `loop` is the event loop of the coroutines that wait (the SIP stack's)."""

    def __init__(self, redis_url: str, loop: asyncio.AbstractEventLoop) -> None:
        self.client = redis.Redis.from_url(redis_url, socket_timeout=5.0, socket_connect_timeout=2.0)
        self.loop = loop
        self._lock = threading.Lock()
        self._by_call: OrderedDict[str, list[Event]] = OrderedDict()
        self._uniqueid: dict[str, str] = {}  # SIP Call-ID -> uniqueid
        self._changed = asyncio.Event()
        self._stop = threading.Event()
        # Everything from now on: what is already in the stream concerns calls placed before.
        last = self.client.xrevrange(STREAM, count=1)
        self._cursor: Any = last[0][0] if last else b"0-0"
        self._thread = threading.Thread(target=self._read, name="call-events", daemon=True)
        self._thread.start()

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)
        self.client.close()

    def follow(self, sip_call_id: str) -> CallFollow:
        return CallFollow(self, sip_call_id)

    # -- the reading thread ---------------------------------------------------------------------------------

    def _read(self) -> None:
        while not self._stop.is_set():
            try:
                answer: Any = self.client.xread({STREAM: self._cursor}, count=500, block=500)
            except redis.RedisError as exc:
                # The hotline's Redis restarting (a test may do that): read on from the same place.
                log.info("event stream unreadable (%s); reading again", exc)
                self._stop.wait(0.2)
                continue
            if not answer:
                continue
            for entry_id, fields in answer[0][1]:
                self._cursor = entry_id
                try:
                    self._keep(json.loads(fields[b"event"]))
                except (KeyError, ValueError):
                    continue
            self.loop.call_soon_threadsafe(self._wake)

    def _keep(self, evt: Event) -> None:
        call = evt.get("call")
        if not call:
            return
        with self._lock:
            if evt.get("type") == "ivr.start" and evt["data"].get("sip_call_id"):
                self._uniqueid[evt["data"]["sip_call_id"]] = call
            self._by_call.setdefault(call, []).append(evt)
            self._by_call.move_to_end(call)
            while len(self._by_call) > KEEP_CALLS:
                self._by_call.popitem(last=False)

    def _wake(self) -> None:
        # Every waiter rechecks; a new Event for the next round.
        changed, self._changed = self._changed, asyncio.Event()
        changed.set()

    # -- for the followers (on the loop) ----------------------------------------------------------------------

    def events(self, sip_call_id: str) -> tuple[str | None, list[Event]]:
        with self._lock:
            uniqueid = self._uniqueid.get(sip_call_id)
            return uniqueid, list(self._by_call.get(uniqueid, ())) if uniqueid else []

    async def changed(self, timeout: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._changed.wait(), timeout)


class CallFollow:
    """One call's events, read in order: each wait returns the first matching event after the last one returned."""

    def __init__(self, events: CallEvents, sip_call_id: str) -> None:
        self.events = events
        self.sip_call_id = sip_call_id
        self.seen = 0
        self.uniqueid: str | None = None

    async def next(self, wanted: Callable[[Event], bool], deadline: float, stop_at_end: bool = True) -> Event | None:
        """The next event that `wanted` accepts; None if the deadline (time.monotonic()) passed, or if the call left
        the IVR for good first (ivr.end other than to a person, who may send the caller back to the survey), unless
        `stop_at_end` is False."""
        while True:
            self.uniqueid, events = self.events.events(self.sip_call_id)
            while self.seen < len(events):
                evt = events[self.seen]
                self.seen += 1
                if wanted(evt):
                    return evt
                if stop_at_end and evt["type"] == "ivr.end" and evt["data"].get("outcome") != "human":
                    return None
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            await self.events.changed(min(left, 1.0))

    async def ended(self, deadline: float) -> bool:
        """Wait until the IVR has reported the call's end, if the call reached the IVR at all; False if the
        deadline (time.monotonic()) passed first. The IVR reports on its own path (hotline/events.py), not with
        the hang-up: a phone that has seen the call close may not have its last report yet."""
        while True:
            _, events = self.events.events(self.sip_call_id)
            kinds = {e["type"] for e in events}
            if "ivr.start" not in kinds or "ivr.end" in kinds:
                return True
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            await self.events.changed(min(left, 1.0))

    def history(self) -> list[str]:
        """What the call reported so far, briefly: for a failure message."""
        _, events = self.events.events(self.sip_call_id)
        return [_brief(e) for e in events]


def _brief(evt: Event) -> str:
    data = evt.get("data") or {}
    if evt["type"] in ("ivr.wait", "ivr.key", "ivr.entry"):
        detail = data.get("key", data.get("result", ""))
        return f"{evt['type']} {data.get('menu')}#{data.get('attempt')} {detail}".rstrip()
    if evt["type"] == "ivr.end":
        return f"ivr.end {data.get('outcome')} at {data.get('at')}"
    return str(evt["type"])
