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
from dataclasses import dataclass
from datetime import datetime, timedelta
from sys import intern

from crm.tiers import Tier
from reporting.agent_day import WrapUp, follow_agent
from reporting.queue_events import (
    ABANDON,
    CONNECT,
    ENTERQUEUE,
    PAUSE,
)
from reporting.queue_rows import (
    AGENT_STATE_EVENTS,
    UNKNOWN_TIER,
    CallInQueue,
    CallRows,
    Period,
    QueueRow,
    row_order,
    seconds_until,
    tier_of,
)

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
            rows.sort(key=row_order)
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
                seconds_until(w.start, w.end, snapshot) for ws in self._wrap_ups.get(callid, {}).values() for w in ws
            )
            cell = (call.queue, call.tier.value if call.tier is not None else UNKNOWN_TIER)
            tally = cells.get(cell)
            if tally is None:
                tally = cells[cell] = Tally()
            tally.count(call, self.threshold_s, wrap_s)
        return cells
