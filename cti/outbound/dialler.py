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

This module is the process's loop (claiming at each trunk's pace, the app's events socket, the drain at stop);
what happens to a call is services.py, the events reach it through stasis.py, and the rules are rules.py.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Mapping
from typing import Any

from campaigns.pacing import Pacer
from campaigns.service import CampaignService
from cti.ari import Ari, wait_until_up
from cti.outbound.rules import Speech
from cti.outbound.services import Call, OutboundCalls
from cti.outbound.stasis import StasisEvents

log = logging.getLogger(__name__)

APP = "hotline-outbound"


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
        self.app = app
        self.poll_s = poll_s
        self.drain_s = drain_s
        self.pacers = {name: Pacer(pace, clock) for name, pace in service.policy.trunks.items()}
        self.outbound = OutboundCalls(
            ari, service, speech, app=app, ended=self._call_ended, trunks=trunks, ring_timeout_s=ring_timeout_s,
            key_wait_s=key_wait_s, max_call_s=max_call_s,
        )  # fmt: skip
        self.events = StasisEvents(self.outbound)
        self.connected = asyncio.Event()
        self._room = {name: asyncio.Event() for name in self.pacers}
        # Every call start, (trunk, monotonic seconds): the pace as it was kept, for the monitor and the tests.
        self.starts: list[tuple[str, float]] = []
        # Claims that found nobody to call now (nothing due, paused, outside the hours): a running, idle dialler.
        self.idle_claims = 0

    @property
    def calls(self) -> Mapping[str, Call]:
        """The calls in flight, by channel id."""
        return self.outbound.calls

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
            pending: list[asyncio.Task[Any]] = [events, *self.outbound.tasks]
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)

    async def _drain(self) -> None:
        """Let the calls in flight end by themselves for up to drain_s, then hang up the rest and wait for their
        reports: answered ones as answered, the others by their hang-up cause (and so tried again by the policy)."""
        deadline = time.monotonic() + self.drain_s
        while self.outbound.in_flight() and time.monotonic() < deadline:
            await asyncio.sleep(0.2)
        await self.outbound.hang_up_all()
        while self.outbound.in_flight():
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
            await self.outbound.place(attempts[0], trunk)

    def _call_ended(self, call: Call) -> None:
        """A call is over and reported: its room on the trunk is given back."""
        self.pacers[call.trunk].ended()
        self._room[call.trunk].set()

    # -- events --------------------------------------------------------------------------------------------------

    async def _events(self) -> None:
        while True:
            try:
                async with self.ari.event_socket([self.app]) as events:
                    self.connected.set()
                    log.info("holding %s", self.app)
                    async for evt in events:
                        await self.events.handle(evt)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("ARI events connection lost (%s); reconnecting", exc)
            self.connected.clear()
            await asyncio.sleep(0.5)
