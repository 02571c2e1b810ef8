"""The work orders' clock (工单时限): every few seconds, orders past their contact deadline and not yet contacted
are escalated, each exactly once whichever router sees it first, and announced as a `workorder.overdue` event
(the format of hotline/events.py) for the supervisor monitor and the city dispatch."""

from __future__ import annotations

import asyncio
import logging

from cti.acd.notifier import Notifier
from hotline.events import event
from work_orders.service import WorkOrderService

log = logging.getLogger(__name__)


async def escalate_once(orders: WorkOrderService, notifier: Notifier) -> int:
    """Escalate what is overdue now and publish it; the number of orders escalated."""
    escalated = await asyncio.to_thread(orders.escalate_overdue)
    for order in escalated:
        await notifier.publish(
            event(
                "workorder.overdue",
                number=order.number,
                order_kind=order.kind.value,
                tier=order.tier.value if order.tier else None,
                customer=order.customer_name,
                county_id=order.county_id,
                county=order.county,
                deadline=order.contact_deadline.isoformat(),
            )
        )
    return len(escalated)


async def run(orders: WorkOrderService, notifier: Notifier, every_s: float) -> None:
    while True:
        try:
            await escalate_once(orders, notifier)
        except Exception:
            # A database that does not answer now may answer at the next tick; the orders wait, marked or not.
            log.exception("escalating overdue work orders failed")
        await asyncio.sleep(every_s)
