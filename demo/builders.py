"""What the tests and benchmarks build the same way: clocks they set and move, and a few rows of grid, customers
and outages written into a session with exactly the values the caller gives (codes, names, dates), so that each
test keeps its own data and no longer spells out the chain of rows a customer or a feeder needs."""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from sqlalchemy.orm import Session

from crm.models import (
    Account,
    Bill,
    CountyCompany,
    Customer,
    CustomerPhone,
    Feeder,
    Meter,
    MeterBox,
    Outage,
    OutageArea,
    Payment,
    Substation,
    SupplyPoint,
    TransformerArea,
)
from crm.tiers import CustomerClass, Tier
from crm.vocabulary import OutageKind, OutageScope
from hotline.periods import LOCAL

# --- clocks: passed to the services as `clock`, so that tests move time instead of sleeping ---


class ManualClock:
    """A clock that stands at one moment until it is moved."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        """Move on by a timedelta's arguments (minutes=5, days=1) and return the new moment."""
        self.now += timedelta(**delta)
        return self.now


class DaytimeClock:
    """A chosen local time of day, today, that runs on in real time from when it is set and can be moved: for the
    outbound dialler, whose calls take real time but whose allowed hours must not depend on when the run is."""

    def __init__(self, hour: int, minute: int = 0) -> None:
        self.lock = threading.Lock()
        self.set_local(hour, minute)

    def __call__(self) -> datetime:
        with self.lock:
            return self.base + timedelta(seconds=time.monotonic() - self.started)

    def move(self, by: timedelta) -> None:
        with self.lock:
            self.base += by

    def set_local(self, hour: int, minute: int = 0) -> None:
        """Stand at `hour`:`minute` local time today, running on from now."""
        with self.lock:
            self.base = datetime.now(LOCAL).replace(hour=hour, minute=minute, second=0, microsecond=0).astimezone(UTC)
            self.started = time.monotonic()


# --- the grid: county companies, substations, feeders and their transformer areas ---


def add_county(session: Session, code: str, name: str) -> CountyCompany:
    """A county company (县供电公司), flushed so that its id is known."""
    county = CountyCompany(code=code, name=name)
    session.add(county)
    session.flush()
    return county


def add_substation(session: Session, county_id: int, code: str, name: str, voltage_kv: int = 110) -> Substation:
    """A substation (变电站) of a county company, flushed."""
    substation = Substation(code=code, name=name, voltage_kv=voltage_kv, county_company_id=county_id)
    session.add(substation)
    session.flush()
    return substation


@dataclass(frozen=True)
class BuiltFeeder:
    """A feeder's id and its transformer areas' ids by code."""

    id: int
    areas: dict[str, int]


def add_feeder(
    session: Session, substation_id: int, code: str, name: str, areas: Sequence[tuple[str, str]] = ()
) -> BuiltFeeder:
    """A 10 kV feeder (线路) of a substation with transformer areas (台区) given as (code, name)."""
    feeder = Feeder(code=code, name=name, substation_id=substation_id)
    session.add(feeder)
    session.flush()
    ids = {code: add_transformer_area(session, feeder.id, code, label) for code, label in areas}
    return BuiltFeeder(feeder.id, ids)


def add_transformer_area(session: Session, feeder_id: int, code: str, name: str) -> int:
    """A transformer area of 400 kVA on a feeder; returns its id."""
    area = TransformerArea(code=code, name=name, feeder_id=feeder_id, capacity_kva=400)
    session.add(area)
    session.flush()
    return area.id


# --- customers with their accounts ---


@dataclass(frozen=True)
class NewBill:
    period: str
    kwh: int
    amount_fen: int
    issued_on: date
    due_date: date


@dataclass(frozen=True)
class NewPayment:
    paid_at: datetime
    amount_fen: int
    channel: str


@dataclass(frozen=True)
class NewAccount:
    """An account (户号) at a supply point of its own, metered by a meter of its own in a meter box of its own."""

    number: str
    transformer_area_id: int
    box_code: str
    meter_number: str
    address: str
    opened_on: date
    shared_meter: bool = False
    prepaid: bool = False
    balance_fen: int = 0
    bills: Sequence[NewBill] = ()
    payments: Sequence[NewPayment] = ()


@dataclass(frozen=True)
class NewCustomer:
    """A customer (客户) with phones as (number, kind) in the order registered, and accounts."""

    name: str
    created_at: datetime
    accounts: Sequence[NewAccount]
    phones: Sequence[tuple[str, str]] = ()
    customer_class: CustomerClass = CustomerClass.RESIDENTIAL
    tier: Tier = Tier.STANDARD
    contracted_kva: int = 8
    account_manager_id: int | None = None
    verification_hash: str | None = None


@dataclass
class AddedCustomer:
    """The rows written for a NewCustomer, flushed (their ids are known)."""

    customer: Customer
    accounts: list[Account] = field(default_factory=list)


def add_customers(session: Session, customers: Sequence[NewCustomer]) -> list[AddedCustomer]:
    """Write the customers with their phones, meter boxes, meters, supply points, accounts, bills and payments.
    Each kind of row goes in as one batch (one flush each): a flush per row costs seconds at a benchmark's
    thousands. Rows of a kind are numbered in the order given."""
    added = [
        AddedCustomer(
            Customer(
                name=c.name,
                customer_class=c.customer_class,
                tier=c.tier,
                contracted_kva=c.contracted_kva,
                account_manager_id=c.account_manager_id,
                verification_hash=c.verification_hash,
                created_at=c.created_at,
            )
        )
        for c in customers
    ]
    plans = [(a, account) for a, c in zip(added, customers, strict=True) for account in c.accounts]
    boxes = [MeterBox(code=p.box_code, transformer_area_id=p.transformer_area_id) for _, p in plans]
    session.add_all([*(a.customer for a in added), *boxes])
    session.flush()
    session.add_all(
        CustomerPhone(customer_id=a.customer.id, number=number, kind=kind)
        for a, c in zip(added, customers, strict=True)
        for number, kind in c.phones
    )
    meters = [
        Meter(number=p.meter_number, meter_box_id=box.id, shared=p.shared_meter)
        for (_, p), box in zip(plans, boxes, strict=True)
    ]
    session.add_all(meters)
    session.flush()
    points = [
        SupplyPoint(address=p.address, transformer_area_id=p.transformer_area_id, meter_id=meter.id)
        for (_, p), meter in zip(plans, meters, strict=True)
    ]
    session.add_all(points)
    session.flush()
    for (a, p), point in zip(plans, points, strict=True):
        a.accounts.append(
            Account(
                number=p.number,
                customer_id=a.customer.id,
                supply_point_id=point.id,
                prepaid=p.prepaid,
                balance_fen=p.balance_fen,
                opened_on=p.opened_on,
            )
        )
    session.add_all(account for a in added for account in a.accounts)
    session.flush()
    written = [(account, p) for (_, p), account in zip(plans, (x for a in added for x in a.accounts), strict=True)]
    session.add_all(
        Bill(account_id=account.id, period=b.period, kwh=b.kwh, amount_fen=b.amount_fen, issued_on=b.issued_on,
             due_date=b.due_date)
        for account, p in written
        for b in p.bills
    )  # fmt: skip
    session.add_all(
        Payment(account_id=account.id, paid_at=m.paid_at, amount_fen=m.amount_fen, channel=m.channel)
        for account, p in written
        for m in p.payments
    )
    session.flush()
    return added


# --- outages ---


def add_outage(
    session: Session,
    kind: OutageKind,
    scope: OutageScope,
    *,
    starts_at: datetime,
    expected_restoration_at: datetime,
    reason: str,
    created_at: datetime,
    substation_id: int | None = None,
    feeder_id: int | None = None,
    transformer_area_ids: Sequence[int] = (),
) -> int:
    """An outage (停电) of a substation, a feeder or listed transformer areas; returns its id."""
    outage = Outage(
        kind=kind,
        scope=scope,
        substation_id=substation_id,
        feeder_id=feeder_id,
        starts_at=starts_at,
        expected_restoration_at=expected_restoration_at,
        reason=reason,
        created_at=created_at,
    )
    session.add(outage)
    session.flush()
    session.add_all(OutageArea(outage_id=outage.id, transformer_area_id=area) for area in transformer_area_ids)
    return outage.id
