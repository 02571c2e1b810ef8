"""The rows every part of the work-order service touches: finding an order, locking a feeder's or an outage's row
so that the transactions that must not interleave run one after the other (see work_orders/service.py), writing a
step into an order's history (work_order_steps), and the SQL form of "overdue"."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, select, update
from sqlalchemy.orm import Session

from crm.models import Feeder, Outage
from crm.work_order_models import WorkOrder, WorkOrderStep
from work_orders.records import MAX_NOTES
from work_orders.rules import AWAITING_CONTACT, Actor, State, UnknownWorkOrderError


def lock(session: Session, model: type[Feeder] | type[Outage], row_id: int) -> None:
    """Serialise, per row, the transactions that must not interleave (see work_orders/service.py)."""
    if session.get_bind().dialect.name == "postgresql":
        # FOR NO KEY UPDATE: rows that merely refer to this one (a new order on the feeder, a report on the
        # outage) may still be inserted meanwhile, so a restoration and a correlation cannot deadlock.
        session.execute(select(model.id).where(model.id == row_id).with_for_update(key_share=True))
    else:
        # A write as the first statement: SQLite's writer lock, held to commit.
        session.execute(
            update(model).where(model.id == row_id).values(id=model.id).execution_options(synchronize_session=False)
        )


def find_order(session: Session, order: int | str) -> WorkOrder:
    """The order by its id or its number (GD..., in any case, spaces around ignored), or UnknownWorkOrderError."""
    if isinstance(order, int):
        found = session.get(WorkOrder, order)
    else:
        found = session.scalars(select(WorkOrder).where(WorkOrder.number == order.strip().upper())).one_or_none()
    if found is None:
        raise UnknownWorkOrderError(f"there is no work order {order}")
    return found


def step_values(
    order_id: int,
    at: datetime,
    action: str,
    from_state: State | None,
    to_state: State,
    actor: Actor,
    *,
    county_id: int | None = None,
    notes: str = "",
    evidence: Sequence[str] = (),
    crew_expected_at: datetime | None = None,
) -> dict[str, Any]:
    """A step's row as values for an INSERT of many; `county_id`: the county dispatched to, else the actor's."""
    return {
        "work_order_id": order_id,
        "at": at,
        "action": action,
        "from_state": from_state.value if from_state else None,
        "to_state": to_state.value,
        "actor": actor.name[:64],
        "role": actor.role.value if actor.role else None,
        "user_id": actor.user_id,
        "county_company_id": county_id if county_id is not None else actor.county_id,
        "notes": notes[:MAX_NOTES],
        "evidence": list(evidence),
        "crew_expected_at": crew_expected_at,
    }


def add_step(
    session: Session,
    order_id: int,
    at: datetime,
    action: str,
    from_state: State | None,
    to_state: State,
    actor: Actor,
    **details: Any,
) -> None:
    """Write one step into the order's history (the details as for step_values)."""
    session.add(WorkOrderStep(**step_values(order_id, at, action, from_state, to_state, actor, **details)))


def overdue(now: datetime) -> tuple[ColumnElement[bool], ...]:
    """The conditions of an order past its contact deadline uncontacted (work_orders/rules.py's is_overdue)."""
    # Matches ix_work_orders_contact_clock (state, contact_deadline): two short range scans.
    return (
        WorkOrder.state.in_([s.value for s in AWAITING_CONTACT]),
        WorkOrder.contact_deadline <= now,
    )
