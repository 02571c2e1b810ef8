"""The hotline's ACD router against Asterisk's own app_queue, side by side on one Asterisk, with the same real SIP
callers and the same auto-answering agent seats.

    .venv/bin/python bench/acd_vs_app_queue.py [--arrivals 30] [--burst 20] [--talk 2.0]

Measures, for each system:
  arrival offer   a caller arrives while an agent is free: caller answered -> the agent's seat sees the INVITE
  freed -> offer  callers are waiting: the agent hangs up -> the same seat sees the next INVITE
  burst drain     `burst` callers at once, 2 agents, `talk` seconds a call: first answer -> last agent hang-up,
                  against the ideal burst / 2 * talk
Prints a JSON document and a table of the figures with the router/app_queue ratios.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path

import redis

from cti.acd import routing
from cti.acd.policy import AgentProfile
from cti.acd.process import AgentDesk
from hotline.stack import Hotline
from testbed.phones import Seat
from testbed.sandbox import free_port, sandbox_config
from testbed.softphone import SipStack

QUEUE = "hotline-baseline"


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def summary(values: list[float]) -> dict[str, float]:
    if not values:
        return {}
    return {
        "n": len(values),
        "p50_ms": round(percentile(values, 50) * 1000, 1),
        "p95_ms": round(percentile(values, 95) * 1000, 1),
        "p99_ms": round(percentile(values, 99) * 1000, 1),
        "mean_ms": round(statistics.mean(values) * 1000, 1),
    }


class Bench:
    def __init__(self, state_dir: Path) -> None:
        self.sip = SipStack("127.0.0.1", free_port())
        cfg = sandbox_config(
            state_dir,
            trunk_port=self.sip.port,
            HOTLINE_ACD_ROUTERS="1",
            HOTLINE_ACD_POLICY=str(Path(__file__).with_name("acd_policy.toml")),
            HOTLINE_DEMO_CUSTOMERS="0",
        )
        self.hotline = Hotline(cfg)
        self.hotline.start()
        self.cfg = cfg
        self.domain = f"{cfg.sip.host}:{cfg.sip.port}"
        self.desk = AgentDesk(cfg, routing.load(cfg.acd.policy))
        self.pool = ThreadPoolExecutor(64)
        self.caller = self.sip.run(self.sip.caller("selftest", self.domain, cfg.secrets.selftest_password))

    def close(self) -> None:
        self.pool.shutdown(wait=True)
        self.desk.close()
        self.hotline.stop()
        self.sip.close()

    def seats(self, talk: float) -> list[Seat]:
        names = self.cfg.seats.names()[:2]
        return [
            self.sip.run(self.sip.seat(n, self.domain, self.cfg.secrets.seat_password(n), 0.0, talk)) for n in names
        ]

    # -- the two systems -------------------------------------------------------------------------------------

    def agents_on(self, system: str, seats: list[Seat]) -> None:
        for i, seat in enumerate(seats):
            if system == "router":
                self.desk.login(AgentProfile(f"bench-{i}", ("bench",)), seat.name)
                self.desk.ready(f"bench-{i}")
            else:
                self.hotline.asterisk.cli(f"queue add member PJSIP/{seat.name} to {QUEUE}")

    def agents_off(self, system: str, seats: list[Seat]) -> None:
        for i, seat in enumerate(seats):
            if system == "router":
                self.desk.logout(f"bench-{i}")
            else:
                self.hotline.asterisk.cli(f"queue remove member PJSIP/{seat.name} from {QUEUE}")

    def dial(self, system: str, hold: float) -> object:
        extension = "acd" if system == "router" else "baseline"
        return self.pool.submit(
            self.sip.run,
            self.sip.call(self.caller, f"sip:{extension}@{self.domain}", hold=hold, caller_number="13900000000"),
            300,
        )

    # -- scenarios -------------------------------------------------------------------------------------------

    def arrivals(self, system: str, count: int) -> list[float]:
        """One caller at a time, agents free: caller answered -> INVITE at a seat."""
        seats = self.seats(talk=0.3)
        self.agents_on(system, seats)
        delays = []
        try:
            for _ in range(count):
                offered_before = sum(len(s.offered_at) for s in seats)
                future = self.dial(system, hold=30)
                deadline = time.monotonic() + 20
                while sum(len(s.offered_at) for s in seats) == offered_before and time.monotonic() < deadline:
                    time.sleep(0.005)
                result = future.result()  # type: ignore[attr-defined]
                offered = max(t for s in seats for t in s.offered_at)
                if result.answered_at:
                    delays.append(offered - result.answered_at)
                time.sleep(0.3)  # the agent is free again before the next caller
        finally:
            self.agents_off(system, seats)
            for seat in seats:
                self.sip.run(self.sip.unregister(seat))
        return delays

    def burst(self, system: str, count: int, talk: float) -> dict[str, object]:
        """`count` callers at once for 2 agents: drain time, and each freed agent's wait for its next call."""
        seats = self.seats(talk=talk)
        self.agents_on(system, seats)
        since = f"{int(time.time() * 1000)}-0"
        try:
            futures = [self.dial(system, hold=300) for _ in range(count)]
            results = [f.result() for f in futures]  # type: ignore[attr-defined]
            first = min(r.answered_at for r in results if r.answered_at)
            last = max(t for s in seats for t in s.hung_up_at)
            gaps = []
            for seat in seats:
                # Each hang-up but the seat's last is followed by the next offer to that seat.
                for hung_up, next_offer in zip(seat.hung_up_at, seat.offered_at[1:], strict=False):
                    gaps.append(next_offer - hung_up)
            answered = sum(len(s.answered) for s in seats)
            internal = self.router_internal_gaps(since) if system == "router" else []
        finally:
            self.agents_off(system, seats)
            for seat in seats:
                self.sip.run(self.sip.unregister(seat))
        ideal = count / len(seats) * talk
        return {
            "callers": count,
            "answered": answered,
            "failed_calls": sum(1 for r in results if not r.established),
            "drain_s": round(last - first, 2),
            "ideal_s": round(ideal, 2),
            "over_ideal_pct": round((last - first - ideal) / ideal * 100, 1),
            "freed_to_next_offer": summary(gaps),
            # The router's own share of that: its queue.complete event to its next queue.offer event.
            "router_complete_to_offer": summary(internal),
        }

    def router_internal_gaps(self, since: str) -> list[float]:
        client = redis.Redis.from_url(self.cfg.redis.effective_url())
        events = [json.loads(fields[b"event"]) for _, fields in client.xrange("acd:events", min=since)]
        client.close()
        completed: dict[str, float] = {}
        gaps = []
        for evt in events:
            at = datetime.fromisoformat(evt["at"]).timestamp()
            if evt["type"] == "queue.complete" and evt["agent"]:
                completed[evt["agent"]] = at
            elif evt["type"] == "queue.offer" and evt["agent"] in completed:
                gaps.append(at - completed.pop(evt["agent"]))
        return gaps


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--arrivals", type=int, default=30)
    parser.add_argument("--burst", type=int, default=20)
    parser.add_argument("--talk", type=float, default=2.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="acd-bench-") as tmp:
        bench = Bench(Path(tmp))
        try:
            report: dict[str, dict[str, object]] = {}
            for system in ("router", "app_queue"):
                report[system] = {
                    "arrival_offer": summary(bench.arrivals(system, args.arrivals)),
                    "burst": bench.burst(system, args.burst, args.talk),
                }
        finally:
            bench.close()
    print(json.dumps(report, indent=2))
    r, q = report["router"], report["app_queue"]
    ra, qa = r["arrival_offer"], q["arrival_offer"]
    rb, qb = r["burst"], q["burst"]
    rg, qg = rb["freed_to_next_offer"], qb["freed_to_next_offer"]  # type: ignore[index]
    print("\n| measure | router | app_queue | router / app_queue |\n|---|---|---|---|")
    for label, a, b in [
        ("arrival offer p50 (ms)", ra["p50_ms"], qa["p50_ms"]),  # type: ignore[index]
        ("arrival offer p95 (ms)", ra["p95_ms"], qa["p95_ms"]),  # type: ignore[index]
        ("freed agent -> next offer p50 (ms)", rg["p50_ms"], qg["p50_ms"]),
        ("freed agent -> next offer p99 (ms)", rg["p99_ms"], qg["p99_ms"]),
        (f"{args.burst}-call burst drain (s)", rb["drain_s"], qb["drain_s"]),  # type: ignore[index]
    ]:
        print(f"| {label} | {a} | {b} | {round(a / b, 3) if b else '-'} |")
    print(
        f"\nideal drain: {rb['ideal_s']} s; router {rb['over_ideal_pct']} % over, "  # type: ignore[index]
        f"app_queue {qb['over_ideal_pct']} % over"
    )  # type: ignore[index]
    return 0


if __name__ == "__main__":
    sys.exit(main())
