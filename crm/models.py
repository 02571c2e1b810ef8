"""The tables, as typed SQLAlchemy models. Schema changes go through a migration in migrations/versions."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, DateTime, Integer, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class Contact(Base):
    """One call to the hotline (来电记录): who called which number, what they did in the IVR, how it ended."""

    __tablename__ = "contacts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    uniqueid: Mapped[str] = mapped_column(String(64), unique=True, index=True)
    caller_number: Mapped[str] = mapped_column(String(32), index=True, default="")
    dialled_number: Mapped[str] = mapped_column(String(32), default="")
    channel: Mapped[str] = mapped_column(String(128), default="")
    language: Mapped[str] = mapped_column(String(8), default="zh")
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    ended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    # The IVR path: one entry per step, e.g. {"step": "greeting", "key": "1"}.
    ivr_path: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    # Every key the caller pressed in the IVR, in order.
    digits: Mapped[str] = mapped_column(String(256), default="")
    # completed: self-service finished; human: sent to a person; abandoned: hung up in the IVR; error: the IVR
    # failed and the dialplan failed the call open.
    outcome: Mapped[str | None] = mapped_column(String(32), nullable=True)
