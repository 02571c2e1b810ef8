"""The campaign domain without a database: the campaign's states against a table written out here, what follows each
attempt outcome (counts and spacing from the policy, retries moved into the allowed hours, nobody called again by a
stopped campaign), allowed hours across midnight, the pacer on an injected clock, the message variables and the
policy file's errors. Who is called is tests/test_campaign_eligibility.py."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import pytest

from campaigns.hours import AllowedHours, Window
from campaigns.messages import (
    BillMessage,
    OutageMessage,
    RestorationMessage,
    check_message,
    message_from_json,
    message_to_json,
)
from campaigns.pacing import Pacer, PacingError
from campaigns.policy import DEFAULT_POLICY, load_policy
from campaigns.rules import (
    FINAL,
    TRANSITIONS,
    CalleeState,
    CampaignAction,
    CampaignError,
    CampaignKind,
    CampaignState,
    IllegalTransitionError,
    NextStep,
    Outcome,
    Pace,
    Retry,
    after_attempt,
    allowed_campaign_actions,
    next_campaign_state,
    parse_policy,
    unless_stopped,
)
from crm.tiers import Tier
from hotline.periods import LOCAL
from hotline.policies import PolicyError

S, A = CampaignState, CampaignAction
LEGAL = {
    (S.DRAFT, A.START): S.RUNNING,
    (S.RUNNING, A.PAUSE): S.PAUSED,
    (S.PAUSED, A.RESUME): S.RUNNING,
    (S.DRAFT, A.STOP): S.STOPPED,
    (S.RUNNING, A.STOP): S.STOPPED,
    (S.PAUSED, A.STOP): S.STOPPED,
    (S.RUNNING, A.FINISH): S.FINISHED,
    (S.PAUSED, A.FINISH): S.FINISHED,
}


def local(day: int, hour: int, minute: int = 0) -> datetime:
    """A moment in March 2026, local time (UTC+8)."""
    return datetime(2026, 3, day, hour, minute, tzinfo=LOCAL)


DAY = AllowedHours((Window.parse("08:00-12:00"), Window.parse("13:30-21:00")))
NIGHT = AllowedHours((Window.parse("22:00-06:00"),))
ALWAYS = AllowedHours((Window.parse("00:00-24:00"),))
RETRIES = {
    Outcome.BUSY: Retry(3, timedelta(minutes=10)),
    Outcome.NO_ANSWER: Retry(2, timedelta(minutes=30)),
    Outcome.FAILED: Retry(2, timedelta(minutes=5)),
}


# --- the campaign's states ---


@pytest.mark.parametrize("state", list(CampaignState))
@pytest.mark.parametrize("action", list(CampaignAction))
def test_every_state_and_action_against_the_table(state: CampaignState, action: CampaignAction) -> None:
    if (state, action) in LEGAL:
        assert next_campaign_state(state, action) is LEGAL[(state, action)]
    else:
        with pytest.raises(IllegalTransitionError, match=f"{state}.*'{action}'"):
            next_campaign_state(state, action)
    assert dict(TRANSITIONS) == LEGAL


def test_the_buttons_leave_finishing_to_the_service() -> None:
    assert allowed_campaign_actions(S.DRAFT) == (A.START, A.STOP)
    assert allowed_campaign_actions(S.RUNNING) == (A.PAUSE, A.STOP)
    assert allowed_campaign_actions(S.PAUSED) == (A.RESUME, A.STOP)
    assert allowed_campaign_actions(S.STOPPED) == () == allowed_campaign_actions(S.FINISHED)


# --- what follows an attempt ---


@pytest.mark.parametrize(
    ("outcome", "state"),
    [
        (Outcome.ANSWERED, CalleeState.REACHED),
        (Outcome.CONFIRMED, CalleeState.REACHED),
        (Outcome.TO_AGENT, CalleeState.REACHED),
        (Outcome.MACHINE, CalleeState.REACHED),  # not retried by this policy: the short message counts
        (Outcome.OPTED_OUT, CalleeState.OPTED_OUT),
        (Outcome.INVALID_NUMBER, CalleeState.GAVE_UP),
    ],
)
def test_final_outcomes_end_the_callee_at_the_first_attempt(outcome: Outcome, state: CalleeState) -> None:
    assert after_attempt(outcome, 1, local(2, 10), RETRIES, ALWAYS) == NextStep(state)
    assert FINAL[outcome] is state


@pytest.mark.parametrize(("outcome", "retry"), list(RETRIES.items()))
def test_retryable_outcomes_are_retried_with_their_spacing_until_their_count(outcome: Outcome, retry: Retry) -> None:
    at = local(2, 10)
    for attempt in range(1, retry.attempts):
        assert after_attempt(outcome, attempt, at, RETRIES, ALWAYS) == NextStep(CalleeState.PENDING, at + retry.spacing)
    assert after_attempt(outcome, retry.attempts, at, RETRIES, ALWAYS) == NextStep(CalleeState.GAVE_UP)
    assert after_attempt(outcome, retry.attempts + 5, at, RETRIES, ALWAYS).state is CalleeState.GAVE_UP


def test_the_count_is_the_callees_attempts_in_all_whatever_the_earlier_outcomes() -> None:
    # Busy, then no answer at the 2nd attempt: no_answer allows 2 in all, so that was the last.
    assert after_attempt(Outcome.NO_ANSWER, 2, local(2, 10), RETRIES, ALWAYS).state is CalleeState.GAVE_UP
    # No answer, then busy at the 2nd: busy allows 3.
    assert after_attempt(Outcome.BUSY, 2, local(2, 10), RETRIES, ALWAYS).state is CalleeState.PENDING


def test_a_machine_retried_by_the_policy_counts_as_delivered_when_the_tries_run_out() -> None:
    retries = {**RETRIES, Outcome.MACHINE: Retry(2, timedelta(hours=2))}
    assert after_attempt(Outcome.MACHINE, 1, local(2, 9), retries, ALWAYS) == NextStep(
        CalleeState.PENDING, local(2, 11)
    )
    assert after_attempt(Outcome.MACHINE, 2, local(2, 9), retries, ALWAYS) == NextStep(CalleeState.REACHED)


def test_a_retry_outside_the_hours_waits_for_the_next_window() -> None:
    # 11:55 busy + 10 minutes = 12:05, lunch: 13:30. 20:55 + 10 = 21:05: 08:00 the next day.
    assert after_attempt(Outcome.BUSY, 1, local(2, 11, 55), RETRIES, DAY).at == local(2, 13, 30)
    assert after_attempt(Outcome.BUSY, 1, local(2, 20, 55), RETRIES, DAY).at == local(3, 8)
    assert after_attempt(Outcome.BUSY, 1, local(2, 10), RETRIES, DAY).at == local(2, 10, 10)


def test_a_lost_attempt_is_offered_again_at_once_within_hours_and_not_counted() -> None:
    assert after_attempt(Outcome.LOST, 99, local(2, 10), RETRIES, DAY) == NextStep(CalleeState.PENDING, local(2, 10))
    assert after_attempt(Outcome.LOST, 1, local(2, 22), RETRIES, DAY).at == local(3, 8)


@pytest.mark.parametrize("campaign", list(CampaignState))
@pytest.mark.parametrize("state", list(CalleeState))
def test_a_stopped_campaign_cancels_whoever_would_be_called_again(campaign: CampaignState, state: CalleeState) -> None:
    expected = CalleeState.CANCELLED if (state, campaign) == (CalleeState.PENDING, S.STOPPED) else state
    assert unless_stopped(state, campaign) is expected


# --- allowed hours ---


@pytest.mark.parametrize(
    ("moment", "allowed", "next_allowed"),
    [
        (local(2, 7, 59), False, local(2, 8)),
        (local(2, 8), True, local(2, 8)),  # the start is included
        (local(2, 11, 59), True, local(2, 11, 59)),
        (local(2, 12), False, local(2, 13, 30)),  # the end is not
        (local(2, 20, 59), True, local(2, 20, 59)),
        (local(2, 21), False, local(3, 8)),
        (local(2, 23, 30), False, local(3, 8)),
        (local(3, 0, 0), False, local(3, 8)),
    ],
)
def test_day_windows(moment: datetime, allowed: bool, next_allowed: datetime) -> None:
    assert DAY.allows(moment) is allowed
    assert DAY.next_allowed(moment) == next_allowed


@pytest.mark.parametrize(
    ("moment", "allowed", "next_allowed"),
    [
        (local(2, 21, 59), False, local(2, 22)),
        (local(2, 22), True, local(2, 22)),
        (local(2, 23, 59), True, local(2, 23, 59)),
        (local(3, 0, 0), True, local(3, 0, 0)),  # past midnight: the window that opened the day before
        (local(3, 5, 59), True, local(3, 5, 59)),
        (local(3, 6), False, local(3, 22)),
        (local(3, 12), False, local(3, 22)),
    ],
)
def test_a_window_across_midnight(moment: datetime, allowed: bool, next_allowed: datetime) -> None:
    assert NIGHT.allows(moment) is allowed
    assert NIGHT.next_allowed(moment) == next_allowed


def test_hours_are_local_whatever_zone_the_moment_is_in() -> None:
    # 00:30 UTC is 08:30 in the utility's zone; the answer keeps the moment's own zone.
    assert DAY.allows(datetime(2026, 3, 2, 0, 30, tzinfo=UTC))
    found = DAY.next_allowed(datetime(2026, 3, 1, 23, 0, tzinfo=UTC))
    assert found == datetime(2026, 3, 2, 0, 0, tzinfo=UTC) and found.tzinfo is UTC
    assert ALWAYS.allows(local(2, 3)) and ALWAYS.next_allowed(local(2, 3)) == local(2, 3)
    with pytest.raises(ValueError, match="time zone"):
        DAY.allows(datetime(2026, 3, 2, 9))


@pytest.mark.parametrize("text", ["8:00-21:00", "08:00-08:00", "24:00-06:00", "08:00-24:30", "08:00", "a-b"])
def test_bad_windows_are_refused(text: str) -> None:
    with pytest.raises(ValueError):
        Window.parse(text)


def test_windows_read_back_as_written() -> None:
    assert [str(Window.parse(t)) for t in ("08:00-21:00", "22:00-06:00", "00:00-24:00")] == [
        "08:00-21:00",
        "22:00-06:00",
        "00:00-24:00",
    ]
    assert Window.parse(" 13:30 - 21:00 ") == Window(time(13, 30), time(21, 0))


# --- the pacer ---


class Seconds:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_the_pacer_spaces_starts_at_the_configured_rate() -> None:
    clock = Seconds()
    pacer = Pacer(Pace(calls_per_second=4, max_concurrent=100), clock)
    starts = []
    # Starting whenever allowed for three seconds: 4 a second, evenly.
    while clock.now < 1003.0:
        if pacer.may_start():
            pacer.start()
            starts.append(clock.now)
        clock.now += 0.05
        clock.now = round(clock.now, 2)
    assert starts == [1000.0 + 0.25 * i for i in range(12)]
    for second in (1000.0, 1001.0, 1002.0):
        assert sum(second <= s < second + 1 for s in starts) == 4


def test_the_pacer_says_when_and_refuses_an_early_start() -> None:
    clock = Seconds()
    pacer = Pacer(Pace(calls_per_second=0.5, max_concurrent=5), clock)
    assert pacer.next_start() == 1000.0 and pacer.delay() == 0.0
    pacer.start()
    assert pacer.next_start() == 1002.0 and pacer.delay() == 2.0 and not pacer.may_start()
    with pytest.raises(PacingError):
        pacer.start()
    clock.now = 1001.5
    assert pacer.delay() == 0.5
    clock.now = 1010.0  # long idle: now, not in the past
    assert pacer.next_start() == 1010.0


def test_the_pacer_keeps_at_most_max_concurrent_calls_up() -> None:
    clock = Seconds()
    pacer = Pacer(Pace(calls_per_second=10, max_concurrent=3), clock)
    for _ in range(3):
        pacer.start()
        clock.now += 0.1
    assert pacer.live == 3
    clock.now += 60
    assert pacer.next_start() is None and pacer.delay() is None and not pacer.may_start()
    pacer.ended()
    assert pacer.next_start() == clock.now
    pacer.start()
    assert pacer.live == 3
    for _ in range(3):
        pacer.ended()
    with pytest.raises(PacingError, match="no call"):
        pacer.ended()


# --- messages ---


@pytest.mark.parametrize(
    ("kind", "message"),
    [
        (CampaignKind.PLANNED_OUTAGE, OutageMessage("10千伏F1线", local(5, 8), local(5, 18), "计划检修")),
        (CampaignKind.PLANNED_OUTAGE, OutageMessage("甲变", local(5, 8), None, "电网改造")),
        (CampaignKind.RESTORATION, RestorationMessage("A1台区", local(5, 17, 40))),
        (CampaignKind.BILL_REMINDER, BillMessage(12345, date(2026, 3, 5), "4100000011")),
        (CampaignKind.ARREARS_NOTICE, BillMessage(88800, date(2026, 2, 15), "4100000011")),
    ],
)
def test_messages_go_through_json_and_back(kind: CampaignKind, message: OutageMessage) -> None:
    check_message(kind, message)
    assert message_from_json(kind, message_to_json(message)) == message


def test_messages_that_do_not_fit_are_refused() -> None:
    bill = BillMessage(100, date(2026, 3, 5), "4100000011")
    assert bill.account_tail == "0011"
    with pytest.raises(CampaignError, match="OutageMessage"):
        check_message(CampaignKind.PLANNED_OUTAGE, bill)
    with pytest.raises(CampaignError, match="ends before"):
        check_message(CampaignKind.PLANNED_OUTAGE, OutageMessage("x", local(5, 8), local(5, 7), "检修"))
    with pytest.raises(CampaignError, match="where and why"):
        check_message(CampaignKind.PLANNED_OUTAGE, OutageMessage("x", local(5, 8), None, " "))
    with pytest.raises(CampaignError, match="time zone"):
        check_message(CampaignKind.PLANNED_OUTAGE, OutageMessage("x", datetime(2026, 3, 5, 8), None, "检修"))
    with pytest.raises(CampaignError, match="above 0"):
        check_message(CampaignKind.BILL_REMINDER, BillMessage(0, date(2026, 3, 5), "4100000011"))


# --- the policy file ---


def test_the_shipped_policy_loads() -> None:
    policy = load_policy(DEFAULT_POLICY)
    assert policy.default_trunk == "carrier" and policy.pace("carrier") == Pace(2.0, 10)
    assert policy.manager_tiers == {Tier.KEY_ACCOUNT}
    assert policy.claim_timeout == timedelta(minutes=5)
    assert policy.retries[Outcome.BUSY] == Retry(3, timedelta(minutes=10))
    assert Outcome.MACHINE not in policy.retries
    assert policy.hours[CampaignKind.BILL_REMINDER] == policy.hours[CampaignKind.PLANNED_OUTAGE]
    assert not policy.hours[CampaignKind.ARREARS_NOTICE].allows(local(2, 19))
    assert policy.hours[CampaignKind.RESTORATION].allows(local(2, 21, 30))
    assert policy.next_step(CampaignKind.BILL_REMINDER, Outcome.BUSY, 1, local(2, 10)).at == local(2, 10, 10)
    with pytest.raises(CampaignError, match="no trunk"):
        policy.pace("other")


def _policy(**changes: object) -> dict[str, object]:
    data: dict[str, object] = {
        "hours": {"default": ["08:00-21:00"]},
        "retry": {
            "busy": {"attempts": 3, "spacing_minutes": 10},
            "no_answer": {"attempts": 3, "spacing_minutes": 30},
            "failed": {"attempts": 2, "spacing_minutes": 5},
        },
        "trunks": {"carrier": {"calls_per_second": 2, "max_concurrent": 10}},
        "claims": {"timeout_seconds": 300},
        "routing": {"manager_tiers": ["key_account"]},
    }
    data.update(changes)
    return data


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"extra": {}}, "unknown section"),
        ({"hours": {"restoration": ["07:00-22:00"]}}, "lacks `default`"),
        ({"hours": {"default": ["8-21"]}}, "hours.default"),
        ({"hours": {"default": []}}, "list of windows"),
        ({"hours": {"default": ["08:00-21:00"], "repair": ["08:00-21:00"]}}, "unknown kind"),
        ({"retry": {"busy": {"attempts": 3, "spacing_minutes": 10}}}, "lacks failed, no_answer"),
        ({"retry": {"answered": {"attempts": 3, "spacing_minutes": 10}}}, "not an outcome to retry"),
        ({"retry": {"busy": {"attempts": 0, "spacing_minutes": 10}}}, "retry.busy.attempts"),
        ({"retry": {"busy": {"attempts": True, "spacing_minutes": 10}}}, "retry.busy.attempts"),
        ({"retry": {"busy": {"attempts": 3}}}, "lacks spacing_minutes"),
        ({"trunks": {}}, "names no trunk"),
        ({"trunks": {"c": {"calls_per_second": 0, "max_concurrent": 1}}}, "calls_per_second"),
        ({"trunks": {"c": {"calls_per_second": 1, "max_concurrent": 0}}}, "max_concurrent"),
        ({"claims": {"timeout_seconds": -1}}, "timeout_seconds"),
        ({"routing": {"manager_tiers": ["vip"]}}, "manager_tiers"),
    ],
)
def test_policy_errors_name_the_entry(changes: dict[str, object], message: str) -> None:
    with pytest.raises(PolicyError, match=message):
        parse_policy(_policy(**changes))


def test_an_unreadable_policy_file_names_it(tmp_path: Path) -> None:
    broken = tmp_path / "c.toml"
    broken.write_text("[hours\n")
    with pytest.raises(PolicyError, match=r"c\.toml"):
        load_policy(broken)
    with pytest.raises(PolicyError, match=r"missing\.toml"):
        load_policy(tmp_path / "missing.toml")
