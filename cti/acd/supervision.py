"""Supervision of a connected call: a supervisor's seat rings, then listens (hears both), whispers to the agent
(heard by the agent only) or barges in (joins the conversation); it ends with the call, a transfer, or the
supervisor hanging up."""

from __future__ import annotations

import contextlib
import logging

from cti.acd.base import AcdBase
from cti.acd.calls import now_ms
from cti.acd.store import Refused
from cti.ari import AriError
from hotline.events import event

log = logging.getLogger(__name__)

# How a supervisor takes part: listen (hears both), whisper (hears both, is heard by the agent only), barge (joins
# the conversation).
SUPERVISION_MODES = ("listen", "whisper", "barge")
# Seconds a supervisor's seat rings before the supervision is given up.
SUPERVISOR_RING_S = 20


class Supervision(AcdBase):
    """Listening, whispering and barging in, from the supervisor's request to the end of the supervision."""

    async def supervise(self, call: str, seat: str, mode: str, by: str = "") -> tuple[bool, str]:
        """Ring a supervisor's seat to listen to, whisper to the agent of, or barge into a connected call. Returns
        (True, the supervision's id) once the seat rings, or (False, why not). The supervision begins when the
        supervisor answers (supervise.start) and ends with the call, a transfer, or the supervisor hanging up."""
        if mode not in SUPERVISION_MODES:
            return False, f"unknown supervision mode {mode!r}"
        state = await self.ari.endpoint_state("PJSIP", seat)
        if state is None:
            return False, f"no seat {seat}"
        if state != "online":
            return False, f"seat {seat} is not registered"
        start = await self.store.start_supervision(call, mode, seat, by, now_ms())
        if isinstance(start, Refused):
            return False, start.reason
        try:
            await self.ari.originate(
                endpoint=f"PJSIP/{seat}",
                app=start.app,
                app_args=f"supervise,{call},{start.supervision}",
                channel_id=start.leg,
                timeout=SUPERVISOR_RING_S,
                caller_id=f'"{mode} {start.agent}" <{start.caller}>',
                originator=call,
            )
        except AriError as exc:
            log.warning("ringing supervisor seat %s failed: %r", seat, exc)
            await self.end_supervision(start.supervision, "failed")
            return False, f"seat {seat} cannot be rung"
        return True, start.supervision

    async def supervisor_answered(self, supervision: str, channel: str) -> None:
        """The supervisor's seat answered: barge joins the call's bridge; listen and whisper snoop on the agent's
        leg, and are bridged with the snoop when it enters the app (snoop_started)."""
        record = await self.store.supervision(supervision)
        fields = await self.store.call(record["call"]) if record else {}
        if not record or fields.get("state") != "connected" or fields.get("agent") != record.get("agent"):
            # The call ended, or moved to another agent, while the supervisor's seat rang.
            await self.end_supervision(supervision, "call_ended")
            await self._hangup(channel)
            return
        call = record["call"]
        try:
            if record["mode"] == "barge":
                await self.ari.add_to_bridge(fields["bridge"], [channel])
                await self._supervision_started(supervision, "", fields["bridge"])
            else:
                await self.ari.snoop(
                    fields["leg"],
                    app=fields["app"],
                    app_args=f"snoop,{call},{supervision}",
                    snoop_id=f"acdsnoop-{supervision}-{call}",
                    spy="both",
                    # Whisper: what the supervisor says goes out toward the agent's phone, not to the caller.
                    whisper="out" if record["mode"] == "whisper" else "none",
                )
        except (AriError, KeyError) as exc:
            log.warning("supervision %s of call %s failed: %r", supervision, call, exc)
            await self.end_supervision(supervision, "failed")

    async def snoop_started(self, supervision: str, snoop: str) -> None:
        """The snoop on the agent's leg entered the app: bridge it with the supervisor."""
        record = await self.store.supervision(supervision)
        if record.get("state") != "ringing":
            await self._hangup(snoop)
            return
        bridge = f"acdspy-{supervision}-{record['call']}"
        try:
            await self.ari.create_bridge(bridge)
            await self.ari.add_to_bridge(bridge, [snoop, record["leg"]])
        except AriError as exc:
            log.warning("bridging supervision %s failed: %r", supervision, exc)
            await self.end_supervision(supervision, "failed")
            return
        await self._supervision_started(supervision, snoop, bridge)

    async def _supervision_started(self, supervision: str, snoop: str, bridge: str) -> None:
        if not await self.store.supervision_active(supervision, now_ms(), snoop, bridge):
            # It ended while being set up: undo what the ending could not know of yet.
            if snoop:
                await self._hangup(snoop)
                with contextlib.suppress(AriError):
                    await self.ari.destroy_bridge(bridge)
            return
        record = await self.store.supervision(supervision)
        await self.notifier.publish(
            event(
                "supervise.start",
                record.get("call"),
                None,
                record.get("agent"),
                supervision=supervision,
                mode=record.get("mode"),
                seat=record.get("seat"),
                by=record.get("by"),
            )
        )

    async def end_supervision(self, supervision: str, reason: str) -> bool:
        """End a supervision (once): the supervisor's leg, the snoop and their bridge go. False if it had ended."""
        record = await self.store.end_supervision(supervision)
        if record is None:
            return False
        call = record.get("call", "")
        await self._hangup(record.get("leg", ""))
        if record.get("mode") != "barge":
            await self._hangup(f"acdsnoop-{supervision}-{call}")
            with contextlib.suppress(AriError):
                await self.ari.destroy_bridge(f"acdspy-{supervision}-{call}")
        started = int(record.get("started") or 0)
        await self.notifier.publish(
            event(
                "supervise.end",
                call,
                None,
                record.get("agent"),
                supervision=supervision,
                mode=record.get("mode"),
                seat=record.get("seat"),
                by=record.get("by"),
                reason=reason,
                started=bool(started),
                duration_s=round((now_ms() - started) / 1000, 3) if started else 0,
            )
        )
        return True

    async def _end_supervisions(self, call: str, reason: str) -> None:
        for supervision in await self.store.supervisions_of(call):
            await self.end_supervision(supervision, reason)
