"""What each kind of notice is read with (外呼通知内容), as plain data: a planned outage's window, a restoration,
a bill's amount and due date; how the variables are stored (JSON) and read back, and whether a message fits its
campaign's kind."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from types import MappingProxyType
from typing import Any

from campaigns.rules import CampaignError, CampaignKind


@dataclass(frozen=True)
class OutageMessage:
    """A planned outage: where, when (the window) and why; read out as dates and times."""

    where: str
    starts_at: datetime
    ends_at: datetime | None
    reason: str


@dataclass(frozen=True)
class RestorationMessage:
    """Power is back where the callee reported it off."""

    where: str
    restored_at: datetime


@dataclass(frozen=True)
class BillMessage:
    """A bill reminder or an arrears notice: how much (fen, read as 元 角 分) by or since when, on which account
    (the last four digits are read, never the whole number)."""

    amount_fen: int
    due_date: date
    account_number: str

    @property
    def account_tail(self) -> str:
        return self.account_number[-4:]


Message = OutageMessage | RestorationMessage | BillMessage
MESSAGE_TYPES: Mapping[CampaignKind, type[OutageMessage] | type[RestorationMessage] | type[BillMessage]] = (
    MappingProxyType(
        {
            CampaignKind.PLANNED_OUTAGE: OutageMessage,
            CampaignKind.RESTORATION: RestorationMessage,
            CampaignKind.BILL_REMINDER: BillMessage,
            CampaignKind.ARREARS_NOTICE: BillMessage,
        }
    )
)


def message_to_json(message: Message) -> dict[str, Any]:
    """The variables as stored (JSON): moments and dates in ISO form."""
    if isinstance(message, OutageMessage):
        return {
            "where": message.where,
            "starts_at": message.starts_at.isoformat(),
            "ends_at": message.ends_at.isoformat() if message.ends_at else None,
            "reason": message.reason,
        }
    if isinstance(message, RestorationMessage):
        return {"where": message.where, "restored_at": message.restored_at.isoformat()}
    return {
        "amount_fen": message.amount_fen,
        "due_date": message.due_date.isoformat(),
        "account_number": message.account_number,
    }


def message_from_json(kind: CampaignKind, data: Mapping[str, Any]) -> Message:
    if kind is CampaignKind.PLANNED_OUTAGE:
        ends = data.get("ends_at")
        return OutageMessage(
            str(data["where"]),
            datetime.fromisoformat(data["starts_at"]),
            datetime.fromisoformat(ends) if ends else None,
            str(data["reason"]),
        )
    if kind is CampaignKind.RESTORATION:
        return RestorationMessage(str(data["where"]), datetime.fromisoformat(data["restored_at"]))
    return BillMessage(int(data["amount_fen"]), date.fromisoformat(data["due_date"]), str(data["account_number"]))


def check_message(kind: CampaignKind, message: Message) -> None:
    """The message fits the kind and says something: raises CampaignError saying what is wrong."""
    expected = MESSAGE_TYPES[kind]
    if not isinstance(message, expected):
        raise CampaignError(f"a {kind} campaign is read with a {expected.__name__}, not a {type(message).__name__}")
    if isinstance(message, OutageMessage):
        if message.starts_at.tzinfo is None or (message.ends_at is not None and message.ends_at.tzinfo is None):
            raise CampaignError("the outage window needs a time zone")
        if message.ends_at is not None and message.ends_at <= message.starts_at:
            raise CampaignError("the outage window ends before it starts")
        if not message.reason.strip() or not message.where.strip():
            raise CampaignError("a planned-outage notice says where and why")
    elif isinstance(message, BillMessage) and message.amount_fen <= 0:
        raise CampaignError("a bill notice is for an amount above 0")
