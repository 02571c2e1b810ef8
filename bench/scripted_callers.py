"""How long a caller who knows the menus takes to be served: the repair triage's "solved" path (language 1, repair
3, the fault is at home 1, the breaker tripped 1, reset and power is back 1), placed by a scripted caller that
presses each key as soon as the IVR reports that it waits for it, beside the same keys sent on a fixed clock (a
second into each prompt, as the test callers did before the IVR reported its progress).

    .venv/bin/python bench/scripted_callers.py [--calls 5]

For each way, from the events the IVR reported on the stream (hotline/events.py): seconds from the call's start
(ivr.start) to the solved message (the IVR's wait at `repair`, sent as the message starts) and to the end of
self-service (ivr.end), p50 and max over the calls; and the ratio of the scripted caller's p50 to the clock's.
Prints one JSON document.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from datetime import datetime
from pathlib import Path
from typing import Any

import redis

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from hotline.events import STREAM
from hotline.stack import Hotline
from testbed.call_events import CallEvents
from testbed.sandbox import sandbox_config
from testbed.softphone import SipStack
from tests.conftest import TestUtility

SCRIPT = [("language", "1"), ("main_menu", "3"), ("repair_scope", "1"), ("repair_breaker", "1"), ("repair_reset", "1")]
CLOCK = [(1.0, key) for _, key in SCRIPT]


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))] if ordered else 0.0


def _seconds(evt: dict[str, Any], start: dict[str, Any]) -> float:
    return (datetime.fromisoformat(evt["at"]) - datetime.fromisoformat(start["at"])).total_seconds()


def timings(client: redis.Redis, sip_call_id: str) -> dict[str, float]:
    """Seconds from ivr.start to the solved message and to ivr.end, from the stream."""
    events = [json.loads(fields[b"event"]) for _, fields in client.xrange(STREAM)]
    start = next(e for e in events if e["type"] == "ivr.start" and e["data"].get("sip_call_id") == sip_call_id)
    mine = [e for e in events if e["call"] == start["call"]]
    solved = next(e for e in mine if e["type"] == "ivr.wait" and e["data"]["menu"] == "repair")
    end = next(e for e in mine if e["type"] == "ivr.end" and e["data"]["line"] == "main")
    return {"to_solved_s": _seconds(solved, start), "to_end_s": _seconds(end, start)}


def summary(rows: list[dict[str, float]]) -> dict[str, Any]:
    return {
        key: {"p50": round(percentile([r[key] for r in rows], 50), 2), "max": round(max(r[key] for r in rows), 2)}
        for key in ("to_solved_s", "to_end_s")
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=5)
    args = parser.parse_args()
    sip = SipStack()
    with tempfile.TemporaryDirectory(prefix="scripted-callers-") as tmp:
        cfg = sandbox_config(Path(tmp) / "state", trunk_port=sip.port, HOTLINE_ACD_ROUTERS="1")
        hotline = Hotline(cfg)
        hotline.start()
        events = CallEvents(cfg.redis.effective_url(), sip.loop)
        client = redis.Redis.from_url(cfg.redis.effective_url())
        domain = f"{cfg.sip.host}:{cfg.sip.port}"
        try:
            ua = sip.run(sip.caller("selftest", domain, cfg.secrets.selftest_password))
            # A customer of their own, on a feeder with no outage, with a meter of their own: the whole triage.
            number = TestUtility(hotline.contacts.sessions).customer(area="quiet")[0].phone
            rows: dict[str, list[dict[str, float]]] = {"scripted": [], "clock": []}
            for _ in range(args.calls):
                for way in ("scripted", "clock"):
                    uri = f"sip:95598@{domain}"
                    if way == "scripted":
                        call = sip.call(ua, uri, caller_number=number, script=SCRIPT, events=events, hold=90)
                    else:
                        call = sip.call(ua, uri, caller_number=number, dtmf=CLOCK, hold=90)
                    result = sip.run(call)
                    assert result.sip_call_id and result.ended_by == "far end", result
                    rows[way].append(timings(client, result.sip_call_id))
        finally:
            events.close()
            client.close()
            hotline.stop()
            sip.close()
    keys = ("to_solved_s", "to_end_s")
    report: dict[str, Any] = {"calls": args.calls}
    report["scripted"], report["clock"] = summary(rows["scripted"]), summary(rows["clock"])
    report["ratio_scripted_to_clock_p50"] = {
        key: round(report["scripted"][key]["p50"] / report["clock"][key]["p50"], 2) for key in keys
    }
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
