"""What a test phone is told and what it reports: a caller's script (the keys to press at each menu, a gate to
hold at, or HANG_UP), the record of a call, an agent's seat and a customer's phone on the carrier's side."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from baresip import UserAgent

# In a caller's script, the keys that mean "hang up here" instead of pressing anything.
HANG_UP = "hang up"
# How long after a call closes its phone waits for the IVR's report of its end (it comes within milliseconds).
IVR_END_S = 10.0


@dataclass
class Gate:
    """Keys a caller presses only once someone opens the gate: a caller that stays at a menu while a test looks at
    what the hotline shows about it, then goes on."""

    keys: str
    opened: threading.Event = field(default_factory=threading.Event)

    def open(self) -> None:
        self.opened.set()


# A caller's script: [(menu, keys), ...], each step "when the IVR waits at `menu`, press `keys`" (or HANG_UP, or
# the keys of a Gate once it opens).
Script = Sequence[tuple[str, "str | Gate"]]


@dataclass
class CallResult:
    """What happened to one call, as `app.py call` prints it."""

    uri: str
    established: bool = False
    failure: str | None = None
    sip_call_id: str | None = None
    setup_ms: float | None = None
    # time.monotonic() when the call was answered, to line it up with what seats saw
    answered_at: float | None = None
    dtmf_sent: str = ""
    # who ended the call: "caller" (this phone hung up) or "far end" (the hotline did)
    ended_by: str | None = None
    close_reason: str | None = None
    duration_s: float = 0.0
    heard_ms: int = 0
    # A scripted caller: the steps it took ("main_menu=3"), and why it stopped short of the end, if it did.
    steps_done: list[str] = field(default_factory=list)
    script_stopped: str | None = None
    # The events the hotline reported for the call (briefly), for a failure message.
    reported: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Seat:
    """An agent's softphone, registered on a seat. It answers every call after `answer_after` seconds (never, if
    None), or rejects it (486) if `reject` is set; with `talk_for` it hangs up that many seconds after answering.
    The behaviour can be changed between calls."""

    name: str
    ua: UserAgent
    answer_after: float | None = 0.0
    talk_for: float | None = None
    reject: bool = False
    answered: list[str] = field(default_factory=list)
    rejected: list[str] = field(default_factory=list)
    offered: list[str] = field(default_factory=list)
    # When (time.monotonic()) each call was offered to this seat, and when this seat hung up each call it ended.
    offered_at: list[float] = field(default_factory=list)
    hung_up_at: list[float] = field(default_factory=list)
    password: str = field(default="", repr=False)


@dataclass
class Callee:
    """A customer's phone on the carrier's side of the trunk, for the outbound dialler: the hotline's calls to
    `PJSIP/<number>@trunk` reach this stack addressed to `number`. `plan` says what it does with each call in turn
    ("answer", "reject" with 486, or "ring" until the hotline gives up); the last entry holds for any further
    call. Answering, it presses `keys` `key_after` seconds later and waits for the hotline to hang up. `ua` is
    the phone's own user agent (SipStack.callee), or the carrier's one shared by many numbers (SipStack.callees)."""

    number: str
    ua: UserAgent
    plan: list[str] = field(default_factory=lambda: ["answer"])
    keys: str = "2"
    key_after: float = 2.5
    listen: bool = True
    offered_at: list[float] = field(default_factory=list)
    answered: int = 0
    rejected: int = 0
    ended_by_far_end: int = 0
    heard_ms: list[int] = field(default_factory=list)  # per answered call that ended: how long audio was heard
