"""The campaign service (外呼服务): builds outbound notice campaigns (a planned outage's customers, those to tell
that power is back, bills falling due, arrears), starts, pauses, resumes and stops them, hands diallers the callees
due for a call, records every attempt's outcome and what follows it, and counts progress for the monitor.

Every method opens its own short transaction from `sessions`; the time comes from `clock` unless given.

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
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import and_, exists, func, insert, select, update
from sqlalchemy.orm import Session, sessionmaker

from campaigns.eligibility import Route, route_for
from campaigns.messages import (
    BillMessage,
    Message,
    OutageMessage,
    RestorationMessage,
    check_message,
    message_from_json,
    message_to_json,
)
from campaigns.rules import (
    CLOSED_STATES,
    DONE_STATES,
    REPORTABLE,
    CalleeState,
    CampaignAction,
    CampaignError,
    CampaignKind,
    CampaignPolicy,
    CampaignState,
    Outcome,
    next_campaign_state,
)
from crm import grid
from crm.models import (
    Account,
    Bill,
    CallOptOut,
    Campaign,
    CampaignAttempt,
    CampaignCallee,
    Contact,
    Customer,
    CustomerPhone,
    Feeder,
    ManagerTask,
    Outage,
    OutageArea,
    OutageReport,
    Substation,
    SupplyPoint,
    TransformerArea,
)
from crm.tiers import Tier
from crm.vocabulary import OutageKind, OutageScope
from reporting import periods

DEFAULT_LANGUAGE = "zh"
MAX_NAME = 128
_ACTIVE = (CalleeState.PENDING.value, CalleeState.DIALLING.value)


class UnknownCampaignError(CampaignError):
    pass


class InvalidRequestError(CampaignError):
    """Missing or malformed input: an unknown outage, an outage still on, criteria that select nothing sensible."""


# --- what goes out ---


@dataclass(frozen=True)
class CampaignSummary:
    id: int
    kind: CampaignKind
    state: CampaignState
    name: str
    trunk: str
    outage_id: int | None
    created_by: str
    created_at: datetime
    started_at: datetime | None
    ended_at: datetime | None
    callees: int
    tasks: int


@dataclass(frozen=True)
class CreatedCampaign:
    """A new campaign (a draft) and who its selection left out."""

    campaign: CampaignSummary
    opted_out: int  # selected, but asked not to be called for this kind
    without_phone: int  # selected, but no number to call


@dataclass(frozen=True)
class Attempt:
    """A callee claimed for one call: whom to call on which trunk, in which language, with what message. The
    dialler reports how it ended with record_outcome(attempt, ...)."""

    id: int
    campaign_id: int
    callee_id: int
    customer_id: int | None
    kind: CampaignKind
    phone: str
    language: str
    trunk: str
    number: int  # the callee's attempt number, 1 for the first
    claim_token: str
    claimed_at: datetime
    message: Message


@dataclass(frozen=True)
class Recorded:
    """What an outcome did. `late`: the claim had been released (the dialler took too long) before the report came;
    the attempt is recorded all the same, and the callee moved on only if nobody had claimed it since."""

    attempt_id: int
    outcome: Outcome
    callee_state: CalleeState
    next_attempt_at: datetime | None
    campaign_state: CampaignState
    late: bool = False
    duplicate: bool = False  # this attempt had been reported already: nothing changed


@dataclass(frozen=True)
class Progress:
    """A campaign on the supervisor monitor: its callees by state, its attempts by outcome, its managers' tasks."""

    campaign_id: int
    kind: CampaignKind
    state: CampaignState
    name: str
    callees: int
    by_state: Mapping[CalleeState, int]
    attempts: int  # reported, lost included
    by_outcome: Mapping[Outcome, int]
    in_flight: int
    tasks: int
    tasks_done: int

    @property
    def done(self) -> int:
        return sum(n for state, n in self.by_state.items() if state in DONE_STATES)


@dataclass(frozen=True)
class TaskLine:
    """A notice for a key account's manager to give in person."""

    id: int
    campaign_id: int
    kind: CampaignKind
    customer_id: int
    customer_name: str
    account_id: int | None
    agent_id: int | None
    phone: str
    message: Message
    created_at: datetime
    done_at: datetime | None
    notes: str


@dataclass(frozen=True)
class _Selected:
    """One customer a campaign's selection found, with their own message variables (bills)."""

    customer_id: int
    account_id: int | None
    variables: dict[str, Any] = field(default_factory=dict)


class CampaignService:
    def __init__(
        self,
        sessions: sessionmaker[Session],
        policy: CampaignPolicy,
        clock: Callable[[], datetime] = periods.now_utc,
    ) -> None:
        self.sessions = sessions
        self.policy = policy
        self.clock = clock

    # --- creating ---

    def create_for_outage(
        self, outage_id: int, created_by: str, *, name: str | None = None, trunk: str | None = None
    ) -> CreatedCampaign:
        """A planned-outage notice (计划停电通知) to every customer with an account under the outage: its substation's
        feeders, its feeder's transformer areas, or its listed areas (the grid's reach rule, crm/grid.py, read from
        the outage to places)."""
        now = self.clock()
        with self.sessions.begin() as session:
            outage = session.get(Outage, outage_id)
            if outage is None:
                raise InvalidRequestError(f"there is no outage {outage_id}")
            if outage.kind is OutageKind.FAULT:
                raise InvalidRequestError(f"outage {outage_id} is a fault: there is no planned window to announce")
            if outage.restored_at is not None:
                raise InvalidRequestError(f"outage {outage_id} is over already")
            self._refuse_a_second(session, CampaignKind.PLANNED_OUTAGE, outage_id)
            message = OutageMessage(
                _where(session, outage), outage.starts_at, outage.expected_restoration_at, outage.reason
            )
            rows = session.execute(
                select(Account.customer_id, func.min(Account.id))
                .join(SupplyPoint, SupplyPoint.id == Account.supply_point_id)
                .where(SupplyPoint.transformer_area_id.in_(grid.areas_reached(outage)))
                .group_by(Account.customer_id)
            ).all()
            selected = [_Selected(customer, account) for customer, account in rows]
            return self._create(
                session,
                CampaignKind.PLANNED_OUTAGE,
                name or f"计划停电通知：{message.where}",
                trunk,
                created_by,
                now,
                message,
                selected,
                outage_id=outage_id,
            )

    def create_restoration(
        self,
        outage_id: int,
        created_by: str,
        *,
        phones: Sequence[tuple[str, int | None]] | None = None,
        name: str | None = None,
        trunk: str | None = None,
    ) -> CreatedCampaign:
        """A restoration notice (复电通知) to those who reported the outage: its outage_reports (the number they
        left, else the customer's first registered phone), or `phones`, the (phone, customer id) pairs of
        work_orders.service.Restoration's notify list (see create_from_restoration). The outage must be restored.
        Key accounts among them get a task for their manager."""
        now = self.clock()
        with self.sessions.begin() as session:
            outage = session.get(Outage, outage_id)
            if outage is None:
                raise InvalidRequestError(f"there is no outage {outage_id}")
            if outage.restored_at is None:
                raise InvalidRequestError(f"outage {outage_id} is not restored yet")
            self._refuse_a_second(session, CampaignKind.RESTORATION, outage_id)
            message = RestorationMessage(_where(session, outage), outage.restored_at)
            if phones is None:
                phones = self._reporters(session, outage_id)
            return self._create(
                session,
                CampaignKind.RESTORATION,
                name or f"复电通知：{message.where}",
                trunk,
                created_by,
                now,
                message,
                [],
                outage_id=outage_id,
                phones=phones,
            )

    def create_from_restoration(self, restoration: Any, created_by: str, **options: Any) -> CreatedCampaign:
        """From what WorkOrderService.restore_outage returned (a work_orders.service.Restoration): its notify
        list, one call per number."""
        pairs = [(notice.phone, notice.customer_id) for notice in restoration.notify]
        return self.create_restoration(restoration.outage_id, created_by, phones=pairs, **options)

    def create_for_bills(
        self,
        kind: CampaignKind,
        created_by: str,
        *,
        due_within_days: int = 3,
        min_amount_fen: int = 1,
        name: str | None = None,
        trunk: str | None = None,
    ) -> CreatedCampaign:
        """A bill reminder (电费提醒): customers with unpaid bills falling due from today to `due_within_days` days
        on, adding up to at least `min_amount_fen`; or an arrears notice (欠费催缴): unpaid bills past their due
        date adding up to at least `min_amount_fen`. Each callee hears their own amount, earliest due date and
        account."""
        if kind not in (CampaignKind.BILL_REMINDER, CampaignKind.ARREARS_NOTICE):
            raise InvalidRequestError(f"a {kind} campaign is not chosen by bills")
        if due_within_days < 0 or min_amount_fen < 1:
            raise InvalidRequestError(
                "bills are chosen by a due window of 0 days or more and an amount of 1 fen or more"
            )
        now = self.clock()
        today = periods.local_day(now)
        if kind is CampaignKind.BILL_REMINDER:
            due = and_(Bill.due_date >= today, Bill.due_date <= today + timedelta(days=due_within_days))
            label = f"电费提醒：{due_within_days}日内到期"
        else:
            due = Bill.due_date < today
            label = f"欠费催缴：{min_amount_fen / 100:.2f}元以上"
        with self.sessions.begin() as session:
            per_customer: dict[int, tuple[int, date, str, int]] = {}
            for customer_id, account_id, number, amount, due_date in session.execute(
                select(Account.customer_id, Account.id, Account.number, Bill.amount_fen, Bill.due_date)
                .join(Account, Account.id == Bill.account_id)
                .where(Bill.paid_on.is_(None), due)
                .order_by(Account.customer_id, Bill.due_date, Account.number)
            ):
                if customer_id not in per_customer:
                    # The first row is the earliest due: its account is the one named.
                    per_customer[customer_id] = (0, due_date, number, account_id)
                total, first_due, first_number, first_account = per_customer[customer_id]
                per_customer[customer_id] = (total + amount, first_due, first_number, first_account)
            selected = [
                _Selected(customer, account, message_to_json(BillMessage(total, first_due, number)))
                for customer, (total, first_due, number, account) in per_customer.items()
                if total >= min_amount_fen
            ]
            return self._create(session, kind, name or label, trunk, created_by, now, None, selected)

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
                self._finish_if_done(session, campaign, now)
            elif action is CampaignAction.STOP:
                campaign.ended_at = now
                session.execute(
                    update(CampaignCallee)
                    .where(CampaignCallee.campaign_id == campaign_id, CampaignCallee.state == CalleeState.PENDING)
                    .values(state=CalleeState.CANCELLED.value, next_attempt_at=None, done_at=now)
                )
            session.flush()
            return _summary(session, campaign)

    # --- the diallers' side ---

    def next_attempts(self, now: datetime | None = None, limit: int = 10, trunk: str | None = None) -> list[Attempt]:
        """Claim up to `limit` callees due for a call now (of running campaigns, within their kind's allowed hours,
        whose time has come, who have not opted out), oldest due first, and write an attempt for each. Claims too
        old are released first. Two diallers never get the same callee. `trunk`: only campaigns on that trunk."""
        now = now or self.clock()
        if limit < 1:
            return []
        self.release_stale(now)
        allowed = [kind.value for kind, hours in self.policy.hours.items() if hours.allows(now)]
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
                state = step.state
                if state is CalleeState.PENDING and campaign.state == CampaignState.STOPPED.value:
                    state = CalleeState.CANCELLED
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
                    self._finish_if_done(session, campaign, at)
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
                stopped = campaign.state == CampaignState.STOPPED.value
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
                            state=(CalleeState.CANCELLED if stopped else CalleeState.PENDING).value,
                            next_attempt_at=None if stopped else now,
                            claim_token=None,
                            claimed_at=None,
                            last_outcome=Outcome.LOST.value,
                            done_at=now if stopped else None,
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
                self._finish_if_done(session, campaign, now)
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
                self._finish_if_done(session, campaign, now)

    def opted_out(self, customer_id: int) -> frozenset[CampaignKind]:
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

    # --- reading ---

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
        with self.sessions() as session:
            campaign = session.get(Campaign, campaign_id)
            if campaign is None:
                raise UnknownCampaignError(f"there is no campaign {campaign_id}")
            return _summary(session, campaign)

    def progress(self, campaign_id: int) -> Progress:
        with self.sessions() as session:
            campaign = session.get(Campaign, campaign_id)
            if campaign is None:
                raise UnknownCampaignError(f"there is no campaign {campaign_id}")
            return _progress(session, campaign)

    def active_progress(self) -> list[Progress]:
        """The monitor's list: every campaign that is running or paused, oldest first."""
        active = (CampaignState.RUNNING.value, CampaignState.PAUSED.value)
        with self.sessions() as session:
            campaigns = session.scalars(select(Campaign).where(Campaign.state.in_(active)).order_by(Campaign.id))
            return [_progress(session, c) for c in campaigns]

    # --- inside the transactions ---

    @staticmethod
    def _refuse_a_second(session: Session, kind: CampaignKind, outage_id: int) -> None:
        """One notice of a kind per outage at a time: a second press of "notify" must not call everyone twice."""
        closed = [state.value for state in CLOSED_STATES]
        earlier = session.scalar(
            select(Campaign.id).where(
                Campaign.outage_id == outage_id, Campaign.kind == kind.value, Campaign.state.not_in(closed)
            )
        )
        if earlier is not None:
            raise InvalidRequestError(f"outage {outage_id} has a {kind.value} notice already: campaign {earlier}")

    def _create(
        self,
        session: Session,
        kind: CampaignKind,
        name: str,
        trunk: str | None,
        created_by: str,
        now: datetime,
        message: Message | None,
        selected: Sequence[_Selected],
        *,
        outage_id: int | None = None,
        phones: Sequence[tuple[str, int | None]] = (),
    ) -> CreatedCampaign:
        trunk = trunk or self.policy.default_trunk
        self.policy.pace(trunk)  # an unknown trunk is refused here, not when the dialler looks for it
        if message is not None:
            check_message(kind, message)
        name = name.strip()[:MAX_NAME]
        if not name or not created_by.strip():
            raise InvalidRequestError("a campaign has a name and says who made it")
        campaign = Campaign(
            kind=kind.value,
            state=CampaignState.DRAFT.value,
            name=name,
            trunk=trunk,
            outage_id=outage_id,
            variables=message_to_json(message) if message is not None else {},
            created_by=created_by.strip()[:64],
            created_at=now,
        )
        session.add(campaign)
        session.flush()
        # The numbers given (a restoration's reporters): one call per number, to the customer if known.
        given: dict[int | None, list[str]] = {}
        seen: set[str] = set()
        for phone, customer_id in phones:
            numbers = given.setdefault(customer_id, [])
            if phone and phone not in seen:
                seen.add(phone)
                numbers.append(phone)
        customers = [s.customer_id for s in selected] + [c for c in given if c is not None]
        info = _customers(session, customers, kind)
        by_customer = {s.customer_id: s for s in selected}
        callees: list[dict[str, Any]] = []
        tasks: list[dict[str, Any]] = []
        opted_out = without_phone = 0
        for customer_id in dict.fromkeys(customers):
            facts = info.get(customer_id)
            if facts is None:
                continue
            if facts.opted_out:
                opted_out += 1
                continue
            chosen = by_customer.get(customer_id) or _Selected(customer_id, None)
            numbers = given.get(customer_id) or ([facts.phone] if facts.phone else [])
            base = {
                "campaign_id": campaign.id,
                "customer_id": customer_id,
                "account_id": chosen.account_id,
                "variables": chosen.variables,
            }
            if route_for(facts.tier, self.policy.manager_tiers) is Route.MANAGER:
                tasks.append(
                    base
                    | {
                        "agent_id": facts.manager_id,
                        "phone": numbers[0] if numbers else "",
                        "created_at": now,
                        "notes": "",
                    }
                )
                continue
            if not numbers:
                without_phone += 1
                continue
            callees.extend(base | {"phone": number, "language": facts.language} for number in numbers[:1])
        # Callers who reported without being known customers: a number only.
        for phone in given.get(None, []):
            callees.append(
                {
                    "campaign_id": campaign.id,
                    "customer_id": None,
                    "account_id": None,
                    "variables": {},
                    "phone": phone,
                    "language": DEFAULT_LANGUAGE,
                }
            )
        if callees:
            session.execute(
                insert(CampaignCallee),
                [c | {"state": CalleeState.PENDING.value, "attempts": 0, "next_attempt_at": None} for c in callees],
            )
        if tasks:
            session.execute(insert(ManagerTask), tasks)
        session.flush()
        return CreatedCampaign(_summary(session, campaign), opted_out, without_phone)

    def _reporters(self, session: Session, outage_id: int) -> list[tuple[str, int | None]]:
        rows = session.execute(
            select(OutageReport.callback_number, OutageReport.customer_id)
            .where(OutageReport.outage_id == outage_id)
            .order_by(OutageReport.reported_at, OutageReport.id)
        ).all()
        # A report without a number: the customer's own phone is found with the others (_customers).
        return [(phone, customer) for phone, customer in rows if phone or customer is not None]

    def _finish_if_done(self, session: Session, campaign: Campaign, now: datetime) -> None:
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


# --- helpers of the transactions ---


@dataclass(frozen=True)
class _Facts:
    tier: Tier
    manager_id: int | None
    phone: str | None
    language: str
    opted_out: bool


def _customers(session: Session, customer_ids: Iterable[int], kind: CampaignKind) -> dict[int, _Facts]:
    """What creating a campaign needs of each customer: tier and manager, the number to call (the first registered
    mobile, else the first of any kind), the language of their latest call to the hotline, and whether they opted
    out of this kind."""
    ids = sorted(set(customer_ids))
    facts: dict[int, _Facts] = {}
    # Chunks: SQLite limits the parameters of one statement, and a feeder may carry thousands of customers.
    for start in range(0, len(ids), 5000):
        chunk = ids[start : start + 5000]
        phones: dict[int, str] = {}
        for customer_id, number in session.execute(
            select(CustomerPhone.customer_id, CustomerPhone.number)
            .where(CustomerPhone.customer_id.in_(chunk))
            # Mobiles first, each kind in the order registered; the first seen wins.
            .order_by((CustomerPhone.kind == "mobile").desc(), CustomerPhone.id)
        ):
            phones.setdefault(customer_id, number)
        languages: dict[int, str] = {}
        for customer_id, language in session.execute(
            select(Account.customer_id, Contact.language)
            .join(Contact, Contact.account_id == Account.id)
            .where(Account.customer_id.in_(chunk))
            .order_by(Contact.started_at, Contact.id)
        ):
            languages[customer_id] = language  # the latest wins
        opted = set(
            session.scalars(
                select(CallOptOut.customer_id).where(CallOptOut.customer_id.in_(chunk), CallOptOut.kind == kind.value)
            )
        )
        for customer_id, tier, manager_id in session.execute(
            select(Customer.id, Customer.tier, Customer.account_manager_id).where(Customer.id.in_(chunk))
        ):
            facts[customer_id] = _Facts(
                Tier(tier),
                manager_id,
                phones.get(customer_id),
                languages.get(customer_id, DEFAULT_LANGUAGE),
                customer_id in opted,
            )
    return facts


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


def _where(session: Session, outage: Outage) -> str:
    if outage.scope is OutageScope.SUBSTATION:
        return session.scalar(select(Substation.name).where(Substation.id == outage.substation_id)) or ""
    if outage.scope is OutageScope.FEEDER:
        return session.scalar(select(Feeder.name).where(Feeder.id == outage.feeder_id)) or ""
    names = session.scalars(
        select(TransformerArea.name)
        .join(OutageArea, OutageArea.transformer_area_id == TransformerArea.id)
        .where(OutageArea.outage_id == outage.id)
    )
    return "、".join(sorted(names))


def _summary(session: Session, campaign: Campaign) -> CampaignSummary:
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


def _progress(session: Session, campaign: Campaign) -> Progress:
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
