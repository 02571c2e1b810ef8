"""The work-order quality of the agents' assessment (座席考核): per agent, the orders they created in a period and
how many of those a county returned (退单) at least once."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import exists, func, select
from sqlalchemy.orm import Session, sessionmaker

from crm.models import Agent, User
from crm.work_order_models import WorkOrder, WorkOrderStep


@dataclass(frozen=True)
class OrderQuality:
    orders_created: int
    orders_returned: int


class OrderQualityReport:
    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self.sessions = sessions

    def by_agent(self, start: datetime, end: datetime) -> dict[str, OrderQuality]:
        """Per agent's staff number: the orders they created in [start, end) and how many of those were returned;
        agents who created none are not listed."""
        returned = exists().where(WorkOrderStep.work_order_id == WorkOrder.id, WorkOrderStep.action == "return")
        query = (
            select(Agent.code, func.count(WorkOrder.id), func.count(WorkOrder.id).filter(returned))
            .join(User, User.id == WorkOrder.created_by_id)
            .join(Agent, Agent.id == User.agent_id)
            .where(WorkOrder.created_at >= start, WorkOrder.created_at < end)
            .group_by(Agent.code)
        )
        with self.sessions() as session:
            return {code: OrderQuality(made, back) for code, made, back in session.execute(query)}
