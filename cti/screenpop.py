"""The screen-pop (弹屏): what an agent's page shows about a call as it rings, from the ACD's view of the call,
the IVR's contact record and the customer 360, as one JSON-ready dict."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import date, datetime, timedelta
from enum import Enum
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from campaigns.messages import message_from_json
from campaigns.rules import CampaignKind
from crm.models import Account, Campaign, CampaignAttempt, CampaignCallee, Contact
from crm.services import CustomerService, Refusal


def plain(value: Any) -> Any:
    """Dataclasses, enums and moments as JSON values (moments in ISO 8601 with their offset)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, timedelta):
        return value.total_seconds()
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    return value


def ivr_summary(path: list[dict[str, Any]]) -> dict[str, Any]:
    """What the caller did in the IVR, in brief: identified how, verified or not, where they asked for a person."""
    verified = False
    identified = None
    to_person = None
    for step in path:
        if step.get("step") == "identified":
            identified = step.get("how")
            verified = verified or bool(step.get("verified"))
        elif step.get("step") == "verified":
            verified = True
        elif step.get("step") == "to_person":
            to_person = step.get("reason")
    return {"identified": identified, "verified": verified, "to_person": to_person}


class ScreenPop:
    def __init__(
        self, sessions: sessionmaker[Session], customers: CustomerService, call_fields: Callable[[str], dict[str, str]]
    ) -> None:
        self.sessions = sessions
        self.customers = customers
        # The ACD's record of a live call (cti.acd.store's acd:call hash), by call id.
        self.call_fields = call_fields

    def build(self, call: str, fields: dict[str, str] | None = None) -> dict[str, Any]:
        fields = fields if fields is not None else self.call_fields(call)
        with self.sessions() as session:
            contact = session.scalar(select(Contact).where(Contact.uniqueid == call))
            contact_part = None
            if contact is not None:
                contact_part = {
                    "id": contact.id,
                    "started_at": plain(contact.started_at),
                    "dialled": contact.dialled_number,
                    "language": contact.language,
                    "ivr_path": contact.ivr_path,
                    "digits": contact.digits,
                    "outcome": contact.outcome,
                    **ivr_summary(contact.ivr_path or []),
                }
            campaign_part, campaign_account = _campaign(session, fields.get("campaign_attempt", ""))
        customer = None
        # A notice's callee was called for their customer: their account, when the campaign did not name one.
        account_number = fields.get("account", "") or campaign_account
        if account_number:
            account = self.customers.account_by_number(account_number)
            if not isinstance(account, Refusal):
                whole = self.customers.customer_360(account.customer_id)
                if not isinstance(whole, Refusal):
                    customer = plain(whole)
                    customer["account"] = plain(account)
        return {
            "call": {
                "id": call,
                "caller": fields.get("caller", ""),
                "intent": fields.get("intent", ""),
                "tier": fields.get("tier", ""),
                "account": account_number,
                "manager": fields.get("manager", ""),
                "language": fields.get("language", ""),
                "state": fields.get("state", ""),
                "group": fields.get("group", ""),
                "entered_ms": int(fields.get("entered") or 0),
            },
            "contact": contact_part,
            "customer": customer,
            "campaign": campaign_part,
        }


def _campaign(session: Session, attempt_id: str) -> tuple[dict[str, Any] | None, str]:
    """The outbound notice a callee asked a person about (their campaign attempt), and the callee's account number
    ("" if none): what the agent needs to answer them."""
    if not attempt_id.isdigit():
        return None, ""
    row = session.execute(
        select(CampaignAttempt, Campaign, CampaignCallee)
        .join(Campaign, Campaign.id == CampaignAttempt.campaign_id)
        .join(CampaignCallee, CampaignCallee.id == CampaignAttempt.callee_id)
        .where(CampaignAttempt.id == int(attempt_id))
    ).first()
    if row is None:
        return None, ""
    attempt, campaign, callee = row
    kind = CampaignKind(campaign.kind)
    account = session.get(Account, callee.account_id) if callee.account_id is not None else None
    part = {
        "id": campaign.id,
        "name": campaign.name,
        "kind": kind.value,
        "attempt": attempt.id,
        "try": attempt.number,
        "outage_id": campaign.outage_id,
        "message": plain(message_from_json(kind, {**(campaign.variables or {}), **(callee.variables or {})})),
    }
    return part, account.number if account is not None else ""
