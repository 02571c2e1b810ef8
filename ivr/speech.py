"""Numbers, money, dates, times and account numbers as sequences of prompt fragments, per language.

Pure functions: each returns the names of short synthesized (or recorded) fragments in prompts.toml — digits,
units, words — that the IVR plays one after another, so that any amount or date is spoken by concatenation and
nothing is synthesized during a call. Mandarin reads money in 元, 角 and 分 and drops the redundant 一 of 一十 at
the head of a number; English reads it in yuan and fen.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, timezone

# The hotline serves mainland China, which keeps one time zone and no daylight saving: a fixed offset is exact.
LOCAL_TIME = timezone(timedelta(hours=8), "CST")


def number(n: int, language: str, *, measure: bool = False) -> list[str]:
    """A whole number as words. `measure`: the number counts something (元, 点), so a lone 2 is 两 in Mandarin."""
    if n < 0:
        return ["number/minus", *number(-n, language, measure=measure)]
    if language == "zh":
        return _zh_number(n, measure)
    return _en_number(n)


def digits(text: str, language: str) -> list[str]:
    """Digit by digit, as account and phone numbers are read (Mandarin says 幺 for 1, as on the telephone)."""
    names = []
    for char in text:
        if not ("0" <= char <= "9"):
            raise ValueError(f"not a digit: {char!r}")
        names.append("number/yao" if language == "zh" and char == "1" else f"number/{char}")
    return names


def money(fen: int, language: str) -> list[str]:
    """An amount in fen: 12345 -> 一百二十三元四角五分 / one hundred twenty-three yuan and forty-five fen."""
    if fen < 0:
        return ["number/minus", *money(-fen, language)]
    yuan, cents = divmod(fen, 100)
    if language == "zh":
        return _zh_money(yuan, cents // 10, cents % 10)
    if cents == 0:
        return [*_en_number(yuan), "money/yuan"]
    if yuan == 0:
        return [*_en_number(cents), "money/fen"]
    return [*_en_number(yuan), "money/yuan", "word/and", *_en_number(cents), "money/fen"]


def day(d: date, language: str, today: date) -> list[str]:
    """A calendar day: today and tomorrow by name, the year only when it is not this year's."""
    if d == today:
        return ["date/today"]
    if d == today + timedelta(days=1):
        return ["date/tomorrow"]
    with_year = d.year != today.year
    if language == "zh":
        year = [*digits(str(d.year), "en"), "date/year"] if with_year else []
        # Years are read digit by digit with 一, not 幺: 二零二五年.
        return [*year, *_zh_number(d.month, False), "date/month", *_zh_number(d.day, False), "date/day"]
    year = _en_year(d.year) if with_year else []
    return [f"month/{d.month}", f"ordinal/{d.day}", *year]


def clock(t: time, language: str) -> list[str]:
    """A time of day on the 24-hour clock: 十八点三十分 / eighteen thirty."""
    if language == "zh":
        hour = [*_zh_number(t.hour, True), "time/hour"]
        if t.minute == 0:
            return hour
        zero = ["number/0"] if t.minute < 10 else []
        return [*hour, *zero, *_zh_number(t.minute, False), "time/minute"]
    hour = _en_number(t.hour)
    if t.minute == 0:
        return [*hour, "number/100"]
    if t.minute < 10:
        return [*hour, "number/oh", f"number/{t.minute}"]
    return [*hour, *_en_number(t.minute)]


def moment(when: datetime, language: str, now: datetime) -> list[str]:
    """A day and a time, in local time: 明天十八点 / tomorrow eighteen hundred."""
    local = when.astimezone(LOCAL_TIME) if when.tzinfo else when.replace(tzinfo=UTC).astimezone(LOCAL_TIME)
    today = now.astimezone(LOCAL_TIME).date() if now.tzinfo else now.date()
    return [*day(local.date(), language, today), *clock(local.time(), language)]


# -- Mandarin --------------------------------------------------------------------------------------------------


def _zh_section(n: int) -> list[str]:
    """1 .. 9999 with 千 百 十 and one 零 for any run of zeros between digits."""
    names: list[str] = []
    pending_zero = False
    for power, unit in ((1000, "number/1000"), (100, "number/100"), (10, "number/10"), (1, "")):
        digit = n // power % 10
        if digit == 0:
            pending_zero = bool(names)
            continue
        if pending_zero:
            names.append("number/0")
            pending_zero = False
        names.append(f"number/{digit}")
        if unit:
            names.append(unit)
    return names


def _zh_number(n: int, measure: bool) -> list[str]:
    if n == 0:
        return ["number/0"]
    if n == 2 and measure:
        return ["number/liang"]
    groups = []
    rest = n
    while rest:
        rest, group = divmod(rest, 10_000)
        groups.append(group)
    units = ("", "number/10000", "number/100000000")
    if len(groups) > len(units):
        raise ValueError(f"{n} is too large to read")
    names: list[str] = []
    zero_before = False
    for index in range(len(groups) - 1, -1, -1):
        group = groups[index]
        if group == 0:
            zero_before = bool(names)
            continue
        if names and (zero_before or group < 1000):
            # 一万零五十, 一亿零一万: one 零 for the zeros between two groups.
            names.append("number/0")
        names += _zh_section(group)
        if units[index]:
            names.append(units[index])
        zero_before = False
    if names[:2] == ["number/1", "number/10"]:
        # 十五, not 一十五, at the head of a number; inside one (一百一十五) the 一 stays.
        names = names[1:]
    if names[0] == "number/2" and len(names) > 1 and names[1] in _LIANG_UNITS:
        names[0] = "number/liang"
    return names


# 两百, 两千, 两万, 两亿 at the head of a number.
_LIANG_UNITS = {"number/100", "number/1000", "number/10000", "number/100000000"}


def _zh_money(yuan: int, jiao: int, fen: int) -> list[str]:
    if yuan == 0 and jiao == 0 and fen == 0:
        return ["number/0", "money/yuan"]
    names: list[str] = []
    if yuan:
        names += [*_zh_number(yuan, True), "money/yuan"]
    # 两元 but 二角, 二分: amounts are read the way a bank clerk reads them.
    if jiao:
        names += [*_zh_number(jiao, False), "money/jiao"]
    elif yuan and fen:
        names.append("number/0")
    if fen:
        names += [*_zh_number(fen, False), "money/fen"]
    if yuan and not jiao and not fen:
        names.append("money/whole")
    return names


# -- English ---------------------------------------------------------------------------------------------------


def _en_below_thousand(n: int) -> list[str]:
    names: list[str] = []
    hundreds, rest = divmod(n, 100)
    if hundreds:
        names += [f"number/{hundreds}", "number/100"]
    if rest >= 20:
        tens, ones = divmod(rest, 10)
        names.append(f"number/{tens * 10}")
        if ones:
            names.append(f"number/{ones}")
    elif rest:
        names.append(f"number/{rest}")
    return names


def _en_number(n: int) -> list[str]:
    if n == 0:
        return ["number/0"]
    if n >= 1_000_000_000:
        raise ValueError(f"{n} is too large to read")
    millions, rest = divmod(n, 1_000_000)
    thousands, ones = divmod(rest, 1000)
    names: list[str] = []
    if millions:
        names += [*_en_below_thousand(millions), "number/1000000"]
    if thousands:
        names += [*_en_below_thousand(thousands), "number/1000"]
    if ones:
        names += _en_below_thousand(ones)
    return names


def _en_year(year: int) -> list[str]:
    """2025 -> twenty twenty-five; 2000 and 2001-2009 as two thousand (five)."""
    century, rest = divmod(year, 100)
    if rest == 0 or 2000 <= year < 2010:
        return _en_number(year)
    if rest < 10:
        return [*_en_number(century), "number/oh", f"number/{rest}"]
    return [*_en_number(century), *_en_number(rest)]
