"""The self-service funnel's arithmetic (reporting/ivr_funnel.py): calls at each menu now, containment, trouble
spots."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from reporting.ivr_funnel import STALE_S, TROUBLE_SPOTS, day_key, funnel

NOW_MS = 1_800_000_000_000


def _at(menu: str, age_s: float = 1) -> str:
    return json.dumps({"line": "main", "menu": menu, "attempt": 1, "since": NOW_MS - int(age_s * 1000)})


def test_calls_now_are_counted_by_menu_and_stale_entries_are_not() -> None:
    now = {
        "a": _at("main_menu"),
        "b": _at("main_menu"),
        "c": _at("repair_scope"),
        "d": _at(""),
        "lost": _at("main_menu", STALE_S + 1),
        "garbled": "{not json",
    }
    seen = funnel(now, {}, NOW_MS)
    assert seen.in_ivr == 4
    assert seen.at_menu == {"": 1, "main_menu": 2, "repair_scope": 1}


def test_containment_is_completed_calls_over_all_calls_of_the_day() -> None:
    day = {"calls": "8", "outcome:completed": "6", "outcome:human": "1", "outcome:abandoned": "1"}
    seen = funnel({}, day, NOW_MS)
    assert seen.containment == 0.75
    assert seen.outcomes == {"completed": 6, "human": 1, "abandoned": 1, "error": 0}
    assert funnel({}, {}, NOW_MS).containment is None


def test_trouble_spots_add_give_ups_and_failures_worst_first() -> None:
    day = {
        "calls": "40",
        "gave_up:repair_scope": "3",
        "failed:repair_scope": "2",
        "gave_up:main_menu": "4",
        "failed:password_entry": "1",
        "gave_up:after_info": "0",
    }
    day |= {f"gave_up:menu{n}": "1" for n in range(TROUBLE_SPOTS)}
    spots = funnel({}, day, NOW_MS).trouble
    assert [(s.menu, s.gave_up, s.failed) for s in spots[:2]] == [("repair_scope", 3, 2), ("main_menu", 4, 0)]
    assert len(spots) == TROUBLE_SPOTS and "after_info" not in [s.menu for s in spots]


def test_the_day_is_the_utility_local_day() -> None:
    # 17:00 UTC is already the next day in Beijing.
    assert day_key(datetime(2026, 12, 7, 17, 0, tzinfo=UTC)) == "ivr:day:2026-12-08"
