"""The campaign service (外呼服务): the one object the pages, the monitor and the diallers use for outbound notice
campaigns. It builds them (campaigns/lists.py: a planned outage's customers, those to tell that power is back, bills
falling due, arrears), runs them (campaigns/calls.py: start, pause, resume, stop, claims, outcomes, opt-outs) and
reads them (campaigns/queries.py: summaries, progress, managers' tasks), handing out the records of
campaigns/records.py.

Every method opens its own short transaction from `sessions`; the time comes from `clock` unless given.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy.orm import Session, sessionmaker

from campaigns.calls import CampaignCalls
from campaigns.lists import CampaignLists
from campaigns.queries import CampaignReads
from campaigns.rules import CampaignPolicy
from hotline import periods


class CampaignService(CampaignLists, CampaignCalls, CampaignReads):
    """Outbound notice campaigns on the database `sessions` reach, under `policy`."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        policy: CampaignPolicy,
        clock: Callable[[], datetime] = periods.now_utc,
    ) -> None:
        self.sessions = sessions
        self.policy = policy
        self.clock = clock
