"""What the IVR reports about each call in self-service, as it happens: the ivr.* events of the hotline's one event
format (hotline/events.py) on the shared stream, and, kept from them in Redis, the calls now in self-service with
the menu each waits at and the day's funnel (keys and definitions in reporting/ivr_funnel.py).

A call's thread only queues its events: one background thread sends them to Redis, in order, a batch per round
trip, so a prompt never waits for Redis. With Redis away the events are dropped (logged once per outage), and the
calls go on as before: what the IVR reports is for watching, never for running a call.
"""

from __future__ import annotations

import json
import logging
import queue
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import redis

from hotline.events import STREAM, STREAM_LENGTH, event
from reporting.ivr_funnel import DAY_KEEP_S, FUNNEL_LINES, NOW_KEY, day_key

log = logging.getLogger(__name__)

# Events waiting to be sent, at most (about 2,500 calls' worth): beyond it (Redis away or far behind) new ones are
# dropped.
BACKLOG = 50_000


# A batch of events, published and kept in one step (reporting/ivr_funnel.py lists the keys and what they hold).
# KEYS: the stream, ivr:now, the day's funnel. ARGV: stream length, now (ms), days' keep (s), funnel lines
# (comma-separated), then the events' JSON payloads.
_SEND = """
local lines = {}
for line in string.gmatch(ARGV[4], '[^,]+') do lines[line] = true end
local now = tonumber(ARGV[2])
local counted = false
for i = 5, #ARGV do
  local payload = ARGV[i]
  redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[1], '*', 'event', payload)
  redis.call('PUBLISH', KEYS[1], payload)
  local evt = cjson.decode(payload)
  local kind, call, data = evt['type'], evt['call'], evt['data']
  if kind == 'ivr.start' or kind == 'ivr.wait' then
    local where = {line = data['line'] or '', menu = data['menu'] or '', attempt = data['attempt'] or 0, since = now}
    redis.call('HSET', KEYS[2], call, cjson.encode(where))
  elseif kind == 'ivr.end' then
    redis.call('HDEL', KEYS[2], call)
    if lines[data['line']] then
      redis.call('HINCRBY', KEYS[3], 'calls', 1)
      redis.call('HINCRBY', KEYS[3], 'outcome:' .. data['outcome'], 1)
      if data['outcome'] == 'abandoned' and data['at'] ~= '' then
        redis.call('HINCRBY', KEYS[3], 'gave_up:' .. data['at'], 1)
      end
      if data['failed_at'] ~= '' then
        redis.call('HINCRBY', KEYS[3], 'failed:' .. data['failed_at'], 1)
      end
      counted = true
    end
  end
end
if counted then redis.call('EXPIRE', KEYS[3], ARGV[3]) end
return #ARGV - 4
"""


class IvrProgress:
    """The IVR's reporter. `client` None reports nothing (an IVR run without Redis, as in some tests of flows)."""

    def __init__(
        self,
        client: redis.Redis | None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        backlog: int = BACKLOG,
    ) -> None:
        self.client = client
        self.clock = clock
        self._queue: queue.Queue[dict[str, Any] | None] = queue.Queue(backlog)
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._failing = False
        self._dropping = False
        # Reports dropped because too many were waiting for Redis (for operations: a count that should stay 0).
        self.dropped = 0
        self._script = client.register_script(_SEND) if client is not None else None

    @classmethod
    def to_redis(cls, url: str) -> IvrProgress:
        return cls(redis.Redis.from_url(url, socket_timeout=1.0, socket_connect_timeout=1.0))

    def report(self, kind: str, call: str, **data: Any) -> None:
        """Queue one ivr.* event of the call (its uniqueid); returns at once."""
        if self.client is None:
            return
        if self._thread is None:
            self._start()
        try:
            self._queue.put_nowait(event(kind, call, **data))
        except queue.Full:
            # Redis away or far behind: the report is dropped, never the call's time. Said once per episode.
            self.dropped += 1
            if not self._dropping:
                self._dropping = True
                log.warning("IVR progress: %d reports waiting for Redis; dropping new ones", self._queue.maxsize)
            return
        if self._dropping:
            self._dropping = False
            log.warning("IVR progress: reporting again, %d reports dropped so far", self.dropped)

    def flush(self, timeout: float = 5.0) -> bool:
        """Wait until every event reported so far has been sent (or dropped); False if that took too long."""
        if self._thread is None:
            return True
        deadline = time.monotonic() + timeout
        while self._queue.unfinished_tasks and time.monotonic() < deadline:
            time.sleep(0.005)
        return not self._queue.unfinished_tasks

    def close(self) -> None:
        if self._thread is not None:
            self.flush()
            self._queue.put(None)
            self._thread.join(timeout=5)
            self._thread = None
        if self.client is not None:
            self.client.close()

    def _start(self) -> None:
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._drain, name="ivr-progress", daemon=True)
                self._thread.start()

    def _drain(self) -> None:
        while True:
            first = self._queue.get()
            if first is None:
                self._queue.task_done()
                return
            batch = [first]
            while len(batch) < 500:
                try:
                    more = self._queue.get_nowait()
                except queue.Empty:
                    break
                if more is None:
                    self._queue.put(None)  # stop after this batch
                    self._queue.task_done()
                    break
                batch.append(more)
            try:
                self._send(batch)
                if self._failing:
                    log.info("IVR progress reaches Redis again")
                self._failing = False
            except redis.RedisError as exc:
                if not self._failing:
                    log.warning("IVR progress not sent, Redis unavailable: %s", exc)
                self._failing = True
            finally:
                for _ in batch:
                    self._queue.task_done()

    def _send(self, batch: list[dict[str, Any]]) -> None:
        # One round trip and one command for the whole batch: Redis does the per-event work (see _SEND).
        assert self._script is not None
        payloads = [json.dumps(evt, ensure_ascii=False) for evt in batch]
        keys = [STREAM, NOW_KEY, day_key(self.clock())]
        args: list[str | int] = [STREAM_LENGTH, int(time.time() * 1000), DAY_KEEP_S, ",".join(FUNNEL_LINES)]
        self._script(keys=keys, args=[*args, *payloads])
