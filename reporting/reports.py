"""What the supervisor monitor, the agent assessment and the contacts API show: the floor's service figures, the
abandoned calls, each agent's assessment (座席考核, seed 002 4.3) and what happened to a call. This module reads;
reporting/floor_figures.py defines and counts (its docstring holds the definitions: service level, AHT, ...).

Everything about the ACD comes from the queue log (the ACD's own record, written as it happens); contacts add the
caller, the IVR's part, the customer's tier and the survey's score. A failing database raises SQLAlchemyError:
these are pages and an API, not a caller waiting, so the web layer answers with its own error.

Work orders per agent (created, returned: seed 002 4.3) are not here: they come from the work-order module
(crm/work_orders*.py) and join the assessment by the agent's staff number when that module has them.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Row, Select, bindparam, select
from sqlalchemy.orm import Session, sessionmaker

from crm.customer_records import Refusal, normalise_phone_number
from crm.models import Account, Agent, Contact, Customer, QueueLogEntry, SatisfactionResult
from crm.tiers import Tier
from hotline import periods
from hotline.privacy import mask_caller
from reporting.agent_day import AgentDay, Conversation, PauseTime, assess_agent
from reporting.floor_figures import AbandonedCall, FloorLedger, FloorStatistics
from reporting.queue_events import CONNECT
from reporting.queue_rows import (
    AGENT_STATE_EVENTS,
    CALL_EVENTS,
    CONVERSATION_ENDS,
    FLOOR_EVENTS,
    CallInQueue,
    CallRows,
    Period,
    QueueRow,
)

DEFAULT_INTERVAL = timedelta(minutes=30)
ABANDONED_LISTED = 50
CONTACTS_LISTED = 20
# The live monitor reads the last minute's rows again on every look: each router and desk writes the queue log in
# its own batches, so a row can reach the database after later ones; a row that late is still counted.
SETTLE = timedelta(seconds=60)
# Keeps an IN list well inside every database's limit on bound parameters.
_CHUNK = 2000


@dataclass(frozen=True)
class Recording:
    """A call an agent answered whose recording exists (MixMonitor's acd-<uniqueid>.wav in the monitor folder)."""

    contact_id: int | None  # None when the call has no contact row (the IVR failed open)
    uniqueid: str
    started_at: datetime | None  # when the call reached the hotline (the contact's start)
    answered_at: datetime
    caller: str  # masked: the last four digits only
    duration_s: float | None  # the conversation (what MixMonitor's b option records); None while it goes on


@dataclass(frozen=True)
class AgentAssessment:
    """One agent's figures for a period (calls answered there), as at `as_of`; see reporting/floor_figures.py."""

    agent: str  # the staff number (工号), as the ACD knows the agent
    name: str | None  # None if crm has no agent of that number
    period: Period
    as_of: datetime
    calls_answered: int
    calls_handled: int  # answered, and the conversation has ended
    aht_s: float | None
    average_talk_s: float | None
    average_wrap_up_s: float | None
    satisfaction_average: float | None  # 1 (very unhappy) .. 5
    satisfaction_count: int
    pause_s: float
    pauses: tuple[PauseTime, ...]  # by reason, the longest first
    recordings: tuple[Recording, ...]  # the latest answer first


@dataclass(frozen=True)
class QueueEvent:
    """One queue_log row of a call, as Asterisk's queue_log has it (cti/acd/notifier.py says what data1..5 hold)."""

    time: datetime
    event: str
    queue: str
    agent: str
    data: tuple[str, str, str, str, str]


@dataclass(frozen=True)
class ContactDetail:
    """A call as the hotline recorded it: the IVR's part, the ACD's part (from the contact and the queue log)."""

    id: int
    uniqueid: str
    caller_number: str
    dialled_number: str
    language: str
    started_at: datetime
    ended_at: datetime | None
    ivr_path: tuple[dict[str, Any], ...]
    digits: str
    outcome: str | None
    account_number: str | None
    queue: str | None
    queued_at: datetime | None
    agent: str | None  # who took the call: the contact's agent, else the one the queue log names
    agent_answered_at: datetime | None
    agent_ended_at: datetime | None
    disposition: str | None
    satisfaction: int | None
    acd: CallInQueue | None  # the call as the queue log tells it; None if it never entered the queue
    queue_events: tuple[QueueEvent, ...]  # in time order


class Reports:
    """The read side of the monitor, the assessment and the contacts API. Each call opens its own short session;
    `today` keeps the day's calls in memory between calls (thread-safe), so that a refresh reads only new rows."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        clock: Callable[[], datetime] = periods.now_utc,
        settle: timedelta = SETTLE,
    ) -> None:
        self.sessions = sessions
        self.clock = clock
        self.settle = settle
        self._lock = threading.Lock()
        self._today: FloorLedger | None = None
        # The time of the latest row `today` has read: the next look reads from SETTLE before it.
        self._latest_row = datetime.now(periods.LOCAL)

    # --- the floor ---

    def floor(
        self,
        period: Period,
        threshold_s: int,
        interval: timedelta = DEFAULT_INTERVAL,
        as_of: datetime | None = None,
        abandoned_listed: int = ABANDONED_LISTED,
    ) -> FloorStatistics:
        """The floor's figures for a period, read afresh (any period; for today's live figures use `today`)."""
        snapshot = period.snapshot(as_of or self.clock())
        ledger = FloorLedger(period, threshold_s, interval)
        with self.sessions() as session:
            db = session.connection()
            ledger.add(_rows(db, _FLOOR_ROWS, {"start": period.start, "until": snapshot}))
            return self._figures(db, ledger, snapshot, abandoned_listed)

    def today(
        self,
        now: datetime,
        threshold_s: int,
        interval: timedelta = DEFAULT_INTERVAL,
        abandoned_listed: int = ABANDONED_LISTED,
    ) -> FloorStatistics:
        """Today's figures since local midnight, as at `now`. The first look reads the day; later looks read only
        the rows since the last one (less SETTLE), and count again only the intervals whose calls changed."""
        period = Period.today(now)
        wanted = (period, threshold_s, interval)
        with self._lock:
            ledger = self._today
            if ledger is None or (ledger.period, ledger.threshold_s, ledger.interval) != wanted:
                ledger = self._today = FloorLedger(period, threshold_s, interval)
                self._latest_row = period.start
            horizon = max(period.start, self._latest_row - self.settle)
            with self.sessions() as session:
                db = session.connection()
                rows = _rows(db, _FLOOR_ROWS, {"start": horizon, "until": period.snapshot(now)})
                self._latest_row = max((r.time for r in rows), default=self._latest_row)
                ledger.add(rows, repeatable_from=self._latest_row - self.settle)
                return self._figures(db, ledger, now, abandoned_listed)

    def _figures(self, db: Connection, ledger: FloorLedger, as_of: datetime, listed: int) -> FloorStatistics:
        untiered = ledger.untiered()
        if untiered:
            found: dict[str, Tier | None] = dict.fromkeys(untiered)
            found.update(_in_chunks(db, _CUSTOMER_TIERS, untiered))
            ledger.set_tiers(found)
        abandoned = ledger.latest_abandoned(listed)
        contacts = {r.uniqueid: r for r in _in_chunks_rows(db, _CONTACTS_OF_CALLS, [c.callid for c in abandoned])}
        listed_calls = tuple(
            AbandonedCall(
                at=call.abandoned_at or call.entered_at,
                caller=mask_caller(contacts[call.callid].caller_number) if call.callid in contacts else "",
                queue=call.queue,
                tier=call.tier,
                waited_s=call.wait_s,
                during=call.abandoned_during,
                callid=call.callid,
                contact_id=contacts[call.callid].id if call.callid in contacts else None,
            )
            for call in abandoned
        )
        return ledger.statistics(as_of, listed_calls)

    # --- the agent assessment ---

    def assessment(
        self,
        period: Period,
        recordings: Path,
        agents: Collection[str] | None = None,
        as_of: datetime | None = None,
    ) -> tuple[AgentAssessment, ...]:
        """Every agent who answered a call or changed state in the period (or those of `agents`, by staff
        number), in staff-number order. `recordings` is Asterisk's monitor folder, where MixMonitor writes."""
        snapshot = period.snapshot(as_of or self.clock())
        with self.sessions() as session:
            db = session.connection()
            by_agent: dict[str, list[QueueRow]] = {a: [] for a in agents or ()}
            bounds = {"start": period.start, "until": snapshot}
            statement = _AGENT_ROWS if agents is None else _ROWS_OF_AGENTS
            params = bounds if agents is None else {**bounds, "agents": list(agents)}
            for row in _rows(db, statement, params):
                by_agent.setdefault(row.agent, []).append(row)
            days: dict[str, AgentDay] = {}
            for agent, rows in by_agent.items():
                rows.sort(key=lambda r: (r.time, r.id))
                found = db.execute(_STATE_BEFORE, {"agent": agent, "start": period.start}).one_or_none()
                before = QueueRow(*found) if found is not None else None
                days[agent] = assess_agent(rows, before, period, snapshot)
            staff = {r.code: r for r in db.execute(_AGENTS_BY_CODE, {"codes": list(by_agent)})}
            callids = [c.callid for day in days.values() for c in day.conversations]
            contacts = {r.uniqueid: r for r in _in_chunks_rows(db, _CONTACTS_OF_CALLS, callids)}
            scores = self._scores(db, days, staff, contacts, period, snapshot)
        found_assessments = []
        for agent in sorted(days):
            day = days[agent]
            handled = day.handled
            talk = sum(_talk_s(c.answered_at, c.ended_at) for c in handled)
            wrap = sum(c.wrap_up_s for c in handled)
            agent_scores = scores.get(agent, {})
            found_assessments.append(
                AgentAssessment(
                    agent=agent,
                    name=staff[agent].name if agent in staff else None,
                    period=period,
                    as_of=snapshot,
                    calls_answered=len(day.conversations),
                    calls_handled=len(handled),
                    aht_s=(talk + wrap) / len(handled) if handled else None,
                    average_talk_s=talk / len(handled) if handled else None,
                    average_wrap_up_s=wrap / len(handled) if handled else None,
                    satisfaction_average=(sum(agent_scores.values()) / len(agent_scores) if agent_scores else None),
                    satisfaction_count=len(agent_scores),
                    pause_s=sum(p.seconds for p in day.pauses),
                    pauses=day.pauses,
                    recordings=_recordings(day.conversations, contacts, recordings),
                )
            )
        return tuple(found_assessments)

    def agent_assessment(
        self, agent: str, period: Period, recordings: Path, as_of: datetime | None = None
    ) -> AgentAssessment:
        """One agent's assessment, by staff number (an agent with no calls gets zeros, not an error)."""
        return self.assessment(period, recordings, [agent], as_of)[0]

    def _scores(
        self,
        db: Connection,
        days: dict[str, AgentDay],
        staff: dict[str, Row[*tuple[Any, ...]]],
        contacts: dict[str, Row[*tuple[Any, ...]]],
        period: Period,
        snapshot: datetime,
    ) -> dict[str, dict[int, int]]:
        """Survey scores per agent, by contact id: of the calls the queue log says the agent answered in the
        period, and of the contacts crm gives the agent (contacts.agent_id) answered in the period."""
        agent_of_contact = {
            contacts[c.callid].id: agent
            for agent, day in days.items()
            for c in day.conversations
            if c.callid in contacts
        }
        by_id = {staff[a].id: a for a in days if a in staff}
        scores: dict[str, dict[int, int]] = {}
        for r in _in_chunks_rows(db, _SCORES_OF_CONTACTS, list(agent_of_contact)):
            scores.setdefault(agent_of_contact[r.contact_id], {})[r.contact_id] = r.score
        if by_id:
            params = {"agents": list(by_id), "start": period.start, "until": snapshot}
            for r in db.execute(_SCORES_OF_AGENTS, params):
                scores.setdefault(by_id[r.agent_id], {})[r.contact_id] = r.score
        return scores

    # --- contacts ---

    def contacts_by_caller(self, ani: str, limit: int = CONTACTS_LISTED) -> tuple[ContactDetail, ...]:
        """The calls from a number, the latest first. The IVR stores the caller number as the carrier sent it, so
        the number is looked for as given and in its national and international forms (13812345678 finds calls
        stored as +8613812345678, and the other way round)."""
        numbers = {ani.strip()}
        national = normalise_phone_number(ani)
        if not isinstance(national, Refusal):
            numbers |= {national, f"+86{national}", f"0086{national}", f"86{national}"}
        with self.sessions() as session:
            db = session.connection()
            rows = db.execute(_CONTACTS_BY_CALLER, {"numbers": sorted(numbers), "limit": limit}).all()
            return _details(db, rows)

    def contact(self, contact_id: int) -> ContactDetail | None:
        with self.sessions() as session:
            db = session.connection()
            rows = db.execute(_CONTACT_BY_ID, {"contact": contact_id}).all()
            found = _details(db, rows)
        return found[0] if found else None


def _talk_s(answered_at: datetime, ended_at: datetime | None) -> float:
    return 0.0 if ended_at is None else (ended_at - answered_at).total_seconds()


def _recordings(
    conversations: Iterable[Conversation], contacts: dict[str, Row[*tuple[Any, ...]]], folder: Path
) -> tuple[Recording, ...]:
    found = []
    for c in conversations:
        # A uniqueid is digits and a dot; anything else must not become a path.
        if not c.callid or "/" in c.callid or c.callid.startswith("."):
            continue
        if not (folder / f"acd-{c.callid}.wav").is_file():
            continue
        contact = contacts.get(c.callid)
        found.append(
            Recording(
                contact_id=contact.id if contact is not None else None,
                uniqueid=c.callid,
                started_at=contact.started_at if contact is not None else None,
                answered_at=c.answered_at,
                caller=mask_caller(contact.caller_number) if contact is not None else "",
                duration_s=None if c.ended_at is None else _talk_s(c.answered_at, c.ended_at),
            )
        )
    found.sort(key=lambda r: (r.answered_at, r.uniqueid), reverse=True)
    return tuple(found)


def _details(db: Connection, rows: Sequence[Row[*tuple[Any, ...]]]) -> tuple[ContactDetail, ...]:
    events: dict[str, list[QueueEvent]] = {}
    facts: dict[str, CallRows] = {}
    for e in _in_chunks_rows(db, _EVENTS_OF_CALLS, [r.uniqueid for r in rows]):
        events.setdefault(e.callid, []).append(
            QueueEvent(e.time, e.event, e.queuename, e.agent, (e.data1, e.data2, e.data3, e.data4, e.data5))
        )
        if e.event in CALL_EVENTS:
            row = QueueRow(e.id, e.time, e.callid, e.queuename, e.agent, e.event, e.data1, e.data2)
            facts.setdefault(e.callid, CallRows()).add(row)
    details = []
    for r in rows:
        acd = facts[r.uniqueid].call(r.uniqueid, r.tier) if r.uniqueid in facts else None
        call_events = events.get(r.uniqueid, ())
        details.append(
            ContactDetail(
                id=r.id,
                uniqueid=r.uniqueid,
                caller_number=r.caller_number,
                dialled_number=r.dialled_number,
                language=r.language,
                started_at=r.started_at,
                ended_at=r.ended_at,
                ivr_path=tuple(r.ivr_path or ()),
                digits=r.digits,
                outcome=r.outcome,
                account_number=r.account_number,
                queue=r.queue,
                queued_at=r.queued_at,
                agent=r.agent_code or (acd.agent if acd is not None and acd.agent else None),
                agent_answered_at=r.agent_answered_at,
                agent_ended_at=r.agent_ended_at,
                disposition=r.disposition,
                satisfaction=r.score,
                acd=acd,
                queue_events=tuple(call_events),
            )
        )
    return tuple(details)


# --- reading ---


def _rows(db: Connection, statement: Select[*tuple[Any, ...]], params: dict[str, Any]) -> list[QueueRow]:
    # fetchall, one call into the driver, rather than a row at a time.
    return list(map(QueueRow._make, db.execute(statement, params).all()))


def _in_chunks_rows(db: Connection, statement: Select[*tuple[Any, ...]], keys: Sequence[Any]) -> Iterator[Any]:
    """The rows of a statement with an expanding parameter "keys", a chunk of keys at a time."""
    for start in range(0, len(keys), _CHUNK):
        yield from db.execute(statement, {"keys": list(keys[start : start + _CHUNK])})


def _in_chunks(db: Connection, statement: Select[*tuple[Any, ...]], keys: Sequence[str]) -> dict[str, Any]:
    return {r[0]: r[1] for r in _in_chunks_rows(db, statement, keys)}


# --- the statements, built once ---

Q = QueueLogEntry
_ROW_COLUMNS = (Q.id, Q.time, Q.callid, Q.queuename, Q.agent, Q.event, Q.data1, Q.data2)
_IN_PERIOD = (Q.time >= bindparam("start"), Q.time < bindparam("until"))
_ASSESSED_EVENTS = sorted(AGENT_STATE_EVENTS | CONVERSATION_ENDS | {CONNECT})

# No ORDER BY: the ledger takes rows in any order, and sorting a day's rows costs the database more than Python.
_FLOOR_ROWS = select(*_ROW_COLUMNS).where(Q.event.in_(sorted(FLOOR_EVENTS)), *_IN_PERIOD)
_AGENT_ROWS = select(*_ROW_COLUMNS).where(Q.agent != "", Q.event.in_(_ASSESSED_EVENTS), *_IN_PERIOD)
_ROWS_OF_AGENTS = select(*_ROW_COLUMNS).where(
    Q.agent.in_(bindparam("agents", expanding=True)), Q.event.in_(_ASSESSED_EVENTS), *_IN_PERIOD
)
_STATE_BEFORE = (
    select(*_ROW_COLUMNS)
    .where(Q.agent == bindparam("agent"), Q.event.in_(sorted(AGENT_STATE_EVENTS)), Q.time < bindparam("start"))
    .order_by(Q.time.desc(), Q.id.desc())
    .limit(1)
)
_AGENTS_BY_CODE = select(Agent.code, Agent.id, Agent.name).where(Agent.code.in_(bindparam("codes", expanding=True)))
_CUSTOMER_TIERS = (
    select(Contact.uniqueid, Customer.tier)
    .join(Account, Account.id == Contact.account_id)
    .join(Customer, Customer.id == Account.customer_id)
    .where(Contact.uniqueid.in_(bindparam("keys", expanding=True)))
)
_CONTACTS_OF_CALLS = select(Contact.uniqueid, Contact.id, Contact.caller_number, Contact.started_at).where(
    Contact.uniqueid.in_(bindparam("keys", expanding=True))
)
_SCORES_OF_CONTACTS = select(SatisfactionResult.contact_id, SatisfactionResult.score).where(
    SatisfactionResult.contact_id.in_(bindparam("keys", expanding=True))
)
_SCORES_OF_AGENTS = (
    select(Contact.agent_id, SatisfactionResult.contact_id, SatisfactionResult.score)
    .join(Contact, Contact.id == SatisfactionResult.contact_id)
    .where(
        Contact.agent_id.in_(bindparam("agents", expanding=True)),
        Contact.agent_answered_at >= bindparam("start"),
        Contact.agent_answered_at < bindparam("until"),
    )
)
_EVENTS_OF_CALLS = (
    select(Q.id, Q.time, Q.callid, Q.queuename, Q.agent, Q.event, Q.data1, Q.data2, Q.data3, Q.data4, Q.data5)
    .where(Q.callid.in_(bindparam("keys", expanding=True)))
    .order_by(Q.time, Q.id)
)
_CONTACT_COLUMNS = (
    select(
        Contact.id,
        Contact.uniqueid,
        Contact.caller_number,
        Contact.dialled_number,
        Contact.language,
        Contact.started_at,
        Contact.ended_at,
        Contact.ivr_path,
        Contact.digits,
        Contact.outcome,
        Account.number.label("account_number"),
        Customer.tier,
        Contact.queue,
        Contact.queued_at,
        Agent.code.label("agent_code"),
        Contact.agent_answered_at,
        Contact.agent_ended_at,
        Contact.disposition,
        SatisfactionResult.score,
    )
    .outerjoin(Account, Account.id == Contact.account_id)
    .outerjoin(Customer, Customer.id == Account.customer_id)
    .outerjoin(Agent, Agent.id == Contact.agent_id)
    .outerjoin(SatisfactionResult, SatisfactionResult.contact_id == Contact.id)
)
_CONTACTS_BY_CALLER = (
    _CONTACT_COLUMNS.where(Contact.caller_number.in_(bindparam("numbers", expanding=True)))
    .order_by(Contact.started_at.desc(), Contact.id.desc())
    .limit(bindparam("limit"))
)
_CONTACT_BY_ID = _CONTACT_COLUMNS.where(Contact.id == bindparam("contact"))
