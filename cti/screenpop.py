"""The screen-pop (弹屏): what an agent's page shows about a call as it rings, from the ACD's view of the call,
the IVR's contact record and the customer 360, as one JSON-ready dict."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from campaigns.lookups import CampaignLookups
from crm.contacts import ContactLog
from crm.customer_records import Refusal
from crm.services import CustomerService
from cti.jsonable import plain


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
        self,
        contacts: ContactLog,
        customers: CustomerService,
        notices: CampaignLookups,
        call_fields: Callable[[str], dict[str, str]],
    ) -> None:
        self.contacts = contacts
        self.customers = customers
        self.notices = notices
        # The ACD's record of a live call (cti.acd.store's acd:call hash), by call id.
        self.call_fields = call_fields

    def build(self, call: str, fields: dict[str, str] | None = None) -> dict[str, Any]:
        fields = fields if fields is not None else self.call_fields(call)
        contact = self.contacts.by_uniqueid(call)
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
        campaign_part, campaign_account = self._campaign(fields.get("campaign_attempt", ""))
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

    def _campaign(self, attempt_id: str) -> tuple[dict[str, Any] | None, str]:
        """The outbound notice a callee asked a person about (their campaign attempt), and the callee's account
        number ("" if none): what the agent needs to answer them."""
        notice = self.notices.notice_call(int(attempt_id)) if attempt_id.isdigit() else None
        if notice is None:
            return None, ""
        part = {
            "id": notice.campaign_id,
            "name": notice.name,
            "kind": notice.kind.value,
            "attempt": notice.attempt_id,
            "try": notice.try_number,
            "outage_id": notice.outage_id,
            "message": plain(notice.message),
        }
        return part, notice.account_number
