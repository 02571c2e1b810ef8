"""The menu engine's rules and the flows' pure parts (what a bill or an outage sounds like), without a call; and
every prompt a menu or flow can say exists in both languages."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from ivr import billing, identify, menu, outages, prompts, repair, routes
from ivr.call import AFTER_INFO, Identity
from ivr.customers import BillSummary, OutageNotice
from ivr.menu import Act, Decision, Menu, decide, read_entry
from tests.test_ivr_speech import zh

MENU = Menu("test", ("menu/main",), {"1": "one", "2": "two"})


def test_a_valid_key_chooses() -> None:
    assert decide(MENU, "2", failures=0) == Decision(Act.CHOOSE, "two")


def test_zero_reaches_a_person_and_star_repeats_without_counting_as_a_failure() -> None:
    assert decide(MENU, "0", failures=2).act is Act.PERSON
    assert decide(MENU, "*", failures=2).act is Act.REPEAT


def test_wrong_keys_and_silence_retry_with_a_notice_then_reach_a_person_on_the_third() -> None:
    assert decide(MENU, "7", failures=0) == Decision(Act.RETRY, notice="menu/invalid", reason="wrong key 7")
    assert decide(MENU, None, failures=1) == Decision(Act.RETRY, notice="menu/no_input", reason="no key")
    third = decide(MENU, None, failures=2)
    assert third.act is Act.PERSON and third.reason == "3 failures in test"


def test_a_menu_can_take_a_choice_on_silence_invalid_or_failure() -> None:
    language = routes.language_menu("zh")
    assert decide(language, None, 0) == Decision(Act.CHOOSE, "zh")
    assert decide(language, "7", 0) == Decision(Act.CHOOSE, "zh")
    assert decide(language, "2", 0) == Decision(Act.CHOOSE, "en")
    survey = routes.SURVEY
    assert decide(survey, "0", 0).act is Act.RETRY  # no person after the agent: 0 is just a wrong key
    assert decide(survey, None, 1) == Decision(Act.CHOOSE, "none", reason="2 failures")
    assert decide(AFTER_INFO, None, 0) == Decision(Act.CHOOSE, "goodbye")


def test_typed_entries() -> None:
    assert read_entry("", timed_out=True).act is Act.RETRY
    assert read_entry("0", timed_out=False).act is Act.PERSON
    assert read_entry("*", timed_out=False).act is Act.REPEAT
    assert read_entry("3100000011", timed_out=False) == Decision(Act.CHOOSE, "3100000011")


def _identity(number: str) -> Identity:
    return Identity(1, number, 1, "standard", "", True)


def test_several_accounts_are_offered_by_their_last_four_digits() -> None:
    choose = identify.choose_account_menu([_identity("3100012345"), _identity("3200067890")], "zh")
    assert choose.choices == {"1": "0", "2": "1", "9": "other"}
    assert choose.prompt[:7] == (
        "identify/several",
        "identify/account_ending",
        "number/2",
        "number/3",
        "number/4",
        "number/5",
        "identify/press",
    )
    assert choose.prompt[-1] == "identify/other"


TODAY = date(2025, 3, 20)


def _bill(**changes: object) -> BillSummary:
    values: dict[str, object] = {
        "prepaid": False,
        "balance_fen": 0,
        "amount_due_fen": 12345,
        "due_date": date(2025, 3, 25),
        "last_payment_on": date(2025, 2, 18),
        "last_payment_fen": 9870,
        "arrears_fen": 0,
        "has_bills": True,
    }
    values.update(changes)
    return BillSummary(**values)  # type: ignore[arg-type]


def test_a_bill_says_amount_due_date_and_last_payment() -> None:
    words = billing.bill_words("3100012345", _bill(), "zh", TODAY)
    assert words[0] == "identify/account_ending"
    assert words.index("bill/amount_due") < words.index("money/yuan") < words.index("bill/due_date")
    assert "bill/arrears" not in words
    amount_due = words[words.index("bill/amount_due") + 1 : words.index("bill/due_date")]
    assert zh(amount_due) == "一百二十三元四角五分"
    due = words[words.index("bill/due_date") + 1 : words.index("bill/last_payment")]
    assert zh(due) == "三月二十五日"
    last = words[words.index("bill/last_payment") + 1 :]
    assert zh([w for w in last if w != "bill/amount"]) == "二月十八日九十八元七角"


def test_arrears_are_said_with_their_consequence_and_no_past_due_date() -> None:
    words = billing.bill_words("3100012345", _bill(arrears_fen=12345), "zh", TODAY)
    assert "bill/arrears" in words and "bill/arrears_consequence" in words
    assert "bill/due_date" not in words


def test_prepaid_accounts_hear_their_balance_and_a_low_balance_warning() -> None:
    words = billing.bill_words("3100012345", _bill(prepaid=True, balance_fen=2000), "en", TODAY)
    assert "bill/prepaid_balance" in words and "bill/prepaid_low" in words
    assert "bill/amount_due" not in words
    plenty = billing.bill_words("3100012345", _bill(prepaid=True, balance_fen=50000), "en", TODAY)
    assert "bill/prepaid_low" not in plenty


def test_nothing_due_and_no_bills() -> None:
    assert "bill/nothing_due" in billing.bill_words("3100012345", _bill(amount_due_fen=0), "zh", TODAY)
    words = billing.bill_words("3100012345", _bill(has_bills=False, last_payment_on=None), "zh", TODAY)
    assert words[-1] == "bill/no_bills"


NOW = datetime(2025, 3, 20, 2, 0, tzinfo=UTC)


def test_outages_now_and_ahead_with_cause_and_restoration() -> None:
    fault = OutageNotice("fault", datetime(2025, 3, 20, 1, 0, tzinfo=UTC), datetime(2025, 3, 20, 10, 0, tzinfo=UTC))
    planned = OutageNotice("maintenance", datetime(2025, 3, 21, 0, 0, tzinfo=UTC), None)
    words = outages.outage_words([fault, planned], "zh", NOW)
    assert words[:3] == ["outage/now", "outage/cause/fault", "outage/off"]
    assert words[3:8] == ["outage/expected", "date/today", "number/10", "number/8", "time/hour"]
    assert words[9:11] == ["outage/upcoming", "date/tomorrow"]
    assert words[-1] == "outage/no_estimate"
    announcement = outages.fault_announcement(fault, "en", NOW)
    assert announcement[0] == "outage/fault_in_area" and announcement[-1] == "outage/hang_up_ok"


def _all_menus() -> list[Menu]:
    found = [routes.language_menu("zh"), AFTER_INFO]
    for module in (routes, billing, outages, repair, identify):
        found += [value for value in vars(module).values() if isinstance(value, Menu)]
    return found


@pytest.mark.parametrize("language", ["zh", "en"])
def test_every_prompt_a_menu_or_flow_names_exists(language: str) -> None:
    have = prompts.names(language)
    named: set[str] = set()
    for m in _all_menus():
        for name in m.prompt:
            if ":" not in name:
                named.add(name)
        named.add("menu/invalid")
        named.add("menu/no_input")
    for entry in (identify.ENTER_ACCOUNT, identify.ENTER_PASSWORD):
        named.add(entry.prompt)
    # Prompt names written in the flows' source: "group/name" literals and the single-word frame prompts.
    source = "\n".join(p.read_text() for p in Path(menu.__file__).parent.glob("*.py"))
    for literal in re.findall(r'"((?:identify|verify|bill|outage|repair|survey|menu|key)/[a-z_/]+)"', source):
        named.add(literal)
    named.update({"thanks", "sorry", "welcome", "hold", "call_later"})
    named.update(f"outage/cause/{kind}" for kind in ("maintenance", "construction", "connection", "load_shedding"))
    named.add("outage/cause/fault")
    optional = {"outage/off", "outage/restored"} if language == "en" else set()
    missing = named - have - optional
    assert not missing, f"{language}: {sorted(missing)}"


def test_language_choice_speaks_each_language_in_its_own_voice() -> None:
    assert "language/mandarin" in prompts.names("zh")
    assert "language/english" in prompts.names("en")
