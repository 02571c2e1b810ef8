"""Outbound notice campaigns (主动服务外呼) as plain data and pure functions: kinds and states, what each call
attempt can end in and what follows it (a retry later, or done), a trunk's pace, how an answering machine is told
from a person, and the campaign policy (外呼策略) parsed from its TOML table (campaigns/policy.py reads the file).
The hours in which customers may be called are campaigns/hours.py, who is called campaigns/eligibility.py, what
they hear campaigns/messages.py; the campaign service applies them to the database, the dialler places the calls.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from types import MappingProxyType
from typing import Any

from campaigns.hours import AllowedHours, Window
from crm.tiers import Tier
from hotline.policies import PolicyError
from hotline.policies import table as policy_table


class CampaignKind(StrEnum):
    """What a campaign tells its customers."""

    PLANNED_OUTAGE = "planned_outage"  # 计划停电通知: everyone the planned work will cut off
    RESTORATION = "restoration"  # 复电通知: those who reported an outage, now that power is back
    BILL_REMINDER = "bill_reminder"  # 电费提醒: a bill falls due soon
    ARREARS_NOTICE = "arrears_notice"  # 欠费催缴: a bill is past its due date


class CampaignState(StrEnum):
    """Where a campaign is (外呼任务状态)."""

    DRAFT = "draft"  # built, its list can be checked; nobody is called yet
    RUNNING = "running"  # callees are offered to the diallers
    PAUSED = "paused"  # no new call; calls already placed end and are recorded
    STOPPED = "stopped"  # for good: whoever was not reached is not called
    FINISHED = "finished"  # every callee is done


class CampaignAction(StrEnum):
    START = "start"
    PAUSE = "pause"
    RESUME = "resume"
    STOP = "stop"
    FINISH = "finish"  # by the service, when the last callee is done; not a button


TRANSITIONS: Mapping[tuple[CampaignState, CampaignAction], CampaignState] = MappingProxyType(
    {
        (CampaignState.DRAFT, CampaignAction.START): CampaignState.RUNNING,
        (CampaignState.RUNNING, CampaignAction.PAUSE): CampaignState.PAUSED,
        (CampaignState.PAUSED, CampaignAction.RESUME): CampaignState.RUNNING,
        (CampaignState.DRAFT, CampaignAction.STOP): CampaignState.STOPPED,
        (CampaignState.RUNNING, CampaignAction.STOP): CampaignState.STOPPED,
        (CampaignState.PAUSED, CampaignAction.STOP): CampaignState.STOPPED,
        # A paused campaign finishes too: the calls in flight when it was paused may be its last.
        (CampaignState.RUNNING, CampaignAction.FINISH): CampaignState.FINISHED,
        (CampaignState.PAUSED, CampaignAction.FINISH): CampaignState.FINISHED,
    }
)
# A campaign in these states will never call anyone again.
CLOSED_STATES = frozenset({CampaignState.STOPPED, CampaignState.FINISHED})


class CampaignError(Exception):
    """A request campaigns do not allow; the message says why, in words fit for the person who asked."""


class IllegalTransitionError(CampaignError):
    def __init__(self, state: CampaignState, action: CampaignAction) -> None:
        super().__init__(f"a campaign that is {state} cannot be given '{action}'")
        self.state = state
        self.action = action


def next_campaign_state(state: CampaignState, action: CampaignAction) -> CampaignState:
    target = TRANSITIONS.get((state, action))
    if target is None:
        raise IllegalTransitionError(state, action)
    return target


def allowed_campaign_actions(state: CampaignState) -> tuple[CampaignAction, ...]:
    """The buttons a page shows for a campaign in `state` (finishing is the service's, not a person's)."""
    return tuple(a for a in CampaignAction if a is not CampaignAction.FINISH and (state, a) in TRANSITIONS)


# --- callees and the outcomes of their attempts ---


class CalleeState(StrEnum):
    """Where one customer on a campaign's list is (外呼对象状态)."""

    PENDING = "pending"  # waits for an attempt at next_attempt_at
    DIALLING = "dialling"  # claimed by a dialler: an attempt is in flight
    REACHED = "reached"  # heard the message (a person, or their answering machine)
    OPTED_OUT = "opted_out"  # asked not to be called for this kind of notice
    GAVE_UP = "gave_up"  # the attempts ran out, or the number cannot be called
    CANCELLED = "cancelled"  # the campaign was stopped first


# A callee in these states is done: it is never offered again.
DONE_STATES = frozenset({CalleeState.REACHED, CalleeState.OPTED_OUT, CalleeState.GAVE_UP, CalleeState.CANCELLED})


class Outcome(StrEnum):
    """How one call attempt ended (外呼结果)."""

    ANSWERED = "answered"  # a person heard the message and pressed nothing, or 1 (repeat) only
    CONFIRMED = "confirmed"  # a person pressed 2: heard and understood
    TO_AGENT = "to_agent"  # a person pressed 0 and was put through to an agent
    MACHINE = "machine"  # an answering machine took the shorter message
    BUSY = "busy"
    NO_ANSWER = "no_answer"
    FAILED = "failed"  # the trunk or the network failed the call
    INVALID_NUMBER = "invalid_number"  # the number does not exist (cause 1): calling again cannot help
    OPTED_OUT = "opted_out"  # a person asked not to be called for this kind of notice again
    # Set by the service, never by a dialler: claimed, and never reported within the claim timeout (the dialler
    # went away). Not counted as an attempt: the callee is offered again at once.
    LOST = "lost"


# What a final outcome makes of the callee. Retryable outcomes (RETRYABLE) lead to PENDING or GAVE_UP instead.
FINAL: Mapping[Outcome, CalleeState] = MappingProxyType(
    {
        Outcome.ANSWERED: CalleeState.REACHED,
        Outcome.CONFIRMED: CalleeState.REACHED,
        Outcome.TO_AGENT: CalleeState.REACHED,
        Outcome.MACHINE: CalleeState.REACHED,
        Outcome.INVALID_NUMBER: CalleeState.GAVE_UP,
        Outcome.OPTED_OUT: CalleeState.OPTED_OUT,
    }
)
# Outcomes the policy may retry. Busy, no answer and failed must be given; an answering machine may be (to reach a
# person after all), else the machine's message counts as delivered.
RETRYABLE = frozenset({Outcome.BUSY, Outcome.NO_ANSWER, Outcome.FAILED, Outcome.MACHINE})
MUST_RETRY = frozenset({Outcome.BUSY, Outcome.NO_ANSWER, Outcome.FAILED})
# What a dialler may report.
REPORTABLE = frozenset(Outcome) - {Outcome.LOST}


@dataclass(frozen=True)
class Retry:
    """After this outcome, call again `spacing` later, unless the callee has had `attempts` attempts in all."""

    attempts: int
    spacing: timedelta


@dataclass(frozen=True)
class NextStep:
    """What follows an attempt: the callee's new state and, when it is to be called again, from when."""

    state: CalleeState
    at: datetime | None = None


def after_attempt(
    outcome: Outcome,
    attempts: int,
    at: datetime,
    retries: Mapping[Outcome, Retry],
    hours: AllowedHours,
) -> NextStep:
    """The rule after an attempt that ended in `outcome` at `at`, being the callee's `attempts`-th counted one: done
    for a final outcome (or a retryable one the policy does not retry); given up once the attempts for this outcome
    are spent; else pending again `spacing` later, moved on to the next allowed moment if that falls outside hours.
    A lost attempt is offered again at once (within hours): it is not counted."""
    if outcome is Outcome.LOST:
        return NextStep(CalleeState.PENDING, hours.next_allowed(at))
    retry = retries.get(outcome)
    if retry is None:
        return NextStep(FINAL.get(outcome, CalleeState.GAVE_UP))
    if attempts >= retry.attempts:
        # An answering machine was the last try: the short message was left, so the notice is delivered.
        return NextStep(CalleeState.REACHED if outcome is Outcome.MACHINE else CalleeState.GAVE_UP)
    return NextStep(CalleeState.PENDING, hours.next_allowed(at + retry.spacing))


def unless_stopped(state: CalleeState, campaign: CampaignState) -> CalleeState:
    """A callee who would be due for another call is cancelled instead when their campaign was stopped: a stopped
    campaign calls nobody again, whether the callee's last attempt ended or was lost."""
    if state is CalleeState.PENDING and campaign is CampaignState.STOPPED:
        return CalleeState.CANCELLED
    return state


# --- the pace of calls on a trunk ---


@dataclass(frozen=True)
class Pace:
    """How fast a trunk may be dialled: at most `calls_per_second` call starts in any second, and at most
    `max_concurrent` calls up at once (the carrier's limits)."""

    calls_per_second: float
    max_concurrent: int

    @property
    def spacing(self) -> float:
        """Seconds between two starts: even spacing keeps every one-second window within the rate."""
        return 1.0 / self.calls_per_second


# --- answering machines ---


@dataclass(frozen=True)
class MachineDetection:
    """Whether answered notice calls are first listened to by Asterisk's AMD (dialplans/outbound.conf, amd.conf),
    so that an answering machine gets the shorter message; and whether a callee who answers and says nothing (AMD's
    INITIALSILENCE) is taken for a machine. People often answer a strange number in silence: by default they are
    taken for a person and hear the whole notice."""

    detect: bool = False
    silence_is_machine: bool = False

    def is_machine(self, status: str, cause: str) -> bool:
        """AMD's verdict (AMDSTATUS, AMDCAUSE) as the dialler acts on it. NOTSURE and anything unknown is a person:
        a person hung up on by mistake is worse than a machine that hears the whole notice."""
        if status.upper() != "MACHINE":
            return False
        return self.silence_is_machine or not cause.upper().startswith("INITIALSILENCE")


# --- the policy (campaigns/policy.toml; campaigns/policy.py reads the file) ---


@dataclass(frozen=True)
class CampaignPolicy:
    """The campaign policy: the hours per kind, the retries per outcome, each trunk's pace (the first listed is the
    default), how long a dialler's claim holds, the tiers told by their account manager, and machine detection."""

    hours: Mapping[CampaignKind, AllowedHours]
    retries: Mapping[Outcome, Retry]
    trunks: Mapping[str, Pace]
    default_trunk: str
    claim_timeout: timedelta
    manager_tiers: frozenset[Tier]
    machines: MachineDetection = MachineDetection()

    def pace(self, trunk: str) -> Pace:
        """The pace of `trunk`; a trunk the policy does not name is refused (CampaignError)."""
        if trunk not in self.trunks:
            raise CampaignError(f"there is no trunk {trunk!r} in the campaign policy (known: {', '.join(self.trunks)})")
        return self.trunks[trunk]

    def next_step(self, kind: CampaignKind, outcome: Outcome, attempts: int, at: datetime) -> NextStep:
        """What follows an attempt of a `kind` campaign (after_attempt, with this policy's retries and hours)."""
        return after_attempt(outcome, attempts, at, self.retries, self.hours[kind])


_SECTIONS = {"hours", "retry", "trunks", "claims", "routing", "machines"}


def parse_policy(data: Mapping[str, Any]) -> CampaignPolicy:
    """The policy from the policy file's tables (as tomllib reads them); a PolicyError names the entry at fault."""
    unknown = set(data) - _SECTIONS
    if unknown:
        raise PolicyError(f"unknown section(s) {', '.join(sorted(unknown))}")
    trunks, default_trunk = _trunks(policy_table(data, "trunks"))
    claims = policy_table(data, "claims")
    _known("claims", claims, {"timeout_seconds"})
    routing = policy_table(data, "routing")
    _known("routing", routing, {"manager_tiers"})
    return CampaignPolicy(
        hours=_hours(policy_table(data, "hours")),
        retries=_retries(policy_table(data, "retry")),
        trunks=trunks,
        default_trunk=default_trunk,
        claim_timeout=timedelta(seconds=_positive("claims.timeout_seconds", claims.get("timeout_seconds"))),
        manager_tiers=_tiers(routing.get("manager_tiers")),
        machines=_machines(data.get("machines", {})),
    )


def _known(where: str, table: Mapping[str, Any], keys: set[str]) -> None:
    unknown = set(table) - keys
    if unknown:
        raise PolicyError(f"{where}: unknown key(s) {', '.join(sorted(unknown))}")
    missing = keys - set(table)
    if missing:
        raise PolicyError(f"{where} lacks {', '.join(sorted(missing))}")


def _positive(where: str, value: Any) -> int:
    # bool is an int in Python; `true` is a slip, not 1.
    if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
        raise PolicyError(f"{where} must be a whole number above 0, not {value!r}")
    return value


def _hours(table: Mapping[str, Any]) -> Mapping[CampaignKind, AllowedHours]:
    kinds = {k.value: k for k in CampaignKind}
    unknown = set(table) - {"default", *kinds}
    if unknown:
        raise PolicyError(f"hours: unknown kind(s) {', '.join(sorted(unknown))} (known: default, {', '.join(kinds)})")
    if "default" not in table:
        raise PolicyError("hours lacks `default`")
    parsed: dict[str, AllowedHours] = {}
    for name, windows in table.items():
        if not isinstance(windows, list) or not windows or not all(isinstance(w, str) for w in windows):
            raise PolicyError(f'hours.{name} must be a list of windows such as ["08:00-21:00"]')
        try:
            parsed[name] = AllowedHours(tuple(Window.parse(w) for w in windows))
        except ValueError as exc:
            raise PolicyError(f"hours.{name}: {exc}") from exc
    return MappingProxyType({kind: parsed.get(kind.value, parsed["default"]) for kind in CampaignKind})


def _retries(table: Mapping[str, Any]) -> Mapping[Outcome, Retry]:
    outcomes = {o.value: o for o in RETRYABLE}
    retries: dict[Outcome, Retry] = {}
    for name, entry in table.items():
        if name not in outcomes:
            raise PolicyError(f"retry.{name}: not an outcome to retry (those are: {', '.join(sorted(outcomes))})")
        if not isinstance(entry, dict):
            raise PolicyError(f"retry.{name} must be a table such as {{ attempts = 3, spacing_minutes = 10 }}")
        _known(f"retry.{name}", entry, {"attempts", "spacing_minutes"})
        retries[outcomes[name]] = Retry(
            _positive(f"retry.{name}.attempts", entry["attempts"]),
            timedelta(minutes=_positive(f"retry.{name}.spacing_minutes", entry["spacing_minutes"])),
        )
    missing = sorted(o.value for o in MUST_RETRY if o not in retries)
    if missing:
        raise PolicyError(f"retry lacks {', '.join(missing)}")
    return MappingProxyType(retries)


def _trunks(table: Mapping[str, Any]) -> tuple[Mapping[str, Pace], str]:
    if not table:
        raise PolicyError("[trunks] names no trunk")
    trunks: dict[str, Pace] = {}
    for name, entry in table.items():
        if not isinstance(entry, dict):
            raise PolicyError(f"trunks.{name} must be a table such as {{ calls_per_second = 2, max_concurrent = 10 }}")
        _known(f"trunks.{name}", entry, {"calls_per_second", "max_concurrent"})
        rate = entry["calls_per_second"]
        if not isinstance(rate, int | float) or isinstance(rate, bool) or rate <= 0:
            raise PolicyError(f"trunks.{name}.calls_per_second must be a number above 0, not {rate!r}")
        trunks[name] = Pace(float(rate), _positive(f"trunks.{name}.max_concurrent", entry["max_concurrent"]))
    # The first trunk listed is the one campaigns use unless they name another.
    return MappingProxyType(trunks), next(iter(trunks))


def _machines(table: Any) -> MachineDetection:
    """[machines], optional: without it nothing is detected."""
    if not isinstance(table, dict):
        raise PolicyError('machines must be a table such as { detect = true, silence = "person" }')
    unknown = set(table) - {"detect", "silence"}
    if unknown:
        raise PolicyError(f"machines: unknown key(s) {', '.join(sorted(unknown))}")
    detect = table.get("detect", False)
    if not isinstance(detect, bool):
        raise PolicyError(f"machines.detect must be true or false, not {detect!r}")
    silence = table.get("silence", "person")
    if silence not in ("person", "machine"):
        raise PolicyError(f'machines.silence must be "person" or "machine", not {silence!r}')
    return MachineDetection(detect, silence == "machine")


def _tiers(value: Any) -> frozenset[Tier]:
    tiers = {t.value: t for t in Tier}
    if not isinstance(value, list) or not all(isinstance(v, str) and v in tiers for v in value):
        raise PolicyError(f"routing.manager_tiers must be a list of tiers ({', '.join(tiers)}), not {value!r}")
    return frozenset(tiers[v] for v in value)
