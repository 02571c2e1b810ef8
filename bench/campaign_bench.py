"""The outbound dialler at the carrier's pace: a planned-outage notice to `callees` customers, called through the
real Asterisk to real SIP phones on the carrier's side, each answering and pressing 2 a couple of seconds into the
notice.

    .venv/bin/python bench/campaign_bench.py [--callees 40] [--rate 2] [--concurrent 10] [--key-after 2]

The trunk's pace (calls started per second, calls up at once) is the policy's (crm/campaigns.toml) unless given.
The campaign service's clock is set inside the allowed hours, so the run does not depend on the time of day.
Measured:
  calls           attempts placed and their outcomes; callees reached; whether every callee was called once only
  wall_s          from the campaign's start to its finish
  starts          achieved starts per second over the run, the smallest and the median spacing between two starts
                  (the policy's spacing is 1 / rate), and the most calls up at once (never above `concurrent`)
  service_ms      p50/p99 of the service calls the dialler makes: claiming (next_attempts) and recording outcomes
  cpu_s           CPU seconds of Asterisk and of this process (the dialler and the callees' SIP stack) in the run
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

from crm import account_numbers
from crm.campaign_service import Attempt, CampaignService, Recorded
from crm.campaigns import CalleeState, CampaignPolicy, CampaignState, Outcome, Pace, load_policy
from crm.models import (
    Account,
    CountyCompany,
    Customer,
    CustomerPhone,
    Feeder,
    Meter,
    MeterBox,
    Outage,
    OutageArea,
    OutageKind,
    OutageScope,
    Substation,
    SupplyPoint,
    TransformerArea,
)
from crm.periods import LOCAL
from crm.tiers import CustomerClass, Tier
from cti.ari import Ari
from cti.dialler import Dialler
from hotline.sandbox import free_udp_port, sandbox_config
from hotline.softphone import Callee, SipStack
from hotline.stack import Hotline
from ivr import speech

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))] if ordered else 0.0


def process_cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


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


def daytime_clock() -> Any:
    """10:00 local today, running on in real time: inside every kind's allowed hours."""
    base = datetime.now(LOCAL).replace(hour=10, minute=0, second=0, microsecond=0).astimezone(UTC)
    started = time.monotonic()
    return lambda: base + timedelta(seconds=time.monotonic() - started)


def make_callees(sessions: Any, phones: list[str]) -> int:
    """An area of its own with one customer per phone, and a planned outage over it; returns the outage's id."""
    now = datetime.now(UTC)
    stamp = time.time_ns()
    with sessions.begin() as s:
        county = CountyCompany(code=f"B{stamp % 100000}", name="压测县供电公司")
        s.add(county)
        s.flush()
        substation = Substation(code=f"B-SUB-{stamp}", name="压测变", voltage_kv=110, county_company_id=county.id)
        s.add(substation)
        s.flush()
        feeder = Feeder(code=f"B-F-{stamp}", name="10千伏压测线", substation_id=substation.id)
        s.add(feeder)
        s.flush()
        area = TransformerArea(code=f"B-A-{stamp}", name="压测台区", feeder_id=feeder.id, capacity_kva=400)
        s.add(area)
        s.flush()
        for i, phone in enumerate(phones, 1):
            customer = Customer(
                name="压测客户", customer_class=CustomerClass.RESIDENTIAL, tier=Tier.STANDARD, contracted_kva=8,
                account_manager_id=None, verification_hash=None, created_at=now,
            )  # fmt: skip
            s.add(customer)
            s.flush()
            s.add(CustomerPhone(customer_id=customer.id, number=phone, kind="mobile"))
            box = MeterBox(code=f"B-BOX-{stamp}-{i}", transformer_area_id=area.id)
            s.add(box)
            s.flush()
            meter = Meter(number=f"B-M-{stamp}-{i}", meter_box_id=box.id, shared=False)
            s.add(meter)
            s.flush()
            point = SupplyPoint(address="压测路1号", transformer_area_id=area.id, meter_id=meter.id)
            s.add(point)
            s.flush()
            s.add(
                Account(
                    number=account_numbers.make(98, 500000 + i), customer_id=customer.id, supply_point_id=point.id,
                    prepaid=False, balance_fen=0, opened_on=now.date() - timedelta(days=400),
                )
            )  # fmt: skip
        outage = Outage(
            kind=OutageKind.PLANNED_MAINTENANCE,
            scope=OutageScope.TRANSFORMER_AREAS,
            starts_at=now + timedelta(days=1),
            expected_restoration_at=now + timedelta(days=1, hours=6),
            reason="计划检修",
            created_at=now,
        )
        s.add(outage)
        s.flush()
        s.add(OutageArea(outage_id=outage.id, transformer_area_id=area.id))
        return outage.id


def run(args: argparse.Namespace, state_dir: Path) -> dict[str, Any]:
    sip = SipStack("127.0.0.1", free_udp_port())
    hotline = Hotline(sandbox_config(state_dir, trunk_port=sip.port))
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
        service = TimedService(hotline.contacts.sessions, policy, clock=daytime_clock())
        service.claims_ms, service.records_ms = [], []
        phones = [f"137{time.time_ns() % 10_000_000 + i:08d}" for i in range(args.callees)]
        domain = f"{cfg.sip.host}:{cfg.sip.port}"
        callees: list[Callee] = [
            sip.run(sip.callee(p, domain, keys="2", key_after=args.key_after, listen=False)) for p in phones
        ]
        campaign = service.create_for_outage(make_callees(hotline.contacts.sessions, phones), "bench").campaign.id

        loop = asyncio.new_event_loop()
        threading.Thread(target=loop.run_forever, name="dialler", daemon=True).start()
        ari = Ari(cfg.ari.host, cfg.ari.port, cfg.ari.user, cfg.secrets.ari_password)
        dialler = Dialler(ari, service, speech)
        task = asyncio.run_coroutine_threadsafe(dialler.run(), loop)
        while not dialler.connected.is_set():
            time.sleep(0.05)
        pacer = dialler.pacers[policy.default_trunk]
        asterisk_pid = hotline.asterisk.process.pid if hotline.asterisk.process else None
        cpu_before = (process_cpu_seconds(asterisk_pid) if asterisk_pid else 0.0, time.process_time())
        started = time.monotonic()
        service.start(campaign)
        peak = 0
        deadline = started + 60 + args.callees * (1 / rate + 30)
        while service.campaign(campaign).state is not CampaignState.FINISHED and time.monotonic() < deadline:
            peak = max(peak, pacer.live)
            time.sleep(0.05)
        wall = time.monotonic() - started
        cpu_after = (process_cpu_seconds(asterisk_pid) if asterisk_pid else 0.0, time.process_time())
        while dialler.calls and time.monotonic() < deadline:
            time.sleep(0.1)
        loop.call_soon_threadsafe(task.cancel)
        asyncio.run_coroutine_threadsafe(ari.close(), loop).result(10)
        progress = service.progress(campaign)
        starts = sorted(at for _, at in dialler.starts)
        gaps = [b - a for a, b in itertools.pairwise(starts)]
        return {
            "policy": {"calls_per_second": rate, "max_concurrent": concurrent, "spacing_s": round(1 / rate, 3)},
            "calls": {
                "callees": args.callees,
                "attempts": progress.attempts,
                "outcomes": {o.value: n for o, n in progress.by_outcome.items() if n},
                "reached": progress.by_state[CalleeState.REACHED],
                "finished": progress.state is CampaignState.FINISHED,
                "each_called_once": all(len(c.offered_at) == 1 for c in callees),
            },
            "wall_s": round(wall, 1),
            "starts": {
                "per_second": round((len(starts) - 1) / (starts[-1] - starts[0]), 3) if len(starts) > 1 else None,
                "min_spacing_s": round(min(gaps), 3) if gaps else None,
                "median_spacing_s": round(percentile(gaps, 50), 3) if gaps else None,
                "peak_concurrent": peak,
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
        }
    finally:
        hotline.stop()
        sip.close()


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
    return 0 if result["calls"]["finished"] and result["calls"]["each_called_once"] else 1


if __name__ == "__main__":
    sys.exit(main())
