"""The outbound-notice tables (主动服务外呼): campaigns, their callees and attempts, opt-outs and account managers'
tasks. The rules they follow are in campaigns/; the rest of the schema is crm/models.py."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from crm.models import Base, UtcDateTime

# --- Campaigns: outbound notices (主动服务外呼) ---


class Campaign(Base):
    """An outbound notice campaign (外呼任务): a list of customers to call and the message they hear. Its rules are
    campaigns/rules.py; campaigns/service.py makes every change."""

    __tablename__ = "campaigns"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # a campaigns.rules.CampaignKind
    state: Mapped[str] = mapped_column(String(16), index=True)  # a CampaignState
    name: Mapped[str] = mapped_column(String(128))
    # The carrier trunk its calls leave by (a name in the campaign policy's [trunks]).
    trunk: Mapped[str] = mapped_column(String(32))
    # The outage it tells of (planned outage, restoration).
    outage_id: Mapped[int | None] = mapped_column(ForeignKey("outages.id"), nullable=True, index=True)
    # The message's variables shared by every callee (an outage's window and reason); bills have their own per
    # callee.
    variables: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    started_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    ended_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)  # stopped or finished


class CampaignCallee(Base):
    """One customer on a campaign's list (外呼对象): the number to call, where they are and when they are next due.
    A dialler claims the callee (state dialling, with a token) before calling, so that no two diallers call it."""

    __tablename__ = "campaign_callees"
    __table_args__ = (
        UniqueConstraint("campaign_id", "customer_id", name="uq_campaign_callees_customer"),
        # The claim: pending callees by when they are due.
        Index("ix_campaign_callees_due", "state", "next_attempt_at"),
        Index("ix_campaign_callees_campaign_state", "campaign_id", "state"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id"))
    # None: a caller who reported an outage without being a known customer (a restoration notice only).
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id"), nullable=True, index=True)
    account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"), nullable=True)
    phone: Mapped[str] = mapped_column(String(20))
    language: Mapped[str] = mapped_column(String(8))
    # This callee's own variables (a bill's amount and due date); {} when the campaign's are enough.
    variables: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    state: Mapped[str] = mapped_column(String(16))  # a campaigns.rules.CalleeState
    # Attempts reported (lost ones are not counted).
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    # Set while dialling: the claim's token and moment (a claim too old is released).
    claim_token: Mapped[str | None] = mapped_column(String(32), nullable=True)
    claimed_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    last_outcome: Mapped[str | None] = mapped_column(String(16), nullable=True)  # a campaigns.rules.Outcome
    done_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)


class CampaignAttempt(Base):
    """One call attempt (外呼记录): written when a dialler claims the callee, completed with its outcome."""

    __tablename__ = "campaign_attempts"
    __table_args__ = (
        Index("ix_campaign_attempts_callee", "callee_id", "id"),
        Index("ix_campaign_attempts_campaign_outcome", "campaign_id", "outcome"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id"))
    callee_id: Mapped[int] = mapped_column(ForeignKey("campaign_callees.id"))
    # The callee's attempt number (1 for the first; a lost attempt's successor has the same number).
    number: Mapped[int] = mapped_column(Integer)
    claim_token: Mapped[str] = mapped_column(String(32))
    phone: Mapped[str] = mapped_column(String(20))
    trunk: Mapped[str] = mapped_column(String(32))
    claimed_at: Mapped[datetime] = mapped_column(UtcDateTime)
    # None while in flight.
    outcome: Mapped[str | None] = mapped_column(String(16), nullable=True)
    ended_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)


class CallOptOut(Base):
    """A customer who asked not to be called for one kind of notice (拒绝外呼): never dialled for it again."""

    __tablename__ = "call_opt_outs"
    __table_args__ = (UniqueConstraint("customer_id", "kind", name="uq_call_opt_outs_customer_kind"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    kind: Mapped[str] = mapped_column(String(16))  # a campaigns.rules.CampaignKind
    # Where it was asked: "call" (pressed during a notice), "agent", "api".
    source: Mapped[str] = mapped_column(String(16))
    recorded_at: Mapped[datetime] = mapped_column(UtcDateTime)


class ManagerTask(Base):
    """A notice a key account's manager (大客户经理) gives in person instead of a robot call: a task on their list.
    No manager (agent_id None): the supervisors give it to someone."""

    __tablename__ = "manager_tasks"
    __table_args__ = (
        UniqueConstraint("campaign_id", "customer_id", name="uq_manager_tasks_customer"),
        Index("ix_manager_tasks_agent_done", "agent_id", "done_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id"), index=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"), nullable=True)
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id"), nullable=True)
    phone: Mapped[str] = mapped_column(String(20), default="")
    variables: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    done_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    notes: Mapped[str] = mapped_column(String(1024), default="")
