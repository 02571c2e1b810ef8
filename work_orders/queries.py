"""The work orders' read views for the pages and the API: an order's details with its history, pages of orders by
filter, the overdue list and count, and the outages raised from calls with their reports. Each runs inside a
session WorkOrderService opened; nothing here writes."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, exists, func, select
from sqlalchemy.orm import Session

from crm.models import Account, CountyCompany, Customer, Feeder, Outage, OutageArea, Substation, TransformerArea
from crm.tiers import Tier
from crm.work_order_models import OutageReport, WorkOrder, WorkOrderStep
from work_orders import store
from work_orders.records import (
    OrderDetail,
    OrderFilter,
    OrderLine,
    OrderPage,
    OutageDetail,
    OutageSummary,
    ReportLine,
    StepLine,
)
from work_orders.rules import (
    OPEN,
    Actor,
    Kind,
    Origin,
    State,
    UnknownOutageError,
    allowed_actions,
    is_overdue,
    time_left,
)

# The names as correlated subqueries rather than joins: a primary-key lookup per line shown, where PostgreSQL's
# planner, misjudging how many orders are overdue, would otherwise hash-join the whole customers table.
_CUSTOMER_NAME = select(Customer.name).where(Customer.id == WorkOrder.customer_id).scalar_subquery()
_COUNTY_NAME = select(CountyCompany.name).where(CountyCompany.id == WorkOrder.county_company_id).scalar_subquery()
_LINE_COLUMNS = select(
    WorkOrder.id,
    WorkOrder.number,
    WorkOrder.kind,
    WorkOrder.state,
    WorkOrder.origin,
    WorkOrder.anonymous,
    WorkOrder.summary,
    WorkOrder.customer_id,
    _CUSTOMER_NAME.label("customer_name"),
    WorkOrder.county_company_id,
    _COUNTY_NAME.label("county"),
    WorkOrder.created_at,
    WorkOrder.dispatched_at,
    WorkOrder.contact_deadline,
    WorkOrder.escalated_at,
    WorkOrder.crew_expected_at,
)

_DETAIL = (
    select(
        WorkOrder,
        Customer.name.label("customer_name"),
        Account.number.label("account_number"),
        TransformerArea.name.label("transformer_area"),
        Feeder.name.label("feeder"),
        CountyCompany.name.label("county"),
        OutageReport.outage_id.label("outage_id"),
    )
    .outerjoin(Customer, Customer.id == WorkOrder.customer_id)
    .outerjoin(Account, Account.id == WorkOrder.account_id)
    .outerjoin(TransformerArea, TransformerArea.id == WorkOrder.transformer_area_id)
    .outerjoin(Feeder, Feeder.id == WorkOrder.feeder_id)
    .outerjoin(CountyCompany, CountyCompany.id == WorkOrder.county_company_id)
    .outerjoin(OutageReport, OutageReport.work_order_id == WorkOrder.id)
)

# --- one order ---


def order_detail(session: Session, order_id: int, viewer: Actor, now: datetime) -> OrderDetail:
    """The order with its whole history, its clock as of `now`, and what `viewer` may do next."""
    # populate_existing: a transition changed the row with an UPDATE statement, behind the session's back.
    row = session.execute(_DETAIL.where(WorkOrder.id == order_id).execution_options(populate_existing=True)).one()
    order: WorkOrder = row[0]
    state = State(order.state)
    steps = tuple(
        StepLine(
            at=s.at,
            action=s.action,
            from_state=State(s.from_state) if s.from_state else None,
            to_state=State(s.to_state),
            actor=s.actor,
            role=s.role,
            county=county,
            notes=s.notes,
            evidence=tuple(s.evidence or ()),
            crew_expected_at=s.crew_expected_at,
        )
        for s, county in session.execute(
            select(WorkOrderStep, CountyCompany.name)
            .outerjoin(CountyCompany, CountyCompany.id == WorkOrderStep.county_company_id)
            .where(WorkOrderStep.work_order_id == order_id)
            .order_by(WorkOrderStep.id)
        )
    )
    return OrderDetail(
        id=order.id,
        number=order.number,
        kind=Kind(order.kind),
        state=state,
        status=order.status,
        origin=Origin(order.origin),
        anonymous=order.anonymous,
        summary=order.summary,
        customer_id=order.customer_id,
        customer_name=row.customer_name,
        tier=Tier(order.tier) if order.tier else None,
        account_number=row.account_number,
        address=order.address,
        supply_point_id=order.supply_point_id,
        transformer_area=row.transformer_area,
        feeder=row.feeder,
        county_id=order.county_company_id,
        county=row.county,
        contact_id=order.contact_id,
        callback_number=order.callback_number,
        created_by_id=order.created_by_id,
        created_at=order.created_at,
        dispatched_at=order.dispatched_at,
        contact_deadline=order.contact_deadline,
        time_left=time_left(state, order.contact_deadline, now),
        overdue=is_overdue(state, order.contact_deadline, now),
        contacted_at=order.contacted_at,
        escalated_at=order.escalated_at,
        crew_expected_at=order.crew_expected_at,
        closed_at=order.closed_at,
        outage_id=row.outage_id,
        steps=steps,
        actions=allowed_actions(state, viewer, order.county_company_id),
    )


# --- lists of orders ---


def order_page(
    session: Session, filters: OrderFilter, county: int | None, now: datetime, page: int, per_page: int
) -> OrderPage:
    """A page of the orders `filters` selects in `county` (None: any county), as of `now`, newest first (the
    overdue ones: the longest overdue first)."""
    conditions = _conditions(filters, county, now)
    query = _LINE_COLUMNS.where(*conditions)
    if filters.overdue:
        query = query.order_by(WorkOrder.contact_deadline, WorkOrder.id)
    else:
        query = query.order_by(WorkOrder.created_at.desc(), WorkOrder.id.desc())
    db = session.connection()
    total = db.execute(select(func.count()).select_from(WorkOrder).where(*conditions)).scalar_one()
    rows = db.execute(query.limit(per_page).offset((page - 1) * per_page)).all()
    return OrderPage(tuple(_line(r, now) for r in rows), total, page, per_page)


def overdue_lines(session: Session, now: datetime, county_id: int | None, limit: int) -> list[OrderLine]:
    """Orders past their contact deadline at `now` and not yet contacted, the longest overdue first."""
    query = _LINE_COLUMNS.where(*store.overdue(now)).order_by(WorkOrder.contact_deadline, WorkOrder.id).limit(limit)
    if county_id is not None:
        query = query.where(WorkOrder.county_company_id == county_id)
    # Core rows (session.connection()): the ORM's row loading would double the time of a long list.
    return [_line(r, now) for r in session.connection().execute(query)]


def overdue_count(session: Session, now: datetime, county_id: int | None) -> int:
    """How many orders are past their contact deadline at `now` and not yet contacted."""
    query = select(func.count()).select_from(WorkOrder).where(*store.overdue(now))
    if county_id is not None:
        query = query.where(WorkOrder.county_company_id == county_id)
    return int(session.execute(query).scalar_one())


def _conditions(filters: OrderFilter, county: int | None, now: datetime) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if county is not None:
        conditions.append(WorkOrder.county_company_id == county)
    if filters.kind is not None:
        conditions.append(WorkOrder.kind == filters.kind.value)
    if filters.state is not None:
        conditions.append(WorkOrder.state == filters.state.value)
    if filters.overdue is True:
        conditions.extend(store.overdue(now))
    elif filters.overdue is False:
        conditions.append(~and_(*store.overdue(now)) | WorkOrder.contact_deadline.is_(None))
    if filters.customer_id is not None:
        conditions.append(WorkOrder.customer_id == filters.customer_id)
    if filters.created_by_id is not None:
        conditions.append(WorkOrder.created_by_id == filters.created_by_id)
    if filters.origin is not None:
        conditions.append(WorkOrder.origin == filters.origin.value)
    if filters.outage_id is not None:
        conditions.append(
            exists().where(OutageReport.work_order_id == WorkOrder.id, OutageReport.outage_id == filters.outage_id)
        )
    if filters.open_only:
        conditions.append(WorkOrder.status == OPEN)
    return conditions


def _line(row: Any, now: datetime) -> OrderLine:
    (order_id, number, kind, state, origin, anonymous, summary, customer_id, customer_name, county_id, county,
     created_at, dispatched_at, deadline, escalated_at, crew_expected_at) = row  # fmt: skip
    # Dictionary lookups rather than Enum(value): a thousand lines, four each.
    current = _STATES[state]
    return OrderLine(
        order_id,
        number,
        _KINDS[kind],
        current,
        _ORIGINS[origin],
        anonymous,
        summary,
        customer_id,
        customer_name,
        county_id,
        county,
        created_at,
        dispatched_at,
        deadline,
        time_left(current, deadline, now),
        is_overdue(current, deadline, now),
        escalated_at,
        crew_expected_at,
    )


_STATES = {s.value: s for s in State}
_KINDS = {k.value: k for k in Kind}
_ORIGINS = {o.value: o for o in Origin}


# --- outages found from calls ---


def outage_summary(session: Session, outage_id: int) -> OutageSummary:
    """The outage: where, why, whether suspected, and how many reports it has."""
    row = session.execute(
        select(Outage, Substation.name, Feeder.name)
        .outerjoin(Substation, Substation.id == Outage.substation_id)
        .outerjoin(Feeder, Feeder.id == Outage.feeder_id)
        .where(Outage.id == outage_id)
    ).one()
    outage: Outage = row[0]
    where = row[1] or row[2]
    if where is None:
        names = session.scalars(
            select(TransformerArea.name)
            .join(OutageArea, OutageArea.transformer_area_id == TransformerArea.id)
            .where(OutageArea.outage_id == outage_id)
        )
        where = "、".join(sorted(names))
    reports = session.execute(
        select(func.count()).select_from(OutageReport).where(OutageReport.outage_id == outage_id)
    ).scalar_one()
    return OutageSummary(
        id=outage.id,
        kind=outage.kind,
        scope=outage.scope,
        where=where,
        reason=outage.reason,
        suspected=outage.suspected,
        origin=outage.origin,
        starts_at=outage.starts_at,
        expected_restoration_at=outage.expected_restoration_at,
        restored_at=outage.restored_at,
        reports=int(reports),
    )


def outage_detail(session: Session, outage_id: int) -> OutageDetail:
    """The outage with every report counted into it or attached to it, the oldest first."""
    if session.get(Outage, outage_id) is None:
        raise UnknownOutageError(f"there is no outage {outage_id}")
    summary = outage_summary(session, outage_id)
    rows = session.execute(
        select(
            OutageReport.reported_at,
            WorkOrder.number,
            OutageReport.contact_id,
            OutageReport.customer_id,
            OutageReport.callback_number,
        )
        .outerjoin(WorkOrder, WorkOrder.id == OutageReport.work_order_id)
        .where(OutageReport.outage_id == outage_id)
        .order_by(OutageReport.reported_at, OutageReport.id)
    ).all()
    return OutageDetail(summary, tuple(ReportLine(*row) for row in rows))


def outages_from_calls(session: Session, active_only: bool) -> list[OutageSummary]:
    """The outages raised from repair calls, the newest first; with `active_only`, those not yet restored."""
    query = select(Outage.id).where(Outage.origin == "calls").order_by(Outage.id.desc())
    if active_only:
        query = query.where(Outage.restored_at.is_(None))
    return [outage_summary(session, outage_id) for outage_id in session.scalars(query)]
