"""The tables, as typed SQLAlchemy models. Schema changes go through a migration in migrations/versions."""

from __future__ import annotations

from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    Dialect,
    Enum,
    ForeignKey,
    Index,
    Integer,
    String,
    TypeDecorator,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from crm.tiers import CustomerClass, Tier
from crm.vocabulary import OutageKind, OutageScope, Role


class UtcDateTime(TypeDecorator[datetime]):
    """A moment in UTC, read back timezone-aware on every database (SQLite would otherwise return naive ones).
    A naive value written is taken to be UTC already."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None or value.tzinfo is None:
            return value
        value = value.astimezone(UTC)
        # SQLite keeps the wall-clock text only: store UTC without an offset so that text order is time order.
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def stored_enum(cls: type[StrEnum]) -> Enum:
    # Stored as its value in a plain VARCHAR, so that adding a member needs no ALTER TYPE on PostgreSQL.
    return Enum(
        cls, native_enum=False, create_constraint=False, length=16, values_callable=lambda e: [m.value for m in e]
    )


class Base(DeclarativeBase):
    pass


# --- The organisation: county companies, sites with remote seats, agents and their skills ---


class CountyCompany(Base):
    """A county power-supply company (县供电公司): serves the grid and customers of its county."""

    __tablename__ = "county_companies"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # Two digits; the first two digits of its customers' account numbers.
    code: Mapped[str] = mapped_column(String(8), unique=True)
    name: Mapped[str] = mapped_column(String(64))


class Site(Base):
    """An office where agents sit: the central service centre, or a county office with remote seats (远程座席)."""

    __tablename__ = "sites"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(16), unique=True)
    name: Mapped[str] = mapped_column(String(64))
    # None for the central centre, which serves the whole city.
    county_company_id: Mapped[int | None] = mapped_column(ForeignKey("county_companies.id"), nullable=True)
    seats: Mapped[int] = mapped_column(Integer)


class Skill(Base):
    """What an agent can handle (技能组), e.g. billing, repair, complaints, key accounts, English."""

    __tablename__ = "skills"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(64))


class Agent(Base):
    """A person who answers calls (座席员), or a key-account manager (大客户经理)."""

    __tablename__ = "agents"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # The staff number (工号) agents log in with.
    code: Mapped[str] = mapped_column(String(16), unique=True)
    name: Mapped[str] = mapped_column(String(64))
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id"), index=True)
    # The PJSIP endpoint the agent usually sits at, if any.
    seat: Mapped[str | None] = mapped_column(String(32), nullable=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class User(Base):
    """Someone who logs in to the pages and the API: an agent (linked to their staff record), a supervisor, an
    administrator, a city dispatcher or a county company's staff (linked to their county)."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    login: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(64))
    role: Mapped[Role] = mapped_column(stored_enum(Role))
    # A salted, slow hash (werkzeug's scrypt); never the password.
    password_hash: Mapped[str] = mapped_column(String(256))
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id"), nullable=True, unique=True)
    county_company_id: Mapped[int | None] = mapped_column(ForeignKey("county_companies.id"), nullable=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class AgentSkill(Base):
    __tablename__ = "agent_skills"

    agent_id: Mapped[int] = mapped_column(ForeignKey("agents.id"), primary_key=True)
    skill_id: Mapped[int] = mapped_column(ForeignKey("skills.id"), primary_key=True, index=True)
    # 1 (learning) to 5 (expert): the router prefers higher levels.
    level: Mapped[int] = mapped_column(Integer)


# --- The grid: substation -> feeder -> transformer area -> meter box -> meter -> supply point ---


class Substation(Base):
    """A substation (变电站): an outage here reaches every feeder it feeds."""

    __tablename__ = "substations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(16), unique=True)
    name: Mapped[str] = mapped_column(String(64))
    voltage_kv: Mapped[int] = mapped_column(Integer)
    county_company_id: Mapped[int] = mapped_column(ForeignKey("county_companies.id"), index=True)


class Feeder(Base):
    """A 10 kV line (线路) out of a substation: an outage here reaches every transformer area on it."""

    __tablename__ = "feeders"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(16), unique=True)
    name: Mapped[str] = mapped_column(String(64))
    substation_id: Mapped[int] = mapped_column(ForeignKey("substations.id"), index=True)


class TransformerArea(Base):
    """A transformer area (台区): the low-voltage network behind one distribution transformer."""

    __tablename__ = "transformer_areas"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(16), unique=True)
    name: Mapped[str] = mapped_column(String(64))
    feeder_id: Mapped[int] = mapped_column(ForeignKey("feeders.id"), index=True)
    capacity_kva: Mapped[int] = mapped_column(Integer)


class MeterBox(Base):
    """A meter box (终端箱/表箱): holds the meters and the customers' breakers (触保器) of a few households."""

    __tablename__ = "meter_boxes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(24), unique=True)
    transformer_area_id: Mapped[int] = mapped_column(ForeignKey("transformer_areas.id"), index=True)


class Meter(Base):
    """An electricity meter (电能表). Not shared: one household, one meter (一户一表); shared: several supply
    points behind one meter, as in old buildings, which changes how a repair call is triaged."""

    __tablename__ = "meters"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    number: Mapped[str] = mapped_column(String(24), unique=True)
    meter_box_id: Mapped[int] = mapped_column(ForeignKey("meter_boxes.id"), index=True)
    shared: Mapped[bool] = mapped_column(Boolean, default=False)


class SupplyPoint(Base):
    """Where electricity is used (用电地址): an address, its meter, and the transformer area that feeds it.

    The transformer area is kept here as well as on the meter box because it is the electrical connection
    that outages travel along; the meter box says where the meter hangs."""

    __tablename__ = "supply_points"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    address: Mapped[str] = mapped_column(String(128))
    transformer_area_id: Mapped[int] = mapped_column(ForeignKey("transformer_areas.id"), index=True)
    meter_id: Mapped[int] = mapped_column(ForeignKey("meters.id"), index=True)


# --- Customers, accounts and money ---


class Customer(Base):
    """A customer (客户): a household, shop, factory or critical load; holds one or more accounts."""

    __tablename__ = "customers"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64))
    customer_class: Mapped[CustomerClass] = mapped_column(stored_enum(CustomerClass))
    tier: Mapped[Tier] = mapped_column(stored_enum(Tier))
    contracted_kva: Mapped[int] = mapped_column(Integer)
    # The dedicated account manager (大客户经理) of a key account.
    account_manager_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id"), nullable=True, index=True)
    # The IVR verification secret (服务密码), hashed by crm.verification; None until the customer sets one.
    verification_hash: Mapped[str | None] = mapped_column(String(160), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class CustomerPhone(Base):
    """A phone number registered by a customer; a number may be registered by several customers (a family, a
    property manager), so lookups by caller number can find many accounts."""

    __tablename__ = "customer_phones"
    __table_args__ = (UniqueConstraint("customer_id", "number"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    # Digits only, national form: 13812345678, 057188001234.
    number: Mapped[str] = mapped_column(String(20), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # mobile or landline


class Account(Base):
    """An account (户号): what a customer is billed under for one supply point."""

    __tablename__ = "accounts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    number: Mapped[str] = mapped_column(String(10), unique=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    supply_point_id: Mapped[int] = mapped_column(ForeignKey("supply_points.id"), index=True)
    # Prepaid accounts (预付费) pay in advance; balance_fen is what is left. Postpaid accounts keep 0 there.
    prepaid: Mapped[bool] = mapped_column(Boolean, default=False)
    balance_fen: Mapped[int] = mapped_column(Integer, default=0)
    opened_on: Mapped[date] = mapped_column(Date)


class Bill(Base):
    """A monthly bill (电费账单). Amounts are integers in fen (分), so that sums are exact."""

    __tablename__ = "bills"
    __table_args__ = (UniqueConstraint("account_id", "period", name="uq_bills_account_period"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    period: Mapped[str] = mapped_column(String(7))  # the month billed, YYYY-MM
    kwh: Mapped[int] = mapped_column(Integer)
    amount_fen: Mapped[int] = mapped_column(Integer)
    issued_on: Mapped[date] = mapped_column(Date)
    due_date: Mapped[date] = mapped_column(Date)
    # None while unpaid; unpaid after due_date means arrears (欠费).
    paid_on: Mapped[date | None] = mapped_column(Date, nullable=True)

    @property
    def paid(self) -> bool:
        return self.paid_on is not None


class Payment(Base):
    """Money received (缴费) on an account: a bill paid, or a prepaid top-up."""

    __tablename__ = "payments"
    __table_args__ = (Index("ix_payments_account_paid_at", "account_id", "paid_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    paid_at: Mapped[datetime] = mapped_column(UtcDateTime)
    amount_fen: Mapped[int] = mapped_column(Integer)
    channel: Mapped[str] = mapped_column(String(16))  # counter, bank_debit, wechat, alipay, app


# --- Outages ---


class Outage(Base):
    """A planned or fault outage (停电) and what the IVR tells the callers it reaches."""

    __tablename__ = "outages"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[OutageKind] = mapped_column(stored_enum(OutageKind))
    scope: Mapped[OutageScope] = mapped_column(stored_enum(OutageScope))
    # Set for scope substation and feeder; scope areas lists its transformer areas in outage_areas.
    substation_id: Mapped[int | None] = mapped_column(ForeignKey("substations.id"), nullable=True, index=True)
    feeder_id: Mapped[int | None] = mapped_column(ForeignKey("feeders.id"), nullable=True, index=True)
    starts_at: Mapped[datetime] = mapped_column(UtcDateTime)
    expected_restoration_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    restored_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    # Said to callers, e.g. "10千伏城东线计划检修".
    reason: Mapped[str] = mapped_column(String(256))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    # How it became known: "recorded" (entered by staff, or planned work), "calls" (raised from repair calls by
    # work_orders/rules.py's correlation rule).
    origin: Mapped[str] = mapped_column(String(16), default="recorded", server_default="recorded")
    # True while the outage is only inferred from calls and no crew has confirmed it (疑似故障停电).
    suspected: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


class OutageArea(Base):
    __tablename__ = "outage_areas"

    outage_id: Mapped[int] = mapped_column(ForeignKey("outages.id"), primary_key=True)
    transformer_area_id: Mapped[int] = mapped_column(ForeignKey("transformer_areas.id"), primary_key=True, index=True)


# --- Contacts, satisfaction, work orders, tier history ---


class Contact(Base):
    """One call to the hotline (来电记录): who called which number, what they did in the IVR, how it ended."""

    __tablename__ = "contacts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    uniqueid: Mapped[str] = mapped_column(String(64), unique=True, index=True)
    caller_number: Mapped[str] = mapped_column(String(32), index=True, default="")
    dialled_number: Mapped[str] = mapped_column(String(32), default="")
    channel: Mapped[str] = mapped_column(String(128), default="")
    language: Mapped[str] = mapped_column(String(8), default="zh")
    started_at: Mapped[datetime] = mapped_column(UtcDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    # The IVR path: one entry per step, e.g. {"step": "greeting", "key": "1"}.
    ivr_path: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    # Every key the caller pressed in the IVR, in order.
    digits: Mapped[str] = mapped_column(String(256), default="")
    # completed: self-service finished; human: sent to a person; abandoned: hung up in the IVR; error: the IVR
    # failed and the dialplan failed the call open.
    outcome: Mapped[str | None] = mapped_column(String(32), nullable=True)
    # The account the caller was identified with, if any.
    account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"), nullable=True, index=True)
    queue: Mapped[str | None] = mapped_column(String(32), nullable=True)
    queued_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id"), nullable=True, index=True)
    agent_answered_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    agent_ended_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    # What the agent recorded the call as (话务小结): bill, outage, repair, business, complaint, consultation,
    # suggestion. Complaints count towards the customer's tier.
    disposition: Mapped[str | None] = mapped_column(String(32), nullable=True)
    # The agent's notes on the call, and the hot topics (热点) it touched, e.g. ["电价调整", "阶梯电价"].
    agent_notes: Mapped[str] = mapped_column(String(2000), default="")
    topics: Mapped[list[str]] = mapped_column(JSON, default=list)


class SatisfactionResult(Base):
    """The caller's answer to the satisfaction survey after a call (满意度回访), 1 (very unhappy) to 5."""

    __tablename__ = "satisfaction_results"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id"), unique=True)
    score: Mapped[int] = mapped_column(Integer)
    recorded_at: Mapped[datetime] = mapped_column(UtcDateTime)


class TierChange(Base):
    """One change of a customer's tier by `app.py crm retier`, with the score and the reason at the time."""

    __tablename__ = "tier_changes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    old_tier: Mapped[Tier] = mapped_column(stored_enum(Tier))
    new_tier: Mapped[Tier] = mapped_column(stored_enum(Tier))
    risk_score: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(String(256))
    changed_at: Mapped[datetime] = mapped_column(UtcDateTime)


class QueueLogEntry(Base):
    """One ACD event, with the fields of Asterisk's queue_log (time, callid, queuename, agent, event, data1..5),
    so that the reports and tools that read queue_log read this too. cti/acd/notifier.py says what each event means."""

    __tablename__ = "queue_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    time: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    callid: Mapped[str] = mapped_column(String(64), index=True, default="")
    queuename: Mapped[str] = mapped_column(String(64), default="")
    agent: Mapped[str] = mapped_column(String(64), index=True, default="")
    event: Mapped[str] = mapped_column(String(32))
    data1: Mapped[str] = mapped_column(String(128), default="")
    data2: Mapped[str] = mapped_column(String(128), default="")
    data3: Mapped[str] = mapped_column(String(128), default="")
    data4: Mapped[str] = mapped_column(String(128), default="")
    data5: Mapped[str] = mapped_column(String(128), default="")
