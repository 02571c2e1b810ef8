"""The read services on the seeded demo utility, on SQLite and on PostgreSQL: identification by caller and by
account number, bill summaries, outages through the grid topology, the customer 360, and the defined answer to
each kind of bad input."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest
from sqlalchemy import event, func, select

from crm import account_numbers, db
from crm.customer_records import (
    MAX_LISTED,
    AccountOutages,
    AccountSummary,
    BillSummary,
    CallerAccounts,
    Customer360,
    NoBillsYet,
    Problem,
    Refusal,
)
from crm.models import (
    Account,
    Bill,
    Contact,
    Customer,
    Feeder,
    Outage,
    OutageArea,
    Payment,
    SupplyPoint,
    TransformerArea,
)
from crm.services import CustomerService
from crm.tiers import CustomerClass, Tier
from crm.vocabulary import OutageKind, OutageScope
from crm.work_order_models import WorkOrder
from hotline import periods
from tests.conftest import DemoDatabase


@pytest.fixture
def service(demo_utility: DemoDatabase) -> CustomerService:
    return CustomerService(demo_utility.sessions)


@pytest.fixture
def statements(demo_utility: DemoDatabase) -> Iterator[list[str]]:
    """Every SQL statement the database receives during the test."""
    seen: list[str] = []

    def record(*args: object) -> None:
        seen.append(str(args[2]))

    event.listen(demo_utility.engine, "before_cursor_execute", record)
    yield seen
    event.remove(demo_utility.engine, "before_cursor_execute", record)


def _account_id(demo: DemoDatabase, number: str) -> int:
    with demo.sessions() as session:
        return int(session.scalar(select(Account.id).where(Account.number == number)) or 0)


def _number_of(demo: DemoDatabase, account_id: int) -> str:
    with demo.sessions() as session:
        return str(session.scalar(select(Account.number).where(Account.id == account_id)))


# --- by caller number ---


def test_a_caller_with_one_account_is_identified(service: CustomerService, demo_utility: DemoDatabase) -> None:
    caller = demo_utility.caller("all paid")
    found = service.accounts_by_caller(caller.phone)
    assert isinstance(found, CallerAccounts)
    assert found.total == 1 and found.single is not None
    assert found.single.number == caller.account_number
    assert found.single.customer_name == caller.customer_name
    assert found.single.customer_class is CustomerClass.RESIDENTIAL


def test_a_caller_number_is_found_in_international_form(service: CustomerService, demo_utility: DemoDatabase) -> None:
    caller = demo_utility.caller("all paid")
    for form in (f"+86{caller.phone}", f"+86 {caller.phone[:3]} {caller.phone[3:]}", f"0086{caller.phone}"):
        found = service.accounts_by_caller(form)
        assert isinstance(found, CallerAccounts), form
        assert found.caller_number == caller.phone


def test_a_caller_with_many_accounts_is_asked_which(service: CustomerService, demo_utility: DemoDatabase) -> None:
    caller = demo_utility.caller("several accounts")
    found = service.accounts_by_caller(caller.phone)
    assert isinstance(found, CallerAccounts)
    assert found.single is None
    assert found.total == 12 and found.too_many_to_list
    assert len(found.accounts) == MAX_LISTED
    assert [a.number for a in found.accounts] == sorted(a.number for a in found.accounts)


def test_a_number_shared_by_two_customers_finds_both(service: CustomerService, demo_utility: DemoDatabase) -> None:
    found = service.accounts_by_caller(demo_utility.caller("shared number").phone)
    assert isinstance(found, CallerAccounts)
    assert found.single is None and not found.too_many_to_list
    assert len({a.customer_id for a in found.accounts}) == 2


def test_an_unknown_or_withheld_caller_number_is_refused(service: CustomerService) -> None:
    unknown = service.accounts_by_caller("13912345678")  # the demo never gives out 139 numbers
    assert isinstance(unknown, Refusal) and unknown.problem is Problem.UNKNOWN_CALLER
    for withheld in ("", "anonymous", "+86"):
        refused = service.accounts_by_caller(withheld)
        assert isinstance(refused, Refusal) and refused.problem is Problem.MALFORMED, withheld


# --- by account number ---


def test_an_account_is_found_by_its_number_with_its_place_in_the_grid(
    service: CustomerService, demo_utility: DemoDatabase
) -> None:
    caller = demo_utility.caller("all paid")
    found = service.account_by_number(caller.account_number + "#")
    assert isinstance(found, AccountSummary)
    assert found.number == caller.account_number
    with demo_utility.sessions() as session:
        area, feeder = session.execute(
            select(TransformerArea.name, Feeder.name)
            .join(SupplyPoint, SupplyPoint.transformer_area_id == TransformerArea.id)
            .join(Account, Account.supply_point_id == SupplyPoint.id)
            .join(Feeder, Feeder.id == TransformerArea.feeder_id)
            .where(Account.number == caller.account_number)
        ).one()
    assert (found.transformer_area, found.feeder) == (area, feeder)
    assert found.substation.endswith("变电站") and found.county_company.endswith("供电公司")


def test_a_mistyped_account_number_is_refused_before_any_query(
    service: CustomerService, demo_utility: DemoDatabase, statements: list[str]
) -> None:
    number = demo_utility.caller("all paid").account_number
    # Two neighbouring digits swapped, the commonest slip on a keypad.
    i = next(i for i in range(len(number) - 1) if number[i] != number[i + 1])
    typo = number[:i] + number[i + 1] + number[i] + number[i + 2 :]
    for method in (service.account_by_number, service.bill_summary, service.outages):
        refused = method(typo)
        assert isinstance(refused, Refusal) and refused.problem is Problem.BAD_CHECK_DIGIT
    assert statements == []


@pytest.mark.parametrize("typed", ["", "12345", "31000000100", "3l00000010", "*"])
def test_an_account_number_of_the_wrong_shape_is_malformed(service: CustomerService, typed: str) -> None:
    refused = service.account_by_number(typed)
    assert isinstance(refused, Refusal) and refused.problem is Problem.MALFORMED


def test_a_well_formed_number_nobody_holds_is_unknown(service: CustomerService) -> None:
    nobody = account_numbers.make(88, 1234567)
    for method in (service.account_by_number, service.bill_summary, service.outages):
        refused = method(nobody)
        assert isinstance(refused, Refusal) and refused.problem is Problem.UNKNOWN_ACCOUNT


# --- bills ---


def test_arrears_are_the_unpaid_bills_past_their_due_date(service: CustomerService, demo_utility: DemoDatabase) -> None:
    number = demo_utility.caller("in arrears").account_number
    summary = service.bill_summary(number)
    assert isinstance(summary, BillSummary)
    today = periods.local_day(periods.now_utc())
    with demo_utility.sessions() as session:
        unpaid = session.execute(
            select(Bill.amount_fen, Bill.due_date).where(
                Bill.account_id == _account_id(demo_utility, number), Bill.paid_on.is_(None)
            )
        ).all()
    overdue = [amount for amount, due in unpaid if due < today]
    assert len(overdue) >= 2
    assert summary.overdue_bills == len(overdue)
    assert summary.arrears_fen == sum(overdue) > 0
    assert summary.amount_due_fen == sum(amount for amount, _ in unpaid)
    assert summary.due_date == min(due for _, due in unpaid)
    assert summary.latest_bill.period == periods.period(periods.month_start(today, 1))


def test_a_punctual_payer_owes_nothing_and_the_last_payment_is_the_latest(
    service: CustomerService, demo_utility: DemoDatabase
) -> None:
    number = demo_utility.caller("all paid").account_number
    summary = service.bill_summary(number)
    assert isinstance(summary, BillSummary)
    assert summary.arrears_fen == 0 and summary.overdue_bills == 0
    with demo_utility.sessions() as session:
        latest = session.execute(
            select(Payment.paid_at, Payment.amount_fen)
            .where(Payment.account_id == _account_id(demo_utility, number))
            .order_by(Payment.paid_at.desc())
            .limit(1)
        ).one()
    assert summary.last_payment is not None
    assert (summary.last_payment.paid_at, summary.last_payment.amount_fen) == (latest.paid_at, latest.amount_fen)
    assert summary.last_payment.paid_at.tzinfo is not None


def test_a_new_account_has_no_bills_yet(service: CustomerService, demo_utility: DemoDatabase) -> None:
    number = demo_utility.caller("no bills yet").account_number
    answer = service.bill_summary(number)
    assert isinstance(answer, NoBillsYet)
    assert answer.account_number == number


def test_a_prepaid_account_reports_its_balance(service: CustomerService, demo_utility: DemoDatabase) -> None:
    number = demo_utility.caller("prepaid").account_number
    summary = service.bill_summary(number)
    assert isinstance(summary, BillSummary | NoBillsYet)
    with demo_utility.sessions() as session:
        balance = session.scalar(select(Account.balance_fen).where(Account.number == number))
    assert summary.prepaid and summary.balance_fen == balance


# --- outages through the topology ---


def _fault(demo: DemoDatabase) -> Outage:
    with demo.sessions() as session:
        return session.scalars(
            select(Outage).where(Outage.kind == OutageKind.FAULT, Outage.restored_at.is_(None))
        ).one()


def _accounts_on_feeders(demo: DemoDatabase, feeders: list[int]) -> list[str]:
    with demo.sessions() as session:
        return list(
            session.scalars(
                select(Account.number)
                .join(SupplyPoint, SupplyPoint.id == Account.supply_point_id)
                .join(TransformerArea, TransformerArea.id == SupplyPoint.transformer_area_id)
                .where(TransformerArea.feeder_id.in_(feeders))
                .order_by(Account.number)
            )
        )


def test_a_feeder_fault_reaches_every_transformer_area_below_it(
    service: CustomerService, demo_utility: DemoDatabase
) -> None:
    fault = _fault(demo_utility)
    assert fault.scope is OutageScope.FEEDER and fault.feeder_id is not None
    below = _accounts_on_feeders(demo_utility, [fault.feeder_id])
    with demo_utility.sessions() as session:
        areas = session.scalar(
            select(func.count(func.distinct(SupplyPoint.transformer_area_id)))
            .join(Account, Account.supply_point_id == SupplyPoint.id)
            .where(Account.number.in_(below))
        )
    assert len(below) > 10 and areas and areas > 1
    for number in below:
        answer = service.outages(number)
        assert isinstance(answer, AccountOutages)
        assert [o.outage_id for o in answer.current] == [fault.id], number
        assert answer.current[0].kind is OutageKind.FAULT
        assert answer.current[0].reason == fault.reason
    assert demo_utility.caller("active fault").account_number in below


def test_a_neighbouring_feeders_customers_are_not_affected(
    service: CustomerService, demo_utility: DemoDatabase
) -> None:
    fault = _fault(demo_utility)
    with demo_utility.sessions() as session:
        substation = session.scalar(select(Feeder.substation_id).where(Feeder.id == fault.feeder_id))
        neighbours = list(
            session.scalars(select(Feeder.id).where(Feeder.substation_id == substation, Feeder.id != fault.feeder_id))
        )
    assert neighbours, "the demo gives every substation at least two feeders"
    beside = _accounts_on_feeders(demo_utility, neighbours)
    assert beside
    for number in beside:
        answer = service.outages(number)
        assert isinstance(answer, AccountOutages)
        assert answer.current == (), number


def test_a_substation_outage_reaches_all_its_feeders(service: CustomerService, demo_utility: DemoDatabase) -> None:
    with demo_utility.sessions() as session:
        outage = session.scalars(select(Outage).where(Outage.scope == OutageScope.SUBSTATION)).one()
        feeders = list(session.scalars(select(Feeder.id).where(Feeder.substation_id == outage.substation_id)))
    assert len(feeders) >= 2
    for feeder in feeders:
        number = _accounts_on_feeders(demo_utility, [feeder])[0]
        answer = service.outages(number)
        assert isinstance(answer, AccountOutages)
        assert outage.id in [o.outage_id for o in answer.upcoming], feeder
        assert outage.id not in [o.outage_id for o in answer.current]


def test_an_outage_of_listed_transformer_areas_reaches_only_those(
    service: CustomerService, demo_utility: DemoDatabase
) -> None:
    with demo_utility.sessions() as session:
        outage = session.scalars(select(Outage).where(Outage.kind == OutageKind.GRID_CONSTRUCTION)).one()
        area = session.scalars(select(OutageArea.transformer_area_id).where(OutageArea.outage_id == outage.id)).first()
        feeder, area_name = session.execute(
            select(TransformerArea.feeder_id, TransformerArea.name).where(TransformerArea.id == area)
        ).one()
        inside = session.scalars(
            select(Account.number).join(SupplyPoint).where(SupplyPoint.transformer_area_id == area)
        ).first()
        outside = session.scalars(
            select(Account.number)
            .join(SupplyPoint)
            .join(TransformerArea)
            .where(
                TransformerArea.feeder_id == feeder,
                TransformerArea.id.not_in(
                    select(OutageArea.transformer_area_id).where(OutageArea.outage_id == outage.id)
                ),
            )
        ).first()
    assert inside and outside
    reached = service.outages(inside)
    assert isinstance(reached, AccountOutages)
    notice = next(o for o in reached.upcoming if o.outage_id == outage.id)
    assert notice.where == area_name and notice.reason == outage.reason
    missed = service.outages(outside)
    assert isinstance(missed, AccountOutages)
    assert outage.id not in [o.outage_id for o in missed.upcoming + missed.current]


def test_planned_work_is_upcoming_then_current_then_over(demo_utility: DemoDatabase) -> None:
    number = demo_utility.caller("planned outage").account_number
    with demo_utility.sessions() as session:
        planned = session.scalars(
            select(Outage).where(
                Outage.kind == OutageKind.PLANNED_MAINTENANCE,
                Outage.scope == OutageScope.FEEDER,
                Outage.restored_at.is_(None),
            )
        ).one()
    assert planned.expected_restoration_at is not None

    def at(moment: datetime) -> AccountOutages:
        answer = CustomerService(demo_utility.sessions, clock=lambda: moment).outages(number)
        assert isinstance(answer, AccountOutages)
        return answer

    before = at(planned.starts_at - timedelta(hours=2))
    assert [o.outage_id for o in before.upcoming] == [planned.id] and before.current == ()
    during = at(planned.starts_at + timedelta(hours=1))
    assert [o.outage_id for o in during.current] == [planned.id]
    assert during.current[0].kind is OutageKind.PLANNED_MAINTENANCE
    assert at(planned.expected_restoration_at + timedelta(minutes=1)).current == ()
    assert at(planned.starts_at - timedelta(days=8)).upcoming == ()


def test_restored_outages_are_never_reported(service: CustomerService, demo_utility: DemoDatabase) -> None:
    with demo_utility.sessions() as session:
        restored = session.scalars(select(Outage).where(Outage.restored_at.is_not(None))).all()
    assert restored
    for outage in restored:
        assert outage.feeder_id is not None
        for number in _accounts_on_feeders(demo_utility, [outage.feeder_id])[:3]:
            answer = service.outages(number)
            assert isinstance(answer, AccountOutages)
            assert outage.id not in [o.outage_id for o in answer.current + answer.upcoming]


# --- the customer 360 ---


def test_the_360_of_a_key_account_names_its_manager(service: CustomerService, demo_utility: DemoDatabase) -> None:
    caller = demo_utility.caller("key account")
    account = service.account_by_number(caller.account_number)
    assert isinstance(account, AccountSummary)
    view = service.customer_360(account.customer_id)
    assert isinstance(view, Customer360)
    assert view.tier is Tier.KEY_ACCOUNT
    assert view.account_manager is not None and view.account_manager.startswith("A")
    assert caller.phone in view.phones
    assert caller.account_number in [a.number for a in view.accounts]
    assert len(view.bills) == len(view.accounts)


def test_the_360_covers_every_account_of_the_customer(service: CustomerService, demo_utility: DemoDatabase) -> None:
    found = service.accounts_by_caller(demo_utility.caller("several accounts").phone)
    assert isinstance(found, CallerAccounts)
    view = service.customer_360(found.accounts[0].customer_id)
    assert isinstance(view, Customer360)
    assert len(view.accounts) == found.total == 12
    assert [b.account_number for b in view.bills] == [a.number for a in view.accounts]


def test_the_360_shows_recent_contacts_newest_first(service: CustomerService, demo_utility: DemoDatabase) -> None:
    with demo_utility.sessions() as session:
        customer, contacts = session.execute(
            select(Account.customer_id, func.count(Contact.id))
            .join(Contact, Contact.account_id == Account.id)
            .group_by(Account.customer_id)
            .order_by(func.count(Contact.id).desc(), Account.customer_id)
            .limit(1)
        ).one()
    assert contacts >= 2
    view = service.customer_360(customer)
    assert isinstance(view, Customer360)
    assert len(view.recent_contacts) == min(contacts, 10)
    started = [c.started_at for c in view.recent_contacts]
    assert started == sorted(started, reverse=True)


def test_the_360_lists_open_work_orders_only(service: CustomerService, demo_utility: DemoDatabase) -> None:
    with demo_utility.sessions() as session:
        customer = session.scalar(select(WorkOrder.customer_id).where(WorkOrder.status == "open").limit(1))
        assert customer is not None
        expected = set(
            session.scalars(
                select(WorkOrder.number).where(WorkOrder.customer_id == customer, WorkOrder.status == "open")
            )
        )
    view = service.customer_360(customer)
    assert isinstance(view, Customer360)
    assert {o.number for o in view.open_work_orders} == expected


def test_the_360_includes_current_outages(service: CustomerService, demo_utility: DemoDatabase) -> None:
    account = service.account_by_number(demo_utility.caller("active fault").account_number)
    assert isinstance(account, AccountSummary)
    view = service.customer_360(account.customer_id)
    assert isinstance(view, Customer360)
    assert [o.kind for o in view.current_outages] == [OutageKind.FAULT]


def test_an_unknown_customer_is_refused(service: CustomerService) -> None:
    refused = service.customer_360(10**9)
    assert isinstance(refused, Refusal) and refused.problem is Problem.UNKNOWN_CUSTOMER


# --- the IVR secret ---


def test_the_ivr_secret_is_checked_against_its_hash(service: CustomerService, demo_utility: DemoDatabase) -> None:
    caller = demo_utility.caller("in arrears")
    assert service.verify_caller(caller.account_number, caller.secret) is True
    wrong = f"{(int(caller.secret) + 1) % 10**6:06d}"
    assert service.verify_caller(caller.account_number, wrong) is False
    with demo_utility.sessions() as session:
        stored = session.scalar(
            select(Customer.verification_hash).join(Account).where(Account.number == caller.account_number)
        )
        unset = session.scalar(
            select(Account.number).join(Customer).where(Customer.verification_hash.is_(None)).limit(1)
        )
    assert stored is not None and stored.startswith("scrypt$") and caller.secret not in stored
    assert unset is not None and service.verify_caller(unset, caller.secret) is False


# --- a database that fails ---


def test_a_broken_database_is_a_refusal_not_an_exception(tmp_path: object) -> None:
    # A database without the schema: every query fails inside the service.
    engine = db.make_engine(f"sqlite:///{tmp_path}/empty.db")
    try:
        service = CustomerService(db.session_factory(engine))
        answers = [
            service.accounts_by_caller("13800000000"),
            service.account_by_number(account_numbers.make(31, 1)),
            service.bill_summary(account_numbers.make(31, 1)),
            service.outages(account_numbers.make(31, 1)),
            service.customer_360(1),
            service.verify_caller(account_numbers.make(31, 1), "123456"),
        ]
    finally:
        engine.dispose()
    for answer in answers:
        assert isinstance(answer, Refusal) and answer.problem is Problem.UNAVAILABLE
