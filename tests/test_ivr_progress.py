"""What the IVR reports (ivr/progress.py) lands in a real Redis: the events on the shared stream in order, the
calls now in self-service, and the day's funnel that the monitor reads (reporting/ivr_funnel.py); and with Redis away,
reporting costs a call nothing and raises nothing."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime

import pytest
import redis

from hotline.events import STREAM
from ivr.progress import IvrProgress
from reporting import ivr_funnel
from testbed.sandbox import free_port
from tests.conftest import wait_for

NOON = datetime(2026, 12, 7, 4, 0, tzinfo=UTC)  # 12:00 in Beijing


@pytest.fixture
def client(redis_url: str) -> redis.Redis:
    r = redis.Redis.from_url(redis_url, decode_responses=True)
    r.flushall()
    return r


def _caller(progress: IvrProgress, call: str, line: str, *steps: tuple[str, str]) -> None:
    progress.report("ivr.start", call, line=line, contact=1, sip_call_id=f"sip-{call}")
    for menu, key in steps:
        progress.report("ivr.wait", call, menu=menu, attempt=1, line=line)
        progress.report("ivr.key", call, menu=menu, attempt=1, key=key)


def test_events_go_out_in_order_and_the_funnel_counts_each_way_out(client: redis.Redis, redis_url: str) -> None:
    progress = IvrProgress(redis.Redis.from_url(redis_url), clock=lambda: NOON)
    _caller(progress, "c1", "main", ("language", "1"), ("main_menu", "3"))
    progress.report("ivr.end", "c1", line="main", outcome="completed", at="repair_reset", reason="", failed_at="")
    _caller(progress, "c2", "main", ("language", "1"))
    progress.report("ivr.wait", "c2", menu="repair_scope", attempt=1, line="main")
    progress.report("ivr.end", "c2", line="main", outcome="abandoned", at="repair_scope", reason="", failed_at="")
    _caller(progress, "c3", "key", ("main_menu", "7"))
    progress.report(
        "ivr.end", "c3", line="key", outcome="human", at="main_menu", reason="3 failures", failed_at="main_menu"
    )
    # The survey after an agent is reported, but is not a call into self-service.
    _caller(progress, "c1", "survey", ("survey", "5"))
    progress.report("ivr.end", "c1", line="survey", outcome="completed", at="survey", reason="", failed_at="")
    # Still in self-service: waiting at the main menu.
    _caller(progress, "c4", "main", ("language", "2"))
    progress.report("ivr.wait", "c4", menu="main_menu", attempt=2, line="main")
    assert progress.flush()

    events = [json.loads(fields["event"]) for _, fields in client.xrange(STREAM)]
    assert [(e["type"], e["call"]) for e in events[:6]] == [
        ("ivr.start", "c1"),
        ("ivr.wait", "c1"),
        ("ivr.key", "c1"),
        ("ivr.wait", "c1"),
        ("ivr.key", "c1"),
        ("ivr.end", "c1"),
    ]
    assert events[1]["data"] == {"menu": "language", "attempt": 1, "line": "main"}
    assert {e["queue"] for e in events} == {None} and {e["agent"] for e in events} == {None}

    now = client.hgetall(ivr_funnel.NOW_KEY)
    assert list(now) == ["c4"] and json.loads(now["c4"])["menu"] == "main_menu"
    day = client.hgetall(ivr_funnel.day_key(NOON))
    assert day == {
        "calls": "3",
        "outcome:completed": "1",
        "outcome:abandoned": "1",
        "outcome:human": "1",
        "gave_up:repair_scope": "1",
        "failed:main_menu": "1",
    }
    assert 0 < client.ttl(ivr_funnel.day_key(NOON)) <= ivr_funnel.DAY_KEEP_S
    seen = ivr_funnel.funnel(now, day, json.loads(now["c4"])["since"])
    assert (seen.in_ivr, seen.at_menu, seen.calls_today) == (1, {"main_menu": 1}, 3)
    assert seen.containment == pytest.approx(1 / 3)
    progress.close()


def test_with_redis_away_reporting_raises_nothing_and_says_so_once(caplog: pytest.LogCaptureFixture) -> None:
    progress = IvrProgress(redis.Redis.from_url(f"redis://127.0.0.1:{free_port()}/0", socket_connect_timeout=0.2))
    with caplog.at_level(logging.WARNING, logger="ivr.progress"):
        for n in range(50):
            _caller(progress, f"gone{n}", "main", ("language", "1"))
        assert progress.flush(timeout=20)
    warnings = [r.getMessage() for r in caplog.records if r.name == "ivr.progress"]
    assert len(warnings) == 1 and "Redis unavailable" in warnings[0]
    progress.close()


def test_reports_beyond_the_backlog_are_dropped_counted_and_said_once(
    client: redis.Redis, redis_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    """Redis paused (CLIENT PAUSE) holds the sending thread; meanwhile the calls report on. What does not fit in
    the backlog is dropped at once, counted and said once; the call never waits. The rest arrives afterwards."""
    progress = IvrProgress(redis.Redis.from_url(redis_url, socket_timeout=10), backlog=5)
    client.client_pause(1500)
    with caplog.at_level(logging.WARNING, logger="ivr.progress"):
        progress.report("ivr.wait", "c0", menu="main_menu", attempt=1, line="main")
        # The sending thread has taken the first report and waits for Redis with it.
        wait_for(lambda: progress._queue.qsize() == 0)
        for n in range(1, 100):
            progress.report("ivr.wait", f"c{n}", menu="main_menu", attempt=1, line="main")
        assert progress.flush(timeout=30)
    # Sent: the first, then the backlog's five that waited; the other 94 were dropped.
    assert progress.dropped == 94
    assert client.xlen(STREAM) == 6
    dropping = [r.getMessage() for r in caplog.records if "dropping" in r.getMessage()]
    assert dropping == ["IVR progress: 5 reports waiting for Redis; dropping new ones"]
    progress.close()


def test_an_ivr_without_redis_reports_nothing() -> None:
    silent = IvrProgress(None)
    silent.report("ivr.start", "c1", line="main", contact=1, sip_call_id="x")
    assert silent.flush() and silent._thread is None
