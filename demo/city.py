"""The demo city while the seed builds it: the connection and bulk loader it writes through, its one random source
and its clock, and what each step made that a later step reads (the grid's layout, the customers, their accounts
and how each customer behaved)."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import Connection
from tqdm import tqdm

from crm.tiers import CustomerClass, TierThresholds
from demo.bulk import BulkLoader
from demo.catalogue import SEED
from hotline import periods


@dataclass
class Topology:
    """The grid as indices (0-based; a row's id is its index plus one), so the steps need not read it back."""

    counties: list[tuple[int, str, str]] = field(default_factory=list)  # id, code, name
    substation_county: list[int] = field(default_factory=list)  # county index per substation
    feeder_substation: list[int] = field(default_factory=list)  # substation index per feeder
    feeder_names: list[str] = field(default_factory=list)
    substation_names: list[str] = field(default_factory=list)
    area_feeder: list[int] = field(default_factory=list)  # feeder index per transformer area
    area_names: list[str] = field(default_factory=list)


@dataclass
class AccountPlan:
    """What the generator decided about one account before writing its bills."""

    id: int
    customer: int
    customer_class: CustomerClass
    prepaid: bool
    opened_on: date
    base_kwh: float
    payer: str  # punctual, usually, late, arrears
    channel: str
    unpaid_last: int = 0


@dataclass
class BehaviourTally:
    """A customer's behaviour over the tier window as the bills and contacts are written, for its tier."""

    kwh: int = 0
    bills: int = 0
    paid_late: int = 0
    overdue: int = 0
    arrears_fen: int = 0
    complaints: int = 0


class DemoCity:
    """One seed's state, shared by the steps that write the city (demo.organisation, demo.customers, ...)."""

    def __init__(
        self,
        connection: Connection,
        customers: int,
        thresholds: TierThresholds,
        seats: list[str],
        now: datetime,
        progress: bool,
    ) -> None:
        self.connection = connection
        self.loader = BulkLoader(connection)
        # Below 50 customers some demo scenarios (a critical load, a chain store) would not exist.
        self.n = max(customers, 50)
        self.thresholds = thresholds
        self.seats = seats
        self.now = now
        self.today = periods.local_day(now)
        self.rng = random.Random(SEED)
        self.bar = tqdm(total=self.n, unit=" customers", desc="demo utility", disable=not progress, leave=False)
        self.topology = Topology()
        self.behaviour: dict[int, BehaviourTally] = {}
        self.customer_rows: list[list[object]] = []
        self.phones: dict[int, list[str]] = {}
        self.accounts: list[AccountPlan] = []
        self.account_numbers: dict[int, str] = {}
        self.account_area: dict[int, int] = {}
        self.agent_ids: list[int] = []
        self.manager_ids: list[int] = []
        self.customer_accounts: dict[int, list[int]] = {}

    def local(self, days: int, hour: int) -> datetime:
        """`hour` o'clock local time, `days` from today."""
        day = self.today + timedelta(days=days)
        return datetime(day.year, day.month, day.day, hour, tzinfo=periods.LOCAL)

    def county_of_area(self, area: int) -> int:
        """The county index of a transformer area's index."""
        t = self.topology
        return t.substation_county[t.feeder_substation[t.area_feeder[area]]]
