"""Publishes what changed in the ACD: one event format, on a Redis stream (for replay) and pub/sub channel (for
live pages), and appended to the database's queue log.

An event is one JSON object:

  {"type": "queue.enter" | "queue.offer" | "queue.connect" | "queue.noanswer" | "queue.reject" |
           "queue.abandon" | "queue.complete" | "queue.transfer" | "queue.escalate" |
           "agent.login" | "agent.ready" | "agent.pause" | "agent.wrapup" | "agent.logout",
   "at": "2026-11-23T04:21:06.123+00:00",   # when it happened (UTC)
   "call": "1795407666.0" | null,          # the caller's channel uniqueid
   "queue": "skill:billing" | null,        # the group the call was waiting for
   "agent": "1001" | null,
   "data": {...}}                           # per type: hold_s, ring_s, talk_s, position, priority, cause, reason

The queue-log row keeps the fields of Asterisk's queue_log: time, callid, queuename, agent, event, data1..data5.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import redis.asyncio as aioredis

log = logging.getLogger(__name__)

STREAM = "acd:events"
STREAM_LENGTH = 50_000

# Asterisk queue_log event names, for the queue log's `event` column.
QUEUE_LOG_NAMES = {
    "queue.enter": "ENTERQUEUE",
    "queue.offer": "RINGING",
    "queue.connect": "CONNECT",
    "queue.noanswer": "RINGNOANSWER",
    "queue.reject": "RINGCANCELED",
    "queue.abandon": "ABANDON",
    "queue.complete": "COMPLETECALLER",
    "queue.transfer": "TRANSFER",
    "queue.escalate": "ESCALATE",
    "agent.login": "ADDMEMBER",
    "agent.ready": "UNPAUSE",
    "agent.pause": "PAUSE",
    "agent.wrapup": "WRAPUP",
    "agent.logout": "REMOVEMEMBER",
}


def event(kind: str, call: str | None = None, queue: str | None = None, agent: str | None = None,
          **data: Any) -> dict[str, Any]:  # fmt: skip
    return {
        "type": kind,
        "at": datetime.now(UTC).isoformat(timespec="milliseconds"),
        "call": call,
        "queue": queue,
        "agent": agent,
        "data": data,
    }


# Where queue-log rows go: a callable that takes a batch of events (the database writer, run off the event loop).
QueueLogSink = Callable[[list[dict[str, Any]]], None]


class Notifier:
    def __init__(self, client: aioredis.Redis, sink: QueueLogSink | None = None) -> None:
        self.r = client
        self.sink = sink
        self.pending: list[dict[str, Any]] = []

    async def publish(self, evt: dict[str, Any]) -> None:
        payload = json.dumps(evt, ensure_ascii=False)
        async with self.r.pipeline(transaction=False) as pipe:
            pipe.xadd(STREAM, {"event": payload}, maxlen=STREAM_LENGTH, approximate=True)
            pipe.publish(STREAM, payload)
            await pipe.execute()
        if self.sink is not None:
            self.pending.append(evt)

    def take_pending(self) -> list[dict[str, Any]]:
        batch, self.pending = self.pending, []
        return batch
