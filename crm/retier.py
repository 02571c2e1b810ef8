"""`app.py crm retier`: recompute every customer's tier from their recent behaviour, and record each change in
tier_changes. The rules are crm.tiers'; this module only gathers the behaviour and writes the results."""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, Select, and_, bindparam, case, func, insert, select, update
from sqlalchemy.orm import Session, sessionmaker
from tqdm import tqdm

from crm.models import Account, Bill, Contact, Customer, TierChange
from crm.tiers import Behaviour, Tier, TierThresholds, decide_tier
from crm.vocabulary import Intent
from hotline import periods

# Customers per transaction: short enough that the IVR's own writes never wait long for SQLite's one writer.
CHUNK = 5000


@dataclass
class RetierReport:
    customers: int = 0
    changes: Counter[tuple[Tier, Tier]] = field(default_factory=Counter)
    # Customers who became key accounts and have no account manager yet: someone must assign one.
    key_accounts_without_manager: int = 0
    seconds: float = 0.0

    @property
    def changed(self) -> int:
        return sum(self.changes.values())

    def lines(self) -> list[str]:
        out = [f"retiered {self.customers} customers in {self.seconds:.1f} s: {self.changed} changed"]
        for (old, new), count in sorted(self.changes.items()):
            out.append(f"  {old} -> {new}: {count}")
        if self.key_accounts_without_manager:
            out.append(f"  new key accounts without an account manager: {self.key_accounts_without_manager}")
        return out


def retier(
    sessions: sessionmaker[Session],
    thresholds: TierThresholds,
    *,
    now: datetime | None = None,
    progress: bool = True,
) -> RetierReport:
    started = time.monotonic()
    now = now or periods.now_utc()
    today = periods.local_day(now)
    window = periods.window_start(today, thresholds.window_months)
    report = RetierReport()
    with sessions() as session:
        low, high = session.execute(select(func.min(Customer.id), func.max(Customer.id))).one()
    if low is None:
        return report
    with tqdm(total=high - low + 1, unit=" customers", desc="retier", disable=not progress, leave=False) as bar:
        for first in range(low, high + 1, CHUNK):
            last = min(first + CHUNK - 1, high)
            with sessions.begin() as session:
                _retier_range(session.connection(), first, last, thresholds, today, window, now, report)
            bar.update(last - first + 1)
    report.seconds = time.monotonic() - started
    return report


def _retier_range(
    db: Connection,
    first: int,
    last: int,
    thresholds: TierThresholds,
    today: date,
    window: date,
    now: datetime,
    report: RetierReport,
) -> None:
    in_range = Customer.id.between(first, last)
    usage = {row.customer_id: row for row in db.execute(_usage(first, last, today, window))}
    complaints: dict[int, int] = {
        customer_id: count
        for customer_id, count in db.execute(
            select(Account.customer_id, func.count(Contact.id))
            .join(Account, Account.id == Contact.account_id)
            .where(
                Account.customer_id.between(first, last),
                Contact.disposition == Intent.COMPLAINT,
                Contact.started_at >= datetime(window.year, window.month, window.day, tzinfo=periods.LOCAL),
            )
            .group_by(Account.customer_id)
        )
    }
    changed: list[dict[str, object]] = []
    history: list[dict[str, object]] = []
    for customer in db.execute(
        select(
            Customer.id, Customer.customer_class, Customer.contracted_kva, Customer.tier, Customer.account_manager_id
        ).where(in_range)
    ):
        report.customers += 1
        used = usage.get(customer.id)
        decision = decide_tier(
            Behaviour(
                customer_class=customer.customer_class,
                contracted_kva=customer.contracted_kva,
                kwh=int(used.kwh or 0) if used else 0,
                bills=int(used.bills or 0) if used else 0,
                paid_late=int(used.paid_late or 0) if used else 0,
                overdue=int(used.overdue or 0) if used else 0,
                arrears_fen=int(used.arrears_fen or 0) if used else 0,
                complaints=int(complaints.get(customer.id, 0)),
            ),
            thresholds,
        )
        if decision.tier is customer.tier:
            continue
        report.changes[(customer.tier, decision.tier)] += 1
        if decision.tier is Tier.KEY_ACCOUNT and customer.account_manager_id is None:
            report.key_accounts_without_manager += 1
        changed.append({"b_id": customer.id, "b_tier": decision.tier})
        history.append(
            {
                "customer_id": customer.id,
                "old_tier": customer.tier,
                "new_tier": decision.tier,
                "risk_score": decision.risk_score,
                "reason": decision.reason[:256],
                "changed_at": now,
            }
        )
    if changed:
        db.execute(update(Customer).where(Customer.id == bindparam("b_id")).values(tier=bindparam("b_tier")), changed)
        db.execute(insert(TierChange), history)


def _usage(first: int, last: int, today: date, window: date) -> Select[*tuple[Any, ...]]:
    """Per customer in [first, last]: kWh billed in the window, bills fallen due, how many were paid late or
    are still unpaid, and what those unpaid ones add up to."""
    due = Bill.due_date < today
    unpaid = and_(due, Bill.paid_on.is_(None))
    return (
        select(
            Account.customer_id,
            func.sum(Bill.kwh).label("kwh"),
            func.sum(case((due, 1), else_=0)).label("bills"),
            func.sum(case((and_(due, Bill.paid_on > Bill.due_date), 1), else_=0)).label("paid_late"),
            func.sum(case((unpaid, 1), else_=0)).label("overdue"),
            func.sum(case((unpaid, Bill.amount_fen), else_=0)).label("arrears_fen"),
        )
        .join(Account, Account.id == Bill.account_id)
        .where(Account.customer_id.between(first, last), Bill.period >= periods.period(window))
        .group_by(Account.customer_id)
    )
