"""The work-order service on SQLite and on PostgreSQL, with a clock the tests move: creation from the IVR, an agent
and the API (anonymous too), the flow with its history and the role and county rules, the contact clock and
escalation, lists, suspected outages raised from repair reports (also by threads reporting at once), attachment of
later reports, bulk resolution when power is back, and the migration of the minimal orders that came before."""

from __future__ import annotations

import itertools
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.config import Config as AlembicConfig
from sqlalchemy import func, select, text

from crm import account_numbers, db
from crm.contacts import ContactLog
from crm.models import CountyCompany, Outage, OutageArea, User
from crm.services import CustomerService
from crm.tiers import Tier
from crm.vocabulary import OutageKind, OutageScope, Role
from crm.work_order_models import OutageReport, WorkOrder
from demo.builders import ManualClock, NewAccount, NewCustomer, add_county, add_customers, add_feeder, add_substation
from ivr.call import Identity
from ivr.customers import CrmCustomers
from tests.conftest import scratch_database
from work_orders.policy import load_policy
from work_orders.records import NewWorkOrder, OrderFilter
from work_orders.rules import (
    Action,
    Actor,
    IllegalTransitionError,
    InvalidRequestError,
    Kind,
    NotPermittedError,
    Origin,
    State,
    UnknownOutageError,
    UnknownWorkOrderError,
    WrongCountyError,
)
from work_orders.service import WorkOrderService
from work_orders.workflow import ConflictError

POLICY = load_policy(Path(__file__).with_name("work_orders_policy.toml"))
# 09:00 in the utility's time zone.
T0 = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)

IVR = Actor.system("IVR")
AGENT = Actor("坐席 王芳", Role.AGENT, user_id=None)
DISPATCHER = Actor("服调 李强", Role.DISPATCHER)
SUPERVISOR = Actor("班长 赵敏", Role.SUPERVISOR)


@dataclass(frozen=True)
class Someone:
    account_number: str
    customer_id: int
    phone: str
    account_id: int


class Grid:
    """Two county companies. County A: one substation with feeders F1 (areas A1, A2) and F2 (area A3). County B:
    feeder F3 (area B1). Customers are added per test, each with their own supply point and phone."""

    def __init__(self, sessions: Any) -> None:
        self.sessions = sessions
        self._serials = itertools.count(1)
        self._phones = itertools.count(1)
        with sessions.begin() as s:
            self.county_a = add_county(s, "41", "甲县供电公司")
            self.county_b = add_county(s, "42", "乙县供电公司")
            sub_a = add_substation(s, self.county_a.id, "S-A", "甲变")
            sub_b = add_substation(s, self.county_b.id, "S-B", "乙变")
            self.feeders: dict[str, int] = {}
            self.areas: dict[str, int] = {}
            for feeder, substation, areas in (
                ("F1", sub_a, ("A1", "A2")),
                ("F2", sub_a, ("A3",)),
                ("F3", sub_b, ("B1",)),
            ):
                built = add_feeder(s, substation.id, feeder, f"10千伏{feeder}线", [(a, f"{a}台区") for a in areas])
                self.feeders[feeder] = built.id
                self.areas.update(built.areas)

    def customer(self, area: str = "A1", tier: Tier = Tier.STANDARD, phone: bool = True) -> Someone:
        serial = next(self._serials)
        county = 42 if area.startswith("B") else 41
        number = f"1380000{next(self._phones):04d}"
        new = NewCustomer(
            name=f"客户{serial}",
            created_at=T0 - timedelta(days=400),
            tier=tier,
            phones=[(number, "mobile")] if phone else [],
            accounts=[
                NewAccount(
                    number=account_numbers.make(county, serial),
                    transformer_area_id=self.areas[area],
                    box_code=f"BOX{serial}",
                    meter_number=f"M{serial}",
                    address=f"{area}路{serial}号",
                    opened_on=T0.date() - timedelta(days=400),
                )
            ],
        )
        with self.sessions.begin() as s:
            (added,) = add_customers(s, [new])
            account = added.accounts[0]
            return Someone(account.number, added.customer.id, number if phone else "", account.id)

    def call(self, caller_number: str) -> int:
        """A contact row, as the IVR opens one for each call."""
        return (
            ContactLog(self.sessions)
            .open(f"call-{caller_number}-{next(self._serials)}", caller_number, "95598", "PJSIP/x", "zh")
            .contact_id
        )

    def county_staff(self, county: CountyCompany) -> Actor:
        return Actor(f"{county.name}员工", Role.COUNTY, county_id=county.id)


@dataclass
class World:
    backend: str
    sessions: Any
    engine: Any
    grid: Grid
    clock: ManualClock
    service: WorkOrderService

    @property
    def county_a(self) -> Actor:
        return self.grid.county_staff(self.grid.county_a)

    @property
    def county_b(self) -> Actor:
        return self.grid.county_staff(self.grid.county_b)

    def repair(self, who: Someone, neighbours_out: bool = True, actor: Actor = IVR, **options: Any) -> Any:
        order = NewWorkOrder(
            Kind.REPAIR,
            "邻居也停电" if neighbours_out else "仅本户停电",
            Origin.IVR if actor is IVR else Origin.AGENT,
            account_number=who.account_number,
            neighbours_out=neighbours_out,
            **options,
        )
        return self.service.create(order, actor)

    def outages(self) -> list[Outage]:
        with self.sessions() as s:
            return list(s.scalars(select(Outage).order_by(Outage.id)))

    def linked(self, outage_id: int) -> set[int]:
        with self.sessions() as s:
            return set(s.scalars(select(OutageReport.work_order_id).where(OutageReport.outage_id == outage_id)))


@pytest.fixture(params=["sqlite", "postgresql"])
def world(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[World]:
    with scratch_database(request.param, tmp_path) as url:
        db.upgrade(url)
        engine = db.make_engine(url)
        try:
            sessions = db.session_factory(engine)
            clock = ManualClock(T0)
            yield World(
                request.param, sessions, engine, Grid(sessions), clock, WorkOrderService(sessions, POLICY, clock)
            )
        finally:
            engine.dispose()


def dispatched(world: World, who: Someone | None = None, kind: Kind = Kind.REPAIR, **options: Any) -> Any:
    """An order of `who` (a new standard customer in A1 by default) dispatched to its county now."""
    who = who or world.grid.customer()
    order = world.service.create(
        NewWorkOrder(kind, "客户来电", Origin.AGENT, account_number=who.account_number, **options), AGENT
    )
    return world.service.transition(order.number, Action.DISPATCH, DISPATCHER)


# --- creating ---


def test_an_ivr_repair_order_has_a_readable_number_and_knows_where_it_is(world: World) -> None:
    who = world.grid.customer("A2")
    contact = world.grid.call("13912345678")
    order = world.service.create(
        NewWorkOrder(Kind.REPAIR, "IVR报修：仅本户停电", Origin.IVR, account_number=who.account_number,
                     contact_id=contact, neighbours_out=False),
        IVR,
    )  # fmt: skip
    # 09:00 on 2 March local time; the id padded to six digits; only digits after GD, to be read out.
    assert order.number == f"GD20260302{order.id:06d}"
    assert order.number[2:].isdigit()
    assert (order.kind, order.state, order.status, order.origin) == (Kind.REPAIR, State.CREATED, "open", Origin.IVR)
    assert order.customer_id == who.customer_id and order.account_number == who.account_number
    assert (order.transformer_area, order.feeder, order.county) == ("A2台区", "10千伏F1线", "甲县供电公司")
    assert order.tier is Tier.STANDARD and order.contact_id == contact
    # The number to call back is the caller's, not the customer's registered one.
    assert order.callback_number == "13912345678"
    assert [(s.action, s.to_state, s.actor, s.role) for s in order.steps] == [("create", State.CREATED, "IVR", None)]
    assert order.contact_deadline is None and not order.overdue  # the clock starts at dispatch
    assert world.service.detail(order.number, DISPATCHER).id == order.id
    assert world.service.detail(order.id, DISPATCHER).number == order.number


def test_an_agent_or_the_api_creates_orders_of_every_kind(world: World) -> None:
    who = world.grid.customer("A3")
    clerk = Actor("坐席 周杰", Role.AGENT, user_id=None)
    for kind in Kind:
        order = world.service.create(NewWorkOrder(kind, f"{kind}单", Origin.AGENT, customer_id=who.customer_id), clerk)
        assert order.kind is kind and order.customer_id == who.customer_id
        # No account named: the customer's first registered phone is the one to call back.
        assert order.callback_number == who.phone
    api = world.service.create(
        NewWorkOrder(Kind.BUSINESS, "新装申请", Origin.API, callback_number="+86 139 0000 1111"), Actor.system("API")
    )
    assert api.origin is Origin.API and api.customer_id is None and api.callback_number == "13900001111"
    with pytest.raises(NotPermittedError):
        world.service.create(
            NewWorkOrder(Kind.COMPLAINT, "x", Origin.AGENT, customer_id=who.customer_id), world.county_a
        )


def test_an_anonymous_report_is_allowed_and_has_no_contact_clock(world: World) -> None:
    order = world.service.create(
        NewWorkOrder(Kind.REPAIR, "路边电线被风刮断", Origin.AGENT, anonymous=True, address="江滨路口",
                     transformer_area_id=world.grid.areas["A1"]),
        AGENT,
    )  # fmt: skip
    assert order.anonymous and order.customer_id is None and order.callback_number == ""
    assert order.address == "江滨路口" and order.county == "甲县供电公司"
    order = world.service.transition(order.id, Action.DISPATCH, DISPATCHER)
    assert order.state is State.DISPATCHED and order.contact_deadline is None and order.time_left is None
    world.clock.advance(days=2)
    assert not world.service.detail(order.id, DISPATCHER).overdue
    assert world.service.overdue_count() == 0 and world.service.escalate_overdue() == []


@pytest.mark.parametrize(
    ("new", "message"),
    [
        (NewWorkOrder(Kind.REPAIR, "  ", Origin.AGENT, anonymous=True), "summary"),
        (NewWorkOrder(Kind.REPAIR, "x" * 257, Origin.AGENT, anonymous=True), "256"),
        (NewWorkOrder(Kind.REPAIR, "x", Origin.AGENT, anonymous=True, account_number="4100000011"), "anonymous"),
        (NewWorkOrder(Kind.REPAIR, "x", Origin.AGENT, account_number="12345"), "10 digits"),
        (NewWorkOrder(Kind.REPAIR, "x", Origin.AGENT, account_number=account_numbers.make(41, 999)), "no account"),
        (NewWorkOrder(Kind.REPAIR, "x", Origin.AGENT, customer_id=99999), "no customer"),
        (NewWorkOrder(Kind.REPAIR, "x", Origin.AGENT), "number to call back"),
        (NewWorkOrder(Kind.REPAIR, "x", Origin.AGENT, callback_number="12"), "not usable"),
        (NewWorkOrder(Kind.COMPLAINT, "x", Origin.AGENT, anonymous=True, neighbours_out=True), "only a repair"),
        (NewWorkOrder(Kind.REPAIR, "x", Origin.AGENT, anonymous=True, transformer_area_id=99999), "no transformer"),
        (NewWorkOrder(Kind.REPAIR, "x", Origin.AGENT, anonymous=True, contact_id=99999), "no call"),
    ],
)
def test_bad_input_is_refused_with_a_reason(world: World, new: NewWorkOrder, message: str) -> None:
    with pytest.raises(InvalidRequestError, match=message):
        world.service.create(new, AGENT)
    with world.sessions() as s:
        assert s.scalar(select(func.count()).select_from(WorkOrder)) == 0


# --- the flow ---


def test_the_whole_flow_is_kept_step_by_step(world: World) -> None:
    who = world.grid.customer("A1")
    county = world.county_a
    order = world.service.create(
        NewWorkOrder(Kind.COMPLAINT, "抄表员态度差", Origin.AGENT, account_number=who.account_number), AGENT
    )
    order = world.service.transition(order.number, Action.DISPATCH, DISPATCHER, notes="请甲县核实")
    assert order.actions == ()  # a dispatcher has nothing more to do with it now
    assert world.service.detail(order.id, county).actions == (Action.RETURN, Action.ACCEPT)
    world.clock.advance(minutes=5)
    world.service.transition(order.number, Action.ACCEPT, county)
    world.clock.advance(minutes=10)
    world.service.transition(order.number, Action.CONTACT, county, notes="已电话联系客户")
    world.service.transition(order.number, Action.HANDLE, county, notes="已约谈抄表员")
    world.service.transition(
        order.number, Action.REPORT, county, notes="客户认可处理结果", evidence=["files/17/约谈记录.jpg"]
    )
    world.service.transition(order.number, Action.REJECT, SUPERVISOR, notes="缺少客户签字")
    world.service.transition(
        order.number, Action.REPORT, county, notes="补充签字", evidence=["files/17/签字.jpg", "files/17/录音.wav"]
    )
    world.service.transition(order.number, Action.APPROVE, SUPERVISOR)
    world.clock.advance(minutes=1)
    order = world.service.transition(order.number, Action.ARCHIVE, DISPATCHER)
    assert (order.state, order.status, order.closed_at) == (State.ARCHIVED, "closed", world.clock.now)
    assert order.contacted_at == T0 + timedelta(minutes=15)
    assert [(s.action, s.from_state, s.to_state) for s in order.steps] == [
        ("create", None, State.CREATED),
        ("dispatch", State.CREATED, State.DISPATCHED),
        ("accept", State.DISPATCHED, State.ACCEPTED),
        ("contact", State.ACCEPTED, State.CONTACTED),
        ("handle", State.CONTACTED, State.HANDLED),
        ("report", State.HANDLED, State.REPORTED),
        ("reject", State.REPORTED, State.HANDLED),
        ("report", State.HANDLED, State.REPORTED),
        ("approve", State.REPORTED, State.APPROVED),
        ("archive", State.APPROVED, State.ARCHIVED),
    ]
    dispatch, report = order.steps[1], order.steps[7]
    assert (dispatch.actor, dispatch.role, dispatch.county, dispatch.notes) == (
        "服调 李强",
        "dispatcher",
        "甲县供电公司",
        "请甲县核实",
    )
    assert report.evidence == ("files/17/签字.jpg", "files/17/录音.wav") and report.role == "county"
    assert order.steps[6].notes == "缺少客户签字"
    # Archived: the customer 360 no longer lists it as open.
    view = CustomerService(world.sessions, world.clock).customer_360(who.customer_id)
    assert not isinstance(view, Exception) and view.open_work_orders == ()  # type: ignore[union-attr]


def test_the_customer_360_lists_open_orders_of_the_new_flow(world: World) -> None:
    who = world.grid.customer("A1")
    order = dispatched(world, who)
    view = CustomerService(world.sessions, world.clock).customer_360(who.customer_id)
    assert [o.number for o in view.open_work_orders] == [order.number]  # type: ignore[union-attr]


def test_a_county_returns_an_order_with_a_reason_and_the_dispatch_sends_it_elsewhere(world: World) -> None:
    order = dispatched(world)
    with pytest.raises(InvalidRequestError, match="needs a reason"):
        world.service.transition(order.id, Action.RETURN, world.county_a, notes="  ")
    order = world.service.transition(order.id, Action.RETURN, world.county_a, notes="不属本县管辖")
    assert order.state is State.RETURNED and not order.overdue and order.time_left is None
    assert order.steps[-1].notes == "不属本县管辖"
    world.clock.advance(minutes=50)
    order = world.service.transition(order.id, Action.DISPATCH, DISPATCHER, county_id=world.grid.county_b.id)
    # A new county, a new hour from now.
    assert order.county == "乙县供电公司" and order.contact_deadline == world.clock.now + timedelta(minutes=60)
    with pytest.raises(WrongCountyError):
        world.service.transition(order.id, Action.ACCEPT, world.county_a)
    assert world.service.transition(order.id, Action.ACCEPT, world.county_b).state is State.ACCEPTED


def test_illegal_transitions_wrong_roles_and_wrong_counties_are_refused_and_change_nothing(world: World) -> None:
    order = world.repair(world.grid.customer("A1"))
    attempts: list[tuple[Action, Actor, type[Exception]]] = [
        (Action.ACCEPT, world.county_a, IllegalTransitionError),  # not dispatched yet
        (Action.ARCHIVE, DISPATCHER, IllegalTransitionError),
        (Action.DISPATCH, AGENT, NotPermittedError),
        (Action.DISPATCH, world.county_a, NotPermittedError),
        (Action.DISPATCH, IVR, NotPermittedError),
        (Action.RESOLVE, DISPATCHER, InvalidRequestError),  # only through an outage's restoration
    ]
    for action, who, error in attempts:
        with pytest.raises(error):
            world.service.transition(order.id, action, who)
    order = world.service.transition(order.id, Action.DISPATCH, SUPERVISOR)
    for action, who, error in [
        (Action.ACCEPT, world.county_b, WrongCountyError),
        (Action.ACCEPT, DISPATCHER, NotPermittedError),
        (Action.CONTACT, world.county_a, IllegalTransitionError),  # accept first
        (Action.DISPATCH, DISPATCHER, IllegalTransitionError),
    ]:
        with pytest.raises(error):
            world.service.transition(order.id, action, who)
    after = world.service.detail(order.id, DISPATCHER)
    assert after.state is State.DISPATCHED and len(after.steps) == 2
    with pytest.raises(WrongCountyError):
        world.service.detail(order.id, world.county_b)
    with pytest.raises(UnknownWorkOrderError):
        world.service.transition("GD20260302999999", Action.ACCEPT, world.county_a)
    with pytest.raises(InvalidRequestError, match="county company"):
        world.service.transition(world.repair(world.grid.customer()).id, Action.DISPATCH, DISPATCHER, county_id=999)


def test_a_report_needs_feedback_and_evidence_is_a_list_of_references(world: World) -> None:
    order = dispatched(world)
    for action in (Action.ACCEPT, Action.CONTACT, Action.HANDLE):
        world.service.transition(order.id, action, world.county_a)
    with pytest.raises(InvalidRequestError, match="feedback"):
        world.service.transition(order.id, Action.REPORT, world.county_a, evidence=["a.jpg"])
    with pytest.raises(InvalidRequestError, match="list of references"):
        world.service.transition(order.id, Action.REPORT, world.county_a, notes="ok", evidence="a.jpg")
    with pytest.raises(InvalidRequestError, match="at most"):
        world.service.transition(order.id, Action.REPORT, world.county_a, notes="ok", evidence=["x"] * 21)
    with pytest.raises(InvalidRequestError, match="1 to 256"):
        world.service.transition(order.id, Action.REPORT, world.county_a, notes="ok", evidence=[""])
    assert world.service.transition(order.id, Action.REPORT, world.county_a, notes="已修复").state is State.REPORTED


def test_a_repair_order_carries_the_crews_expected_arrival(world: World) -> None:
    order = dispatched(world)
    arrival = world.clock.now + timedelta(minutes=40)
    order = world.service.transition(order.id, Action.ACCEPT, world.county_a, crew_expected_at=arrival)
    assert order.crew_expected_at == arrival and order.steps[-1].crew_expected_at == arrival
    later = arrival + timedelta(minutes=20)
    assert (
        world.service.transition(order.id, Action.CONTACT, world.county_a, crew_expected_at=later).crew_expected_at
        == later
    )
    complaint = dispatched(world, kind=Kind.COMPLAINT)
    with pytest.raises(InvalidRequestError, match="repair order"):
        world.service.transition(complaint.id, Action.ACCEPT, world.county_a, crew_expected_at=arrival)
    with pytest.raises(InvalidRequestError, match="time zone"):
        world.service.transition(
            dispatched(world).id, Action.ACCEPT, world.county_a, crew_expected_at=datetime(2026, 3, 2, 10)
        )


def test_two_people_taking_the_same_step_at_once_one_wins(world: World) -> None:
    orders = [dispatched(world) for _ in range(4)]
    for order in orders:
        barrier = threading.Barrier(4)

        def accept(order_id: int = order.id, barrier: threading.Barrier = barrier) -> str:
            barrier.wait()
            try:
                world.service.transition(order_id, Action.ACCEPT, world.county_a)
                return "accepted"
            except (ConflictError, IllegalTransitionError):
                return "refused"

        with ThreadPoolExecutor(4) as pool:
            outcomes = list(pool.map(lambda _: accept(), range(4)))
        assert sorted(outcomes) == ["accepted", "refused", "refused", "refused"]
        assert [s.action for s in world.service.detail(order.id, DISPATCHER).steps].count("accept") == 1


# --- the contact clock ---


def test_the_county_must_contact_within_the_hour_of_dispatch(world: World) -> None:
    order = dispatched(world)
    assert order.contact_deadline == T0 + timedelta(hours=1)
    assert order.time_left == timedelta(hours=1) and not order.overdue
    world.clock.advance(minutes=59, seconds=59)
    assert world.service.detail(order.id, DISPATCHER).time_left == timedelta(seconds=1)
    assert world.service.overdue_count() == 0
    world.clock.advance(seconds=1)
    now_overdue = world.service.detail(order.id, DISPATCHER)
    assert now_overdue.overdue and now_overdue.time_left == timedelta(0)
    assert world.service.overdue_count() == 1 and [o.number for o in world.service.overdue()] == [order.number]
    world.clock.advance(minutes=10)
    world.service.transition(order.id, Action.ACCEPT, world.county_a)
    assert world.service.overdue_count() == 1  # accepting is not contacting
    late = world.service.transition(order.id, Action.CONTACT, world.county_a)
    assert not late.overdue and late.contacted_at == T0 + timedelta(minutes=70)
    assert world.service.overdue_count() == 0


def test_the_deadline_follows_the_policy_per_kind_and_tier(world: World) -> None:
    key = world.grid.customer("A1", tier=Tier.KEY_ACCOUNT)
    attention = world.grid.customer("A1", tier=Tier.ATTENTION)
    cases = [
        (dispatched(world, key), 30),  # repair, key account
        (dispatched(world, kind=Kind.COMPLAINT), 45),
        (dispatched(world, key, kind=Kind.COMPLAINT), 20),
        (dispatched(world, attention, kind=Kind.COMPLAINT), 90),
        (dispatched(world, kind=Kind.CONSULTATION), 240),
        (dispatched(world, attention, kind=Kind.BUSINESS), 120),
    ]
    for order, minutes in cases:
        assert order.contact_deadline == T0 + timedelta(minutes=minutes), (order.kind, order.tier)


def test_an_overdue_order_is_escalated_exactly_once(world: World) -> None:
    first = dispatched(world)
    world.clock.advance(minutes=10)
    second = dispatched(world)
    contacted = dispatched(world)
    world.service.transition(contacted.id, Action.ACCEPT, world.county_a)
    world.service.transition(contacted.id, Action.CONTACT, world.county_a)
    assert world.service.escalate_overdue() == []
    world.clock.advance(minutes=55)  # T0 + 65 min: the first is overdue, the second not yet
    escalated = world.service.escalate_overdue()
    assert [(e.number, e.county, e.kind) for e in escalated] == [(first.number, "甲县供电公司", Kind.REPAIR)]
    assert escalated[0].contact_deadline == T0 + timedelta(hours=1) and escalated[0].escalated_at == world.clock.now
    assert world.service.escalate_overdue() == []
    world.clock.advance(minutes=10)
    assert [e.number for e in world.service.escalate_overdue()] == [second.number]
    assert world.service.escalate_overdue(world.clock.now + timedelta(hours=5)) == []
    detail = world.service.detail(first.id, DISPATCHER)
    assert detail.escalated_at == T0 + timedelta(minutes=65) and detail.overdue
    assert [s.action for s in detail.steps].count("escalate") == 1
    assert detail.steps[-1].actor == "clock" and detail.steps[-1].to_state is State.DISPATCHED
    # Still counted as overdue (for the monitor and reports) until the county calls.
    assert world.service.overdue_count() == 2
    assert world.service.overdue_count(county_id=world.grid.county_b.id) == 0


def test_escalation_run_by_two_processes_at_once_tells_each_order_once(world: World) -> None:
    numbers = {dispatched(world).number for _ in range(12)}
    world.clock.advance(hours=2)
    barrier = threading.Barrier(3)

    def run() -> list[str]:
        barrier.wait()
        return [e.number for e in world.service.escalate_overdue()]

    with ThreadPoolExecutor(3) as pool:
        runs = list(pool.map(lambda _: run(), range(3)))
    told = [n for r in runs for n in r]
    assert sorted(told) == sorted(numbers)


def test_a_new_dispatch_is_a_new_clock_and_may_be_escalated_again(world: World) -> None:
    order = dispatched(world)
    world.clock.advance(minutes=61)
    assert len(world.service.escalate_overdue()) == 1
    world.service.transition(order.id, Action.RETURN, world.county_a, notes="地址有误")
    assert world.service.overdue_count() == 0
    order = world.service.transition(order.id, Action.DISPATCH, DISPATCHER)
    assert order.escalated_at is None and not order.overdue
    world.clock.advance(minutes=61)
    assert [e.number for e in world.service.escalate_overdue()] == [order.number]


# --- lists ---


def test_lists_filter_page_and_keep_county_staff_to_their_county(world: World) -> None:
    a, b = world.grid.customer("A1"), world.grid.customer("B1")
    with world.sessions.begin() as s:
        user = User(login="chenjing", name="陈静", role=Role.AGENT, password_hash="-", created_at=T0)
        s.add(user)
        s.flush()
        clerk = Actor("坐席 陈静", Role.AGENT, user_id=user.id)
    mine = world.service.create(
        NewWorkOrder(Kind.COMPLAINT, "投诉", Origin.AGENT, account_number=a.account_number), clerk
    )
    repair_a = dispatched(world, a)
    repair_b = dispatched(world, b)
    world.clock.advance(minutes=5)
    consult_b = dispatched(world, b, kind=Kind.CONSULTATION)
    world.clock.advance(minutes=60)  # both repairs overdue, the consultation not (4 hours)

    def numbers(viewer: Actor = DISPATCHER, **filters: Any) -> list[str]:
        return [o.number for o in world.service.list_orders(OrderFilter(**filters), viewer).items]

    assert numbers() == [consult_b.number, repair_b.number, repair_a.number, mine.number]  # newest first
    assert numbers(county_id=world.grid.county_b.id) == [consult_b.number, repair_b.number]
    assert numbers(kind=Kind.COMPLAINT) == [mine.number]
    assert numbers(state=State.CREATED) == [mine.number]
    assert numbers(overdue=True) == [repair_a.number, repair_b.number]  # the longest overdue first
    assert numbers(overdue=False) == [consult_b.number, mine.number]
    assert numbers(customer_id=b.customer_id) == [consult_b.number, repair_b.number]
    assert numbers(origin=Origin.AGENT) == numbers()
    assert numbers(created_by_id=clerk.user_id) == [mine.number]  # the agent's own orders
    # County staff see their own county only, whatever they ask for.
    assert numbers(world.county_b) == [consult_b.number, repair_b.number]
    with pytest.raises(WrongCountyError):
        numbers(world.county_b, county_id=world.grid.county_a.id)
    page = world.service.list_orders(OrderFilter(), DISPATCHER, page=2, per_page=3)
    assert page.total == 4 and page.pages == 2 and [o.number for o in page.items] == [mine.number]
    line = world.service.list_orders(OrderFilter(overdue=True), DISPATCHER).items[0]
    assert line.overdue and line.time_left == timedelta(minutes=-5) and line.county == "甲县供电公司"
    assert line.customer_name is not None and line.state is State.DISPATCHED
    for action in (Action.ACCEPT, Action.CONTACT, Action.HANDLE):
        world.service.transition(consult_b.id, action, world.county_b)
    world.service.transition(consult_b.id, Action.REPORT, world.county_b, notes="已答复")
    world.service.transition(consult_b.id, Action.APPROVE, DISPATCHER)
    world.service.transition(consult_b.id, Action.ARCHIVE, DISPATCHER)
    assert numbers(open_only=True) == [repair_b.number, repair_a.number, mine.number]
    for bad in ({"page": 0}, {"per_page": 0}, {"per_page": 201}):
        with pytest.raises(InvalidRequestError):
            world.service.list_orders(OrderFilter(), DISPATCHER, **bad)


# --- outages found from calls ---


def test_three_reports_in_one_area_raise_exactly_one_suspected_outage_there(world: World) -> None:
    people = [world.grid.customer("A1") for _ in range(3)]
    first = world.repair(people[0])
    world.clock.advance(minutes=4)
    world.repair(people[1])
    assert world.outages() == []  # N-1 reports: nothing yet
    world.clock.advance(minutes=4)
    third = world.repair(people[2])
    [outage] = world.outages()
    assert (outage.kind, outage.scope, outage.suspected, outage.origin) == (
        OutageKind.FAULT,
        OutageScope.TRANSFORMER_AREAS,
        True,
        "calls",
    )
    assert outage.starts_at == T0 and outage.restored_at is None and outage.expected_restoration_at is None
    assert "A1台区" in outage.reason
    with world.sessions() as s:
        assert list(s.scalars(select(OutageArea.transformer_area_id).where(OutageArea.outage_id == outage.id))) == [
            world.grid.areas["A1"]
        ]
    assert third.outage_id == outage.id and world.service.detail(first.id, DISPATCHER).outage_id == outage.id
    assert len(world.linked(outage.id)) == 3
    assert world.service.detail(first.id, DISPATCHER).steps[-1].action == "attach"
    # The IVR's outage information finds it for callers of that area, as an active fault; not for the next feeder.
    customers = CustomerService(world.sessions, world.clock)
    here = customers.outages(world.grid.customer("A1").account_number)
    assert [(o.outage_id, o.kind) for o in here.current] == [(outage.id, OutageKind.FAULT)]  # type: ignore[union-attr]
    assert customers.outages(world.grid.customer("A3").account_number).current == ()  # type: ignore[union-attr]
    listed = world.service.outages_from_calls()
    assert [(o.id, o.reports, o.where) for o in listed] == [(outage.id, 3, "A1台区")]


def test_reports_over_two_areas_of_a_feeder_raise_a_feeder_outage(world: World) -> None:
    for area in ("A1", "A2", "A1"):
        world.repair(world.grid.customer(area))
    [outage] = world.outages()
    assert outage.scope is OutageScope.FEEDER and outage.feeder_id == world.grid.feeders["F1"]


def test_what_does_not_raise_an_outage(world: World) -> None:
    # Two reports on F1 and two on F2, within minutes: spread over two feeders.
    for area in ("A1", "A3", "A1", "A3"):
        world.repair(world.grid.customer(area))
    # Only their own home out (一户一表: likely the customer's side), three of them.
    for _ in range(3):
        world.repair(world.grid.customer("A2"), neighbours_out=False)
    # One household calling three times.
    again = world.grid.customer("B1")
    for _ in range(3):
        world.repair(again)
    # Complaints are not repair reports.
    for _ in range(3):
        world.service.create(
            NewWorkOrder(
                Kind.COMPLAINT, "停电投诉", Origin.AGENT, account_number=world.grid.customer("B1").account_number
            ),
            AGENT,
        )
    assert world.outages() == []
    # Reports further apart than the window (30 minutes in the tests' policy).
    world.clock.advance(minutes=31)
    world.repair(world.grid.customer("A3"))
    assert world.outages() == []
    assert world.service.correlation_check(world.grid.feeders["F2"]).suspected is None


def test_later_reports_attach_to_the_outage_instead_of_raising_another(world: World) -> None:
    for _ in range(3):
        world.repair(world.grid.customer("A1"))
    [outage] = world.outages()
    world.clock.advance(minutes=2)
    # An agent's repair order from the area joins it; so do three more IVR reports: no second outage.
    fourth = world.repair(world.grid.customer("A1"), actor=AGENT)
    for _ in range(3):
        world.repair(world.grid.customer("A1"))
    assert [o.id for o in world.outages()] == [outage.id] and fourth.outage_id == outage.id
    # A caller told of it by the IVR is attached without an order.
    caller = world.grid.customer("A1")
    contact = world.grid.call("13922223333")
    line = world.service.attach_call(outage.id, IVR, account_number=caller.account_number, contact_id=contact)
    assert line.order_number is None and line.callback_number == "13922223333"
    detail = world.service.outage(outage.id)
    assert detail.outage.reports == 8 and detail.reports[-1].contact_id == contact
    assert world.service.covering_outage(world.grid.customer("A1").account_number).id == outage.id  # type: ignore[union-attr]
    assert world.service.covering_outage(world.grid.customer("A2").account_number) is None
    assert (
        world.service.correlation_check(world.grid.feeders["F1"], world.grid.areas["A1"]).covering_outage_id
        == outage.id
    )
    with pytest.raises(UnknownOutageError):
        world.service.attach_call(9999, IVR, account_number=caller.account_number)
    filtered = world.service.list_orders(OrderFilter(outage_id=outage.id), DISPATCHER)
    assert filtered.total == 7


def test_a_known_outage_covers_its_area_so_no_suspected_outage_is_raised(world: World) -> None:
    with world.sessions.begin() as s:
        s.add(
            Outage(
                kind=OutageKind.PLANNED_MAINTENANCE,
                scope=OutageScope.FEEDER,
                feeder_id=world.grid.feeders["F1"],
                starts_at=T0 - timedelta(hours=1),
                expected_restoration_at=T0 + timedelta(hours=3),
                reason="计划检修",
                created_at=T0,
            )
        )
    orders = [world.repair(world.grid.customer("A2")) for _ in range(3)]
    [planned] = world.outages()
    assert {o.outage_id for o in orders} == {planned.id}


def test_reports_racing_from_many_threads_raise_exactly_one_outage(world: World) -> None:
    """Eight IVR threads report from one area at the same moment (a storm): the correlation runs one report at a
    time per feeder, so one outage is raised and every report ends up on it. The clock moves on at every reading,
    as a real one does, so that a report stamped before it waited for the lock would be missed."""
    people = [world.grid.customer("A1") for _ in range(8)]
    barrier = threading.Barrier(len(people))
    ticks = itertools.count()
    ticking = threading.Lock()

    def clock() -> datetime:
        with ticking:
            return T0 + timedelta(milliseconds=next(ticks))

    service = WorkOrderService(world.sessions, POLICY, clock)

    def report(who: Someone) -> int:
        new = NewWorkOrder(Kind.REPAIR, "停电", Origin.IVR, account_number=who.account_number, neighbours_out=True)
        barrier.wait()
        return int(service.create(new, IVR).id)

    with ThreadPoolExecutor(len(people)) as pool:
        ids = set(pool.map(report, people))
    [outage] = world.outages()
    assert world.linked(outage.id) == ids


def test_restoring_an_outage_reports_back_its_orders_together_and_says_whom_to_tell(world: World) -> None:
    people = [world.grid.customer("A1") for _ in range(4)]
    people.append(world.grid.customer("A1", phone=False))
    orders = [world.repair(p) for p in people[:3]]
    [outage] = world.outages()
    world.clock.advance(minutes=5)
    orders.append(world.repair(people[3], actor=AGENT, callback_number="13955556666"))
    # The first was dispatched and handled already, the second dispatched and accepted; the third reported back.
    world.service.transition(orders[0].id, Action.DISPATCH, DISPATCHER)
    world.service.transition(orders[1].id, Action.DISPATCH, DISPATCHER)
    world.service.transition(orders[1].id, Action.ACCEPT, world.county_a)
    for action in (Action.DISPATCH, Action.ACCEPT, Action.CONTACT, Action.HANDLE, Action.REPORT):
        who = DISPATCHER if action is Action.DISPATCH else world.county_a
        world.service.transition(orders[2].id, action, who, notes="已处理")
    contact = world.grid.call("13977778888")
    world.service.attach_call(outage.id, IVR, account_number=people[4].account_number, contact_id=contact)
    world.service.attach_call(outage.id, IVR, account_number=people[0].account_number)  # the same customer again
    unrelated = world.repair(world.grid.customer("A3"))
    with pytest.raises(NotPermittedError):
        world.service.restore_outage(outage.id, AGENT)
    with pytest.raises(WrongCountyError):
        world.service.restore_outage(outage.id, world.county_b)
    world.clock.advance(minutes=90)
    restored = world.service.restore_outage(outage.id, world.county_a, notes="更换跌落式熔断器")
    assert restored.restored_at == world.clock.now
    assert sorted(restored.resolved) == sorted(o.number for o in (orders[0], orders[1], orders[3]))
    assert [n.phone for n in restored.notify] == [
        people[0].phone,
        people[1].phone,
        people[2].phone,
        "13955556666",
        "13977778888",
    ]
    assert restored.notify[0].order_number == orders[0].number and restored.notify[-1].order_number is None
    for order in (orders[0], orders[1], orders[3]):
        detail = world.service.detail(order.id, DISPATCHER)
        assert detail.state is State.REPORTED and not detail.overdue
        step = detail.steps[-1]
        assert step.action == "resolve" and step.actor == world.county_a.name and "更换跌落式熔断器" in step.notes
    reported = world.service.detail(orders[2].id, DISPATCHER)
    assert [s.action for s in reported.steps].count("resolve") == 0
    assert world.service.detail(unrelated.id, DISPATCHER).state is State.CREATED
    # The IVR stops announcing it; the next report from the area is an order of its own again.
    assert CustomerService(world.sessions, world.clock).outages(people[0].account_number).current == ()  # type: ignore[union-attr]
    assert world.service.outages_from_calls() == []
    assert world.service.outages_from_calls(active_only=False)[0].restored_at == world.clock.now
    assert world.repair(world.grid.customer("A1")).outage_id is None
    with pytest.raises(InvalidRequestError, match="restored already"):
        world.service.restore_outage(outage.id, DISPATCHER)
    with pytest.raises(UnknownOutageError):
        world.service.restore_outage(9999, DISPATCHER)


# --- the IVR's side ---


def test_the_ivr_opens_orders_and_attaches_calls_through_the_service(world: World) -> None:
    crm = CrmCustomers(world.sessions, world.service)
    people = [world.grid.customer("A1") for _ in range(4)]
    identities = [Identity(p.account_id, p.account_number, p.customer_id, "standard", "", True) for p in people]
    numbers = [
        crm.open_repair_order(
            identity, world.grid.call(p.phone), "IVR报修：邻居也停电，无已知停电", neighbours_out=True
        )
        for identity, p in zip(identities[:3], people, strict=False)
    ]
    with world.sessions() as s:
        orders = list(s.scalars(select(WorkOrder).where(WorkOrder.number.in_(numbers))))
    assert {(o.origin, o.status, o.neighbours_out) for o in orders} == {("ivr", "open", True)}
    notices = crm.outages(people[3].account_number)
    [notice] = notices
    assert notice.kind == "fault" and notice.active(world.clock.now) and notice.outage_id is not None
    crm.report_on_outage(notice.outage_id, identities[3], world.grid.call(people[3].phone))
    assert world.service.outage(notice.outage_id).outage.reports == 4


# --- the migration of the minimal orders ---


def _alembic(url: str, target: str, downgrade: bool = False) -> None:
    engine = db.make_engine(url)
    try:
        with engine.begin() as connection:
            cfg = AlembicConfig()
            cfg.set_main_option("script_location", str(db.MIGRATIONS))
            cfg.attributes["connection"] = connection
            (command.downgrade if downgrade else command.upgrade)(cfg, target)
    finally:
        engine.dispose()


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_orders_of_the_minimal_table_migrate_into_the_flow(backend: str, tmp_path: Path) -> None:
    with scratch_database(backend, tmp_path) as url:
        db.upgrade(url)
        engine = db.make_engine(url)
        sessions = db.session_factory(engine)
        grid = Grid(sessions)
        who = grid.customer("A2")
        contact = grid.call("13911112222")
        engine.dispose()
        _alembic(url, "0006", downgrade=True)
        legacy = db.make_engine(url)
        with legacy.begin() as c:
            c.execute(
                text(
                    "INSERT INTO work_orders (id, number, kind, status, customer_id, account_id, contact_id, summary,"
                    " created_at, closed_at) VALUES"
                    " (1, 'GD20260301000001', 'repair', 'open', :customer, :account, :contact,"
                    "  'IVR报修：邻居也停电，无已知停电', :at, NULL),"
                    " (2, 'GD20260301000002', 'complaint', 'closed', :customer, :account, NULL,"
                    "  '客户投诉，待回访', :at, :closed),"
                    " (3, 'GD20260301000003', 'business', 'open', NULL, NULL, NULL, '新装用电', :at, NULL)"
                ),
                {"customer": who.customer_id, "account": who.account_id, "contact": contact,
                 "at": T0 - timedelta(days=1), "closed": T0 - timedelta(hours=2)},
            )  # fmt: skip
        legacy.dispose()
        db.upgrade(url)
        engine = db.make_engine(url)
        try:
            service = WorkOrderService(db.session_factory(engine), POLICY, ManualClock(T0))
            repair, complaint, business = (service.detail(n, DISPATCHER) for n in (1, 2, 3))
            assert (repair.state, repair.status, repair.origin) == (State.CREATED, "open", Origin.IVR)
            assert (repair.transformer_area, repair.feeder, repair.county) == ("A2台区", "10千伏F1线", "甲县供电公司")
            assert repair.tier is Tier.STANDARD and repair.callback_number == "13911112222"
            with engine.connect() as c:
                assert c.execute(select(WorkOrder.neighbours_out).where(WorkOrder.id == 1)).scalar_one() is True
            assert [(s.action, s.to_state) for s in repair.steps] == [("create", State.CREATED)]
            assert (complaint.state, complaint.status, complaint.origin) == (State.ARCHIVED, "closed", Origin.AGENT)
            assert [s.action for s in complaint.steps] == ["create", "archive"]
            assert complaint.steps[-1].at == T0 - timedelta(hours=2)
            assert business.state is State.CREATED and business.county is None
            # The migrated open order goes on through the flow like any other.
            assert service.transition(1, Action.DISPATCH, DISPATCHER).state is State.DISPATCHED
        finally:
            engine.dispose()
