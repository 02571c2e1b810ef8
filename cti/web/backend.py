"""What the web layer talks to: the database's services, the ACD's desk, Redis; built once per process."""

from __future__ import annotations

import threading
from datetime import datetime
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

import redis
from flask import current_app
from sqlalchemy import exists, func, select
from sqlalchemy.orm import Session, sessionmaker

from crm import db
from crm.models import Agent, User, WorkOrder, WorkOrderStep
from crm.reports import Reports
from crm.services import CustomerService
from crm.users import Users, agent_skills
from crm.work_order_service import WorkOrderService
from crm.work_orders import load_policy
from cti import policy
from cti.desk import AgentDesk
from cti.screenpop import ScreenPop
from hotline.asterisk import Asterisk
from hotline.config import Config

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
