"""The queue log's rows as the floor figures read them: each call's rows gathered (CallRows), the reporting
period, and the event sets the figures count by. Pure: reporting/reports.py reads the rows; the definitions are in
reporting/floor_figures.py's docstring."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import NamedTuple

from crm.tiers import Tier
from hotline import periods
from reporting.queue_events import (
    ABANDON,
    ADDMEMBER,
    COMPLETEAGENT,
    COMPLETECALLER,
    CONNECT,
    ENTERQUEUE,
    ESCALATE,
    PAUSE,
    REMOVEMEMBER,
    TRANSFER,
    UNPAUSE,
    WRAPUP,
)

CONVERSATION_ENDS = frozenset({COMPLETECALLER, COMPLETEAGENT, TRANSFER})
# What a call's own rows say about it (offers, refusals and announcements change no figure).
CALL_EVENTS = frozenset({ENTERQUEUE, ESCALATE, CONNECT, ABANDON}) | CONVERSATION_ENDS
# An agent's changes of state: what starts and ends wrap-ups and pauses.
AGENT_STATE_EVENTS = frozenset({ADDMEMBER, REMOVEMEMBER, PAUSE, UNPAUSE, WRAPUP})
# Everything the floor figures read.
FLOOR_EVENTS = CALL_EVENTS | AGENT_STATE_EVENTS

# The pause an agent is in from logging in until the first ready.
LOGIN_PAUSE = "login"
# The tier of a call whose queue row names none and whose caller was not identified.
UNKNOWN_TIER = "unknown"


@dataclass(frozen=True)
class Period:
    """[start, end), as timezone-aware moments. The utility's days are local days (hotline.periods.LOCAL)."""

    start: datetime
    end: datetime

    @classmethod
    def local_days(cls, first: date, last: date | None = None) -> Period:
        """From local midnight of `first` to local midnight after `last` (default: the one day)."""
        after = (last or first) + timedelta(days=1)
        return cls(datetime.combine(first, time(), periods.LOCAL), datetime.combine(after, time(), periods.LOCAL))

    @classmethod
    def today(cls, now: datetime) -> Period:
        return cls.local_days(periods.local_day(now))

    def snapshot(self, as_of: datetime) -> datetime:
        """The moment the figures are as at: the period's end, or `as_of` if earlier (not before the start)."""
        return max(self.start, min(self.end, as_of))

    def overlap_s(self, start: datetime, end: datetime) -> float:
        return max(0.0, (min(end, self.end) - max(start, self.start)).total_seconds())


_TIERS = {t.value: t for t in Tier}


def tier_of(value: str) -> Tier | None:
    return _TIERS.get(value)


class QueueRow(NamedTuple):
    """The columns of a queue_log row that the figures read."""

    id: int
    time: datetime
    callid: str
    queuename: str
    agent: str
    event: str
    data1: str
    data2: str


def row_order(row: QueueRow) -> tuple[datetime, int]:
    """The order rows happened in: time, then the row's id."""
    # Rows of one moment keep the order they were written in.
    return row.time, row.id


@dataclass(frozen=True)
class CallInQueue:
    """One call as the queue log tells it (see the module docstring for the definitions)."""

    callid: str
    entered_at: datetime
    entered_queue: str  # the group the call first waited in
    queue: str  # the group it was first answered in, else the last it waited in
    tier: Tier | None
    answered_at: datetime | None  # the first answer
    agent: str  # who answered first; "" if nobody (yet)
    abandoned_at: datetime | None  # the caller hung up before any answer
    abandoned_during: str  # "waiting" or "ringing" (a seat rang when the caller hung up); "" if not abandoned
    left_at: datetime | None  # the caller left the ACD (the call completed or was abandoned); None while in it
    talk_s: float  # the conversations that have ended, with every agent the call was transferred to
    transfers: int

    @property
    def wait_s(self) -> float | None:
        """Entering to the first answer or the hang-up; None while the call is still waiting for one."""
        left = self.answered_at or self.abandoned_at
        return None if left is None else (left - self.entered_at).total_seconds()

    @property
    def handled(self) -> bool:
        """Answered, and every conversation of it over: the caller has left the ACD."""
        return self.answered_at is not None and self.left_at is not None


@dataclass(slots=True)
class CallRows:
    """What a call's rows have said so far. Rows may come in any order and in several batches (each router and
    desk writes the queue log in its own batches): each fact keeps its earliest or latest row."""

    entered: QueueRow | None = None  # the first ENTERQUEUE
    waited_in: QueueRow | None = None  # the latest ENTERQUEUE, ESCALATE or TRANSFER (the group it waits in)
    abandoned: QueueRow | None = None
    completed: QueueRow | None = None  # the first COMPLETECALLER or COMPLETEAGENT
    # CONNECT, TRANSFER and COMPLETE* rows: a transferred call has a conversation with each agent it reaches.
    conversations: list[QueueRow] = field(default_factory=list)

    def add(self, row: QueueRow) -> None:
        event = row.event
        if event in (ENTERQUEUE, ESCALATE, TRANSFER):
            if event == ENTERQUEUE and (self.entered is None or row_order(row) < row_order(self.entered)):
                self.entered = row
            if self.waited_in is None or row_order(row) > row_order(self.waited_in):
                self.waited_in = row
        if event == ABANDON:
            if self.abandoned is None or row_order(row) < row_order(self.abandoned):
                self.abandoned = row
        elif event in (COMPLETECALLER, COMPLETEAGENT) and (
            self.completed is None or row_order(row) < row_order(self.completed)
        ):
            self.completed = row
        if event == CONNECT or event in CONVERSATION_ENDS:
            self.conversations.append(row)

    def call(self, callid: str, tier: Tier | None = None) -> CallInQueue | None:
        """The call, once its entry is known; `tier` stands in when the entry names no known tier."""
        entered = self.entered
        if entered is None:
            return None
        first: QueueRow | None = None
        talking_since: datetime | None = None
        talk_s = 0.0
        transfers = 0
        for row in sorted(self.conversations, key=row_order):
            if row.event == CONNECT:
                first = first or row
                talking_since = talking_since or row.time
                continue
            if talking_since is not None:
                talk_s += (row.time - talking_since).total_seconds()
                talking_since = None
            transfers += row.event == TRANSFER
        left = min((r for r in (self.completed, self.abandoned) if r is not None), key=row_order, default=None)
        abandoned = self.abandoned if first is None else None
        waited_in = self.waited_in or entered
        return CallInQueue(
            callid=callid,
            entered_at=entered.time,
            entered_queue=entered.queuename,
            queue=first.queuename if first is not None and first.queuename else waited_in.queuename,
            tier=tier_of(entered.data2) or tier,
            answered_at=None if first is None else first.time,
            agent="" if first is None else first.agent,
            abandoned_at=None if abandoned is None else abandoned.time,
            abandoned_during="" if abandoned is None else abandoned.data1,
            left_at=None if left is None else left.time,
            talk_s=talk_s,
            transfers=transfers,
        )


def seconds_until(start: datetime, end: datetime | None, snapshot: datetime) -> float:
    """Seconds from `start` to `end`, or to the snapshot if it is still running or ends after it."""
    return max(0.0, (min(end or snapshot, snapshot) - start).total_seconds())
