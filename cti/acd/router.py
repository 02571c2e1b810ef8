"""An ACD router process: holds one or more Stasis apps, runs the ACD's timers, and takes over the app of a router
that died. Several routers share the queues through Redis.

The dialplan offers each caller to the apps hotline-acd-1..N in turn; Asterisk lets one websocket hold an app, so
exactly one router receives a call's events. A router heartbeats each app it holds; when an app's heartbeat
lapses, a live router adds that app to its own websocket and re-adopts the calls waiting in it. When the app's
own router returns, Asterisk hands the app back to it (ApplicationReplaced) and the helper lets go.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from datetime import datetime
from typing import Any

from cti.acd import order_clock
from cti.acd.calls import Caller, now_ms
from cti.acd.services import Acd
from cti.acd.stasis import StasisEvents
from cti.ari import AriError, wait_until_up
from hotline.events import event
from hotline.logs import call_context
from work_orders.service import WorkOrderService

log = logging.getLogger(__name__)

APP_PREFIX = "hotline-acd"
HEARTBEAT_MS = 1000
HEARTBEAT_TTL_MS = 3000
TIMER_POLL_S = 0.05
# Heartbeats between two reconciliations of Redis with Asterisk's view of the callers.
RECONCILE_EVERY = 5


def app_name(index: int) -> str:
    return f"{APP_PREFIX}-{index}"


class Router:
    """One router over the ACD's services (and through them its ARI client, store and notifier), holding its home app
    `hotline-acd-<home>` of `apps`; cti/acd/process.py builds it."""

    def __init__(self, acd: Acd, home: int, apps: int, orders: WorkOrderService | None = None,
                 sweep_s: float = 30.0) -> None:  # fmt: skip
        self.acd = acd
        self.ari = acd.ari
        self.store = acd.store
        self.notifier = acd.notifier
        self.events = StasisEvents(acd)
        self.home = app_name(home)
        self.all_apps = [app_name(i) for i in range(1, apps + 1)]
        self.held: list[str] = []
        self.ident = f"{socket.gethostname()}:{home}"
        self._reconnect = asyncio.Event()
        self.connected = asyncio.Event()
        # The work orders' contact clock rides along with the routers: they run wherever the hotline runs.
        self.orders = orders
        self.sweep_s = sweep_s

    async def run(self) -> None:
        await wait_until_up(self.ari)
        tasks = [
            asyncio.create_task(self._websocket(), name="ari-events"),
            asyncio.create_task(self._timers(), name="acd-timers"),
            asyncio.create_task(self._heartbeat(), name="acd-heartbeat"),
        ]
        if self.orders is not None:
            tasks.append(asyncio.create_task(order_clock.run(self.orders, self.notifier, self.sweep_s), name="clock"))
        try:
            await asyncio.gather(*tasks)
        finally:
            for task in tasks:
                task.cancel()

    # -- events ----------------------------------------------------------------------------------------------

    async def _websocket(self) -> None:
        while True:
            apps = list(self.held)
            self._reconnect.clear()
            if not apps:
                await self._reconnect.wait()
                continue
            try:
                reader = asyncio.create_task(self._read(apps))
                waiter = asyncio.create_task(self._reconnect.wait())
                await asyncio.wait({reader, waiter}, return_when=asyncio.FIRST_COMPLETED)
                waiter.cancel()
                if reader.done():
                    reader.result()  # raises what ended the connection
                else:
                    reader.cancel()  # the apps to hold changed: reconnect with the new list
            except Exception as exc:
                self.connected.clear()
                log.warning("ARI events connection lost (%s); reconnecting", exc)
                await asyncio.sleep(0.5)

    async def _read(self, apps: list[str]) -> None:
        async with self.ari.event_socket(apps) as events:
            # Events that arrive while adopting wait in the socket, and are handled after it.
            for app in apps:
                await self.adopt(app)
            self.connected.set()
            log.info("holding %s", ", ".join(apps))
            async for evt in events:
                if evt.get("type") == "ApplicationReplaced":
                    self._let_go(str(evt.get("application", "")))
                else:
                    self.events.dispatch(evt)

    def _let_go(self, app: str) -> None:
        if app in self.held:
            log.info("app %s is now held by another router", app)
            self.held.remove(app)

    async def adopt(self, app: str) -> None:
        """Take up an app's calls where its last holder left them: calls that ended meanwhile are closed, a ring
        or a conversation whose agent leg is gone is settled, waiting callers are offered again."""
        for call in await self.reconcile(app):
            with call_context(call):
                await self._take_up(call)
        await self.notifier.publish(event("router.adopted", None, None, None, app=app, router=self.ident))

    async def _take_up(self, call: str) -> None:
        fields = await self.store.call(call)
        leg_gone = fields.get("leg") and await self.ari.channel(fields["leg"]) is None
        if fields.get("state") == "ringing" and leg_gone:
            await self.acd.leg_gone_unanswered(fields["leg"], 0)
        elif fields.get("state") == "connected" and leg_gone:
            await self.acd.agent_left(call)
        elif fields.get("state") == "waiting" and not await self.acd.offer_call(call):
            with contextlib.suppress(AriError):
                await self.ari.start_moh(call)

    async def reconcile(self, app: str) -> list[str]:
        """Make Redis agree with Asterisk about the app's callers: a call whose caller is gone is closed, and a
        caller in the app that Redis does not know (Redis restarted, or lost its data) is queued again, in the
        order of arrival. Returns the app's calls that are still live."""
        channels = {str(c["id"]): c for c in await self.ari.channels()}
        live = []
        for call in await self.store.live_calls():
            with call_context(call):
                if await self._settle(call, app, channels):
                    live.append(call)
        for channel in channels.values():
            caller = _waiting_caller(channel, app)
            if caller is None or caller.channel in live:
                continue
            with call_context(caller.channel):
                await self._requeue(caller, app)
        return live

    async def _settle(self, call: str, app: str, channels: dict[str, dict[str, Any]]) -> bool:
        """Redis's call against Asterisk's channels: closed if its caller is gone, its offer settled if the offer's
        leg never came to be. True if the call is the app's and still live."""
        fields = await self.store.call(call)
        if fields.get("app") != app:
            return False
        if call not in channels:
            await self.acd.caller_left(call)
            return False
        offered = int(fields.get("offered") or now_ms())
        if fields.get("state") == "ringing" and fields.get("leg") not in channels and now_ms() - offered > 2000:
            # An offer whose leg never came to be (or whose end we missed): the call must not wait forever.
            log.warning("settling call %s: its offer to %s has no channel", call, fields.get("agent"))
            await self.acd.leg_gone_unanswered(fields.get("leg", ""), 0)
        return True

    async def _requeue(self, caller: Caller, app: str) -> None:
        """A caller waiting in the app whom Redis does not know is queued again, in their order of arrival."""
        # The channels were listed before Redis was read: a call that ended in between (its caller already sent on to
        # the survey) looks unknown, and was once offered again. Asked afresh, the caller must still wait in the app
        # and still be unknown to Redis.
        fresh = await self.ari.channel(caller.channel)
        if fresh is None or _waiting_caller(fresh, app) is None or await self.store.call(caller.channel):
            return
        log.warning("queueing caller %s again: Redis did not know it", caller.channel)
        await self.acd.caller_entered(caller, entered_ms=_created_ms(fresh))

    # -- timers and heartbeats -------------------------------------------------------------------------------

    async def _timers(self) -> None:
        while True:
            try:
                await self.acd.run_due_timers()
                next_due = await self.store.next_timer_ms()
            except Exception:
                log.exception("timer loop")
                next_due = None
            delay = TIMER_POLL_S if next_due is None else min(TIMER_POLL_S, max(0, next_due - now_ms()) / 1000)
            await asyncio.sleep(delay)

    async def _heartbeat(self) -> None:
        started = now_ms()
        beats = 0
        while True:
            try:
                await self._hold_apps(may_take_over=now_ms() - started > HEARTBEAT_TTL_MS)
                beats += 1
                if beats % RECONCILE_EVERY == 0 and self.connected.is_set():
                    for app in list(self.held):
                        await self.reconcile(app)
            except Exception:
                log.exception("heartbeat")
            await asyncio.sleep(HEARTBEAT_MS / 1000)

    async def _hold_apps(self, may_take_over: bool) -> None:
        """Redis decides who holds which app; the websocket follows. A router always wants its home app back,
        and takes over another's only when that router is gone (and not in its first seconds, while its peers may
        still be starting)."""
        await self.store.alive(self.home, self.ident, HEARTBEAT_TTL_MS)
        wanted = list(self.held)
        for app in list(wanted):
            foreign_home_back = app != self.home and await self.store.is_alive(app)
            if foreign_home_back:
                await self.store.release_app(app, self.ident)
                wanted.remove(app)
            elif not await self.store.hold_app(app, self.ident, HEARTBEAT_TTL_MS):
                wanted.remove(app)
        if self.home not in wanted and await self.store.hold_app(self.home, self.ident, HEARTBEAT_TTL_MS):
            wanted.insert(0, self.home)
        if may_take_over:
            for app in self.all_apps:
                orphaned = app not in wanted and not await self.store.is_alive(app)
                if orphaned and await self.store.hold_app(app, self.ident, HEARTBEAT_TTL_MS):
                    log.warning("taking over %s: its router is gone", app)
                    wanted.append(app)
        if wanted != self.held:
            self.held = wanted
            self._reconnect.set()


def _waiting_caller(channel: dict[str, Any], app: str) -> Caller | None:
    """A channel sitting in Stasis(app,caller,…): a caller of this app's queue, known to Asterisk."""
    dialplan = channel.get("dialplan") or {}
    if dialplan.get("app_name") != "Stasis":
        return None
    args = str(dialplan.get("app_data", "")).split(",")
    if not args or args[0] != app or len(args) < 2 or args[1] != "caller":
        return None
    number = str((channel.get("caller") or {}).get("number", ""))
    return Caller.from_args(str(channel["id"]), app, number, args[1:])


def _created_ms(channel: dict[str, Any]) -> int | None:
    """When Asterisk created the channel: the caller's place in line survives a loss of Redis's data."""
    try:
        return int(datetime.strptime(str(channel["creationtime"]), "%Y-%m-%dT%H:%M:%S.%f%z").timestamp() * 1000)
    except (KeyError, ValueError):
        return None
