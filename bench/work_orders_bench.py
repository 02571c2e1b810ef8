"""The work-order service with 100,000 open orders: finding the overdue ones (the list, the count) and the
correlation check a repair report runs (is an outage already covering the place; do the recent reports on its
feeder make a suspected outage). The issue's budget: each under 50 ms.

    .venv/bin/python bench/work_orders_bench.py [--orders 100000] [--customers 20000] [--runs 1000]
                                                [--database-url URL]

Seeds the demo utility (`--customers`) into a new SQLite file, or into the empty database `--database-url` names
(PostgreSQL too), then `--orders` open orders over its accounts by the bulk loader: every kind and state of the
flow, 20 % awaiting contact of which a twentieth past its deadline, repair reports spread over a month with a
burst below the threshold on a quarter of the feeders in the last minutes. Each call opens its own session, as the
pages and the IVR do; p50, p95 and p99 over `--runs` calls after 50 to warm up.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, cast

from sqlalchemy import Engine, Table, func, select, text

from crm import db
from crm.models import Account, Feeder, Substation, SupplyPoint, TransformerArea
from crm.vocabulary import Role
from crm.work_order_models import WorkOrder
from demo import seed
from demo.bulk import BulkLoader
from hotline import periods
from work_orders.policy import load_policy
from work_orders.records import NewWorkOrder, OrderFilter
from work_orders.rules import Actor, Kind, Origin, State, order_number, status_of
from work_orders.service import WorkOrderService

KINDS = ((Kind.REPAIR, 50), (Kind.COMPLAINT, 15), (Kind.CONSULTATION, 15), (Kind.BUSINESS, 15), (Kind.SUGGESTION, 5))
STATES = (
    (State.CREATED, 5),
    (State.RETURNED, 1),
    (State.DISPATCHED, 10),
    (State.ACCEPTED, 10),
    (State.CONTACTED, 20),
    (State.HANDLED, 20),
    (State.REPORTED, 20),
    (State.APPROVED, 14),
)
COLUMNS = (
    "id",
    "number",
    "kind",
    "state",
    "status",
    "origin",
    "anonymous",
    "customer_id",
    "account_id",
    "tier",
    "supply_point_id",
    "transformer_area_id",
    "feeder_id",
    "address",
    "neighbours_out",
    "callback_number",
    "summary",
    "created_at",
    "county_company_id",
    "dispatched_at",
    "contact_deadline",
    "contacted_at",
)


def seed_orders(engine: Engine, orders: int, now: datetime, rng: random.Random) -> dict[str, int]:
    """Write `orders` open orders; returns how many of each notable kind."""
    with engine.connect() as c:
        accounts = c.execute(
            select(
                Account.id,
                Account.customer_id,
                Account.supply_point_id,
                SupplyPoint.transformer_area_id,
                TransformerArea.feeder_id,
                Substation.county_company_id,
                SupplyPoint.address,
            )
            .join(SupplyPoint, SupplyPoint.id == Account.supply_point_id)
            .join(TransformerArea, TransformerArea.id == SupplyPoint.transformer_area_id)
            .join(Feeder, Feeder.id == TransformerArea.feeder_id)
            .join(Substation, Substation.id == Feeder.substation_id)
        ).all()
        tiers = dict(c.execute(text("SELECT id, tier FROM customers")).all())
        first_id = (c.execute(select(func.max(WorkOrder.id))).scalar() or 0) + 1
    kinds = [k for k, weight in KINDS for _ in range(weight)]
    states = [s for s, weight in STATES for _ in range(weight)]
    day = periods.local_day(now)
    counts = {"overdue": 0, "awaiting contact": 0, "recent repair reports": 0}
    by_feeder: dict[int, list[Any]] = {}
    for account in accounts:
        by_feeder.setdefault(account.feeder_id, []).append(account)
    burst_feeders = set(rng.sample(sorted(by_feeder), len(by_feeder) // 4))

    def rows() -> Any:
        for n in range(orders):
            order_id = first_id + n
            kind = rng.choice(kinds)
            state = rng.choice(states)
            account = rng.choice(accounts)
            created = now - timedelta(minutes=rng.uniform(30, 30 * 24 * 60))
            neighbours_out = rng.random() < 0.4 if kind is Kind.REPAIR else None
            dispatched = deadline = contacted = None
            if state not in (State.CREATED, State.RETURNED):
                if state in (State.DISPATCHED, State.ACCEPTED):
                    counts["awaiting contact"] += 1
                    late = rng.random() < 0.05
                    counts["overdue"] += late
                    dispatched = now - timedelta(minutes=rng.uniform(61, 600) if late else rng.uniform(0, 59))
                else:
                    dispatched = created + timedelta(minutes=rng.uniform(1, 30))
                    contacted = dispatched + timedelta(minutes=rng.uniform(1, 55))
                deadline = dispatched + timedelta(hours=1)
            yield (
                order_id,
                order_number(day, order_id),
                kind.value,
                state.value,
                status_of(state),
                Origin.IVR.value if kind is Kind.REPAIR else Origin.AGENT.value,
                False,
                account.customer_id,
                account.id,
                tiers[account.customer_id],
                account.supply_point_id,
                account.transformer_area_id,
                account.feeder_id,
                account.address,
                neighbours_out,
                "",
                "客户来电",
                created,
                account.county_company_id,
                dispatched,
                deadline,
                contacted,
            )
        # A burst: two recent reports on a quarter of the feeders, one short of the threshold of three.
        for n, feeder in enumerate(sorted(burst_feeders)):
            for k, account in enumerate(rng.sample(by_feeder[feeder], 2)):
                order_id = first_id + orders + 2 * n + k
                counts["recent repair reports"] += 1
                yield (
                    order_id, order_number(day, order_id), Kind.REPAIR.value, State.CREATED.value, "open",
                    Origin.IVR.value, False, account.customer_id, account.id, tiers[account.customer_id],
                    account.supply_point_id, account.transformer_area_id, account.feeder_id, account.address,
                    True, "", "邻居也停电", now - timedelta(minutes=rng.uniform(0, 15)), account.county_company_id,
                    None, None, None,
                )  # fmt: skip

    with engine.begin() as c:
        loader = BulkLoader(c)
        loader.write(WorkOrder, COLUMNS, rows())
        loader.reset_sequences([cast(Table, WorkOrder.__table__)])
    with engine.begin() as c:
        # What PostgreSQL's autovacuum and a periodic SQLite ANALYZE give a live database: planner statistics.
        c.execute(text("ANALYZE"))
    return counts


def measure(name: str, call: Callable[[], object], runs: int) -> dict[str, Any]:
    for _ in range(50):
        call()
    timings = []
    for _ in range(runs):
        started = time.perf_counter()
        call()
        timings.append((time.perf_counter() - started) * 1000)
    timings.sort()
    return {
        "what": name,
        "runs": runs,
        "p50": statistics.median(timings),
        "p95": timings[int(runs * 0.95) - 1],
        "p99": timings[int(runs * 0.99) - 1],
        "max": timings[-1],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--orders", type=int, default=100_000)
    parser.add_argument("--customers", type=int, default=20_000)
    parser.add_argument("--runs", type=int, default=1000)
    parser.add_argument("--database-url", help="an empty database (default: a new SQLite file)")
    args = parser.parse_args(argv)
    url = args.database_url or f"sqlite:///{Path(tempfile.mkdtemp(prefix='hotline-wo-')) / 'bench.db'}"
    db.upgrade(url)
    engine = db.make_engine(url)
    now = periods.now_utc()
    rng = random.Random(95598)
    started = time.perf_counter()
    seed.seed_if_empty(engine, args.customers, now=now, progress=sys.stderr.isatty())
    seeded_demo = time.perf_counter() - started
    started = time.perf_counter()
    counts = seed_orders(engine, args.orders, now, rng)
    seeded_orders = time.perf_counter() - started
    with engine.connect() as c:
        open_orders = c.execute(select(func.count()).where(WorkOrder.status == "open")).scalar_one()
        places = c.execute(select(TransformerArea.feeder_id, TransformerArea.id)).all()
    print(f"{url.split(':', 1)[0]}: demo of {args.customers} customers in {seeded_demo:.1f} s; {args.orders} orders "
          f"in {seeded_orders:.1f} s; {open_orders} open orders, {counts}")  # fmt: skip
    service = WorkOrderService(db.session_factory(engine), load_policy(), clock=lambda: now)
    check = service.correlation_check
    overdue_only, staff = OrderFilter(overdue=True), Actor("bench", Role.DISPATCHER)

    def first_page() -> object:
        return service.list_orders(overdue_only, staff)

    overdue = service.overdue()
    print(f"overdue orders found: {len(overdue)} (count {service.overdue_count()})")
    results = [
        measure("overdue orders (the list, up to 1,000)", service.overdue, args.runs),
        measure("overdue count", service.overdue_count, args.runs),
        measure("overdue orders, first page of 50 (list_orders)", first_page, args.runs),
        measure("correlation check (random feeder and area)", lambda: check(*rng.choice(places)), args.runs),
    ]
    # For scale: the writes around them, once or a few hundred times (they change the data, so not the budget).
    ivr = Actor.system("IVR")
    with engine.connect() as c:
        accounts = list(c.scalars(select(Account.number).limit(5000)))

    def report() -> None:
        order = NewWorkOrder(
            Kind.REPAIR, "邻居也停电", Origin.IVR, account_number=rng.choice(accounts), neighbours_out=True
        )
        service.create(order, ivr)

    results.append(measure("create a repair report with its correlation (write)", report, min(args.runs, 300)))
    started = time.perf_counter()
    escalated = service.escalate_overdue()
    escalation_ms = (time.perf_counter() - started) * 1000
    results.append(measure("escalate_overdue with nothing new (the periodic run)", service.escalate_overdue, args.runs))
    engine.dispose()
    print(f"{'':<56} {'runs':>6} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'max ms':>8}")
    for r in results:
        print(f"{r['what']:<56} {r['runs']:>6} {r['p50']:>8.2f} {r['p95']:>8.2f} {r['p99']:>8.2f} {r['max']:>8.2f}")
    print(f"escalate_overdue, first run: {len(escalated)} orders escalated in {escalation_ms:.0f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
