"""The work orders' records (工单): what a caller of WorkOrderService hands in (a new order, a list's filter) with
the checks on it, and what it gets back (an order's lines and details, escalations, outages and their reports, a
restoration). Plain frozen dataclasses and pure checks, no database."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from crm.tiers import Tier
from crm.vocabulary import OutageKind, OutageScope
from work_orders.rules import Action, InvalidRequestError, Kind, Origin, State, SuspectedOutage

MAX_SUMMARY = 256
MAX_NOTES = 1024
MAX_EVIDENCE = 20
MAX_PER_PAGE = 200


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
    """One step in an order's history (工单流转记录): who did what, from which state to which, and with what."""

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
    """One page of a list of orders, with the number of orders the whole list holds."""

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
    """An outage as the pages list it: where, why, whether it is suspected from calls, and how many reports it has."""

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
    """A report counted into an outage or attached to it: the order, or the call alone, and whom to tell."""

    at: datetime
    order_number: str | None  # None: a call attached without an order
    contact_id: int | None
    customer_id: int | None
    callback_number: str


@dataclass(frozen=True)
class OutageDetail:
    """An outage with every report counted into it or attached to it, the oldest first."""

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
    """What restoring an outage did: the orders it reported back, and whom to tell that power is back."""

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


# --- the checks of what comes in ---


def check_new(new: NewWorkOrder) -> None:
    """A new order says what it is about in a summary of bounded length; an anonymous one names nobody; only a
    repair report says whether the neighbours are out too."""
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


def check_notes(notes: str) -> None:
    """Notes (a reason, feedback) are bounded: they go into the order's history."""
    if len(notes) > MAX_NOTES:
        raise InvalidRequestError(f"notes are limited to {MAX_NOTES} characters")


def evidence_refs(evidence: Sequence[str]) -> tuple[str, ...]:
    """The references to uploaded evidence, stripped: a list (not one string) of at most MAX_EVIDENCE of them, each
    1 to 256 characters."""
    if isinstance(evidence, str):
        raise InvalidRequestError("evidence is a list of references, not one string")
    refs = tuple(str(ref).strip() for ref in evidence)
    if len(refs) > MAX_EVIDENCE:
        raise InvalidRequestError(f"at most {MAX_EVIDENCE} pieces of evidence")
    if any(not ref or len(ref) > 256 for ref in refs):
        raise InvalidRequestError("each piece of evidence is a reference of 1 to 256 characters")
    return refs
