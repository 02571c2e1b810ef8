"""What names a call in the ACD: the caller as the IVR hands them over (Stasis arguments), and the ids of a call's
channels and bridges, which name the call so that Asterisk's events lead back to it without a lookup (store.py
documents them); and the ACD's clock, in milliseconds as Redis keeps times."""

from __future__ import annotations

import time
from dataclasses import dataclass

from crm.vocabulary import Intent


def now_ms() -> int:
    return int(time.time() * 1000)


@dataclass(frozen=True)
class Caller:
    """What the IVR learned about a caller, handed to the ACD as Stasis arguments."""

    channel: str
    app: str
    number: str
    intent: str = Intent.GENERAL
    tier: str = "standard"
    account: str = ""
    manager: str = ""
    language: str = "zh"
    # An outbound notice's callee put through to a person: the campaign attempt (crm campaign_attempts.id).
    campaign_attempt: str = ""

    @classmethod
    def from_args(cls, channel: str, app: str, number: str, args: list[str]) -> Caller:
        # Stasis(app,caller,intent,tier,account,manager,language,campaign_attempt): missing or empty arguments take
        # the defaults.
        f = (args + [""] * 7)[1:8]
        return cls(channel, app, number, f[0] or Intent.GENERAL, f[1] or "standard", f[2], f[3], f[4] or "zh", f[5])


def call_of_leg(channel_id: str) -> str | None:
    """The call an agent leg belongs to: store.py names legs acdleg-<token>-<call>."""
    if not channel_id.startswith("acdleg-"):
        return None
    return channel_id.split("-", 2)[2]


def bridge_of_leg(leg: str) -> str:
    """The bridge of an agent leg's conversation, acdbridge-<token>-<call>: one per conversation, so that a
    transferred caller's next conversation never meets the last one's bridge."""
    return "acdbridge-" + leg.removeprefix("acdleg-")


def supervision_of(channel_id: str) -> tuple[str, str] | None:
    """(supervision, call) of a supervisor's leg (acdsup-<id>-<call>) or of the snoop on the agent's leg
    (acdsnoop-<id>-<call>)."""
    kind, _, rest = channel_id.partition("-")
    supervision, _, call = rest.partition("-")
    if kind not in ("acdsup", "acdsnoop") or not supervision or not call:
        return None
    return supervision, call
