"""The end-to-end harness: one real hotline (Asterisk, Redis, database, FastAGI) per test session on free ports,
and one real SIP stack that places calls into it and registers agent seats."""

from __future__ import annotations

import contextlib
import csv
import itertools
import shutil
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from crm.models import Contact
from hotline.config import Config
from hotline.stack import Hotline
from testbed.call_events import CallEvents
from testbed.phones import CallResult
from testbed.sandbox import free_port, sandbox_config
from testbed.softphone import SipStack

_numbers = itertools.count(int(time.time()) % 10_000_000)
# A bound on a scripted call (one that follows what the hotline reports), reached only when the hotline does not do
# what the test expects; the longest expected calls (three silences in a menu) take about 25 s.
BOUND_S = 90.0


def new_caller_number() -> str:
    """A caller number no other test in this session uses, so each test finds its own calls."""
    return f"139{next(_numbers):08d}"


def wait_for(predicate, timeout: float = 10.0, interval: float = 0.1):  # type: ignore[no-untyped-def]
    """Poll until predicate() returns something truthy; return it, or fail the test after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout} s waiting for {getattr(predicate, '__name__', predicate)}")
        time.sleep(interval)  # not a synchronisation: the poll interval of a bounded wait for a reported state


# The test files that take longest (seconds of one run, on two cores), started first so that the processes of a
# parallel run (make test: pytest -n N --dist loadfile) finish together; the rest follow in their usual order.
SLOW_FILES = {
    "test_acd.py": 260,
    "test_campaign_calls.py": 200,
    "test_ivr_calls.py": 180,
    "test_web_supervisor.py": 160,
    "test_acd_supervision.py": 160,
    "test_lifecycle.py": 135,
    "test_web_orders.py": 80,
    "test_work_order_calls.py": 70,
    "test_calls.py": 60,
}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    items.sort(key=lambda item: -SLOW_FILES.get(item.path.name, 0))


@dataclass
class Testbed:
    __test__ = False  # a harness, not a test class

    hotline: Hotline
    sip: SipStack
    # What the hotline reports about each call, for callers that act on it (script=..., until=...).
    events: CallEvents

    @property
    def config(self) -> Config:
        return self.hotline.config

    @property
    def domain(self) -> str:
        return f"{self.config.sip.host}:{self.config.sip.port}"

    def call(
        self, extension: str = "95598", *, caller_number: str | None = None, trunk: bool = False, **options
    ) -> CallResult:  # type: ignore[no-untyped-def]
        """A real SIP call: from the self-test endpoint (with the caller number in P-Asserted-Identity), or
        as the carrier trunk (from the trunk's port, the caller number as the From user). A caller with a `script`
        ([(menu, keys), ...]) presses each step's keys when the IVR reports that it waits at that menu."""
        # A bound, reached only when something is wrong: Asterisk answers at once. Set-ups seen to pass 15 s were most
        # likely baresip-python's dial race (SipStack._dial), but the phone shares two cores with everything else.
        options.setdefault("establish_timeout", 30.0)
        if "script" in options or "until" in options:
            options["events"] = self.events
        if trunk:
            ua = self.sip.run(self.sip.caller(caller_number or "anonymous", self.domain))
            number = None
        else:
            ua = self.sip.run(self.sip.caller("selftest", self.domain, self.config.secrets.selftest_password))
            number = caller_number
        return self.sip.run(self.sip.call(ua, f"sip:{extension}@{self.domain}", caller_number=number, **options))

    def contacts(self, caller_number: str) -> list[Contact]:
        return self.hotline.contacts.by_caller(caller_number)

    def cdrs(self, src: str | None = None) -> list[dict[str, str]]:
        """Asterisk's own call records (cdr_csv), optionally only those from one caller number."""
        path = self.hotline.asterisk.cdr_csv
        if not path.exists():
            return []
        fields = [
            "accountcode",
            "src",
            "dst",
            "dcontext",
            "clid",
            "channel",
            "dstchannel",
            "lastapp",
            "lastdata",
            "start",
            "answer",
            "end",
            "duration",
            "billsec",
            "disposition",
            "amaflags",
            "uniqueid",
            "userfield",
        ]
        with open(path, newline="") as f:
            rows = [dict(zip(fields, row, strict=False)) for row in csv.reader(f)]
        return [r for r in rows if src is None or r["src"] == src]

    def asterisk_log(self) -> str:
        path = self.hotline.asterisk.messages_log
        return path.read_text() if path.exists() else ""


@pytest.fixture(scope="session")
def sip() -> Iterator[SipStack]:
    stack = SipStack("127.0.0.1", free_port())
    yield stack
    stack.close()


@pytest.fixture(scope="session")
def testbed(tmp_path_factory: pytest.TempPathFactory, sip: SipStack) -> Iterator[Testbed]:
    state_dir = tmp_path_factory.mktemp("hotline")
    # Two ACD routers share the queues, as in a production pair; the test policy has short timeouts.
    config = sandbox_config(
        state_dir,
        trunk_port=sip.port,
        HOTLINE_ACD_ROUTERS="2",
        HOTLINE_ACD_POLICY=str(Path(__file__).with_name("acd_policy.toml")),
        HOTLINE_SEATS_COUNT="24",
        # Overdue work orders are escalated within a second, so that a test sees it without waiting long.
        HOTLINE_WORK_ORDERS_SWEEP_S="1",
        # The outbound tests run their own dialler on a clock of their own (test_campaign_calls.py): none here.
        HOTLINE_OUTBOUND_DIALLER="0",
    )
    hotline = Hotline(config)
    hotline.start()
    events = CallEvents(config.redis.effective_url(), sip.loop)
    yield Testbed(hotline, sip, events)
    events.close()
    hotline.stop()
    # The instance's folder inside the shared Asterisk root (config, spool, recordings): a test's is thrown away.
    shutil.rmtree(hotline.asterisk.host_dir, ignore_errors=True)


@pytest.fixture
def state_dir(tmp_path: Path) -> Path:
    return tmp_path / "state"


# -- a small utility of the IVR tests' own, beside whatever demo data the sandbox holds ------------------------


@dataclass
class TestCustomer:
    __test__ = False

    phone: str
    account_number: str
    account_id: int
    customer_id: int
    password: str | None


class TestUtility:
    """County 99 with one substation and three feeders: `fault_feeder` has an active fault outage, `planned_feeder`
    planned maintenance from tomorrow, `quiet_feeder` nothing. Customers are added per test with exactly the
    bills, meter and password the test needs; their numbers come from new_caller_number()."""

    __test__ = False
    COUNTY = 99

    def __init__(self, sessions: Any) -> None:
        from crm.models import Agent, Site
        from crm.vocabulary import OutageKind, OutageScope
        from demo.builders import add_county, add_outage, add_substation

        self.sessions = sessions
        self._serials = itertools.count(1)
        now = datetime.now(UTC)
        with sessions.begin() as s:
            county = add_county(s, str(self.COUNTY), "测试县供电公司")
            site = Site(code="ivr-test", name="测试座席", county_company_id=county.id, seats=2)
            s.add(site)
            substation = add_substation(s, county.id, "T-SUB", "测试变")
            self.substation_id = substation.id
            self.manager = Agent(code="T-KAM", name="测试客户经理", site_id=site.id, seat=None, active=True)
            s.add(self.manager)
            self.feeders: dict[str, int] = {}
            self.areas: dict[str, int] = {}
            for name in ("fault", "planned", "quiet"):
                feeder_id = self._feeder(s, name)
                if name == "fault":
                    add_outage(
                        s,
                        OutageKind.FAULT,
                        OutageScope.FEEDER,
                        feeder_id=feeder_id,
                        starts_at=now - timedelta(minutes=40),
                        expected_restoration_at=now + timedelta(hours=3),
                        reason="线路故障",
                        created_at=now,
                    )
                if name == "planned":
                    add_outage(
                        s,
                        OutageKind.PLANNED_MAINTENANCE,
                        OutageScope.FEEDER,
                        feeder_id=feeder_id,
                        starts_at=now + timedelta(days=1),
                        expected_restoration_at=now + timedelta(days=1, hours=8),
                        reason="计划检修",
                        created_at=now,
                    )
            s.flush()
            self.manager_code = self.manager.code

    def _feeder(self, session: Any, name: str) -> int:
        """Feeder T-{name} (10千伏{name}线) of the test substation with one transformer area: both ids under `name`
        in self.feeders and self.areas. Returns the feeder's id."""
        from demo.builders import add_feeder

        area = f"T-{name}-1"
        feeder = add_feeder(session, self.substation_id, f"T-{name}", f"10千伏{name}线", [(area, f"{name}台区")])
        self.feeders[name] = feeder.id
        self.areas[name] = feeder.areas[area]
        return feeder.id

    def feeder_of_its_own(self, name: str) -> str:
        """A feeder with one transformer area of its own, with no outage on them: utility.customer(area=name)."""
        with self.sessions.begin() as s:
            self._feeder(s, name)
        return name

    def customer(
        self,
        *,
        area: str = "quiet",
        phones: int = 1,
        accounts: int = 1,
        password: str | None = None,
        tier: str = "standard",
        shared_meter: bool = False,
        prepaid_balance_fen: int | None = None,
        due_fen: int = 0,
        arrears_fen: int = 0,
        last_payment_fen: int = 0,
        phone: str | None = None,
    ) -> list[TestCustomer]:
        """A customer with `accounts` accounts at `area` (each with the same bills), registered on a new phone
        number (or none, phones=0). The amounts: a current unpaid bill, an overdue one, the last payment."""
        from crm import account_numbers
        from crm.tiers import CustomerClass, Tier
        from crm.verification import hash_secret
        from demo.builders import NewAccount, NewBill, NewCustomer, NewPayment, add_customers

        number = phone or new_caller_number()
        today = datetime.now(UTC).date()
        bills = []
        if due_fen:
            bills.append(NewBill("2099-01", 100, due_fen, today - timedelta(days=5), today + timedelta(days=10)))
        if arrears_fen:
            bills.append(NewBill("2098-12", 100, arrears_fen, today - timedelta(days=40), today - timedelta(days=15)))
        payments = []
        if last_payment_fen:
            payments.append(NewPayment(datetime.now(UTC) - timedelta(days=30), last_payment_fen, "wechat"))
        serials = [next(self._serials) for _ in range(accounts)]
        key_account = tier == "key_account"
        new = NewCustomer(
            name="测试客户",
            created_at=datetime.now(UTC),
            phones=[(number, "mobile")] if phones else [],
            customer_class=CustomerClass.INDUSTRIAL if key_account else CustomerClass.RESIDENTIAL,
            tier=Tier(tier),
            contracted_kva=630 if key_account else 8,
            account_manager_id=self.manager.id if key_account else None,
            verification_hash=hash_secret(password) if password else None,
            accounts=[
                NewAccount(
                    number=account_numbers.make(self.COUNTY, serial),
                    transformer_area_id=self.areas[area],
                    box_code=f"T-BOX-{serial}",
                    meter_number=f"T-M-{serial}",
                    address="测试路1号",
                    opened_on=today - timedelta(days=800),
                    shared_meter=shared_meter,
                    prepaid=prepaid_balance_fen is not None,
                    balance_fen=prepaid_balance_fen or 0,
                    bills=bills,
                    payments=payments,
                )
                for serial in serials
            ],
        )
        with self.sessions.begin() as s:
            (added,) = add_customers(s, [new])
            return [
                TestCustomer(number if phones else "", account.number, account.id, added.customer.id, password)
                for account in added.accounts
            ]


@pytest.fixture(scope="session")
def utility(testbed: Testbed) -> TestUtility:
    return TestUtility(testbed.hotline.contacts.sessions)


# -- the crm tests' databases: each crm test runs on SQLite and on PostgreSQL ----------------------------------

CRM_BACKENDS = ["sqlite", "postgresql"]
# The demo size the crm service tests read: small enough to seed in a second or two, with every scenario in it.
CRM_DEMO_CUSTOMERS = 2000


@contextlib.contextmanager
def scratch_database(backend: str, directory: Path) -> Iterator[str]:
    """The URL of a new, empty database: an SQLite file in `directory`, or a PostgreSQL database of its own on
    the server at $HOTLINE_TEST_POSTGRES_URL (dropped afterwards). Without that URL the PostgreSQL case is
    skipped, except in CI (CI=true), where it fails: CI must test both."""
    import os
    import uuid

    from sqlalchemy import create_engine, make_url, text

    if backend == "sqlite":
        yield f"sqlite:///{directory / 'crm.db'}"
        return
    base = os.environ.get("HOTLINE_TEST_POSTGRES_URL", "")
    if not base:
        message = "HOTLINE_TEST_POSTGRES_URL is not set (make test sets it from scripts/test-postgres)"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    name = f"hotline_t_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        yield make_url(base).set(database=name).render_as_string(hide_password=False)
    finally:
        _drop_database(admin, name)
        admin.dispose()


def _drop_database(admin: Any, name: str) -> None:
    """Drop a test database. FORCE ends the test's own leftover connections, but not an autovacuum worker that
    happens to be in it (a superuser's), which makes the drop fail now and then: try again shortly, and leave a
    database behind with a warning rather than fail a test that passed."""
    import warnings

    from sqlalchemy import text
    from sqlalchemy.exc import DBAPIError

    for attempt in range(20):
        try:
            with admin.connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            return
        except DBAPIError as exc:
            if attempt == 19:
                warnings.warn(f"test database {name} left behind: {exc}", stacklevel=2)
                return
            time.sleep(0.25)  # not a synchronisation: a pause before trying the drop again


@pytest.fixture(params=CRM_BACKENDS)
def empty_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A new database with no tables at all, on each backend."""
    with scratch_database(request.param, tmp_path) as url:
        yield url


@dataclass
class DemoDatabase:
    """A migrated database holding a seeded demo utility."""

    __test__ = False

    backend: str
    url: str
    engine: Any
    sessions: Any
    summary: Any  # demo.seed.DemoSummary

    def caller(self, scenario: str) -> Any:
        """The demo caller (demo.seed.DemoCaller) of a scenario, e.g. "in arrears"."""
        return next(c for c in self.summary.callers if c.scenario == scenario)


@contextlib.contextmanager
def demo_database(backend: str, directory: Path, customers: int) -> Iterator[DemoDatabase]:
    from crm import db
    from demo import seed

    with scratch_database(backend, directory) as url:
        db.upgrade(url)
        engine = db.make_engine(url)
        try:
            summary = seed.seed_if_empty(engine, customers, progress=False)
            yield DemoDatabase(backend, url, engine, db.session_factory(engine), summary)
        finally:
            engine.dispose()


@pytest.fixture(scope="session", params=CRM_BACKENDS)
def demo_utility(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoDatabase]:
    """The demo utility of CRM_DEMO_CUSTOMERS customers, seeded once per backend and shared: read it, never
    change it (use small_demo_utility for that)."""
    with demo_database(request.param, tmp_path_factory.mktemp("crm-demo"), CRM_DEMO_CUSTOMERS) as database:
        yield database


@pytest.fixture(params=CRM_BACKENDS)
def small_demo_utility(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[DemoDatabase]:
    """A demo utility of 300 customers of this test's own, to change as it likes."""
    with demo_database(request.param, tmp_path, 300) as database:
        yield database


# -- the pages and the API ---------------------------------------------------------------------------------------

WEB_PASSWORD = "correct horse 95598"


@dataclass
class WebLogins:
    """Logins of the sandbox's demo seed, with a password the tests know (the seed's own are random)."""

    __test__ = False

    agents: tuple[str, ...]  # staff numbers: each is also the agent's login
    supervisor: str = "supervisor"
    admin: str = "admin"
    dispatcher: str = "dispatch"
    password: str = WEB_PASSWORD


@pytest.fixture(scope="session")
def web_logins(testbed: Testbed) -> WebLogins:
    from sqlalchemy import select

    from crm.models import Role, User
    from crm.users import set_password

    sessions = testbed.hotline.contacts.sessions
    with sessions() as s:
        logins = list(s.scalars(select(User.login).where(User.role == Role.AGENT).order_by(User.login)))
    chosen = WebLogins(agents=tuple(logins[:6]))
    for login in (*chosen.agents, chosen.supervisor, chosen.admin, chosen.dispatcher):
        assert set_password(sessions, login, WEB_PASSWORD), login
    return chosen


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Debian's headless Chromium, driven by Playwright (its own browser downloads are not used). One per test
    module: Playwright's synchronous API keeps an event loop running in the main thread while it is open, and a
    later module of the same process that runs its own (asyncio.run) must find none."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=shutil.which("chromium") or "/usr/bin/chromium",
            args=["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
        )
        yield chromium
        chromium.close()


@pytest.fixture
def monitor(browser: Any, testbed: Testbed, web_logins: WebLogins) -> Iterator[Any]:
    """The supervisor signed in, on the floor monitor (a Playwright page)."""
    from tests.test_web_browser import logged_in

    page = logged_in(browser, testbed, web_logins.supervisor, web_logins.password)
    assert page.url.endswith("/monitor")
    yield page
    page.context.close()


def on_acd_store(testbed: Testbed, work: Callable[[Any], Awaitable[None]]) -> None:
    """Run `work` on the ACD's Redis state (a cti.acd.store.AcdStore) of the testbed, on a thread of its own: a page
    test's thread has Playwright's event loop running on it."""
    import asyncio
    from concurrent.futures import ThreadPoolExecutor

    from cti.acd.store import AcdStore, connect_redis

    async def run() -> None:
        client = connect_redis(testbed.config.redis.effective_url())
        try:
            await work(AcdStore(client))
        finally:
            await client.aclose()

    with ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, run()).result(timeout=60)


@pytest.fixture(scope="module")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A Redis server of the module's own (the ACD store's tests flush it between scenarios)."""
    from hotline import redis_server

    tmp = tmp_path_factory.mktemp("redis")
    port = free_port()
    process = redis_server.start(port, tmp / "data", tmp / "redis.log")
    yield f"redis://127.0.0.1:{port}/0"
    redis_server.stop(process)


@pytest.fixture(scope="module")
def desk(testbed: Testbed) -> Iterator[Any]:
    """The ACD's desk (cti.acd.process.AgentDesk) on the testbed, as the CLI and the pages use it."""
    from cti.acd import routing
    from cti.acd.process import AgentDesk

    desk = AgentDesk(testbed.config, routing.load(testbed.config.acd.policy))
    yield desk
    desk.close()


@pytest.fixture(scope="module")
def ari(testbed: Testbed) -> Iterator[Any]:
    """An HTTP client on the testbed's ARI, to see what Asterisk holds (channels, bridges)."""
    import httpx

    config = testbed.config
    client = httpx.Client(
        base_url=f"http://{config.ari.host}:{config.ari.port}/ari", auth=(config.ari.user, config.secrets.ari_password)
    )
    yield client
    client.close()
