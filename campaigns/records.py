"""What the campaign service hands out (外呼记录): a campaign's summary and progress, a claimed attempt and what
its outcome did, a manager's task; and the errors it refuses a request with. Plain frozen data, read by the pages,
the monitor and the dialler."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from campaigns.messages import Message
from campaigns.rules import DONE_STATES, CalleeState, CampaignError, CampaignKind, CampaignState, Outcome


class UnknownCampaignError(CampaignError):
    """No campaign has the id asked for."""


class InvalidRequestError(CampaignError):
    """Missing or malformed input: an unknown outage, an outage still on, criteria that select nothing sensible."""


# --- what goes out ---


@dataclass(frozen=True)
class CampaignSummary:
    """A campaign as its list shows it: what, where it is, who made it and when, how many callees and tasks."""

    id: int
    kind: CampaignKind
    state: CampaignState
    name: str
    trunk: str
    outage_id: int | None
    created_by: str
    created_at: datetime
    started_at: datetime | None
    ended_at: datetime | None
    callees: int
    tasks: int


@dataclass(frozen=True)
class CreatedCampaign:
    """A new campaign (a draft) and who its selection left out."""

    campaign: CampaignSummary
    opted_out: int  # selected, but asked not to be called for this kind
    without_phone: int  # selected, but no number to call


@dataclass(frozen=True)
class Attempt:
    """A callee claimed for one call: whom to call on which trunk, in which language, with what message. The
    dialler reports how it ended with record_outcome(attempt, ...)."""

    id: int
    campaign_id: int
    callee_id: int
    customer_id: int | None
    kind: CampaignKind
    phone: str
    language: str
    trunk: str
    number: int  # the callee's attempt number, 1 for the first
    claim_token: str
    claimed_at: datetime
    message: Message


@dataclass(frozen=True)
class Recorded:
    """What an outcome did. `late`: the claim had been released (the dialler took too long) before the report came;
    the attempt is recorded all the same, and the callee moved on only if nobody had claimed it since."""

    attempt_id: int
    outcome: Outcome
    callee_state: CalleeState
    next_attempt_at: datetime | None
    campaign_state: CampaignState
    late: bool = False
    duplicate: bool = False  # this attempt had been reported already: nothing changed


@dataclass(frozen=True)
class Progress:
    """A campaign on the supervisor monitor: its callees by state, its attempts by outcome, its managers' tasks."""

    campaign_id: int
    kind: CampaignKind
    state: CampaignState
    name: str
    callees: int
    by_state: Mapping[CalleeState, int]
    attempts: int  # reported, lost included
    by_outcome: Mapping[Outcome, int]
    in_flight: int
    tasks: int
    tasks_done: int

    @property
    def done(self) -> int:
        return sum(n for state, n in self.by_state.items() if state in DONE_STATES)


@dataclass(frozen=True)
class TaskLine:
    """A notice for a key account's manager to give in person."""

    id: int
    campaign_id: int
    kind: CampaignKind
    customer_id: int
    customer_name: str
    account_id: int | None
    agent_id: int | None
    phone: str
    message: Message
    created_at: datetime
    done_at: datetime | None
    notes: str
