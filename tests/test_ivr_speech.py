"""Numbers, money, dates, times and account numbers read out as fragments, in Mandarin and English; and every
fragment a reading can produce exists in the prompt catalogue of its language."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest

from crm.vocabulary import LANGUAGES
from ivr import prompts, speech

ZH = {
    "number/0": "零",
    "number/1": "一",
    "number/2": "二",
    "number/3": "三",
    "number/4": "四",
    "number/5": "五",
    "number/6": "六",
    "number/7": "七",
    "number/8": "八",
    "number/9": "九",
    "number/10": "十",
    "number/100": "百",
    "number/1000": "千",
    "number/10000": "万",
    "number/100000000": "亿",
    "number/liang": "两",
    "number/yao": "幺",
    "number/minus": "负",
    "money/yuan": "元",
    "money/jiao": "角",
    "money/fen": "分",
    "money/whole": "整",
    "date/year": "年",
    "date/month": "月",
    "date/day": "日",
    "date/today": "今天",
    "date/tomorrow": "明天",
    "time/hour": "点",
    "time/minute": "分",
}


def zh(names: list[str]) -> str:
    """The fragments as the Mandarin text they speak."""
    return "".join(ZH[name] for name in names)


def en(names: list[str]) -> str:
    texts = {p.name: p.text for p in prompts.catalogue() if p.language == "en"}
    return " ".join(texts[name] for name in names)


@pytest.mark.parametrize(
    ("n", "text"),
    [
        (0, "零"),
        (7, "七"),
        (10, "十"),
        (15, "十五"),
        (20, "二十"),
        (105, "一百零五"),
        (110, "一百一十"),
        (115, "一百一十五"),
        (200, "两百"),
        (1005, "一千零五"),
        (1050, "一千零五十"),
        (1200, "一千二百"),
        (2000, "两千"),
        (10000, "一万"),
        (10050, "一万零五十"),
        (100010, "十万零一十"),
        (101000, "十万一千"),
        (120000, "十二万"),
        (1001000, "一百万一千"),
        (20000000, "两千万"),
        (100000000, "一亿"),
        (100000001, "一亿零一"),
        (100010000, "一亿零一万"),
        (123456789, "一亿二千三百四十五万六千七百八十九"),
    ],
)
def test_mandarin_numbers(n: int, text: str) -> None:
    assert zh(speech.number(n, "zh")) == text


def test_a_lone_two_counting_something_is_liang() -> None:
    assert zh(speech.number(2, "zh", measure=True)) == "两"
    assert zh(speech.number(2, "zh")) == "二"
    assert zh(speech.number(12, "zh", measure=True)) == "十二"


@pytest.mark.parametrize(
    ("fen", "text"),
    [
        (0, "零元"),
        (5, "五分"),
        (40, "四角"),
        (45, "四角五分"),
        (100, "一元整"),
        (200, "两元整"),
        (12345, "一百二十三元四角五分"),
        (222, "两元二角二分"),
        (12305, "一百二十三元零五分"),
        (12340, "一百二十三元四角"),
        (100000, "一千元整"),
        (1234567, "一万二千三百四十五元六角七分"),
        (-2050, "负二十元五角"),
    ],
)
def test_mandarin_money_in_yuan_jiao_fen(fen: int, text: str) -> None:
    assert zh(speech.money(fen, "zh")) == text


@pytest.mark.parametrize(
    ("fen", "text"),
    [
        (0, "zero yuan"),
        (45, "forty five fen"),
        (100, "one yuan"),
        (12345, "one hundred twenty three yuan and forty five fen"),
        (1500000, "fifteen thousand yuan"),
        (123456789, "one million two hundred thirty four thousand five hundred sixty seven yuan and eighty nine fen"),
    ],
)
def test_english_money(fen: int, text: str) -> None:
    assert en(speech.money(fen, "en")) == text


def test_account_numbers_digit_by_digit() -> None:
    assert zh(speech.digits("3100012345", "zh")) == "三幺零零零幺二三四五"
    assert en(speech.digits("3100012345", "en")) == "three one zero zero zero one two three four five"
    with pytest.raises(ValueError):
        speech.digits("12a", "zh")


def test_days() -> None:
    today = date(2025, 3, 20)
    assert zh(speech.day(date(2025, 3, 20), "zh", today)) == "今天"
    assert zh(speech.day(date(2025, 3, 21), "zh", today)) == "明天"
    assert zh(speech.day(date(2025, 12, 25), "zh", today)) == "十二月二十五日"
    assert zh(speech.day(date(2024, 2, 2), "zh", today)) == "二零二四年二月二日"
    assert en(speech.day(date(2025, 4, 1), "en", today)) == "April first"
    assert en(speech.day(date(2024, 12, 31), "en", today)) == "December thirty first twenty twenty four"
    assert en(speech.day(date(2005, 1, 2), "en", today)) == "January second two thousand five"


def test_times_on_the_24_hour_clock() -> None:
    assert zh(speech.clock(time(18, 30), "zh")) == "十八点三十分"
    assert zh(speech.clock(time(18, 0), "zh")) == "十八点"
    assert zh(speech.clock(time(9, 5), "zh")) == "九点零五分"
    assert zh(speech.clock(time(2, 0), "zh")) == "两点"
    assert en(speech.clock(time(18, 30), "en")) == "eighteen thirty"
    assert en(speech.clock(time(18, 0), "en")) == "eighteen hundred"
    assert en(speech.clock(time(9, 5), "en")) == "nine oh five"


def test_moments_are_said_in_china_time() -> None:
    now = datetime(2025, 3, 20, 2, 0, tzinfo=UTC)  # 10:00 in Beijing
    restoration = datetime(2025, 3, 20, 10, 30, tzinfo=UTC)  # 18:30 in Beijing, the same day
    assert zh(speech.moment(restoration, "zh", now)) == "今天十八点三十分"
    late = datetime(2025, 3, 20, 17, 0, tzinfo=UTC)  # 01:00 the next day in Beijing
    assert zh(speech.moment(late, "zh", now)) == "明天一点"


def test_every_fragment_a_reading_can_make_is_in_the_catalogue() -> None:
    today = date(2025, 6, 15)
    for language in LANGUAGES:
        have = prompts.names(language)
        made: set[str] = set()
        for n in [*range(0, 2100), 10**4, 10**5 + 10, 10**8 + 1, 123456789]:
            made.update(speech.number(n, language))
        made.update(speech.money(-123456, language))
        made.update(speech.digits("0123456789", language))
        for offset in range(366):
            made.update(speech.day(date(2024, 1, 1) + timedelta(days=offset), language, today))
        made.update(speech.day(today, language, today))
        for hour in range(24):
            for minute in (0, 5, 30, 59):
                made.update(speech.clock(time(hour, minute), language))
        assert made <= have, f"{language}: {sorted(made - have)}"
