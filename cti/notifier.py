"""Publishes what changed in the ACD: one event format, on a Redis stream (for replay) and pub/sub channel (for
live pages), and appended to the database's queue log.

An event is one JSON object:

  {"type": "queue.enter" | "queue.offer" | "queue.connect" | "queue.noanswer" | "queue.reject" |
           "queue.abandon" | "queue.complete" | "queue.transfer" | "queue.escalate" | "queue.announce" |
           "queue.announced" | "queue.priority" |
           "workorder.overdue" |
           "agent.login" | "agent.ready" | "agent.pause" | "agent.wrapup" | "agent.logout" | "agent.pending" |
           "supervise.start" | "supervise.end",
   "at": "2026-11-23T04:21:06.123+00:00",   # when it happened (UTC)
   "call": "1795407666.0" | null,          # the caller's channel uniqueid
   "queue": "skill:billing" | null,        # the group the call was waiting for
   "agent": "1001" | null,
   "data": {...}}                           # per type: hold_s, ring_s, talk_s, position, priority, cause, reason

The data of the desk's and the supervisor's actions:

  queue.transfer   queue: the target group, agent: the agent who transferred;
                   {from_agent, from_queue, to, talk_s}
  queue.priority   queue: the call's group; {priority, previous, by}
  agent.pause      {reason}; a supervisor's: {reason: "supervisor", by}, plus deferred: true when it waited for the
                   end of the agent's call
  agent.logout     {} from the agent; a supervisor's: {by}, plus deferred: true as for a pause
  agent.pending    a supervisor's pause or logout of an agent ringing or talking, taken when that call ends:
                   {action: "pause" | "logout", by}
  supervise.start  call, agent: the supervised agent; {supervision, mode: listen | whisper | barge, seat, by}
  supervise.end    as supervise.start, plus {reason, started, duration_s}; reason: supervisor (hung up), stopped
                   (from the desk), call_ended, transferred, unanswered, failed. Every supervision requested ends
                   in one, started or not.

The queue-log row keeps the fields of Asterisk's queue_log: time, callid, queuename, agent, event, data1..data5.
Supervision events are not queue events and stay out of it.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import redis.asyncio as aioredis

from crm import db
from crm.queue_log import QueueLog

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
    "queue.complete": "COMPLETECALLER",  # COMPLETEAGENT when the agent hung up: see queue_log_name
    "queue.transfer": "TRANSFER",
    "queue.escalate": "ESCALATE",
    "agent.login": "ADDMEMBER",
    "agent.ready": "UNPAUSE",
    "agent.pause": "PAUSE",
    "agent.wrapup": "WRAPUP",
    "agent.logout": "REMOVEMEMBER",
    # Not Asterisk's: it has no event for these.
    "queue.priority": "PRIORITY",
    "agent.pending": "PENDING",
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


def queue_log_name(evt: dict[str, Any]) -> str:
    """Asterisk's queue_log name for an event."""
    if evt["type"] == "queue.complete" and (evt.get("data") or {}).get("ended_by") == "agent":
        return "COMPLETEAGENT"
    kind = str(evt["type"])
    return QUEUE_LOG_NAMES.get(kind, kind)


# Where queue-log rows go: a callable that takes a batch of events (the database writer, run off the event loop).
QueueLogSink = Callable[[list[dict[str, Any]]], None]


def queue_log_sink(database_url: str) -> QueueLogSink:
    """The database's queue_log table as the notifier's sink."""
    return QueueLog(db.session_factory(db.make_engine(database_url)), queue_log_name).append


class Notifier:
    """Events leave through a queue drained by one background task, in order: publishing costs the routing path
    no round trip to Redis."""

    def __init__(self, client: aioredis.Redis, sink: QueueLogSink | None = None) -> None:
        self.r = client
        self.sink = sink
        self._queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None

    async def publish(self, evt: dict[str, Any]) -> None:
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._drain())
        self._queue.put_nowait(evt)

    async def flush(self) -> None:
        """Wait until every event published so far is out."""
        await self._queue.join()

    async def close(self) -> None:
        await self.flush()
        if self._task is not None:
            self._task.cancel()
            self._task = None

    async def _drain(self) -> None:
        while True:
            batch = [await self._queue.get()]
            while not self._queue.empty():
                batch.append(self._queue.get_nowait())
            try:
                async with self.r.pipeline(transaction=False) as pipe:
                    for evt in batch:
                        payload = json.dumps(evt, ensure_ascii=False)
                        pipe.xadd(STREAM, {"event": payload}, maxlen=STREAM_LENGTH, approximate=True)
                        pipe.publish(STREAM, payload)
                    await pipe.execute()
                if self.sink is not None:
                    await asyncio.to_thread(self.sink, batch)
            except Exception:
                log.exception("publishing %d queue events failed", len(batch))
            finally:
                for _ in batch:
                    self._queue.task_done()
