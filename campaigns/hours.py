"""The hours in which customers may be called (允许外呼时段), as plain data: daily local-time windows, whether a
moment falls within them, and the next moment that does. The policy names them per kind of campaign
(campaigns/policy.toml [hours]); a retry that falls outside them waits for the next window."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo

from hotline.periods import LOCAL

_CLOCK = re.compile(r"^([01]\d|2[0-4]):([0-5]\d)$")


@dataclass(frozen=True)
class Window:
    """A daily stretch of local time, start included and end excluded. An end at or before the start runs past
    midnight into the next day (22:00-06:00); 00:00-24:00 is the whole day."""

    start: time
    end: time
    end_of_day: bool = False  # the end is 24:00 (time() cannot say so)

    @classmethod
    def parse(cls, text: str) -> Window:
        parts = text.replace(" ", "").split("-")
        if len(parts) != 2 or not all(_CLOCK.match(p) for p in parts):
            raise ValueError(f"{text!r} is not a window such as 08:00-21:00")
        (sh, sm), (eh, em) = ((int(x) for x in p.split(":")) for p in parts)
        if sh == 24 or (eh == 24 and em != 0):
            raise ValueError(f"{text!r}: only an end may be 24:00")
        if (sh, sm) == (eh, em):
            raise ValueError(f"{text!r} is empty; 00:00-24:00 is the whole day")
        return cls(time(sh, sm), time(0, 0) if eh == 24 else time(eh, em), end_of_day=eh == 24)

    def on(self, day: date, zone: tzinfo) -> tuple[datetime, datetime]:
        """The stretch that starts on `day`, as aware moments."""
        start = datetime.combine(day, self.start, zone)
        end_day = day + timedelta(days=1) if self.end_of_day or self.end <= self.start else day
        return start, datetime.combine(end_day, self.end, zone)

    def __str__(self) -> str:
        return f"{self.start:%H:%M}-{'24:00' if self.end_of_day else format(self.end, '%H:%M')}"


@dataclass(frozen=True)
class AllowedHours:
    """When customers may be called (允许外呼时段): local-time windows, every day alike."""

    windows: tuple[Window, ...]
    zone: tzinfo = LOCAL

    def _stretches(self, moment: datetime) -> Iterable[tuple[datetime, datetime]]:
        day = moment.astimezone(self.zone).date()
        # The day before too: its window past midnight may still be open.
        for offset in (-1, 0, 1):
            for window in self.windows:
                yield window.on(day + timedelta(days=offset), self.zone)

    def allows(self, moment: datetime) -> bool:
        _aware(moment)
        return any(start <= moment < end for start, end in self._stretches(moment))

    def next_allowed(self, moment: datetime) -> datetime:
        """`moment` itself if it is allowed, else the start of the next window (in `moment`'s time zone)."""
        _aware(moment)
        if self.allows(moment):
            return moment
        # Every window starts once a day, so one starts within the next day.
        return min(start for start, _ in self._stretches(moment) if start > moment).astimezone(moment.tzinfo)


def _aware(moment: datetime) -> None:
    if moment.tzinfo is None:
        raise ValueError("a moment to call needs a time zone")
