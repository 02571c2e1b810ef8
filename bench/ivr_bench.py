"""Concurrent callers through the IVR's bill-lookup path on the real Asterisk, beside the same menu written in pure
dialplan as the baseline.

    .venv/bin/python bench/ivr_bench.py [--calls 400] [--rate 8] [--customers 2000] [--without-progress]

Each caller dials, picks Mandarin (1) and the bill (1) a second into each prompt, hears the bill of the account
registered to its number (the IVR looks it up in the database), hears "what next", says nothing and is thanked
and hung up on: about 25 s a call, so `rate` calls a second arriving steadily keep about 25 x rate calls in the
IVR at once. The baseline is the same prompts and keys in dialplan (Read, Playback) with a fixed bill: no Python.

The callers run in a process of their own (one SIP stack, no audio analysis), so that the IVR process measured
holds only the FastAGI server and the hotline. Measured, for each run:
  calls             placed, established, completed as expected (the hotline hung up after the goodbye), failed
  peak_concurrent   the most calls in the IVR at once (contacts open at the same moment)
  agi_rtt           round trips of the AGI commands that do not play audio (ANSWER, SET/GET VARIABLE, ...):
                    p50/p99 in ms, as the FastAGI layer timed them
  cpu               seconds of CPU used during the run by Asterisk, by the IVR's Python process (FastAGI server
                    and hotline) and by the SIP callers' process; Asterisk's and the IVR's per call
With --without-progress the IVR runs first with its progress reports switched off (ivr/progress.py: no ivr.*
events, no funnel state), after a warm-up run, then with them, to show what reporting costs a call.
Prints one JSON document.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from crm.models import Account, CustomerPhone
from hotline.stack import Hotline
from ivr import speech
from ivr.fastagi import AgiChannel, FastAgiServer, Route
from ivr.process import build_ivr
from ivr.progress import IvrProgress
from testbed.sandbox import free_port, sandbox_config
from testbed.softphone import SipStack

STEPS = [(1.0, "1"), (1.0, "1")]
BASELINE_EXTENSION = "ivrbaseline"
QUICK_COMMANDS = ("ANSWER", "SET VARIABLE", "GET VARIABLE", "CHANNEL STATUS", "VERBOSE")
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))] if ordered else 0.0


def process_cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def children_cpu_seconds() -> float:
    """The callers' process, once it has ended (the only child this process waits for during a run)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def own_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


class Measured:
    """The IVR's routes, wrapped to keep each call's AGI trace and the CPU its thread used."""

    def __init__(self, routes: dict[str, Route]) -> None:
        self.routes = routes
        self.lock = threading.Lock()
        self.rtt_ms: list[float] = []
        self.thread_cpu = 0.0
        self.active = 0
        self.peak = 0

    def wrapped(self) -> dict[str, Route]:
        return {name: self._wrap(route) for name, route in self.routes.items()}

    def _wrap(self, route: Route) -> Route:
        def measured(channel: AgiChannel) -> None:
            started = time.thread_time()
            with self.lock:
                self.active += 1
                self.peak = max(self.peak, self.active)
            try:
                route(channel)
            finally:
                quick = [t.ms for t in channel.trace if t.command.startswith(QUICK_COMMANDS)]
                with self.lock:
                    self.active -= 1
                    self.rtt_ms += quick
                    self.thread_cpu += time.thread_time() - started

        return measured


def baseline_dialplan(words: list[str]) -> list[str]:
    """The bill path in dialplan, added to the running Asterisk with `dialplan add extension` (nothing on disk)."""
    # A few fragments per Playback: the CLI takes a command line of a few hundred characters at most.
    chunks = [words[i : i + 10] for i in range(0, len(words), 10)]
    bill = ["Playback(" + "&".join(f"hotline/zh/{w}" for w in chunk) + ")" for chunk in chunks]
    return [
        "Answer()",
        "Read(LANG,hotline/zh/welcome&hotline/zh/language/mandarin&hotline/en/language/english,1,,1,2)",
        "Read(CHOICE,hotline/zh/menu/main,1,,1,5)",
        *bill,
        "Read(NEXT,hotline/zh/menu/after_info,1,,1,4)",
        "Playback(hotline/zh/thanks)",
        "Hangup(16)",
    ]


def run_callers(domain: str, password: str, extension: str, numbers: list[str], calls: int, rate: float) -> Any:
    """In the callers' own process: `calls` calls, `rate` a second, one SIP stack, no audio analysis."""
    sip = SipStack("127.0.0.1", free_port())
    try:
        ua = sip.run(sip.caller("selftest", domain, password))

        def one(i: int) -> dict[str, Any]:
            result = sip.run(
                sip.call(
                    ua,
                    f"sip:{extension}@{domain}",
                    caller_number=numbers[i % len(numbers)],
                    dtmf=STEPS,
                    hold=60,
                    listen=False,
                ),
                timeout=120,
            )
            return result.as_dict()

        with ThreadPoolExecutor(max_workers=calls) as pool:
            futures = []
            started = time.monotonic()
            for i in range(calls):
                time.sleep(max(0.0, started + i / rate - time.monotonic()))
                futures.append(pool.submit(one, i))
            return [f.result() for f in futures]
    finally:
        sip.close()


class Bench:
    def __init__(self, state_dir: Path, customers: int) -> None:
        cfg = sandbox_config(
            state_dir,
            trunk_port=free_port(),
            HOTLINE_DEMO_CUSTOMERS=str(customers),
            HOTLINE_ACD_ROUTERS="1",
            # Two RTP ports a call: the sandbox's 200 would cap the run at 100 calls.
            HOTLINE_SIP_RTP_START="30000",
            HOTLINE_SIP_RTP_END="31999",
        )
        self.cfg = cfg
        self.hotline = Hotline(cfg)
        self.hotline.start()
        self.domain = f"{cfg.sip.host}:{cfg.sip.port}"
        self.measured = Measured(build_ivr(cfg, self.hotline.contacts).routes())
        silent = build_ivr(cfg, self.hotline.contacts)
        silent.progress = IvrProgress(None)
        self.measured_silent = Measured(silent.routes())
        assert self.hotline.agi is not None
        self.hotline.agi.stop()
        self.hotline.agi = FastAgiServer(cfg.agi.host, cfg.agi.port, self.measured.wrapped())
        self.hotline.agi.start()

    def close(self) -> None:
        self.hotline.stop()

    def numbers(self) -> list[str]:
        """Phone numbers registered to exactly one account: the IVR identifies them without asking."""
        with self.hotline.contacts.sessions() as session:
            one_account = (
                select(CustomerPhone.number)
                .join(Account, Account.customer_id == CustomerPhone.customer_id)
                .group_by(CustomerPhone.number)
                .having(func.count(Account.id) == 1)
                .limit(500)
            )
            return list(session.scalars(one_account))

    def add_baseline(self) -> None:
        words = [
            "identify/account_ending",
            *speech.digits("1234", "zh"),
            "bill/amount_due",
            *speech.money(12345, "zh"),
            "bill/due_date",
            *speech.day(date(2030, 3, 25), "zh", date(2030, 1, 1)),
            "bill/last_payment",
            "date/today",
            "bill/amount",
            *speech.money(9870, "zh"),
        ]
        for priority, app in enumerate(baseline_dialplan(words), start=1):
            self.hotline.asterisk.cli(
                f"dialplan add extension {BASELINE_EXTENSION},{priority},{app} into from-selftest replace"
            )

    def run(
        self, extension: str, numbers: list[str], calls: int, rate: float, reporting: bool = True
    ) -> dict[str, Any]:
        assert self.hotline.asterisk.process is not None and self.hotline.agi is not None
        measured = self.measured if reporting else self.measured_silent
        self.hotline.agi.routes = measured.wrapped()
        self.measured = measured
        asterisk_pid = self.hotline.asterisk.process.pid
        self.measured.rtt_ms.clear()
        self.measured.thread_cpu = 0.0
        self.measured.peak = 0
        asterisk_before, ivr_before = process_cpu_seconds(asterisk_pid), own_cpu_seconds()
        callers_before = children_cpu_seconds()
        started = time.monotonic()
        job = json.dumps(
            {
                "domain": self.domain,
                "password": self.cfg.secrets.selftest_password,
                "extension": extension,
                "numbers": numbers,
                "calls": calls,
                "rate": rate,
            }
        )
        done = subprocess.run(
            [sys.executable, __file__, "--callers"], input=job, capture_output=True, text=True, check=True
        )
        results = json.loads(done.stdout)
        elapsed = time.monotonic() - started
        asterisk_cpu = process_cpu_seconds(asterisk_pid) - asterisk_before
        ivr_cpu = own_cpu_seconds() - ivr_before
        callers_cpu = children_cpu_seconds() - callers_before
        established = [r for r in results if r["established"]]
        completed = [r for r in established if r["ended_by"] == "far end" and r["dtmf_sent"] == "11"]
        rtt = self.measured.rtt_ms
        report: dict[str, Any] = {
            "extension": extension,
            "calls": calls,
            "rate_per_s": rate,
            "seconds": round(elapsed, 1),
            "established": len(established),
            "completed": len(completed),
            "failed": calls - len(completed),
            "failures": sorted({str(r["failure"] or r["ended_by"]) for r in results if r not in completed}),
            "setup_ms_p99": round(percentile([r["setup_ms"] for r in established], 99), 1),
            "call_seconds_p50": round(percentile([r["duration_s"] for r in established], 50), 1),
            "cpu_seconds": {
                "asterisk": round(asterisk_cpu, 2),
                "ivr_python": round(ivr_cpu, 2),
                "sip_callers": round(callers_cpu, 2),
            },
            "cpu_ms_per_call": {
                "asterisk": round(asterisk_cpu * 1000 / calls, 1),
                "ivr_python": round(ivr_cpu * 1000 / calls, 1),
            },
        }
        if rtt:
            report["peak_concurrent_in_ivr"] = self.measured.peak
            report["agi_rtt_ms"] = {
                "n": len(rtt),
                "p50": round(percentile(rtt, 50), 2),
                "p99": round(percentile(rtt, 99), 2),
                "max": round(max(rtt), 2),
            }
            report["ivr_thread_cpu_ms_per_call"] = round(self.measured.thread_cpu * 1000 / calls, 1)
        return report


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=400)
    parser.add_argument("--rate", type=float, default=8.0, help="calls arriving per second")
    parser.add_argument("--customers", type=int, default=2000, help="demo utility size")
    parser.add_argument(
        "--without-progress", action="store_true", help="also run the IVR with its progress reports switched off"
    )
    parser.add_argument("--callers", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.callers:
        job = json.loads(sys.stdin.read())
        print(json.dumps(run_callers(**job)))
        return 0
    with tempfile.TemporaryDirectory(prefix="ivr-bench-") as tmp:
        bench = Bench(Path(tmp) / "state", args.customers)
        try:
            numbers = bench.numbers()
            bench.add_baseline()
            report: dict[str, Any] = {}
            if args.without_progress:
                # A first run warms the database's and the prompts' caches, so that neither measured run pays for it.
                bench.run("95598", numbers, min(args.calls, 60), args.rate)
                report["ivr_without_progress"] = bench.run("95598", numbers, args.calls, args.rate, reporting=False)
            report["ivr"] = bench.run("95598", numbers, args.calls, args.rate)
            report["dialplan_baseline"] = bench.run(BASELINE_EXTENSION, numbers, args.calls, args.rate)
        finally:
            bench.close()
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
