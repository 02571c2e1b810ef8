"""The work orders' flow in the database (工单流转): a step of the 95598 flow taken on one order (dispatch with its
contact deadline, the county's accept, contact, return and report, approval and archiving), the escalation of the
orders past their contact deadline uncontacted, and the restoration of an outage, which reports back every order
attached to it at once. work_orders/rules.py decides what is allowed; this writes it, with a step in each order's
history. Each runs inside a transaction WorkOrderService opened."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from crm import grid
from crm.models import CountyCompany, Customer, CustomerPhone, Feeder, Outage, Substation
from crm.tiers import Tier
from crm.work_order_models import OutageReport, WorkOrder, WorkOrderStep
from work_orders import store
from work_orders.records import Escalation, Notice, Restoration
from work_orders.rules import (
    RULES,
    Action,
    Actor,
    ContactDeadlines,
    InvalidRequestError,
    Kind,
    State,
    UnknownOutageError,
    WorkOrderError,
    check_details,
    check_restore,
    contact_deadline,
    next_state,
    status_of,
)


class ConflictError(WorkOrderError):
    """Someone else moved the order on between reading and writing it; read it again."""


# --- one step of the flow ---


def transition(
    session: Session,
    order: int | str,
    action: Action,
    actor: Actor,
    now: datetime,
    deadlines: ContactDeadlines,
    *,
    county_id: int | None,
    notes: str,
    evidence: Sequence[str],
    crew_expected_at: datetime | None,
) -> int:
    """Take `action` on the order (its id or number) at `now` and return its id; a dispatch sets the contact
    deadline by `deadlines`. No lock: the UPDATE names the state it starts from, so of two people acting at once
    one finds the order moved on (ConflictError)."""
    row = store.find_order(session, order)
    state = State(row.state)
    target = next_state(state, action, actor, row.county_company_id)
    check_details(action, Kind(row.kind), notes, crew_expected_at)
    values: dict[str, Any] = {"state": target.value, "status": status_of(target)}
    step_county = actor.county_id
    if action is Action.DISPATCH:
        to = county_id if county_id is not None else row.county_company_id
        if to is None:
            raise InvalidRequestError("say which county company the order goes to")
        if session.get(CountyCompany, to) is None:
            raise InvalidRequestError(f"there is no county company {to}")
        tier = Tier(row.tier) if row.tier else None
        values |= {
            "county_company_id": to,
            "dispatched_at": now,
            "contact_deadline": contact_deadline(deadlines, Kind(row.kind), tier, row.anonymous, now),
            # A new dispatch is a new clock: its own hour, and its own escalation if missed.
            "contacted_at": None,
            "escalated_at": None,
        }
        step_county = to
    elif action is Action.CONTACT:
        values["contacted_at"] = now
    elif action is Action.ARCHIVE:
        values["closed_at"] = now
    if crew_expected_at is not None:
        values["crew_expected_at"] = crew_expected_at
    changed = session.execute(
        update(WorkOrder)
        .where(WorkOrder.id == row.id, WorkOrder.state == state.value)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    if changed.rowcount != 1:  # type: ignore[attr-defined]
        raise ConflictError(f"order {row.number} was changed by someone else meanwhile; look at it again")
    store.add_step(
        session,
        row.id,
        now,
        action.value,
        state,
        target,
        actor,
        county_id=step_county,
        notes=notes,
        evidence=evidence,
        crew_expected_at=crew_expected_at,
    )
    return row.id


# --- the contact clock ---


def escalate_overdue(session: Session, now: datetime) -> list[Escalation]:
    """Claim every order past its contact deadline at `now` uncontacted and not escalated yet, with one UPDATE
    (so each is claimed once, by whichever process runs it first), write an `escalate` step in each, and return
    them, the longest overdue first."""
    clock = Actor.system("clock")
    claimed = session.execute(
        update(WorkOrder)
        .where(*store.overdue(now), WorkOrder.escalated_at.is_(None))
        .values(escalated_at=now)
        .returning(WorkOrder.id, WorkOrder.state)
        .execution_options(synchronize_session=False)
    ).all()
    if not claimed:
        return []
    session.execute(
        insert(WorkOrderStep),
        [
            store.step_values(order_id, now, "escalate", State(state), State(state), clock, notes="联系时限已过")
            for order_id, state in claimed
        ],
    )
    rows = session.execute(
        select(
            WorkOrder.id,
            WorkOrder.number,
            WorkOrder.kind,
            WorkOrder.tier,
            Customer.name,
            WorkOrder.county_company_id,
            CountyCompany.name,
            WorkOrder.dispatched_at,
            WorkOrder.contact_deadline,
        )
        .outerjoin(Customer, Customer.id == WorkOrder.customer_id)
        .outerjoin(CountyCompany, CountyCompany.id == WorkOrder.county_company_id)
        .where(WorkOrder.id.in_([order_id for order_id, _ in claimed]))
        .order_by(WorkOrder.contact_deadline, WorkOrder.id)
    ).all()
    return [
        Escalation(
            order_id=r[0],
            number=r[1],
            kind=Kind(r[2]),
            tier=Tier(r[3]) if r[3] else None,
            customer_name=r[4],
            county_id=r[5],
            county=r[6],
            dispatched_at=r[7],
            contact_deadline=r[8] or now,  # the UPDATE claimed only orders with a deadline
            escalated_at=now,
        )
        for r in rows
    ]


# --- power back ---


def restore_outage(session: Session, outage_id: int, actor: Actor, now: datetime, notes: str) -> Restoration:
    """Mark the outage restored at `now`, report back (resolve) every attached order that still had work to do,
    and say whom to tell. Locks the outage's row, then its feeders' rows in id order."""
    store.lock(session, Outage, outage_id)
    outage = session.get(Outage, outage_id)
    if outage is None:
        raise UnknownOutageError(f"there is no outage {outage_id}")
    if outage.restored_at is not None:
        raise InvalidRequestError(f"outage {outage_id} was restored already, at {outage.restored_at:%H:%M}")
    feeders = _feeders_of(session, outage)
    check_restore(actor, _county_of_feeders(session, feeders))
    # Reports racing in on these feeders wait for this to finish, and then find the outage restored.
    for feeder_id in feeders:
        store.lock(session, Feeder, feeder_id)
    outage.restored_at = now
    feedback = f"停电已恢复（停电编号 {outage_id}）" + (f"：{notes}" if notes else "")
    resolvable = RULES[Action.RESOLVE].sources
    reports = session.execute(
        select(OutageReport, WorkOrder)
        .outerjoin(WorkOrder, WorkOrder.id == OutageReport.work_order_id)
        .where(OutageReport.outage_id == outage_id)
        .order_by(OutageReport.reported_at, OutageReport.id)
    ).all()
    resolved: list[str] = []
    steps: list[dict[str, Any]] = []
    for _, order in reports:
        if order is None or State(order.state) not in resolvable:
            continue
        steps.append(store.step_values(order.id, now, Action.RESOLVE.value, State(order.state),
                                       State.REPORTED, actor, notes=feedback))  # fmt: skip
        order.state = State.REPORTED.value
        order.status = status_of(State.REPORTED)
        resolved.append(order.number)
    if steps:
        session.execute(insert(WorkOrderStep), steps)
    return Restoration(outage_id, now, tuple(resolved), _whom_to_tell(session, reports))


def _feeders_of(session: Session, outage: Outage) -> list[int]:
    """The feeders the outage is on (crm/grid.py), in id order: locked in that order, two restorations never wait
    for each other in a circle."""
    return sorted(set(session.scalars(grid.feeders_reached(outage))))


def _county_of_feeders(session: Session, feeders: Sequence[int]) -> int | None:
    """The county company the feeders are all in; None when they are in several, or there are none."""
    if not feeders:
        return None
    counties = set(
        session.scalars(
            select(Substation.county_company_id)
            .join(Feeder, Feeder.substation_id == Substation.id)
            .where(Feeder.id.in_(feeders))
        )
    )
    return counties.pop() if len(counties) == 1 else None


def _whom_to_tell(session: Session, reports: Sequence[Any]) -> tuple[Notice, ...]:
    """One notice per phone number, in the order the reports came; a report without a number falls back to
    the customer's first registered phone."""
    missing = {r.customer_id for r, _ in reports if not r.callback_number and r.customer_id is not None}
    phones: dict[int, str] = {}
    if missing:
        for customer_id, number in session.execute(
            select(CustomerPhone.customer_id, CustomerPhone.number)
            .where(CustomerPhone.customer_id.in_(missing))
            .order_by(CustomerPhone.id.desc())
        ):
            phones[customer_id] = number  # the lowest id wins: the first registered
    notices: dict[str, Notice] = {}
    for report, order in reports:
        phone = report.callback_number or phones.get(report.customer_id, "")
        if phone and phone not in notices:
            notices[phone] = Notice(phone, report.customer_id, order.number if order is not None else None)
    return tuple(notices.values())
