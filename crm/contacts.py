"""Contact records: one row per call, opened when the IVR takes the call and closed with its outcome."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from crm.models import Contact


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
