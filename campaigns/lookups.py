"""Reads about one notice call, for the agent a callee asks for (campaigns/service.py runs the campaigns): which
notice it was, with its message, and which customer it was for."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from campaigns.messages import Message, message_from_json
from campaigns.rules import CampaignKind
from crm.campaign_models import Campaign, CampaignAttempt, CampaignCallee
from crm.models import Account


@dataclass(frozen=True)
class NoticeCall:
    """The outbound notice (外呼通知) a callee heard before asking for a person: what the agent needs to answer."""

    campaign_id: int
    name: str
    kind: CampaignKind
    attempt_id: int
    try_number: int
    outage_id: int | None
    message: Message
    account_number: str  # the callee's account, "" if the callee has none


class CampaignLookups:
    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self.sessions = sessions

    def notice_call(self, attempt_id: int) -> NoticeCall | None:
        """The notice of a campaign attempt; None if there is no such attempt."""
        with self.sessions() as session:
            row = session.execute(
                select(CampaignAttempt, Campaign, CampaignCallee)
                .join(Campaign, Campaign.id == CampaignAttempt.campaign_id)
                .join(CampaignCallee, CampaignCallee.id == CampaignAttempt.callee_id)
                .where(CampaignAttempt.id == attempt_id)
            ).first()
            if row is None:
                return None
            attempt, campaign, callee = row
            kind = CampaignKind(campaign.kind)
            account = session.get(Account, callee.account_id) if callee.account_id is not None else None
            return NoticeCall(
                campaign_id=campaign.id,
                name=campaign.name,
                kind=kind,
                attempt_id=attempt.id,
                try_number=attempt.number,
                outage_id=campaign.outage_id,
                message=message_from_json(kind, {**(campaign.variables or {}), **(callee.variables or {})}),
                account_number=account.number if account is not None else "",
            )

    def customer_called(self, attempt_id: int) -> int | None:
        """The customer a campaign attempt called for; None if unknown."""
        with self.sessions() as session:
            return session.scalar(
                select(CampaignCallee.customer_id)
                .join(CampaignAttempt, CampaignAttempt.callee_id == CampaignCallee.id)
                .where(CampaignAttempt.id == attempt_id)
            )
