"""Reading a policy file (TOML) that crm's rules are configured by: one error type that names the file and the
entry, for the work orders' and the campaigns' policies alike."""

from __future__ import annotations

import tomllib
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, TypeVar

P = TypeVar("P")


class PolicyError(Exception):
    """A policy file is not usable; the message names the file and the entry."""


def load(path: Path, what: str, parse: Callable[[Mapping[str, Any]], P]) -> P:
    """Read `path` and turn it into a policy with `parse`; any fault is a PolicyError naming the file."""
    try:
        data = tomllib.loads(path.read_text())
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise PolicyError(f"cannot read the {what} {path}: {exc}") from exc
    try:
        return parse(data)
    except PolicyError as exc:
        raise PolicyError(f"{path}: {exc}") from exc


def table(data: Mapping[str, Any], name: str) -> Mapping[str, Any]:
    value = data.get(name)
    if not isinstance(value, dict):
        raise PolicyError(f"[{name}] is missing or not a table")
    return value
