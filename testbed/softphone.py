"""Real SIP phones for trying and testing the hotline: callers that dial and send RFC 4733 digits, and agent seats
that register and answer by themselves.

Built on baresip-python, whose rule is one SIP stack per process: a `SipStack` owns it on a thread of its own,
with its own event loop, so plain synchronous code (the CLI, pytest) can place many calls at once through it.
"""

from __future__ import annotations

import array
import asyncio
import contextlib
import math
import re
import threading
import time
from collections.abc import Callable, Coroutine, Sequence
from concurrent.futures import Future
from typing import Any, TypeVar

from baresip import Account, CallFailed, Config, Event, Runtime, StackEvent, UserAgent
from baresip.errors import AudioNotActive, AudioRestarted, BaresipError

from testbed.call_events import CallEvents, CallFollow
from testbed.phones import HANG_UP, IVR_END_S, Callee, CallResult, Gate, Script, Seat
from testbed.sandbox import PHONE_RTP, free_port

T = TypeVar("T")

# Received audio louder than this (RMS of 16-bit samples) counts as something heard: speech or music.
_HEARD_RMS = 200


class SipStack:
    """The process's SIP stack, listening on one port of `host` (UDP and TCP)."""

    def __init__(self, host: str = "127.0.0.1", port: int | None = None) -> None:
        self.host = host
        self.port = port or free_port(host)
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, name="sip-stack", daemon=True)
        self._thread.start()
        self.runtime = Runtime()
        self._seats: dict[tuple[str, str], Seat] = {}
        self._callers: dict[tuple[str, str, str], UserAgent] = {}
        self._carriers: dict[str, UserAgent] = {}
        self._numbers: dict[str, Callee] = {}
        config = Config(
            net_interface=host,
            max_concurrent_calls=None,
            audio_driver="aumem",
            # The number a call is for, when one user agent answers for many (callees): it is the To header's user.
            expose_headers=("To",),
            # Its media ports stay clear of the ports kept for listening servers (testbed.sandbox).
            extra_config_text=f"sip_listen {host}:{self.port}\nrtp_ports {PHONE_RTP[0]}-{PHONE_RTP[1]}\n",
        )
        self.run(self.runtime.start(config))

    def run(self, coro: Coroutine[Any, Any, T], timeout: float | None = 120) -> T:
        """Run a coroutine on the stack's loop and wait for its result."""
        future: Future[T] = asyncio.run_coroutine_threadsafe(coro, self.loop)
        return future.result(timeout)

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.run(self.runtime.close(), timeout=10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(timeout=5)

    # -- callers -------------------------------------------------------------------------------------------

    async def caller(self, user: str, domain: str, password: str = "") -> UserAgent:
        """A user agent that dials without registering: the self-test endpoint, or a carrier trunk's caller.
        One per identity, kept for the stack's life: baresip cannot free a user agent, and hundreds of test calls
        from the same identity would otherwise leave hundreds of them for the stack to look through."""
        key = (user, domain, password)
        if key not in self._callers:
            account = Account(user=user, domain=domain, password=password, reg_interval=0)
            self._callers[key] = await UserAgent.create(self.runtime, account)
        return self._callers[key]

    async def call(
        self,
        ua: UserAgent,
        uri: str,
        *,
        dtmf: str | Sequence[tuple[float, str]] = "",
        dtmf_after: float = 1.5,
        hold: float = 3.0,
        caller_number: str | None = None,
        headers: dict[str, str] | None = None,
        establish_timeout: float = 15.0,
        listen: bool = True,
        script: Script | None = None,
        events: CallEvents | None = None,
        until: str = "",
    ) -> CallResult:
        """Dial `uri`, send `dtmf` `dtmf_after` seconds after answer, stay `hold` seconds more, then hang up
        (unless the far end hangs up first). `dtmf` may also be steps, [(seconds, digits), ...], each sent that
        many seconds after the one before (the first after answer).

        Or a caller that acts on what the hotline reports (`events`): `script` steps, each taken when the IVR
        reports that it waits at the step's menu; then, with `until` (an event type such as "queue.enter"), hang
        up once the hotline reports it for this call; else wait for the hotline to hang up. `hold` is then only a
        bound on the whole call from its answer, reached when the hotline does not do what was expected."""
        result = CallResult(uri=uri)
        headers = dict(headers or {})
        if caller_number:
            headers["P-Asserted-Identity"] = f"<sip:{caller_number}@{self.host}>"
        started = time.monotonic()
        try:
            call = await self._dial(ua, uri, headers)
        except BaresipError as exc:
            result.failure = str(exc)
            return result
        closed: asyncio.Future[str] = self.loop.create_future()

        def on_event(event: StackEvent) -> None:
            if event.event is Event.CALL_CLOSED and not closed.done():
                closed.set_result(event.text or "")

        call.on(on_event)
        try:
            await call.wait_established(timeout=establish_timeout)
        except CallFailed as exc:
            result.failure = str(exc)
            return result
        answered = time.monotonic()
        result.established = True
        result.answered_at = answered
        result.setup_ms = round((answered - started) * 1000, 1)
        result.sip_call_id = call.call_id
        # Measuring what is heard costs CPU per audio frame; a benchmark with hundreds of callers turns it off.
        listener = asyncio.ensure_future(_listen(call, closed) if listen else _nothing_heard())
        if script is not None or until:
            if events is None:
                raise ValueError("a scripted caller needs the hotline's events to follow")
            follow = events.follow(call.call_id)
            far_end_hung_up = await _follow_script(call, follow, script or (), until, closed, answered + hold, result)
        else:
            follow = None
            steps = [(dtmf_after, dtmf)] if isinstance(dtmf, str) else list(dtmf)
            for delay, digits in steps:
                if not digits or await _wait_or_closed(closed, delay):
                    continue
                with contextlib.suppress(BaresipError):
                    await call.send_dtmf(digits)
                    result.dtmf_sent += digits
            far_end_hung_up = await _wait_or_closed(closed, hold)
        if far_end_hung_up:
            result.ended_by = "far end"
        else:
            result.ended_by = "caller"
            with contextlib.suppress(BaresipError):
                await call.hangup()
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(asyncio.shield(closed), 5)
        if follow is not None:
            # The call's record is whole once the IVR's last report is in (it travels apart from the hang-up).
            await follow.ended(time.monotonic() + IVR_END_S)
            result.reported = follow.history()
        result.close_reason = closed.result() if closed.done() else None
        result.duration_s = round(time.monotonic() - answered, 2)
        result.heard_ms = await listener
        return result

    async def _dial(self, ua: UserAgent, uri: str, headers: dict[str, str]) -> Any:
        """ua.dial, without losing what the call did before it had a Call object. baresip-python makes the Call
        (which then listens for its events) only when the dial command's answer has been handled; on a busy loop
        the far end's answer can be delivered first, and the call would wait for an ESTABLISHED it already missed.
        Events are caught from before the dial and those of this call are handed to it."""
        early: list[StackEvent] = []
        catch = early.append
        self.runtime.subscribe(catch)
        try:
            call = await ua.dial(uri, headers=headers)
        finally:
            self.runtime.unsubscribe(catch)
        # No await since dial returned: every event caught came before the Call existed.
        for event in early:
            if event.call == call.handle:
                call._on_stack_event(event)
        return call

    # -- agent seats ---------------------------------------------------------------------------------------

    async def seat(self, name: str, domain: str, password: str, answer_after: float | None = 0.0,
                   talk_for: float | None = None) -> Seat:  # fmt: skip
        """Register a seat's softphone (auto-answer): the way an agent's phone behaves with answermode=auto.
        A seat registered before in this stack is the same softphone again, with the new behaviour: the stack
        cannot drop a user agent, and two for one seat would race for its calls."""
        known = self._seats.get((name, domain))
        if known is not None and known.password == password:
            seat = Seat(name, known.ua, answer_after, talk_for, password=password)
            self._seats[(name, domain)] = seat
            await seat.ua.register()
            return seat
        ua = await UserAgent.create(self.runtime, Account(user=name, domain=domain, password=password, reg_interval=60))
        seat = Seat(name, ua, answer_after, talk_for, password=password)
        self._seats[(name, domain)] = seat

        def on_incoming(call: Any) -> None:
            # Whichever Seat now stands for this softphone answers, as it is told to.
            current = self._seats[(name, domain)]
            asyncio.run_coroutine_threadsafe(_answer(current, call), self.loop)

        ua.on_incoming(on_incoming)
        await ua.register()
        return seat

    async def unregister(self, seat: Seat) -> None:
        await seat.ua.unregister()

    # -- callees of outbound calls -------------------------------------------------------------------------

    async def callee(self, number: str, domain: str, **behaviour: Any) -> Callee:
        """A phone that takes the hotline's outbound calls to `number` (no registration: the carrier is the trunk's
        address and port, where this stack listens). `behaviour`: the Callee fields plan, keys, key_after, listen."""
        ua = await UserAgent.create(self.runtime, Account(user=number, domain=domain, password="", reg_interval=0))
        callee = Callee(number, ua, **behaviour)

        def on_incoming(call: Any) -> None:
            asyncio.run_coroutine_threadsafe(_pick_up(callee, call, self.loop), self.loop)

        ua.on_incoming(on_incoming)
        return callee

    async def callees(self, numbers: Sequence[str], domain: str, **behaviour: Any) -> list[Callee]:
        """Phones for many numbers on one user agent, for a campaign of thousands: baresip cannot free a user agent,
        and each one's listener runs for every event of the stack, so one per number makes every event cost as
        much as there are numbers. The carrier's user agent for `domain` (made once, kept) takes every call that
        no user agent of its own number takes, and hands it to the Callee of the number in its To header; a
        number with no Callee here is rejected (486), not the 404 of a stack without it. A number given again is
        a new Callee with the new `behaviour` (the Callee fields plan, keys, key_after, listen)."""
        ua = self._carriers.get(domain) or await self._carrier(domain)
        made = [Callee(number, ua, **behaviour) for number in numbers]
        self._numbers.update((c.number, c) for c in made)
        return made

    async def _carrier(self, domain: str) -> UserAgent:
        account = Account(user="carrier", domain=domain, password="", reg_interval=0, extra_params=("catchall=yes",))
        ua = self._carriers[domain] = await UserAgent.create(self.runtime, account)

        def on_incoming(call: Any) -> None:
            callee = self._numbers.get(_dialled(call))
            coro = _pick_up(callee, call, self.loop) if callee else _busy(call)
            asyncio.run_coroutine_threadsafe(coro, self.loop)

        ua.on_incoming(on_incoming)
        return ua


def _dialled(call: Any) -> str:
    """The number an incoming call is for: the user of its To address (`<sip:13712345678@host:port;...>`)."""
    found = re.search(r"sips?:([^@;>]+)@", call.headers.get("To", ""))
    return found.group(1) if found else ""


async def _busy(call: Any) -> None:
    with contextlib.suppress(BaresipError):
        await call.reject()


async def _answer(seat: Seat, call: Any) -> None:
    peer = call.peer or ""
    seat.offered_at.append(time.monotonic())
    seat.offered.append(peer)
    try:
        if seat.reject:
            await call.reject()
            seat.rejected.append(peer)
            return
        if seat.answer_after is None:
            return  # let it ring until the caller gives up
        if seat.answer_after:
            await asyncio.sleep(seat.answer_after)
        await call.answer()
        seat.answered.append(peer)
        if seat.talk_for is not None:
            await asyncio.sleep(seat.talk_for)
            seat.hung_up_at.append(time.monotonic())
            await call.hangup()
    except BaresipError:
        pass  # the call ended before we got to it


async def _pick_up(callee: Callee, call: Any, loop: asyncio.AbstractEventLoop) -> None:
    callee.offered_at.append(time.monotonic())
    action = callee.plan[min(len(callee.offered_at) - 1, len(callee.plan) - 1)]
    closed: asyncio.Future[str] = loop.create_future()

    def on_event(event: StackEvent) -> None:
        if event.event is Event.CALL_CLOSED and not closed.done():
            closed.set_result(event.text or "")

    try:
        if action == "ring":
            return  # never picked up: the hotline gives up after its ring timeout
        if action == "reject":
            await call.reject()
            callee.rejected += 1
            return
        call.on(on_event)
        await call.answer()
        callee.answered += 1
        listener = asyncio.ensure_future(_listen(call, closed) if callee.listen else _nothing_heard())
        if callee.keys and not await _wait_or_closed(closed, callee.key_after):
            await call.send_dtmf(callee.keys)
        if await _wait_or_closed(closed, 120):
            callee.ended_by_far_end += 1
        else:
            await call.hangup()
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(asyncio.shield(closed), 5)
        callee.heard_ms.append(await listener)
    except BaresipError:
        pass  # the call ended before we got to it


async def _follow_script(
    call: Any,
    follow: CallFollow,
    script: Script,
    until: str,
    closed: asyncio.Future[str],
    deadline: float,
    result: CallResult,
) -> bool:
    """Take the script's steps as the IVR reports each wait; then wait for `until` or the far end. Returns True if
    the far end hung up, False if the caller is to hang up now."""

    def gone() -> bool:
        return closed.done()

    for menu, keys in script:
        waiting = asyncio.ensure_future(follow.next(_waits_at(menu), deadline))
        await _first_of(waiting, closed)
        if gone() and not waiting.done():
            waiting.cancel()
            result.script_stopped = f"the far end hung up before the IVR waited at {menu}"
            return True
        if waiting.result() is None:
            result.script_stopped = f"the IVR never waited at {menu}"
            return False
        if isinstance(keys, Gate):
            gate = keys
            if not await asyncio.to_thread(gate.opened.wait, max(0.0, deadline - time.monotonic())):
                result.script_stopped = f"the gate at {menu} was never opened"
                return False
            keys = gate.keys
        if keys == HANG_UP:
            result.steps_done.append(f"{menu}=hang up")
            return False
        with contextlib.suppress(BaresipError):
            await call.send_dtmf(keys)
            result.dtmf_sent += keys
        result.steps_done.append(f"{menu}={keys}")
    if until:
        reported = asyncio.ensure_future(follow.next(lambda e: e["type"] == until, deadline, stop_at_end=False))
        await _first_of(reported, closed)
        if gone() and not reported.done():
            reported.cancel()
            result.script_stopped = f"the far end hung up before {until}"
            return True
        if reported.result() is None:
            result.script_stopped = f"no {until} within the call's bound"
        return False
    if await _wait_or_closed(closed, max(0.0, deadline - time.monotonic())):
        return True
    result.script_stopped = "the far end did not hang up within the call's bound"
    return False


def _waits_at(menu: str) -> Callable[[dict[str, Any]], bool]:
    return lambda e: e["type"] == "ivr.wait" and e["data"].get("menu") == menu


async def _first_of(watching: asyncio.Future[Any], closed: asyncio.Future[str]) -> None:
    """Until either the watch has its answer or the call has closed."""
    others: set[asyncio.Future[Any]] = {watching, asyncio.shield(closed)}
    await asyncio.wait(others, return_when=asyncio.FIRST_COMPLETED)


async def _nothing_heard() -> int:
    return 0


async def _wait_or_closed(closed: asyncio.Future[str], seconds: float) -> bool:
    """Sleep up to `seconds`; True if the call closed meanwhile."""
    try:
        await asyncio.wait_for(asyncio.shield(closed), seconds)
        return True
    except TimeoutError:
        return False


async def _listen(call: Any, closed: asyncio.Future[str]) -> int:
    """Milliseconds of received audio above the hearing threshold, until the call closes."""
    heard_ms = 0
    frame_bytes = 0
    pending = b""
    while not closed.done():
        await asyncio.sleep(0.02)
        try:
            if not frame_bytes:
                info = call.audio.info()
                frame_bytes = int(info.rx_sample_rate * info.rx_channels * 2 * 0.02) if info.rx_sample_rate else 0
                if not frame_bytes:
                    continue
            pending += call.audio.read(frame_bytes * 10)
        except (AudioNotActive, AudioRestarted):
            continue
        while len(pending) >= frame_bytes:
            frame, pending = pending[:frame_bytes], pending[frame_bytes:]
            if _rms(frame) > _HEARD_RMS:
                heard_ms += 20
    return heard_ms


def _rms(frame: bytes) -> float:
    # Every fourth sample is plenty to tell speech or music from silence, at a quarter of the cost: this runs for
    # every 20 ms of every call on the SIP stack's own loop, beside its DTMF timing.
    samples = array.array("h", frame)[::4]
    return math.sqrt(sum(s * s for s in samples) / len(samples)) if samples else 0.0
