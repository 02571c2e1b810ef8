"""A campaign's progress as the pages show it (campaigns.js and monitor.js draw the figures by these names): the
figures of one campaign, and the monitor's section of the running and paused ones."""

from __future__ import annotations

from typing import Any

from campaigns.records import Progress
from campaigns.rules import CalleeState, Outcome
from campaigns.service import CampaignService

# The figures the pages show, in this order.
PAGE_FIGURES = ("total", "done", "confirmed", "to_agent", "machine", "retrying", "failed", "lost", "tasks")
MONITOR_FIGURES = ("total", "done", "confirmed", "to_agent", "machine", "retrying", "in_flight", "failed", "lost")


def figures(progress: Progress, retrying: int) -> dict[str, int]:
    """A campaign's progress as the monitor and the campaigns page show it: callees (total, done, reached), what
    the calls ended in, who waits for another try, and the managers' tasks."""
    state, outcome = progress.by_state, progress.by_outcome
    return {
        "total": progress.callees,
        "done": progress.done,
        "reached": state[CalleeState.REACHED],
        "confirmed": outcome[Outcome.CONFIRMED],
        "to_agent": outcome[Outcome.TO_AGENT],
        "machine": outcome[Outcome.MACHINE],
        "busy": outcome[Outcome.BUSY],
        "no_answer": outcome[Outcome.NO_ANSWER],
        "retrying": retrying,
        "in_flight": progress.in_flight,
        "failed": state[CalleeState.GAVE_UP],
        "lost": outcome[Outcome.LOST],
        "opted_out": state[CalleeState.OPTED_OUT],
        "cancelled": state[CalleeState.CANCELLED],
        "tasks": progress.tasks,
        "tasks_done": progress.tasks_done,
    }


def active(service: CampaignService) -> list[dict[str, Any]]:
    """The running and paused campaigns with their figures: the monitor's campaign section."""
    found = service.active_progress()
    retrying = service.retrying(p.campaign_id for p in found)
    return [
        {
            "id": p.campaign_id,
            "kind": p.kind.value,
            "state": p.state.value,
            "name": p.name,
            **figures(p, retrying.get(p.campaign_id, 0)),
        }
        for p in found
    ]
