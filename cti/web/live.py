"""The live stream: one Redis subscription to the hotline's events (the ACD's and the IVR's) per web process, fanned
out to every open page over a WebSocket at /ws.

Messages are JSON objects. The hotline's events pass through unchanged in hotline/events.py's format
({"type": "queue.offer" | "ivr.wait" | ..., "at", "call", "queue", "agent", "data"}); the hub adds:
  {"type": "screenpop", "call": id, "data": {...cti/screenpop.py...}}   to the agent a call is offered to
  {"type": "monitor.floor", "data": {...cti/web/monitor.py snapshot...}} to supervisors, after any event (at most
                                                                       every FLOOR_EVERY_S) and every FLOOR_IDLE_S
  {"type": "live.lost"} / {"type": "live.restored"}                    when Redis goes away and comes back
  {"type": "ping"}                                                     every PING_S on a quiet socket
An agent receives only events naming them; supervisors receive everything; the city dispatch receives the
work orders' events (workorder.overdue), and a county's staff those of their county.

The monitor.floor snapshot (also what GET /api/monitor returns): {at_ms, floor (the ACD's agents, calls and
supervisions), today (the day's figures per queue and tier, the chart, the abandoned calls, overdue_orders),
campaigns (the open campaigns' progress), ivr (the self-service funnel, reporting/ivr_funnel.py)}. Its ivr part:
  {"available": true,
   "in_ivr": 3,                                     # calls in self-service now
   "at_menu": {"main_menu": 2, "repair_reset": 1},  # of those, how many wait at each menu ("": not at one yet)
   "calls_today": 120,                              # the day's calls that left self-service (main and key lines)
   "outcomes": {"completed": 80, "human": 35, "abandoned": 4, "error": 1},
   "containment": 0.6667 | null,                    # completed / calls_today; null before the day's first call
   "trouble": [{"menu": "repair_scope", "gave_up": 3, "failed": 1}, ...]}  # the worst menus today, worst first
or {"available": false} when Redis does not answer the funnel's read, which never fails the snapshot. The IVR's
events bring a snapshot as the ACD's do: a caller reaching a menu shows on the monitor with the next push.
"""

from __future__ import annotations

import contextlib
import json
import logging
import queue
import threading
import time
from typing import Any
from urllib.parse import urlsplit

import redis
from flask import Blueprint, Flask, current_app, request
from flask_login import current_user
from flask_sock import ConnectionClosed, Sock

from crm.users import Identity
from crm.vocabulary import Role
from cti.web.auth import me
from cti.web.monitor import forget_figures, snapshot
from cti.web.wiring import WebServices
from hotline.events import STREAM

log = logging.getLogger(__name__)

bp = Blueprint("live", __name__)
sock = Sock()

FLOOR_EVERY_S = 0.2
FLOOR_IDLE_S = 3.0
PING_S = 20.0
BACKLOG = 500


class Subscriber:
    def __init__(self, identity: Identity) -> None:
        self.identity = identity
        self.supervisor = identity.role in (Role.SUPERVISOR, Role.ADMIN)
        self.messages: queue.Queue[dict[str, Any]] = queue.Queue(BACKLOG)

    def wants(self, evt: dict[str, Any]) -> bool:
        if self.supervisor:
            return True
        if str(evt.get("type", "")).startswith("workorder."):
            # The city dispatch hears of every order; a county's staff of their county's.
            if self.identity.role is Role.DISPATCHER:
                return True
            county = (evt.get("data") or {}).get("county_id")
            return self.identity.role is Role.COUNTY and county == self.identity.county_company_id
        return bool(self.identity.agent_code) and evt.get("agent") == self.identity.agent_code

    def put(self, message: dict[str, Any]) -> None:
        try:
            self.messages.put_nowait(message)
        except queue.Full:
            # A page that stopped reading: drop what it missed and tell it to fetch the state afresh.
            with contextlib.suppress(queue.Empty):
                while True:
                    self.messages.get_nowait()
            self.messages.put_nowait({"type": "resync"})


class LiveHub:
    def __init__(self, services: WebServices) -> None:
        self.services = services
        self._subscribers: set[Subscriber] = set()
        self._lock = threading.Lock()
        self._started = False
        self._floor_dirty = threading.Event()
        self._stopping = threading.Event()
        self.connected = threading.Event()

    def subscribe(self, identity: Identity) -> Subscriber:
        sub = Subscriber(identity)
        with self._lock:
            self._subscribers.add(sub)
            if not self._started:
                self._started = True
                threading.Thread(target=self._listen, name="live-events", daemon=True).start()
                threading.Thread(target=self._floor, name="live-floor", daemon=True).start()
        if sub.supervisor:
            self._floor_dirty.set()
        return sub

    def unsubscribe(self, sub: Subscriber) -> None:
        with self._lock:
            self._subscribers.discard(sub)

    def stop(self) -> None:
        self._stopping.set()

    def changed(self) -> None:
        """Something the monitor shows changed outside the ACD's events (a campaign started or paused from a page):
        the supervisors get a fresh snapshot at once rather than at the next idle push."""
        forget_figures()
        self._floor_dirty.set()

    def _all(self) -> list[Subscriber]:
        with self._lock:
            return list(self._subscribers)

    def _broadcast(self, message: dict[str, Any], supervisors_only: bool = False) -> None:
        for sub in self._all():
            if sub.supervisor or not supervisors_only:
                sub.put(message)

    def _listen(self) -> None:
        backoff = 0.2
        while not self._stopping.is_set():
            client = self.services.events_client()
            try:
                # Untyped before redis-py 8, typed from it on: the ignore holds for both.
                pubsub = client.pubsub(ignore_subscribe_messages=True)  # type: ignore[no-untyped-call, unused-ignore]
                pubsub.subscribe(STREAM)
                if not self.connected.is_set():
                    self.connected.set()
                    self._broadcast({"type": "live.restored"})
                backoff = 0.2
                while not self._stopping.is_set():
                    message = pubsub.get_message(timeout=1.0)
                    if message and message.get("type") == "message":
                        self._dispatch(json.loads(message["data"]))
            except redis.RedisError as exc:
                if self.connected.is_set():
                    log.warning("live events lost: %s", exc)
                    self.connected.clear()
                    self._broadcast({"type": "live.lost"})
                time.sleep(backoff)
                backoff = min(backoff * 2, 3.0)
            except Exception:
                log.exception("live event handling failed")
                time.sleep(backoff)
            finally:
                client.close()

    def _dispatch(self, evt: dict[str, Any]) -> None:
        subscribers = self._all()
        for sub in subscribers:
            if sub.wants(evt):
                sub.put(evt)
        if evt.get("type") == "queue.offer" and evt.get("agent") and evt.get("call"):
            receivers = [s for s in subscribers if not s.supervisor and s.identity.agent_code == evt["agent"]]
            if receivers:
                try:
                    pop = self.services.screenpop.build(str(evt["call"]))
                except Exception:
                    log.exception("screen-pop for call %s failed", evt["call"])
                    pop = {"call": {"id": evt["call"]}, "contact": None, "customer": None, "error": True}
                for sub in receivers:
                    sub.put({"type": "screenpop", "call": evt["call"], "data": pop})
        if str(evt.get("type", "")).startswith("workorder."):
            forget_figures()
        # Any event may change what the monitor shows: the ACD's floor, or (ivr.*) the self-service funnel.
        self._floor_dirty.set()

    def _floor(self) -> None:
        while not self._stopping.is_set():
            self._floor_dirty.wait(FLOOR_IDLE_S)
            self._floor_dirty.clear()
            if not any(s.supervisor for s in self._all()):
                continue
            try:
                data = snapshot(self.services)
            except Exception:
                log.exception("floor snapshot failed")
                time.sleep(1)
                continue
            self._broadcast({"type": "monitor.floor", "data": data}, supervisors_only=True)
            time.sleep(FLOOR_EVERY_S)


def init_app(app: Flask, services: WebServices) -> None:
    """The WebSocket route, and the application's hub (started by the first page that opens /ws)."""
    sock.init_app(app)
    app.extensions["live"] = LiveHub(services)


def hub() -> LiveHub:
    """The current application's hub."""
    found: LiveHub = current_app.extensions["live"]
    return found


def _same_origin() -> bool:
    # Browsers send Origin on WebSocket requests; a page on another site must not ride this session's cookie.
    origin = request.headers.get("Origin")
    return origin is None or urlsplit(origin).netloc == request.host


@sock.route("/ws", bp=bp)  # type: ignore[untyped-decorator]
def stream(ws: Any) -> None:
    if not current_user.is_authenticated or not _same_origin():
        ws.close(reason=1008, message="log in first")
        return
    live = hub()
    sub = live.subscribe(me())
    try:
        ws.send(json.dumps({"type": "hello", "live": live.connected.is_set()}))
        while True:
            try:
                message = sub.messages.get(timeout=PING_S)
            except queue.Empty:
                message = {"type": "ping"}
            ws.send(json.dumps(message, ensure_ascii=False))
    except ConnectionClosed:
        pass
    finally:
        live.unsubscribe(sub)
        current_app.logger.debug("live page closed")
