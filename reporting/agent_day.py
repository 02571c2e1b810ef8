"""An agent's day from the queue log: their wrap-ups and pauses (follow_agent) and the assessment of their calls
(座席考核, assess_agent), by the definitions in reporting/floor_figures.py's docstring. Pure, like the figures."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from reporting.queue_events import (
    ADDMEMBER,
    CONNECT,
    PAUSE,
    REMOVEMEMBER,
    UNPAUSE,
    WRAPUP,
)
from reporting.queue_rows import (
    AGENT_STATE_EVENTS,
    CONVERSATION_ENDS,
    LOGIN_PAUSE,
    Period,
    QueueRow,
    seconds_until,
)

# --- an agent's day: wrap-ups and pauses ---


@dataclass(frozen=True)
class WrapUp:
    callid: str  # the call it followed ("" if the agent's call is not among the rows read)
    start: datetime
    end: datetime | None  # None: still in wrap-up at the last row read


@dataclass(frozen=True)
class Pause:
    reason: str
    start: datetime
    end: datetime | None  # None: still paused at the last row read


@dataclass(frozen=True)
class AgentTimeline:
    wrap_ups: tuple[WrapUp, ...]
    pauses: tuple[Pause, ...]


def follow_agent(rows: Iterable[QueueRow], before: QueueRow | None = None) -> AgentTimeline:
    """An agent's wrap-ups and pauses from their rows in time order. `before` is their last change of state
    before the rows, if any: a pause it began is still running when the rows start (logged in, paused)."""
    wrap_ups: list[WrapUp] = []
    pauses: list[Pause] = []
    logged_in = before is not None and before.event != REMOVEMEMBER
    pause: tuple[str, datetime] | None = None
    if before is not None and before.event in (PAUSE, ADDMEMBER):
        pause = (before.data1 if before.event == PAUSE else LOGIN_PAUSE, before.time)
    wrap: tuple[str, datetime] | None = None
    call = ""
    for row in rows:
        event = row.event
        if event == CONNECT:
            call = row.callid
            continue
        if event not in AGENT_STATE_EVENTS:
            continue
        # Logging in again while logged in changes nothing in the ACD, so it ends nothing here.
        if wrap is not None and not (event == ADDMEMBER and logged_in):
            wrap_ups.append(WrapUp(wrap[0], wrap[1], row.time))
            wrap = None
        if pause is not None and event in (PAUSE, UNPAUSE, REMOVEMEMBER):
            pauses.append(Pause(pause[0], pause[1], row.time))
            pause = None
        if event == WRAPUP:
            wrap = (call, row.time)
            call = ""
        elif event == PAUSE:
            pause = (row.data1, row.time)
        elif event == ADDMEMBER and not logged_in:
            pause = (LOGIN_PAUSE, row.time)
        logged_in = event != REMOVEMEMBER
    if wrap is not None:
        wrap_ups.append(WrapUp(wrap[0], wrap[1], None))
    if pause is not None:
        pauses.append(Pause(pause[0], pause[1], None))
    return AgentTimeline(tuple(wrap_ups), tuple(pauses))


# --- the agent assessment ---


@dataclass(frozen=True)
class PauseTime:
    reason: str
    seconds: float
    pauses: int


@dataclass(frozen=True)
class Conversation:
    """A call an agent answered in the period."""

    callid: str
    answered_at: datetime
    ended_at: datetime | None  # None: still talking at the snapshot
    wrap_up_s: float


@dataclass(frozen=True)
class AgentDay:
    """What an agent's rows say about the period (the assessment's figures from the queue log)."""

    conversations: tuple[Conversation, ...]
    pauses: tuple[PauseTime, ...]  # by reason, the longest first

    @property
    def handled(self) -> tuple[Conversation, ...]:
        return tuple(c for c in self.conversations if c.ended_at is not None)


@dataclass(slots=True)
class _PauseSum:
    seconds: float = 0.0
    pauses: int = 0


def assess_agent(rows: Iterable[QueueRow], before: QueueRow | None, period: Period, snapshot: datetime) -> AgentDay:
    """One agent's conversations and pause time in the period, from their rows up to the snapshot in time order
    (their CONNECT and conversation-end rows and their changes of state) and their last change of state before."""
    rows = [r for r in rows if r.time <= snapshot]
    timeline = follow_agent(rows, before)
    wrap_s: dict[str, float] = {}
    for w in timeline.wrap_ups:
        wrap_s[w.callid] = wrap_s.get(w.callid, 0.0) + seconds_until(w.start, w.end, snapshot)
    answered: dict[str, QueueRow] = {}
    ended: dict[str, datetime] = {}
    for row in rows:
        if row.event == CONNECT and period.start <= row.time and row.callid not in answered:
            answered[row.callid] = row
        elif row.event in CONVERSATION_ENDS and row.callid in answered and row.callid not in ended:
            ended[row.callid] = row.time
    conversations = tuple(
        Conversation(callid, row.time, ended.get(callid), wrap_s.get(callid, 0.0)) for callid, row in answered.items()
    )
    window = Period(period.start, snapshot)
    sums: dict[str, _PauseSum] = {}
    for pause in timeline.pauses:
        seconds = window.overlap_s(pause.start, pause.end or snapshot)
        if seconds > 0 or window.start <= pause.start < window.end:
            total = sums.setdefault(pause.reason, _PauseSum())
            total.seconds += seconds
            total.pauses += 1
    pauses = sorted((PauseTime(r, s.seconds, s.pauses) for r, s in sums.items()), key=lambda p: (-p.seconds, p.reason))
    return AgentDay(conversations, tuple(pauses))
