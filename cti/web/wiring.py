"""The web process's one wiring point: opens the database engine and Redis once, builds every service the views
use on them, and hands the lot to the application (`create_app(config, build(config))`). Views take what they need
from the application (`services()`); none opens a connection or builds a query."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from flask import current_app
from redis import Redis

from campaigns import policy as campaign_policy
from campaigns.lookups import CampaignLookups
from campaigns.service import CampaignService
from crm import db
from crm.accounts import Accounts
from crm.contacts import ContactLog
from crm.services import CustomerService
from crm.users import Users
from cti.acd import routing
from cti.acd.process import AgentDesk
from cti.screenpop import ScreenPop
from hotline import periods
from hotline.asterisk import Asterisk
from hotline.config import Config
from reporting.ivr_funnel import NOW_KEY, IvrFunnel, day_key, funnel
from reporting.order_quality import OrderQualityReport
from reporting.reports import Reports
from work_orders.lookups import WorkOrderLookups
from work_orders.policy import load_policy
from work_orders.service import WorkOrderService


@dataclass(eq=False)
class WebServices:
    """What the views talk to, built once per process by `build`: the database's services, Redis, the routing
    policy and the ACD's desk (opened on first use, so that pages that never touch the ACD never connect to ARI)."""

    config: Config
    sessions: db.Sessions  # for tests and tools to set up data: the views go through the services
    redis: Redis
    users: Users
    customers: CustomerService
    accounts: Accounts
    contacts: ContactLog
    reports: Reports
    order_quality: OrderQualityReport
    orders: WorkOrderService
    order_lookups: WorkOrderLookups
    campaigns: CampaignService
    campaign_lookups: CampaignLookups
    screenpop: ScreenPop
    recordings: Path  # where MixMonitor writes the ACD's call recordings (acd-<uniqueid>.wav)
    open_desk: Callable[[], AgentDesk]
    # A new connection for the live hub's subscription, each time it (re)subscribes (cti/web/live.py).
    events_client: Callable[[], Redis]
    _desk: AgentDesk | None = field(default=None, init=False)
    _desk_lock: threading.Lock = field(default_factory=threading.Lock, init=False)

    @property
    def desk(self) -> AgentDesk:
        """The ACD's desk, opened on first use."""
        with self._desk_lock:
            if self._desk is None:
                self._desk = self.open_desk()
            return self._desk

    def ivr_funnel(self) -> IvrFunnel:
        """The self-service funnel now: the calls in the IVR by menu and today's outcomes, from what the IVR keeps in
        Redis (reporting/ivr_funnel.py). Raises RedisError when Redis does not answer."""
        now = periods.now_utc()
        # In one transaction: the calls now and the day's counts as of the same moment.
        pipe = self.redis.pipeline(transaction=True)
        pipe.hgetall(NOW_KEY)
        pipe.hgetall(day_key(now))
        calls_now, day = pipe.execute()
        return funnel(calls_now, day, int(now.timestamp() * 1000))

    def close(self) -> None:
        with self._desk_lock:
            if self._desk is not None:
                self._desk.close()
                self._desk = None
        self.redis.close()


def build(config: Config, sessions: db.Sessions | None = None) -> WebServices:
    """The web process's services over one hotline's configuration: a new database engine unless `sessions` is
    given (tests share the test bed's), one Redis client, the ACD's desk on the routing policy when first used."""
    sessions = sessions or db.session_factory(db.make_engine(config.database_url))
    url = config.redis.effective_url()
    routing_policy = routing.load(config.acd.policy)
    customers = CustomerService(sessions)
    contacts = ContactLog(sessions)
    orders = WorkOrderService(sessions, load_policy(config.work_orders.policy))
    campaign_lookups = CampaignLookups(sessions)

    def events_client() -> Redis:
        return Redis.from_url(url, decode_responses=True, socket_connect_timeout=3, health_check_interval=10)

    built = WebServices(
        config=config,
        sessions=sessions,
        redis=Redis.from_url(url, socket_timeout=3, socket_connect_timeout=3, decode_responses=True),
        users=Users(sessions),
        customers=customers,
        accounts=Accounts(sessions),
        contacts=contacts,
        reports=Reports(sessions),
        order_quality=OrderQualityReport(sessions),
        orders=orders,
        order_lookups=WorkOrderLookups(sessions, orders),
        # On the policy file the dialler reads.
        campaigns=CampaignService(sessions, campaign_policy.load_policy(config.outbound.policy)),
        campaign_lookups=campaign_lookups,
        screenpop=ScreenPop(contacts, customers, campaign_lookups, lambda call: built.desk.call(call)),
        recordings=Asterisk(config).host_dir / "spool" / "monitor",
        open_desk=lambda: AgentDesk(config, routing_policy, sessions),
        events_client=events_client,
    )
    return built


def services() -> WebServices:
    """The services the current application was created with."""
    found: WebServices = current_app.extensions["hotline"]
    return found
