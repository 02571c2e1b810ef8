"""Reads the routing policy file (cti/acd/routing.toml, or the one `[acd] policy` names) into the pure Policy of
cti/acd/policy.py, through the one policy-file reader."""

from __future__ import annotations

from pathlib import Path

from cti.acd.policy import Policy, parse
from hotline import policy_file

DEFAULT_POLICY = Path(__file__).with_name("routing.toml")


def load(path: Path = DEFAULT_POLICY) -> Policy:
    """The routing policy in `path`; a PolicyError naming the file and the entry if it is not usable."""
    return policy_file.load(path, "routing policy", parse)
