"""The routing policy as pure data: priorities by tier, the steps each caller follows, an agent's groups."""

from __future__ import annotations

from pathlib import Path

import pytest

from cti.acd import policy, routing
from cti.acd.store import call_score


def test_key_accounts_start_with_their_manager_and_others_skip_those_steps() -> None:
    p = routing.load()
    key = p.steps_for("billing", "key_account")
    assert [s.target for s in key] == ["manager", "team:key_accounts", "skill:billing", "all"]
    assert [s.target for s in p.steps_for("billing", "standard")] == ["skill:billing", "all"]
    assert key[0].group("1001") == "agent:1001"
    assert key[0].group(None) is None  # no manager: the step names no one and is skipped


def test_unknown_intents_follow_the_general_workflow() -> None:
    p = routing.load()
    assert p.steps_for("astrology", "standard") == p.steps_for("general", "standard")


def test_priority_orders_before_arrival() -> None:
    p = routing.load()
    key, standard, attention = (p.priority_of(t) for t in ("key_account", "standard", "attention"))
    assert key > standard > attention
    # A key account who arrived later is still served before a standard caller who has waited.
    assert call_score(key, 2_000_000_000_000) < call_score(standard, 1_000_000_000_000)
    assert call_score(standard, 1_000) < call_score(standard, 2_000)
    assert p.priority_of("unheard-of") == standard


def test_an_agents_groups() -> None:
    agent = policy.AgentProfile("1001", ("billing", "repair"), ("key_accounts",))
    assert agent.groups() == ("agent:1001", "skill:billing", "skill:repair", "team:key_accounts", "all")


def test_every_agent_takes_general_calls_and_a_key_account_skill_makes_them_one_of_the_team() -> None:
    assert policy.agent_profile("1001", ("billing",)) == policy.AgentProfile("1001", ("general", "billing"), ())
    manager = policy.agent_profile("1002", ("key_account", "general"), ("night",))
    assert manager == policy.AgentProfile("1002", ("general", "key_account"), ("night", "key_accounts"))
    assert "team:key_accounts" in manager.groups() and "skill:general" in manager.groups()
    assert policy.agent_profile("1003", ("key_account",), ("key_accounts",)).teams == ("key_accounts",)


def test_a_policy_without_a_general_workflow_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "p.toml"
    path.write_text('[[workflow.billing]]\ntarget = "all"\ntimeout = 0\n')
    with pytest.raises(policy.PolicyError, match="general"):
        routing.load(path)


def test_an_unknown_target_is_named(tmp_path: Path) -> None:
    path = tmp_path / "p.toml"
    path.write_text('[[workflow.general]]\ntarget = "everybody"\ntimeout = 0\n')
    with pytest.raises(policy.PolicyError, match=r"workflow\.general\[0\]: unknown target 'everybody'"):
        routing.load(path)


def test_a_policy_is_parsed_from_its_tables_without_a_file() -> None:
    tables = {"workflow": {"general": [{"target": "all"}]}, "priority": {"standard": 5}, "timing": {"wrap_up": 3}}
    p = policy.parse(tables)
    assert p.steps_for("billing", "standard") == (policy.Step("all", 0),)
    assert p.priority_of("key_account") == 5
    assert p.timing.wrap_up == 3
    assert p.timing.ring_timeout == policy.Timing().ring_timeout


def test_a_missing_policy_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(policy.PolicyError, match=r"routing policy .*nowhere\.toml"):
        routing.load(tmp_path / "nowhere.toml")
