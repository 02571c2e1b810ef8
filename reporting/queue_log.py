"""The queue log (queue_log): the ACD's events kept in the database, in Asterisk's queue_log fields."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session, sessionmaker

from crm.models import Agent, Contact, QueueLogEntry
from reporting.queue_events import data_values, is_queue_event, queue_log_name


def row(evt: dict[str, Any]) -> dict[str, Any]:
    """The queue_log row of an event."""
    values = data_values(evt)
    return {
        "time": datetime.fromisoformat(evt["at"]),
        "callid": evt.get("call") or "",
        "queuename": evt.get("queue") or "",
        "agent": evt.get("agent") or "",
        "event": queue_log_name(evt),
        **{f"data{i + 1}": values[i][:128] for i in range(5)},
    }


class QueueLog:
    """The queue_log table: the ACD's events written in Asterisk's queue_log fields (reporting/queue_events.py)."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self.sessions = sessions

    def append(self, events: list[dict[str, Any]]) -> None:
        """Write a batch of ACD events (in the notifier's format) as queue_log rows, in one transaction."""
        rows = [row(e) for e in events if is_queue_event(e)]
        if not rows:
            return
        with self.sessions.begin() as session:
            session.execute(insert(QueueLogEntry), rows)
            for evt in events:
                _note_on_contact(session, evt)

    def for_call(self, callid: str) -> list[QueueLogEntry]:
        """The call's rows in the order its events happened. Not by id: the routers and the desks each write their
        own events in batches, so a transfer from a desk can be inserted before the router's connect it followed."""
        with self.sessions() as session:
            query = (
                select(QueueLogEntry)
                .where(QueueLogEntry.callid == callid)
                .order_by(QueueLogEntry.time, QueueLogEntry.id)
            )
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
