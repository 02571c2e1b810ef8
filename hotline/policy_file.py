"""Reading a policy file (TOML): the one reader for the work orders', the campaigns' and the ACD's routing policies.
A file that cannot be read, or whose content its parser refuses, is a PolicyError naming the file."""

from __future__ import annotations

import tomllib
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, TypeVar

from hotline.policies import PolicyError

P = TypeVar("P")


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
