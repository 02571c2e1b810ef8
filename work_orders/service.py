"""The work-order service (工单服务), the one object its callers use (the IVR, the agents' and the county's pages,
the API, the routers' clock): creates orders (from the IVR, an agent's call or the API), moves them through the
95598 flow by work_orders/rules.py's rules, keeps every step, runs the contact clock, raises suspected fault
outages from repair reports, attaches later reports to an outage, and resolves them together when power is back.

Every method checks what it can without the database, then opens its own short transaction from `sessions` and
hands it to the part that does the work: work_orders/intake.py (new orders, the correlation, calls attached to an
outage), work_orders/workflow.py (the flow's steps, escalation, restoration) and work_orders/queries.py (what the
pages read); work_orders/records.py holds what goes in and out. The time comes from `clock`, so that tests move it.

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

from collections.abc import Callable, Sequence
from datetime import datetime

from sqlalchemy.orm import Session, sessionmaker

from crm.vocabulary import Role
from hotline import periods
from work_orders import intake, queries, store, workflow
from work_orders.records import (
    MAX_PER_PAGE,
    CorrelationCheck,
    Escalation,
    NewWorkOrder,
    OrderDetail,
    OrderFilter,
    OrderLine,
    OrderPage,
    OutageDetail,
    OutageSummary,
    ReportLine,
    Restoration,
    check_new,
    check_notes,
    evidence_refs,
)
from work_orders.rules import (
    Action,
    Actor,
    InvalidRequestError,
    WorkOrderPolicy,
    check_county,
    check_create,
)


class WorkOrderService:
    """Work orders and the outages found from repair calls, in the database `sessions` opens, by `policy`'s contact
    deadlines and correlation rule, at the time `clock` gives."""

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
        check_new(new)
        with self.sessions.begin() as session:
            order = intake.open_order(session, new, actor, self.clock, self.policy.correlation)
            # As of its creation: the time the intake read, under the feeder's lock if it took one.
            return queries.order_detail(session, order.id, actor, order.created_at)

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
        refs = evidence_refs(evidence)
        check_notes(notes)
        now = self.clock()
        with self.sessions.begin() as session:
            order_id = workflow.transition(
                session,
                order,
                action,
                actor,
                now,
                self.policy.deadlines,
                county_id=county_id,
                notes=notes,
                evidence=refs,
                crew_expected_at=crew_expected_at,
            )
            return queries.order_detail(session, order_id, actor, now)

    # --- reading ---

    def detail(self, order: int | str, viewer: Actor) -> OrderDetail:
        """The order (by id or number) with its whole history; county staff see only their own county's."""
        with self.sessions() as session:
            row = store.find_order(session, order)
            check_county(viewer, row.county_company_id)
            return queries.order_detail(session, row.id, viewer, self.clock())

    def list_orders(self, filters: OrderFilter, viewer: Actor, page: int = 1, per_page: int = 50) -> OrderPage:
        """A page of orders, newest first (the overdue ones: the longest overdue first)."""
        if page < 1 or not 1 <= per_page <= MAX_PER_PAGE:
            raise InvalidRequestError(f"pages start at 1 and hold 1 to {MAX_PER_PAGE} orders")
        county = filters.county_id
        if viewer.role is Role.COUNTY:
            check_county(viewer, county if county is not None else viewer.county_id)
            county = viewer.county_id
        now = self.clock()
        with self.sessions() as session:
            return queries.order_page(session, filters, county, now, page, per_page)

    def overdue(self, county_id: int | None = None, limit: int = 1000) -> list[OrderLine]:
        """Orders past their contact deadline and not yet contacted, the longest overdue first."""
        now = self.clock()
        with self.sessions() as session:
            return queries.overdue_lines(session, now, county_id, limit)

    def overdue_count(self, county_id: int | None = None) -> int:
        """How many orders are past their contact deadline and not yet contacted."""
        now = self.clock()
        with self.sessions() as session:
            return queries.overdue_count(session, now, county_id)

    # --- the clock ---

    def escalate_overdue(self, now: datetime | None = None) -> list[Escalation]:
        """Mark every order that is past its contact deadline uncontacted, and not marked yet, as escalated, and
        return those: each is returned once however often this runs, from however many processes (the UPDATE
        claims them; a second run finds them marked). Publishing them is the caller's business."""
        now = now or self.clock()
        with self.sessions.begin() as session:
            return workflow.escalate_overdue(session, now)

    # --- outages found from calls ---

    def correlation_check(self, feeder_id: int, transformer_area_id: int | None = None) -> CorrelationCheck:
        """What a repair report on this feeder (and transformer area) would find now, without writing anything:
        the check create() runs under the feeder's lock."""
        now = self.clock()
        with self.sessions() as session:
            return intake.correlation_check(session, feeder_id, transformer_area_id, now, self.policy.correlation)

    def covering_outage(self, account_number: str) -> OutageSummary | None:
        """The active outage reaching this account's supply point, if any: an agent taking a repair call attaches
        the call to it (attach_call) rather than opening an order."""
        now = self.clock()
        with self.sessions() as session:
            outage_id = intake.covering_outage(session, account_number, now)
            return None if outage_id is None else queries.outage_summary(session, outage_id)

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
            return intake.attach_call(
                session,
                outage_id,
                actor,
                now,
                account_number=account_number,
                contact_id=contact_id,
                callback_number=callback_number,
            )

    def outage(self, outage_id: int) -> OutageDetail:
        """An outage with every report counted into it or attached to it."""
        with self.sessions() as session:
            return queries.outage_detail(session, outage_id)

    def outages_from_calls(self, active_only: bool = True) -> list[OutageSummary]:
        """The outages raised from repair calls (the newest first); by default those not yet restored."""
        with self.sessions() as session:
            return queries.outages_from_calls(session, active_only)

    def restore_outage(self, outage_id: int, actor: Actor, notes: str = "") -> Restoration:
        """Power is back: mark the outage restored (the IVR stops announcing it), report back every order attached
        to it that still had work to do, and return whom to tell."""
        notes = notes.strip()
        now = self.clock()
        with self.sessions.begin() as session:
            return workflow.restore_outage(session, outage_id, actor, now, notes)
