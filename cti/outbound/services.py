"""The dialler's logic for each call it places: originate it, play the notice when it is answered (after the
answering-machine detection), act on the callee's keys, hand them to the ACD, and report how the call ended.

Called by stasis.py (the app's ARI events) and by the dialler's loop (dialler.py, which places the calls); the
call's own timers (the wait for a key, the watch on a call whose events may be lost) are tasks started here. Every
log line about a call carries its uniqueid: the channel id the call was originated with.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import time
import uuid
from collections.abc import Awaitable, Callable, Coroutine, Mapping
from dataclasses import dataclass, field
from typing import Any

from campaigns.messages import BillMessage
from campaigns.records import Attempt
from campaigns.rules import Outcome
from campaigns.service import CampaignService
from crm.vocabulary import Intent
from cti.ari import Ari, AriError
from cti.outbound.rules import INTENTS, MAX_PLAYS, Speech, language_of, notice_prompts, outcome_of_cause
from hotline.logs import call_context
from hotline.privacy import mask_number

log = logging.getLogger(__name__)

CHANNEL_PREFIX = "outbound-"
# How the hotline presents itself to the callee.
CALLER_ID = '"95598" <95598>'
# Where answered calls go for answering-machine detection (dialplans/outbound.conf).
DETECTION_CONTEXT = "outbound-amd"


@dataclass
class Call:
    """One attempt's call as the dialler follows it. `channel` is its channel id, which is also its uniqueid."""

    attempt: Attempt
    channel: str
    trunk: str
    started: float
    answered: bool = False
    # Out of the app in dialplans/outbound.conf while AMD listens; keys pressed meanwhile (a machine presses none).
    detecting: bool = False
    early_keys: str = ""
    machine: bool = False
    plays: int = 0
    playback: str | None = None
    closing: str | None = None  # the goodbye's playback id: hang up when it ends
    outcome: Outcome | None = None
    reported: bool = False
    ended: bool = False
    # Put through to the ACD: still up on the trunk (its room is given back when the channel goes), no longer ours.
    handed: bool = False
    key_timer: asyncio.Task[None] | None = None
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)


def _sounds(names: list[str], language: str) -> str:
    """Prompt names as one ARI media list."""
    return ",".join(f"sound:hotline/{language}/{name}" for name in names)


class OutboundCalls:
    """The calls in flight of one dialler (`calls`, by channel id). `service` records the outcomes; `speech` says
    figures; `trunks` maps a campaign trunk's name to the PJSIP endpoint calls leave by; `ended` is told of each call
    once it is over and reported, so that its room on the trunk is given back."""

    def __init__(
        self,
        ari: Ari,
        service: CampaignService,
        speech: Speech,
        *,
        app: str,
        ended: Callable[[Call], None],
        trunks: Mapping[str, str] | None = None,
        ring_timeout_s: int = 30,
        key_wait_s: float = 6.0,
        max_call_s: float = 240.0,
    ) -> None:
        self.ari = ari
        self.service = service
        self.speech = speech
        self.app = app
        self.ended = ended
        self.endpoints = dict(trunks or {})
        self.ring_timeout_s = ring_timeout_s
        self.key_wait_s = key_wait_s
        self.max_call_s = max_call_s
        self.calls: dict[str, Call] = {}
        # Every task started for a call (its watch, its key timer) until it ends; the dialler cancels the rest at stop.
        self.tasks: set[asyncio.Task[None]] = set()

    def endpoint(self, trunk: str, phone: str) -> str:
        return f"PJSIP/{phone}@{self.endpoints.get(trunk, 'trunk')}"

    # -- placing a call ------------------------------------------------------------------------------------------

    async def place(self, attempt: Attempt, trunk: str) -> None:
        """Call the attempt's callee on the trunk into the app: it is seen there once answered."""
        channel = f"{CHANNEL_PREFIX}{attempt.id}-{uuid.uuid4().hex[:8]}"
        call = Call(attempt, channel, trunk, time.monotonic())
        self.calls[channel] = call
        with call_context(channel):
            log.info(
                "attempt %d: calling %s (campaign %d, try %d)", attempt.id, mask_number(attempt.phone),
                attempt.campaign_id, attempt.number,
            )  # fmt: skip
            if not attempt.phone.lstrip("+").isdigit():
                await self._finish(call, Outcome.INVALID_NUMBER)
                return
            try:
                await self.ari.originate(
                    self.endpoint(trunk, attempt.phone), self.app, f"attempt,{attempt.id}", channel,
                    self.ring_timeout_s, CALLER_ID,
                )  # fmt: skip
            except Exception as exc:
                log.warning("attempt %d: the call could not be placed (%s)", attempt.id, exc)
                await self._finish(call, Outcome.FAILED)
                return
            self._spawn(call, self._watch(call), "watch")

    async def _watch(self, call: Call) -> None:
        """Events can be lost (a dropped websocket): a call not settled in time is checked with Asterisk."""
        await asyncio.sleep(self.ring_timeout_s + 15)
        while not call.ended:
            if await self.ari.channel(call.channel) is None:
                async with call.lock:
                    await self._finish(call, call.outcome or (Outcome.ANSWERED if call.answered else Outcome.FAILED))
                return
            if not call.handed and time.monotonic() - call.started > self.max_call_s:
                log.warning("attempt %d: the call went on too long; hanging up", call.attempt.id)
                with contextlib.suppress(AriError):
                    await self.ari.hangup(call.channel)
            await asyncio.sleep(5)

    # -- events (stasis.py), each of a call the dialler placed -----------------------------------------------------

    async def answered(self, channel: str) -> None:
        """The callee answered: the call entered the app."""
        await self._on(channel, "the answer", self._answered)

    async def detected(self, channel: str, status: str, cause: str) -> None:
        """Back in the app from the answering-machine detection with its verdict (AMDSTATUS, AMDCAUSE)."""
        await self._on(channel, "the machine detection", lambda call: self._detected(call, status, cause))

    async def key(self, channel: str, digit: str) -> None:
        """The callee pressed a key."""
        await self._on(channel, "a key", lambda call: self._key(call, digit))

    async def playback_finished(self, channel: str, playback: str) -> None:
        """A playback on the call ended (played through or stopped)."""
        await self._on(channel, "a playback's end", lambda call: self._played(call, playback))

    async def destroyed(self, channel: str, cause: int) -> None:
        """The channel is gone; if it was never answered, its hang-up cause says why."""

        async def gone(call: Call) -> None:
            heard = Outcome.ANSWERED if call.answered else outcome_of_cause(cause)
            await self._finish(call, call.outcome or heard)

        await self._on(channel, "the hang-up", gone)

    async def left_app(self, channel: str) -> None:
        """The call left the app: hung up, or sent on by us."""

        async def left(call: Call) -> None:
            # Gone to the machine detection (it comes back) or to the ACD (it holds its room on the trunk until it
            # ends); the app subscribed to the channel before it left, so its end is still seen.
            if not call.detecting and not call.handed:
                await self._finish(call, call.outcome or Outcome.ANSWERED)

        await self._on(channel, "the end in the app", left)

    async def _on(self, channel: str, what: str, step: Callable[[Call], Awaitable[None]]) -> None:
        """One event of a call still in flight, under its lock (its timers take it too), in its log context."""
        call = self.calls.get(channel)
        if call is None:
            return
        with call_context(call.channel):
            try:
                async with call.lock:
                    if call.ended:
                        return
                    await step(call)
            except Exception:
                # The callee must never be left in silence for a fault of ours: end the call, report what we know.
                log.exception("attempt %d: handling %s", call.attempt.id, what)
                with contextlib.suppress(Exception):
                    await self.ari.hangup(call.channel)

    # -- the notice and the keys ---------------------------------------------------------------------------------

    async def _answered(self, call: Call) -> None:
        call.answered = True
        log.info("attempt %d: answered", call.attempt.id)
        lang = language_of(call.attempt.language)
        with contextlib.suppress(AriError):
            await self.ari.request("POST", f"/channels/{call.channel}/variable", variable="CHANNEL(language)",
                                   value=lang)  # fmt: skip
        if self.service.policy.machines.detect:
            try:
                await self._detect(call)
                return
            except AriError as exc:
                # The notice matters more than the detection: a person may be listening.
                call.detecting = False
                log.warning("attempt %d: no machine detection (%s); playing the notice", call.attempt.id, exc)
        await self._play_notice(call)

    async def _detect(self, call: Call) -> None:
        """Out of the app to Asterisk's AMD (dialplans/outbound.conf), which sends the call back with its verdict.
        The app stays subscribed to the channel meanwhile, so that a hang-up or a key is still seen."""
        await self.ari.request("POST", f"/applications/{self.app}/subscription", eventSource=f"channel:{call.channel}")
        await self.ari.request("POST", f"/channels/{call.channel}/variable", variable="HOTLINE_CAMPAIGN_ATTEMPT",
                               value=str(call.attempt.id))  # fmt: skip
        call.detecting = True
        await self.ari.continue_in_dialplan(call.channel, DETECTION_CONTEXT)

    async def _detected(self, call: Call, status: str, cause: str) -> None:
        """Back from AMD. A machine hears the shorter message once and is hung up on; a person (or a callee who
        pressed a key meanwhile) hears the notice, and a 0 pressed during the detection is acted on."""
        call.detecting = False
        call.machine = not call.early_keys and self.service.policy.machines.is_machine(status, cause)
        log.info("attempt %d: AMD says %s %s -> %s", call.attempt.id, status, cause,
                 "machine" if call.machine else "person")  # fmt: skip
        if call.machine:
            call.outcome = Outcome.MACHINE
            await self._report(call)
            a = call.attempt
            lang = language_of(a.language)
            names = notice_prompts(a.kind, a.message, lang, self.service.clock(), self.speech, machine=True)
            call.closing = f"outmachine-{a.id}-{uuid.uuid4().hex[:6]}"
            await self.ari.play(call.channel, _sounds(names, lang), call.closing)
            return
        await self._play_notice(call)
        if "0" in call.early_keys:
            # Asked for a person before the notice began; 1 and 2 mean nothing before anything was heard.
            await self._to_agent(call)

    async def _play_notice(self, call: Call) -> None:
        self._cancel_key_timer(call)
        call.plays += 1
        a = call.attempt
        lang = language_of(a.language)
        names = notice_prompts(a.kind, a.message, lang, self.service.clock(), self.speech)
        call.playback = f"outpb-{a.id}-{call.plays}-{uuid.uuid4().hex[:6]}"
        await self.ari.play(call.channel, _sounds(names, lang), call.playback)

    async def _played(self, call: Call, playback: str) -> None:
        if playback and playback == call.closing:
            with contextlib.suppress(AriError):
                await self.ari.hangup(call.channel)
        elif playback and playback == call.playback:
            call.playback = None
            call.key_timer = self._spawn(call, self._no_key(call), "key-timer")

    async def _no_key(self, call: Call) -> None:
        """The notice ended: a callee who presses nothing in key_wait_s is thanked and hung up on."""
        await asyncio.sleep(self.key_wait_s)
        async with call.lock:
            if not call.ended and call.outcome is None and call.playback is None:
                await self._close(call, Outcome.ANSWERED, "outbound/goodbye")

    def _cancel_key_timer(self, call: Call) -> None:
        if call.key_timer is not None and call.key_timer is not asyncio.current_task():
            call.key_timer.cancel()
        call.key_timer = None

    async def _key(self, call: Call, digit: str) -> None:
        if call.detecting:
            call.early_keys += digit
            return
        if not call.answered or call.outcome is not None or digit not in "120":
            return  # a key after the choice, or one that means nothing here
        if digit == "1":
            if call.plays >= MAX_PLAYS:
                return
            await self._stop_playback(call)
            await self._play_notice(call)
        elif digit == "2":
            await self._close(call, Outcome.CONFIRMED, "outbound/confirmed")
        else:
            await self._to_agent(call)

    async def _stop_playback(self, call: Call) -> None:
        playback, call.playback = call.playback, None
        if playback is not None:
            with contextlib.suppress(AriError):
                await self.ari.stop_playback(playback)

    async def _close(self, call: Call, outcome: Outcome, goodbye: str) -> None:
        """Decided: report it now (the callee may hang up during the goodbye), say goodbye, then hang up."""
        self._cancel_key_timer(call)
        await self._stop_playback(call)
        call.outcome = outcome
        await self._report(call)
        lang = language_of(call.attempt.language)
        call.closing = f"outbye-{call.attempt.id}-{uuid.uuid4().hex[:6]}"
        try:
            await self.ari.play(call.channel, _sounds([goodbye], lang), call.closing)
        except AriError:
            with contextlib.suppress(AriError):
                await self.ari.hangup(call.channel)

    async def _to_agent(self, call: Call) -> None:
        """The callee asked for a person: on to the ACD's entry with what the campaign knows, as an IVR hand-off."""
        self._cancel_key_timer(call)
        await self._stop_playback(call)
        a = call.attempt
        account = a.message.account_number if isinstance(a.message, BillMessage) else ""
        variables = {
            "HOTLINE_INTENT": INTENTS.get(a.kind, Intent.GENERAL),
            "HOTLINE_TIER": "standard",  # key accounts are never robot-called: their manager tells them
            "HOTLINE_ACCOUNT": account,
            "HOTLINE_MANAGER": "",
            "HOTLINE_LINE": "outbound",
            "HOTLINE_CAMPAIGN": str(a.campaign_id),
            "HOTLINE_CAMPAIGN_KIND": a.kind.value,
            "HOTLINE_CAMPAIGN_ATTEMPT": str(a.id),
        }
        # The ACD and the screen-pop know a caller by number: the callee's, not the hotline's own caller id.
        variables["CALLERID(num)"] = a.phone
        try:
            for name, value in variables.items():
                await self.ari.request("POST", f"/channels/{call.channel}/variable", variable=name, value=value)
            # The call stays up on the carrier trunk with the agent: its end is still needed for the trunk's count.
            await self.ari.request("POST", f"/applications/{self.app}/subscription",
                                   eventSource=f"channel:{call.channel}")  # fmt: skip
            call.handed = True
            await self.ari.continue_in_dialplan(call.channel, "acd-entry")
        except AriError as exc:
            # The callee heard the notice all the same: thank them rather than leave them in silence.
            call.handed = False
            log.warning("attempt %d: could not hand over to the ACD (%s)", a.id, exc)
            await self._close(call, Outcome.ANSWERED, "outbound/goodbye")
            return
        call.outcome = Outcome.TO_AGENT
        log.info("attempt %d: to an agent (intent %s)", a.id, variables["HOTLINE_INTENT"])
        await self._report(call)

    # -- the end of a call ---------------------------------------------------------------------------------------

    async def _report(self, call: Call) -> None:
        if call.reported or call.outcome is None:
            return
        call.reported = True
        outcome = call.outcome
        # A busy database (SQLite's one writer) is tried again: a report that never lands lapses into a lost
        # attempt, and the callee would be called a second time.
        for wait in (0.5, 1.0, 2.0, None):
            try:
                recorded = await asyncio.to_thread(self.service.record_outcome, call.attempt, outcome)
            except Exception:
                if wait is None:
                    log.exception("attempt %d: recording %s; its claim will lapse", call.attempt.id, outcome.value)
                    return
                log.warning("attempt %d: recording %s failed; trying again", call.attempt.id, outcome.value)
                await asyncio.sleep(wait)
            else:
                log.info("attempt %d: %s; callee now %s", call.attempt.id, outcome.value, recorded.callee_state.value)
                return

    async def _finish(self, call: Call, outcome: Outcome) -> None:
        """The call is over for the dialler: reported once, and its room on the trunk given back."""
        if call.ended:
            return
        call.ended = True
        self._cancel_key_timer(call)
        if call.outcome is None:
            call.outcome = outcome
        await self._report(call)
        self.calls.pop(call.channel, None)
        self.ended(call)

    # -- stopping --------------------------------------------------------------------------------------------------

    def in_flight(self) -> bool:
        """Whether a call is still the dialler's: placed and not yet over, nor handed to the ACD."""
        return any(not call.handed for call in self.calls.values())

    async def hang_up_all(self) -> None:
        """Hang up every call still the dialler's; each is then reported as its end arrives."""
        if not self.calls:
            return
        log.info("stopping: hanging up %d call(s) in flight", len(self.calls))
        for call in list(self.calls.values()):
            if not call.handed:  # a callee with an agent is the ACD's now
                with contextlib.suppress(AriError):
                    await self.ari.hangup(call.channel)

    def _spawn(self, call: Call, work: Coroutine[Any, Any, None], what: str) -> asyncio.Task[None]:
        """Start a task for a call: kept in `tasks` until it ends, its lines tagged with the call's uniqueid, and its
        failure logged rather than lost with it."""
        with call_context(call.channel):
            # The task runs in a copy of this context: whatever it logs carries the uniqueid.
            task = asyncio.create_task(work, name=f"{what}-{call.channel}")
        self.tasks.add(task)
        task.add_done_callback(functools.partial(self._task_ended, call, what))
        return task

    def _task_ended(self, call: Call, what: str, task: asyncio.Task[None]) -> None:
        self.tasks.discard(task)
        if task.cancelled():
            return
        failure = task.exception()
        if failure is not None:
            with call_context(call.channel):
                log.error("attempt %d: the call's %s failed", call.attempt.id, what, exc_info=failure)
