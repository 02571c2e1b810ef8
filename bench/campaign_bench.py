"""The outbound dialler at the carrier's pace: a planned-outage notice to `callees` customers, called through the
real Asterisk to real SIP phones on the carrier's side, each answering and pressing 2 a couple of seconds into the
notice.

    .venv/bin/python bench/campaign_bench.py [--callees 40] [--rate 2] [--concurrent 10] [--key-after 2]

The trunk's pace (calls started per second, calls up at once) is the policy's (campaigns/policy.toml) unless given.
The campaign service's clock is set inside the allowed hours, so the run does not depend on the time of day.
The callees are one user agent of the SIP stack answering for every number (SipStack.callees), as a carrier's
network does, and measure nothing of the audio: thousands of them cost no more to the stack than one.
Measured:
  setup_s         seeding the customers under one outage, and creating the campaign from it
  calls           attempts placed and their outcomes, lost ones (claimed, never reported) included; callees
                  reached; callees called more than once or never; whether every callee confirmed exactly once
  wall_s          from the campaign's start to its finish
  starts          achieved starts per second over the run and over its steady part (the middle 80% of starts), the
                  smallest and the median spacing between two starts (the policy's spacing is 1 / rate), the most
                  calls up at once (never above `concurrent`) and the share of the steady part spent at that cap
  call_s          p50/p99 of a call's length on the trunk, from its start to its end for the dialler
  service_ms      p50/p99 of the service calls the dialler makes: claiming (next_attempts) and recording outcomes
  cpu_s, rss_mb   CPU seconds of Asterisk and of this process (the dialler and the callees' SIP stack) in the run;
                  the most memory each held
Prints one JSON document.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from campaigns.policy import load_policy
from campaigns.records import Attempt, Recorded
from campaigns.rules import CalleeState, CampaignPolicy, CampaignState, Outcome, Pace
from campaigns.service import CampaignService
from crm import account_numbers
from crm.vocabulary import OutageKind, OutageScope
from cti.ari import Ari
from cti.outbound.dialler import Dialler
from cti.outbound.services import Call
from demo.builders import (
    DaytimeClock,
    NewAccount,
    NewCustomer,
    add_county,
    add_customers,
    add_feeder,
    add_outage,
    add_substation,
)
from hotline.stack import Hotline
from ivr import speech
from testbed.sandbox import free_port, sandbox_config
from testbed.softphone import SipStack

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))] if ordered else 0.0


def process_cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def peak_rss_mb(pid: int | str) -> float:
    """The most resident memory the process has held (VmHWM)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return round(int(line.split()[1]) / 1024, 1)
    return 0.0


class TimedDialler(Dialler):
    """The dialler, noting how long each call held its room on the trunk."""

    call_s: list[float]

    def _call_ended(self, call: Call) -> None:
        self.call_s.append(time.monotonic() - call.started)
        super()._call_ended(call)


class TimedService(CampaignService):
    """The campaign service, timing the calls the dialler makes of it."""

    claims_ms: list[float]
    records_ms: list[float]

    def next_attempts(self, now: datetime | None = None, limit: int = 10, trunk: str | None = None) -> list[Attempt]:
        started = time.perf_counter()
        try:
            return super().next_attempts(now, limit, trunk)
        finally:
            self.claims_ms.append((time.perf_counter() - started) * 1000)

    def record_outcome(self, attempt: Attempt | int, outcome: Outcome, at: datetime | None = None) -> Recorded:
        started = time.perf_counter()
        try:
            return super().record_outcome(attempt, outcome, at)
        finally:
            self.records_ms.append((time.perf_counter() - started) * 1000)


def make_callees(sessions: Any, phones: list[str]) -> int:
    """An area of its own with one customer per phone, and a planned outage over it; returns the outage's id.
    Each kind of row goes in as one batch (one flush each): a flush per row costs seconds at thousands."""
    now = datetime.now(UTC)
    stamp = time.time_ns()
    with sessions.begin() as s:
        county = add_county(s, f"B{stamp % 100000}", "压测县供电公司")
        substation = add_substation(s, county.id, f"B-SUB-{stamp}", "压测变")
        area_code = f"B-A-{stamp}"
        feeder = add_feeder(s, substation.id, f"B-F-{stamp}", "10千伏压测线", [(area_code, "压测台区")])
        callees = [
            NewCustomer(
                name="压测客户",
                created_at=now,
                phones=[(phone, "mobile")],
                accounts=[
                    NewAccount(
                        number=account_numbers.make(98, 500000 + i),
                        transformer_area_id=feeder.areas[area_code],
                        box_code=f"B-BOX-{stamp}-{i - 1}",
                        meter_number=f"B-M-{stamp}-{i - 1}",
                        address="压测路1号",
                        opened_on=now.date() - timedelta(days=400),
                    )
                ],
            )
            for i, phone in enumerate(phones, 1)
        ]
        add_customers(s, callees)
        return add_outage(
            s,
            OutageKind.PLANNED_MAINTENANCE,
            OutageScope.TRANSFORMER_AREAS,
            starts_at=now + timedelta(days=1),
            expected_restoration_at=now + timedelta(days=1, hours=6),
            reason="计划检修",
            created_at=now,
            transformer_area_ids=[feeder.areas[area_code]],
        )


def run(args: argparse.Namespace, state_dir: Path) -> dict[str, Any]:
    sip = SipStack("127.0.0.1", free_port())
    # The stack's own dialler would claim callees too: only the measured one dials.
    hotline = Hotline(sandbox_config(state_dir, trunk_port=sip.port, HOTLINE_OUTBOUND_DIALLER="0"))
    hotline.start()
    try:
        cfg = hotline.config
        policy = load_policy()
        pace = policy.trunks[policy.default_trunk]
        rate = args.rate or pace.calls_per_second
        concurrent = args.concurrent or pace.max_concurrent
        policy = CampaignPolicy(
            policy.hours, policy.retries, {policy.default_trunk: Pace(rate, concurrent)}, policy.default_trunk,
            policy.claim_timeout, policy.manager_tiers,
        )  # fmt: skip
        # 10:00 local: inside every kind's allowed hours.
        service = TimedService(hotline.contacts.sessions, policy, clock=DaytimeClock(10))
        service.claims_ms, service.records_ms = [], []
        phones = [f"137{time.time_ns() % 10_000_000 + i:08d}" for i in range(args.callees)]
        domain = f"{cfg.sip.host}:{cfg.sip.port}"
        callees = sip.run(sip.callees(phones, domain, keys="2", key_after=args.key_after, listen=False))
        setup_started = time.monotonic()
        outage = make_callees(hotline.contacts.sessions, phones)
        seeded = time.monotonic()
        campaign = service.create_for_outage(outage, "bench").campaign.id
        created = time.monotonic()

        loop = asyncio.new_event_loop()
        threading.Thread(target=loop.run_forever, name="dialler", daemon=True).start()
        ari = Ari(cfg.ari.host, cfg.ari.port, cfg.ari.user, cfg.secrets.ari_password)
        dialler = TimedDialler(ari, service, speech)
        dialler.call_s = []
        task = asyncio.run_coroutine_threadsafe(dialler.run(), loop)
        while not dialler.connected.is_set():
            time.sleep(0.05)
        pacer = dialler.pacers[policy.default_trunk]
        asterisk_pid = hotline.asterisk.process.pid if hotline.asterisk.process else None
        cpu_before = (process_cpu_seconds(asterisk_pid) if asterisk_pid else 0.0, time.process_time())
        started = time.monotonic()
        service.start(campaign)
        live: list[tuple[float, int]] = []  # (monotonic, calls up), sampled every 50 ms
        # Room for every call to take 20 s at the cap, before a run that stalls is given up.
        deadline = started + 120 + args.callees * max(1 / rate, 20 / concurrent)
        finished = False
        while not finished and time.monotonic() < deadline:
            for _ in range(20):  # the campaign's state once a second: polling it costs this process's CPU
                live.append((time.monotonic(), pacer.live))
                time.sleep(0.05)
            finished = service.campaign(campaign).state is CampaignState.FINISHED
        wall = time.monotonic() - started
        cpu_after = (process_cpu_seconds(asterisk_pid) if asterisk_pid else 0.0, time.process_time())
        while dialler.calls and time.monotonic() < deadline:
            time.sleep(0.1)
        loop.call_soon_threadsafe(task.cancel)
        asyncio.run_coroutine_threadsafe(ari.close(), loop).result(10)
        progress = service.progress(campaign)
        starts = sorted(at for _, at in dialler.starts)
        gaps = [b - a for a, b in itertools.pairwise(starts)]
        trim = len(starts) // 10
        steady = starts[trim : len(starts) - trim]
        in_steady = [n for at, n in live if steady and steady[0] <= at <= steady[-1]]
        called = [len(c.offered_at) for c in callees]
        outcomes = {o.value: n for o, n in progress.by_outcome.items() if n}
        return {
            "policy": {"calls_per_second": rate, "max_concurrent": concurrent, "spacing_s": round(1 / rate, 3)},
            "setup_s": {"seed": round(seeded - setup_started, 1), "create_campaign": round(created - seeded, 1)},
            "calls": {
                "callees": args.callees,
                "attempts": progress.attempts,
                "placed": len(starts),
                "outcomes": outcomes,
                "lost": outcomes.get(Outcome.LOST.value, 0),
                "reached": progress.by_state[CalleeState.REACHED],
                "finished": progress.state is CampaignState.FINISHED,
                "called_more_than_once": sum(1 for n in called if n > 1),
                "never_called": sum(1 for n in called if n == 0),
                "each_confirmed_once": all(n == 1 for n in called)
                and all(c.answered == 1 for c in callees)
                and outcomes == {Outcome.CONFIRMED.value: args.callees},
            },
            "wall_s": round(wall, 1),
            "starts": {
                "per_second": per_second(starts),
                "per_second_steady": per_second(steady),
                "min_spacing_s": round(min(gaps), 3) if gaps else None,
                "median_spacing_s": round(percentile(gaps, 50), 3) if gaps else None,
                "peak_concurrent": max((n for _, n in live), default=0),
                "at_cap_share_steady": round(sum(n >= concurrent for n in in_steady) / len(in_steady), 2)
                if in_steady
                else None,
            },
            "call_s": {
                "p50": round(percentile(dialler.call_s, 50), 2),
                "p99": round(percentile(dialler.call_s, 99), 2),
            },
            "service_ms": {
                "claim_p50": round(percentile(service.claims_ms, 50), 1),
                "claim_p99": round(percentile(service.claims_ms, 99), 1),
                "record_p50": round(percentile(service.records_ms, 50), 1),
                "record_p99": round(percentile(service.records_ms, 99), 1),
            },
            "cpu_s": {
                "asterisk": round(cpu_after[0] - cpu_before[0], 2),
                "dialler_and_callees": round(cpu_after[1] - cpu_before[1], 2),
            },
            "rss_mb": {
                "asterisk": peak_rss_mb(asterisk_pid) if asterisk_pid else None,
                "dialler_and_callees": peak_rss_mb("self"),
            },
        }
    finally:
        hotline.stop()
        sip.close()


def per_second(starts: list[float]) -> float | None:
    return round((len(starts) - 1) / (starts[-1] - starts[0]), 3) if len(starts) > 1 else None


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--callees", type=int, default=40)
    parser.add_argument("--rate", type=float, default=0.0, help="calls started per second (default: the policy's)")
    parser.add_argument("--concurrent", type=int, default=0, help="calls up at once (default: the policy's)")
    parser.add_argument("--key-after", type=float, default=2.0, help="seconds after answer before a callee presses 2")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="campaign-bench-") as state_dir:
        result = run(args, Path(state_dir))
    print(json.dumps(result, indent=2, ensure_ascii=False))
    return 0 if result["calls"]["finished"] and result["calls"]["each_confirmed_once"] else 1


if __name__ == "__main__":
    sys.exit(main())
