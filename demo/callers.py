"""The demo callers: for each scenario a new user wants to try on the phone, a customer of the seeded city who is
in it, with a fresh IVR secret."""

from __future__ import annotations

import secrets
from datetime import timedelta

from sqlalchemy import bindparam, update

from crm.models import Customer
from crm.tiers import CustomerClass, Tier
from crm.verification import hash_secret
from demo.city import AccountPlan, DemoCity
from demo.outages import DemoOutages
from demo.summary import DemoCaller


def choose_demo_callers(city: DemoCity, outages: DemoOutages) -> tuple[DemoCaller, ...]:
    """One customer per scenario (all paid, in arrears, under the active fault, ...), each given a fresh IVR secret
    of which the database keeps only the hash. A scenario the city lacks is left out."""
    t = city.topology
    shared_numbers = {cid for cid in city.phones if cid % 97 == 1 and cid > 1}
    first_of_month = city.today.replace(day=1)

    def single(plan: AccountPlan) -> bool:
        return len(city.customer_accounts[plan.customer]) == 1 and plan.customer not in shared_numbers

    def area_feeder(plan: AccountPlan) -> int:
        return t.area_feeder[city.account_area[plan.id]]

    ordinary = {outages.fault_feeder, outages.maintenance_feeder}
    scenarios: list[tuple[str, AccountPlan | None]] = [
        (
            "all paid",
            next(
                (
                    p
                    for p in city.accounts
                    if single(p)
                    and p.customer_class is CustomerClass.RESIDENTIAL
                    and p.payer == "punctual"
                    and not p.prepaid
                    and p.opened_on < first_of_month - timedelta(days=400)
                    and area_feeder(p) not in ordinary
                    and t.feeder_substation[area_feeder(p)] != outages.maintenance_substation
                ),
                None,
            ),
        ),
        (
            "in arrears",
            next((p for p in city.accounts if single(p) and city.behaviour[p.customer].overdue >= 2), None),
        ),
        (
            "active fault",
            next((p for p in city.accounts if single(p) and area_feeder(p) == outages.fault_feeder), None),
        ),
        (
            "planned outage",
            next((p for p in city.accounts if single(p) and area_feeder(p) == outages.maintenance_feeder), None),
        ),
        (
            "several accounts",
            next((p for p in city.accounts if len(city.customer_accounts[p.customer]) >= 10), None),
        ),
        (
            "key account",
            next(
                (
                    p
                    for p in city.accounts
                    if p.customer_class is CustomerClass.INDUSTRIAL
                    and city.customer_rows[p.customer - 1][3] == Tier.KEY_ACCOUNT.value
                ),
                None,
            ),
        ),
        (
            "critical load",
            next((p for p in city.accounts if p.customer_class is CustomerClass.CRITICAL_LOAD), None),
        ),
        ("no bills yet", next((p for p in city.accounts if single(p) and p.opened_on == first_of_month), None)),
        ("prepaid", next((p for p in city.accounts if single(p) and p.prepaid), None)),
        ("shared number", next((p for p in city.accounts if p.customer in shared_numbers), None)),
    ]
    callers: list[DemoCaller] = []
    hashes: list[dict[str, object]] = []
    for scenario, plan in scenarios:
        if plan is None:
            continue
        secret = f"{secrets.randbelow(10**6):06d}"
        hashes.append({"b_id": plan.customer, "b_hash": hash_secret(secret)})
        callers.append(
            DemoCaller(
                scenario,
                city.phones[plan.customer][-1 if scenario == "shared number" else 0],
                city.account_numbers[plan.id],
                str(city.customer_rows[plan.customer - 1][1]),
                secret,
            )
        )
    city.connection.execute(
        update(Customer).where(Customer.id == bindparam("b_id")).values(verification_hash=bindparam("b_hash")),
        hashes,
    )
    return tuple(callers)
