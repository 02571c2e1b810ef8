"""The work-order tables (工单): orders, each step of their flow, and the repair reports that count towards a
suspected outage. The rules they follow are in work_orders/; the rest of the schema is crm/models.py."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    JSON,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column

from crm.models import Base, UtcDateTime


class WorkOrder(Base):
    """A work order (工单): a repair, complaint, consultation, business application or suggestion, with the
    customer and supply point it is about, the call it came from, and where it is in the 95598 flow. The flow's
    rules are work_orders/rules.py; work_orders/service.py makes every change and writes its WorkOrderStep."""

    __tablename__ = "work_orders"
    __table_args__ = (
        Index("ix_work_orders_customer_status", "customer_id", "status"),
        # The contact clock: orders awaiting contact, by deadline (the overdue list and count, escalation).
        Index("ix_work_orders_contact_clock", "state", "contact_deadline"),
        # Outages found from calls: the recent repair reports on one feeder.
        Index("ix_work_orders_feeder_created", "feeder_id", "created_at"),
        Index("ix_work_orders_county_state", "county_company_id", "state"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # GD<yyyymmdd><id>: read out digit by digit on the phone.
    number: Mapped[str] = mapped_column(String(24), unique=True)
    kind: Mapped[str] = mapped_column(String(16))  # a work_orders.rules.Kind
    state: Mapped[str] = mapped_column(String(16), default="created", server_default="created")  # a State
    # open until archived: what the customer 360 lists by (kept in step with `state` by the service).
    status: Mapped[str] = mapped_column(String(16))
    origin: Mapped[str] = mapped_column(String(8), default="agent", server_default="agent")  # ivr, agent, api
    # An anonymous report (匿名): no customer to call back, so no contact deadline.
    anonymous: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id"), nullable=True)
    account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"), nullable=True, index=True)
    # The customer's tier when the order was created: it sets the contact deadline.
    tier: Mapped[str | None] = mapped_column(String(16), nullable=True)
    # Where: the supply point and, copied from the grid when the order is made, the transformer area and feeder it
    # hangs on, so that reports on a feeder are found without walking the grid.
    supply_point_id: Mapped[int | None] = mapped_column(ForeignKey("supply_points.id"), nullable=True)
    transformer_area_id: Mapped[int | None] = mapped_column(ForeignKey("transformer_areas.id"), nullable=True)
    feeder_id: Mapped[int | None] = mapped_column(ForeignKey("feeders.id"), nullable=True)
    address: Mapped[str] = mapped_column(String(128), default="", server_default="")
    # Repair only: the caller said the neighbours are out too (not only this home): the reports that point to an
    # outage in the area.
    neighbours_out: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id"), nullable=True, index=True)
    # The number to call the customer back on (the caller's, unless they gave another).
    callback_number: Mapped[str] = mapped_column(String(32), default="", server_default="")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True, index=True)
    summary: Mapped[str] = mapped_column(String(256))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    # The county company it is (or will be) dispatched to.
    county_company_id: Mapped[int | None] = mapped_column(ForeignKey("county_companies.id"), nullable=True)
    dispatched_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    # By when the county must contact the customer (from the policy, at dispatch); None for anonymous reports.
    contact_deadline: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    contacted_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    # Set once when the deadline passes without contact (the supervisors and the dispatch were told).
    escalated_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    # Repair: when the crew expects to arrive, once the county knows.
    crew_expected_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    closed_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)


class WorkOrderStep(Base):
    """One step in a work order's history (工单流转记录): who did what and when, from which state to which, with the
    reason, feedback or notes and the evidence given. Steps that change no state (created, escalated, attached to
    an outage) have the same state on both sides."""

    __tablename__ = "work_order_steps"
    __table_args__ = (Index("ix_work_order_steps_order", "work_order_id", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    work_order_id: Mapped[int] = mapped_column(ForeignKey("work_orders.id"))
    at: Mapped[datetime] = mapped_column(UtcDateTime)
    # A work_orders.rules.Action, or create, escalate, attach.
    action: Mapped[str] = mapped_column(String(16))
    from_state: Mapped[str | None] = mapped_column(String(16), nullable=True)
    to_state: Mapped[str] = mapped_column(String(16))
    # Who: a user's name and role, or the system ("IVR", "clock") with no role.
    actor: Mapped[str] = mapped_column(String(64))
    role: Mapped[str | None] = mapped_column(String(16), nullable=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    # The county dispatched to, or the acting county staff's.
    county_company_id: Mapped[int | None] = mapped_column(ForeignKey("county_companies.id"), nullable=True)
    # The reason (return, rejection), the feedback (report) or notes.
    notes: Mapped[str] = mapped_column(String(1024), default="", server_default="")
    # References to the uploaded evidence (photos, signed forms), as the pages stored them.
    evidence: Mapped[list[str]] = mapped_column(JSON, default=list)
    crew_expected_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)


class OutageReport(Base):
    """A caller's report of an outage (报修关联): a repair order counted into it or attached to it, or a call told of
    it at the known-outage leaf of repair triage and attached without an order. These are the customers to tell
    when power is back."""

    __tablename__ = "outage_reports"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    outage_id: Mapped[int] = mapped_column(ForeignKey("outages.id"), index=True)
    # An order belongs to one outage at most.
    work_order_id: Mapped[int | None] = mapped_column(ForeignKey("work_orders.id"), nullable=True, unique=True)
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id"), nullable=True, index=True)
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id"), nullable=True)
    account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"), nullable=True)
    callback_number: Mapped[str] = mapped_column(String(32), default="", server_default="")
    reported_at: Mapped[datetime] = mapped_column(UtcDateTime)
