"""The work-order domain without a database: every transition of the 95598 flow against a table written out here
from seed 002 (legal ones by each role, illegal ones, the county rule), what an action and a new order must carry,
the contact clock, the rule that raises a suspected outage from repair reports, and the policy file's errors."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from crm.tiers import Tier
from crm.vocabulary import OutageScope, Role
from hotline.policies import PolicyError
from work_orders.policy import load_policy
from work_orders.records import (
    MAX_EVIDENCE,
    MAX_NOTES,
    MAX_SUMMARY,
    NewWorkOrder,
    check_new,
    check_notes,
    evidence_refs,
)
from work_orders.rules import (
    RULES,
    Action,
    Actor,
    ContactDeadlines,
    CorrelationRule,
    IllegalTransitionError,
    InvalidRequestError,
    Kind,
    NotPermittedError,
    Origin,
    RepairReport,
    State,
    WrongCountyError,
    allowed_actions,
    check_create,
    check_details,
    check_restore,
    contact_deadline,
    is_overdue,
    next_state,
    order_number,
    parse_policy,
    spoken_digits,
    status_of,
    suspect_outage,
    time_left,
)

T0 = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)
STAFF = {Role.DISPATCHER, Role.SUPERVISOR, Role.ADMIN}
COUNTY = {Role.COUNTY}
OWN_COUNTY = 41

# Seed 002, 4.2, as this project reads it: (state, action) -> (new state, who may take it). Anything not listed is
# illegal from that state.
FLOW: dict[tuple[State, Action], tuple[State, set[Role]]] = {
    (State.CREATED, Action.DISPATCH): (State.DISPATCHED, STAFF),
    (State.RETURNED, Action.DISPATCH): (State.DISPATCHED, STAFF),
    (State.DISPATCHED, Action.RETURN): (State.RETURNED, COUNTY),
    (State.ACCEPTED, Action.RETURN): (State.RETURNED, COUNTY),
    (State.DISPATCHED, Action.ACCEPT): (State.ACCEPTED, COUNTY),
    (State.ACCEPTED, Action.CONTACT): (State.CONTACTED, COUNTY),
    (State.CONTACTED, Action.HANDLE): (State.HANDLED, COUNTY),
    (State.HANDLED, Action.REPORT): (State.REPORTED, COUNTY),
    (State.REPORTED, Action.APPROVE): (State.APPROVED, STAFF),
    (State.REPORTED, Action.REJECT): (State.HANDLED, STAFF),
    (State.APPROVED, Action.ARCHIVE): (State.ARCHIVED, STAFF),
    **{
        (state, Action.RESOLVE): (State.REPORTED, STAFF | COUNTY)
        for state in (
            State.CREATED,
            State.RETURNED,
            State.DISPATCHED,
            State.ACCEPTED,
            State.CONTACTED,
            State.HANDLED,
        )
    },
}


def actor(role: Role | None, county: int | None = OWN_COUNTY) -> Actor:
    if role is None:
        return Actor.system("IVR")
    return Actor(f"a {role}", role, user_id=7, county_id=county if role is Role.COUNTY else None)


# --- the flow ---


@pytest.mark.parametrize(("state", "action"), [(s, a) for s in State for a in Action])
def test_every_state_and_action_against_seed_002(state: State, action: Action) -> None:
    """Legal for the roles in FLOW and nobody else (the system included); illegal for everyone otherwise."""
    expected = FLOW.get((state, action))
    for role in [*Role, None]:
        who = actor(role)
        if expected is None:
            with pytest.raises(IllegalTransitionError) as illegal:
                next_state(state, action, who, OWN_COUNTY)
            assert illegal.value.state is state and illegal.value.action is action
        elif role in expected[1]:
            assert next_state(state, action, who, OWN_COUNTY) is expected[0], role
        else:
            with pytest.raises(NotPermittedError):
                next_state(state, action, who, OWN_COUNTY)


def test_the_rules_table_has_nothing_beyond_seed_002() -> None:
    declared = {(s, rule.action): (rule.target, set(rule.roles)) for rule in RULES.values() for s in rule.sources}
    assert declared == FLOW


def test_county_staff_act_only_on_their_own_countys_orders() -> None:
    assert next_state(State.DISPATCHED, Action.ACCEPT, actor(Role.COUNTY), OWN_COUNTY) is State.ACCEPTED
    with pytest.raises(WrongCountyError):
        next_state(State.DISPATCHED, Action.ACCEPT, actor(Role.COUNTY), 42)
    # Staff of no county at all (a misconfigured user) may act on no order.
    with pytest.raises(WrongCountyError):
        next_state(State.DISPATCHED, Action.ACCEPT, actor(Role.COUNTY, county=None), OWN_COUNTY)
    with pytest.raises(WrongCountyError):
        next_state(State.DISPATCHED, Action.ACCEPT, actor(Role.COUNTY, county=None), None)
    # The dispatch works for every county.
    assert next_state(State.CREATED, Action.DISPATCH, actor(Role.DISPATCHER), 42) is State.DISPATCHED


def test_the_state_is_checked_before_the_role() -> None:
    """An agent trying to archive a new order hears that the order cannot be archived now, not about roles."""
    with pytest.raises(IllegalTransitionError, match="created cannot be given 'archive'"):
        next_state(State.CREATED, Action.ARCHIVE, actor(Role.AGENT), OWN_COUNTY)


def test_the_whole_flow_from_creation_to_archive() -> None:
    state = State.CREATED
    walk = [
        (Action.DISPATCH, Role.DISPATCHER),
        (Action.ACCEPT, Role.COUNTY),
        (Action.RETURN, Role.COUNTY),
        (Action.DISPATCH, Role.DISPATCHER),
        (Action.ACCEPT, Role.COUNTY),
        (Action.CONTACT, Role.COUNTY),
        (Action.HANDLE, Role.COUNTY),
        (Action.REPORT, Role.COUNTY),
        (Action.REJECT, Role.SUPERVISOR),
        (Action.REPORT, Role.COUNTY),
        (Action.APPROVE, Role.DISPATCHER),
        (Action.ARCHIVE, Role.DISPATCHER),
    ]
    seen = []
    for action, role in walk:
        state = next_state(state, action, actor(role), OWN_COUNTY)
        seen.append(state)
    assert seen[-1] is State.ARCHIVED
    assert [status_of(s) for s in seen] == ["open"] * 11 + ["closed"]


def test_allowed_actions_are_the_buttons_a_page_shows() -> None:
    assert allowed_actions(State.CREATED, actor(Role.DISPATCHER), OWN_COUNTY) == (Action.DISPATCH,)
    assert allowed_actions(State.DISPATCHED, actor(Role.COUNTY), OWN_COUNTY) == (Action.RETURN, Action.ACCEPT)
    assert allowed_actions(State.DISPATCHED, actor(Role.COUNTY), 42) == ()
    assert allowed_actions(State.REPORTED, actor(Role.SUPERVISOR), OWN_COUNTY) == (Action.APPROVE, Action.REJECT)
    assert allowed_actions(State.REPORTED, actor(Role.AGENT), OWN_COUNTY) == ()
    # Resolution happens only through an outage's restoration: never a button.
    assert Action.RESOLVE not in allowed_actions(State.HANDLED, actor(Role.ADMIN), OWN_COUNTY)


def test_who_may_create_and_who_may_restore() -> None:
    for role in (Role.AGENT, Role.SUPERVISOR, Role.ADMIN, Role.DISPATCHER, None):
        check_create(actor(role))
    with pytest.raises(NotPermittedError):
        check_create(actor(Role.COUNTY))
    for role in (Role.DISPATCHER, Role.SUPERVISOR, Role.ADMIN, Role.COUNTY):
        check_restore(actor(role), OWN_COUNTY)
    for role in (Role.AGENT, None):
        with pytest.raises(NotPermittedError):
            check_restore(actor(role), OWN_COUNTY)
    with pytest.raises(WrongCountyError):
        check_restore(actor(Role.COUNTY), 42)


@pytest.mark.parametrize("action", [Action.RETURN, Action.REJECT])
def test_a_return_or_a_rejection_needs_a_reason(action: Action) -> None:
    with pytest.raises(InvalidRequestError, match="needs a reason"):
        check_details(action, Kind.REPAIR, "", None)
    check_details(action, Kind.REPAIR, "不属本县", None)


@pytest.mark.parametrize("action", [Action.REPORT, Action.RESOLVE])
def test_a_report_needs_its_feedback(action: Action) -> None:
    with pytest.raises(InvalidRequestError, match="needs the feedback"):
        check_details(action, Kind.REPAIR, "", None)
    check_details(action, Kind.REPAIR, "已更换熔丝", None)


def test_nothing_else_needs_notes() -> None:
    for action in (Action.DISPATCH, Action.ACCEPT, Action.CONTACT, Action.HANDLE, Action.APPROVE, Action.ARCHIVE):
        check_details(action, Kind.COMPLAINT, "", None)


def test_a_crews_expected_arrival_is_for_a_repair_order_from_dispatch_to_contact() -> None:
    arrival = T0 + timedelta(minutes=40)
    for action in (Action.DISPATCH, Action.ACCEPT, Action.CONTACT):
        check_details(action, Kind.REPAIR, "", arrival)
    for action in (Action.HANDLE, Action.REJECT, Action.APPROVE, Action.ARCHIVE):
        with pytest.raises(InvalidRequestError, match="for a repair order, until it is handled"):
            check_details(action, Kind.REPAIR, "notes", arrival)
    for kind in (Kind.COMPLAINT, Kind.CONSULTATION, Kind.BUSINESS, Kind.SUGGESTION):
        with pytest.raises(InvalidRequestError, match="for a repair order"):
            check_details(Action.ACCEPT, kind, "", arrival)
    with pytest.raises(InvalidRequestError, match="needs a time zone"):
        check_details(Action.ACCEPT, Kind.REPAIR, "", arrival.replace(tzinfo=None))


# --- what comes in ---


def _new(**changes: Any) -> NewWorkOrder:
    return replace(NewWorkOrder(Kind.REPAIR, "家里停电", Origin.IVR, account_number="0100000001"), **changes)


def test_a_new_order_says_what_it_is_about_in_a_bounded_summary() -> None:
    check_new(_new())
    check_new(_new(summary="  " + "电" * MAX_SUMMARY + "  "))  # counted without the spaces around
    for blank in ("", "   "):
        with pytest.raises(InvalidRequestError, match="a summary"):
            check_new(_new(summary=blank))
    with pytest.raises(InvalidRequestError, match=f"limited to {MAX_SUMMARY}"):
        check_new(_new(summary="电" * (MAX_SUMMARY + 1)))


def test_an_anonymous_report_names_nobody() -> None:
    check_new(_new(account_number=None, anonymous=True))
    with pytest.raises(InvalidRequestError, match="anonymous report names no account"):
        check_new(_new(anonymous=True))
    with pytest.raises(InvalidRequestError, match="anonymous report names no account"):
        check_new(_new(account_number=None, customer_id=7, anonymous=True))


def test_only_a_repair_report_says_whether_the_neighbours_are_out() -> None:
    check_new(_new(neighbours_out=True))
    check_new(_new(neighbours_out=False))
    check_new(_new(kind=Kind.COMPLAINT, neighbours_out=None))
    with pytest.raises(InvalidRequestError, match="only a repair report"):
        check_new(_new(kind=Kind.COMPLAINT, neighbours_out=False))


def test_the_address_is_bounded() -> None:
    check_new(_new(address="路" * 128))
    with pytest.raises(InvalidRequestError, match="address is limited to 128"):
        check_new(_new(address="路" * 129))


def test_notes_are_bounded() -> None:
    check_notes("注" * MAX_NOTES)
    with pytest.raises(InvalidRequestError, match=f"limited to {MAX_NOTES}"):
        check_notes("注" * (MAX_NOTES + 1))


def test_evidence_is_a_short_list_of_references() -> None:
    assert evidence_refs([" files/1.jpg ", "files/2.wav"]) == ("files/1.jpg", "files/2.wav")
    assert evidence_refs(()) == ()
    assert evidence_refs(["x"] * MAX_EVIDENCE) == ("x",) * MAX_EVIDENCE
    with pytest.raises(InvalidRequestError, match="not one string"):
        evidence_refs("files/1.jpg")
    with pytest.raises(InvalidRequestError, match=f"at most {MAX_EVIDENCE}"):
        evidence_refs(["x"] * (MAX_EVIDENCE + 1))
    for bad in ("", "  ", "r" * 257):
        with pytest.raises(InvalidRequestError, match="1 to 256 characters"):
            evidence_refs(["files/1.jpg", bad])


# --- the number read out ---


def test_the_number_is_gd_the_local_day_and_at_least_six_digits() -> None:
    assert order_number(date(2026, 3, 2), 42) == "GD20260302000042"
    assert order_number(date(2026, 3, 2), 1234567) == "GD202603021234567"
    assert spoken_digits("GD20260302000042") == "20260302000042"


# --- the contact clock ---

DEADLINES = ContactDeadlines(
    {Kind.REPAIR: 60, Kind.COMPLAINT: 45, Kind.CONSULTATION: 120, Kind.BUSINESS: 60, Kind.SUGGESTION: 240},
    {(Kind.REPAIR, Tier.KEY_ACCOUNT): 20, (Kind.COMPLAINT, Tier.ATTENTION): 90},
)


@pytest.mark.parametrize(
    ("kind", "tier", "minutes"),
    [
        (Kind.REPAIR, Tier.STANDARD, 60),
        (Kind.REPAIR, Tier.KEY_ACCOUNT, 20),
        (Kind.REPAIR, None, 60),
        (Kind.COMPLAINT, Tier.KEY_ACCOUNT, 45),
        (Kind.COMPLAINT, Tier.ATTENTION, 90),
        (Kind.CONSULTATION, Tier.STANDARD, 120),
        (Kind.SUGGESTION, None, 240),
    ],
)
def test_the_deadline_is_per_kind_with_exceptions_per_tier(kind: Kind, tier: Tier | None, minutes: int) -> None:
    assert contact_deadline(DEADLINES, kind, tier, False, T0) == T0 + timedelta(minutes=minutes)


def test_an_anonymous_report_has_no_contact_deadline() -> None:
    assert contact_deadline(DEADLINES, Kind.REPAIR, None, True, T0) is None
    assert not is_overdue(State.DISPATCHED, None, T0 + timedelta(days=3))
    assert time_left(State.DISPATCHED, None, T0) is None


def test_overdue_exactly_at_the_deadline_and_only_while_the_contact_is_owed() -> None:
    deadline = T0 + timedelta(hours=1)
    assert not is_overdue(State.DISPATCHED, deadline, deadline - timedelta(seconds=1))
    assert is_overdue(State.DISPATCHED, deadline, deadline)
    assert is_overdue(State.ACCEPTED, deadline, deadline + timedelta(minutes=5))
    for done in (State.CONTACTED, State.HANDLED, State.RETURNED, State.REPORTED, State.ARCHIVED):
        assert not is_overdue(done, deadline, deadline + timedelta(hours=5)), done
    assert time_left(State.ACCEPTED, deadline, T0 + timedelta(minutes=15)) == timedelta(minutes=45)
    assert time_left(State.ACCEPTED, deadline, T0 + timedelta(minutes=75)) == timedelta(minutes=-15)
    assert time_left(State.CONTACTED, deadline, T0) is None


# --- outages found from calls ---

RULE = CorrelationRule(reports=3, window=timedelta(minutes=20), feeder_areas=2)
_ids = iter(range(1, 10_000))


def report(point: int, area: int = 10, feeder: int = 1, minutes_ago: float = 1.0) -> RepairReport:
    return RepairReport(next(_ids), point, area, feeder, T0 - timedelta(minutes=minutes_ago))


def test_n_reports_in_one_area_within_the_window_raise_one_outage_there() -> None:
    reports = [report(1, minutes_ago=12), report(2, minutes_ago=5), report(3, minutes_ago=0)]
    found = suspect_outage(reports, RULE, T0)
    assert found is not None
    assert found.scope is OutageScope.TRANSFORMER_AREAS and found.transformer_area_ids == (10,)
    assert found.feeder_id == 1
    assert found.starts_at == T0 - timedelta(minutes=12)  # the power was off by the first report
    assert found.order_ids == tuple(sorted(r.order_id for r in reports))


def test_n_minus_one_reports_raise_nothing() -> None:
    assert suspect_outage([report(1), report(2)], RULE, T0) is None


def test_reports_spread_over_two_feeders_raise_nothing() -> None:
    reports = [report(1, feeder=1), report(2, feeder=1), report(3, area=20, feeder=2), report(4, area=20, feeder=2)]
    assert suspect_outage(reports, RULE, T0) is None


def test_a_supply_point_calling_again_counts_once() -> None:
    assert suspect_outage([report(1), report(1), report(2)], RULE, T0) is None
    assert suspect_outage([report(1), report(1), report(2), report(3)], RULE, T0) is not None


def test_only_reports_within_the_window_count() -> None:
    old = [report(1, minutes_ago=20.5), report(2, minutes_ago=3), report(3, minutes_ago=1)]
    assert suspect_outage(old, RULE, T0) is None
    # The window's edge is in.
    edge = [report(1, minutes_ago=20), report(2, minutes_ago=3), report(3, minutes_ago=1)]
    assert suspect_outage(edge, RULE, T0) is not None
    # A report stamped a little after "now" (another process's clock runs ahead) is recent, not ignored.
    ahead = [report(1, minutes_ago=-0.01), report(2), report(3)]
    assert suspect_outage(ahead, RULE, T0) is not None


def test_reports_from_several_areas_of_a_feeder_raise_a_feeder_outage() -> None:
    found = suspect_outage([report(1, area=10), report(2, area=11), report(3, area=10)], RULE, T0)
    assert found is not None and found.scope is OutageScope.FEEDER
    assert found.transformer_area_ids == () and found.feeder_id == 1
    # With a higher bar for the feeder, the same reports raise an outage on the two areas only.
    narrower = CorrelationRule(reports=3, window=timedelta(minutes=20), feeder_areas=3)
    found = suspect_outage([report(1, area=10), report(2, area=11), report(3, area=10)], narrower, T0)
    assert found is not None and found.scope is OutageScope.TRANSFORMER_AREAS
    assert found.transformer_area_ids == (10, 11)


# --- the policy file ---

GOOD = {
    "contact_minutes": {
        "repair": {"default": 60, "key_account": 30},
        "complaint": {"default": 60},
        "consultation": {"default": 60},
        "business": {"default": 60},
        "suggestion": {"default": 60},
    },
    "correlation": {"reports": 3, "window_minutes": 20, "feeder_areas": 2},
}


def _with(section: str, **changes: object) -> dict[str, object]:
    changed: dict[str, object] = {k: dict(v) for k, v in GOOD.items()}
    table = changed[section]
    assert isinstance(table, dict)
    for key, value in changes.items():
        if value is None:
            del table[key]
        else:
            table[key] = value
    return changed


def test_the_shipped_policy_and_the_tests_policy_load() -> None:
    shipped = load_policy()
    assert shipped.deadlines.minutes(Kind.REPAIR, Tier.STANDARD) == 60  # seed 002: within one hour
    assert shipped.deadlines.minutes(Kind.REPAIR, Tier.KEY_ACCOUNT) < 60
    assert shipped.correlation.reports >= 2
    load_policy(Path(__file__).with_name("work_orders_policy.toml"))


def test_a_good_policy_parses() -> None:
    policy = parse_policy(GOOD)
    assert policy.deadlines.minutes(Kind.REPAIR, Tier.KEY_ACCOUNT) == 30
    assert policy.correlation == CorrelationRule(3, timedelta(minutes=20), 2)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (_with("contact_minutes", repairs={"default": 5}), "contact_minutes.repairs: unknown kind"),
        (_with("contact_minutes", repair={"default": 60, "vip": 5}), "contact_minutes.repair.vip: unknown tier"),
        (_with("contact_minutes", repair={"key_account": 30}), "contact_minutes.repair lacks `default`"),
        (_with("contact_minutes", suggestion=None), "lacks the kind(s) suggestion"),
        (_with("contact_minutes", repair={"default": 0}), "contact_minutes.repair.default must be a whole number"),
        (_with("contact_minutes", repair={"default": True}), "not True"),
        (_with("contact_minutes", repair={"default": "60"}), "not '60'"),
        (_with("contact_minutes", repair=60), "must be a table"),
        (_with("correlation", reports=1), "at least 2"),
        (_with("correlation", window_minutes=-5), "correlation.window_minutes must be"),
        (_with("correlation", feeder_areas=None), "correlation lacks feeder_areas"),
        (_with("correlation", window=20), "unknown key(s) window"),
        ({**GOOD, "escalation": {}}, "unknown section(s) escalation"),
        ({"correlation": GOOD["correlation"]}, "[contact_minutes] is missing"),
    ],
)
def test_a_bad_policy_says_which_entry_is_wrong(data: dict[str, object], message: str) -> None:
    with pytest.raises(PolicyError) as error:
        parse_policy(data)
    assert message in str(error.value)


def test_a_policy_file_that_cannot_be_read_is_named(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.toml"
    with pytest.raises(PolicyError, match=r"nowhere\.toml"):
        load_policy(missing)
    broken = tmp_path / "broken.toml"
    broken.write_text("[correlation\nreports = 3\n")
    with pytest.raises(PolicyError, match=r"broken\.toml"):
        load_policy(broken)
    wrong = tmp_path / "wrong.toml"
    wrong.write_text("[contact_minutes]\nrepair = { default = 60 }\n[correlation]\nreports = 3\n")
    with pytest.raises(PolicyError, match=r"wrong\.toml: contact_minutes lacks the kind"):
        load_policy(wrong)
