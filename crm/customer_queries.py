"""The customer service's SQL statements, built once at import: accounts by number, phone or customer, bills and
payments, the outages reaching an account (crm/grid.py's rule), the customer's contacts and open orders."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Select, bindparam, func, or_, select

from crm import grid
from crm.customer_records import MAX_LISTED, RECENT_CONTACTS
from crm.models import (
    Account,
    Agent,
    Bill,
    Contact,
    CountyCompany,
    Customer,
    CustomerPhone,
    Feeder,
    Meter,
    Outage,
    OutageArea,
    Payment,
    SatisfactionResult,
    Substation,
    SupplyPoint,
    TierChange,
    TransformerArea,
)
from crm.work_order_models import WorkOrder

# --- the statements, built once ---


ACCOUNT_COLUMNS = (
    select(
        Account.id,
        Account.number,
        Account.prepaid,
        Account.balance_fen,
        Customer.id.label("customer_id"),
        Customer.name.label("customer_name"),
        Customer.customer_class,
        Customer.tier,
        SupplyPoint.address,
        Meter.shared,
        TransformerArea.id.label("transformer_area_id"),
        TransformerArea.name.label("transformer_area"),
        Feeder.id.label("feeder_id"),
        Feeder.name.label("feeder"),
        Substation.id.label("substation_id"),
        Substation.name.label("substation"),
        CountyCompany.name.label("county_company"),
    )
    .select_from(Account)
    .join(Customer, Customer.id == Account.customer_id)
    .join(SupplyPoint, SupplyPoint.id == Account.supply_point_id)
    .join(Meter, Meter.id == SupplyPoint.meter_id)
    .join(TransformerArea, TransformerArea.id == SupplyPoint.transformer_area_id)
    .join(Feeder, Feeder.id == TransformerArea.feeder_id)
    .join(Substation, Substation.id == Feeder.substation_id)
    .join(CountyCompany, CountyCompany.id == Substation.county_company_id)
)
ACCOUNT_BY_NUMBER = ACCOUNT_COLUMNS.where(Account.number == bindparam("number"))
ACCOUNTS_BY_PHONE = (
    ACCOUNT_COLUMNS.join(CustomerPhone, CustomerPhone.customer_id == Customer.id)
    .where(CustomerPhone.number == bindparam("number"))
    .order_by(Account.number)
    .limit(MAX_LISTED + 1)
)
COUNT_BY_PHONE = (
    select(func.count(Account.id))
    .join(CustomerPhone, CustomerPhone.customer_id == Account.customer_id)
    .where(CustomerPhone.number == bindparam("number"))
)
ACCOUNTS_OF_CUSTOMER = ACCOUNT_COLUMNS.where(Account.customer_id == bindparam("customer")).order_by(Account.number)
SECRET_BY_NUMBER = (
    select(Customer.verification_hash)
    .join(Account, Account.customer_id == Customer.id)
    .where(Account.number == bindparam("number"))
)
BALANCE_BY_NUMBER = select(Account.id, Account.number, Account.prepaid, Account.balance_fen).where(
    Account.number == bindparam("number")
)


@dataclass(frozen=True)
class Scoped:
    """The statements that read several accounts at once: one account's (bind "account": its id), or all of a
    customer's (bind "customer"). The accounts are chosen inside the SQL rather than passed as a list, because
    SQLAlchemy renders an expanding IN list anew on every call, which costs more than SQLite's answer."""

    unpaid_and_latest_bills: Select[*tuple[Any, ...]]
    last_payments: Select[*tuple[Any, ...]]
    outages: Select[*tuple[Any, ...]]


def scoped(accounts: ColumnElement[bool]) -> Scoped:
    latest_period = (
        select(func.max(Bill.period)).where(Bill.account_id == Account.id).correlate(Account).scalar_subquery()
    )
    last_paid_at = (
        select(func.max(Payment.paid_at)).where(Payment.account_id == Account.id).correlate(Account).scalar_subquery()
    )
    areas = (
        select(SupplyPoint.transformer_area_id).join(Account, Account.supply_point_id == SupplyPoint.id).where(accounts)
    )
    feeders = select(TransformerArea.feeder_id).where(TransformerArea.id.in_(areas))
    substations = select(Feeder.substation_id).where(Feeder.id.in_(feeders))
    return Scoped(
        # The unpaid bills and each account's latest bill (paid or not), in one query.
        unpaid_and_latest_bills=(
            select(
                Bill.account_id,
                Bill.period,
                Bill.kwh,
                Bill.amount_fen,
                Bill.due_date,
                Bill.paid_on,
                (Bill.period == latest_period).label("latest"),
            )
            .join(Account, Account.id == Bill.account_id)
            .where(accounts, or_(Bill.paid_on.is_(None), Bill.period == latest_period))
        ),
        last_payments=(
            select(Payment.account_id, Payment.paid_at, Payment.amount_fen, Payment.channel)
            .join(Account, Account.id == Payment.account_id)
            .where(accounts, Payment.paid_at == last_paid_at)
            # Two payments at the same moment: the later row wins in the dictionary the rows go into.
            .order_by(Payment.id)
        ),
        outages=(
            select(
                Outage.id,
                Outage.kind,
                Outage.scope,
                Outage.reason,
                Outage.starts_at,
                Outage.expected_restoration_at,
                Substation.name.label("substation"),
                Feeder.name.label("feeder"),
            )
            .outerjoin(Substation, Substation.id == Outage.substation_id)
            .outerjoin(Feeder, Feeder.id == Outage.feeder_id)
            .where(
                # What is looked for is the accounts' own substations, feeders and areas.
                grid.reaching(substations, feeders, areas),
                grid.in_effect(bindparam("now"), bindparam("until")),
            )
            .order_by(Outage.starts_at, Outage.id)
        ),
    )


OF_ACCOUNT = scoped(Account.id == bindparam("account"))
OF_CUSTOMER = scoped(Account.customer_id == bindparam("customer"))
OUTAGE_AREAS = select(OutageArea.outage_id, OutageArea.transformer_area_id).where(
    OutageArea.outage_id.in_(bindparam("outages", expanding=True))
)
LAST_CHANGE = (
    select(func.max(TierChange.id)).where(TierChange.customer_id == Customer.id).correlate(Customer).scalar_subquery()
)
CUSTOMER = (
    select(
        Customer.id,
        Customer.name,
        Customer.customer_class,
        Customer.tier,
        Agent.code.label("manager_code"),
        Agent.name.label("manager_name"),
        TierChange.old_tier,
        TierChange.new_tier,
        TierChange.reason,
        TierChange.changed_at,
    )
    .outerjoin(Agent, Agent.id == Customer.account_manager_id)
    .outerjoin(TierChange, TierChange.id == LAST_CHANGE)
    .where(Customer.id == bindparam("customer"))
)
PHONES_OF_CUSTOMER = (
    select(CustomerPhone.number).where(CustomerPhone.customer_id == bindparam("customer")).order_by(CustomerPhone.id)
)
CONTACTS_OF_CUSTOMER = (
    select(Contact.started_at, Contact.caller_number, Contact.outcome, Contact.disposition, SatisfactionResult.score)
    .outerjoin(SatisfactionResult, SatisfactionResult.contact_id == Contact.id)
    .where(
        or_(
            Contact.account_id.in_(select(Account.id).where(Account.customer_id == bindparam("customer"))),
            Contact.caller_number.in_(
                select(CustomerPhone.number).where(CustomerPhone.customer_id == bindparam("customer"))
            ),
        )
    )
    .order_by(Contact.started_at.desc())
    .limit(RECENT_CONTACTS)
)
OPEN_WORK_ORDERS = (
    select(WorkOrder.number, WorkOrder.kind, WorkOrder.summary, WorkOrder.created_at)
    .where(WorkOrder.customer_id == bindparam("customer"), WorkOrder.status == "open")
    .order_by(WorkOrder.created_at.desc())
)
