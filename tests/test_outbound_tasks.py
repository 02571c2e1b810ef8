"""The dialler's own tasks for a call, without a call: the wait for a callee's key is kept with the call's other
tasks (the dialler cancels those left when it stops), and one that fails is logged with the call's uniqueid instead
of vanishing. The ARI client here fails on purpose; what a real call does is tests/test_campaign_calls.py's."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import cast

import pytest

from campaigns.messages import OutageMessage
from campaigns.policy import load_policy
from campaigns.records import Attempt, Recorded
from campaigns.rules import CalleeState, CampaignKind, CampaignState, Outcome
from campaigns.service import CampaignService
from cti.ari import Ari
from cti.outbound.services import Call, OutboundCalls
from hotline.logs import setup
from ivr import speech

NOW = datetime(2026, 5, 4, 2, 0, tzinfo=UTC)
CHANNEL = "outbound-7-0a1b2c3d"


class FailingAri:
    """An ARI client whose playbacks fail with an error nobody expects (not an AriError)."""

    async def play(self, channel: str, media: str, playback_id: str) -> None:
        raise RuntimeError("the ARI client fell over")

    async def hangup(self, channel: str) -> None:
        raise RuntimeError("the ARI client fell over")


class RecordingService:
    """The campaign service's two parts the calls use: its policy and the outcome's record."""

    policy = load_policy()

    def __init__(self) -> None:
        self.recorded: list[Outcome] = []

    def clock(self) -> datetime:
        return NOW

    def record_outcome(self, attempt: Attempt, outcome: Outcome) -> Recorded:
        self.recorded.append(outcome)
        return Recorded(attempt.id, outcome, CalleeState.REACHED, None, CampaignState.RUNNING)


def _call() -> Call:
    message = OutageMessage("x台区", NOW + timedelta(days=1), NOW + timedelta(days=1, hours=8), "计划检修")
    attempt = Attempt(7, 3, 11, None, CampaignKind.PLANNED_OUTAGE, "13800138000", "zh", "carrier", 1, "t", NOW, message)
    return Call(attempt, CHANNEL, "carrier", 0.0, answered=True, plays=1, playback="outpb-7-1")


@pytest.fixture
def root_logger_restored() -> Iterator[None]:
    """setup() puts its handler on this test's captured stderr: pytest's handlers come back after."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


def test_the_key_timer_is_kept_and_its_failure_logged_with_the_uniqueid(
    capsys: pytest.CaptureFixture[str], root_logger_restored: None
) -> None:
    setup()
    service = RecordingService()
    ended: list[Call] = []

    async def scenario() -> None:
        calls = OutboundCalls(
            cast(Ari, FailingAri()), cast(CampaignService, service), speech, app="hotline-outbound",
            ended=ended.append, key_wait_s=0.05,
        )  # fmt: skip
        call = _call()
        calls.calls[CHANNEL] = call
        # The notice ended: the wait for a key starts, one of the call's tasks.
        await calls.playback_finished(CHANNEL, "outpb-7-1")
        timer = call.key_timer
        assert timer is not None and timer in calls.tasks
        # No key: the callee is thanked, but the goodbye cannot be played (the client fails).
        await asyncio.wait([timer], timeout=5)
        assert timer.done() and timer not in calls.tasks

    asyncio.run(scenario())
    assert service.recorded == [Outcome.ANSWERED]
    lines = [line for line in capsys.readouterr().err.splitlines() if "key-timer failed" in line]
    assert len(lines) == 1
    assert f"[{CHANNEL}]" in lines[0] and "attempt 7" in lines[0]
