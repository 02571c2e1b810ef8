"""Reading the work-order policy file (工单策略, work_orders/policy.toml by default; hotline.toml's [work_orders]
policy names another): the file I/O kept out of work_orders/rules.py, whose pure parser turns the file's TOML into a
WorkOrderPolicy."""

from __future__ import annotations

from pathlib import Path

from hotline import policy_file
from work_orders.rules import WorkOrderPolicy, parse_policy

DEFAULT_POLICY = Path(__file__).with_name("policy.toml")


def load_policy(path: Path = DEFAULT_POLICY) -> WorkOrderPolicy:
    """The policy in the file at `path`; a PolicyError names the file, and the entry if one is wrong."""
    return policy_file.load(path, "work-order policy", parse_policy)
