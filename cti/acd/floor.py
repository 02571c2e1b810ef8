"""The live floor as the supervisor's monitor shows it: agents, calls and their supervisions, and per group and per
tier the calls waiting and the longest wait. Pure: built from what the store read in one round trip."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypedDict


@dataclass(frozen=True)
class FloorData:
    """The live floor as Redis holds it: agents' and calls' hashes, and each call's supervisions."""

    agents: dict[str, dict[str, str]]
    calls: dict[str, dict[str, str]]
    supervisions: dict[str, dict[str, dict[str, str]]]


class AgentView(TypedDict):
    id: str
    state: str
    since_ms: int
    pause_reason: str
    paused_by: str
    pending: str  # "pause" or "logout" asked for by a supervisor during a call, else ""
    seat: str
    groups: list[str]
    call: str | None
    caller: str | None
    tier: str | None


class SupervisionView(TypedDict):
    id: str
    mode: str
    seat: str
    by: str
    state: str  # ringing (the supervisor's seat) or active


class CallView(TypedDict):
    id: str
    state: str
    group: str
    priority: int
    tier: str
    intent: str
    entered_ms: int
    agent: str | None
    caller: str
    transfers: int
    supervisions: list[SupervisionView]


class Waiting(TypedDict):
    waiting: int
    longest_wait_ms: int


class GroupView(Waiting):
    agents: int  # logged in
    ready: int


class FloorView(TypedDict):
    at_ms: int
    agents: list[AgentView]
    calls: list[CallView]
    groups: dict[str, GroupView]
    tiers: dict[str, Waiting]


def floor_view(data: FloorData, now: int) -> FloorView:
    """The floor from Redis's hashes: agents by id, calls by arrival, and per group (personal agent:… groups only
    when a call waits there) and per tier the calls waiting and the longest wait."""
    calls: list[CallView] = []
    for call, f in data.calls.items():
        supervisions = data.supervisions.get(call, {})
        calls.append(
            CallView(
                id=call,
                state=f.get("state", ""),
                group=f.get("group", ""),
                priority=int(f.get("priority") or 0),
                tier=f.get("tier", ""),
                intent=f.get("intent", ""),
                entered_ms=int(f.get("entered") or now),
                agent=f.get("agent") or None,
                caller=f.get("caller", ""),
                transfers=int(f.get("transfers") or 0),
                supervisions=[
                    SupervisionView(
                        id=sid,
                        mode=s.get("mode", ""),
                        seat=s.get("seat", ""),
                        by=s.get("by", ""),
                        state=s.get("state", ""),
                    )
                    for sid, s in sorted(supervisions.items())
                ],
            )
        )
    calls.sort(key=lambda c: (c["entered_ms"], c["id"]))
    by_id = {c["id"]: c for c in calls}
    groups: dict[str, GroupView] = {}
    agents: list[AgentView] = []
    for agent, f in sorted(data.agents.items()):
        current = by_id.get(f.get("call", ""))
        names = f.get("groups", "").split()
        agents.append(
            AgentView(
                id=agent,
                state=f.get("state", ""),
                since_ms=int(f.get("since") or now),
                pause_reason=f.get("pause_reason", ""),
                paused_by=f.get("paused_by", ""),
                pending=f.get("pending", ""),
                seat=f.get("seat", ""),
                groups=names,
                call=current["id"] if current else None,
                caller=current["caller"] if current else None,
                tier=current["tier"] if current else None,
            )
        )
        for name in names:
            group = groups.setdefault(name, GroupView(waiting=0, longest_wait_ms=0, agents=0, ready=0))
            group["agents"] += 1
            group["ready"] += int(f.get("state") == "ready")
    tiers: dict[str, Waiting] = {}
    for c in calls:
        if c["state"] != "waiting":
            continue
        waited = max(now - c["entered_ms"], 0)
        group = groups.setdefault(c["group"], GroupView(waiting=0, longest_wait_ms=0, agents=0, ready=0))
        tier = tiers.setdefault(c["tier"], Waiting(waiting=0, longest_wait_ms=0))
        for line in (group, tier):
            line["waiting"] += 1
            line["longest_wait_ms"] = max(line["longest_wait_ms"], waited)
    # Every agent is alone in a personal group: it is worth a line only while a call waits for that agent.
    groups = {name: g for name, g in sorted(groups.items()) if g["waiting"] or not name.startswith("agent:")}
    return FloorView(at_ms=now, agents=agents, calls=calls, groups=groups, tiers=tiers)
