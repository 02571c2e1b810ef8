"""The campaign service on SQLite and on PostgreSQL, with a clock the tests move: who a planned outage, a
restoration and bill criteria select (and who not: a neighbour feeder, opt-outs, key accounts, who go to their
manager's list), claims by racing threads, outcomes and retries at the right time, pause, resume and stop losing no
attempt and calling nobody twice, stale claims released, and the progress counts."""

from __future__ import annotations

import itertools
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from campaigns.messages import BillMessage, OutageMessage, RestorationMessage
from campaigns.policy import load_policy
from campaigns.records import InvalidRequestError
from campaigns.rules import CalleeState, CampaignKind, CampaignState, IllegalTransitionError, Outcome
from campaigns.service import CampaignService
from crm import account_numbers, db
from crm.campaign_models import CampaignAttempt
from crm.models import Account, Agent, Bill, Outage, Site
from crm.tiers import CustomerClass, Tier
from crm.vocabulary import OutageKind, OutageScope
from crm.work_order_models import OutageReport
from demo.builders import (
    ManualClock,
    NewAccount,
    NewBill,
    NewCustomer,
    add_county,
    add_customers,
    add_feeder,
    add_outage,
    add_substation,
)
from hotline.periods import LOCAL
from tests.conftest import scratch_database

POLICY = load_policy()  # busy 3 x 10 min, no answer 3 x 30 min, failed 2 x 5 min; claims lapse after 300 s
# Monday 2 March 2026, 10:00 local: within every kind's hours.
T0 = datetime(2026, 3, 2, 10, 0, tzinfo=LOCAL).astimezone(UTC)


class Grid:
    """One substation, feeders F1 (areas A1, A2) and F2 (area A3); a key-account manager. Customers per test."""

    def __init__(self, sessions: Any) -> None:
        self.sessions = sessions
        self._serials = itertools.count(1)
        with sessions.begin() as s:
            county = add_county(s, "41", "甲县供电公司")
            self.substation = add_substation(s, county.id, "S", "甲变")
            site = Site(code="c", name="中心", county_company_id=None, seats=10)
            s.add(site)
            s.flush()
            manager = Agent(code="A1004", name="叶芳", site_id=site.id)
            s.add(manager)
            s.flush()
            self.manager_id = manager.id
            self.feeders: dict[str, int] = {}
            self.areas: dict[str, int] = {}
            for feeder, areas in (("F1", ("A1", "A2")), ("F2", ("A3",))):
                built = add_feeder(s, self.substation.id, feeder, f"10千伏{feeder}线", [(a, f"{a}台区") for a in areas])
                self.feeders[feeder] = built.id
                self.areas.update(built.areas)

    def customer(
        self,
        area: str = "A1",
        tier: Tier = Tier.STANDARD,
        phones: tuple[tuple[str, str], ...] | None = None,
        bills: tuple[tuple[int, date], ...] = (),
    ) -> tuple[int, int]:
        """(customer id, account id); phones as (number, kind), by default one mobile of its own."""
        serial = next(self._serials)
        if phones is None:
            phones = ((f"1380000{serial:04d}", "mobile"),)
        key_account = tier is Tier.KEY_ACCOUNT
        new = NewCustomer(
            name=f"客户{serial}",
            created_at=T0,
            customer_class=CustomerClass.INDUSTRIAL if key_account else CustomerClass.RESIDENTIAL,
            tier=tier,
            contracted_kva=630 if key_account else 8,
            account_manager_id=self.manager_id if key_account else None,
            phones=phones,
            accounts=[
                NewAccount(
                    number=account_numbers.make(41, serial),
                    transformer_area_id=self.areas[area],
                    box_code=f"BOX{serial}",
                    meter_number=f"M{serial}",
                    address=f"{area}路{serial}号",
                    opened_on=date(2024, 1, 1),
                    bills=[
                        NewBill(f"2026-{i + 1:02d}", 100, amount, due - timedelta(days=20), due)
                        for i, (amount, due) in enumerate(bills)
                    ],
                )
            ],
        )
        with self.sessions.begin() as s:
            (added,) = add_customers(s, [new])
            return added.customer.id, added.accounts[0].id

    def outage(self, scope: OutageScope, where: str, kind: OutageKind = OutageKind.PLANNED_MAINTENANCE) -> int:
        with self.sessions.begin() as s:
            return add_outage(
                s,
                kind,
                scope,
                substation_id=self.substation.id if scope is OutageScope.SUBSTATION else None,
                feeder_id=self.feeders[where] if scope is OutageScope.FEEDER else None,
                transformer_area_ids=[self.areas[where]] if scope is OutageScope.TRANSFORMER_AREAS else [],
                starts_at=T0 + timedelta(days=2),
                expected_restoration_at=T0 + timedelta(days=2, hours=8),
                reason="10千伏线路计划检修",
                created_at=T0,
            )


@dataclass
class World:
    backend: str
    sessions: Any
    grid: Grid
    clock: ManualClock
    service: CampaignService

    def running(self, n: int = 3, area: str = "A1") -> tuple[int, list[int]]:
        """A running planned-outage campaign on F1 with `n` new standard customers (and no one else there)."""
        customers = [self.grid.customer(area)[0] for _ in range(n)]
        campaign = self.service.create_for_outage(self.grid.outage(OutageScope.TRANSFORMER_AREAS, area), "班长")
        self.service.start(campaign.campaign.id)
        return campaign.campaign.id, customers

    def attempts(self, campaign_id: int) -> list[tuple[int, str | None]]:
        with self.sessions() as s:
            rows = s.execute(
                select(CampaignAttempt.callee_id, CampaignAttempt.outcome)
                .where(CampaignAttempt.campaign_id == campaign_id)
                .order_by(CampaignAttempt.id)
            )
            return [(r[0], r[1]) for r in rows]


@pytest.fixture(params=["sqlite", "postgresql"])
def world(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[World]:
    with scratch_database(request.param, tmp_path) as url:
        db.upgrade(url)
        engine = db.make_engine(url)
        try:
            sessions = db.session_factory(engine)
            clock = ManualClock(T0)
            yield World(request.param, sessions, Grid(sessions), clock, CampaignService(sessions, POLICY, clock))
        finally:
            engine.dispose()


# --- who is selected ---


def test_a_planned_outage_selects_exactly_the_customers_under_it(world: World) -> None:
    g = world.grid
    on_f1 = [g.customer("A1")[0], g.customer("A2")[0]]
    neighbour = g.customer("A3")[0]  # feeder F2: not cut off
    key, _ = g.customer("A2", tier=Tier.KEY_ACCOUNT)
    no_phone, _ = g.customer("A1", phones=())
    landline_first, _ = g.customer("A1", phones=(("057188001234", "landline"), ("13911112222", "mobile")))
    created = world.service.create_for_outage(g.outage(OutageScope.FEEDER, "F1"), "班长 赵敏")
    campaign = created.campaign
    assert (campaign.kind, campaign.state, campaign.callees, campaign.tasks) == (
        CampaignKind.PLANNED_OUTAGE, CampaignState.DRAFT, 3, 1)  # fmt: skip
    assert campaign.name == "计划停电通知：10千伏F1线" and campaign.trunk == "carrier"
    assert (created.without_phone, created.opted_out) == (1, 0)
    world.service.start(campaign.id)
    attempts = world.service.next_attempts(limit=50)
    assert sorted(a.customer_id for a in attempts) == sorted([*on_f1, landline_first])
    assert neighbour not in {a.customer_id for a in attempts} and no_phone not in {a.customer_id for a in attempts}
    # The first registered mobile, even when a landline was registered before it.
    assert next(a.phone for a in attempts if a.customer_id == landline_first) == "13911112222"
    message = attempts[0].message
    assert isinstance(message, OutageMessage)
    assert (message.where, message.reason) == ("10千伏F1线", "10千伏线路计划检修")
    assert (message.starts_at, message.ends_at) == (T0 + timedelta(days=2), T0 + timedelta(days=2, hours=8))
    assert {a.language for a in attempts} == {"zh"} and {a.number for a in attempts} == {1}
    tasks = world.service.manager_tasks(agent_id=g.manager_id)
    assert [(t.customer_id, t.campaign_id, t.kind) for t in tasks] == [(key, campaign.id, CampaignKind.PLANNED_OUTAGE)]
    world.service.complete_task(tasks[0].id, "已电话告知客户经理")
    assert world.service.manager_tasks(agent_id=g.manager_id) == []
    assert world.service.progress(campaign.id).tasks_done == 1


def test_a_substation_outage_reaches_every_feeder_and_an_area_outage_only_its_area(world: World) -> None:
    g = world.grid
    a1, a2, a3 = g.customer("A1")[0], g.customer("A2")[0], g.customer("A3")[0]
    for scope, where, expected in (
        (OutageScope.SUBSTATION, "", {a1, a2, a3}),
        (OutageScope.TRANSFORMER_AREAS, "A2", {a2}),
    ):
        campaign = world.service.create_for_outage(g.outage(scope, where), "班长").campaign
        world.service.start(campaign.id)
        assert {a.customer_id for a in world.service.next_attempts(limit=50)} == expected


def test_a_fault_or_an_unknown_outage_makes_no_planned_campaign(world: World) -> None:
    with pytest.raises(InvalidRequestError, match="fault"):
        world.service.create_for_outage(world.grid.outage(OutageScope.FEEDER, "F1", OutageKind.FAULT), "班长")
    with pytest.raises(InvalidRequestError, match="no outage"):
        world.service.create_for_outage(9999, "班长")


def test_opted_out_customers_are_left_out_and_never_dialled(world: World) -> None:
    g = world.grid
    kept, _ = g.customer("A1")
    out_before, _ = g.customer("A1")
    out_later, _ = g.customer("A1")
    other_kind, _ = g.customer("A1")
    world.service.record_opt_out(out_before, CampaignKind.PLANNED_OUTAGE)
    world.service.record_opt_out(other_kind, CampaignKind.BILL_REMINDER)  # another kind: still told of outages
    created = world.service.create_for_outage(g.outage(OutageScope.FEEDER, "F1"), "班长")
    assert created.opted_out == 1 and created.campaign.callees == 3
    world.service.record_opt_out(out_later, CampaignKind.PLANNED_OUTAGE)
    world.service.start(created.campaign.id)
    assert {a.customer_id for a in world.service.next_attempts(limit=50)} == {kept, other_kind}
    assert world.service.progress(created.campaign.id).by_state[CalleeState.OPTED_OUT] == 1
    assert world.service.opted_out(out_later) == {CampaignKind.PLANNED_OUTAGE}


def test_pressing_opt_out_in_a_reminder_keeps_the_customer_out_of_the_next_one(world: World) -> None:
    today = T0.astimezone(LOCAL).date()
    who, _ = world.grid.customer("A1", bills=((12000, today + timedelta(days=2)),))
    first = world.service.create_for_bills(CampaignKind.BILL_REMINDER, "系统").campaign
    world.service.start(first.id)
    (attempt,) = world.service.next_attempts()
    recorded = world.service.record_outcome(attempt, Outcome.OPTED_OUT)
    assert recorded.callee_state is CalleeState.OPTED_OUT and recorded.campaign_state is CampaignState.FINISHED
    assert world.service.opted_out(who) == {CampaignKind.BILL_REMINDER}
    again = world.service.create_for_bills(CampaignKind.BILL_REMINDER, "系统")
    assert again.campaign.callees == 0 and again.opted_out == 1


def test_bill_reminders_and_arrears_notices_pick_by_due_date_and_amount(world: World) -> None:
    g = world.grid
    today = T0.astimezone(LOCAL).date()
    soon, soon_account = g.customer("A1", bills=((12345, today + timedelta(days=2)), (100, today + timedelta(days=3))))
    later, _ = g.customer("A1", bills=((5000, today + timedelta(days=20)),))
    owing, _ = g.customer("A3", bills=((60000, today - timedelta(days=15)), (30000, today - timedelta(days=40))))
    owing_little, _ = g.customer("A3", bills=((900, today - timedelta(days=5)),))
    key_owing, _ = g.customer("A2", tier=Tier.KEY_ACCOUNT, bills=((900000, today - timedelta(days=10)),))
    paid, paid_account = g.customer("A1", bills=((7000, today + timedelta(days=1)),))
    with world.sessions.begin() as s:
        s.execute(Bill.__table__.update().where(Bill.account_id == paid_account).values(paid_on=today))

    reminder = world.service.create_for_bills(CampaignKind.BILL_REMINDER, "系统", due_within_days=3).campaign
    arrears = world.service.create_for_bills(CampaignKind.ARREARS_NOTICE, "系统", min_amount_fen=10000).campaign
    assert (reminder.callees, reminder.tasks, arrears.callees, arrears.tasks) == (1, 0, 1, 1)
    world.service.start(reminder.id)
    world.service.start(arrears.id)
    attempts = {a.customer_id: a for a in world.service.next_attempts(limit=50)}
    assert set(attempts) == {soon, owing}
    with world.sessions() as s:
        number = s.scalar(select(Account.number).where(Account.id == soon_account))
    assert attempts[soon].message == BillMessage(12445, today + timedelta(days=2), number)
    owed = attempts[owing].message
    assert isinstance(owed, BillMessage) and (owed.amount_fen, owed.due_date) == (90000, today - timedelta(days=40))
    (task,) = world.service.manager_tasks(campaign_id=arrears.id)
    assert task.customer_id == key_owing and task.agent_id == world.grid.manager_id
    assert isinstance(task.message, BillMessage) and task.message.amount_fen == 900000
    assert later not in attempts and owing_little not in attempts and paid not in attempts
    with pytest.raises(InvalidRequestError):
        world.service.create_for_bills(CampaignKind.RESTORATION, "系统")


def test_a_restoration_calls_those_who_reported_once_per_number(world: World) -> None:
    g = world.grid
    outage_id = g.outage(OutageScope.FEEDER, "F1", OutageKind.FAULT)
    reporter, account = g.customer("A1")
    silent, _ = g.customer("A1")  # under the outage, but did not call: not told
    key, key_account = g.customer("A2", tier=Tier.KEY_ACCOUNT)
    with world.sessions.begin() as s:
        for customer, acc, number in ((reporter, account, "13912345678"), (reporter, account, "13912345678"),
                                      (None, None, "13700001111"), (key, key_account, "")):  # fmt: skip
            s.add(OutageReport(outage_id=outage_id, customer_id=customer, account_id=acc, callback_number=number,
                               reported_at=T0))  # fmt: skip
    with pytest.raises(InvalidRequestError, match="not restored"):
        world.service.create_restoration(outage_id, "服调")
    with world.sessions.begin() as s:
        s.get_one(Outage, outage_id).restored_at = T0 + timedelta(hours=1)
    created = world.service.create_restoration(outage_id, "服调").campaign
    assert (created.callees, created.tasks) == (2, 1)
    world.service.start(created.id)
    attempts = world.service.next_attempts(limit=50)
    assert sorted((a.phone, a.customer_id) for a in attempts) == [("13700001111", None), ("13912345678", reporter)]
    assert silent not in {a.customer_id for a in attempts}
    assert attempts[0].message == RestorationMessage("10千伏F1线", T0 + timedelta(hours=1))


# --- the campaign's life ---


def test_outcomes_move_callees_on_and_retries_come_back_at_their_time(world: World) -> None:
    campaign_id, customers = world.running(3)
    first = {a.customer_id: a for a in world.service.next_attempts(limit=10)}
    assert world.service.next_attempts(limit=10) == []  # all claimed
    busy, no_answer, confirmed = customers
    r = world.service.record_outcome(first[busy], Outcome.BUSY)
    assert (r.callee_state, r.next_attempt_at) == (CalleeState.PENDING, T0 + timedelta(minutes=10))
    r = world.service.record_outcome(first[no_answer], Outcome.NO_ANSWER)
    assert r.next_attempt_at == T0 + timedelta(minutes=30)
    r = world.service.record_outcome(first[confirmed], Outcome.CONFIRMED)
    assert r.callee_state is CalleeState.REACHED and r.campaign_state is CampaignState.RUNNING
    # Reported twice (a dialler retrying its request): nothing changes.
    assert world.service.record_outcome(first[confirmed], Outcome.CONFIRMED).duplicate
    assert world.service.next_attempts(T0 + timedelta(minutes=9)) == []
    (again,) = world.service.next_attempts(T0 + timedelta(minutes=10))
    assert (again.customer_id, again.number) == (busy, 2)
    world.service.record_outcome(again, Outcome.BUSY, T0 + timedelta(minutes=11))
    assert world.service.next_attempts(T0 + timedelta(minutes=20)) == []
    (last,) = world.service.next_attempts(T0 + timedelta(minutes=21))
    assert (last.customer_id, last.number) == (busy, 3)
    r = world.service.record_outcome(last, Outcome.BUSY, T0 + timedelta(minutes=22))
    # Busy three times: given up.
    assert r.callee_state is CalleeState.GAVE_UP and r.campaign_state is CampaignState.RUNNING
    (third,) = world.service.next_attempts(T0 + timedelta(minutes=30))
    assert third.customer_id == no_answer
    r = world.service.record_outcome(third, Outcome.ANSWERED, T0 + timedelta(minutes=31))
    # Nobody is left: the campaign is finished.
    assert r.callee_state is CalleeState.REACHED and r.campaign_state is CampaignState.FINISHED
    progress = world.service.progress(campaign_id)
    assert progress.by_state[CalleeState.REACHED] == 2 and progress.by_state[CalleeState.GAVE_UP] == 1
    assert progress.attempts == 6 and progress.in_flight == 0 and progress.done == 3
    assert (progress.by_outcome[Outcome.BUSY], progress.by_outcome[Outcome.NO_ANSWER]) == (3, 1)
    assert (progress.by_outcome[Outcome.CONFIRMED], progress.by_outcome[Outcome.ANSWERED]) == (1, 1)
    with pytest.raises(InvalidRequestError, match="cannot report"):
        world.service.record_outcome(last, Outcome.LOST)


def test_no_call_outside_the_allowed_hours_and_a_retry_waits_for_the_morning(world: World) -> None:
    campaign_id, _ = world.running(1)
    evening = datetime(2026, 3, 2, 20, 55, tzinfo=LOCAL)
    (attempt,) = world.service.next_attempts(evening)
    r = world.service.record_outcome(attempt, Outcome.BUSY, evening)
    assert r.next_attempt_at == datetime(2026, 3, 3, 8, 0, tzinfo=LOCAL)
    assert world.service.next_attempts(datetime(2026, 3, 2, 23, 0, tzinfo=LOCAL)) == []
    assert world.service.next_attempts(datetime(2026, 3, 3, 7, 59, tzinfo=LOCAL)) == []
    assert len(world.service.next_attempts(datetime(2026, 3, 3, 8, 0, tzinfo=LOCAL))) == 1
    assert world.service.progress(campaign_id).in_flight == 1


def test_pause_resume_and_stop_lose_no_attempt_and_call_nobody_twice(world: World) -> None:
    campaign_id, _customers = world.running(6)
    in_flight = world.service.next_attempts(limit=2)
    world.service.pause(campaign_id)
    assert world.service.next_attempts(limit=10) == []
    # Calls placed before the pause end and are recorded; a busy one waits for the resume.
    world.service.record_outcome(in_flight[0], Outcome.ANSWERED)
    world.service.record_outcome(in_flight[1], Outcome.BUSY)
    world.clock.advance(minutes=15)
    assert world.service.next_attempts(limit=10) == []
    with pytest.raises(IllegalTransitionError):
        world.service.start(campaign_id)
    world.service.resume(campaign_id)
    # Oldest due first: the four never called (due since the start), then the busy one's retry.
    after = world.service.next_attempts(limit=3)
    assert {a.number for a in after} == {1}
    assert not {a.callee_id for a in after} & {a.callee_id for a in in_flight}
    world.service.stop(campaign_id)
    assert world.service.next_attempts(limit=10) == []
    for attempt in after:
        r = world.service.record_outcome(attempt, Outcome.NO_ANSWER)
        assert r.callee_state is CalleeState.CANCELLED  # stopped: not retried
    with pytest.raises(IllegalTransitionError):
        world.service.resume(campaign_id)
    progress = world.service.progress(campaign_id)
    assert progress.state is CampaignState.STOPPED and progress.in_flight == 0
    # Reached 1; cancelled: the three in flight at the stop, the busy one's retry and the one never called.
    assert progress.by_state[CalleeState.REACHED] == 1 and progress.by_state[CalleeState.CANCELLED] == 5
    attempts = world.attempts(campaign_id)
    assert len(attempts) == 5 and all(outcome is not None for _, outcome in attempts)
    assert len({callee for callee, _ in attempts}) == 5  # nobody called twice
    world.clock.advance(hours=2)
    assert world.service.next_attempts(limit=10) == [] and world.service.release_stale() == 0


def test_claims_by_racing_threads_never_share_a_callee(world: World) -> None:
    campaign_id, _customers = world.running(40)
    threads = 6
    barrier = threading.Barrier(threads)

    def dialler() -> list[int]:
        barrier.wait()
        mine: list[int] = []
        while batch := world.service.next_attempts(limit=3):
            assert len(batch) <= 3  # the limit holds (PostgreSQL once claimed past it)
            mine.extend(a.callee_id for a in batch)
        return mine

    with ThreadPoolExecutor(threads) as pool:
        results = list(pool.map(lambda _: dialler(), range(threads)))
    claimed = [callee for result in results for callee in result]
    assert len(claimed) == len(set(claimed)) == 40
    assert world.service.progress(campaign_id).in_flight == 40
    assert len(world.attempts(campaign_id)) == 40


def test_outcomes_racing_for_the_last_callees_finish_the_campaign_once(world: World) -> None:
    campaign_id, _ = world.running(8)
    attempts = world.service.next_attempts(limit=8)
    barrier = threading.Barrier(len(attempts))

    def report(attempt: Any) -> CampaignState:
        barrier.wait()
        return world.service.record_outcome(attempt, Outcome.CONFIRMED).campaign_state

    with ThreadPoolExecutor(len(attempts)) as pool:
        states = list(pool.map(report, attempts))
    assert states.count(CampaignState.FINISHED) >= 1
    assert world.service.campaign(campaign_id).state is CampaignState.FINISHED


def test_a_crashed_diallers_claims_are_released_and_a_late_report_still_counts(world: World) -> None:
    campaign_id, _customers = world.running(2)
    crashed = world.service.next_attempts(limit=2)
    world.clock.advance(seconds=299)
    assert world.service.release_stale() == 0 and world.service.next_attempts() == []
    world.clock.advance(seconds=2)
    # The next claim releases them first: offered again at once, the lost attempt not counted.
    again = world.service.next_attempts(limit=10)
    assert sorted(a.callee_id for a in again) == sorted(a.callee_id for a in crashed)
    assert {a.number for a in again} == {1}
    assert [o for _, o in world.attempts(campaign_id)].count(Outcome.LOST.value) == 2
    # The crashed dialler comes back and reports: recorded on its attempt; the callee is another's now.
    late = world.service.record_outcome(crashed[0], Outcome.ANSWERED)
    assert late.late and late.callee_state is CalleeState.DIALLING
    world.service.record_outcome(again[0], Outcome.CONFIRMED)
    world.service.record_outcome(again[1], Outcome.CONFIRMED)
    progress = world.service.progress(campaign_id)
    assert progress.state is CampaignState.FINISHED
    assert progress.by_outcome[Outcome.LOST] == 1 and progress.by_outcome[Outcome.ANSWERED] == 1


def test_a_late_report_of_a_released_claim_moves_the_callee_on_if_nobody_claimed_it(world: World) -> None:
    _campaign_id, _ = world.running(1)
    (crashed,) = world.service.next_attempts()
    world.clock.advance(minutes=6)
    assert world.service.release_stale() == 1
    r = world.service.record_outcome(crashed, Outcome.CONFIRMED)
    assert r.late and r.callee_state is CalleeState.REACHED and r.campaign_state is CampaignState.FINISHED
    assert world.service.next_attempts() == []


def test_stale_claims_of_a_stopped_campaign_are_cancelled(world: World) -> None:
    campaign_id, _ = world.running(2)
    world.service.next_attempts(limit=2)
    world.service.stop(campaign_id)
    world.clock.advance(minutes=10)
    assert world.service.release_stale() == 2
    progress = world.service.progress(campaign_id)
    assert progress.by_state[CalleeState.CANCELLED] == 2 and progress.in_flight == 0
    assert progress.by_outcome[Outcome.LOST] == 2


def test_the_monitor_lists_running_and_paused_campaigns(world: World) -> None:
    running, _ = world.running(2, "A1")
    paused, _ = world.running(1, "A3")
    world.service.pause(paused)
    draft = world.service.create_for_outage(world.grid.outage(OutageScope.FEEDER, "F2"), "班长").campaign
    listed = world.service.active_progress()
    assert [(p.campaign_id, p.state, p.callees) for p in listed] == [
        (running, CampaignState.RUNNING, 2),
        (paused, CampaignState.PAUSED, 1),
    ]
    assert world.service.progress(draft.id).by_state[CalleeState.PENDING] == 1
    world.service.stop(draft.id)
    assert world.service.progress(draft.id).by_state[CalleeState.CANCELLED] == 1
    # Starting a campaign with nobody to call (no customer in A2) finishes it at once.
    empty = world.service.create_for_outage(world.grid.outage(OutageScope.TRANSFORMER_AREAS, "A2"), "班长").campaign
    assert empty.callees == 0 and world.service.start(empty.id).state is CampaignState.FINISHED


def test_one_notice_per_outage_at_a_time(world: World) -> None:
    world.grid.customer("A1")
    outage = world.grid.outage(OutageScope.TRANSFORMER_AREAS, "A1")
    first = world.service.create_for_outage(outage, "班长").campaign
    # "Notify" pressed twice: the second is refused, naming the first, and nobody would be called twice.
    with pytest.raises(InvalidRequestError, match=f"campaign {first.id}"):
        world.service.create_for_outage(outage, "班长")
    world.service.start(first.id)
    with pytest.raises(InvalidRequestError, match="notice already"):
        world.service.create_for_outage(outage, "班长")
    # Once it is stopped, a new notice may be made (a changed window, say).
    world.service.stop(first.id)
    assert world.service.create_for_outage(outage, "班长").campaign.id != first.id


def test_the_supervisors_list_and_the_callees_waiting_to_be_called_again(world: World) -> None:
    busy_one, _ = world.running(2, "A1")
    stopped, _ = world.running(1, "A3")
    world.service.stop(stopped)
    (attempt, other) = world.service.next_attempts(limit=2)
    world.service.record_outcome(attempt, Outcome.BUSY)
    assert world.service.retrying([busy_one, stopped]) == {busy_one: 1}
    # A lost attempt (a dialler gone) is not a retry: the callee is simply due again.
    world.clock.advance(seconds=world.service.policy.claim_timeout.total_seconds() + 1)
    assert world.service.release_stale() == 1
    assert world.service.retrying([busy_one]) == {busy_one: 1}
    assert world.service.listed(closed_since=T0 - timedelta(days=1)) == [stopped, busy_one]
    # Stopped before the window: only the open one is listed.
    assert world.service.listed(closed_since=world.clock() + timedelta(seconds=1)) == [busy_one]
    assert other.customer_id != attempt.customer_id
