"""What reporting a call's progress costs the IVR's process (ivr/progress.py), alone: calls of 18 events each (start,
eight menus waited at and answered, end) reported as fast as Python can, through the real reporter into a Redis of
the benchmark's own; then every event and the day's funnel checked in Redis. CPU seconds of this Python process
and of Redis, per event and per call.

    .venv/bin/python bench/ivr_progress_cost.py [--calls 2000]

Prints one JSON document.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import tempfile
import time
from pathlib import Path

import redis

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from hotline import redis_server
from hotline.events import STREAM
from ivr.progress import IvrProgress
from testbed.sandbox import free_port

MENUS = ("language", "main_menu", "repair_scope", "repair_breaker", "repair_reset", "repair", "after_info", "goodbye")


def own_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def redis_cpu_seconds(client: redis.Redis) -> float:
    info = client.info("cpu")
    return float(info["used_cpu_user"]) + float(info["used_cpu_sys"])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=2000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="ivr-progress-") as tmp:
        port = free_port()
        process = redis_server.start(port, Path(tmp) / "data", Path(tmp) / "redis.log")
        url = f"redis://127.0.0.1:{port}/0"
        client = redis.Redis.from_url(url)
        progress = IvrProgress.to_redis(url)
        try:
            cpu, redis_cpu, started = own_cpu_seconds(), redis_cpu_seconds(client), time.monotonic()
            for n in range(args.calls):
                call = f"c{n}"
                progress.report("ivr.start", call, line="main", contact=n, sip_call_id=f"s{n}")
                for menu in MENUS:
                    progress.report("ivr.wait", call, menu=menu, attempt=1, line="main")
                    progress.report("ivr.key", call, menu=menu, attempt=1, key="1")
                end = {"line": "main", "outcome": "completed", "at": "goodbye", "reason": "", "failed_at": ""}
                progress.report("ivr.end", call, **end)
            assert progress.flush(timeout=300)
            cpu, redis_cpu = own_cpu_seconds() - cpu, redis_cpu_seconds(client) - redis_cpu
            elapsed = time.monotonic() - started
            events = args.calls * (2 + 2 * len(MENUS))
            day = {k.decode(): v.decode() for k, v in client.hgetall(client.keys("ivr:day:*")[0]).items()}
            report = {
                "calls": args.calls,
                "events": events,
                "dropped": progress.dropped,
                "in_stream": client.xlen(STREAM),
                "funnel_calls": int(day["calls"]),
                "seconds": round(elapsed, 2),
                "python_cpu_s": round(cpu, 2),
                "python_us_per_event": round(cpu * 1e6 / events, 1),
                "python_ms_per_call": round(cpu * 1e3 / args.calls, 2),
                "redis_cpu_s": round(redis_cpu, 2),
                "redis_ms_per_call": round(redis_cpu * 1e3 / args.calls, 2),
            }
        finally:
            progress.close()
            client.close()
            redis_server.stop(process)
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
