"""Contact records: one row per call, opened when the IVR takes the call and closed with its outcome; the agent's
wrap-up (disposition, notes, hot topics) written to it after the call; and the reads the pages need of it."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import exists, select
from sqlalchemy.orm import Session, sessionmaker

from crm.models import Account, Agent, Contact

# Hot topics kept per contact: the first ones in order, each once.
MAX_TOPICS = 10


@dataclass(frozen=True)
class Handler:
    """Who handled a contact: the staff number (工号) of the agent it was put through to, None if no agent took it."""

    agent_code: str | None


@dataclass
class ContactDraft:
    """What the IVR learns during a call, kept in memory and written once at the end (one INSERT at the start,
    one UPDATE at the end: nothing per keypress on the hot path)."""

    contact_id: int
    path: list[dict[str, Any]] = field(default_factory=list)
    digits: str = ""

    def step(self, name: str, **details: Any) -> None:
        self.path.append({"step": name, **details})
        key = details.get("key")
        if key:
            self.digits += key


class ContactLog:
    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self.sessions = sessions

    def open(self, uniqueid: str, caller_number: str, dialled_number: str, channel: str, language: str) -> ContactDraft:
        with self.sessions.begin() as session:
            contact = Contact(
                uniqueid=uniqueid,
                caller_number=caller_number,
                dialled_number=dialled_number,
                channel=channel,
                language=language,
                started_at=datetime.now(UTC),
                ivr_path=[],
            )
            session.add(contact)
            session.flush()
            return ContactDraft(contact.id)

    def close(self, draft: ContactDraft, outcome: str) -> None:
        with self.sessions.begin() as session:
            contact = session.get_one(Contact, draft.contact_id)
            contact.ivr_path = list(draft.path)
            contact.digits = draft.digits
            contact.outcome = outcome
            contact.ended_at = datetime.now(UTC)

    def by_uniqueid(self, uniqueid: str) -> Contact | None:
        with self.sessions() as session:
            return session.scalars(select(Contact).where(Contact.uniqueid == uniqueid)).one_or_none()

    def by_caller(self, caller_number: str) -> list[Contact]:
        with self.sessions() as session:
            query = select(Contact).where(Contact.caller_number == caller_number).order_by(Contact.id)
            return list(session.scalars(query))

    def handler(self, contact_id: int) -> Handler | None:
        """Who handled the contact; None if there is no such contact."""
        with self.sessions() as session:
            found = session.execute(select(Contact.agent_id).where(Contact.id == contact_id)).first()
            if found is None:
                return None
            agent_id = found.agent_id
            return Handler(session.scalar(select(Agent.code).where(Agent.id == agent_id)) if agent_id else None)

    def uniqueid(self, contact_id: int) -> str | None:
        """The call's channel uniqueid (its recording is named after it); None if there is no such contact."""
        with self.sessions() as session:
            return session.scalar(select(Contact.uniqueid).where(Contact.id == contact_id))

    def account_number(self, contact_id: int) -> str | None:
        """The number of the account the caller was identified with, if they were."""
        with self.sessions() as session:
            query = select(Account.number).join(Contact, Contact.account_id == Account.id)
            return session.scalar(query.where(Contact.id == contact_id))

    def served(self, agent_code: str | None, customer_id: int) -> bool:
        """Whether the agent took a call from the customer (a contact on one of the customer's accounts)."""
        with self.sessions() as session:
            took = session.scalar(
                select(
                    exists()
                    .where(Contact.account_id == Account.id, Account.customer_id == customer_id)
                    .where(Contact.agent_id == Agent.id, Agent.code == agent_code)
                )
            )
            return bool(took)

    def wrap_up(self, contact_id: int, disposition: str, notes: str, topics: list[str]) -> dict[str, Any]:
        """The agent's after-call record: the disposition, their notes and the hot topics (each once, sorted, at
        most MAX_TOPICS); what was saved."""
        with self.sessions.begin() as session:
            contact = session.get_one(Contact, contact_id)
            contact.disposition = disposition
            contact.agent_notes = notes
            contact.topics = sorted(set(topics))[:MAX_TOPICS]
            return {
                "id": contact.id,
                "disposition": contact.disposition,
                "notes": contact.agent_notes,
                "topics": contact.topics,
            }
