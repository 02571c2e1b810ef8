"""Reading the campaign policy file (campaigns/policy.toml, or the one `[outbound] policy` names): the file I/O
that campaigns/rules.py, which parses it, does not do."""

from __future__ import annotations

from pathlib import Path

from campaigns.rules import CampaignPolicy, parse_policy
from hotline import policy_file

DEFAULT_POLICY = Path(__file__).with_name("policy.toml")


def load_policy(path: Path = DEFAULT_POLICY) -> CampaignPolicy:
    """The policy in `path`; a PolicyError names the file and the entry that is wrong."""
    return policy_file.load(path, "campaign policy", parse_policy)
