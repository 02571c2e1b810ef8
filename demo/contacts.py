"""The demo city's contact history: calls of the last 90 days with their IVR path, queue and agent, satisfaction
results, and the work orders (工单) those calls and the active fault left open."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

from crm.models import Contact, SatisfactionResult
from crm.work_order_models import WorkOrder
from demo.catalogue import DISPOSITIONS
from demo.city import DemoCity
from demo.outages import DemoOutages

# (contact id, customer id, account id, disposition, started) of a contact the seed wrote.
WrittenContact = tuple[int, int, int, str, datetime]


def write_contacts(city: DemoCity) -> list[WrittenContact]:
    """Contacts of the last 90 days (a quarter of the customers called, some complain again and again), with
    satisfaction results for half the calls an agent took."""
    rng = city.rng
    dispositions = [d for d, weight in DISPOSITIONS for _ in range(weight)]
    queues = {"bill": "billing", "outage": "outage", "repair": "repair", "business": "business"}
    written: list[WrittenContact] = []
    contact_rows: list[tuple[object, ...]] = []
    survey_rows: list[tuple[int, int, int, datetime]] = []
    for cid in range(1, city.n + 1):
        planned = [rng.choice(dispositions)] if rng.random() < 0.25 else []
        if cid % 200 == 14:
            planned += ["complaint"] * rng.randrange(2, 5)  # the customers who complain again and again
        for disposition in planned:
            contact_id = len(contact_rows) + 1
            aid = city.customer_accounts[cid][0]
            started = city.now - timedelta(seconds=rng.randrange(600, 90 * 86400))
            ivr_seconds = rng.randrange(15, 90)
            human = disposition in ("repair", "business", "complaint") or rng.random() < 0.35
            key = {"bill": "1", "outage": "2", "repair": "3", "business": "4"}.get(disposition, "0")
            path = json.dumps([{"step": "greeting", "key": key, "attempt": 1}])
            queued = answered = released = None
            agent = None
            ended = started + timedelta(seconds=ivr_seconds)
            if human:
                queued = ended
                answered = queued + timedelta(seconds=rng.randrange(3, 180))
                released = answered + timedelta(seconds=rng.randrange(45, 600))
                ended = released
                agent = city.agent_ids[contact_id % len(city.agent_ids)]
            contact_rows.append(
                (
                    contact_id,
                    f"demo-{contact_id}",
                    city.phones[cid][0],
                    "95598",
                    f"PJSIP/trunk-{contact_id:08x}",
                    "zh",
                    started,
                    ended,
                    path,
                    key,
                    "human" if human else "completed",
                    aid,
                    queues.get(disposition, "general") if human else None,
                    queued,
                    agent,
                    answered,
                    released,
                    disposition,
                )
            )
            written.append((contact_id, cid, aid, disposition, started))
            if disposition == "complaint":
                city.behaviour[cid].complaints += 1
            if human and rng.random() < 0.5:
                score = rng.choice((1, 2, 3, 3, 4)) if disposition == "complaint" else rng.choice((5, 5, 5, 4, 4, 3))
                survey_rows.append((len(survey_rows) + 1, contact_id, score, ended + timedelta(minutes=1)))
    city.loader.write(
        Contact,
        (
            "id",
            "uniqueid",
            "caller_number",
            "dialled_number",
            "channel",
            "language",
            "started_at",
            "ended_at",
            "ivr_path",
            "digits",
            "outcome",
            "account_id",
            "queue",
            "queued_at",
            "agent_id",
            "agent_answered_at",
            "agent_ended_at",
            "disposition",
        ),
        contact_rows,
    )
    city.loader.write(
        SatisfactionResult,
        ("id", "contact_id", "score", "recorded_at"),
        survey_rows,
    )
    return written


def write_work_orders(city: DemoCity, contacts: list[WrittenContact], outages: DemoOutages) -> None:
    """Just enough for the customer 360 to show open orders: complaints, repairs under the fault, new connections."""
    rows: list[tuple[object, ...]] = []
    stamp = city.today.strftime("%Y%m%d")

    def add(kind: str, status: str, cid: int, aid: int, contact: int | None, summary: str, at: datetime) -> None:
        closed = None if status == "open" else at + timedelta(days=2)
        # Closed demo orders went the whole way; open ones wait at the city dispatch.
        state = "created" if status == "open" else "archived"
        number = f"GD{stamp}{len(rows) + 1:06d}"
        rows.append((len(rows) + 1, number, kind, status, state, cid, aid, contact, summary, at, closed))

    for contact_id, cid, aid, disposition, started in contacts:
        if disposition == "complaint":
            recent = city.now - started < timedelta(days=7)
            add("complaint", "open" if recent else "closed", cid, aid, contact_id, "客户投诉，待回访", started)
    fault_areas = {a for a, f in enumerate(city.topology.area_feeder) if f == outages.fault_feeder}
    reported = 0
    for plan in city.accounts:
        if reported < 3 and city.account_area[plan.id] in fault_areas:
            add(
                "repair",
                "open",
                plan.customer,
                plan.id,
                None,
                "客户报修：家中停电",
                city.now - timedelta(minutes=30),
            )
            reported += 1
        if plan.opened_on == city.today.replace(day=1):
            add(
                "business",
                "open",
                plan.customer,
                plan.id,
                None,
                "新装用电，待装表接电",
                city.now - timedelta(days=1),
            )
    city.loader.write(
        WorkOrder,
        (
            "id",
            "number",
            "kind",
            "status",
            "state",
            "customer_id",
            "account_id",
            "contact_id",
            "summary",
            "created_at",
            "closed_at",
        ),
        rows,
    )
