"""What every policy's parser shares (the work orders', the campaigns', the ACD's routing): the one error type, whose
message names the entry (and, once hotline/policy_file.py has read the file, the file), and reading a table. Pure:
the rules modules that parse policies import this, never the file reader."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


class PolicyError(Exception):
    """A policy is not usable; the message names the file and the entry."""


def table(data: Mapping[str, Any], name: str) -> Mapping[str, Any]:
    """The table `name` of a parsed policy; a PolicyError if it is missing or not a table."""
    value = data.get(name)
    if not isinstance(value, dict):
        raise PolicyError(f"[{name}] is missing or not a table")
    return value
