"""The outbound dialler (外呼): claims callees from the campaign service, calls them on the carrier trunk at the
trunk's pace through the Stasis app `hotline-outbound`, plays each their notice, reads their key, and reports how
the call ended with `CampaignService.record_outcome`.

One call: the callee's channel is originated into the app (channel id `outbound-<attempt>-<token>`, arguments
`attempt,<id>`), so the app sees it only once it is answered (StasisStart); a channel destroyed before that is a call
that never got through, and its hang-up cause says why (busy, no answer, an invalid number, a failure). Answered:
the notice is played in the callee's language with its figures (times, amounts, dates, the account's last four
digits) as the IVR's prompt fragments; then 1 repeats it, 2 confirms it, 0 hands the callee to the ACD through
`[acd-entry]` with the campaign's intent; silence thanks them and hangs up. Whatever happens, the attempt is reported
exactly once: a report that never came (a crash) is released by the service as lost after its claim timeout.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Protocol

from campaigns.messages import BillMessage, Message, OutageMessage, RestorationMessage
from campaigns.pacing import Pacer
from campaigns.records import Attempt
from campaigns.rules import CampaignKind, Outcome
from campaigns.service import CampaignService
from cti.ari import Ari, AriError, wait_until_up
from reporting import periods

log = logging.getLogger(__name__)

APP = "hotline-outbound"
CHANNEL_PREFIX = "outbound-"
LANGUAGES = ("zh", "en")
# How the hotline presents itself to the callee.
CALLER_ID = '"95598" <95598>'
# The ACD's intent for a callee who asks for a person: the agent's workflow and screen-pop follow it.
INTENTS: Mapping[CampaignKind, str] = {
    CampaignKind.PLANNED_OUTAGE: "outage",
    CampaignKind.RESTORATION: "outage",
    CampaignKind.BILL_REMINDER: "billing",
    CampaignKind.ARREARS_NOTICE: "billing",
}
# Where answered calls go for answering-machine detection (dialplans/outbound.conf).
DETECTION_CONTEXT = "outbound-amd"
# The most times a callee may hear the notice (1 repeats it); more keys of 1 are ignored.
MAX_PLAYS = 4

# Hang-up causes (Q.850) of calls that never got through.
_BUSY = frozenset({17})  # user busy: the callee rejected it (486) or was on the phone
_NO_ANSWER = frozenset({18, 19, 20})  # no user responding, no answer, subscriber absent
_INVALID = frozenset({1, 3, 22, 28})  # unallocated number, no route, number changed, invalid format


def outcome_of_cause(cause: int) -> Outcome:
    """How a call that was never answered ended, from its hang-up cause."""
    if cause in _BUSY:
        return Outcome.BUSY
    if cause in _NO_ANSWER:
        return Outcome.NO_ANSWER
    if cause in _INVALID:
        return Outcome.INVALID_NUMBER
    return Outcome.FAILED


class Speech(Protocol):
    """How figures are said as prompt fragments: ivr/speech.py, which app.py passes (cti does not import ivr)."""

    def money(self, fen: int, language: str) -> list[str]: ...

    def digits(self, text: str, language: str) -> list[str]: ...

    def day(self, d: date, language: str, today: date) -> list[str]: ...

    def moment(self, when: datetime, language: str, now: datetime) -> list[str]: ...


def notice_prompts(
    kind: CampaignKind, message: Message, language: str, now: datetime, speech: Speech, *, machine: bool = False
) -> list[str]:
    """The notice as prompt names (hotline/<lang>/<name>), the figures filled in, the keys to press at the end. For
    an answering `machine`, the shorter message: no keys to press, and no bill figures (a recording may be heard by
    anyone in the house): only that there is a notice about the bill and to call 95598."""
    lang = language if language in LANGUAGES else "zh"
    say: list[str] = ["outbound/machine_greeting" if machine else "outbound/greeting"]
    if isinstance(message, OutageMessage):
        say += ["outbound/planned_from", *speech.moment(message.starts_at, lang, now)]
        if message.ends_at is not None:
            say += ["outbound/planned_to", *speech.moment(message.ends_at, lang, now)]
        say += ["outbound/planned_off"]
    elif isinstance(message, RestorationMessage):
        say += ["outbound/restored_at", *speech.moment(message.restored_at, lang, now), "outbound/restored"]
    elif isinstance(message, BillMessage) and machine:
        say += ["outbound/machine_bill"]
    elif isinstance(message, BillMessage):
        today = periods.local_day(now)
        say += ["outbound/account_tail", *speech.digits(message.account_tail, lang)]
        if kind is CampaignKind.ARREARS_NOTICE:
            say += ["outbound/arrears_amount", *speech.money(message.amount_fen, lang)]
            say += ["outbound/arrears_due", *speech.day(message.due_date, lang, today), "outbound/arrears_pay"]
        else:
            say += ["outbound/bill_amount", *speech.money(message.amount_fen, lang)]
            say += ["outbound/bill_due", *speech.day(message.due_date, lang, today)]
    return [*say, "outbound/machine_end" if machine else "outbound/keys"]


def masked(phone: str) -> str:
    """A phone number for the logs: the last four digits only."""
    return f"***{phone[-4:]}" if len(phone) > 4 else "***"


@dataclass
class _Call:
    """One attempt's call as the dialler follows it."""

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


class Dialler:
    """The dialler process's logic: one per process, holding the Stasis app `app`. `service` claims and records;
    `speech` says figures; `trunks` maps a campaign trunk's name (campaigns/policy.toml) to the PJSIP endpoint calls
    leave by (asterisk-conf/pjsip.conf: `trunk`)."""

    def __init__(
        self,
        ari: Ari,
        service: CampaignService,
        speech: Speech,
        *,
        app: str = APP,
        trunks: Mapping[str, str] | None = None,
        ring_timeout_s: int = 30,
        key_wait_s: float = 6.0,
        poll_s: float = 0.5,
        max_call_s: float = 240.0,
        drain_s: float = 8.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.ari = ari
        self.service = service
        self.speech = speech
        self.app = app
        self.endpoints = dict(trunks or {})
        self.ring_timeout_s = ring_timeout_s
        self.key_wait_s = key_wait_s
        self.poll_s = poll_s
        self.max_call_s = max_call_s
        self.drain_s = drain_s
        self.pacers = {name: Pacer(pace, clock) for name, pace in service.policy.trunks.items()}
        self.calls: dict[str, _Call] = {}
        self.connected = asyncio.Event()
        self._room = {name: asyncio.Event() for name in self.pacers}
        self._tasks: set[asyncio.Task[Any]] = set()
        # Every call start, (trunk, monotonic seconds): the pace as it was kept, for the monitor and the tests.
        self.starts: list[tuple[str, float]] = []
        # Claims that found nobody to call now (nothing due, paused, outside the hours): a running, idle dialler.
        self.idle_claims = 0

    def endpoint(self, trunk: str, phone: str) -> str:
        return f"PJSIP/{phone}@{self.endpoints.get(trunk, 'trunk')}"

    async def run(self) -> None:
        await wait_until_up(self.ari)
        events = asyncio.create_task(self._events(), name="outbound-events")
        dialling = [asyncio.create_task(self._dial(trunk), name=f"outbound-{trunk}") for trunk in self.pacers]
        try:
            # Not gather: cancelling a gather cancels its tasks, and the events are still needed while draining.
            done, _ = await asyncio.wait([events, *dialling], return_when=asyncio.FIRST_EXCEPTION)
            for task in done:
                task.result()  # they run until cancelled: one that ended raised, and says why
        finally:
            for task in dialling:
                task.cancel()
            await asyncio.gather(*dialling, return_exceptions=True)
            # Stopped: nobody new is called, and the calls in flight are reported, so that none lapses into a lost
            # attempt whose callee would be called again.
            with contextlib.suppress(asyncio.CancelledError, TimeoutError):
                await asyncio.wait_for(self._drain(), self.drain_s + 5)
            pending = [events, *self._tasks]
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)

    async def _drain(self) -> None:
        """Let the calls in flight end by themselves for up to drain_s, then hang up the rest and wait for their
        reports: answered ones as answered, the others by their hang-up cause (and so tried again by the policy)."""
        deadline = time.monotonic() + self.drain_s
        while any(not c.handed for c in self.calls.values()) and time.monotonic() < deadline:
            await asyncio.sleep(0.2)
        if self.calls:
            log.info("stopping: hanging up %d call(s) in flight", len(self.calls))
            for call in list(self.calls.values()):
                if not call.handed:  # a callee with an agent is the ACD's now
                    with contextlib.suppress(AriError):
                        await self.ari.hangup(call.channel)
        while any(not c.handed for c in self.calls.values()):
            await asyncio.sleep(0.1)

    # -- claiming and placing calls ----------------------------------------------------------------------------

    async def _dial(self, trunk: str) -> None:
        """Claim and place one call at a time, as the trunk's pacer allows: starts evenly spaced, never more than
        its calls up at once."""
        pacer = self.pacers[trunk]
        room = self._room[trunk]
        # Claiming takes a few milliseconds of database work. Claimed only once the start was due, every start
        # would come that much late and the trunk would run below its pace (4.79/s of 5 in bench/campaign_bench.py),
        # so the claim begins `lead` ahead of the start: about what the recent claims took, at most half a spacing.
        lead = 0.0
        while True:
            if not self.connected.is_set():
                await self.connected.wait()
                continue
            delay = pacer.delay()
            if delay is None:
                room.clear()
                await room.wait()
                continue
            if delay > lead:
                await asyncio.sleep(delay - lead)
                continue
            claiming = time.monotonic()
            try:
                attempts = await asyncio.to_thread(self.service.next_attempts, limit=1, trunk=trunk)
            except Exception:
                log.exception("claiming callees on trunk %s", trunk)
                attempts = []
            took = time.monotonic() - claiming
            lead = min(0.8 * lead + 0.2 * took, pacer.pace.spacing / 2)
            if not attempts:
                self.idle_claims += 1
                await asyncio.sleep(self.poll_s)
                continue
            # Only this loop starts calls on the trunk, so there is still room: wait for the start to be due.
            while (delay := pacer.delay() or 0.0) > 0:
                await asyncio.sleep(delay)
            pacer.start()
            self.starts.append((trunk, pacer.clock()))
            await self._place(attempts[0], trunk)

    async def _place(self, attempt: Attempt, trunk: str) -> None:
        channel = f"{CHANNEL_PREFIX}{attempt.id}-{uuid.uuid4().hex[:8]}"
        call = _Call(attempt, channel, trunk, time.monotonic())
        self.calls[channel] = call
        log.info(
            "attempt %d: calling %s (campaign %d, try %d)", attempt.id, masked(attempt.phone), attempt.campaign_id,
            attempt.number,
        )  # fmt: skip
        if not attempt.phone.lstrip("+").isdigit():
            await self._finish(call, Outcome.INVALID_NUMBER)
            return
        try:
            await self.ari.originate(
                self.endpoint(trunk, attempt.phone), self.app, f"attempt,{attempt.id}", channel, self.ring_timeout_s,
                CALLER_ID,
            )  # fmt: skip
        except Exception as exc:
            log.warning("attempt %d: the call could not be placed (%s)", attempt.id, exc)
            await self._finish(call, Outcome.FAILED)
            return
        self._spawn(self._watch(call))

    async def _watch(self, call: _Call) -> None:
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

    # -- events --------------------------------------------------------------------------------------------------

    async def _events(self) -> None:
        while True:
            try:
                async with self.ari.event_socket([self.app]) as events:
                    self.connected.set()
                    log.info("holding %s", self.app)
                    async for evt in events:
                        await self.handle(evt)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("ARI events connection lost (%s); reconnecting", exc)
            self.connected.clear()
            await asyncio.sleep(0.5)

    async def handle(self, evt: dict[str, Any]) -> None:
        """One ARI event of the app, in arrival order."""
        kind = evt.get("type")
        if kind == "PlaybackFinished":
            target = str((evt.get("playback") or {}).get("target_uri", ""))
            channel = target.removeprefix("channel:")
        else:
            channel = str((evt.get("channel") or {}).get("id", ""))
        call = self.calls.get(channel)
        if call is None:
            return
        try:
            async with call.lock:
                if call.ended:
                    return
                if kind == "StasisStart":
                    args = [str(a) for a in evt.get("args", [])]
                    if args[:1] == ["amd"]:
                        verdict, why = [*args, "", "", ""][2:4]
                        await self._detected(call, verdict, why)
                    else:
                        await self._answered(call)
                elif kind == "ChannelDtmfReceived":
                    await self._key(call, str(evt.get("digit", "")))
                elif kind == "PlaybackFinished":
                    await self._played(call, str((evt.get("playback") or {}).get("id", "")))
                elif kind == "ChannelDestroyed":
                    cause = int(evt.get("cause", 0) or 0)
                    await self._finish(call, call.outcome or self._unanswered_or_heard(call, cause))
                elif kind == "StasisEnd" and (call.detecting or call.handed):
                    # Gone to the machine detection (it comes back) or to the ACD (it holds its room on the trunk until
                    # it ends); the app subscribed to the channel before it left, so its end is still seen.
                    pass
                elif kind == "StasisEnd":
                    await self._finish(call, call.outcome or Outcome.ANSWERED)
        except Exception:
            # The callee must never be left in silence for a fault of ours: end the call, report what we know.
            log.exception("attempt %d: handling %s", call.attempt.id, kind)
            with contextlib.suppress(Exception):
                await self.ari.hangup(call.channel)

    @staticmethod
    def _unanswered_or_heard(call: _Call, cause: int) -> Outcome:
        return Outcome.ANSWERED if call.answered else outcome_of_cause(cause)

    async def _answered(self, call: _Call) -> None:
        call.answered = True
        log.info("attempt %d: answered", call.attempt.id)
        lang = call.attempt.language if call.attempt.language in LANGUAGES else "zh"
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

    async def _detect(self, call: _Call) -> None:
        """Out of the app to Asterisk's AMD (dialplans/outbound.conf), which sends the call back with its verdict.
        The app stays subscribed to the channel meanwhile, so that a hang-up or a key is still seen."""
        await self.ari.request("POST", f"/applications/{self.app}/subscription", eventSource=f"channel:{call.channel}")
        await self.ari.request("POST", f"/channels/{call.channel}/variable", variable="HOTLINE_CAMPAIGN_ATTEMPT",
                               value=str(call.attempt.id))  # fmt: skip
        call.detecting = True
        await self.ari.continue_in_dialplan(call.channel, DETECTION_CONTEXT)

    async def _detected(self, call: _Call, status: str, cause: str) -> None:
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
            lang = a.language if a.language in LANGUAGES else "zh"
            names = notice_prompts(a.kind, a.message, lang, self.service.clock(), self.speech, machine=True)
            call.closing = f"outmachine-{a.id}-{uuid.uuid4().hex[:6]}"
            await self.ari.play(call.channel, ",".join(f"sound:hotline/{lang}/{n}" for n in names), call.closing)
            return
        await self._play_notice(call)
        if "0" in call.early_keys:
            # Asked for a person before the notice began; 1 and 2 mean nothing before anything was heard.
            await self._to_agent(call)

    async def _play_notice(self, call: _Call) -> None:
        self._cancel_key_timer(call)
        call.plays += 1
        a = call.attempt
        lang = a.language if a.language in LANGUAGES else "zh"
        names = notice_prompts(a.kind, a.message, lang, self.service.clock(), self.speech)
        call.playback = f"outpb-{a.id}-{call.plays}-{uuid.uuid4().hex[:6]}"
        await self.ari.play(call.channel, ",".join(f"sound:hotline/{lang}/{n}" for n in names), call.playback)

    async def _played(self, call: _Call, playback: str) -> None:
        if playback and playback == call.closing:
            with contextlib.suppress(AriError):
                await self.ari.hangup(call.channel)
        elif playback and playback == call.playback:
            call.playback = None
            call.key_timer = asyncio.create_task(self._no_key(call))

    async def _no_key(self, call: _Call) -> None:
        await asyncio.sleep(self.key_wait_s)
        async with call.lock:
            if not call.ended and call.outcome is None and call.playback is None:
                await self._close(call, Outcome.ANSWERED, "outbound/goodbye")

    def _cancel_key_timer(self, call: _Call) -> None:
        if call.key_timer is not None and call.key_timer is not asyncio.current_task():
            call.key_timer.cancel()
        call.key_timer = None

    async def _key(self, call: _Call, digit: str) -> None:
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

    async def _stop_playback(self, call: _Call) -> None:
        playback, call.playback = call.playback, None
        if playback is not None:
            with contextlib.suppress(AriError):
                await self.ari.stop_playback(playback)

    async def _close(self, call: _Call, outcome: Outcome, goodbye: str) -> None:
        """Decided: report it now (the callee may hang up during the goodbye), say goodbye, then hang up."""
        self._cancel_key_timer(call)
        await self._stop_playback(call)
        call.outcome = outcome
        await self._report(call)
        lang = call.attempt.language if call.attempt.language in LANGUAGES else "zh"
        call.closing = f"outbye-{call.attempt.id}-{uuid.uuid4().hex[:6]}"
        try:
            await self.ari.play(call.channel, f"sound:hotline/{lang}/{goodbye}", call.closing)
        except AriError:
            with contextlib.suppress(AriError):
                await self.ari.hangup(call.channel)

    async def _to_agent(self, call: _Call) -> None:
        """The callee asked for a person: on to the ACD's entry with what the campaign knows, as an IVR hand-off."""
        self._cancel_key_timer(call)
        await self._stop_playback(call)
        a = call.attempt
        account = a.message.account_number if isinstance(a.message, BillMessage) else ""
        variables = {
            "HOTLINE_INTENT": INTENTS.get(a.kind, "general"),
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

    async def _report(self, call: _Call) -> None:
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

    async def _finish(self, call: _Call, outcome: Outcome) -> None:
        """The call is over for the dialler: reported once, and its room on the trunk given back."""
        if call.ended:
            return
        call.ended = True
        self._cancel_key_timer(call)
        if call.outcome is None:
            call.outcome = outcome
        await self._report(call)
        self.calls.pop(call.channel, None)
        self.pacers[call.trunk].ended()
        self._room[call.trunk].set()

    def _spawn(self, coro: Any) -> None:
        task = asyncio.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
