"""The utility's calendar: its local day (China Standard Time, UTC+8, no daylight saving) and billing months."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

LOCAL = timezone(timedelta(hours=8), "CST")


def now_utc() -> datetime:
    return datetime.now(UTC)


def local_day(moment: datetime) -> date:
    """The utility's calendar day at `moment`: bills fall due and arrears start by this day, not UTC's."""
    return moment.astimezone(LOCAL).date()


def month_start(day: date, months_back: int = 0) -> date:
    """The first day of the month `months_back` months before the month of `day`."""
    index = day.year * 12 + day.month - 1 - months_back
    return date(index // 12, index % 12 + 1, 1)


def period(day: date) -> str:
    """The billing period (账期) a day falls in, as stored on bills: YYYY-MM."""
    return f"{day.year:04d}-{day.month:02d}"


def window_start(today: date, months: int) -> date:
    """The first day of the tier window: `months` whole months before the current one."""
    return month_start(today, months)
