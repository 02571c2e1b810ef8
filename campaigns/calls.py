"""Running notice campaigns (外呼执行): a campaign's life (start, pause, resume, stop), the diallers' side (claiming
the callees due for a call, recording every attempt's outcome and what follows it, releasing claims a dialler left),
opt-outs, and a manager's task done.

Concurrency (SQLite and PostgreSQL alike). Claiming is one UPDATE of the due callees (pending -> dialling, with a
new token) whose ids come from a subquery that PostgreSQL runs FOR UPDATE SKIP LOCKED, so that two diallers claim
different callees, and whose WHERE names the state it starts from, so that a callee is claimed once; on SQLite the
UPDATE is the transaction's first statement and so takes the one writer lock at once. Everything else that changes
a campaign or its callees (an outcome, a transition, releasing stale claims, an opt-out) first locks the campaign's
row, so that per campaign they run one after the other: an outcome and a stop cannot interleave, and the last two
outcomes of a campaign cannot each miss the other and leave it unfinished.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import exists, func, select, update
from sqlalchemy.orm import Session, sessionmaker

from campaigns.eligibility import kinds_callable
from campaigns.messages import message_from_json
from campaigns.queries import summary_of
from campaigns.records import Attempt, CampaignSummary, InvalidRequestError, Recorded, UnknownCampaignError
from campaigns.rules import (
    DONE_STATES,
    REPORTABLE,
    CalleeState,
    CampaignAction,
    CampaignKind,
    CampaignPolicy,
    CampaignState,
    Outcome,
    next_campaign_state,
    unless_stopped,
)
from crm.campaign_models import CallOptOut, Campaign, CampaignAttempt, CampaignCallee, ManagerTask
from crm.models import Customer

# A callee in these states may still be called: the campaign is not finished while one is left.
_ACTIVE = (CalleeState.PENDING.value, CalleeState.DIALLING.value)


class CampaignCalls:
    """The campaign service's running of campaigns (a part of CampaignService, which gives it its sessions, policy
    and clock)."""

    sessions: sessionmaker[Session]
    policy: CampaignPolicy
    clock: Callable[[], datetime]

    # --- the campaign's life ---

    def start(self, campaign_id: int) -> CampaignSummary:
        """From draft: every callee is due from now (within the allowed hours)."""
        return self._transition(campaign_id, CampaignAction.START)

    def pause(self, campaign_id: int) -> CampaignSummary:
        """No new claims; calls in flight end and their outcomes are recorded as usual (a retry waits for resume)."""
        return self._transition(campaign_id, CampaignAction.PAUSE)

    def resume(self, campaign_id: int) -> CampaignSummary:
        """Claims again: callees whose time came during the pause are due at once."""
        return self._transition(campaign_id, CampaignAction.RESUME)

    def stop(self, campaign_id: int) -> CampaignSummary:
        """For good: every pending callee is cancelled; a call in flight is recorded, and not retried."""
        return self._transition(campaign_id, CampaignAction.STOP)

    def _transition(self, campaign_id: int, action: CampaignAction) -> CampaignSummary:
        now = self.clock()
        with self.sessions.begin() as session:
            campaign = _locked(session, campaign_id)
            target = next_campaign_state(CampaignState(campaign.state), action)
            campaign.state = target.value
            if action is CampaignAction.START:
                campaign.started_at = now
                session.execute(
                    update(CampaignCallee)
                    .where(CampaignCallee.campaign_id == campaign_id, CampaignCallee.state == CalleeState.PENDING)
                    .values(next_attempt_at=now)
                )
                _finish_if_done(session, campaign, now)
            elif action is CampaignAction.STOP:
                campaign.ended_at = now
                session.execute(
                    update(CampaignCallee)
                    .where(CampaignCallee.campaign_id == campaign_id, CampaignCallee.state == CalleeState.PENDING)
                    .values(state=CalleeState.CANCELLED.value, next_attempt_at=None, done_at=now)
                )
            session.flush()
            return summary_of(session, campaign)

    # --- the diallers' side ---

    def next_attempts(self, now: datetime | None = None, limit: int = 10, trunk: str | None = None) -> list[Attempt]:
        """Claim up to `limit` callees due for a call now (of running campaigns, within their kind's allowed hours,
        whose time has come, who have not opted out), oldest due first, and write an attempt for each. Claims too
        old are released first. Two diallers never get the same callee. `trunk`: only campaigns on that trunk."""
        now = now or self.clock()
        if limit < 1:
            return []
        self.release_stale(now)
        allowed = [kind.value for kind in kinds_callable(self.policy.hours, now)]
        if not allowed:
            return []
        campaign_wants = [
            Campaign.id == CampaignCallee.campaign_id,
            Campaign.state == CampaignState.RUNNING.value,
            Campaign.kind.in_(allowed),
        ]
        if trunk is not None:
            campaign_wants.append(Campaign.trunk == trunk)
        due = (
            select(CampaignCallee.id)
            .where(
                CampaignCallee.state == CalleeState.PENDING.value,
                CampaignCallee.next_attempt_at <= now,
                exists().where(*campaign_wants),
                # Asked since the list was made: never dialled for it. At this level, so that it correlates with the
                # callee (SQLAlchemy correlates a subquery with the query right around it only).
                ~exists().where(
                    CallOptOut.customer_id == CampaignCallee.customer_id,
                    Campaign.id == CampaignCallee.campaign_id,
                    CallOptOut.kind == Campaign.kind,
                ),
            )
            .order_by(CampaignCallee.next_attempt_at, CampaignCallee.id)
            .limit(limit)
            # PostgreSQL: callees another dialler is claiming are skipped, not waited for. SQLite renders nothing.
            .with_for_update(skip_locked=True, of=CampaignCallee)
        )
        token = uuid.uuid4().hex
        with self.sessions.begin() as session:
            if session.get_bind().dialect.name == "postgresql":
                # The ids first, locked: PostgreSQL may run a LIMIT subquery inside an UPDATE more than once, and so
                # claim more than `limit`.
                chosen: Any = list(session.scalars(due))
                if not chosen:
                    return []
            else:
                # One statement, the transaction's first: SQLite's writer lock is taken before anything is read.
                chosen = due.scalar_subquery()
            claimed = session.execute(
                update(CampaignCallee)
                .where(CampaignCallee.id.in_(chosen), CampaignCallee.state == CalleeState.PENDING.value)
                .values(state=CalleeState.DIALLING.value, claim_token=token, claimed_at=now)
                .returning(
                    CampaignCallee.id,
                    CampaignCallee.campaign_id,
                    CampaignCallee.customer_id,
                    CampaignCallee.phone,
                    CampaignCallee.language,
                    CampaignCallee.variables,
                    CampaignCallee.attempts,
                    CampaignCallee.next_attempt_at,
                )
                .execution_options(synchronize_session=False)
            ).all()
            if not claimed:
                return []
            campaigns = {
                row.id: row
                for row in session.execute(
                    select(Campaign.id, Campaign.kind, Campaign.trunk, Campaign.variables).where(
                        Campaign.id.in_({c.campaign_id for c in claimed})
                    )
                )
            }
            attempts: list[Attempt] = []
            for callee in sorted(claimed, key=lambda c: (c.next_attempt_at, c.id)):
                campaign = campaigns[callee.campaign_id]
                row = CampaignAttempt(
                    campaign_id=callee.campaign_id,
                    callee_id=callee.id,
                    number=callee.attempts + 1,
                    claim_token=token,
                    phone=callee.phone,
                    trunk=campaign.trunk,
                    claimed_at=now,
                )
                session.add(row)
                session.flush()
                kind = CampaignKind(campaign.kind)
                attempts.append(
                    Attempt(
                        id=row.id,
                        campaign_id=callee.campaign_id,
                        callee_id=callee.id,
                        customer_id=callee.customer_id,
                        kind=kind,
                        phone=callee.phone,
                        language=callee.language,
                        trunk=campaign.trunk,
                        number=row.number,
                        claim_token=token,
                        claimed_at=now,
                        message=message_from_json(kind, {**(campaign.variables or {}), **(callee.variables or {})}),
                    )
                )
            return attempts

    def record_outcome(self, attempt: Attempt | int, outcome: Outcome, at: datetime | None = None) -> Recorded:
        """How the attempt ended: written on the attempt; the callee moves on by the retry rule (due again later,
        or done); an opt-out is kept for the customer and kind; the campaign finishes when nobody is left. Reporting
        the same attempt twice changes nothing the second time."""
        if outcome not in REPORTABLE:
            raise InvalidRequestError(f"a dialler cannot report '{outcome}'")
        at = at or self.clock()
        attempt_id = attempt if isinstance(attempt, int) else attempt.id
        with self.sessions() as session:
            campaign_id = session.scalar(select(CampaignAttempt.campaign_id).where(CampaignAttempt.id == attempt_id))
        if campaign_id is None:
            raise InvalidRequestError(f"there is no attempt {attempt_id}")
        with self.sessions.begin() as session:
            campaign = _locked(session, campaign_id)
            row = session.get_one(CampaignAttempt, attempt_id, populate_existing=True)
            callee = session.get_one(CampaignCallee, row.callee_id, populate_existing=True)
            if row.outcome is not None and row.outcome != Outcome.LOST.value:
                return Recorded(
                    attempt_id,
                    Outcome(row.outcome),
                    CalleeState(callee.state),
                    callee.next_attempt_at,
                    CampaignState(campaign.state),
                    duplicate=True,
                )
            late = row.outcome == Outcome.LOST.value
            row.outcome = outcome.value
            row.ended_at = at
            current = callee.state == CalleeState.DIALLING.value and callee.claim_token == row.claim_token
            # Released and not claimed again: the late report still moves it on, so nobody is called twice for it.
            released = callee.state == CalleeState.PENDING.value
            if current or released:
                kind = CampaignKind(campaign.kind)
                attempts = callee.attempts + 1
                step = self.policy.next_step(kind, outcome, attempts, at)
                state = unless_stopped(step.state, CampaignState(campaign.state))
                done = state in DONE_STATES
                changed = session.execute(
                    update(CampaignCallee)
                    .where(
                        CampaignCallee.id == callee.id,
                        CampaignCallee.state == callee.state,
                        CampaignCallee.claim_token.is_(None)
                        if released
                        else CampaignCallee.claim_token == row.claim_token,
                    )
                    .values(
                        state=state.value,
                        attempts=attempts,
                        next_attempt_at=None if done else step.at,
                        claim_token=None,
                        claimed_at=None,
                        last_outcome=outcome.value,
                        done_at=at if done else None,
                    )
                    .execution_options(synchronize_session=False)
                )
                # A dialler claimed the released callee in between: that call is its own attempt.
                if changed.rowcount == 1:  # type: ignore[attr-defined]
                    if outcome is Outcome.OPTED_OUT and callee.customer_id is not None:
                        _opt_out(session, callee.customer_id, kind, "call", at)
                    _finish_if_done(session, campaign, at)
            session.flush()
            session.refresh(callee)
            return Recorded(
                attempt_id,
                outcome,
                CalleeState(callee.state),
                callee.next_attempt_at,
                CampaignState(campaign.state),
                late=late,
            )

    def release_stale(self, now: datetime | None = None) -> int:
        """Release every claim older than the policy's claim timeout (a dialler that crashed or lost the database):
        its attempt is recorded as lost and the callee is due again at once (cancelled if the campaign was stopped).
        Returns how many were released."""
        now = now or self.clock()
        cutoff = now - self.policy.claim_timeout
        stale = (CampaignCallee.state == CalleeState.DIALLING.value, CampaignCallee.claimed_at < cutoff)
        with self.sessions() as session:
            campaigns = list(session.scalars(select(CampaignCallee.campaign_id).where(*stale).distinct()))
        released = 0
        for campaign_id in sorted(campaigns):
            with self.sessions.begin() as session:
                campaign = _locked(session, campaign_id)
                # Due again at once, unless the campaign was stopped.
                state = unless_stopped(CalleeState.PENDING, CampaignState(campaign.state))
                done = state in DONE_STATES
                # Under the campaign's lock no outcome can move these on meanwhile; a claim touches pending only.
                claims = session.execute(
                    select(CampaignCallee.id, CampaignCallee.claim_token).where(
                        CampaignCallee.campaign_id == campaign_id, *stale
                    )
                ).all()
                for callee_id, token in claims:
                    session.execute(
                        update(CampaignCallee)
                        .where(CampaignCallee.id == callee_id, CampaignCallee.claim_token == token)
                        .values(
                            state=state.value,
                            next_attempt_at=None if done else now,
                            claim_token=None,
                            claimed_at=None,
                            last_outcome=Outcome.LOST.value,
                            done_at=now if done else None,
                        )
                    )
                    session.execute(
                        update(CampaignAttempt)
                        .where(
                            CampaignAttempt.callee_id == callee_id,
                            CampaignAttempt.claim_token == token,
                            CampaignAttempt.outcome.is_(None),
                        )
                        .values(outcome=Outcome.LOST.value, ended_at=now)
                    )
                released += len(claims)
                _finish_if_done(session, campaign, now)
        return released

    # --- opt-outs and managers' tasks ---

    def record_opt_out(self, customer_id: int, kind: CampaignKind, source: str = "agent") -> None:
        """The customer asked not to be called for this kind of notice: kept (once), and their callees still waiting
        in campaigns of that kind are marked opted out (a call already in flight is not stopped)."""
        now = self.clock()
        with self.sessions.begin() as session:
            if session.get(Customer, customer_id) is None:
                raise InvalidRequestError(f"there is no customer {customer_id}")
            _opt_out(session, customer_id, kind, source, now)
            waiting = session.execute(
                select(CampaignCallee.id, CampaignCallee.campaign_id)
                .join(Campaign, Campaign.id == CampaignCallee.campaign_id)
                .where(
                    CampaignCallee.customer_id == customer_id,
                    CampaignCallee.state == CalleeState.PENDING.value,
                    Campaign.kind == kind.value,
                )
            ).all()
        for callee_id, campaign_id in waiting:
            with self.sessions.begin() as session:
                campaign = _locked(session, campaign_id)
                session.execute(
                    update(CampaignCallee)
                    .where(CampaignCallee.id == callee_id, CampaignCallee.state == CalleeState.PENDING.value)
                    .values(state=CalleeState.OPTED_OUT.value, next_attempt_at=None, done_at=now)
                )
                _finish_if_done(session, campaign, now)

    def complete_task(self, task_id: int, notes: str = "") -> None:
        """The manager told the customer."""
        now = self.clock()
        with self.sessions.begin() as session:
            task = session.get(ManagerTask, task_id)
            if task is None:
                raise InvalidRequestError(f"there is no task {task_id}")
            if task.done_at is None:
                task.done_at = now
                task.notes = notes.strip()[:1024]


def _finish_if_done(session: Session, campaign: Campaign, now: datetime) -> None:
    """Under the campaign's lock: finish it when no callee is left to call."""
    if campaign.state not in (CampaignState.RUNNING.value, CampaignState.PAUSED.value):
        return
    session.flush()
    left = session.scalar(
        select(func.count())
        .select_from(CampaignCallee)
        .where(CampaignCallee.campaign_id == campaign.id, CampaignCallee.state.in_(_ACTIVE))
    )
    if not left:
        campaign.state = next_campaign_state(CampaignState(campaign.state), CampaignAction.FINISH).value
        campaign.ended_at = now


def _opt_out(session: Session, customer_id: int, kind: CampaignKind, source: str, at: datetime) -> None:
    known = session.scalar(
        select(CallOptOut.id).where(CallOptOut.customer_id == customer_id, CallOptOut.kind == kind.value)
    )
    if known is None:
        session.add(CallOptOut(customer_id=customer_id, kind=kind.value, source=source[:16], recorded_at=at))
        session.flush()


def _locked(session: Session, campaign_id: int) -> Campaign:
    """Lock the campaign's row (see the module docstring) and read it as it is now."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(select(Campaign.id).where(Campaign.id == campaign_id).with_for_update(key_share=True))
    else:
        # A write as the first statement: SQLite's writer lock, held to commit.
        session.execute(
            update(Campaign)
            .where(Campaign.id == campaign_id)
            .values(id=Campaign.id)
            .execution_options(synchronize_session=False)
        )
    campaign = session.get(Campaign, campaign_id, populate_existing=True)
    if campaign is None:
        raise UnknownCampaignError(f"there is no campaign {campaign_id}")
    return campaign
