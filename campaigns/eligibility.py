"""Who a campaign calls (外呼对象), as pure functions: who gets a robot call and who a task for their key-account
manager. The campaign service applies them to what it reads from the database."""

from __future__ import annotations

from enum import StrEnum

from crm.tiers import Tier


class Route(StrEnum):
    ROBOT = "robot"  # an automatic voice call
    MANAGER = "manager"  # a task on the account manager's list (大客户经理): a key account hears it from a person


def route_for(tier: Tier, manager_tiers: frozenset[Tier]) -> Route:
    """Key accounts (and any other tier the policy names) are told by their account manager, never by a robot;
    one without a manager still gets a task (unassigned), for the supervisors to give to someone."""
    return Route.MANAGER if tier in manager_tiers else Route.ROBOT
