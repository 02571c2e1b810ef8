"""The demo city's customers: their class, name and size, phones, supply points, meter boxes and meters, accounts
and what each account's bills will look like; and, once the bills exist, their tiers by the rule of `crm retier`."""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta

from sqlalchemy import bindparam, update

from crm import account_numbers
from crm.models import Account, Customer, CustomerPhone, Meter, MeterBox, SupplyPoint
from crm.tiers import Behaviour, CustomerClass, Tier, decide_tier
from demo.catalogue import (
    BUSINESSES,
    CHAIN_STORE_ACCOUNTS,
    CITY,
    COUNTIES,
    CRITICAL,
    INDUSTRIES,
    MOBILE_PREFIXES,
    PAYMENT_CHANNELS,
    PLACES,
    person_name,
)
from demo.city import AccountPlan, BehaviourTally, DemoCity
from hotline import periods


def _customer_class(i: int) -> CustomerClass:
    """The class of the i-th customer (0-based)."""
    # Fixed proportions at every size: 0.2 % critical loads, 2.5 % industry, about 7 % commerce.
    if i % 500 == 7:
        return CustomerClass.CRITICAL_LOAD
    if i % 40 == 3:
        return CustomerClass.INDUSTRIAL
    if i % 13 == 5:
        return CustomerClass.COMMERCIAL
    return CustomerClass.RESIDENTIAL


def write_customers_and_accounts(city: DemoCity) -> None:
    """Customers with their phones, supply points, meter boxes, meters and accounts, and each account's plan."""
    rng = city.rng
    t = city.topology
    areas = len(t.area_feeder)
    created = datetime(2010, 1, 1, tzinfo=periods.LOCAL)
    phone_rows: list[tuple[int, int, str, str]] = []
    point_rows: list[tuple[int, str, int, int]] = []
    meter_rows: list[list[object]] = []
    box_rows: list[tuple[int, str, int]] = []
    account_rows: list[tuple[int, str, int, int, bool, int, date]] = []
    boxes_in_area: dict[int, tuple[int, int]] = {}  # area -> (box id, meters in it)
    last_meter_in_area: dict[int, tuple[int, int]] = {}  # area -> (meter index, households on it)
    serial_in_county = [0] * len(COUNTIES)
    chain_store = next(i for i in range(city.n) if _customer_class(i) is CustomerClass.COMMERCIAL)
    for i in range(city.n):
        cid = i + 1
        cls = _customer_class(i)
        name, kva, accounts = _customer_profile(rng, i, cls, chain_store)
        city.customer_rows.append([cid, name, cls.value, Tier.STANDARD.value, kva, None, None, created])
        mobile = MOBILE_PREFIXES[i % len(MOBILE_PREFIXES)] + f"{(i * 7919 + 104729) % 10**8:08d}"
        numbers = [(mobile, "mobile")]
        if cls is not CustomerClass.RESIDENTIAL or rng.random() < 0.3:
            numbers.append((f"0576{(i * 104729 + 7) % 10**8:08d}", "landline"))
        if cls is CustomerClass.RESIDENTIAL and i > 0 and i % 97 == 0:
            # A family: the previous customer's mobile is registered here too.
            numbers.append((city.phones[cid - 1][0], "mobile"))
        city.phones[cid] = [n for n, _ in numbers]
        for number, kind in numbers:
            phone_rows.append((len(phone_rows) + 1, cid, number, kind))
        city.behaviour[cid] = BehaviourTally()
        for k in range(accounts):
            aid = len(city.accounts) + 1
            area = (i * 31 + k * 17) % areas
            county = city.county_of_area(area)
            serial_in_county[county] += 1
            number = account_numbers.make(int(COUNTIES[county][0]), serial_in_county[county])
            # Meters: own meter (一户一表) mostly; some old-building households share one.
            shared_meter = cls is CustomerClass.RESIDENTIAL and rng.random() < 0.08
            previous = last_meter_in_area.get(area)
            if shared_meter and previous is not None and previous[1] < 4:
                meter_index = previous[0]
                meter_rows[meter_index][3] = True
                last_meter_in_area[area] = (meter_index, previous[1] + 1)
            else:
                box = boxes_in_area.get(area)
                if box is None or box[1] >= 6:
                    box = (len(box_rows) + 1, 0)
                    box_rows.append((box[0], f"BX{area + 1:06d}-{len(box_rows):07d}", area + 1))
                boxes_in_area[area] = (box[0], box[1] + 1)
                meter_index = len(meter_rows)
                meter_rows.append([meter_index + 1, f"DB{33000000000 + meter_index * 13:013d}", box[0], False])
                last_meter_in_area[area] = (meter_index, 1)
            point_rows.append((aid, _address(i, k, cls, county), area + 1, meter_index + 1))
            plan = _account_plan(city, aid, cid, cls, kva, rng)
            city.accounts.append(plan)
            city.customer_accounts.setdefault(cid, []).append(aid)
            city.account_numbers[aid] = number
            city.account_area[aid] = area
            balance = rng.randrange(0, 50_000) if plan.prepaid else 0
            if plan.prepaid and rng.random() < 0.05:
                balance = rng.randrange(0, 1000)
            account_rows.append((aid, number, cid, aid, plan.prepaid, balance, plan.opened_on))
    tables = (
        (MeterBox, ("id", "code", "transformer_area_id"), box_rows),
        (Meter, ("id", "number", "meter_box_id", "shared"), meter_rows),
        (SupplyPoint, ("id", "address", "transformer_area_id", "meter_id"), point_rows),
    )
    for model, columns, rows in tables:
        city.loader.write(model, columns, rows)
    # Customers go in now with a provisional tier; _tiers() sets the real one once their bills exist.
    city.loader.write(
        Customer,
        (
            "id",
            "name",
            "customer_class",
            "tier",
            "contracted_kva",
            "account_manager_id",
            "verification_hash",
            "created_at",
        ),
        city.customer_rows,
    )
    city.loader.write(CustomerPhone, ("id", "customer_id", "number", "kind"), phone_rows)
    city.loader.write(
        Account,
        ("id", "number", "customer_id", "supply_point_id", "prepaid", "balance_fen", "opened_on"),
        account_rows,
    )


def _customer_profile(rng: random.Random, i: int, cls: CustomerClass, chain_store: int) -> tuple[str, int, int]:
    """Name, contracted kVA and number of accounts."""
    place = PLACES[(i * 3) % len(PLACES)]
    if i == chain_store:
        return f"{CITY}{place}连锁便利店有限公司", 60, CHAIN_STORE_ACCOUNTS
    if cls is CustomerClass.RESIDENTIAL:
        return person_name(rng), rng.choice((4, 6, 8, 8, 10)), 2 if rng.random() < 0.06 else 1
    if cls is CustomerClass.COMMERCIAL:
        accounts = 1 + (rng.random() < 0.2) + (rng.random() < 0.05)
        return f"{place}{rng.choice(BUSINESSES)}", rng.choice((10, 20, 30, 50, 80, 100, 160, 250)), accounts
    if cls is CustomerClass.INDUSTRIAL:
        kva = rng.choice((80, 100, 160, 200, 250, 250, 315, 400, 630, 800, 1250, 2000, 3150))
        return f"{CITY}{place}{rng.choice(INDUSTRIES)}", kva, 2 if rng.random() < 0.3 else 1
    kva = rng.choice((400, 630, 800, 1250, 2000))
    return f"{CITY}{place}{CRITICAL[i % len(CRITICAL)]}", kva, 2 if rng.random() < 0.5 else 1


def _address(i: int, k: int, cls: CustomerClass, county: int) -> str:
    road = f"{PLACES[(i + k * 5) % len(PLACES)]}{('路', '街', '大道')[i % 3]}"
    street = f"{CITY}{COUNTIES[county][1]}{road}{(i * 7 + k) % 300 + 1}号"
    if cls is CustomerClass.RESIDENTIAL:
        return f"{street}{i % 30 + 1}栋{i % 4 + 1}单元{(i % 18 + 1) * 100 + i % 4 + 1}室"
    return street


def _account_plan(city: DemoCity, aid: int, cid: int, cls: CustomerClass, kva: int, rng: random.Random) -> AccountPlan:
    roll = rng.random()
    if roll < 0.015:
        opened = city.today.replace(day=1)  # opened this month: no bill yet
    elif roll < 0.03:
        opened = city.today - timedelta(days=rng.randrange(40, 300))
    else:
        opened = city.today - timedelta(days=rng.randrange(400, 7000))
    if cls is CustomerClass.RESIDENTIAL:
        base = rng.uniform(60, 420)
    elif cls is CustomerClass.COMMERCIAL:
        base = kva * rng.uniform(60, 160)
    else:
        base = kva * rng.uniform(150, 330)
    payer_roll = rng.random()
    if cls in (CustomerClass.INDUSTRIAL, CustomerClass.CRITICAL_LOAD):
        payer = "punctual" if payer_roll < 0.85 else "usually" if payer_roll < 0.97 else "late"
    else:
        payer = (
            "punctual"
            if payer_roll < 0.78
            else "usually"
            if payer_roll < 0.91
            else "late"
            if payer_roll < 0.965
            else "arrears"
        )
    prepaid = cls is CustomerClass.RESIDENTIAL and rng.random() < 0.12
    plan = AccountPlan(
        aid,
        cid,
        cls,
        prepaid,
        opened,
        base,
        "punctual" if prepaid else payer,
        "bank_debit" if cls is not CustomerClass.RESIDENTIAL else rng.choice(PAYMENT_CHANNELS),
    )
    if plan.payer == "arrears":
        plan.unpaid_last = rng.randrange(1, 7)
    return plan


def set_tiers(city: DemoCity) -> dict[int, int]:
    """Set each customer's tier by the same rule as `crm retier`; key accounts get a manager. Returns how
    many key accounts each manager has."""
    changes: list[dict[str, object]] = []
    managed: dict[int, int] = {}
    for row in city.customer_rows:
        cid = int(str(row[0]))
        b = city.behaviour[cid]
        decision = decide_tier(
            Behaviour(
                CustomerClass(str(row[2])),
                int(str(row[4])),
                b.kwh,
                b.bills,
                b.paid_late,
                b.overdue,
                b.arrears_fen,
                b.complaints,
            ),
            city.thresholds,
        )
        if decision.tier is Tier.STANDARD:
            continue
        manager = None
        if decision.tier is Tier.KEY_ACCOUNT:
            manager = city.manager_ids[len(changes) % len(city.manager_ids)]
            managed[manager] = managed.get(manager, 0) + 1
        row[3] = decision.tier.value
        changes.append({"b_id": cid, "b_tier": decision.tier, "b_manager": manager})
    if changes:
        city.connection.execute(
            update(Customer)
            .where(Customer.id == bindparam("b_id"))
            .values(tier=bindparam("b_tier"), account_manager_id=bindparam("b_manager")),
            changes,
        )
    city.bar.update(city.n - city.bar.n)
    return managed
