"""The arithmetic of the supervisor monitor and the agent assessment (班长监控, 座席考核): queue_log rows folded into
calls, agents' wrap-ups and pauses, and the service figures over them. No I/O: reporting/reports.py reads the rows and
this counts them, so that every definition below is tested without a database.

The definitions (T is the service-level threshold in seconds, web.service_level_s):

- A call is one caller's stay in the ACD, named by its callid (the caller channel's uniqueid: contacts.uniqueid).
  It belongs to the period and the interval in which it first entered the queue. (The ACD repeats ENTERQUEUE when
  it queues a caller again after Redis lost its data: still the same call, entered at the first.)
- Its queue is the group it was first answered in (the CONNECT row's), else the last one it waited in
  (ENTERQUEUE, ESCALATE): the group that answered or lost it. Its tier is ENTERQUEUE's data2, else its customer's.
- Offered: calls that entered. Answered: connected to an agent; the wait runs from entering to the first answer.
  Abandoned: the caller hung up before any answer, while waiting or while a seat rang; the wait runs to the
  hang-up. (A caller who hangs up waiting for the agent a call was transferred to was answered.) In queue: neither.
- Service level (服务水平) = answered within T / (answered + abandoned after T); a wait of exactly T is within T.
  Callers who hang up within T count on neither side: they gave up before the floor could fairly answer.
  None while no call has been answered or abandoned after T.
- Abandon rate (放弃率) = abandoned / (answered + abandoned), the calls whose fate is known; None while none is.
- ASA, the average speed of answer (平均应答时长) = the mean wait of the answered calls.
- AHT, the average handle time (平均处理时长) = the mean of talk + wrap-up over the handled calls: answered calls
  whose caller has left the ACD (COMPLETECALLER, COMPLETEAGENT, or ABANDON after a transfer). Talk runs from each
  CONNECT to the end of that conversation (COMPLETE*, or TRANSFER to another group): a transferred call adds up
  the talk and the wrap-up of every agent it reached. Wrap-up (话后处理) runs from the agent's WRAPUP after the
  call to the agent's next change of state (ready, pause, logout): agents may end it early or pause in it, so
  WRAPUP's configured seconds (data1) are not what was spent.
- An agent's calls (the assessment) are the conversations they answered in the period; handled once over (their
  part ends at COMPLETE* or at their TRANSFER); their talk and their own wrap-up make their handle time.
- Pause (示忙): from PAUSE (data1, the reason) or from logging in (ADDMEMBER: the ACD starts agents paused, reason
  LOGIN_PAUSE) to UNPAUSE, REMOVEMEMBER or the next PAUSE. Only the part inside the period counts.
- All of it is as at a snapshot: the end of the period, or the moment asked for (now) if that is earlier. A
  wrap-up or pause still running then counts up to the snapshot; a conversation still running is answered, not yet
  handled; rows after the snapshot are not read.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from sys import intern
from typing import NamedTuple

from crm.tiers import Tier
from reporting import periods
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
    """[start, end), as timezone-aware moments. The utility's days are local days (reporting.periods.LOCAL)."""

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


def _key(row: QueueRow) -> tuple[datetime, int]:
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
            if event == ENTERQUEUE and (self.entered is None or _key(row) < _key(self.entered)):
                self.entered = row
            if self.waited_in is None or _key(row) > _key(self.waited_in):
                self.waited_in = row
        if event == ABANDON:
            if self.abandoned is None or _key(row) < _key(self.abandoned):
                self.abandoned = row
        elif event in (COMPLETECALLER, COMPLETEAGENT) and (self.completed is None or _key(row) < _key(self.completed)):
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
        for row in sorted(self.conversations, key=_key):
            if row.event == CONNECT:
                first = first or row
                talking_since = talking_since or row.time
                continue
            if talking_since is not None:
                talk_s += (row.time - talking_since).total_seconds()
                talking_since = None
            transfers += row.event == TRANSFER
        left = min((r for r in (self.completed, self.abandoned) if r is not None), key=_key, default=None)
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


# --- the figures ---


@dataclass(frozen=True)
class ServiceFigures:
    """The service figures of a set of calls (a queue, a tier, the floor); see the module docstring."""

    offered: int
    answered: int
    answered_within_threshold: int
    abandoned: int
    abandoned_within_threshold: int  # short abandons: left out of the service level
    in_queue: int
    handled: int
    service_level: float | None  # 0..1
    abandon_rate: float | None  # 0..1
    asa_s: float | None
    aht_s: float | None
    average_talk_s: float | None
    average_wrap_up_s: float | None


@dataclass(frozen=True)
class IntervalFigures:
    """One interval of the day's chart: the calls that entered in [start, end)."""

    start: datetime
    end: datetime
    offered: int
    answered: int
    answered_within_threshold: int
    abandoned: int
    service_level: float | None
    abandon_rate: float | None
    asa_s: float | None


@dataclass(frozen=True)
class AbandonedCall:
    """A caller who hung up before an agent answered (newest first in the lists)."""

    at: datetime
    caller: str  # masked: the last four digits only
    queue: str
    tier: Tier | None
    waited_s: float | None  # None if the call's entry is not in the queue log
    during: str  # "waiting", or "ringing" when a seat rang at the time
    callid: str
    contact_id: int | None


@dataclass(frozen=True)
class FloorStatistics:
    """The floor's figures for a period, as at `as_of`: the whole floor, per queue (ACD group), per customer tier
    (Tier values, or UNKNOWN_TIER), per interval of the period up to `as_of`, and the latest abandoned calls."""

    period: Period
    as_of: datetime
    threshold_s: int
    interval: timedelta
    total: ServiceFigures
    queues: dict[str, ServiceFigures]
    tiers: dict[str, ServiceFigures]
    intervals: tuple[IntervalFigures, ...]
    abandoned_calls: tuple[AbandonedCall, ...]


def _share(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def _mean(total: float, count: int) -> float | None:
    return total / count if count else None


@dataclass(slots=True)
class Tally:
    """Counts and sums over calls, added up cell by cell; the figures are computed from them at the end."""

    offered: int = 0
    answered: int = 0
    answered_within: int = 0
    abandoned: int = 0
    abandoned_within: int = 0
    handled: int = 0
    wait_s: float = 0.0  # of the answered calls
    talk_s: float = 0.0  # of the handled calls
    wrap_up_s: float = 0.0  # of the handled calls

    def count(self, call: CallInQueue, threshold_s: float, wrap_up_s: float) -> None:
        self.offered += 1
        wait = call.wait_s
        if wait is None:
            return
        if call.answered_at is not None:
            self.answered += 1
            self.wait_s += wait
            self.answered_within += wait <= threshold_s
            if call.handled:
                self.handled += 1
                self.talk_s += call.talk_s
                self.wrap_up_s += wrap_up_s
        else:
            self.abandoned += 1
            self.abandoned_within += wait <= threshold_s

    def add(self, other: Tally) -> None:
        self.offered += other.offered
        self.answered += other.answered
        self.answered_within += other.answered_within
        self.abandoned += other.abandoned
        self.abandoned_within += other.abandoned_within
        self.handled += other.handled
        self.wait_s += other.wait_s
        self.talk_s += other.talk_s
        self.wrap_up_s += other.wrap_up_s

    def figures(self) -> ServiceFigures:
        return ServiceFigures(
            offered=self.offered,
            answered=self.answered,
            answered_within_threshold=self.answered_within,
            abandoned=self.abandoned,
            abandoned_within_threshold=self.abandoned_within,
            in_queue=self.offered - self.answered - self.abandoned,
            handled=self.handled,
            service_level=_share(self.answered_within, self.answered + self.abandoned - self.abandoned_within),
            abandon_rate=_share(self.abandoned, self.answered + self.abandoned),
            asa_s=_mean(self.wait_s, self.answered),
            aht_s=_mean(self.talk_s + self.wrap_up_s, self.handled),
            average_talk_s=_mean(self.talk_s, self.handled),
            average_wrap_up_s=_mean(self.wrap_up_s, self.handled),
        )

    def interval(self, start: datetime, end: datetime) -> IntervalFigures:
        f = self.figures()
        return IntervalFigures(
            start, end, f.offered, f.answered, f.answered_within_threshold, f.abandoned, f.service_level,
            f.abandon_rate, f.asa_s,
        )  # fmt: skip


def _seconds(start: datetime, end: datetime | None, snapshot: datetime) -> float:
    return max(0.0, (min(end or snapshot, snapshot) - start).total_seconds())


_Cell = tuple[str, str]  # (queue, tier)
# The data the ledger reads: ABANDON's and PAUSE's data1 (during, reason), ENTERQUEUE's data2 (the tier).
_DATA1_READ = frozenset({ABANDON, PAUSE})


def _kept(row: QueueRow) -> QueueRow:
    """The row as the ledger keeps it for the day: its names shared with every other row naming the same (a busy
    day is some 250,000 rows; each keeping its own copies would hold three times the memory), and the data it does
    not read dropped."""
    event = intern(row.event)
    return QueueRow(
        row.id,
        row.time,
        intern(row.callid),
        intern(row.queuename),
        intern(row.agent),
        event,
        intern(row.data1) if event in _DATA1_READ else "",
        intern(row.data2) if event == ENTERQUEUE else "",
    )


class FloorLedger:
    """The calls of one period, kept up to date as queue_log rows arrive, and their figures.

    Rows may come in any batches and order. The figures are kept per interval and cell (queue, tier), and only the
    intervals whose calls changed since the last look are counted again, so that the live monitor's refresh costs
    what changed, not the whole day."""

    def __init__(self, period: Period, threshold_s: int, interval: timedelta) -> None:
        if interval <= timedelta(0):
            raise ValueError("the interval must be positive")
        self.period = period
        self.threshold_s = threshold_s
        self.interval = interval
        # Ids of the rows that may be given again, with their times.
        self._repeatable: dict[int, datetime] = {}
        self._abandoned: dict[str, tuple[datetime, int]] = {}
        self._calls: dict[str, CallRows] = {}
        self._agents: dict[str, list[QueueRow]] = {}
        self._tiers: dict[str, Tier | None] = {}  # from the customer, for calls whose entry names no tier
        self._tier_wanted: set[str] = set()
        self._bucket_of: dict[str, int] = {}
        self._members: dict[int, set[str]] = {}
        self._cells: dict[int, dict[_Cell, Tally]] = {}
        # Each call as last counted: a bucket counted again reads the calls that did not change from here.
        self._summaries: dict[str, CallInQueue | None] = {}
        # Buckets a call left (an earlier entry of it came late) and that must be counted again.
        self._left_buckets: set[int] = set()
        # Per call, per agent: the wrap-ups after it (a transferred call has one with each agent it reached).
        self._wrap_ups: dict[str, dict[str, tuple[WrapUp, ...]]] = {}
        self._open_wrap_ups: set[str] = set()
        self._dirty_calls: set[str] = set()
        self._dirty_agents: set[str] = set()

    def add(self, rows: Iterable[QueueRow], repeatable_from: datetime | None = None) -> None:
        """Count rows in. Rows at or after `repeatable_from` may be given again in a later batch (the live monitor
        reads the last minute again): a row given twice is counted once. Without it, no row is given twice."""
        start, end = self.period.start, self.period.end
        repeatable = self._repeatable
        calls, agents, dirty_calls, dirty_agents = self._calls, self._agents, self._dirty_calls, self._dirty_agents
        for row in rows:
            at = row.time
            if not start <= at < end or row.id in repeatable:
                continue
            if repeatable_from is not None and at >= repeatable_from:
                repeatable[row.id] = at
            row = _kept(row)
            callid, event = row.callid, row.event
            if callid:
                facts = calls.get(callid)
                if facts is None:
                    facts = calls[callid] = CallRows()
                facts.add(row)
                dirty_calls.add(callid)
                if event == ENTERQUEUE:
                    self._place(callid, facts)
                    if tier_of(row.data2) is None and callid not in self._tiers:
                        self._tier_wanted.add(callid)
                elif event == ABANDON:
                    self._abandoned[callid] = min(self._abandoned.get(callid, (at, row.id)), (at, row.id))
            if row.agent and (event == CONNECT or event in AGENT_STATE_EVENTS):
                agents.setdefault(row.agent, []).append(row)
                dirty_agents.add(row.agent)
        if repeatable_from is not None:
            self._repeatable = {i: at for i, at in repeatable.items() if at >= repeatable_from}

    def _place(self, callid: str, facts: CallRows) -> None:
        assert facts.entered is not None
        bucket = int((facts.entered.time - self.period.start) / self.interval)
        old = self._bucket_of.get(callid)
        if old != bucket:
            if old is not None:
                self._members[old].discard(callid)
                self._left_buckets.add(old)
            self._members.setdefault(bucket, set()).add(callid)
            self._bucket_of[callid] = bucket

    def untiered(self) -> list[str]:
        """Calls whose entry names no known tier and whose customer's tier has not been given yet."""
        return sorted(self._tier_wanted)

    def set_tiers(self, tiers: Mapping[str, Tier | None]) -> None:
        """The customers' tiers of untiered calls (None: the caller is not known either)."""
        for callid, tier in tiers.items():
            self._tiers[callid] = tier
            self._tier_wanted.discard(callid)
            self._dirty_calls.add(callid)

    def latest_abandoned(self, limit: int) -> list[CallInQueue]:
        """The calls of the period that were abandoned, the latest hang-up first."""
        found: list[CallInQueue] = []
        for _, callid in sorted(((at, c) for c, at in self._abandoned.items()), reverse=True):
            if len(found) == limit:
                break
            call = self._calls[callid].call(callid, self._tiers.get(callid)) if callid in self._bucket_of else None
            # A caller who hung up as the agent answered was answered: that call is not abandoned.
            if call is not None and call.abandoned_at is not None:
                found.append(call)
        return found

    def statistics(self, as_of: datetime, abandoned_calls: tuple[AbandonedCall, ...] = ()) -> FloorStatistics:
        snapshot = self.period.snapshot(as_of)
        self._follow_agents()
        # A wrap-up still running grows with the snapshot.
        self._dirty_calls |= self._open_wrap_ups
        changed, self._left_buckets = self._left_buckets, set()
        for callid in self._dirty_calls:
            bucket = self._bucket_of.get(callid)
            if bucket is not None:
                self._summaries[callid] = self._calls[callid].call(callid, self._tiers.get(callid))
                changed.add(bucket)
        for bucket in changed:
            self._cells[bucket] = self._count(bucket, snapshot)
        self._dirty_calls.clear()

        total, queues, tiers = Tally(), dict[str, Tally](), dict[str, Tally]()
        buckets = max(0, math.ceil((snapshot - self.period.start) / self.interval))
        intervals = []
        for bucket in range(buckets):
            in_bucket = Tally()
            for (queue, tier), tally in self._cells.get(bucket, {}).items():
                in_bucket.add(tally)
                queues.setdefault(queue, Tally()).add(tally)
                tiers.setdefault(tier, Tally()).add(tally)
            total.add(in_bucket)
            start = self.period.start + bucket * self.interval
            intervals.append(in_bucket.interval(start, min(start + self.interval, self.period.end)))
        return FloorStatistics(
            period=self.period,
            as_of=snapshot,
            threshold_s=self.threshold_s,
            interval=self.interval,
            total=total.figures(),
            queues={name: t.figures() for name, t in sorted(queues.items())},
            tiers={name: t.figures() for name, t in sorted(tiers.items())},
            intervals=tuple(intervals),
            abandoned_calls=abandoned_calls,
        )

    def _follow_agents(self) -> None:
        for agent in self._dirty_agents:
            rows = self._agents[agent]
            rows.sort(key=_key)
            found: dict[str, list[WrapUp]] = {}
            for wrap_up in follow_agent(rows).wrap_ups:
                if wrap_up.callid:
                    found.setdefault(wrap_up.callid, []).append(wrap_up)
            for callid, wrap_ups in found.items():
                kept = self._wrap_ups.setdefault(callid, {})
                if kept.get(agent) != tuple(wrap_ups):
                    kept[agent] = tuple(wrap_ups)
                    self._dirty_calls.add(callid)
                    if any(w.end is None for ws in kept.values() for w in ws):
                        self._open_wrap_ups.add(callid)
                    else:
                        self._open_wrap_ups.discard(callid)
        self._dirty_agents.clear()

    def _count(self, bucket: int, snapshot: datetime) -> dict[_Cell, Tally]:
        cells: dict[_Cell, Tally] = {}
        for callid in self._members.get(bucket, ()):
            call = self._summaries.get(callid)
            if call is None:
                continue
            wrap_s = sum(
                _seconds(w.start, w.end, snapshot) for ws in self._wrap_ups.get(callid, {}).values() for w in ws
            )
            cell = (call.queue, call.tier.value if call.tier is not None else UNKNOWN_TIER)
            tally = cells.get(cell)
            if tally is None:
                tally = cells[cell] = Tally()
            tally.count(call, self.threshold_s, wrap_s)
        return cells


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
        wrap_s[w.callid] = wrap_s.get(w.callid, 0.0) + _seconds(w.start, w.end, snapshot)
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
