"""`app.py crm retier` on a seeded utility: it agrees with the seed, moves customers whose behaviour changed,
records each move in tier_changes, and follows the configured thresholds."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from sqlalchemy import select, update

from crm.customer_records import Customer360
from crm.models import Account, Bill, Contact, Customer, TierChange
from crm.retier import retier
from crm.services import CustomerService
from crm.tiers import CustomerClass, Tier, TierThresholds
from hotline import periods
from tests.conftest import DemoDatabase

DEFAULTS = TierThresholds()


def _customer_of(demo: DemoDatabase, scenario: str) -> tuple[int, int]:
    """(customer id, account id) of a demo scenario's caller."""
    with demo.sessions() as session:
        customer, account = session.execute(
            select(Account.customer_id, Account.id).where(Account.number == demo.caller(scenario).account_number)
        ).one()
    return customer, account


def _tier(demo: DemoDatabase, customer: int) -> Tier:
    with demo.sessions() as session:
        return session.scalars(select(Customer.tier).where(Customer.id == customer)).one()


def test_retier_right_after_the_seed_changes_nothing(small_demo_utility: DemoDatabase) -> None:
    report = retier(small_demo_utility.sessions, DEFAULTS, progress=False)
    assert report.customers == 300
    assert report.changed == 0
    with small_demo_utility.sessions() as session:
        assert session.scalars(select(TierChange)).all() == []


def test_a_customer_who_stops_paying_moves_to_attention_and_the_move_is_recorded(
    small_demo_utility: DemoDatabase,
) -> None:
    demo = small_demo_utility
    customer, account = _customer_of(demo, "all paid")
    assert _tier(demo, customer) is Tier.STANDARD
    today = periods.local_day(periods.now_utc())
    with demo.sessions.begin() as session:
        # The last three bills that fell due: never paid, 300 yuan each.
        due = session.scalars(
            select(Bill.id)
            .where(Bill.account_id == account, Bill.due_date < today)
            .order_by(Bill.period.desc())
            .limit(3)
        ).all()
        session.execute(update(Bill).where(Bill.id.in_(due)).values(paid_on=None, amount_fen=30_000))
    report = retier(demo.sessions, DEFAULTS, progress=False)
    assert report.changes == {(Tier.STANDARD, Tier.ATTENTION): 1}
    assert _tier(demo, customer) is Tier.ATTENTION
    with demo.sessions() as session:
        change = session.scalars(select(TierChange).where(TierChange.customer_id == customer)).one()
    assert (change.old_tier, change.new_tier) == (Tier.STANDARD, Tier.ATTENTION)
    assert change.risk_score >= DEFAULTS.attention_score
    assert "3 overdue" in change.reason and "arrears 90000 fen" in change.reason
    view = CustomerService(demo.sessions).customer_360(customer)
    assert isinstance(view, Customer360) and view.tier is Tier.ATTENTION
    assert view.last_tier_change is not None and "standard -> attention" in view.last_tier_change
    assert retier(demo.sessions, DEFAULTS, progress=False).changed == 0


def test_complaints_count_towards_the_risk(small_demo_utility: DemoDatabase) -> None:
    demo = small_demo_utility
    customer, account = _customer_of(demo, "all paid")
    now = periods.now_utc()
    with demo.sessions.begin() as session:
        for n in range(3):
            session.add(
                Contact(
                    uniqueid=f"complaint-{n}",
                    caller_number=demo.caller("all paid").phone,
                    started_at=now - timedelta(days=n + 1),
                    ivr_path=[],
                    account_id=account,
                    disposition="complaint",
                )
            )
    # Three complaints give 15 points: attention only where the line is drawn that low.
    assert retier(demo.sessions, DEFAULTS, progress=False).changed == 0
    report = retier(demo.sessions, replace(DEFAULTS, attention_score=15), progress=False)
    assert report.changes[(Tier.STANDARD, Tier.ATTENTION)] >= 1
    assert _tier(demo, customer) is Tier.ATTENTION


def test_the_thresholds_decide_who_is_a_key_account(small_demo_utility: DemoDatabase) -> None:
    demo = small_demo_utility
    with demo.sessions() as session:
        key = session.execute(
            select(Customer.id, Customer.customer_class).where(Customer.tier == Tier.KEY_ACCOUNT)
        ).all()
    industrial = [c for c, cls in key if cls is CustomerClass.INDUSTRIAL]
    critical = [c for c, cls in key if cls is CustomerClass.CRITICAL_LOAD]
    assert industrial and critical
    unreachable = replace(DEFAULTS, large_customer_kva=10**6, large_customer_kwh=10**12)
    report = retier(demo.sessions, unreachable, progress=False)
    assert sum(n for (old, _), n in report.changes.items() if old is Tier.KEY_ACCOUNT) == len(key) - len(critical)
    assert all(_tier(demo, c) is Tier.KEY_ACCOUNT for c in critical)
    assert all(_tier(demo, c) is not Tier.KEY_ACCOUNT for c in industrial)
    # Back to the defaults: the same customers return, and their managers were kept for them.
    back = retier(demo.sessions, DEFAULTS, progress=False)
    assert back.changed == report.changed and back.key_accounts_without_manager == 0
    assert all(_tier(demo, c) is Tier.KEY_ACCOUNT for c in industrial)
    with demo.sessions() as session:
        assert len(session.scalars(select(TierChange)).all()) == 2 * report.changed
