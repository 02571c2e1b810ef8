"""The supervisor monitor's figures, the agent assessment and the contact lookup, on SQLite and on PostgreSQL, from
queue_log, contact and survey rows written for one controlled local day; and the counting rules themselves."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, insert
from sqlalchemy.orm import Session, sessionmaker

from crm import account_numbers, db
from crm.models import (
    Account,
    Agent,
    Contact,
    CountyCompany,
    Customer,
    Feeder,
    Meter,
    MeterBox,
    QueueLogEntry,
    SatisfactionResult,
    Site,
    Substation,
    SupplyPoint,
    TransformerArea,
)
from crm.tiers import CustomerClass, Tier
from hotline import periods
from hotline.privacy import mask_caller
from reporting.agent_day import Pause, WrapUp, follow_agent
from reporting.floor_figures import ServiceFigures
from reporting.queue_events import ADDMEMBER, CONNECT, PAUSE, REMOVEMEMBER, UNPAUSE, WRAPUP
from reporting.queue_rows import CallRows, Period, QueueRow
from reporting.reports import Reports

DAY = date(2026, 11, 2)
PERIOD = Period.local_days(DAY)


def at(hour: int, minute: int = 0, second: float = 0, days: int = 0) -> datetime:
    """A moment of the test day, in the utility's local time."""
    midnight = datetime(DAY.year, DAY.month, DAY.day, tzinfo=periods.LOCAL)
    return midnight + timedelta(days=days, hours=hour, minutes=minute, seconds=second)


class Floor:
    """Writes what the ACD, the IVR and the survey would have written, row by row in the order given."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.sessions: sessionmaker[Session] = db.session_factory(engine)
        self._serial = 0
        with engine.begin() as c:
            county = c.execute(insert(CountyCompany).values(code="42", name="测试县").returning(CountyCompany.id))
            county_id = county.scalar_one()
            self.site_id = c.execute(
                insert(Site).values(code="centre", name="中心", county_company_id=None, seats=10).returning(Site.id)
            ).scalar_one()
            substation = c.execute(
                insert(Substation)
                .values(code="S1", name="测试变", voltage_kv=110, county_company_id=county_id)
                .returning(Substation.id)
            ).scalar_one()
            feeder = c.execute(
                insert(Feeder).values(code="F1", name="测试线", substation_id=substation).returning(Feeder.id)
            ).scalar_one()
            self.area_id = c.execute(
                insert(TransformerArea)
                .values(code="A1", name="测试台区", feeder_id=feeder, capacity_kva=400)
                .returning(TransformerArea.id)
            ).scalar_one()

    def agent(self, code: str, name: str) -> int:
        with self.engine.begin() as c:
            statement = insert(Agent).values(code=code, name=name, site_id=self.site_id, active=True)
            return int(c.execute(statement.returning(Agent.id)).scalar_one())

    def account(self, tier: Tier) -> int:
        """An account of a customer of `tier`, with the grid rows it needs."""
        self._serial += 1
        serial = self._serial
        with self.engine.begin() as c:
            customer = c.execute(
                insert(Customer)
                .values(
                    name=f"客户{serial}",
                    customer_class=CustomerClass.INDUSTRIAL,
                    tier=tier,
                    contracted_kva=630,
                    created_at=at(0),
                )
                .returning(Customer.id)
            ).scalar_one()
            box = c.execute(
                insert(MeterBox).values(code=f"B{serial}", transformer_area_id=self.area_id).returning(MeterBox.id)
            ).scalar_one()
            meter = c.execute(
                insert(Meter).values(number=f"M{serial}", meter_box_id=box, shared=False).returning(Meter.id)
            ).scalar_one()
            point = c.execute(
                insert(SupplyPoint)
                .values(address="测试路1号", transformer_area_id=self.area_id, meter_id=meter)
                .returning(SupplyPoint.id)
            ).scalar_one()
            return int(
                c.execute(
                    insert(Account)
                    .values(
                        number=account_numbers.make(42, serial),
                        customer_id=customer,
                        supply_point_id=point,
                        opened_on=DAY - timedelta(days=400),
                    )
                    .returning(Account.id)
                ).scalar_one()
            )

    def contact(self, uniqueid: str, caller: str, started: datetime, **values: Any) -> int:
        row = {
            "uniqueid": uniqueid,
            "caller_number": caller,
            "dialled_number": "95598",
            "channel": f"PJSIP/trunk-{uniqueid}",
            "language": "zh",
            "started_at": started,
            "ended_at": None,
            "ivr_path": [],
            "digits": "",
            "outcome": "human",
            **values,
        }
        with self.engine.begin() as c:
            return int(c.execute(insert(Contact).values(row).returning(Contact.id)).scalar_one())

    def survey(self, contact_id: int, score: int) -> None:
        with self.engine.begin() as c:
            c.execute(insert(SatisfactionResult).values(contact_id=contact_id, score=score, recorded_at=at(23)))

    def log(self, when: datetime, event: str, call: str = "", queue: str = "", agent: str = "", *data: str) -> None:
        values = [*data, "", "", "", "", ""][:5]
        with self.engine.begin() as c:
            c.execute(
                insert(QueueLogEntry).values(
                    time=when,
                    callid=call,
                    queuename=queue,
                    agent=agent,
                    event=event,
                    **{f"data{i + 1}": v for i, v in enumerate(values)},
                )
            )

    # What the ACD writes for the common stories of a call.

    def enter(self, when: datetime, call: str, queue: str, tier: str) -> None:
        self.log(when, "ENTERQUEUE", call, queue, "", "5", tier, "billing", "hotline-acd-1")

    def answer(self, when: datetime, call: str, queue: str, agent: str, entered: datetime) -> None:
        self.log(when - timedelta(seconds=2), "RINGING", call, queue, agent, f"seat{agent}")
        self.log(when, "CONNECT", call, queue, agent, f"{(when - entered).total_seconds():.3f}")

    def agent_hangs_up(self, when: datetime, call: str, queue: str, agent: str) -> None:
        self.log(when, "COMPLETEAGENT", call, queue, agent, "agent")
        self.log(when, "WRAPUP", "", "", agent, "10")

    def caller_hangs_up(self, when: datetime, call: str, agent: str) -> None:
        # The ACD sends the agent to wrap-up before it logs the end of the call.
        self.log(when, "WRAPUP", "", "", agent, "10")
        self.log(when, "COMPLETECALLER", call, "", agent, "caller")


@pytest.fixture
def floor(empty_database: str) -> Iterator[Floor]:
    db.upgrade(empty_database)
    engine = db.make_engine(empty_database)
    try:
        yield Floor(engine)
    finally:
        engine.dispose()


def _figures(f: ServiceFigures) -> dict[str, Any]:
    """The figures as a dict, the averages rounded to the millisecond (SQLite keeps microseconds as text)."""
    return {k: round(v, 6) if isinstance(v, float) else v for k, v in vars(f).items()}


# --- the floor ---


def _a_morning(floor: Floor) -> dict[str, int]:
    """Seven calls of the day up to 10:00 and one from the day before (see the expected figures in the tests);
    returns the ids of the contact rows written."""
    f = floor
    contacts = {}
    # Yesterday's last caller, answered after midnight: not a call of the day.
    f.enter(at(23, 59, 50, days=-1), "c-yesterday", "skill:billing", "standard")
    f.answer(at(0, 0, 5), "c-yesterday", "skill:billing", "1009", at(23, 59, 50, days=-1))
    # A: billing, answered in 10 s, 120 s talk, 30 s wrap-up ended by going ready.
    f.enter(at(9, 0, 0), "c-a", "skill:billing", "standard")
    f.answer(at(9, 0, 10), "c-a", "skill:billing", "1001", at(9))
    f.agent_hangs_up(at(9, 2, 10), "c-a", "skill:billing", "1001")
    f.log(at(9, 2, 40), UNPAUSE, "", "", "1001", "wrapup")
    # B: billing, answered in 30 s (late), the caller ends after 120 s, wrap-up cut after 10 s by a pause.
    f.enter(at(9, 1, 0), "c-b", "skill:billing", "standard")
    f.log(at(9, 1, 14), "RINGNOANSWER", "c-b", "", "1009", "18", "ready")
    f.answer(at(9, 1, 30), "c-b", "skill:billing", "1002", at(9, 1))
    f.caller_hangs_up(at(9, 3, 30), "c-b", "1002")
    f.log(at(9, 3, 40), PAUSE, "", "", "1002", "lunch")
    # C: a key account for its manager, escalated to the team, gives up after 50 s (after the threshold).
    contacts["c-c"] = f.contact("c-c", "13812345678", at(9, 4, 20))
    f.enter(at(9, 5, 0), "c-c", "agent:1003", "key_account")
    f.log(at(9, 5, 20), "ESCALATE", "c-c", "team:key_accounts", "", "1", "agent:1003")
    f.log(at(9, 5, 50), "ABANDON", "c-c", "", "", "waiting")
    # D: billing, attention tier, hangs up after 5 s while a seat rings (a short abandon); no contact row.
    f.enter(at(9, 10, 0), "c-d", "skill:billing", "attention")
    f.log(at(9, 10, 3), "RINGING", "c-d", "skill:billing", "1004", "seat1004")
    f.log(at(9, 10, 5), "ABANDON", "c-d", "", "1004", "ringing")
    # E: repair, no tier in the queue log: the customer's (a key account); answered in exactly 20 s, still talking.
    account = f.account(Tier.KEY_ACCOUNT)
    contacts["c-e"] = f.contact("c-e", "02188001234", at(9, 39), account_id=account)
    f.enter(at(9, 40, 0), "c-e", "skill:repair", "")
    f.answer(at(9, 40, 20), "c-e", "skill:repair", "1005", at(9, 40))
    # F: repair, still waiting at 10:00.
    f.enter(at(9, 50, 0), "c-f", "skill:repair", "standard")
    # H: queued again after Redis lost it (a second ENTERQUEUE), answered 40 s after the first entry, 120 s talk,
    # and its agent is still in wrap-up at 10:00.
    f.enter(at(9, 55, 0), "c-h", "all", "standard")
    f.enter(at(9, 55, 30), "c-h", "all", "standard")
    f.answer(at(9, 55, 40), "c-h", "all", "1001", at(9, 55))
    f.agent_hangs_up(at(9, 57, 40), "c-h", "all", "1001")
    return contacts


def test_floor_figures_for_the_whole_floor_per_queue_and_per_tier(floor: Floor) -> None:
    _a_morning(floor)
    stats = Reports(floor.sessions).floor(PERIOD, threshold_s=20, as_of=at(10))
    assert stats.as_of == at(10)
    # Offered A B C D E F H; answered A B E H (waits 10 30 20 40); abandoned C (50 s) and D (5 s); F waits.
    # Handled A (120 + 30), B (120 + 10), H (120 + 140 of wrap-up so far).
    assert _figures(stats.total) == {
        "offered": 7,
        "answered": 4,
        "answered_within_threshold": 2,
        "abandoned": 2,
        "abandoned_within_threshold": 1,
        "in_queue": 1,
        "handled": 3,
        "service_level": round(2 / (4 + 1), 6),
        "abandon_rate": round(2 / 6, 6),
        "asa_s": 25.0,
        "aht_s": 180.0,
        "average_talk_s": 120.0,
        "average_wrap_up_s": 60.0,
    }
    # Each call counts in the group that answered or lost it: C under the team it escalated to.
    assert list(stats.queues) == ["all", "skill:billing", "skill:repair", "team:key_accounts"]
    billing = stats.queues["skill:billing"]
    assert (billing.offered, billing.answered, billing.answered_within_threshold) == (3, 2, 1)
    assert (billing.abandoned, billing.abandoned_within_threshold, billing.handled) == (1, 1, 2)
    assert billing.service_level == 0.5  # D's short abandon is on neither side
    assert billing.abandon_rate == pytest.approx(1 / 3)
    assert billing.asa_s == pytest.approx(20.0)
    assert billing.aht_s == pytest.approx(140.0)
    team = stats.queues["team:key_accounts"]
    assert (team.offered, team.abandoned, team.service_level, team.abandon_rate, team.asa_s) == (1, 1, 0.0, 1.0, None)
    repair = stats.queues["skill:repair"]
    assert (repair.offered, repair.answered, repair.in_queue, repair.handled) == (2, 1, 1, 0)
    assert (repair.service_level, repair.aht_s) == (1.0, None)  # exactly 20 s is within 20 s
    everyone = stats.queues["all"]
    assert (everyone.offered, everyone.service_level) == (1, 0.0)
    assert everyone.aht_s == pytest.approx(260.0)

    assert list(stats.tiers) == ["attention", "key_account", "standard"]
    key = stats.tiers["key_account"]  # C from the queue log, E from its customer
    assert (key.offered, key.answered, key.abandoned, key.service_level) == (2, 1, 1, 0.5)
    attention = stats.tiers["attention"]
    assert (attention.offered, attention.abandoned, attention.service_level, attention.abandon_rate) == (
        1, 1, None, 1.0,
    )  # fmt: skip
    standard = stats.tiers["standard"]
    assert (standard.offered, standard.answered, standard.in_queue, standard.handled) == (4, 3, 1, 3)


def test_the_day_in_intervals_up_to_now(floor: Floor) -> None:
    _a_morning(floor)
    stats = Reports(floor.sessions).floor(PERIOD, threshold_s=20, interval=timedelta(minutes=30), as_of=at(10))
    # 00:00 to 10:00 in half hours; yesterday's caller is in none of them.
    assert len(stats.intervals) == 20
    assert [i.start for i in stats.intervals[:2]] == [at(0), at(0, 30)]
    assert stats.intervals[-1].end == at(10)
    assert all(i.offered == 0 and i.service_level is None for i in stats.intervals[:18])
    nine, half_past = stats.intervals[18], stats.intervals[19]
    assert (nine.start, nine.offered, nine.answered, nine.answered_within_threshold, nine.abandoned) == (
        at(9), 4, 2, 1, 2,
    )  # fmt: skip
    assert nine.service_level == pytest.approx(1 / 3)  # A within; B late; C late abandon; D short abandon
    assert (half_past.offered, half_past.answered, half_past.abandoned, half_past.service_level) == (3, 2, 0, 0.5)
    assert half_past.asa_s == pytest.approx(30.0)
    # An hour's intervals over the whole day, asked for after it ended.
    hourly = Reports(floor.sessions).floor(PERIOD, 20, timedelta(hours=1), as_of=at(12, days=3))
    assert len(hourly.intervals) == 24 and hourly.as_of == PERIOD.end
    assert [i.offered for i in hourly.intervals[9:11]] == [7, 0]


def test_abandoned_calls_newest_first_with_masked_numbers(floor: Floor) -> None:
    contact_c = _a_morning(floor)["c-c"]
    listed = Reports(floor.sessions).floor(PERIOD, threshold_s=20, as_of=at(10)).abandoned_calls
    assert [(a.callid, a.at) for a in listed] == [("c-d", at(9, 10, 5)), ("c-c", at(9, 5, 50))]
    d, c = listed
    assert (d.caller, d.queue, d.tier, d.waited_s, d.during, d.contact_id) == (
        "", "skill:billing", Tier.ATTENTION, 5.0, "ringing", None,
    )  # fmt: skip
    assert (c.caller, c.queue, c.tier, c.waited_s, c.during, c.contact_id) == (
        "*******5678", "team:key_accounts", Tier.KEY_ACCOUNT, 50.0, "waiting", contact_c,
    )  # fmt: skip
    only_one = Reports(floor.sessions).floor(PERIOD, 20, as_of=at(10), abandoned_listed=1).abandoned_calls
    assert [a.callid for a in only_one] == ["c-d"]


def test_today_reads_only_the_rows_since_the_last_look(floor: Floor) -> None:
    _a_morning(floor)
    reports = Reports(floor.sessions, settle=timedelta(seconds=60))
    first = reports.today(at(10), threshold_s=20)
    assert first.total.offered == 7 and first.period == PERIOD
    # Meanwhile: F is answered and ends, H's agent goes ready, a new caller hangs up; one row arrives late but
    # within the settle time, another so late that it is older than what the live figures read again.
    floor.answer(at(10, 0, 10), "c-f", "skill:repair", "1002", at(9, 50))
    floor.agent_hangs_up(at(10, 1, 10), "c-f", "skill:repair", "1002")
    floor.log(at(10, 1, 20), UNPAUSE, "", "", "1002", "wrapup")
    floor.log(at(9, 58, 0), UNPAUSE, "", "", "1001", "wrapup")
    floor.enter(at(10, 1, 0), "c-i", "skill:billing", "standard")
    floor.log(at(10, 1, 0.5), "ABANDON", "c-i", "", "", "waiting")
    then = reports.today(at(10, 2), threshold_s=20)
    fresh = Reports(floor.sessions).floor(PERIOD, threshold_s=20, as_of=at(10, 2))
    assert then.total == fresh.total and then.queues == fresh.queues and then.tiers == fresh.tiers
    assert then.intervals == fresh.intervals and then.abandoned_calls == fresh.abandoned_calls
    assert (then.total.offered, then.total.answered, then.total.abandoned, then.total.handled) == (8, 5, 3, 4)
    # H's wrap-up now ends at 09:58 (120 + 20), F talked 60 s and wrapped up 10: (150 + 130 + 140 + 70) / 4.
    assert then.total.aht_s == pytest.approx(490 / 4)
    # A row older than the last minute read is not read again by the live figures (a fresh read has it).
    floor.enter(at(9, 59, 0), "c-late", "skill:billing", "standard")
    assert reports.today(at(10, 3), threshold_s=20).total.offered == 8
    assert Reports(floor.sessions).floor(PERIOD, threshold_s=20, as_of=at(10, 3)).total.offered == 9
    # A new day starts afresh.
    tomorrow = reports.today(at(0, 5, days=1), threshold_s=20)
    assert tomorrow.period == Period.local_days(DAY + timedelta(days=1)) and tomorrow.total.offered == 0


def test_a_transferred_call_counts_once_with_the_talk_and_wrap_up_of_every_agent(floor: Floor, tmp_path: Path) -> None:
    f = floor
    # 1001 talks 120 s and transfers to repair (20 s wrap-up); 1002 answers 20 s later, talks 120 s, wraps up 30 s.
    f.enter(at(10), "c-t", "skill:billing", "standard")
    f.answer(at(10, 0, 5), "c-t", "skill:billing", "1001", at(10))
    f.log(at(10, 2, 5), "TRANSFER", "c-t", "skill:repair", "1001")
    f.log(at(10, 2, 5), WRAPUP, "", "", "1001", "10")
    f.log(at(10, 2, 25), UNPAUSE, "", "", "1001", "wrapup")
    f.answer(at(10, 2, 45), "c-t", "skill:repair", "1002", at(10))
    f.agent_hangs_up(at(10, 4, 45), "c-t", "skill:repair", "1002")
    f.log(at(10, 5, 15), UNPAUSE, "", "", "1002", "wrapup")
    # 1001 talks 60 s and transfers; the caller hangs up waiting for the next agent: answered, not abandoned.
    f.enter(at(10, 10), "c-u", "skill:billing", "standard")
    f.answer(at(10, 10, 10), "c-u", "skill:billing", "1001", at(10, 10))
    f.log(at(10, 11, 10), "TRANSFER", "c-u", "all", "1001")
    f.log(at(10, 11, 10), WRAPUP, "", "", "1001", "10")
    f.log(at(10, 11, 20), UNPAUSE, "", "", "1001", "wrapup")
    f.log(at(10, 12), "ABANDON", "c-u", "", "", "waiting")
    reports = Reports(f.sessions)

    waiting_again = reports.floor(PERIOD, threshold_s=20, as_of=at(10, 2, 40)).total
    assert (waiting_again.offered, waiting_again.answered, waiting_again.in_queue, waiting_again.handled) == (
        1,
        1,
        0,
        0,
    )
    stats = reports.floor(PERIOD, threshold_s=20, as_of=at(10, 30))
    total = stats.total
    assert (total.offered, total.answered, total.answered_within_threshold, total.abandoned, total.handled) == (
        2, 2, 2, 0, 2,
    )  # fmt: skip
    assert (total.average_talk_s, total.average_wrap_up_s, total.aht_s) == (150.0, 30.0, 180.0)
    assert list(stats.queues) == ["skill:billing"]  # where they were first answered
    assert stats.abandoned_calls == ()
    one, two = reports.assessment(PERIOD, tmp_path, as_of=at(10, 30))
    assert (one.agent, one.calls_handled, one.average_talk_s, one.average_wrap_up_s) == ("1001", 2, 90.0, 15.0)
    assert (two.agent, two.calls_handled, two.aht_s) == ("1002", 1, 150.0)


# --- the agent assessment ---


@dataclass
class _AssessedDay:
    contacts: dict[str, int]
    recordings: Path


def _an_agents_day(floor: Floor, recordings: Path) -> _AssessedDay:
    f = floor
    agent_id = f.agent("1001", "张三")
    f.agent("1003", "王五")
    contacts: dict[str, int] = {}
    # Paused in a meeting since yesterday evening, ready at 00:10; logged out at 07:00, in again at 08:55.
    f.log(at(23, 30, days=-1), PAUSE, "", "", "1001", "meeting")
    f.log(at(0, 10), UNPAUSE, "", "", "1001")
    f.log(at(7), REMOVEMEMBER, "", "", "1001")
    f.log(at(8, 55), ADDMEMBER, "", "", "1001", "seat1001")
    f.log(at(8, 57), ADDMEMBER, "", "", "1001", "seat1001")  # logging in again changes nothing
    f.log(at(8, 59), UNPAUSE, "", "", "1001")
    for call, caller, answered, talk_s, wrap_s, ended_by in (
        ("c-a", "13811110001", at(9, 0, 10), 120, 30, "agent"),
        ("c-x", "13811110002", at(15), 300, 10, "caller"),
        ("c-y", "13811110003", at(16), 600, 20, "agent"),
        ("c-z", "13811110004", at(23, 40), 600, 30, "agent"),
    ):
        contacts[call] = f.contact(call, caller, answered - timedelta(seconds=60))
        f.enter(answered - timedelta(seconds=15), call, "skill:billing", "standard")
        f.answer(answered, call, "skill:billing", "1001", answered - timedelta(seconds=15))
        ended = answered + timedelta(seconds=talk_s)
        if ended_by == "agent":
            f.agent_hangs_up(ended, call, "skill:billing", "1001")
        else:
            f.caller_hangs_up(ended, call, "1001")
        after = ended + timedelta(seconds=wrap_s)
        if call == "c-y":
            f.log(after, PAUSE, "", "", "1001", "training")
            f.log(at(16, 50), UNPAUSE, "", "", "1001")
        elif call == "c-z":
            # Still paused at midnight: only the part before it counts.
            f.log(after, PAUSE, "", "", "1001", "end of shift")
            f.log(at(0, 30, days=1), UNPAUSE, "", "", "1001")
        else:
            f.log(after, UNPAUSE, "", "", "1001", "wrapup")
        if call == "c-a":
            f.log(at(11), PAUSE, "", "", "1001", "lunch")
            f.log(at(11, 45), UNPAUSE, "", "", "1001")
            f.log(at(14), PAUSE, "", "", "1001", "break")
            f.log(at(14, 10), PAUSE, "", "", "1001", "lunch")
            f.log(at(14, 20), UNPAUSE, "", "", "1001")
    f.survey(contacts["c-a"], 5)
    f.survey(contacts["c-x"], 3)
    # A call crm gives the agent without a queue-log row of it (as the demo data has): its score counts too.
    crm_only = f.contact("c-crm", "13811110005", at(12), agent_id=agent_id, agent_answered_at=at(12, 0, 30))
    f.survey(crm_only, 4)
    # Not the agent's, or not the day's: not counted.
    earlier = f.contact("c-old", "13811110006", at(12, days=-1), agent_id=agent_id, agent_answered_at=at(12, days=-1))
    f.survey(earlier, 1)
    # Agent 1002 (unknown to crm) answered at 23:58 and is still talking at midnight.
    f.enter(at(23, 57, 50), "c-w", "all", "standard")
    f.answer(at(23, 58), "c-w", "all", "1002", at(23, 57, 50))
    f.agent_hangs_up(at(0, 5, days=1), "c-w", "all", "1002")
    recordings.mkdir(exist_ok=True)
    for call in ("c-a", "c-y", "c-w"):
        (recordings / f"acd-{call}.wav").write_bytes(b"RIFF")
    return _AssessedDay(contacts, recordings)


def test_an_agents_assessment_for_a_day(floor: Floor, tmp_path: Path) -> None:
    day = _an_agents_day(floor, tmp_path / "monitor")
    found = Reports(floor.sessions).assessment(PERIOD, day.recordings, as_of=at(9, days=5))
    assert [a.agent for a in found] == ["1001", "1002"]  # 1003 did nothing that day
    one = found[0]
    assert (one.name, one.as_of, one.calls_answered, one.calls_handled) == ("张三", PERIOD.end, 4, 4)
    # Talk 120 300 600 600, wrap-up 30 10 20 30 (ended by ready, ready, a pause, a pause).
    assert one.aht_s == pytest.approx((150 + 310 + 620 + 630) / 4)
    assert one.average_talk_s == pytest.approx(405.0)
    assert one.average_wrap_up_s == pytest.approx(22.5)
    assert one.satisfaction_count == 3 and one.satisfaction_average == pytest.approx(4.0)
    assert [(p.reason, round(p.seconds, 3), p.pauses) for p in one.pauses] == [
        ("lunch", 2700 + 600, 2),
        ("training", 2380, 1),  # 16:10:20 to 16:50
        ("break", 600, 1),
        ("meeting", 600, 1),  # from midnight, not from 23:30 the day before
        ("end of shift", 570, 1),  # 23:50:30 to midnight
        ("login", 240, 1),  # 08:55 to the first ready; the second login changed nothing
    ]
    assert one.pause_s == pytest.approx(3300 + 2380 + 600 + 600 + 570 + 240)
    assert [(r.uniqueid, r.contact_id, r.caller, r.duration_s) for r in one.recordings] == [
        ("c-y", day.contacts["c-y"], "*******0003", 600.0),
        ("c-a", day.contacts["c-a"], "*******0001", 120.0),
    ]
    assert one.recordings[0].started_at == at(15, 59) and one.recordings[0].answered_at == at(16)
    two = found[1]
    assert (two.name, two.calls_answered, two.calls_handled, two.aht_s, two.satisfaction_average) == (
        None, 1, 0, None, None,
    )  # fmt: skip
    # Its recording exists; the call had not ended at midnight and has no contact row.
    assert [(r.uniqueid, r.contact_id, r.caller, r.duration_s) for r in two.recordings] == [("c-w", None, "", None)]


def test_an_assessment_as_at_now_counts_the_open_pause_up_to_now(floor: Floor, tmp_path: Path) -> None:
    day = _an_agents_day(floor, tmp_path / "monitor")
    reports = Reports(floor.sessions, clock=lambda: at(16, 30))
    one = reports.agent_assessment("1001", PERIOD, day.recordings)
    assert one.as_of == at(16, 30)
    assert (one.calls_answered, one.calls_handled) == (3, 3)  # c-z is still to come
    assert dict((p.reason, round(p.seconds, 3)) for p in one.pauses)["training"] == 1180  # 16:10:20 to 16:30
    assert "end of shift" not in {p.reason for p in one.pauses}
    idle = reports.agent_assessment("1003", PERIOD, day.recordings)
    assert (idle.name, idle.calls_answered, idle.pause_s, idle.pauses, idle.recordings) == ("王五", 0, 0.0, (), ())


# --- contacts ---


def test_contacts_by_caller_number_with_what_happened_to_each(floor: Floor) -> None:
    f = floor
    agent_id = f.agent("1001", "张三")
    account = f.account(Tier.KEY_ACCOUNT)
    path = [{"step": "greeting", "key": "0", "attempt": 1}, {"step": "to_person", "reason": "asked for a person"}]
    older = f.contact("c-1", "13812345678", at(8), ivr_path=path, digits="0", outcome="human", account_id=account)
    newer = f.contact(
        "c-2",
        "+8613812345678",
        at(9),
        ended_at=at(9, 5),
        digits="1",
        outcome="human",
        queue="skill:billing",
        queued_at=at(9, 0, 30),
        agent_id=agent_id,
        agent_answered_at=at(9, 0, 45),
        agent_ended_at=at(9, 4),
        disposition="billing",
    )
    f.contact("c-3", "13900001111", at(9, 30))
    f.survey(newer, 4)
    f.enter(at(8, 1), "c-1", "agent:1004", "")
    f.log(at(8, 1), "RINGING", "c-1", "agent:1004", "1004", "seat1004")
    f.log(at(8, 1, 15), "RINGNOANSWER", "c-1", "", "1004", "18", "ready")
    f.log(at(8, 1, 20), "ABANDON", "c-1", "", "", "waiting")
    f.enter(at(9, 0, 30), "c-2", "skill:billing", "standard")
    f.answer(at(9, 0, 45), "c-2", "skill:billing", "1001", at(9, 0, 30))
    f.agent_hangs_up(at(9, 4), "c-2", "skill:billing", "1001")

    reports = Reports(floor.sessions)
    for asked in ("13812345678", "+86 138 1234 5678"):
        found = reports.contacts_by_caller(asked)
        assert [c.id for c in found] == [newer, older], asked
    found = reports.contacts_by_caller("+8613812345678")
    assert [c.id for c in found] == [newer, older]
    second, first = found
    assert (first.ivr_path, first.digits, first.outcome, first.account_number) == (
        tuple(path), "0", "human", account_numbers.make(42, 1),
    )  # fmt: skip
    assert (first.queue, first.agent, first.satisfaction) == (None, None, None)
    assert [(e.time, e.event, e.queue, e.agent, e.data[0]) for e in first.queue_events] == [
        (at(8, 1), "ENTERQUEUE", "agent:1004", "", "5"),
        (at(8, 1), "RINGING", "agent:1004", "1004", "seat1004"),
        (at(8, 1, 15), "RINGNOANSWER", "", "1004", "18"),
        (at(8, 1, 20), "ABANDON", "", "", "waiting"),
    ]
    assert first.acd is not None
    assert (first.acd.queue, first.acd.tier, first.acd.wait_s, first.acd.abandoned_at) == (
        "agent:1004", Tier.KEY_ACCOUNT, 20.0, at(8, 1, 20),
    )  # fmt: skip
    assert (second.caller_number, second.queue, second.agent, second.disposition, second.satisfaction) == (
        "+8613812345678", "skill:billing", "1001", "billing", 4,
    )  # fmt: skip
    assert (second.queued_at, second.agent_answered_at, second.agent_ended_at) == (at(9, 0, 30), at(9, 0, 45), at(9, 4))
    assert [e.event for e in second.queue_events] == ["ENTERQUEUE", "RINGING", "CONNECT", "COMPLETEAGENT"]
    assert second.acd is not None and (second.acd.agent, second.acd.wait_s, second.acd.talk_s) == ("1001", 15.0, 195.0)

    assert [c.id for c in reports.contacts_by_caller("13812345678", limit=1)] == [newer]
    assert reports.contacts_by_caller("13700000000") == ()
    assert reports.contact(older) == first
    assert reports.contact(newer + 100) is None


# --- the counting rules, without a database ---

T0 = at(9)


def _row(
    n: int, seconds: float, event: str, call: str = "", queue: str = "", agent: str = "", d1: str = ""
) -> QueueRow:
    return QueueRow(n, T0 + timedelta(seconds=seconds), call, queue, agent, event, d1, "")


def test_a_call_is_the_same_whatever_order_its_rows_come_in() -> None:
    rows = [
        _row(1, 0, "ENTERQUEUE", "c", "skill:billing"),
        _row(2, 20, "ESCALATE", "c", "all"),
        _row(3, 30, "ENTERQUEUE", "c", "all"),
        _row(4, 35, CONNECT, "c", "all", "1001"),
        _row(5, 60, "ESCALATE", "c", "skill:late"),  # a timer that fired during the conversation
        _row(6, 95, "COMPLETEAGENT", "c", "all", "1001"),
    ]
    forwards, backwards = CallRows(), CallRows()
    for r in rows:
        forwards.add(r)
    for r in reversed(rows):
        backwards.add(r)
    call = forwards.call("c")
    assert call == backwards.call("c")
    assert call is not None
    assert (call.entered_at, call.entered_queue, call.queue, call.wait_s, call.talk_s) == (
        T0,
        "skill:billing",
        "all",
        35.0,
        60.0,
    )


def test_wrap_up_and_pauses_follow_the_agents_changes_of_state() -> None:
    timeline = follow_agent(
        [
            _row(1, 0, ADDMEMBER, agent="1001"),
            _row(2, 10, UNPAUSE, agent="1001"),
            _row(3, 20, CONNECT, "c1", "all", "1001"),
            _row(4, 80, WRAPUP, agent="1001", d1="10"),
            _row(5, 85, PAUSE, agent="1001", d1="break"),  # ends the wrap-up after 5 s
            _row(6, 100, REMOVEMEMBER, agent="1001"),
            _row(7, 200, ADDMEMBER, agent="1001"),
        ]
    )
    assert timeline.wrap_ups == (WrapUp("c1", T0 + timedelta(seconds=80), T0 + timedelta(seconds=85)),)
    assert timeline.pauses == (
        Pause("login", T0, T0 + timedelta(seconds=10)),
        Pause("break", T0 + timedelta(seconds=85), T0 + timedelta(seconds=100)),
        Pause("login", T0 + timedelta(seconds=200), None),
    )


def test_caller_numbers_show_only_their_last_four_digits() -> None:
    assert mask_caller("13812345678") == "*******5678"
    assert mask_caller("+8613812345678") == "**********5678"
    assert mask_caller("1234") == "1234"
    assert mask_caller("") == ""


def test_a_local_day_runs_from_local_midnight() -> None:
    period = Period.local_days(date(2026, 11, 2), date(2026, 11, 3))
    assert period.start.astimezone(periods.LOCAL).hour == 0
    assert period.start.isoformat() == "2026-11-02T00:00:00+08:00"
    assert (period.end - period.start) == timedelta(days=2)
    assert Period.today(datetime.fromisoformat("2026-11-01T16:30:00+00:00")) == Period.local_days(DAY)
