"""Work orders (工单) as plain data and pure functions, with no database, Redis or file I/O: kinds and states, the
95598 dispatch flow of seed 002 with the role allowed for each step, the one-hour contact clock, the rule that raises
a suspected fault outage from repair reports, and the policy those rules are configured by (parsed here from a
mapping; work_orders/policy.py reads the file). work_orders/service.py applies them to the database.

The flow: created at the provincial centre (省中心受理) -> dispatched by the city service dispatch (服调派发) to a
county company -> accepted (接单) -> customer contacted (联系客户, within the contact deadline) -> handled (处理)
-> feedback and evidence reported (回单) -> approved (审核) -> archived (归档). A county may return an order to
dispatch with a reason (退单); an approver may send a report back to the county (驳回); restoring an outage reports
back every order attached to it at once (随停电恢复回单).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from types import MappingProxyType
from typing import Any

from crm.tiers import Tier
from crm.vocabulary import OutageScope, Role

# Only the error and the section check of the policy file's format; the reading is work_orders/policy.py's.
from hotline.policies import PolicyError
from hotline.policies import table as section


class Kind(StrEnum):
    """What the order is about (工单类型)."""

    REPAIR = "repair"  # 故障报修 / 抢修
    COMPLAINT = "complaint"  # 投诉
    CONSULTATION = "consultation"  # 咨询
    BUSINESS = "business"  # 业扩报装: a new connection or another business application
    SUGGESTION = "suggestion"  # 建议


class State(StrEnum):
    """Where an order is in the flow (工单状态)."""

    CREATED = "created"  # 已受理: taken at the provincial centre, waiting for the city dispatch
    RETURNED = "returned"  # 已退单: the county sent it back to the dispatch, with a reason
    DISPATCHED = "dispatched"  # 已派发: with a county company; the contact clock runs
    ACCEPTED = "accepted"  # 已接单: the county took it on; the contact clock still runs
    CONTACTED = "contacted"  # 已联系: the county reached the customer; the clock is met
    HANDLED = "handled"  # 已处理: the work is done
    REPORTED = "reported"  # 已回单: feedback and evidence uploaded, waiting for approval
    APPROVED = "approved"  # 已审核
    ARCHIVED = "archived"  # 已归档: closed for good


class Action(StrEnum):
    """What someone does to an order; each moves it from some states to one state (see RULES)."""

    DISPATCH = "dispatch"  # 派发
    RETURN = "return"  # 退单
    ACCEPT = "accept"  # 接单
    CONTACT = "contact"  # 联系客户
    HANDLE = "handle"  # 处理
    REPORT = "report"  # 回单: feedback and evidence
    APPROVE = "approve"  # 审核通过
    REJECT = "reject"  # 驳回: the report is not good enough, back to the county
    ARCHIVE = "archive"  # 归档
    RESOLVE = "resolve"  # 随停电恢复回单: the outage the order is attached to was restored


class Origin(StrEnum):
    """Where an order was created."""

    IVR = "ivr"  # the IVR's repair triage
    AGENT = "agent"  # an agent, from a call
    API = "api"  # another system, through the API


# States in which the county still owes the customer a call: the contact clock runs.
AWAITING_CONTACT = frozenset({State.DISPATCHED, State.ACCEPTED})
# States from which the order is finished as far as work goes (nothing more for a county to do).
WORK_DONE = frozenset({State.REPORTED, State.APPROVED, State.ARCHIVED})
# The coarse status the customer 360 lists by: open until archived.
OPEN, CLOSED = "open", "closed"

_STAFF = frozenset({Role.DISPATCHER, Role.SUPERVISOR, Role.ADMIN})


@dataclass(frozen=True)
class Rule:
    """One action: the states it may start from, the state it leads to, who may take it, and what it needs."""

    action: Action
    sources: frozenset[State]
    target: State
    roles: frozenset[Role]
    needs_reason: bool = False
    needs_feedback: bool = False


RULES: Mapping[Action, Rule] = MappingProxyType(
    {
        rule.action: rule
        for rule in (
            Rule(Action.DISPATCH, frozenset({State.CREATED, State.RETURNED}), State.DISPATCHED, _STAFF),
            Rule(
                Action.RETURN,
                frozenset({State.DISPATCHED, State.ACCEPTED}),
                State.RETURNED,
                frozenset({Role.COUNTY}),
                needs_reason=True,
            ),
            Rule(Action.ACCEPT, frozenset({State.DISPATCHED}), State.ACCEPTED, frozenset({Role.COUNTY})),
            Rule(Action.CONTACT, frozenset({State.ACCEPTED}), State.CONTACTED, frozenset({Role.COUNTY})),
            Rule(Action.HANDLE, frozenset({State.CONTACTED}), State.HANDLED, frozenset({Role.COUNTY})),
            Rule(
                Action.REPORT, frozenset({State.HANDLED}), State.REPORTED, frozenset({Role.COUNTY}), needs_feedback=True
            ),
            Rule(Action.APPROVE, frozenset({State.REPORTED}), State.APPROVED, _STAFF),
            Rule(Action.REJECT, frozenset({State.REPORTED}), State.HANDLED, _STAFF, needs_reason=True),
            Rule(Action.ARCHIVE, frozenset({State.APPROVED}), State.ARCHIVED, _STAFF),
            Rule(
                Action.RESOLVE,
                frozenset(State) - WORK_DONE,
                State.REPORTED,
                _STAFF | {Role.COUNTY},
                needs_feedback=True,
            ),
        )
    }
)
# Actions that may say when a repair crew expects to arrive: until the work is done.
_CREW_ACTIONS = frozenset({Action.DISPATCH, Action.ACCEPT, Action.CONTACT})
# Who may open an order: the people at the provincial centre and the dispatch (the IVR and the API act as the system).
CREATORS = frozenset({Role.AGENT, Role.SUPERVISOR, Role.ADMIN, Role.DISPATCHER})
# Who may mark an outage restored (and so report back its orders): the dispatch, or the county it is in.
RESTORERS = _STAFF | {Role.COUNTY}


@dataclass(frozen=True)
class Actor:
    """Who acts: a user with their role (county staff with their county), or the system (the IVR, the clock, the
    API), which has no role."""

    name: str
    role: Role | None = None
    user_id: int | None = None
    county_id: int | None = None

    @classmethod
    def system(cls, name: str) -> Actor:
        return cls(name)

    @property
    def is_system(self) -> bool:
        return self.role is None


class WorkOrderError(Exception):
    """A request the flow does not allow; the message says why, in words fit for the person who asked."""


class IllegalTransitionError(WorkOrderError):
    def __init__(self, state: State, action: Action) -> None:
        super().__init__(f"an order that is {state} cannot be given '{action}'")
        self.state = state
        self.action = action


class NotPermittedError(WorkOrderError):
    def __init__(self, role: Role | None, action: str) -> None:
        who = f"the {role} role" if role else "the system"
        super().__init__(f"{who} may not {action} work orders")
        self.role = role
        self.action = action


class WrongCountyError(WorkOrderError):
    def __init__(self, actor_county: int | None, order_county: int | None) -> None:
        super().__init__(
            "county staff act only on their own county's orders"
            f" (yours: {actor_county if actor_county is not None else 'none'},"
            f" the order's: {order_county if order_county is not None else 'none'})"
        )
        self.actor_county = actor_county
        self.order_county = order_county


class InvalidRequestError(WorkOrderError):
    """Missing or malformed input: an empty reason, an unknown account, a dispatch without a county."""


class UnknownWorkOrderError(WorkOrderError):
    pass


class UnknownOutageError(WorkOrderError):
    pass


def check_county(actor: Actor, county_id: int | None) -> None:
    """County staff see and touch only their own county's orders; everyone else any county's."""
    if actor.role is Role.COUNTY and (actor.county_id is None or actor.county_id != county_id):
        raise WrongCountyError(actor.county_id, county_id)


def next_state(state: State, action: Action, actor: Actor, order_county: int | None) -> State:
    """The state `action` leads to from `state`, or the error saying why it may not be taken: the state first
    (nobody may do it now), then the role, then the county."""
    rule = RULES[action]
    if state not in rule.sources:
        raise IllegalTransitionError(state, action)
    if actor.role not in rule.roles:
        raise NotPermittedError(actor.role, action.value)
    check_county(actor, order_county)
    return rule.target


def check_details(action: Action, kind: Kind, notes: str, crew_expected_at: datetime | None) -> None:
    """What an allowed action needs besides: a reason to return or reject, the feedback of a report (both in
    `notes`); a crew's expected arrival only on a repair order, from dispatch to contact, and with its time zone."""
    rule = RULES[action]
    if rule.needs_reason and not notes:
        raise InvalidRequestError(f"'{action}' needs a reason")
    if rule.needs_feedback and not notes:
        raise InvalidRequestError(f"'{action}' needs the feedback: what was found and done")
    if crew_expected_at is not None:
        if kind is not Kind.REPAIR or action not in _CREW_ACTIONS:
            raise InvalidRequestError("a crew's expected arrival is for a repair order, until it is handled")
        if crew_expected_at.tzinfo is None:
            raise InvalidRequestError("the crew's expected arrival needs a time zone")


def allowed_actions(state: State, actor: Actor, order_county: int | None) -> tuple[Action, ...]:
    """The actions `actor` may take on an order in `state` (the buttons a page shows). Resolution is left out: it
    happens only through an outage's restoration."""
    found = []
    for action in RULES:
        if action is Action.RESOLVE:
            continue
        try:
            next_state(state, action, actor, order_county)
        except WorkOrderError:
            continue
        found.append(action)
    return tuple(found)


def check_create(actor: Actor) -> None:
    if not actor.is_system and actor.role not in CREATORS:
        raise NotPermittedError(actor.role, "create")


def check_restore(actor: Actor, outage_county: int | None) -> None:
    if actor.role not in RESTORERS:
        raise NotPermittedError(actor.role, "restore outages and resolve")
    check_county(actor, outage_county)


def status_of(state: State) -> str:
    """The coarse open/closed the customer 360 reads."""
    return CLOSED if state is State.ARCHIVED else OPEN


# --- the number read out on the phone ---


def order_number(day: date, order_id: int) -> str:
    """GD<yyyymmdd><id, at least six digits> (GD: 工单): the letters are the same on every order, so the IVR
    reads out only the digits."""
    return f"GD{day:%Y%m%d}{order_id:06d}"


def spoken_digits(number: str) -> str:
    return "".join(char for char in number if char.isdigit())


# --- the contact clock ---


@dataclass(frozen=True)
class ContactDeadlines:
    """Minutes from dispatch within which the county must contact the customer, per kind, with exceptions per
    customer tier (a key account may get less)."""

    default: Mapping[Kind, int]
    by_tier: Mapping[tuple[Kind, Tier], int]

    def minutes(self, kind: Kind, tier: Tier | None) -> int:
        if tier is not None and (kind, tier) in self.by_tier:
            return self.by_tier[(kind, tier)]
        return self.default[kind]


def contact_deadline(
    deadlines: ContactDeadlines, kind: Kind, tier: Tier | None, anonymous: bool, dispatched_at: datetime
) -> datetime | None:
    """When the county must have contacted the customer; None for an anonymous report, which has nobody to call."""
    if anonymous:
        return None
    return dispatched_at + timedelta(minutes=deadlines.minutes(kind, tier))


def is_overdue(state: State, deadline: datetime | None, now: datetime) -> bool:
    """Past its contact deadline with the customer not yet contacted."""
    return state in AWAITING_CONTACT and deadline is not None and deadline <= now


def time_left(state: State, deadline: datetime | None, now: datetime) -> timedelta | None:
    """Until the contact deadline (negative once past); None when no clock runs."""
    if state not in AWAITING_CONTACT or deadline is None:
        return None
    return deadline - now


# --- outages found from repair calls ---


@dataclass(frozen=True)
class RepairReport:
    """A repair order from a caller whose neighbours are out too, where the grid feeds them."""

    order_id: int
    supply_point_id: int
    transformer_area_id: int
    feeder_id: int
    reported_at: datetime


@dataclass(frozen=True)
class CorrelationRule:
    """`reports` reports from as many different supply points on one feeder within `window` raise a suspected
    outage; it covers the feeder when they come from at least `feeder_areas` transformer areas, else the areas."""

    reports: int
    window: timedelta
    feeder_areas: int


@dataclass(frozen=True)
class SuspectedOutage:
    """What the rule decided: where the outage is, since when, and the reports it is based on."""

    scope: OutageScope  # FEEDER or TRANSFORMER_AREAS
    feeder_id: int
    transformer_area_ids: tuple[int, ...]
    starts_at: datetime  # the first report: the power was off by then
    order_ids: tuple[int, ...]


def suspect_outage(reports: Iterable[RepairReport], rule: CorrelationRule, now: datetime) -> SuspectedOutage | None:
    """Decide from the repair reports whether a fault outage is likely, per feeder (the first feeder that qualifies,
    by id): only reports within the window count, and a supply point counts once however often it calls. A report
    stamped after `now` counts: another process's clock may run a little ahead."""
    since = now - rule.window
    by_feeder: dict[int, dict[int, RepairReport]] = {}
    for report in sorted(reports, key=lambda r: (r.reported_at, r.order_id)):
        if report.reported_at >= since:
            # The first report of a supply point stands for it; later calls from it add nothing.
            by_feeder.setdefault(report.feeder_id, {}).setdefault(report.supply_point_id, report)
    for feeder_id in sorted(by_feeder):
        points = by_feeder[feeder_id]
        if len(points) < rule.reports:
            continue
        counted = sorted(points.values(), key=lambda r: (r.reported_at, r.order_id))
        areas = tuple(sorted({r.transformer_area_id for r in counted}))
        scope = OutageScope.FEEDER if len(areas) >= rule.feeder_areas else OutageScope.TRANSFORMER_AREAS
        return SuspectedOutage(
            scope=scope,
            feeder_id=feeder_id,
            transformer_area_ids=() if scope is OutageScope.FEEDER else areas,
            starts_at=counted[0].reported_at,
            order_ids=tuple(sorted(r.order_id for r in counted)),
        )
    return None


# --- the policy ---


@dataclass(frozen=True)
class WorkOrderPolicy:
    """The contact deadlines and the correlation rule, as the policy file (work_orders/policy.toml) sets them."""

    deadlines: ContactDeadlines
    correlation: CorrelationRule


def parse_policy(data: Mapping[str, Any]) -> WorkOrderPolicy:
    """The policy from the policy file's parsed TOML; a PolicyError names the entry that is wrong."""
    unknown = set(data) - {"contact_minutes", "correlation"}
    if unknown:
        raise PolicyError(f"unknown section(s) {', '.join(sorted(unknown))}")
    return WorkOrderPolicy(_deadlines(section(data, "contact_minutes")), _correlation(section(data, "correlation")))


def _positive(where: str, value: Any, unit: str = "minutes") -> int:
    # bool is an int in Python; `true` is a slip, not 1.
    if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
        raise PolicyError(f"{where} must be a whole number of {unit} above 0, not {value!r}")
    return value


def _deadlines(table: Mapping[str, Any]) -> ContactDeadlines:
    default: dict[Kind, int] = {}
    by_tier: dict[tuple[Kind, Tier], int] = {}
    kinds = {k.value: k for k in Kind}
    tiers = {t.value: t for t in Tier}
    for name, entry in table.items():
        if name not in kinds:
            raise PolicyError(f"contact_minutes.{name}: unknown kind (known: {', '.join(kinds)})")
        kind = kinds[name]
        if not isinstance(entry, dict):
            raise PolicyError(f"contact_minutes.{name} must be a table such as {{ default = 60 }}")
        if "default" not in entry:
            raise PolicyError(f"contact_minutes.{name} lacks `default`")
        for key, value in entry.items():
            where = f"contact_minutes.{name}.{key}"
            if key == "default":
                default[kind] = _positive(where, value)
            elif key in tiers:
                by_tier[(kind, tiers[key])] = _positive(where, value)
            else:
                raise PolicyError(f"{where}: unknown tier (known: default, {', '.join(tiers)})")
    missing = [k.value for k in Kind if k not in default]
    if missing:
        raise PolicyError(f"contact_minutes lacks the kind(s) {', '.join(missing)}")
    return ContactDeadlines(MappingProxyType(default), MappingProxyType(by_tier))


def _correlation(table: Mapping[str, Any]) -> CorrelationRule:
    known = {"reports", "window_minutes", "feeder_areas"}
    unknown = set(table) - known
    if unknown:
        raise PolicyError(f"correlation: unknown key(s) {', '.join(sorted(unknown))}")
    missing = known - set(table)
    if missing:
        raise PolicyError(f"correlation lacks {', '.join(sorted(missing))}")
    reports = _positive("correlation.reports", table["reports"], "reports")
    if reports < 2:
        raise PolicyError("correlation.reports must be at least 2: one caller is not a pattern")
    return CorrelationRule(
        reports=reports,
        window=timedelta(minutes=_positive("correlation.window_minutes", table["window_minutes"])),
        feeder_areas=_positive("correlation.feeder_areas", table["feeder_areas"], "transformer areas"),
    )
