"""The self-service funnel (自助语音漏斗) for the supervisors' monitor: which calls are in the IVR now and at which
menu, today's containment, and the menus where callers give up or fail. The IVR keeps the raw state in Redis as
it reports each call (ivr/progress.py writes it); this module names the keys and does the arithmetic, without I/O.

Redis keys (listed with the others in cti/acd/store.py):

  ivr:now              hash  uniqueid -> JSON {line, menu, attempt, since (ms of the last change)}: each call now
                             in self-service and where it waits (menu "" before the first question); removed at
                             ivr.end. A FastAGI server killed mid-call leaves its calls behind: entries unchanged
                             for STALE_S are not counted.
  ivr:day:{YYYY-MM-DD} hash  the funnel of the utility's local day, counted as calls leave self-service on the
                             main and key lines (the survey after an agent is not a call into self-service):
                             calls, outcome:{completed|human|abandoned|error}, gave_up:{menu} (the caller hung up
                             there without having heard what they called for), failed:{menu} (three failures there
                             sent the caller to a person); kept DAY_KEEP_S.

Definitions:
- Containment (自助服务完结率) = outcome:completed / calls: the share of the day's calls that ended in self-service,
  the caller served there without a person (they heard what they called for, or hung up after hearing it). Calls
  put through to a person, abandoned calls and errors count against it. None before the first call of the day.
- The trouble spots: the menus with the most give-ups plus three-time failures today, worst first.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from hotline.periods import local_day

NOW_KEY = "ivr:now"
DAY_PREFIX = "ivr:day:"
DAY_KEEP_S = 8 * 86400
STALE_S = 4 * 3600
# Lines whose calls count in the funnel.
FUNNEL_LINES = ("main", "key")
OUTCOMES = ("completed", "human", "abandoned", "error")
# The monitor lists this many trouble spots.
TROUBLE_SPOTS = 5


def day_key(moment: datetime) -> str:
    """The day's funnel key: the utility's local day of `moment`."""
    return f"{DAY_PREFIX}{local_day(moment).isoformat()}"


@dataclass(frozen=True)
class TroubleSpot:
    menu: str
    gave_up: int
    failed: int

    @property
    def total(self) -> int:
        return self.gave_up + self.failed


@dataclass(frozen=True)
class IvrFunnel:
    in_ivr: int  # calls in self-service now
    at_menu: dict[str, int]  # of those, how many wait at each menu ("" : not yet at a menu)
    calls_today: int
    outcomes: dict[str, int]
    containment: float | None
    trouble: list[TroubleSpot] = field(default_factory=list)


def funnel(now: Mapping[str, str], day: Mapping[str, str], now_ms: int) -> IvrFunnel:
    """The funnel from the raw hashes (`ivr:now` and today's `ivr:day:…`, decoded to str)."""
    at_menu: Counter[str] = Counter()
    for raw in now.values():
        try:
            where = json.loads(raw)
        except ValueError:
            continue
        if now_ms - int(where.get("since", 0)) > STALE_S * 1000:
            continue
        at_menu[str(where.get("menu", ""))] += 1
    counts = {name: _int(value) for name, value in day.items()}
    calls = counts.get("calls", 0)
    outcomes = {outcome: counts.get(f"outcome:{outcome}", 0) for outcome in OUTCOMES}
    menus = {name.split(":", 1)[1] for name in counts if name.startswith(("gave_up:", "failed:"))}
    spots = [TroubleSpot(m, counts.get(f"gave_up:{m}", 0), counts.get(f"failed:{m}", 0)) for m in menus]
    spots.sort(key=lambda s: (-s.total, s.menu))
    return IvrFunnel(
        in_ivr=sum(at_menu.values()),
        at_menu=dict(sorted(at_menu.items())),
        calls_today=calls,
        outcomes=outcomes,
        containment=outcomes["completed"] / calls if calls else None,
        trouble=[s for s in spots if s.total][:TROUBLE_SPOTS],
    )


def _int(value: str) -> int:
    try:
        return int(value)
    except ValueError:
        return 0
