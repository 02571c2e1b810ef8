"""The queue log (queue_log): the ACD's events kept in the database, in Asterisk's queue_log fields."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session, sessionmaker

from crm.models import Agent, Contact, QueueLogEntry

# Which of an event's data go in data1..data5, per event type, in queue_log's order where Asterisk has one
# (ENTERQUEUE: url, callerid, position; CONNECT: holdtime; COMPLETE*: holdtime, calltime; RINGNOANSWER: ringtime).
_DATA_FIELDS = {
    "queue.enter": ("priority", "tier", "intent", "app"),
    "queue.offer": ("seat",),
    "queue.connect": ("hold_s",),
    "queue.noanswer": ("cause", "agent_state"),
    "queue.reject": ("cause", "agent_state"),
    "queue.abandon": ("during",),
    "queue.complete": ("ended_by",),
    "queue.escalate": ("step", "previous"),
    "agent.login": ("seat",),
    "agent.pause": ("reason", "by"),
    "agent.logout": ("by",),
    "agent.pending": ("action", "by"),
    "queue.transfer": ("from_queue", "talk_s"),
    "queue.priority": ("priority", "previous", "by"),
    "agent.wrapup": ("seconds",),
    "agent.ready": ("after",),
}


def row(evt: dict[str, Any], event_name: Callable[[dict[str, Any]], str]) -> dict[str, Any]:
    data = evt.get("data") or {}
    values = [str(data.get(key, "")) for key in _DATA_FIELDS.get(evt["type"], ())]
    values += [""] * (5 - len(values))
    return {
        "time": datetime.fromisoformat(evt["at"]),
        "callid": evt.get("call") or "",
        "queuename": evt.get("queue") or "",
        "agent": evt.get("agent") or "",
        "event": event_name(evt),
        **{f"data{i + 1}": values[i][:128] for i in range(5)},
    }


class QueueLog:
    def __init__(self, sessions: sessionmaker[Session], event_name: Callable[[dict[str, Any]], str]) -> None:
        self.sessions = sessions
        # The ACD names its events; this names them as Asterisk's queue_log does.
        self.event_name = event_name

    def append(self, events: list[dict[str, Any]]) -> None:
        """Write a batch of ACD events (in the notifier's format) as queue_log rows, in one transaction."""
        rows = [row(e, self.event_name) for e in events if e.get("type", "").startswith(("queue.", "agent."))]
        if not rows:
            return
        with self.sessions.begin() as session:
            session.execute(insert(QueueLogEntry), rows)
            for evt in events:
                _note_on_contact(session, evt)

    def for_call(self, callid: str) -> list[QueueLogEntry]:
        with self.sessions() as session:
            query = select(QueueLogEntry).where(QueueLogEntry.callid == callid).order_by(QueueLogEntry.id)
            return list(session.scalars(query))


def _note_on_contact(session: Session, evt: dict[str, Any]) -> None:
    """Keep the contact's queue columns (queue, queued_at, agent, answered, ended) in step with its events, so
    that a contact says who took the call without reading the log."""
    kind, call = evt.get("type"), evt.get("call")
    if not call:
        return
    at = datetime.fromisoformat(evt["at"])
    values: dict[str, Any] = {}
    if kind == "queue.enter":
        values = {"queue": evt.get("queue") or "", "queued_at": at}
    elif kind == "queue.transfer":
        values = {"queue": (evt.get("data") or {}).get("to") or evt.get("queue") or ""}
    elif kind == "queue.connect":
        agent_id = session.scalar(select(Agent.id).where(Agent.code == evt.get("agent")))
        values = {"agent_id": agent_id, "agent_answered_at": at, "agent_ended_at": None}
    elif kind == "queue.complete":
        values = {"agent_ended_at": at}
    if values:
        session.execute(update(Contact).where(Contact.uniqueid == call).values(**values))
