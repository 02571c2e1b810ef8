"""The demo utility: a deterministic, realistic city grid with its customers, twelve months of bills, agents and
outages, so that a new user can call in at once and benchmarks have realistic data. `seed_if_empty` is the entry
point; each part of the city is written by a module of its own (organisation, customers, billing, contacts,
outages, callers), in foreign-key order.

Everything but the dates is the same for the same size; dates are anchored to the moment of seeding, so that
the active fault is active and the planned outages are still ahead.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, Engine, func, select, text

from crm.models import Account, Agent, AgentSkill, Base, Bill, Customer, Site, Skill
from crm.tiers import TierThresholds
from demo.billing import write_bills_and_payments
from demo.callers import choose_demo_callers
from demo.catalogue import DEFAULT_CUSTOMERS, grid_size
from demo.city import DemoCity
from demo.contacts import write_contacts, write_work_orders
from demo.customers import set_tiers, write_customers_and_accounts
from demo.organisation import write_grid, write_logins, write_organisation
from demo.outages import write_outages
from demo.summary import DemoAgent, DemoCaller, DemoLogin, DemoSummary
from hotline import periods

# What app.py, hotline/stack.py, the tests and the benchmarks take from here.
__all__ = ["DEFAULT_CUSTOMERS", "DemoAgent", "DemoCaller", "DemoLogin", "DemoSummary", "grid_size", "seed_if_empty"]

log = logging.getLogger(__name__)


def seed_if_empty(
    engine: Engine,
    customers: int,
    *,
    thresholds: TierThresholds | None = None,
    seats: Sequence[str] = (),
    now: datetime | None = None,
    progress: bool = True,
) -> DemoSummary:
    """Seed the demo utility unless the database holds customers already (then report what is there).
    One transaction: an interrupted seed leaves nothing behind, and a second one waits for the first."""
    started = time.monotonic()
    with engine.begin() as connection:
        _lock_customers(connection)
        existing = connection.scalar(select(func.count()).select_from(Customer))
        if existing:
            return DemoSummary(
                created=False,
                customers=int(existing),
                accounts=int(connection.scalar(select(func.count()).select_from(Account)) or 0),
                bills=int(connection.scalar(select(func.count()).select_from(Bill)) or 0),
                seconds=time.monotonic() - started,
                agents=_agents_in(connection),
            )
        city = DemoCity(
            connection,
            customers,
            thresholds or TierThresholds(),
            list(seats),
            (now or periods.now_utc()).replace(second=0, microsecond=0),
            progress,
        )
        summary = _build(city)
    log.info("demo utility seeded: %d customers in %.1f s", summary.customers, time.monotonic() - started)
    return DemoSummary(
        created=True,
        customers=summary.customers,
        accounts=summary.accounts,
        bills=summary.bills,
        seconds=time.monotonic() - started,
        agents=summary.agents,
        callers=summary.callers,
        logins=summary.logins,
    )


def _lock_customers(connection: Connection) -> None:
    """Take the write lock before looking, so that two seeds at once run one after the other."""
    if connection.dialect.name == "postgresql":
        connection.execute(text("LOCK TABLE customers IN EXCLUSIVE MODE"))
    else:
        # Any write statement makes SQLite take its one write lock, even one that changes no row.
        connection.execute(text("DELETE FROM customers WHERE 0 = 1"))


@dataclass
class _Built:
    customers: int
    accounts: int
    bills: int
    agents: tuple[DemoAgent, ...]
    callers: tuple[DemoCaller, ...]
    logins: tuple[DemoLogin, ...]


def _build(city: DemoCity) -> _Built:
    """The whole city, in foreign-key order (and in the order the steps draw on the one random source)."""
    try:
        city.bar.set_description("organisation and grid")
        agents = write_organisation(city)
        write_grid(city)
        city.bar.set_description("customers and accounts")
        write_customers_and_accounts(city)
        city.bar.set_description("bills and payments")
        bills = write_bills_and_payments(city)
        city.bar.set_description("contacts and outages")
        contacts = write_contacts(city)
        outages = write_outages(city)
        write_work_orders(city, contacts, outages)
        city.bar.set_description("tiers")
        managed = set_tiers(city)
        callers = choose_demo_callers(city, outages)
        city.bar.set_description("web logins")
        logins = write_logins(city, agents)
        city.loader.reset_sequences(Base.metadata.sorted_tables)
    finally:
        city.bar.close()
    listed = tuple(
        DemoAgent(a.code, a.name, a.site, a.seat, a.skills, managed.get(i, 0))
        for i, a in zip(city.agent_ids, agents, strict=True)
    )
    return _Built(city.n, len(city.accounts), bills, listed, callers, logins)


def _agents_in(connection: Connection) -> tuple[DemoAgent, ...]:
    """The agents already in the database, for the summary of a seed that exists."""
    skills: dict[int, list[str]] = {}
    for agent_id, code in connection.execute(
        select(AgentSkill.agent_id, Skill.code).join(Skill, Skill.id == AgentSkill.skill_id).order_by(Skill.id)
    ):
        skills.setdefault(agent_id, []).append(code)
    managed = {
        manager: count
        for manager, count in connection.execute(
            select(Customer.account_manager_id, func.count())
            .where(Customer.account_manager_id.is_not(None))
            .group_by(Customer.account_manager_id)
        )
    }
    query = select(Agent.id, Agent.code, Agent.name, Site.name, Agent.seat).join(Site, Site.id == Agent.site_id)
    return tuple(
        DemoAgent(code, name, site, seat, tuple(skills.get(agent_id, ())), int(managed.get(agent_id, 0)))
        for agent_id, code, name, site, seat in connection.execute(query.order_by(Agent.id))
    )
