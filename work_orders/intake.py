"""The intake of work orders (工单受理): a new order resolved to its place on the grid (account, supply point,
transformer area, feeder, county) and its number to call back, written with its first step; a repair report whose
neighbours are out too correlated into an outage (attached to one covering its place, or counted with the recent
reports on its feeder, which may raise a suspected fault outage by work_orders/rules.py's rule); and a call
attached to a known outage without an order. Each runs inside a transaction WorkOrderService opened."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, exists, insert, select
from sqlalchemy.orm import Session

from crm import grid
from crm.customer_records import Refusal, normalise_account_number, normalise_phone_number
from crm.models import (
    Account,
    Contact,
    Customer,
    CustomerPhone,
    Feeder,
    Outage,
    OutageArea,
    Substation,
    SupplyPoint,
    TransformerArea,
)
from crm.tiers import Tier
from crm.vocabulary import OutageKind, OutageScope
from crm.work_order_models import OutageReport, WorkOrder, WorkOrderStep
from hotline import periods
from work_orders import store
from work_orders.records import CorrelationCheck, NewWorkOrder, ReportLine
from work_orders.rules import (
    WORK_DONE,
    Actor,
    CorrelationRule,
    InvalidRequestError,
    Kind,
    Origin,
    RepairReport,
    State,
    SuspectedOutage,
    UnknownOutageError,
    order_number,
    status_of,
    suspect_outage,
)


@dataclass(frozen=True)
class _Place:
    """Where an order is about, resolved from its account, customer or transformer area."""

    account_id: int | None = None
    customer_id: int | None = None
    tier: Tier | None = None
    supply_point_id: int | None = None
    transformer_area_id: int | None = None
    feeder_id: int | None = None
    substation_id: int | None = None
    county_id: int | None = None
    address: str = ""


_PLACE_OF_ACCOUNT = (
    select(
        Account.id,
        Account.customer_id,
        Customer.tier,
        Account.supply_point_id,
        SupplyPoint.address,
        SupplyPoint.transformer_area_id,
        TransformerArea.feeder_id,
        Feeder.substation_id,
        Substation.county_company_id,
    )
    .join(Customer, Customer.id == Account.customer_id)
    .join(SupplyPoint, SupplyPoint.id == Account.supply_point_id)
    .join(TransformerArea, TransformerArea.id == SupplyPoint.transformer_area_id)
    .join(Feeder, Feeder.id == TransformerArea.feeder_id)
    .join(Substation, Substation.id == Feeder.substation_id)
)

# The repair reports that count towards a suspected outage on a feeder: the neighbours out too, within the window,
# from a known supply point, still with work to do, and not yet part of any outage. Uses
# ix_work_orders_feeder_created (feeder_id, created_at).
_RECENT_REPORTS = select(
    WorkOrder.id,
    WorkOrder.supply_point_id,
    WorkOrder.transformer_area_id,
    WorkOrder.feeder_id,
    WorkOrder.created_at,
).where(
    WorkOrder.feeder_id == bindparam("feeder"),
    WorkOrder.created_at >= bindparam("since"),
    WorkOrder.kind == Kind.REPAIR.value,
    WorkOrder.neighbours_out.is_(True),
    WorkOrder.supply_point_id.is_not(None),
    WorkOrder.state.not_in([s.value for s in WORK_DONE]),
    ~exists().where(OutageReport.work_order_id == WorkOrder.id),
)


# --- a new order ---


def open_order(
    session: Session, new: NewWorkOrder, actor: Actor, clock: Callable[[], datetime], rule: CorrelationRule
) -> WorkOrder:
    """Write the order in state `created` with its readable number and its `create` step, stamped with the time
    `clock` gives once its place is known (and the feeder of a report to correlate is locked). A repair report whose
    neighbours are out too is then correlated by `rule`."""
    place = _place(session, new)
    correlate = new.kind is Kind.REPAIR and bool(new.neighbours_out) and place.feeder_id is not None
    if correlate:
        assert place.feeder_id is not None
        store.lock(session, Feeder, place.feeder_id)
    # Read under the lock: every report committed on this feeder before this one is stamped no later.
    now = clock()
    callback = _callback_number(session, new, place)
    order = WorkOrder(
        # Unique until the id is known; replaced in the same transaction.
        number=f"new-{uuid.uuid4().hex[:20]}",
        kind=new.kind.value,
        state=State.CREATED.value,
        status=status_of(State.CREATED),
        origin=new.origin.value,
        anonymous=new.anonymous,
        customer_id=place.customer_id,
        account_id=place.account_id,
        tier=place.tier.value if place.tier else None,
        supply_point_id=place.supply_point_id,
        transformer_area_id=place.transformer_area_id,
        feeder_id=place.feeder_id,
        county_company_id=place.county_id,
        address=new.address.strip() or place.address,
        neighbours_out=new.neighbours_out if new.kind is Kind.REPAIR else None,
        contact_id=new.contact_id,
        callback_number=callback,
        created_by_id=actor.user_id,
        summary=new.summary.strip(),
        created_at=now,
    )
    session.add(order)
    session.flush()
    order.number = order_number(periods.local_day(now), order.id)
    store.add_step(session, order.id, now, "create", None, State.CREATED, actor, notes=order.summary)
    if correlate:
        _correlate(session, order, place, now, actor, rule)
    return order


def _correlate(
    session: Session, order: WorkOrder, place: _Place, now: datetime, actor: Actor, rule: CorrelationRule
) -> None:
    """Run under the feeder's lock: attach the report to an active outage covering its place, or raise a
    suspected fault outage if the recent reports on the feeder make one."""
    covering = _outage_reaching(session, place, now)
    if covering is not None:
        _link(session, covering, [order.id], now, actor)
        return
    assert place.feeder_id is not None
    suspected = _suspect(session, place.feeder_id, now, rule)
    if suspected is None:
        return
    feeder = session.get_one(Feeder, suspected.feeder_id)
    if suspected.scope is OutageScope.FEEDER:
        where = feeder.name
    else:
        names = session.scalars(
            select(TransformerArea.name).where(TransformerArea.id.in_(suspected.transformer_area_ids))
        )
        where = f"{feeder.name}{'、'.join(sorted(names))}"
    window = int(rule.window.total_seconds() // 60)
    outage = Outage(
        kind=OutageKind.FAULT,
        scope=suspected.scope,
        feeder_id=suspected.feeder_id if suspected.scope is OutageScope.FEEDER else None,
        starts_at=suspected.starts_at,
        expected_restoration_at=None,
        restored_at=None,
        reason=f"{where}疑似故障停电：{window}分钟内{len(suspected.order_ids)}户报修"[:256],
        created_at=now,
        origin="calls",
        suspected=True,
    )
    session.add(outage)
    session.flush()
    session.add_all(
        OutageArea(outage_id=outage.id, transformer_area_id=area) for area in suspected.transformer_area_ids
    )
    _link(session, outage.id, suspected.order_ids, now, actor)


def _suspect(session: Session, feeder_id: int, now: datetime, rule: CorrelationRule) -> SuspectedOutage | None:
    """The suspected outage the recent unattached reports on the feeder make by `rule`, if they make one."""
    rows = session.execute(_RECENT_REPORTS, {"feeder": feeder_id, "since": now - rule.window})
    # The statement selects only reports with a supply point, and so with a transformer area and feeder.
    reports = (
        RepairReport(r.id, int(r.supply_point_id), int(r.transformer_area_id), int(r.feeder_id), r.created_at)
        for r in rows
    )
    return suspect_outage(reports, rule, now)


def _link(session: Session, outage_id: int, order_ids: Iterable[int], now: datetime, actor: Actor) -> None:
    """Attach orders to an outage: a report row each (whom to tell) and an `attach` step in each one's history."""
    orders = session.execute(
        select(
            WorkOrder.id,
            WorkOrder.state,
            WorkOrder.contact_id,
            WorkOrder.customer_id,
            WorkOrder.account_id,
            WorkOrder.callback_number,
            WorkOrder.created_at,
        ).where(WorkOrder.id.in_(list(order_ids)))
    ).all()
    session.execute(
        insert(OutageReport),
        [
            {
                "outage_id": outage_id,
                "work_order_id": o.id,
                "contact_id": o.contact_id,
                "customer_id": o.customer_id,
                "account_id": o.account_id,
                "callback_number": o.callback_number,
                "reported_at": o.created_at,
            }
            for o in orders
        ],
    )
    session.execute(
        insert(WorkOrderStep),
        [
            store.step_values(o.id, now, "attach", State(o.state), State(o.state), actor, notes=f"停电编号 {outage_id}")
            for o in orders
        ],
    )


# --- a call about a known outage ---


def attach_call(
    session: Session,
    outage_id: int,
    actor: Actor,
    now: datetime,
    *,
    account_number: str | None,
    contact_id: int | None,
    callback_number: str,
) -> ReportLine:
    """Record that a caller reported (or was told of) the outage, without an order, so that they are told when
    power is back. Locks the outage's row, as a restoration does."""
    store.lock(session, Outage, outage_id)
    if session.get(Outage, outage_id) is None:
        raise UnknownOutageError(f"there is no outage {outage_id}")
    new = NewWorkOrder(
        Kind.REPAIR,
        "-",
        Origin.AGENT,
        account_number=_account_number(account_number) if account_number else None,
        anonymous=account_number is None,
        contact_id=contact_id,
        callback_number=callback_number,
    )
    place = _place(session, new)
    phone = _callback_number(session, new, place)
    session.add(
        OutageReport(
            outage_id=outage_id,
            contact_id=contact_id,
            customer_id=place.customer_id,
            account_id=place.account_id,
            callback_number=phone,
            reported_at=now,
        )
    )
    return ReportLine(now, None, contact_id, place.customer_id, phone)


def covering_outage(session: Session, account_number: str, now: datetime) -> int | None:
    """The active outage reaching this account's supply point at `now`, if any."""
    number = _account_number(account_number)
    place = _place(session, NewWorkOrder(Kind.REPAIR, "-", Origin.AGENT, account_number=number))
    return _outage_reaching(session, place, now)


def correlation_check(
    session: Session, feeder_id: int, transformer_area_id: int | None, now: datetime, rule: CorrelationRule
) -> CorrelationCheck:
    """What a repair report on this feeder (and transformer area) would find at `now`, without writing anything."""
    place = _grid_place(session, feeder_id, transformer_area_id)
    covering = _outage_reaching(session, place, now)
    if covering is not None:
        return CorrelationCheck(covering, None)
    return CorrelationCheck(None, _suspect(session, feeder_id, now, rule))


# --- where an order is about ---


def _place(session: Session, new: NewWorkOrder) -> _Place:
    """Where the new order is about: from its account (customer, tier, supply point, grid place and county), else
    its customer and the transformer area it names, if any."""
    if new.account_number is not None:
        number = _account_number(new.account_number)
        row = session.execute(_PLACE_OF_ACCOUNT.where(Account.number == number)).one_or_none()
        if row is None:
            raise InvalidRequestError(f"there is no account {number}")
        return _Place(
            account_id=row.id,
            customer_id=row.customer_id,
            tier=Tier(row.tier),
            supply_point_id=row.supply_point_id,
            transformer_area_id=row.transformer_area_id,
            feeder_id=row.feeder_id,
            substation_id=row.substation_id,
            county_id=row.county_company_id,
            address=row.address,
        )
    customer_tier = None
    if new.customer_id is not None:
        customer_tier = session.scalar(select(Customer.tier).where(Customer.id == new.customer_id))
        if customer_tier is None:
            raise InvalidRequestError(f"there is no customer {new.customer_id}")
    area = _Place()
    if new.transformer_area_id is not None:
        area = _grid_place(session, None, new.transformer_area_id)
    return _Place(
        customer_id=new.customer_id,
        tier=Tier(customer_tier) if customer_tier else None,
        transformer_area_id=area.transformer_area_id,
        feeder_id=area.feeder_id,
        substation_id=area.substation_id,
        county_id=area.county_id,
    )


def _grid_place(session: Session, feeder_id: int | None, transformer_area_id: int | None) -> _Place:
    """The grid place of a transformer area (checked to be on the feeder, if one is given), or of a feeder."""
    if transformer_area_id is not None:
        row = session.execute(
            select(TransformerArea.id, Feeder.id, Substation.id, Substation.county_company_id)
            .join(Feeder, Feeder.id == TransformerArea.feeder_id)
            .join(Substation, Substation.id == Feeder.substation_id)
            .where(TransformerArea.id == transformer_area_id)
        ).one_or_none()
        if row is None:
            raise InvalidRequestError(f"there is no transformer area {transformer_area_id}")
        if feeder_id is not None and row[1] != feeder_id:
            raise InvalidRequestError(f"transformer area {transformer_area_id} is not on feeder {feeder_id}")
        return _Place(transformer_area_id=row[0], feeder_id=row[1], substation_id=row[2], county_id=row[3])
    found = session.execute(
        select(Feeder.id, Substation.id, Substation.county_company_id)
        .join(Substation, Substation.id == Feeder.substation_id)
        .where(Feeder.id == feeder_id)
    ).one_or_none()
    if found is None:
        raise InvalidRequestError(f"there is no feeder {feeder_id}")
    return _Place(feeder_id=found[0], substation_id=found[1], county_id=found[2])


def _outage_reaching(session: Session, place: _Place, now: datetime) -> int | None:
    """The active outage reaching the place (a fault before planned work, then the oldest), by the rule of the
    IVR's outage information (crm/grid.py)."""
    if place.substation_id is None and place.feeder_id is None and place.transformer_area_id is None:
        return None
    return session.scalar(
        select(Outage.id)
        .where(
            grid.reaching(
                None if place.substation_id is None else [place.substation_id],
                None if place.feeder_id is None else [place.feeder_id],
                None if place.transformer_area_id is None else [place.transformer_area_id],
            ),
            grid.in_effect(now),
        )
        .order_by((Outage.kind == OutageKind.FAULT).desc(), Outage.starts_at, Outage.id)
        .limit(1)
    )


def _callback_number(session: Session, new: NewWorkOrder, place: _Place) -> str:
    """The number to call back: the one given, else the call's caller number if usable, else the customer's first
    registered phone; none only for an anonymous report."""
    if new.callback_number.strip():
        given = normalise_phone_number(new.callback_number)
        if isinstance(given, Refusal):
            raise InvalidRequestError(f"the number to call back is not usable: {given.detail}")
        return given
    if new.contact_id is not None:
        caller = session.scalar(select(Contact.caller_number).where(Contact.id == new.contact_id))
        if caller is None:
            raise InvalidRequestError(f"there is no call (contact) {new.contact_id}")
        usable = normalise_phone_number(caller)
        if not isinstance(usable, Refusal):
            return usable
    if place.customer_id is not None:
        phone = session.scalar(
            select(CustomerPhone.number)
            .where(CustomerPhone.customer_id == place.customer_id)
            .order_by(CustomerPhone.id)
            .limit(1)
        )
        if phone:
            return phone
    if not new.anonymous and place.customer_id is None:
        raise InvalidRequestError("an order about nobody known needs a number to call back, or to be anonymous")
    return ""


def _account_number(raw: str) -> str:
    """The account number in its one written form, or InvalidRequestError saying what is wrong with it."""
    number = normalise_account_number(raw)
    if isinstance(number, Refusal):
        raise InvalidRequestError(f"account number {raw!r}: {number.detail}")
    return number
