"""What the pages and the monitor read of campaigns (外呼查询): a campaign's summary and progress, the supervisor's
list, the callees waiting for a retry, the managers' tasks and a customer's opt-outs. Read-only, each in its own
short session; summary_of and progress_of also answer inside the other parts' transactions."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from campaigns.messages import message_from_json
from campaigns.records import CampaignSummary, Progress, TaskLine, UnknownCampaignError
from campaigns.rules import CLOSED_STATES, CalleeState, CampaignKind, CampaignState, Outcome
from crm.campaign_models import CallOptOut, Campaign, CampaignAttempt, CampaignCallee, ManagerTask
from crm.models import Customer


class CampaignReads:
    """The campaign service's reads (a part of CampaignService, which gives it its sessions)."""

    sessions: sessionmaker[Session]

    def opted_out(self, customer_id: int) -> frozenset[CampaignKind]:
        """The kinds of notice the customer asked not to be called for."""
        with self.sessions() as session:
            return frozenset(
                CampaignKind(k)
                for k in session.scalars(select(CallOptOut.kind).where(CallOptOut.customer_id == customer_id))
            )

    def manager_tasks(
        self, *, agent_id: int | None = None, campaign_id: int | None = None, open_only: bool = True
    ) -> list[TaskLine]:
        """The tasks of one account manager (agent_id), or of one campaign, oldest first."""
        query = (
            select(ManagerTask, Campaign.kind, Campaign.variables, Customer.name)
            .join(Campaign, Campaign.id == ManagerTask.campaign_id)
            .join(Customer, Customer.id == ManagerTask.customer_id)
            .order_by(ManagerTask.created_at, ManagerTask.id)
        )
        if agent_id is not None:
            query = query.where(ManagerTask.agent_id == agent_id)
        if campaign_id is not None:
            query = query.where(ManagerTask.campaign_id == campaign_id)
        if open_only:
            query = query.where(ManagerTask.done_at.is_(None))
        with self.sessions() as session:
            lines = []
            for task, kind, variables, customer_name in session.execute(query):
                k = CampaignKind(kind)
                lines.append(
                    TaskLine(
                        task.id,
                        task.campaign_id,
                        k,
                        task.customer_id,
                        customer_name,
                        task.account_id,
                        task.agent_id,
                        task.phone,
                        message_from_json(k, {**(variables or {}), **task.variables}),
                        task.created_at,
                        task.done_at,
                        task.notes,
                    )
                )
            return lines

    def listed(self, closed_since: datetime, closed_limit: int = 50) -> list[int]:
        """The campaigns a supervisor's list shows, newest first: every one still open (draft, running, paused), and
        the latest of those stopped or finished since `closed_since`."""
        closed = [state.value for state in CLOSED_STATES]
        with self.sessions() as session:
            still_open = session.scalars(select(Campaign.id).where(Campaign.state.not_in(closed)))
            ended = session.scalars(
                select(Campaign.id)
                .where(Campaign.state.in_(closed), Campaign.ended_at >= closed_since)
                .order_by(Campaign.id.desc())
                .limit(closed_limit)
            )
            return sorted({*still_open, *ended}, reverse=True)

    def retrying(self, campaign_ids: Iterable[int]) -> dict[int, int]:
        """Per campaign: callees waiting to be called again after a busy line, no answer or a failed call (pending,
        with an attempt counted already; a lost attempt is not counted)."""
        ids = list(campaign_ids)
        if not ids:
            return {}
        with self.sessions() as session:
            rows = session.execute(
                select(CampaignCallee.campaign_id, func.count())
                .where(
                    CampaignCallee.campaign_id.in_(ids),
                    CampaignCallee.state == CalleeState.PENDING.value,
                    CampaignCallee.attempts > 0,
                )
                .group_by(CampaignCallee.campaign_id)
            )
            return {campaign_id: int(n) for campaign_id, n in rows}

    def task_owner(self, task_id: int) -> tuple[bool, int | None]:
        """Whether the manager's task exists, and the agent (agents.id) it is for (None: nobody's yet)."""
        with self.sessions() as session:
            row = session.execute(select(ManagerTask.agent_id).where(ManagerTask.id == task_id)).one_or_none()
            return (row is not None, row[0] if row is not None else None)

    def campaign(self, campaign_id: int) -> CampaignSummary:
        """One campaign's summary; UnknownCampaignError if there is none of that id."""
        with self.sessions() as session:
            campaign = session.get(Campaign, campaign_id)
            if campaign is None:
                raise UnknownCampaignError(f"there is no campaign {campaign_id}")
            return summary_of(session, campaign)

    def progress(self, campaign_id: int) -> Progress:
        """One campaign's figures for the monitor; UnknownCampaignError if there is none of that id."""
        with self.sessions() as session:
            campaign = session.get(Campaign, campaign_id)
            if campaign is None:
                raise UnknownCampaignError(f"there is no campaign {campaign_id}")
            return progress_of(session, campaign)

    def active_progress(self) -> list[Progress]:
        """The monitor's list: every campaign that is running or paused, oldest first."""
        active = (CampaignState.RUNNING.value, CampaignState.PAUSED.value)
        with self.sessions() as session:
            campaigns = session.scalars(select(Campaign).where(Campaign.state.in_(active)).order_by(Campaign.id))
            return [progress_of(session, c) for c in campaigns]


def summary_of(session: Session, campaign: Campaign) -> CampaignSummary:
    """The campaign as it stands in `session`, with its callees and tasks counted."""
    callees = session.scalar(
        select(func.count()).select_from(CampaignCallee).where(CampaignCallee.campaign_id == campaign.id)
    )
    tasks = session.scalar(select(func.count()).select_from(ManagerTask).where(ManagerTask.campaign_id == campaign.id))
    return CampaignSummary(
        id=campaign.id,
        kind=CampaignKind(campaign.kind),
        state=CampaignState(campaign.state),
        name=campaign.name,
        trunk=campaign.trunk,
        outage_id=campaign.outage_id,
        created_by=campaign.created_by,
        created_at=campaign.created_at,
        started_at=campaign.started_at,
        ended_at=campaign.ended_at,
        callees=int(callees or 0),
        tasks=int(tasks or 0),
    )


def progress_of(session: Session, campaign: Campaign) -> Progress:
    """The campaign's callees by state, attempts by outcome (those in flight apart) and tasks, in `session`."""
    by_state = {state: 0 for state in CalleeState}
    for state, n in session.execute(
        select(CampaignCallee.state, func.count())
        .where(CampaignCallee.campaign_id == campaign.id)
        .group_by(CampaignCallee.state)
    ):
        by_state[CalleeState(state)] = int(n)
    by_outcome = {outcome: 0 for outcome in Outcome}
    in_flight = 0
    for outcome, n in session.execute(
        select(CampaignAttempt.outcome, func.count())
        .where(CampaignAttempt.campaign_id == campaign.id)
        .group_by(CampaignAttempt.outcome)
    ):
        if outcome is None:
            in_flight = int(n)
        else:
            by_outcome[Outcome(outcome)] = int(n)
    tasks, tasks_done = session.execute(
        select(func.count(ManagerTask.id), func.count(ManagerTask.done_at)).where(
            ManagerTask.campaign_id == campaign.id
        )
    ).one()
    return Progress(
        campaign_id=campaign.id,
        kind=CampaignKind(campaign.kind),
        state=CampaignState(campaign.state),
        name=campaign.name,
        callees=sum(by_state.values()),
        by_state=by_state,
        attempts=sum(by_outcome.values()),
        by_outcome=by_outcome,
        in_flight=in_flight,
        tasks=int(tasks),
        tasks_done=int(tasks_done),
    )
