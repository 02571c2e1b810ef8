"""The work-order service (工单服务): creates orders (from the IVR, an agent's call or the API), moves them through
the 95598 flow by work_orders/rules.py's rules, keeps every step, runs the contact clock, raises suspected fault
outages from repair reports, attaches later reports to an outage, and resolves them together when power is back.

Every method opens its own short transaction from `sessions`. The time comes from `clock`, so that tests move it.

Concurrency (SQLite and PostgreSQL alike): whatever depends on which outages are active on a feeder (the
correlation of a new repair report, the restoration of an outage) first locks that feeder's row; a call attached to
an outage, and a restoration, lock the outage's row. PostgreSQL takes a row lock (SELECT ... FOR NO KEY UPDATE);
SQLite has one writer at a time, and a write as the transaction's first statement takes that writer lock at once
(waiting for busy_timeout) and sees everything committed before it. Two IVR threads reporting on one feeder at once
therefore run the correlation one after the other, and the second finds the outage the first raised. Transitions
need no lock: each is an UPDATE that names the state it starts from, so of two people acting at once one finds the
order moved on.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, bindparam, exists, func, insert, select, update
from sqlalchemy.orm import Session, sessionmaker

from crm import grid
from crm.models import (
    Account,
    Contact,
    CountyCompany,
    Customer,
    CustomerPhone,
    Feeder,
    Outage,
    OutageArea,
    OutageReport,
    Substation,
    SupplyPoint,
    TransformerArea,
    WorkOrder,
    WorkOrderStep,
)
from crm.services import Refusal, normalise_account_number, normalise_phone_number
from crm.tiers import Tier
from crm.vocabulary import OutageKind, OutageScope, Role
from reporting import periods
from work_orders.rules import (
    AWAITING_CONTACT,
    OPEN,
    RULES,
    WORK_DONE,
    Action,
    Actor,
    InvalidRequestError,
    Kind,
    Origin,
    RepairReport,
    State,
    SuspectedOutage,
    UnknownOutageError,
    UnknownWorkOrderError,
    WorkOrderError,
    WorkOrderPolicy,
    allowed_actions,
    check_county,
    check_create,
    check_restore,
    contact_deadline,
    is_overdue,
    next_state,
    order_number,
    status_of,
    suspect_outage,
    time_left,
)

MAX_SUMMARY = 256
MAX_NOTES = 1024
MAX_EVIDENCE = 20
MAX_PER_PAGE = 200
# Actions that may say when the crew expects to arrive: until the work is done.
_CREW_ACTIONS = frozenset({Action.DISPATCH, Action.ACCEPT, Action.CONTACT})


class ConflictError(WorkOrderError):
    """Someone else moved the order on between reading and writing it; read it again."""


# --- what comes in ---


@dataclass(frozen=True)
class NewWorkOrder:
    """An order to create. Who it is about: an account (which gives the customer, supply point, grid place and
    county), or a customer, or nobody (anonymous, or a caller who is not a customer yet: then a number to call
    back). A report without an account may still say where (a transformer area) for the dispatch and outages."""

    kind: Kind
    summary: str
    origin: Origin
    account_number: str | None = None
    customer_id: int | None = None
    anonymous: bool = False
    contact_id: int | None = None  # the call it came from
    callback_number: str = ""  # else the caller's number, else the customer's first registered phone
    address: str = ""
    transformer_area_id: int | None = None
    # Repair: the caller's neighbours are out too. Only such reports count towards a suspected outage.
    neighbours_out: bool | None = None


@dataclass(frozen=True)
class OrderFilter:
    """What a list shows; every field left None does not filter. County staff always see their own county only."""

    county_id: int | None = None
    kind: Kind | None = None
    state: State | None = None
    overdue: bool | None = None  # True: only past their contact deadline; False: only those that are not
    customer_id: int | None = None
    created_by_id: int | None = None  # the user who created them (an agent's own orders)
    origin: Origin | None = None
    outage_id: int | None = None
    open_only: bool = False  # leave out archived orders


# --- what goes out ---


@dataclass(frozen=True)
class StepLine:
    at: datetime
    action: str  # an Action, or create, escalate, attach
    from_state: State | None
    to_state: State
    actor: str
    role: str | None
    county: str | None  # the county dispatched to, or the acting county staff's
    notes: str
    evidence: tuple[str, ...]
    crew_expected_at: datetime | None


@dataclass(frozen=True)
class OrderLine:
    """An order in a list. `time_left` and `overdue` are as of the moment it was read."""

    id: int
    number: str
    kind: Kind
    state: State
    origin: Origin
    anonymous: bool
    summary: str
    customer_id: int | None
    customer_name: str | None
    county_id: int | None
    county: str | None
    created_at: datetime
    dispatched_at: datetime | None
    contact_deadline: datetime | None
    time_left: timedelta | None
    overdue: bool
    escalated_at: datetime | None
    crew_expected_at: datetime | None


@dataclass(frozen=True)
class OrderDetail:
    """One order with its whole history, and what the viewer may do with it next."""

    id: int
    number: str
    kind: Kind
    state: State
    status: str  # open or closed (archived)
    origin: Origin
    anonymous: bool
    summary: str
    customer_id: int | None
    customer_name: str | None
    tier: Tier | None
    account_number: str | None
    address: str
    supply_point_id: int | None
    transformer_area: str | None
    feeder: str | None
    county_id: int | None
    county: str | None
    contact_id: int | None
    callback_number: str
    created_by_id: int | None
    created_at: datetime
    dispatched_at: datetime | None
    contact_deadline: datetime | None
    time_left: timedelta | None
    overdue: bool
    contacted_at: datetime | None
    escalated_at: datetime | None
    crew_expected_at: datetime | None
    closed_at: datetime | None
    outage_id: int | None  # the outage the order counted towards or was attached to
    steps: tuple[StepLine, ...]
    actions: tuple[Action, ...]  # what the viewer may do next


@dataclass(frozen=True)
class OrderPage:
    items: tuple[OrderLine, ...]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


@dataclass(frozen=True)
class Escalation:
    """An order that has just passed its contact deadline uncontacted: what the supervisor monitor and the city
    dispatch are told."""

    order_id: int
    number: str
    kind: Kind
    tier: Tier | None
    customer_name: str | None
    county_id: int | None
    county: str | None
    dispatched_at: datetime | None
    contact_deadline: datetime
    escalated_at: datetime


@dataclass(frozen=True)
class OutageSummary:
    id: int
    kind: OutageKind
    scope: OutageScope
    where: str
    reason: str
    suspected: bool
    origin: str
    starts_at: datetime
    expected_restoration_at: datetime | None
    restored_at: datetime | None
    reports: int


@dataclass(frozen=True)
class ReportLine:
    at: datetime
    order_number: str | None  # None: a call attached without an order
    contact_id: int | None
    customer_id: int | None
    callback_number: str


@dataclass(frozen=True)
class OutageDetail:
    outage: OutageSummary
    reports: tuple[ReportLine, ...]


@dataclass(frozen=True)
class Notice:
    """Someone to tell that power is back: a phone number, and the customer and order it is for if known."""

    phone: str
    customer_id: int | None
    order_number: str | None


@dataclass(frozen=True)
class Restoration:
    outage_id: int
    restored_at: datetime
    resolved: tuple[str, ...]  # the numbers of the orders reported back together
    notify: tuple[Notice, ...] = field(default=())


@dataclass(frozen=True)
class CorrelationCheck:
    """What a repair report on a feeder finds: an active outage that already covers the place, or else the
    suspected outage the recent reports make (None: not enough of them)."""

    covering_outage_id: int | None
    suspected: SuspectedOutage | None


@dataclass(frozen=True)
class _Place:
    """Where an order is about, resolved from its account, customer or transformer area."""

    account_id: int | None = None
    customer_id: int | None = None
    tier: Tier | None = None
    supply_point_id: int | None = None
    transformer_area_id: int | None = None
    feeder_id: int | None = None
    substation_id: int | None = None
    county_id: int | None = None
    address: str = ""


class WorkOrderService:
    def __init__(
        self,
        sessions: sessionmaker[Session],
        policy: WorkOrderPolicy,
        clock: Callable[[], datetime] = periods.now_utc,
    ) -> None:
        self.sessions = sessions
        self.policy = policy
        self.clock = clock

    # --- creating ---

    def create(self, new: NewWorkOrder, actor: Actor) -> OrderDetail:
        """Create an order in state `created` with its readable number. A repair report whose neighbours are out
        too is then correlated: attached to an active outage covering its place, or counted with the recent
        reports on its feeder, which may raise a suspected fault outage (returned as the order's outage_id)."""
        check_create(actor)
        _check_new(new)
        with self.sessions.begin() as session:
            place = self._place(session, new)
            correlate = new.kind is Kind.REPAIR and bool(new.neighbours_out) and place.feeder_id is not None
            if correlate:
                assert place.feeder_id is not None
                _lock(session, Feeder, place.feeder_id)
            # Read under the lock: every report committed on this feeder before this one is stamped no later.
            now = self.clock()
            callback = self._callback_number(session, new, place)
            order = WorkOrder(
                # Unique until the id is known; replaced in the same transaction.
                number=f"new-{uuid.uuid4().hex[:20]}",
                kind=new.kind.value,
                state=State.CREATED.value,
                status=status_of(State.CREATED),
                origin=new.origin.value,
                anonymous=new.anonymous,
                customer_id=place.customer_id,
                account_id=place.account_id,
                tier=place.tier.value if place.tier else None,
                supply_point_id=place.supply_point_id,
                transformer_area_id=place.transformer_area_id,
                feeder_id=place.feeder_id,
                county_company_id=place.county_id,
                address=new.address.strip() or place.address,
                neighbours_out=new.neighbours_out if new.kind is Kind.REPAIR else None,
                contact_id=new.contact_id,
                callback_number=callback,
                created_by_id=actor.user_id,
                summary=new.summary.strip(),
                created_at=now,
            )
            session.add(order)
            session.flush()
            order.number = order_number(periods.local_day(now), order.id)
            _step(session, order.id, now, "create", None, State.CREATED, actor, notes=order.summary)
            if correlate:
                self._correlate(session, order, place, now, actor)
            return self._detail(session, order.id, actor, now)

    # --- the flow ---

    def transition(
        self,
        order: int | str,
        action: Action,
        actor: Actor,
        *,
        county_id: int | None = None,
        notes: str = "",
        evidence: Sequence[str] = (),
        crew_expected_at: datetime | None = None,
    ) -> OrderDetail:
        """Take `action` on the order (its id or number) as `actor`. `county_id`: where a dispatch sends it (else
        the county of its place); `notes`: the reason of a return or rejection, the feedback of a report, or
        notes; `evidence`: references to uploaded files (a report); `crew_expected_at`: a repair crew's expected
        arrival (dispatch, accept, contact). Raises a WorkOrderError saying why if the flow does not allow it."""
        if action is Action.RESOLVE:
            raise InvalidRequestError("orders are resolved together by restoring the outage they are attached to")
        notes = notes.strip()
        evidence = _evidence(evidence)
        if len(notes) > MAX_NOTES:
            raise InvalidRequestError(f"notes are limited to {MAX_NOTES} characters")
        now = self.clock()
        with self.sessions.begin() as session:
            row = _find(session, order)
            state = State(row.state)
            target = next_state(state, action, actor, row.county_company_id)
            rule = RULES[action]
            if rule.needs_reason and not notes:
                raise InvalidRequestError(f"'{action}' needs a reason")
            if rule.needs_feedback and not notes:
                raise InvalidRequestError(f"'{action}' needs the feedback: what was found and done")
            if crew_expected_at is not None:
                if row.kind != Kind.REPAIR or action not in _CREW_ACTIONS:
                    raise InvalidRequestError("a crew's expected arrival is for a repair order, until it is handled")
                if crew_expected_at.tzinfo is None:
                    raise InvalidRequestError("the crew's expected arrival needs a time zone")
            values: dict[str, Any] = {"state": target.value, "status": status_of(target)}
            step_county = actor.county_id
            if action is Action.DISPATCH:
                to = county_id if county_id is not None else row.county_company_id
                if to is None:
                    raise InvalidRequestError("say which county company the order goes to")
                if session.get(CountyCompany, to) is None:
                    raise InvalidRequestError(f"there is no county company {to}")
                tier = Tier(row.tier) if row.tier else None
                values |= {
                    "county_company_id": to,
                    "dispatched_at": now,
                    "contact_deadline": contact_deadline(
                        self.policy.deadlines, Kind(row.kind), tier, row.anonymous, now
                    ),
                    # A new dispatch is a new clock: its own hour, and its own escalation if missed.
                    "contacted_at": None,
                    "escalated_at": None,
                }
                step_county = to
            elif action is Action.CONTACT:
                values["contacted_at"] = now
            elif action is Action.ARCHIVE:
                values["closed_at"] = now
            if crew_expected_at is not None:
                values["crew_expected_at"] = crew_expected_at
            changed = session.execute(
                update(WorkOrder)
                .where(WorkOrder.id == row.id, WorkOrder.state == state.value)
                .values(**values)
                .execution_options(synchronize_session=False)
            )
            if changed.rowcount != 1:  # type: ignore[attr-defined]
                raise ConflictError(f"order {row.number} was changed by someone else meanwhile; look at it again")
            _step(
                session,
                row.id,
                now,
                action.value,
                state,
                target,
                actor,
                county_id=step_county,
                notes=notes,
                evidence=evidence,
                crew_expected_at=crew_expected_at,
            )
            return self._detail(session, row.id, actor, now)

    # --- reading ---

    def detail(self, order: int | str, viewer: Actor) -> OrderDetail:
        """The order (by id or number) with its whole history; county staff see only their own county's."""
        with self.sessions() as session:
            row = _find(session, order)
            check_county(viewer, row.county_company_id)
            return self._detail(session, row.id, viewer, self.clock())

    def list_orders(self, filters: OrderFilter, viewer: Actor, page: int = 1, per_page: int = 50) -> OrderPage:
        """A page of orders, newest first (the overdue ones: the longest overdue first)."""
        if page < 1 or not 1 <= per_page <= MAX_PER_PAGE:
            raise InvalidRequestError(f"pages start at 1 and hold 1 to {MAX_PER_PAGE} orders")
        county = filters.county_id
        if viewer.role is Role.COUNTY:
            check_county(viewer, county if county is not None else viewer.county_id)
            county = viewer.county_id
        now = self.clock()
        conditions = _conditions(filters, county, now)
        query = _LINE_COLUMNS.where(*conditions)
        if filters.overdue:
            query = query.order_by(WorkOrder.contact_deadline, WorkOrder.id)
        else:
            query = query.order_by(WorkOrder.created_at.desc(), WorkOrder.id.desc())
        with self.sessions() as session:
            db = session.connection()
            total = db.execute(select(func.count()).select_from(WorkOrder).where(*conditions)).scalar_one()
            rows = db.execute(query.limit(per_page).offset((page - 1) * per_page)).all()
        return OrderPage(tuple(_line(r, now) for r in rows), total, page, per_page)

    def overdue(self, county_id: int | None = None, limit: int = 1000) -> list[OrderLine]:
        """Orders past their contact deadline and not yet contacted, the longest overdue first."""
        now = self.clock()
        query = _LINE_COLUMNS.where(*_overdue(now)).order_by(WorkOrder.contact_deadline, WorkOrder.id).limit(limit)
        if county_id is not None:
            query = query.where(WorkOrder.county_company_id == county_id)
        with self.sessions() as session:
            # Core rows (session.connection()): the ORM's row loading would double the time of a long list.
            return [_line(r, now) for r in session.connection().execute(query)]

    def overdue_count(self, county_id: int | None = None) -> int:
        query = select(func.count()).select_from(WorkOrder).where(*_overdue(self.clock()))
        if county_id is not None:
            query = query.where(WorkOrder.county_company_id == county_id)
        with self.sessions() as session:
            return int(session.execute(query).scalar_one())

    # --- the clock ---

    def escalate_overdue(self, now: datetime | None = None) -> list[Escalation]:
        """Mark every order that is past its contact deadline uncontacted, and not marked yet, as escalated, and
        return those: each is returned once however often this runs, from however many processes (the UPDATE
        claims them; a second run finds them marked). Publishing them is the caller's business."""
        now = now or self.clock()
        clock = Actor.system("clock")
        with self.sessions.begin() as session:
            claimed = session.execute(
                update(WorkOrder)
                .where(*_overdue(now), WorkOrder.escalated_at.is_(None))
                .values(escalated_at=now)
                .returning(WorkOrder.id, WorkOrder.state)
                .execution_options(synchronize_session=False)
            ).all()
            if not claimed:
                return []
            session.execute(
                insert(WorkOrderStep),
                [
                    _step_values(order_id, now, "escalate", State(state), State(state), clock, notes="联系时限已过")
                    for order_id, state in claimed
                ],
            )
            rows = session.execute(
                select(
                    WorkOrder.id,
                    WorkOrder.number,
                    WorkOrder.kind,
                    WorkOrder.tier,
                    Customer.name,
                    WorkOrder.county_company_id,
                    CountyCompany.name,
                    WorkOrder.dispatched_at,
                    WorkOrder.contact_deadline,
                )
                .outerjoin(Customer, Customer.id == WorkOrder.customer_id)
                .outerjoin(CountyCompany, CountyCompany.id == WorkOrder.county_company_id)
                .where(WorkOrder.id.in_([order_id for order_id, _ in claimed]))
                .order_by(WorkOrder.contact_deadline, WorkOrder.id)
            ).all()
        return [
            Escalation(
                order_id=r[0],
                number=r[1],
                kind=Kind(r[2]),
                tier=Tier(r[3]) if r[3] else None,
                customer_name=r[4],
                county_id=r[5],
                county=r[6],
                dispatched_at=r[7],
                contact_deadline=r[8] or now,  # the UPDATE claimed only orders with a deadline
                escalated_at=now,
            )
            for r in rows
        ]

    # --- outages found from calls ---

    def correlation_check(self, feeder_id: int, transformer_area_id: int | None = None) -> CorrelationCheck:
        """What a repair report on this feeder (and transformer area) would find now, without writing anything:
        the check create() runs under the feeder's lock."""
        now = self.clock()
        with self.sessions() as session:
            place = _grid_place(session, feeder_id, transformer_area_id)
            covering = _covering_outage(session, place, now)
            if covering is not None:
                return CorrelationCheck(covering, None)
            return CorrelationCheck(None, self._suspect(session, feeder_id, now))

    def covering_outage(self, account_number: str) -> OutageSummary | None:
        """The active outage reaching this account's supply point, if any: an agent taking a repair call attaches
        the call to it (attach_call) rather than opening an order."""
        number = _account_number(account_number)
        now = self.clock()
        with self.sessions() as session:
            place = self._place(session, NewWorkOrder(Kind.REPAIR, "-", Origin.AGENT, account_number=number))
            outage_id = _covering_outage(session, place, now)
            return None if outage_id is None else _outage_summary(session, outage_id)

    def attach_call(
        self,
        outage_id: int,
        actor: Actor,
        *,
        account_number: str | None = None,
        contact_id: int | None = None,
        callback_number: str = "",
    ) -> ReportLine:
        """Record that a caller reported (or was told of) this outage, without an order: they are told when
        power is back. The number to tell: `callback_number`, else the call's caller number, else the customer's
        first registered phone."""
        check_create(actor)
        now = self.clock()
        with self.sessions.begin() as session:
            _lock(session, Outage, outage_id)
            if session.get(Outage, outage_id) is None:
                raise UnknownOutageError(f"there is no outage {outage_id}")
            new = NewWorkOrder(
                Kind.REPAIR,
                "-",
                Origin.AGENT,
                account_number=_account_number(account_number) if account_number else None,
                anonymous=account_number is None,
                contact_id=contact_id,
                callback_number=callback_number,
            )
            place = self._place(session, new)
            phone = self._callback_number(session, new, place)
            session.add(
                OutageReport(
                    outage_id=outage_id,
                    contact_id=contact_id,
                    customer_id=place.customer_id,
                    account_id=place.account_id,
                    callback_number=phone,
                    reported_at=now,
                )
            )
        return ReportLine(now, None, contact_id, place.customer_id, phone)

    def outage(self, outage_id: int) -> OutageDetail:
        """An outage with every report counted into it or attached to it."""
        with self.sessions() as session:
            if session.get(Outage, outage_id) is None:
                raise UnknownOutageError(f"there is no outage {outage_id}")
            summary = _outage_summary(session, outage_id)
            rows = session.execute(
                select(
                    OutageReport.reported_at,
                    WorkOrder.number,
                    OutageReport.contact_id,
                    OutageReport.customer_id,
                    OutageReport.callback_number,
                )
                .outerjoin(WorkOrder, WorkOrder.id == OutageReport.work_order_id)
                .where(OutageReport.outage_id == outage_id)
                .order_by(OutageReport.reported_at, OutageReport.id)
            ).all()
        return OutageDetail(summary, tuple(ReportLine(*row) for row in rows))

    def outages_from_calls(self, active_only: bool = True) -> list[OutageSummary]:
        """The outages raised from repair calls (the newest first); by default those not yet restored."""
        query = select(Outage.id).where(Outage.origin == "calls").order_by(Outage.id.desc())
        if active_only:
            query = query.where(Outage.restored_at.is_(None))
        with self.sessions() as session:
            return [_outage_summary(session, outage_id) for outage_id in session.scalars(query)]

    def restore_outage(self, outage_id: int, actor: Actor, notes: str = "") -> Restoration:
        """Power is back: mark the outage restored (the IVR stops announcing it), report back every order attached
        to it that still had work to do, and return whom to tell."""
        notes = notes.strip()
        now = self.clock()
        with self.sessions.begin() as session:
            _lock(session, Outage, outage_id)
            outage = session.get(Outage, outage_id)
            if outage is None:
                raise UnknownOutageError(f"there is no outage {outage_id}")
            if outage.restored_at is not None:
                raise InvalidRequestError(f"outage {outage_id} was restored already, at {outage.restored_at:%H:%M}")
            feeders = _feeders_of(session, outage)
            check_restore(actor, _county_of_feeders(session, feeders))
            # Reports racing in on these feeders wait for this to finish, and then find the outage restored.
            for feeder_id in feeders:
                _lock(session, Feeder, feeder_id)
            outage.restored_at = now
            feedback = f"停电已恢复（停电编号 {outage_id}）" + (f"：{notes}" if notes else "")
            resolvable = RULES[Action.RESOLVE].sources
            reports = session.execute(
                select(OutageReport, WorkOrder)
                .outerjoin(WorkOrder, WorkOrder.id == OutageReport.work_order_id)
                .where(OutageReport.outage_id == outage_id)
                .order_by(OutageReport.reported_at, OutageReport.id)
            ).all()
            resolved: list[str] = []
            steps: list[dict[str, Any]] = []
            for _, order in reports:
                if order is None or State(order.state) not in resolvable:
                    continue
                steps.append(_step_values(order.id, now, Action.RESOLVE.value, State(order.state),
                                          State.REPORTED, actor, notes=feedback))  # fmt: skip
                order.state = State.REPORTED.value
                order.status = status_of(State.REPORTED)
                resolved.append(order.number)
            if steps:
                session.execute(insert(WorkOrderStep), steps)
            notify = self._whom_to_tell(session, reports)
        return Restoration(outage_id, now, tuple(resolved), notify)

    # --- inside the transactions ---

    def _place(self, session: Session, new: NewWorkOrder) -> _Place:
        if new.account_number is not None:
            number = _account_number(new.account_number)
            row = session.execute(_PLACE_OF_ACCOUNT.where(Account.number == number)).one_or_none()
            if row is None:
                raise InvalidRequestError(f"there is no account {number}")
            return _Place(
                account_id=row.id,
                customer_id=row.customer_id,
                tier=Tier(row.tier),
                supply_point_id=row.supply_point_id,
                transformer_area_id=row.transformer_area_id,
                feeder_id=row.feeder_id,
                substation_id=row.substation_id,
                county_id=row.county_company_id,
                address=row.address,
            )
        customer_tier = None
        if new.customer_id is not None:
            customer_tier = session.scalar(select(Customer.tier).where(Customer.id == new.customer_id))
            if customer_tier is None:
                raise InvalidRequestError(f"there is no customer {new.customer_id}")
        grid = _Place()
        if new.transformer_area_id is not None:
            grid = _grid_place(session, None, new.transformer_area_id)
        return _Place(
            customer_id=new.customer_id,
            tier=Tier(customer_tier) if customer_tier else None,
            transformer_area_id=grid.transformer_area_id,
            feeder_id=grid.feeder_id,
            substation_id=grid.substation_id,
            county_id=grid.county_id,
        )

    def _callback_number(self, session: Session, new: NewWorkOrder, place: _Place) -> str:
        if new.callback_number.strip():
            given = normalise_phone_number(new.callback_number)
            if isinstance(given, Refusal):
                raise InvalidRequestError(f"the number to call back is not usable: {given.detail}")
            return given
        if new.contact_id is not None:
            caller = session.scalar(select(Contact.caller_number).where(Contact.id == new.contact_id))
            if caller is None:
                raise InvalidRequestError(f"there is no call (contact) {new.contact_id}")
            usable = normalise_phone_number(caller)
            if not isinstance(usable, Refusal):
                return usable
        if place.customer_id is not None:
            phone = session.scalar(
                select(CustomerPhone.number)
                .where(CustomerPhone.customer_id == place.customer_id)
                .order_by(CustomerPhone.id)
                .limit(1)
            )
            if phone:
                return phone
        if not new.anonymous and place.customer_id is None:
            raise InvalidRequestError("an order about nobody known needs a number to call back, or to be anonymous")
        return ""

    def _correlate(self, session: Session, order: WorkOrder, place: _Place, now: datetime, actor: Actor) -> None:
        """Run under the feeder's lock: attach the report to an active outage covering its place, or raise a
        suspected fault outage if the recent reports on the feeder make one."""
        covering = _covering_outage(session, place, now)
        if covering is not None:
            _link(session, covering, [order.id], now, actor)
            return
        assert place.feeder_id is not None
        suspected = self._suspect(session, place.feeder_id, now)
        if suspected is None:
            return
        feeder = session.get_one(Feeder, suspected.feeder_id)
        if suspected.scope is OutageScope.FEEDER:
            where = feeder.name
        else:
            names = session.scalars(
                select(TransformerArea.name).where(TransformerArea.id.in_(suspected.transformer_area_ids))
            )
            where = f"{feeder.name}{'、'.join(sorted(names))}"
        window = int(self.policy.correlation.window.total_seconds() // 60)
        outage = Outage(
            kind=OutageKind.FAULT,
            scope=suspected.scope,
            feeder_id=suspected.feeder_id if suspected.scope is OutageScope.FEEDER else None,
            starts_at=suspected.starts_at,
            expected_restoration_at=None,
            restored_at=None,
            reason=f"{where}疑似故障停电：{window}分钟内{len(suspected.order_ids)}户报修"[:256],
            created_at=now,
            origin="calls",
            suspected=True,
        )
        session.add(outage)
        session.flush()
        session.add_all(
            OutageArea(outage_id=outage.id, transformer_area_id=area) for area in suspected.transformer_area_ids
        )
        _link(session, outage.id, suspected.order_ids, now, actor)

    def _suspect(self, session: Session, feeder_id: int, now: datetime) -> SuspectedOutage | None:
        rule = self.policy.correlation
        rows = session.execute(_RECENT_REPORTS, {"feeder": feeder_id, "since": now - rule.window})
        # The statement selects only reports with a supply point, and so with a transformer area and feeder.
        reports = (
            RepairReport(r.id, int(r.supply_point_id), int(r.transformer_area_id), int(r.feeder_id), r.created_at)
            for r in rows
        )
        return suspect_outage(reports, rule, now)

    def _whom_to_tell(self, session: Session, reports: Sequence[Any]) -> tuple[Notice, ...]:
        """One notice per phone number, in the order the reports came; a report without a number falls back to
        the customer's first registered phone."""
        missing = {r.customer_id for r, _ in reports if not r.callback_number and r.customer_id is not None}
        phones: dict[int, str] = {}
        if missing:
            for customer_id, number in session.execute(
                select(CustomerPhone.customer_id, CustomerPhone.number)
                .where(CustomerPhone.customer_id.in_(missing))
                .order_by(CustomerPhone.id.desc())
            ):
                phones[customer_id] = number  # the lowest id wins: the first registered
        notices: dict[str, Notice] = {}
        for report, order in reports:
            phone = report.callback_number or phones.get(report.customer_id, "")
            if phone and phone not in notices:
                notices[phone] = Notice(phone, report.customer_id, order.number if order is not None else None)
        return tuple(notices.values())

    def _detail(self, session: Session, order_id: int, viewer: Actor, now: datetime) -> OrderDetail:
        # populate_existing: a transition changed the row with an UPDATE statement, behind the session's back.
        row = session.execute(_DETAIL.where(WorkOrder.id == order_id).execution_options(populate_existing=True)).one()
        order: WorkOrder = row[0]
        state = State(order.state)
        steps = tuple(
            StepLine(
                at=s.at,
                action=s.action,
                from_state=State(s.from_state) if s.from_state else None,
                to_state=State(s.to_state),
                actor=s.actor,
                role=s.role,
                county=county,
                notes=s.notes,
                evidence=tuple(s.evidence or ()),
                crew_expected_at=s.crew_expected_at,
            )
            for s, county in session.execute(
                select(WorkOrderStep, CountyCompany.name)
                .outerjoin(CountyCompany, CountyCompany.id == WorkOrderStep.county_company_id)
                .where(WorkOrderStep.work_order_id == order_id)
                .order_by(WorkOrderStep.id)
            )
        )
        return OrderDetail(
            id=order.id,
            number=order.number,
            kind=Kind(order.kind),
            state=state,
            status=order.status,
            origin=Origin(order.origin),
            anonymous=order.anonymous,
            summary=order.summary,
            customer_id=order.customer_id,
            customer_name=row.customer_name,
            tier=Tier(order.tier) if order.tier else None,
            account_number=row.account_number,
            address=order.address,
            supply_point_id=order.supply_point_id,
            transformer_area=row.transformer_area,
            feeder=row.feeder,
            county_id=order.county_company_id,
            county=row.county,
            contact_id=order.contact_id,
            callback_number=order.callback_number,
            created_by_id=order.created_by_id,
            created_at=order.created_at,
            dispatched_at=order.dispatched_at,
            contact_deadline=order.contact_deadline,
            time_left=time_left(state, order.contact_deadline, now),
            overdue=is_overdue(state, order.contact_deadline, now),
            contacted_at=order.contacted_at,
            escalated_at=order.escalated_at,
            crew_expected_at=order.crew_expected_at,
            closed_at=order.closed_at,
            outage_id=row.outage_id,
            steps=steps,
            actions=allowed_actions(state, viewer, order.county_company_id),
        )


# --- helpers of the transactions ---


def _lock(session: Session, model: type[Feeder] | type[Outage], row_id: int) -> None:
    """Serialise, per row, the transactions that must not interleave (see the module docstring)."""
    if session.get_bind().dialect.name == "postgresql":
        # FOR NO KEY UPDATE: rows that merely refer to this one (a new order on the feeder, a report on the
        # outage) may still be inserted meanwhile, so a restoration and a correlation cannot deadlock.
        session.execute(select(model.id).where(model.id == row_id).with_for_update(key_share=True))
    else:
        # A write as the first statement: SQLite's writer lock, held to commit.
        session.execute(
            update(model).where(model.id == row_id).values(id=model.id).execution_options(synchronize_session=False)
        )


def _find(session: Session, order: int | str) -> WorkOrder:
    if isinstance(order, int):
        found = session.get(WorkOrder, order)
    else:
        found = session.scalars(select(WorkOrder).where(WorkOrder.number == order.strip().upper())).one_or_none()
    if found is None:
        raise UnknownWorkOrderError(f"there is no work order {order}")
    return found


def _step_values(
    order_id: int,
    at: datetime,
    action: str,
    from_state: State | None,
    to_state: State,
    actor: Actor,
    *,
    county_id: int | None = None,
    notes: str = "",
    evidence: Sequence[str] = (),
    crew_expected_at: datetime | None = None,
) -> dict[str, Any]:
    return {
        "work_order_id": order_id,
        "at": at,
        "action": action,
        "from_state": from_state.value if from_state else None,
        "to_state": to_state.value,
        "actor": actor.name[:64],
        "role": actor.role.value if actor.role else None,
        "user_id": actor.user_id,
        "county_company_id": county_id if county_id is not None else actor.county_id,
        "notes": notes[:MAX_NOTES],
        "evidence": list(evidence),
        "crew_expected_at": crew_expected_at,
    }


def _step(
    session: Session,
    order_id: int,
    at: datetime,
    action: str,
    from_state: State | None,
    to_state: State,
    actor: Actor,
    **details: Any,
) -> None:
    session.add(WorkOrderStep(**_step_values(order_id, at, action, from_state, to_state, actor, **details)))


def _link(session: Session, outage_id: int, order_ids: Iterable[int], now: datetime, actor: Actor) -> None:
    """Attach orders to an outage: a report row each (whom to tell) and an `attach` step in each one's history."""
    orders = session.execute(
        select(
            WorkOrder.id,
            WorkOrder.state,
            WorkOrder.contact_id,
            WorkOrder.customer_id,
            WorkOrder.account_id,
            WorkOrder.callback_number,
            WorkOrder.created_at,
        ).where(WorkOrder.id.in_(list(order_ids)))
    ).all()
    session.execute(
        insert(OutageReport),
        [
            {
                "outage_id": outage_id,
                "work_order_id": o.id,
                "contact_id": o.contact_id,
                "customer_id": o.customer_id,
                "account_id": o.account_id,
                "callback_number": o.callback_number,
                "reported_at": o.created_at,
            }
            for o in orders
        ],
    )
    session.execute(
        insert(WorkOrderStep),
        [
            _step_values(o.id, now, "attach", State(o.state), State(o.state), actor, notes=f"停电编号 {outage_id}")
            for o in orders
        ],
    )


def _grid_place(session: Session, feeder_id: int | None, transformer_area_id: int | None) -> _Place:
    if transformer_area_id is not None:
        row = session.execute(
            select(TransformerArea.id, Feeder.id, Substation.id, Substation.county_company_id)
            .join(Feeder, Feeder.id == TransformerArea.feeder_id)
            .join(Substation, Substation.id == Feeder.substation_id)
            .where(TransformerArea.id == transformer_area_id)
        ).one_or_none()
        if row is None:
            raise InvalidRequestError(f"there is no transformer area {transformer_area_id}")
        if feeder_id is not None and row[1] != feeder_id:
            raise InvalidRequestError(f"transformer area {transformer_area_id} is not on feeder {feeder_id}")
        return _Place(transformer_area_id=row[0], feeder_id=row[1], substation_id=row[2], county_id=row[3])
    found = session.execute(
        select(Feeder.id, Substation.id, Substation.county_company_id)
        .join(Substation, Substation.id == Feeder.substation_id)
        .where(Feeder.id == feeder_id)
    ).one_or_none()
    if found is None:
        raise InvalidRequestError(f"there is no feeder {feeder_id}")
    return _Place(feeder_id=found[0], substation_id=found[1], county_id=found[2])


def _covering_outage(session: Session, place: _Place, now: datetime) -> int | None:
    """The active outage reaching the place (a fault before planned work, then the oldest), by the rule of the
    IVR's outage information (crm/grid.py)."""
    if place.substation_id is None and place.feeder_id is None and place.transformer_area_id is None:
        return None
    return session.scalar(
        select(Outage.id)
        .where(
            grid.reaching(
                None if place.substation_id is None else [place.substation_id],
                None if place.feeder_id is None else [place.feeder_id],
                None if place.transformer_area_id is None else [place.transformer_area_id],
            ),
            grid.in_effect(now),
        )
        .order_by((Outage.kind == OutageKind.FAULT).desc(), Outage.starts_at, Outage.id)
        .limit(1)
    )


def _feeders_of(session: Session, outage: Outage) -> list[int]:
    if outage.scope is OutageScope.FEEDER and outage.feeder_id is not None:
        return [outage.feeder_id]
    if outage.scope is OutageScope.SUBSTATION:
        query = select(Feeder.id).where(Feeder.substation_id == outage.substation_id)
    else:
        query = (
            select(TransformerArea.feeder_id)
            .join(OutageArea, OutageArea.transformer_area_id == TransformerArea.id)
            .where(OutageArea.outage_id == outage.id)
        )
    # Locked in id order, so that two restorations never wait for each other in a circle.
    return sorted(set(session.scalars(query)))


def _county_of_feeders(session: Session, feeders: Sequence[int]) -> int | None:
    if not feeders:
        return None
    counties = set(
        session.scalars(
            select(Substation.county_company_id)
            .join(Feeder, Feeder.substation_id == Substation.id)
            .where(Feeder.id.in_(feeders))
        )
    )
    return counties.pop() if len(counties) == 1 else None


def _outage_summary(session: Session, outage_id: int) -> OutageSummary:
    row = session.execute(
        select(Outage, Substation.name, Feeder.name)
        .outerjoin(Substation, Substation.id == Outage.substation_id)
        .outerjoin(Feeder, Feeder.id == Outage.feeder_id)
        .where(Outage.id == outage_id)
    ).one()
    outage: Outage = row[0]
    where = row[1] or row[2]
    if where is None:
        names = session.scalars(
            select(TransformerArea.name)
            .join(OutageArea, OutageArea.transformer_area_id == TransformerArea.id)
            .where(OutageArea.outage_id == outage_id)
        )
        where = "、".join(sorted(names))
    reports = session.execute(
        select(func.count()).select_from(OutageReport).where(OutageReport.outage_id == outage_id)
    ).scalar_one()
    return OutageSummary(
        id=outage.id,
        kind=outage.kind,
        scope=outage.scope,
        where=where,
        reason=outage.reason,
        suspected=outage.suspected,
        origin=outage.origin,
        starts_at=outage.starts_at,
        expected_restoration_at=outage.expected_restoration_at,
        restored_at=outage.restored_at,
        reports=int(reports),
    )


def _account_number(raw: str) -> str:
    number = normalise_account_number(raw)
    if isinstance(number, Refusal):
        raise InvalidRequestError(f"account number {raw!r}: {number.detail}")
    return number


def _evidence(evidence: Sequence[str]) -> tuple[str, ...]:
    if isinstance(evidence, str):
        raise InvalidRequestError("evidence is a list of references, not one string")
    refs = tuple(str(ref).strip() for ref in evidence)
    if len(refs) > MAX_EVIDENCE:
        raise InvalidRequestError(f"at most {MAX_EVIDENCE} pieces of evidence")
    if any(not ref or len(ref) > 256 for ref in refs):
        raise InvalidRequestError("each piece of evidence is a reference of 1 to 256 characters")
    return refs


def _check_new(new: NewWorkOrder) -> None:
    summary = new.summary.strip()
    if not summary:
        raise InvalidRequestError("say what the order is about (a summary)")
    if len(summary) > MAX_SUMMARY:
        raise InvalidRequestError(f"the summary is limited to {MAX_SUMMARY} characters")
    if new.anonymous and (new.account_number is not None or new.customer_id is not None):
        raise InvalidRequestError("an anonymous report names no account or customer")
    if new.neighbours_out is not None and new.kind is not Kind.REPAIR:
        raise InvalidRequestError("only a repair report says whether the neighbours are out too")
    if len(new.address) > 128:
        raise InvalidRequestError("the address is limited to 128 characters")


def _overdue(now: datetime) -> tuple[ColumnElement[bool], ...]:
    # Matches ix_work_orders_contact_clock (state, contact_deadline): two short range scans.
    return (
        WorkOrder.state.in_([s.value for s in AWAITING_CONTACT]),
        WorkOrder.contact_deadline <= now,
    )


def _conditions(filters: OrderFilter, county: int | None, now: datetime) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if county is not None:
        conditions.append(WorkOrder.county_company_id == county)
    if filters.kind is not None:
        conditions.append(WorkOrder.kind == filters.kind.value)
    if filters.state is not None:
        conditions.append(WorkOrder.state == filters.state.value)
    if filters.overdue is True:
        conditions.extend(_overdue(now))
    elif filters.overdue is False:
        conditions.append(~and_(*_overdue(now)) | WorkOrder.contact_deadline.is_(None))
    if filters.customer_id is not None:
        conditions.append(WorkOrder.customer_id == filters.customer_id)
    if filters.created_by_id is not None:
        conditions.append(WorkOrder.created_by_id == filters.created_by_id)
    if filters.origin is not None:
        conditions.append(WorkOrder.origin == filters.origin.value)
    if filters.outage_id is not None:
        conditions.append(
            exists().where(OutageReport.work_order_id == WorkOrder.id, OutageReport.outage_id == filters.outage_id)
        )
    if filters.open_only:
        conditions.append(WorkOrder.status == OPEN)
    return conditions


def _line(row: Any, now: datetime) -> OrderLine:
    (order_id, number, kind, state, origin, anonymous, summary, customer_id, customer_name, county_id, county,
     created_at, dispatched_at, deadline, escalated_at, crew_expected_at) = row  # fmt: skip
    # Dictionary lookups rather than Enum(value): a thousand lines, four each.
    current = _STATES[state]
    return OrderLine(
        order_id,
        number,
        _KINDS[kind],
        current,
        _ORIGINS[origin],
        anonymous,
        summary,
        customer_id,
        customer_name,
        county_id,
        county,
        created_at,
        dispatched_at,
        deadline,
        time_left(current, deadline, now),
        is_overdue(current, deadline, now),
        escalated_at,
        crew_expected_at,
    )


_STATES = {s.value: s for s in State}
_KINDS = {k.value: k for k in Kind}
_ORIGINS = {o.value: o for o in Origin}


# --- the statements, built once ---

_PLACE_OF_ACCOUNT = (
    select(
        Account.id,
        Account.customer_id,
        Customer.tier,
        Account.supply_point_id,
        SupplyPoint.address,
        SupplyPoint.transformer_area_id,
        TransformerArea.feeder_id,
        Feeder.substation_id,
        Substation.county_company_id,
    )
    .join(Customer, Customer.id == Account.customer_id)
    .join(SupplyPoint, SupplyPoint.id == Account.supply_point_id)
    .join(TransformerArea, TransformerArea.id == SupplyPoint.transformer_area_id)
    .join(Feeder, Feeder.id == TransformerArea.feeder_id)
    .join(Substation, Substation.id == Feeder.substation_id)
)

# The names as correlated subqueries rather than joins: a primary-key lookup per line shown, where PostgreSQL's
# planner, misjudging how many orders are overdue, would otherwise hash-join the whole customers table.
_CUSTOMER_NAME = select(Customer.name).where(Customer.id == WorkOrder.customer_id).scalar_subquery()
_COUNTY_NAME = select(CountyCompany.name).where(CountyCompany.id == WorkOrder.county_company_id).scalar_subquery()
_LINE_COLUMNS = select(
    WorkOrder.id,
    WorkOrder.number,
    WorkOrder.kind,
    WorkOrder.state,
    WorkOrder.origin,
    WorkOrder.anonymous,
    WorkOrder.summary,
    WorkOrder.customer_id,
    _CUSTOMER_NAME.label("customer_name"),
    WorkOrder.county_company_id,
    _COUNTY_NAME.label("county"),
    WorkOrder.created_at,
    WorkOrder.dispatched_at,
    WorkOrder.contact_deadline,
    WorkOrder.escalated_at,
    WorkOrder.crew_expected_at,
)

_DETAIL = (
    select(
        WorkOrder,
        Customer.name.label("customer_name"),
        Account.number.label("account_number"),
        TransformerArea.name.label("transformer_area"),
        Feeder.name.label("feeder"),
        CountyCompany.name.label("county"),
        OutageReport.outage_id.label("outage_id"),
    )
    .outerjoin(Customer, Customer.id == WorkOrder.customer_id)
    .outerjoin(Account, Account.id == WorkOrder.account_id)
    .outerjoin(TransformerArea, TransformerArea.id == WorkOrder.transformer_area_id)
    .outerjoin(Feeder, Feeder.id == WorkOrder.feeder_id)
    .outerjoin(CountyCompany, CountyCompany.id == WorkOrder.county_company_id)
    .outerjoin(OutageReport, OutageReport.work_order_id == WorkOrder.id)
)

# The repair reports that count towards a suspected outage on a feeder: the neighbours out too, within the window,
# from a known supply point, still with work to do, and not yet part of any outage. Uses
# ix_work_orders_feeder_created (feeder_id, created_at).
_RECENT_REPORTS = select(
    WorkOrder.id,
    WorkOrder.supply_point_id,
    WorkOrder.transformer_area_id,
    WorkOrder.feeder_id,
    WorkOrder.created_at,
).where(
    WorkOrder.feeder_id == bindparam("feeder"),
    WorkOrder.created_at >= bindparam("since"),
    WorkOrder.kind == Kind.REPAIR.value,
    WorkOrder.neighbours_out.is_(True),
    WorkOrder.supply_point_id.is_not(None),
    WorkOrder.state.not_in([s.value for s in WORK_DONE]),
    ~exists().where(OutageReport.work_order_id == WorkOrder.id),
)
