"""What the web layer talks to: the database's services, the ACD's desk, Redis; built once per process."""

from __future__ import annotations

import threading
from datetime import datetime
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

import redis
from flask import current_app
from sqlalchemy import exists, func, or_, select
from sqlalchemy.orm import Session, sessionmaker

from campaigns import rules as campaigns
from campaigns.service import CampaignService
from crm import db
from crm.models import Agent, Outage, User, WorkOrder, WorkOrderStep
from crm.services import CustomerService
from crm.users import Users, agent_skills
from crm.vocabulary import OutageKind
from cti.acd import policy
from cti.acd.process import AgentDesk
from cti.screenpop import ScreenPop
from hotline.asterisk import Asterisk
from hotline.config import Config
from reporting import periods
from reporting.ivr_funnel import NOW_KEY, IvrFunnel, day_key, funnel
from reporting.reports import Reports
from work_orders.rules import load_policy
from work_orders.service import OutageSummary, WorkOrderService

if TYPE_CHECKING:
    from cti.web.live import LiveHub


class Backend:
    def __init__(self, config: Config, sessions: sessionmaker[Session] | None = None) -> None:
        self.config = config
        self.sessions = sessions or db.session_factory(db.make_engine(config.database_url))
        self.users = Users(self.sessions)
        self.customers = CustomerService(self.sessions)
        self.redis = redis.Redis.from_url(
            config.redis.effective_url(), socket_timeout=3, socket_connect_timeout=3, decode_responses=True
        )
        self._desk_lock = threading.Lock()
        self._desk: AgentDesk | None = None

    @property
    def desk(self) -> AgentDesk:
        """The ACD's desk, opened on first use (pages that never touch the ACD never connect to ARI)."""
        with self._desk_lock:
            if self._desk is None:
                self._desk = AgentDesk(self.config, self.policy)
            return self._desk

    def users_skills(self, code: str) -> tuple[str, ...]:
        return agent_skills(self.sessions, code)

    @cached_property
    def reports(self) -> Reports:
        return Reports(self.sessions)

    @cached_property
    def orders(self) -> WorkOrderService:
        return WorkOrderService(self.sessions, load_policy(self.config.work_orders.policy))

    def overdue_orders(self) -> int:
        return self.orders.overdue_count()

    def orders_by_agent(self, start: datetime, end: datetime) -> dict[str, dict[str, int]]:
        """Per agent's staff number: work orders they created in [start, end), and how many of those a county
        returned (退单) at least once: the work-order quality of the assessment."""
        returned = exists().where(WorkOrderStep.work_order_id == WorkOrder.id, WorkOrderStep.action == "return")
        query = (
            select(Agent.code, func.count(WorkOrder.id), func.count(WorkOrder.id).filter(returned))
            .join(User, User.id == WorkOrder.created_by_id)
            .join(Agent, Agent.id == User.agent_id)
            .where(WorkOrder.created_at >= start, WorkOrder.created_at < end)
            .group_by(Agent.code)
        )
        with self.sessions() as session:
            return {
                code: {"orders_created": made, "orders_returned": back} for code, made, back in session.execute(query)
            }

    def ivr_funnel(self) -> IvrFunnel:
        """The self-service funnel now: the calls in the IVR by menu and today's outcomes, from what the IVR keeps in
        Redis (reporting/ivr_funnel.py). Raises redis.RedisError when Redis does not answer."""
        now = periods.now_utc()
        # In one transaction: the calls now and the day's counts as of the same moment.
        pipe = self.redis.pipeline(transaction=True)
        pipe.hgetall(NOW_KEY)
        pipe.hgetall(day_key(now))
        calls_now, day = pipe.execute()
        return funnel(calls_now, day, int(now.timestamp() * 1000))

    @cached_property
    def campaigns(self) -> CampaignService:
        # The policy file the dialler reads.
        return CampaignService(self.sessions, campaigns.load_policy(self.config.outbound.policy))

    def planned_outages(self) -> list[OutageSummary]:
        """Outages announced ahead (every kind but a fault) and not over yet, the soonest first: those a planned-outage
        notice can be made for."""
        now = periods.now_utc()
        with self.sessions() as session:
            ids = list(
                session.scalars(
                    select(Outage.id)
                    .where(
                        Outage.kind != OutageKind.FAULT,
                        Outage.restored_at.is_(None),
                        or_(Outage.expected_restoration_at.is_(None), Outage.expected_restoration_at > now),
                    )
                    .order_by(Outage.starts_at, Outage.id)
                    .limit(200)
                )
            )
        return [self.orders.outage(outage_id).outage for outage_id in ids]

    def agent_id_of(self, user_id: int) -> int | None:
        """The staff record (agents.id) of a login: an account manager's tasks are filed under it."""
        with self.sessions() as session:
            return session.scalar(select(User.agent_id).where(User.id == user_id))

    def agent_id_by_code(self, code: str) -> int | None:
        with self.sessions() as session:
            return session.scalar(select(Agent.id).where(Agent.code == code))

    @cached_property
    def screenpop(self) -> ScreenPop:
        return ScreenPop(self.sessions, self.customers, lambda call: self.desk.call(call))

    @cached_property
    def hub(self) -> LiveHub:
        from cti.web.live import LiveHub

        return LiveHub(self)

    @cached_property
    def policy(self) -> policy.Policy:
        return policy.load(self.config.acd.policy)

    @cached_property
    def recordings(self) -> Path:
        """Where MixMonitor writes the ACD's call recordings (acd-<uniqueid>.wav)."""
        return Asterisk(self.config).host_dir / "spool" / "monitor"

    def close(self) -> None:
        if "hub" in self.__dict__:
            self.hub.stop()
        with self._desk_lock:
            if self._desk is not None:
                self._desk.close()
                self._desk = None
        self.redis.close()


def backend() -> Backend:
    """The current application's backend."""
    found: Backend = current_app.extensions["hotline"]
    return found
