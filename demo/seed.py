"""The demo utility: a deterministic, realistic city grid with its customers, twelve months of bills, agents and
outages, so that a new user can call in at once and benchmarks have realistic data.

Everything but the dates is the same for the same size; dates are anchored to the moment of seeding, so that
the active fault is active and the planned outages are still ahead.
"""

from __future__ import annotations

import json
import logging
import random
import secrets
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import Connection, Engine, bindparam, func, select, text, update
from tqdm import tqdm

from crm import account_numbers
from crm.models import (
    Account,
    Agent,
    AgentSkill,
    Base,
    Bill,
    Contact,
    CountyCompany,
    Customer,
    CustomerPhone,
    Feeder,
    Meter,
    MeterBox,
    Outage,
    OutageArea,
    Payment,
    SatisfactionResult,
    Site,
    Skill,
    Substation,
    SupplyPoint,
    TransformerArea,
    User,
    WorkOrder,
)
from crm.tiers import Behaviour, CustomerClass, Tier, TierThresholds, decide_tier
from crm.users import new_password
from crm.verification import hash_secret
from crm.vocabulary import OutageKind, OutageScope, Role
from demo.bulk import BulkLoader
from reporting import periods

log = logging.getLogger(__name__)

SEED = 95598
DEFAULT_CUSTOMERS = 100_000
CITY = "江州市"
# (code, name): the code is also the first two digits of the county's account numbers.
COUNTIES = (("31", "城东区"), ("32", "城西区"), ("33", "江北县"), ("34", "临溪县"), ("35", "青山县"), ("36", "白沙县"))
# Two-character place names for substations, feeders, roads and businesses.
_PLACE_TEXT = (
    "东湖西山南塘北关青石白马金桥柳岸桃源松林梅溪竹园凤凰龙泉新港"
    "望江石门云溪花园长乐永安丰收红旗解放人民建设和平光明胜利文化"
)
PLACES = tuple(_PLACE_TEXT[i : i + 2] for i in range(0, len(_PLACE_TEXT), 2))
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀英华慧建国平刚桂兰玉霞红梅志文斌辉鹏宇浩婷雪琳晨"
BUSINESSES = ("超市", "餐馆", "理发店", "药店", "五金店", "服装店", "酒店", "茶楼", "便利店", "汽修厂")
INDUSTRIES = ("机械厂", "纺织厂", "水泥厂", "食品厂", "化工厂", "造纸厂", "电子厂", "铸造厂", "塑料厂", "钢构厂")
CRITICAL = ("人民医院", "中医院", "自来水厂", "污水处理厂", "妇幼保健院", "供水公司", "燃气公司", "数据中心")
# Mobile prefixes; 139 is left out because the test harness calls in from 139 numbers.
MOBILE_PREFIXES = ("130", "131", "132", "133", "135", "136", "137", "138", "150", "151", "155", "158", "186", "188")
SKILLS = (
    ("billing", "电费查询"),
    ("outage", "停电信息"),
    ("repair", "故障报修"),
    ("business", "业扩报装"),
    ("complaint", "投诉"),
    ("key_account", "大客户服务"),
    ("english", "英语服务"),
)
# (code, name, county code or None for the central centre, seats, agents)
SITES = (
    ("central", f"{CITY}95598客服中心", None, 40, 12),
    ("chengxi", "城西供电公司远程座席", "32", 8, 4),
    ("jiangbei", "江北供电公司远程座席", "33", 8, 4),
    ("qingshan", "青山供电公司远程座席", "35", 8, 4),
)
# Price per kWh in hundredths of a fen, by class (the catalogue tariff's order of magnitude).
PRICE = {
    CustomerClass.RESIDENTIAL: 5283,
    CustomerClass.COMMERCIAL: 6810,
    CustomerClass.INDUSTRIAL: 6120,
    CustomerClass.CRITICAL_LOAD: 6540,
}
# How much more is used in each calendar month than on average: air conditioning in summer, heating in winter.
SEASON = (1.3, 1.2, 1.0, 0.85, 0.9, 1.1, 1.45, 1.5, 1.1, 0.9, 0.95, 1.2)
PAYMENT_CHANNELS = ("bank_debit", "wechat", "alipay", "app", "counter")
DISPOSITIONS = (("bill", 40), ("outage", 20), ("repair", 15), ("business", 8), ("consultation", 12), ("complaint", 5))
CHAIN_STORE_ACCOUNTS = 12
# A bill is issued on the 3rd of the month after the one billed and falls due this many days later.
BILL_DUE_DAYS = 22
# How often each kind of payer pays a bill after its due date.
LATE_CHANCE = {"punctual": 0.0, "usually": 0.15, "late": 0.6, "arrears": 0.4}


@dataclass(frozen=True)
class DemoAgent:
    code: str
    name: str
    site: str
    seat: str | None
    skills: tuple[str, ...]
    key_accounts: int


@dataclass(frozen=True)
class DemoCaller:
    """A customer to call in as, for one scenario. The secret is only here, printed once: the database holds its
    hash."""

    scenario: str
    phone: str
    account_number: str
    customer_name: str
    secret: str


@dataclass(frozen=True)
class DemoLogin:
    """A login to the pages, with its password: printed once by the seed, stored only as a hash."""

    login: str
    name: str
    role: str
    password: str


@dataclass(frozen=True)
class DemoSummary:
    created: bool
    customers: int
    accounts: int
    bills: int
    seconds: float
    agents: tuple[DemoAgent, ...] = ()
    callers: tuple[DemoCaller, ...] = ()
    logins: tuple[DemoLogin, ...] = ()

    def lines(self) -> list[str]:
        """What `app.py seed` and `app.py run` print."""
        verb = "seeded" if self.created else "already seeded; nothing changed:"
        out = [
            f"demo utility {verb} {self.customers} customers, {self.accounts} accounts, {self.bills} bills"
            + (f" in {self.seconds:.1f} s" if self.created else "")
        ]
        if self.agents:
            out.append("agents (staff number, name, site, seat, skills, key accounts managed):")
            for a in self.agents:
                out.append(
                    f"  {a.code}  {a.name}  {a.site}  {a.seat or '-'}  {','.join(a.skills)}"
                    + (f"  {a.key_accounts}" if a.key_accounts else "")
                )
        if self.callers:
            out.append("demo callers (scenario, caller number, account number, name, IVR secret; shown only now):")
            for c in self.callers:
                out.append(f"  {c.scenario:<18} {c.phone}  {c.account_number}  {c.customer_name}  {c.secret}")
        if self.logins:
            out.append("web logins (login, role, name, password; shown only now):")
            for lg in self.logins:
                out.append(f"  {lg.login:<12} {lg.role:<10} {lg.name}  {lg.password}")
        return out


def grid_size(customers: int) -> tuple[int, int, int]:
    """(substations, feeders, transformer areas) for a city of `customers`: about 25 customers per transformer
    area, 18 areas per feeder, 10 feeders per substation, and never fewer than two substations per county and
    two feeders per substation, so that every feeder has a neighbour."""
    areas = max(48, customers // 25)
    feeders = max(24, areas // 18)
    return max(12, feeders // 10), feeders, areas


def seed_if_empty(
    engine: Engine,
    customers: int,
    *,
    thresholds: TierThresholds | None = None,
    seats: Sequence[str] = (),
    now: datetime | None = None,
    progress: bool = True,
) -> DemoSummary:
    """Seed the demo utility unless the database holds customers already (then report what is there).
    One transaction: an interrupted seed leaves nothing behind, and a second one waits for the first."""
    started = time.monotonic()
    with engine.begin() as connection:
        _lock_customers(connection)
        existing = connection.scalar(select(func.count()).select_from(Customer))
        if existing:
            return DemoSummary(
                created=False,
                customers=int(existing),
                accounts=int(connection.scalar(select(func.count()).select_from(Account)) or 0),
                bills=int(connection.scalar(select(func.count()).select_from(Bill)) or 0),
                seconds=time.monotonic() - started,
                agents=_agents_in(connection),
            )
        builder = _DemoBuilder(
            connection,
            customers,
            thresholds or TierThresholds(),
            list(seats),
            (now or periods.now_utc()).replace(second=0, microsecond=0),
            progress,
        )
        summary = builder.build()
    log.info("demo utility seeded: %d customers in %.1f s", summary.customers, time.monotonic() - started)
    return DemoSummary(
        created=True,
        customers=summary.customers,
        accounts=summary.accounts,
        bills=summary.bills,
        seconds=time.monotonic() - started,
        agents=summary.agents,
        callers=summary.callers,
        logins=summary.logins,
    )


def _lock_customers(connection: Connection) -> None:
    """Take the write lock before looking, so that two seeds at once run one after the other."""
    if connection.dialect.name == "postgresql":
        connection.execute(text("LOCK TABLE customers IN EXCLUSIVE MODE"))
    else:
        # Any write statement makes SQLite take its one write lock, even one that changes no row.
        connection.execute(text("DELETE FROM customers WHERE 0 = 1"))


@dataclass
class _AccountPlan:
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


@dataclass(frozen=True)
class _BillingMonth:
    month: date
    period: str
    season: float
    issued: date
    due: date
    days: tuple[date, ...]  # issued + 0, 1, 2 ... days
    in_window: bool
    # The same dates as the database driver takes them (see BulkLoader.stored_form).
    stored_issued: object
    stored_due: object
    stored_days: tuple[object, ...]


@dataclass
class _Behaviour:
    kwh: int = 0
    bills: int = 0
    paid_late: int = 0
    overdue: int = 0
    arrears_fen: int = 0
    complaints: int = 0


@dataclass
class _Built:
    customers: int
    accounts: int
    bills: int
    agents: tuple[DemoAgent, ...]
    callers: tuple[DemoCaller, ...]
    logins: tuple[DemoLogin, ...]


@dataclass
class _Topology:
    counties: list[tuple[int, str, str]] = field(default_factory=list)  # id, code, name
    substation_county: list[int] = field(default_factory=list)  # county index per substation
    feeder_substation: list[int] = field(default_factory=list)  # substation index per feeder
    feeder_names: list[str] = field(default_factory=list)
    substation_names: list[str] = field(default_factory=list)
    area_feeder: list[int] = field(default_factory=list)  # feeder index per transformer area
    area_names: list[str] = field(default_factory=list)


class _DemoBuilder:
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
        self.topology = _Topology()
        self.behaviour: dict[int, _Behaviour] = {}
        self.customer_rows: list[list[object]] = []
        self.phones: dict[int, list[str]] = {}
        self.accounts: list[_AccountPlan] = []
        self.account_numbers: dict[int, str] = {}
        self.account_area: dict[int, int] = {}
        self.agent_ids: list[int] = []
        self.manager_ids: list[int] = []
        self.customer_accounts: dict[int, list[int]] = {}
        self.bill_count = 0
        self.last_bill_id = 0
        self.last_payment_id = 0
        self.months = self._billing_months()
        self.moments: dict[tuple[date, int], object] = {}
        self.stored_paid_at = self.loader.stored_form(Payment, "paid_at")

    # --- the whole build, in foreign-key order ---

    def build(self) -> _Built:
        try:
            self.bar.set_description("organisation and grid")
            agents = self._organisation()
            self._grid()
            self.bar.set_description("customers and accounts")
            self._customers_and_accounts()
            self.bar.set_description("bills and payments")
            self._bills_and_payments()
            self.bar.set_description("contacts and outages")
            contact_ids = self._contacts()
            outages = self._outages()
            self._work_orders(contact_ids, outages)
            self.bar.set_description("tiers")
            managed = self._tiers()
            callers = self._demo_callers(outages)
            self.bar.set_description("web logins")
            logins = self._logins(agents)
            self.loader.reset_sequences(Base.metadata.sorted_tables)
        finally:
            self.bar.close()
        listed = tuple(
            DemoAgent(a.code, a.name, a.site, a.seat, a.skills, managed.get(i, 0))
            for i, a in zip(self.agent_ids, agents, strict=True)
        )
        return _Built(self.n, len(self.accounts), self.bill_count, listed, callers, logins)

    # --- logins to the pages: every agent, a supervisor, an administrator, the city dispatch, each county ---

    def _logins(self, agents: list[DemoAgent]) -> tuple[DemoLogin, ...]:
        people: list[tuple[str, str, Role, int | None, int | None]] = [
            (a.code, a.name, Role.AGENT, agent_id, None) for agent_id, a in zip(self.agent_ids, agents, strict=True)
        ]
        people += [
            ("supervisor", "值班长", Role.SUPERVISOR, None, None),
            ("admin", "系统管理员", Role.ADMIN, None, None),
            ("dispatch", f"{CITY}供电公司服务调度", Role.DISPATCHER, None, None),
        ]
        people += [
            (f"county{code}", name, Role.COUNTY, None, county_id) for county_id, code, name in self.topology.counties
        ]
        logins = []
        rows = []
        for n, (login, name, role, agent_id, county_id) in enumerate(people, start=1):
            # Fresh random passwords: the demo's data is deterministic, its passwords must not be.
            password = new_password()
            logins.append(DemoLogin(login, name, role.value, password))
            rows.append((n, login, name, role.value, hash_secret(password), agent_id, county_id, True, self.now))
        columns = ("id", "login", "name", "role", "password_hash", "agent_id", "county_company_id", "active",
                   "created_at")  # fmt: skip
        self.loader.write(User, columns, rows)
        return tuple(logins)

    # --- organisation: county companies, sites, skills, agents ---

    def _organisation(self) -> list[DemoAgent]:
        counties = [(i + 1, code, name) for i, (code, name) in enumerate(COUNTIES)]
        self.topology.counties = counties
        self.loader.write(
            CountyCompany,
            ("id", "code", "name"),
            ((i, code, f"国网{CITY}{name}供电公司") for i, code, name in counties),
        )
        county_id = {code: i for i, code, _ in counties}
        self.loader.write(
            Site,
            ("id", "code", "name", "county_company_id", "seats"),
            (
                (i + 1, code, name, county_id[county] if county else None, seats)
                for i, (code, name, county, seats, _) in enumerate(SITES)
            ),
        )
        self.loader.write(
            Skill,
            ("id", "code", "name"),
            ((i + 1, code, name) for i, (code, name) in enumerate(SKILLS)),
        )
        skill_id = {code: i + 1 for i, (code, _) in enumerate(SKILLS)}
        agents: list[DemoAgent] = []
        agent_rows = []
        skill_rows = []
        number = 0
        for site_index, (_, site_name, _, _, count) in enumerate(SITES):
            for _ in range(count):
                number += 1
                code = f"A{1000 + number}"
                name = self._person_name()
                seat = self.seats[number - 1] if number <= len(self.seats) else None
                # Every fourth agent is a key-account manager; everyone takes bills and outages.
                skills = ["billing", "outage"]
                if number % 4 == 0:
                    skills.append("key_account")
                if number % 3 == 0:
                    skills.append("repair")
                if number % 5 == 0:
                    skills.append("complaint")
                if number % 6 == 1:
                    skills.append("business")
                if number % 11 == 2:
                    skills.append("english")
                skills.sort(key=skill_id.__getitem__)  # listed in the skills table's order, as a re-run lists them
                agent_rows.append((number, code, name, site_index + 1, seat, True))
                for s in skills:
                    skill_rows.append((number, skill_id[s], 3 + (number + len(s)) % 3))
                agents.append(DemoAgent(code, name, site_name, seat, tuple(skills), 0))
                self.agent_ids.append(number)
                if "key_account" in skills:
                    self.manager_ids.append(number)
        self.loader.write(Agent, ("id", "code", "name", "site_id", "seat", "active"), agent_rows)
        self.loader.write(AgentSkill, ("agent_id", "skill_id", "level"), skill_rows)
        return agents

    def _person_name(self) -> str:
        rng = self.rng
        given = rng.choice(GIVEN) + (rng.choice(GIVEN) if rng.random() < 0.7 else "")
        return rng.choice(SURNAMES) + given

    # --- the grid: substations, feeders, transformer areas ---

    def _grid(self) -> None:
        t = self.topology
        substations, feeders, areas = grid_size(self.n)
        for s in range(substations):
            t.substation_county.append(s % len(COUNTIES))
            t.substation_names.append(f"{PLACES[s % len(PLACES)]}{'' if s < len(PLACES) else s // len(PLACES)}变电站")
        for f in range(feeders):
            # Round robin: every substation feeds at least two feeders, so each has a neighbour.
            t.feeder_substation.append(f % substations)
            t.feeder_names.append(f"10千伏{PLACES[(f * 7) % len(PLACES)]}{f + 1}线")
        for a in range(areas):
            t.area_feeder.append(a % feeders)
            t.area_names.append(f"{PLACES[(a * 11) % len(PLACES)]}{a + 1}号台区")
        self.loader.write(
            Substation,
            ("id", "code", "name", "voltage_kv", "county_company_id"),
            (
                (s + 1, f"BDZ{s + 1:04d}", name, 110 if s % 3 else 35, t.counties[t.substation_county[s]][0])
                for s, name in enumerate(t.substation_names)
            ),
        )
        self.loader.write(
            Feeder,
            ("id", "code", "name", "substation_id"),
            ((f + 1, f"XL{f + 1:05d}", t.feeder_names[f], s + 1) for f, s in enumerate(t.feeder_substation)),
        )
        self.loader.write(
            TransformerArea,
            ("id", "code", "name", "feeder_id", "capacity_kva"),
            (
                (a + 1, f"TQ{a + 1:06d}", t.area_names[a], f + 1, (200, 315, 400, 630)[a % 4])
                for a, f in enumerate(t.area_feeder)
            ),
        )

    def _county_of_area(self, area: int) -> int:
        t = self.topology
        return t.substation_county[t.feeder_substation[t.area_feeder[area]]]

    # --- customers, phones, supply points, meters and accounts ---

    def _customer_class(self, i: int) -> CustomerClass:
        # Fixed proportions at every size: 0.2 % critical loads, 2.5 % industry, about 7 % commerce.
        if i % 500 == 7:
            return CustomerClass.CRITICAL_LOAD
        if i % 40 == 3:
            return CustomerClass.INDUSTRIAL
        if i % 13 == 5:
            return CustomerClass.COMMERCIAL
        return CustomerClass.RESIDENTIAL

    def _customers_and_accounts(self) -> None:
        rng = self.rng
        t = self.topology
        areas = len(t.area_feeder)
        created = datetime(2010, 1, 1, tzinfo=periods.LOCAL)
        phone_rows: list[tuple[int, int, str, str]] = []
        point_rows: list[tuple[int, str, int, int]] = []
        meter_rows: list[list[object]] = []
        box_rows: list[tuple[int, str, int]] = []
        account_rows: list[tuple[int, str, int, int, bool, int, date]] = []
        boxes_in_area: dict[int, tuple[int, int]] = {}  # area -> (box id, meters in it)
        last_meter_in_area: dict[int, tuple[int, int]] = {}  # area -> (meter index, households on it)
        serial_in_county = [0] * len(COUNTIES)
        chain_store = next(i for i in range(self.n) if self._customer_class(i) is CustomerClass.COMMERCIAL)
        for i in range(self.n):
            cid = i + 1
            cls = self._customer_class(i)
            name, kva, accounts = self._customer_profile(i, cls, chain_store)
            self.customer_rows.append([cid, name, cls.value, Tier.STANDARD.value, kva, None, None, created])
            mobile = MOBILE_PREFIXES[i % len(MOBILE_PREFIXES)] + f"{(i * 7919 + 104729) % 10**8:08d}"
            numbers = [(mobile, "mobile")]
            if cls is not CustomerClass.RESIDENTIAL or rng.random() < 0.3:
                numbers.append((f"0576{(i * 104729 + 7) % 10**8:08d}", "landline"))
            if cls is CustomerClass.RESIDENTIAL and i > 0 and i % 97 == 0:
                # A family: the previous customer's mobile is registered here too.
                numbers.append((self.phones[cid - 1][0], "mobile"))
            self.phones[cid] = [n for n, _ in numbers]
            for number, kind in numbers:
                phone_rows.append((len(phone_rows) + 1, cid, number, kind))
            self.behaviour[cid] = _Behaviour()
            for k in range(accounts):
                aid = len(self.accounts) + 1
                area = (i * 31 + k * 17) % areas
                county = self._county_of_area(area)
                serial_in_county[county] += 1
                number = account_numbers.make(int(COUNTIES[county][0]), serial_in_county[county])
                # Meters: own meter (一户一表) mostly; some old-building households share one.
                shared_meter = cls is CustomerClass.RESIDENTIAL and rng.random() < 0.08
                previous = last_meter_in_area.get(area)
                if shared_meter and previous is not None and previous[1] < 4:
                    meter_index = previous[0]
                    meter_rows[meter_index][3] = True
                    last_meter_in_area[area] = (meter_index, previous[1] + 1)
                else:
                    box = boxes_in_area.get(area)
                    if box is None or box[1] >= 6:
                        box = (len(box_rows) + 1, 0)
                        box_rows.append((box[0], f"BX{area + 1:06d}-{len(box_rows):07d}", area + 1))
                    boxes_in_area[area] = (box[0], box[1] + 1)
                    meter_index = len(meter_rows)
                    meter_rows.append([meter_index + 1, f"DB{33000000000 + meter_index * 13:013d}", box[0], False])
                    last_meter_in_area[area] = (meter_index, 1)
                point_rows.append((aid, self._address(i, k, cls, county), area + 1, meter_index + 1))
                plan = self._account_plan(aid, cid, cls, kva, rng)
                self.accounts.append(plan)
                self.customer_accounts.setdefault(cid, []).append(aid)
                self.account_numbers[aid] = number
                self.account_area[aid] = area
                balance = rng.randrange(0, 50_000) if plan.prepaid else 0
                if plan.prepaid and rng.random() < 0.05:
                    balance = rng.randrange(0, 1000)
                account_rows.append((aid, number, cid, aid, plan.prepaid, balance, plan.opened_on))
        tables = (
            (MeterBox, ("id", "code", "transformer_area_id"), box_rows),
            (Meter, ("id", "number", "meter_box_id", "shared"), meter_rows),
            (SupplyPoint, ("id", "address", "transformer_area_id", "meter_id"), point_rows),
        )
        for model, columns, rows in tables:
            self.loader.write(model, columns, rows)
        # Customers go in now with a provisional tier; _tiers() sets the real one once their bills exist.
        self.loader.write(
            Customer,
            (
                "id",
                "name",
                "customer_class",
                "tier",
                "contracted_kva",
                "account_manager_id",
                "verification_hash",
                "created_at",
            ),
            self.customer_rows,
        )
        self.loader.write(CustomerPhone, ("id", "customer_id", "number", "kind"), phone_rows)
        self.loader.write(
            Account,
            ("id", "number", "customer_id", "supply_point_id", "prepaid", "balance_fen", "opened_on"),
            account_rows,
        )

    def _customer_profile(self, i: int, cls: CustomerClass, chain_store: int) -> tuple[str, int, int]:
        """Name, contracted kVA and number of accounts."""
        rng = self.rng
        place = PLACES[(i * 3) % len(PLACES)]
        if i == chain_store:
            return f"{CITY}{place}连锁便利店有限公司", 60, CHAIN_STORE_ACCOUNTS
        if cls is CustomerClass.RESIDENTIAL:
            return self._person_name(), rng.choice((4, 6, 8, 8, 10)), 2 if rng.random() < 0.06 else 1
        if cls is CustomerClass.COMMERCIAL:
            accounts = 1 + (rng.random() < 0.2) + (rng.random() < 0.05)
            return f"{place}{rng.choice(BUSINESSES)}", rng.choice((10, 20, 30, 50, 80, 100, 160, 250)), accounts
        if cls is CustomerClass.INDUSTRIAL:
            kva = rng.choice((80, 100, 160, 200, 250, 250, 315, 400, 630, 800, 1250, 2000, 3150))
            return f"{CITY}{place}{rng.choice(INDUSTRIES)}", kva, 2 if rng.random() < 0.3 else 1
        kva = rng.choice((400, 630, 800, 1250, 2000))
        return f"{CITY}{place}{CRITICAL[i % len(CRITICAL)]}", kva, 2 if rng.random() < 0.5 else 1

    def _address(self, i: int, k: int, cls: CustomerClass, county: int) -> str:
        road = f"{PLACES[(i + k * 5) % len(PLACES)]}{('路', '街', '大道')[i % 3]}"
        street = f"{CITY}{COUNTIES[county][1]}{road}{(i * 7 + k) % 300 + 1}号"
        if cls is CustomerClass.RESIDENTIAL:
            return f"{street}{i % 30 + 1}栋{i % 4 + 1}单元{(i % 18 + 1) * 100 + i % 4 + 1}室"
        return street

    def _account_plan(self, aid: int, cid: int, cls: CustomerClass, kva: int, rng: random.Random) -> _AccountPlan:
        roll = rng.random()
        if roll < 0.015:
            opened = self.today.replace(day=1)  # opened this month: no bill yet
        elif roll < 0.03:
            opened = self.today - timedelta(days=rng.randrange(40, 300))
        else:
            opened = self.today - timedelta(days=rng.randrange(400, 7000))
        if cls is CustomerClass.RESIDENTIAL:
            base = rng.uniform(60, 420)
        elif cls is CustomerClass.COMMERCIAL:
            base = kva * rng.uniform(60, 160)
        else:
            base = kva * rng.uniform(150, 330)
        payer_roll = rng.random()
        if cls in (CustomerClass.INDUSTRIAL, CustomerClass.CRITICAL_LOAD):
            payer = "punctual" if payer_roll < 0.85 else "usually" if payer_roll < 0.97 else "late"
        else:
            payer = (
                "punctual"
                if payer_roll < 0.78
                else "usually"
                if payer_roll < 0.91
                else "late"
                if payer_roll < 0.965
                else "arrears"
            )
        prepaid = cls is CustomerClass.RESIDENTIAL and rng.random() < 0.12
        plan = _AccountPlan(
            aid,
            cid,
            cls,
            prepaid,
            opened,
            base,
            "punctual" if prepaid else payer,
            "bank_debit" if cls is not CustomerClass.RESIDENTIAL else rng.choice(PAYMENT_CHANNELS),
        )
        if plan.payer == "arrears":
            plan.unpaid_last = rng.randrange(1, 7)
        return plan

    # --- bills and payments, streamed in chunks of accounts ---

    def _bills_and_payments(self) -> None:
        chunk = 5000
        for start in range(0, len(self.accounts), chunk):
            plans = self.accounts[start : start + chunk]
            bills: list[tuple[object, ...]] = []
            payments: list[tuple[object, ...]] = []
            for plan in plans:
                self._account_bills(plan, bills, payments)
            self.bill_count += self.loader.write(
                Bill,
                ("id", "account_id", "period", "kwh", "amount_fen", "issued_on", "due_date", "paid_on"),
                bills,
                stored=True,
            )
            self.loader.write(Payment, ("id", "account_id", "paid_at", "amount_fen", "channel"), payments, stored=True)
            self.bar.update(max(plans[-1].customer - self.bar.n, 0))

    def _billing_months(self) -> list[_BillingMonth]:
        """The twelve months billed, oldest first, with every date a bill of the month can need."""
        window_start = periods.window_start(self.today, self.thresholds.window_months)
        stored = self.loader.stored_form(Bill, "due_date")
        months = []
        for back in range(12, 0, -1):
            month = periods.month_start(self.today, back)
            issued = periods.month_start(month, -1) + timedelta(days=2)
            due = issued + timedelta(days=BILL_DUE_DAYS)
            days = tuple(issued + timedelta(days=k) for k in range(BILL_DUE_DAYS + 45))
            months.append(
                _BillingMonth(
                    month,
                    periods.period(month),
                    SEASON[month.month - 1],
                    issued,
                    due,
                    days,
                    month >= window_start,
                    stored(issued),
                    stored(due),
                    tuple(stored(d) for d in days),
                )
            )
        return months

    def _account_bills(
        self, plan: _AccountPlan, bills: list[tuple[object, ...]], payments: list[tuple[object, ...]]
    ) -> None:
        # The hot loop of the seed (over a million bills): random() rather than randrange(), dates precomputed.
        random = self.rng.random
        today = self.today
        behaviour = self.behaviour[plan.customer]
        price = PRICE[plan.customer_class]
        first_month = periods.month_start(plan.opened_on)
        months = [m for m in self.months if m.month >= first_month]
        unpaid_from = len(months) - plan.unpaid_last
        late_chance = LATE_CHANCE[plan.payer]
        for n, m in enumerate(months):
            kwh = max(1, int(plan.base_kwh * m.season * (0.85 + 0.3 * random())))
            amount = kwh * price // 100
            paid: date | None
            if plan.prepaid:
                day = 0  # taken from the prepaid balance on issue
            elif n >= unpaid_from:
                day = -1
            elif late_chance and random() < late_chance:
                day = BILL_DUE_DAYS + 1 + int(random() * 44)
            else:
                day = int(random() * 20)
            paid = m.days[day] if day >= 0 else None
            if paid is not None and paid >= today:
                paid = None  # not paid yet
            self.last_bill_id += 1
            bills.append(
                (
                    self.last_bill_id,
                    plan.id,
                    m.period,
                    kwh,
                    amount,
                    m.stored_issued,
                    m.stored_due,
                    None if paid is None else m.stored_days[day],
                )
            )
            if paid is not None and not plan.prepaid:
                self.last_payment_id += 1
                moment = self._moment(paid, 8 + int(random() * 13))
                payments.append((self.last_payment_id, plan.id, moment, amount, plan.channel))
            if m.in_window:
                behaviour.kwh += kwh
                if m.due < today:
                    behaviour.bills += 1
                    if paid is None:
                        behaviour.overdue += 1
                        behaviour.arrears_fen += amount
                    elif paid > m.due:
                        behaviour.paid_late += 1
        if plan.prepaid:
            # Top-ups every other month or so.
            for back in range(12, 0, -2):
                topped_up = today - timedelta(days=back * 30 + int(random() * 20))
                if topped_up >= plan.opened_on:
                    self.last_payment_id += 1
                    top_up = (10000, 20000, 30000)[int(random() * 3)]
                    moment = self._moment(topped_up, 9 + int(random() * 12))
                    payments.append((self.last_payment_id, plan.id, moment, top_up, "app"))

    def _moment(self, day: date, hour: int) -> object:
        """A payment time on the hour, in stored form, made once per day and hour: the seed needs a million."""
        key = (day, hour)
        moment = self.moments.get(key)
        if moment is None:
            local = datetime(day.year, day.month, day.day, hour, tzinfo=periods.LOCAL)
            moment = self.moments[key] = self.stored_paid_at(local)
        return moment

    # --- contacts of the last 90 days, with satisfaction results ---

    def _contacts(self) -> list[tuple[int, int, int, str, datetime]]:
        """Returns (contact id, customer id, account id, disposition, started) of each contact written."""
        rng = self.rng
        dispositions = [d for d, weight in DISPOSITIONS for _ in range(weight)]
        queues = {"bill": "billing", "outage": "outage", "repair": "repair", "business": "business"}
        written: list[tuple[int, int, int, str, datetime]] = []
        contact_rows: list[tuple[object, ...]] = []
        survey_rows: list[tuple[int, int, int, datetime]] = []
        for cid in range(1, self.n + 1):
            planned = [rng.choice(dispositions)] if rng.random() < 0.25 else []
            if cid % 200 == 14:
                planned += ["complaint"] * rng.randrange(2, 5)  # the customers who complain again and again
            for disposition in planned:
                contact_id = len(contact_rows) + 1
                aid = self.customer_accounts[cid][0]
                started = self.now - timedelta(seconds=rng.randrange(600, 90 * 86400))
                ivr_seconds = rng.randrange(15, 90)
                human = disposition in ("repair", "business", "complaint") or rng.random() < 0.35
                key = {"bill": "1", "outage": "2", "repair": "3", "business": "4"}.get(disposition, "0")
                path = json.dumps([{"step": "greeting", "key": key, "attempt": 1}])
                queued = answered = released = None
                agent = None
                ended = started + timedelta(seconds=ivr_seconds)
                if human:
                    queued = ended
                    answered = queued + timedelta(seconds=rng.randrange(3, 180))
                    released = answered + timedelta(seconds=rng.randrange(45, 600))
                    ended = released
                    agent = self.agent_ids[contact_id % len(self.agent_ids)]
                contact_rows.append(
                    (
                        contact_id,
                        f"demo-{contact_id}",
                        self.phones[cid][0],
                        "95598",
                        f"PJSIP/trunk-{contact_id:08x}",
                        "zh",
                        started,
                        ended,
                        path,
                        key,
                        "human" if human else "completed",
                        aid,
                        queues.get(disposition, "general") if human else None,
                        queued,
                        agent,
                        answered,
                        released,
                        disposition,
                    )
                )
                written.append((contact_id, cid, aid, disposition, started))
                if disposition == "complaint":
                    self.behaviour[cid].complaints += 1
                if human and rng.random() < 0.5:
                    score = (
                        rng.choice((1, 2, 3, 3, 4)) if disposition == "complaint" else rng.choice((5, 5, 5, 4, 4, 3))
                    )
                    survey_rows.append((len(survey_rows) + 1, contact_id, score, ended + timedelta(minutes=1)))
        self.loader.write(
            Contact,
            (
                "id",
                "uniqueid",
                "caller_number",
                "dialled_number",
                "channel",
                "language",
                "started_at",
                "ended_at",
                "ivr_path",
                "digits",
                "outcome",
                "account_id",
                "queue",
                "queued_at",
                "agent_id",
                "agent_answered_at",
                "agent_ended_at",
                "disposition",
            ),
            contact_rows,
        )
        self.loader.write(
            SatisfactionResult,
            ("id", "contact_id", "score", "recorded_at"),
            survey_rows,
        )
        return written

    # --- outages: one active fault, planned work ahead, some history ---

    def _local(self, days: int, hour: int) -> datetime:
        day = self.today + timedelta(days=days)
        return datetime(day.year, day.month, day.day, hour, tzinfo=periods.LOCAL)

    def _outages(self) -> _Outages:
        t = self.topology
        feeders = len(t.feeder_substation)
        substations = len(t.substation_names)
        fault_feeder = 1
        maintenance_feeder = 2
        maintenance_substation = 3
        # Transformer areas on feeders 4 and 5 (area index a sits on feeder a % feeders).
        construction_areas = [4, 4 + feeders]
        connection_area = 5
        shedding_feeder = 6
        assert substations > maintenance_substation and feeders > shedding_feeder
        now = self.now
        rows: list[tuple[object, ...]] = []

        def add(
            kind: OutageKind,
            scope: OutageScope,
            where: int | None,
            starts: datetime,
            expected: datetime,
            restored: datetime | None,
            reason: str,
        ) -> int:
            substation = where + 1 if scope is OutageScope.SUBSTATION and where is not None else None
            feeder = where + 1 if scope is OutageScope.FEEDER and where is not None else None
            rows.append(
                (len(rows) + 1, kind.value, scope.value, substation, feeder, starts, expected, restored, reason, now)
            )
            return len(rows)

        fault = add(
            OutageKind.FAULT,
            OutageScope.FEEDER,
            fault_feeder,
            now - timedelta(minutes=40),
            now + timedelta(hours=2),
            None,
            f"{t.feeder_names[fault_feeder]}发生故障，抢修人员正在全力抢修",
        )
        add(
            OutageKind.PLANNED_MAINTENANCE,
            OutageScope.FEEDER,
            maintenance_feeder,
            self._local(1, 8),
            self._local(1, 17),
            None,
            f"{t.feeder_names[maintenance_feeder]}计划检修",
        )
        add(
            OutageKind.PLANNED_MAINTENANCE,
            OutageScope.SUBSTATION,
            maintenance_substation,
            self._local(3, 7),
            self._local(3, 15),
            None,
            f"{t.substation_names[maintenance_substation]}设备年度检修",
        )
        construction = add(
            OutageKind.GRID_CONSTRUCTION,
            OutageScope.TRANSFORMER_AREAS,
            None,
            self._local(2, 9),
            self._local(2, 16),
            None,
            "配电网升级改造施工",
        )
        connection = add(
            OutageKind.NEW_CONNECTION,
            OutageScope.TRANSFORMER_AREAS,
            None,
            self._local(1, 14),
            self._local(1, 16),
            None,
            "新用户接入电网施工",
        )
        add(
            OutageKind.LOAD_SHEDDING,
            OutageScope.FEEDER,
            shedding_feeder,
            self._local(4, 10),
            self._local(4, 12),
            None,
            "电力供应紧张，执行有序用电方案",
        )
        for n in range(6):
            starts = self._local(-7 * (n + 1), 9)
            kind = (OutageKind.FAULT, OutageKind.PLANNED_MAINTENANCE)[n % 2]
            add(
                kind,
                OutageScope.FEEDER,
                (n * 5 + 3) % feeders,
                starts,
                starts + timedelta(hours=4),
                starts + timedelta(hours=3, minutes=20),
                "线路故障抢修" if kind is OutageKind.FAULT else "计划检修",
            )
        self.loader.write(
            Outage,
            (
                "id",
                "kind",
                "scope",
                "substation_id",
                "feeder_id",
                "starts_at",
                "expected_restoration_at",
                "restored_at",
                "reason",
                "created_at",
            ),
            rows,
        )
        area_rows = [(construction, a + 1) for a in construction_areas] + [(connection, connection_area + 1)]
        self.loader.write(OutageArea, ("outage_id", "transformer_area_id"), area_rows)
        return _Outages(fault, fault_feeder, maintenance_feeder, maintenance_substation, construction_areas)

    # --- work orders: just enough for the customer 360 to show open ones ---

    def _work_orders(self, contacts: list[tuple[int, int, int, str, datetime]], outages: _Outages) -> None:
        rows: list[tuple[object, ...]] = []
        stamp = self.today.strftime("%Y%m%d")

        def add(kind: str, status: str, cid: int, aid: int, contact: int | None, summary: str, at: datetime) -> None:
            closed = None if status == "open" else at + timedelta(days=2)
            # Closed demo orders went the whole way; open ones wait at the city dispatch.
            state = "created" if status == "open" else "archived"
            number = f"GD{stamp}{len(rows) + 1:06d}"
            rows.append((len(rows) + 1, number, kind, status, state, cid, aid, contact, summary, at, closed))

        for contact_id, cid, aid, disposition, started in contacts:
            if disposition == "complaint":
                recent = self.now - started < timedelta(days=7)
                add("complaint", "open" if recent else "closed", cid, aid, contact_id, "客户投诉，待回访", started)
        fault_areas = {a for a, f in enumerate(self.topology.area_feeder) if f == outages.fault_feeder}
        reported = 0
        for plan in self.accounts:
            if reported < 3 and self.account_area[plan.id] in fault_areas:
                add(
                    "repair",
                    "open",
                    plan.customer,
                    plan.id,
                    None,
                    "客户报修：家中停电",
                    self.now - timedelta(minutes=30),
                )
                reported += 1
            if plan.opened_on == self.today.replace(day=1):
                add(
                    "business",
                    "open",
                    plan.customer,
                    plan.id,
                    None,
                    "新装用电，待装表接电",
                    self.now - timedelta(days=1),
                )
        self.loader.write(
            WorkOrder,
            (
                "id",
                "number",
                "kind",
                "status",
                "state",
                "customer_id",
                "account_id",
                "contact_id",
                "summary",
                "created_at",
                "closed_at",
            ),
            rows,
        )

    # --- tiers and key-account managers ---

    def _tiers(self) -> dict[int, int]:
        """Set each customer's tier by the same rule as `crm retier`; key accounts get a manager. Returns how
        many key accounts each manager has."""
        changes: list[dict[str, object]] = []
        managed: dict[int, int] = {}
        for row in self.customer_rows:
            cid = int(str(row[0]))
            b = self.behaviour[cid]
            decision = decide_tier(
                Behaviour(
                    CustomerClass(str(row[2])),
                    int(str(row[4])),
                    b.kwh,
                    b.bills,
                    b.paid_late,
                    b.overdue,
                    b.arrears_fen,
                    b.complaints,
                ),
                self.thresholds,
            )
            if decision.tier is Tier.STANDARD:
                continue
            manager = None
            if decision.tier is Tier.KEY_ACCOUNT:
                manager = self.manager_ids[len(changes) % len(self.manager_ids)]
                managed[manager] = managed.get(manager, 0) + 1
            row[3] = decision.tier.value
            changes.append({"b_id": cid, "b_tier": decision.tier, "b_manager": manager})
        if changes:
            self.connection.execute(
                update(Customer)
                .where(Customer.id == bindparam("b_id"))
                .values(tier=bindparam("b_tier"), account_manager_id=bindparam("b_manager")),
                changes,
            )
        self.bar.update(self.n - self.bar.n)
        return managed

    # --- demo callers, one per scenario ---

    def _demo_callers(self, outages: _Outages) -> tuple[DemoCaller, ...]:
        t = self.topology
        shared_numbers = {cid for cid in self.phones if cid % 97 == 1 and cid > 1}
        first_of_month = self.today.replace(day=1)

        def single(plan: _AccountPlan) -> bool:
            return len(self.customer_accounts[plan.customer]) == 1 and plan.customer not in shared_numbers

        def area_feeder(plan: _AccountPlan) -> int:
            return t.area_feeder[self.account_area[plan.id]]

        ordinary = {outages.fault_feeder, outages.maintenance_feeder}
        scenarios: list[tuple[str, _AccountPlan | None]] = [
            (
                "all paid",
                next(
                    (
                        p
                        for p in self.accounts
                        if single(p)
                        and p.customer_class is CustomerClass.RESIDENTIAL
                        and p.payer == "punctual"
                        and not p.prepaid
                        and p.opened_on < first_of_month - timedelta(days=400)
                        and area_feeder(p) not in ordinary
                        and t.feeder_substation[area_feeder(p)] != outages.maintenance_substation
                    ),
                    None,
                ),
            ),
            (
                "in arrears",
                next((p for p in self.accounts if single(p) and self.behaviour[p.customer].overdue >= 2), None),
            ),
            (
                "active fault",
                next((p for p in self.accounts if single(p) and area_feeder(p) == outages.fault_feeder), None),
            ),
            (
                "planned outage",
                next((p for p in self.accounts if single(p) and area_feeder(p) == outages.maintenance_feeder), None),
            ),
            (
                "several accounts",
                next((p for p in self.accounts if len(self.customer_accounts[p.customer]) >= 10), None),
            ),
            (
                "key account",
                next(
                    (
                        p
                        for p in self.accounts
                        if p.customer_class is CustomerClass.INDUSTRIAL
                        and self.customer_rows[p.customer - 1][3] == Tier.KEY_ACCOUNT.value
                    ),
                    None,
                ),
            ),
            (
                "critical load",
                next((p for p in self.accounts if p.customer_class is CustomerClass.CRITICAL_LOAD), None),
            ),
            ("no bills yet", next((p for p in self.accounts if single(p) and p.opened_on == first_of_month), None)),
            ("prepaid", next((p for p in self.accounts if single(p) and p.prepaid), None)),
            ("shared number", next((p for p in self.accounts if p.customer in shared_numbers), None)),
        ]
        callers: list[DemoCaller] = []
        hashes: list[dict[str, object]] = []
        for scenario, plan in scenarios:
            if plan is None:
                continue
            secret = f"{secrets.randbelow(10**6):06d}"
            hashes.append({"b_id": plan.customer, "b_hash": hash_secret(secret)})
            callers.append(
                DemoCaller(
                    scenario,
                    self.phones[plan.customer][-1 if scenario == "shared number" else 0],
                    self.account_numbers[plan.id],
                    str(self.customer_rows[plan.customer - 1][1]),
                    secret,
                )
            )
        self.connection.execute(
            update(Customer).where(Customer.id == bindparam("b_id")).values(verification_hash=bindparam("b_hash")),
            hashes,
        )
        return tuple(callers)


@dataclass(frozen=True)
class _Outages:
    fault: int
    fault_feeder: int
    maintenance_feeder: int
    maintenance_substation: int
    construction_areas: list[int]


def _agents_in(connection: Connection) -> tuple[DemoAgent, ...]:
    """The agents already in the database, for the summary of a seed that exists."""
    skills: dict[int, list[str]] = {}
    for agent_id, code in connection.execute(
        select(AgentSkill.agent_id, Skill.code).join(Skill, Skill.id == AgentSkill.skill_id).order_by(Skill.id)
    ):
        skills.setdefault(agent_id, []).append(code)
    managed = {
        manager: count
        for manager, count in connection.execute(
            select(Customer.account_manager_id, func.count())
            .where(Customer.account_manager_id.is_not(None))
            .group_by(Customer.account_manager_id)
        )
    }
    query = select(Agent.id, Agent.code, Agent.name, Site.name, Agent.seat).join(Site, Site.id == Agent.site_id)
    return tuple(
        DemoAgent(code, name, site, seat, tuple(skills.get(agent_id, ())), int(managed.get(agent_id, 0)))
        for agent_id, code, name, site, seat in connection.execute(query.order_by(Agent.id))
    )
