"""The routing policy as plain data and pure functions (no I/O): caller priority by customer tier, each intent's
ordered steps, and the groups an agent belongs to. Read from routing.toml by the one policy-file reader
(cti/acd/routing.py, through hotline/policy_file.py); `parse` turns the file's tables into a Policy."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from crm.vocabulary import Intent
from hotline.policies import PolicyError

GENERAL = Intent.GENERAL
# The skill that makes an agent one of the key-account team (大客户服务), the target "team:key_accounts".
TEAM_OF_SKILL = {"key_account": "key_accounts"}


@dataclass(frozen=True)
class Step:
    target: str
    timeout: int
    tiers: tuple[str, ...] = ()

    def applies_to(self, tier: str) -> bool:
        return not self.tiers or tier in self.tiers

    def group(self, manager: str | None) -> str | None:
        """The Redis group this step offers the call to; None when the step has no one to name (no manager)."""
        if self.target == "manager":
            return f"agent:{manager}" if manager else None
        return self.target


@dataclass(frozen=True)
class Timing:
    ring_timeout: int = 15
    wrap_up: int = 10
    max_misses: int = 2
    holdback: int = 30
    announce_every: int = 30


@dataclass(frozen=True)
class Policy:
    priority: dict[str, int]
    workflows: dict[str, tuple[Step, ...]]
    timing: Timing = field(default_factory=Timing)

    def priority_of(self, tier: str) -> int:
        return self.priority.get(tier, self.priority.get("standard", 0))

    def steps_for(self, intent: str, tier: str) -> tuple[Step, ...]:
        """The steps that apply to this caller, in order; unknown intents follow the general workflow."""
        workflow = self.workflows.get(intent) or self.workflows[GENERAL]
        return tuple(step for step in workflow if step.applies_to(tier))


@dataclass(frozen=True)
class AgentProfile:
    """Who an agent is for routing: skills, teams, the county office they sit in."""

    agent_id: str
    skills: tuple[str, ...] = ()
    teams: tuple[str, ...] = ()
    county: str = ""

    def groups(self) -> tuple[str, ...]:
        """Every group a call can be offered to that includes this agent."""
        return (
            f"agent:{self.agent_id}",
            *(f"skill:{s}" for s in self.skills),
            *(f"team:{t}" for t in self.teams),
            "all",
        )


def agent_profile(agent_id: str, skills: tuple[str, ...] = (), teams: tuple[str, ...] = ()) -> AgentProfile:
    """The routing profile of an agent logging in with these skills (from the staff records, or named at the CLI):
    every agent also takes general calls (those the IVR could not put in a kind), and a skill that belongs to a team
    (TEAM_OF_SKILL) makes them one of that team besides the teams named."""
    every_skill = tuple(dict.fromkeys((GENERAL, *skills)))
    from_skills = (team for skill, team in TEAM_OF_SKILL.items() if skill in every_skill)
    return AgentProfile(agent_id, every_skill, tuple(dict.fromkeys((*teams, *from_skills))))


def parse(data: Mapping[str, Any]) -> Policy:
    """A routing policy from a policy file's tables: [priority], [timing] and each intent's [[workflow.<intent>]]
    steps; a PolicyError naming the entry that is not usable."""
    workflows: dict[str, tuple[Step, ...]] = {}
    for intent, steps in data.get("workflow", {}).items():
        parsed = []
        for i, step in enumerate(steps):
            target = str(step.get("target", ""))
            if not (target in ("manager", "all") or target.split(":", 1)[0] in ("team", "skill", "agent")):
                raise PolicyError(f"workflow.{intent}[{i}]: unknown target {target!r}")
            parsed.append(Step(target, int(step.get("timeout", 0)), tuple(step.get("tiers", ()))))
        workflows[intent] = tuple(parsed)
    if GENERAL not in workflows:
        raise PolicyError("a [[workflow.general]] is required: it routes every call of no known intent")
    return Policy(
        priority={str(k): int(v) for k, v in data.get("priority", {}).items()},
        workflows=workflows,
        timing=Timing(**{k: int(v) for k, v in data.get("timing", {}).items()}),
    )
