"""Publishes what changed in the ACD, in the hotline's one event format (hotline/events.py documents every event):
to the Redis stream and pub/sub channel there, and appended to the database's queue log.

The queue-log row keeps the fields of Asterisk's queue_log: time, callid, queuename, agent, event, data1..data5.
Supervision events are not queue events and stay out of it.
"""

from __future__ import annotations

import asyncio
import contextvars
import json
import logging
from collections.abc import Callable
from typing import Any

import redis.asyncio as aioredis
from sqlalchemy.orm import Session, sessionmaker

from hotline.events import STREAM, STREAM_LENGTH
from reporting.queue_log import QueueLog

log = logging.getLogger(__name__)


# Where queue-log rows go: a callable that takes a batch of events (the database writer, run off the event loop).
QueueLogSink = Callable[[list[dict[str, Any]]], None]


def queue_log_sink(sessions: sessionmaker[Session]) -> QueueLogSink:
    """The database's queue_log table (through the process's sessions) as the notifier's sink."""
    return QueueLog(sessions).append


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
            # In a context of its own: the drain serves every call, not the one whose event happened to start it.
            self._task = asyncio.get_running_loop().create_task(self._drain(), context=contextvars.Context())
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
