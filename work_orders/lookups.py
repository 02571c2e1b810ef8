"""Reads the pages need beside the work-order flow (work_orders/service.py): the county companies an order can be
dispatched to, whether an outage exists, and the planned outages a notice can be made for."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from crm import grid
from crm.models import CountyCompany, Outage
from crm.vocabulary import OutageKind
from hotline import periods
from work_orders.records import OutageSummary
from work_orders.service import WorkOrderService

# The planned outages listed at most, the soonest first.
PLANNED_LISTED = 200


@dataclass(frozen=True)
class County:
    """A county company (县公司) an order can be dispatched to."""

    id: int
    code: str
    name: str


class WorkOrderLookups:
    def __init__(
        self,
        sessions: sessionmaker[Session],
        orders: WorkOrderService,
        clock: Callable[[], datetime] = periods.now_utc,
    ) -> None:
        self.sessions = sessions
        self.orders = orders
        self.clock = clock

    def counties(self) -> list[County]:
        """Every county company, by code."""
        with self.sessions() as session:
            rows = session.execute(
                select(CountyCompany.id, CountyCompany.code, CountyCompany.name).order_by(CountyCompany.code)
            )
            return [County(county_id, code, name) for county_id, code, name in rows]

    def outage_exists(self, outage_id: int) -> bool:
        with self.sessions() as session:
            return session.get(Outage, outage_id) is not None

    def planned_outages(self) -> list[OutageSummary]:
        """Outages announced ahead (every kind but a fault) and not over yet (crm/grid.py's rule), the soonest
        first: those a planned-outage notice can be made for."""
        with self.sessions() as session:
            ids = list(
                session.scalars(
                    select(Outage.id)
                    .where(Outage.kind != OutageKind.FAULT, grid.not_over(self.clock()))
                    .order_by(Outage.starts_at, Outage.id)
                    .limit(PLANNED_LISTED)
                )
            )
        return [self.orders.outage(outage_id).outage for outage_id in ids]
