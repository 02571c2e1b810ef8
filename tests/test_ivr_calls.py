"""The self-service IVR end to end: real SIP callers press keys into the real Asterisk, and the FastAGI server runs
the flows against the real database and Redis. Each outcome of each flow is one caller; the callers call at once
(module fixture), and each test asserts on its call's contact row, the prompts Asterisk played (the IVR path
records them from Asterisk's answers to STREAM FILE), the rows the flow wrote, and what Asterisk logged.

Key timing: each caller follows what the IVR reports (ivr.wait, hotline/events.py) and presses a menu's keys as
soon as the IVR waits there, which cuts the prompt short (barge-in); no key is sent on a clock.
"""

from __future__ import annotations

import contextlib
import logging
import re
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from crm import account_numbers
from crm.db import make_engine, session_factory
from crm.models import Contact, SatisfactionResult
from crm.work_order_models import WorkOrder
from cti.acd import routing
from cti.acd.policy import AgentProfile
from cti.acd.process import AgentDesk
from ivr.customers import CrmCustomers
from ivr.fastagi import AgiChannel, FastAgiServer, Response, Route
from ivr.guesses import GuessLimiter
from ivr.process import build_ivr
from ivr.progress import IvrProgress
from ivr.routes import Ivr
from testbed.phones import HANG_UP, CallResult, Script
from testbed.sandbox import free_port
from tests.conftest import BOUND_S, Testbed, TestCustomer, TestUtility, new_caller_number, wait_for

CONCURRENT_CALLERS = 12
LANG = ("language", "1")  # Mandarin
# A caller put through to a person hangs up once the ACD has queued the call: the hand-off is then complete.
PERSON = "queue.enter"
UNKNOWN_ACCOUNT = account_numbers.make(98, 4321)  # a valid number no customer holds
BAD_CHECK_DIGIT = UNKNOWN_ACCOUNT[:-1] + str((int(UNKNOWN_ACCOUNT[-1]) + 1) % 10)


@dataclass
class Scenario:
    """A caller: who they are (made in the test utility), what they dial, and their script: at each menu the IVR
    reports waiting at, the keys they press (`{account}` and `{password}` stand for their own) or HANG_UP. Then
    they hang up once the hotline reports `until` (PERSON: queued for a person), or else wait for the hotline to
    hang up."""

    script: Script
    until: str = ""
    customer: Callable[[TestUtility], TestCustomer | None] = lambda _: None
    extension: str = "95598"
    # A second call from the caller of this scenario, made after it; else the customer's number or a new one.
    same_caller_as: str = ""


@dataclass
class Call:
    result: CallResult
    contact: Contact
    customer: TestCustomer | None
    number: str

    def steps(self) -> list[str]:
        return [str(s["step"]) for s in self.contact.ivr_path]

    def step(self, name: str) -> dict[str, Any]:
        found = [s for s in self.contact.ivr_path if s["step"] == name]
        assert found, f"no step {name} in {self.steps()}"
        return found[-1]

    def all(self, name: str) -> list[dict[str, Any]]:
        return [s for s in self.contact.ivr_path if s["step"] == name]

    def played(self, step: str | None = None) -> list[str]:
        """Every prompt Asterisk played in the call (or in one kind of step), in order."""
        return [p for s in self.contact.ivr_path if step in (None, s["step"]) for p in s.get("played", [])]

    @property
    def person(self) -> dict[str, Any]:
        return self.step("to_person")


def _quiet(**options: Any) -> Callable[[TestUtility], TestCustomer]:
    return lambda u: u.customer(area="quiet", **options)[0]


def _unregistered(**options: Any) -> Callable[[TestUtility], TestCustomer]:
    """A customer whose phone is not the one calling: the caller must type the account number."""
    return lambda u: u.customer(area="quiet", phones=0, **options)[0]


SCENARIOS: dict[str, Scenario] = {
    # -- language and main menu ------------------------------------------------------------------------------
    "person_on_zero": Scenario([LANG, ("main_menu", "0")], PERSON),
    "english": Scenario([("language", "2"), ("main_menu", "0")], PERSON),
    "language_by_silence": Scenario([("main_menu", "0")], PERSON),
    "invalid_keys": Scenario([LANG, ("main_menu", "7"), ("main_menu", "8"), ("main_menu", "9")], PERSON),
    "star_repeats": Scenario([LANG, ("main_menu", "*"), ("main_menu", "0")], PERSON),
    "silence": Scenario([LANG, ("main_menu", "5")], PERSON),
    "complaint": Scenario([LANG, ("main_menu", "5"), ("complaint_menu", "1")], PERSON, customer=_quiet()),
    "suggestion": Scenario([LANG, ("main_menu", "5"), ("complaint_menu", "2")], PERSON),
    "new_connection": Scenario([LANG, ("main_menu", "4"), ("business_menu", "1")], PERSON),
    "consultation": Scenario([LANG, ("main_menu", "4"), ("business_menu", "2")], PERSON),
    # -- identification and bills ----------------------------------------------------------------------------
    "bill_verified": Scenario(
        [LANG, ("main_menu", "1")], customer=_quiet(due_fen=12345, last_payment_fen=9870, password="864200")
    ),
    "bill_english": Scenario([("language", "2"), ("main_menu", "1")], customer=_quiet(due_fen=12345)),
    "bill_password": Scenario(
        [LANG, ("main_menu", "1"), ("account_entry", "{account}#"), ("password_entry", "{password}#")],
        customer=_unregistered(due_fen=5000, password="246810"),
    ),
    "bill_wrong_password": Scenario(
        [
            LANG,
            ("main_menu", "1"),
            ("account_entry", "{account}#"),
            ("password_entry", "111111#"),
            ("password_entry", "222222#"),
            ("password_entry", "333333#"),
        ],
        PERSON,
        customer=_unregistered(due_fen=5000, password="135790"),
    ),
    "bill_throttled": Scenario(
        [
            LANG,
            ("main_menu", "1"),
            ("account_entry", "{account}#"),
            ("password_entry", "444444#"),
            ("password_entry", "555555#"),
        ],
        same_caller_as="bill_wrong_password",
    ),
    "bill_no_password": Scenario(
        [LANG, ("main_menu", "1"), ("account_entry", "{account}#")], customer=_unregistered(due_fen=5000)
    ),
    "arrears": Scenario([LANG, ("main_menu", "1")], customer=_quiet(due_fen=1234, arrears_fen=5678)),
    "prepaid": Scenario([LANG, ("main_menu", "1")], customer=_quiet(prepaid_balance_fen=3000)),
    "several_accounts": Scenario(
        [LANG, ("main_menu", "1"), ("choose_account", "2")],
        customer=lambda u: u.customer(accounts=2, due_fen=700)[1],
    ),
    "unknown_account": Scenario([LANG, ("main_menu", "1"), *[("account_entry", f"{UNKNOWN_ACCOUNT}#")] * 3], PERSON),
    # -- outages -------------------------------------------------------------------------------------------
    "bad_check_digit": Scenario(
        [LANG, ("main_menu", "2"), ("account_entry", f"{BAD_CHECK_DIGIT}#"), ("account_entry", "{account}#")],
        customer=lambda u: u.customer(area="planned", phones=0)[0],
    ),
    "outage_known": Scenario([LANG, ("main_menu", "2")], customer=lambda u: u.customer(area="planned")[0]),
    "outage_none": Scenario(
        [LANG, ("main_menu", "2"), ("outage_none", "1"), ("repair_scope", HANG_UP)], customer=_quiet()
    ),
    "fault_area": Scenario([LANG, ("main_menu", HANG_UP)], customer=lambda u: u.customer(area="fault")[0]),
    # -- repair triage ---------------------------------------------------------------------------------------
    "repair_solved": Scenario(
        [LANG, ("main_menu", "3"), ("repair_scope", "1"), ("repair_breaker", "1"), ("repair_reset", "1")],
        customer=_quiet(),
    ),
    "repair_customer_side": Scenario(
        [LANG, ("main_menu", "3"), ("repair_scope", "1"), ("repair_breaker", "1"), ("repair_reset", "2")],
        customer=_quiet(),
    ),
    "repair_not_tripped": Scenario(
        [LANG, ("main_menu", "3"), ("repair_scope", "1"), ("repair_breaker", "2")], customer=_quiet()
    ),
    "repair_shared_meter": Scenario(
        [LANG, ("main_menu", "3"), ("repair_scope", "1")], customer=_quiet(shared_meter=True)
    ),
    # A caller in a fault area who knows the menus answers the main menu during the fault announcement.
    "repair_known_outage": Scenario(
        [LANG, ("fault_notice", "3"), ("repair_scope", "2")], customer=lambda u: u.customer(area="fault")[0]
    ),
    "repair_neighbours": Scenario([LANG, ("main_menu", "3"), ("repair_scope", "2")], customer=_quiet()),
    # -- the key-account line ------------------------------------------------------------------------------
    "key_account": Scenario([], PERSON, extension="9559801", customer=_quiet(tier="key_account")),
    "key_self_service": Scenario(
        [("key_welcome", "1"), ("main_menu", "1")],
        extension="9559801",
        customer=_quiet(tier="key_account", due_fen=880000),
    ),
    "key_unknown_caller": Scenario(
        [("account_entry", "{account}#")], PERSON, extension="9559801", customer=_unregistered(tier="key_account")
    ),
    # -- the survey ----------------------------------------------------------------------------------------
    "survey": Scenario([("survey", "4")], extension="survey"),
    # -- a caller hanging up in every menu (the language choice: test_calls.py) -----------------------------
    "hangup_main_menu": Scenario([LANG, ("main_menu", HANG_UP)]),
    "hangup_business_menu": Scenario([LANG, ("main_menu", "4"), ("business_menu", HANG_UP)]),
    "hangup_complaint_menu": Scenario([LANG, ("main_menu", "5"), ("complaint_menu", HANG_UP)]),
    "hangup_choose_account": Scenario(
        [LANG, ("main_menu", "1"), ("choose_account", HANG_UP)], customer=lambda u: u.customer(accounts=2)[0]
    ),
    "hangup_account_entry": Scenario([LANG, ("main_menu", "1"), ("account_entry", HANG_UP)]),
    "hangup_password_entry": Scenario(
        [LANG, ("main_menu", "1"), ("account_entry", "{account}#"), ("password_entry", HANG_UP)],
        customer=_unregistered(password="112233"),
    ),
    # Where information plays, the caller cuts it short with * (the menu after it is said again), then leaves.
    "hangup_after_info": Scenario(
        [LANG, ("main_menu", "1"), ("bill", "*"), ("after_info", HANG_UP)], customer=_quiet(due_fen=100)
    ),
    "hangup_after_refusal": Scenario(
        [LANG, ("main_menu", "1"), ("account_entry", "{account}#"), ("bill", "*"), ("after_refusal", HANG_UP)],
        customer=_unregistered(),
    ),
    "hangup_outage_none": Scenario(
        [LANG, ("main_menu", "2"), ("outage", "*"), ("outage_none", HANG_UP)], customer=_quiet()
    ),
    "hangup_repair_scope": Scenario([LANG, ("main_menu", "3"), ("repair_scope", HANG_UP)], customer=_quiet()),
    "hangup_repair_breaker": Scenario(
        [LANG, ("main_menu", "3"), ("repair_scope", "1"), ("repair_breaker", HANG_UP)], customer=_quiet()
    ),
    "hangup_repair_reset": Scenario(
        [LANG, ("main_menu", "3"), ("repair_scope", "1"), ("repair_breaker", "1"), ("repair_reset", HANG_UP)],
        customer=_quiet(),
    ),
    "hangup_key_welcome": Scenario(
        [("key_welcome", HANG_UP)], extension="9559801", customer=_quiet(tier="key_account")
    ),
    "hangup_survey": Scenario([("survey", HANG_UP)], extension="survey"),
    # -- typing ahead ----------------------------------------------------------------------------------------------
    # 0 pressed while a notice that cannot be cut plays (this account has no password): held for the next question.
    "typed_ahead": Scenario(
        [LANG, ("main_menu", "1"), ("account_entry", "{account}#"), ("verify", "0")], PERSON, customer=_unregistered()
    ),
}


def _closed_contact(testbed: Testbed, number: str, after: int = 0) -> Contact:
    def closed() -> Contact | None:
        rows = [c for c in testbed.contacts(number) if c.outcome is not None and c.id > after]
        return rows[-1] if rows else None

    return wait_for(closed, timeout=15)  # type: ignore[no-any-return]


def _place(testbed: Testbed, scenario: Scenario, customer: TestCustomer | None, number: str) -> Call:
    fill = {"account": customer.account_number if customer else "", "password": (customer and customer.password) or ""}
    script = [(menu, keys.format(**fill)) for menu, keys in scenario.script]
    before = max((c.id for c in testbed.contacts(number)), default=0)
    result = testbed.call(scenario.extension, caller_number=number, script=script, until=scenario.until, hold=BOUND_S)
    assert result.established, result.failure
    assert result.script_stopped is None, f"{result.script_stopped}; the call reported {result.reported}"
    return Call(result, _closed_contact(testbed, number, before), customer, number)


def _hangs_up(scenario: Scenario) -> bool:
    return bool(scenario.script) and scenario.script[-1][1] == HANG_UP


class Calls(dict[str, Any]):
    """The calls by scenario name; a scenario whose call failed raises its failure in the tests that read it."""

    def __getitem__(self, name: str) -> Call:
        value = super().__getitem__(name)
        if isinstance(value, BaseException):
            raise value
        return value  # type: ignore[no-any-return]


def _place_safely(testbed: Testbed, scenario: Scenario, customer: TestCustomer | None, number: str) -> Any:
    try:
        return _place(testbed, scenario, customer, number)
    except BaseException as exc:
        return exc


@pytest.fixture(scope="module")
def calls(testbed: Testbed, utility: TestUtility) -> Calls:
    """Every scenario's call, many at once; a second call from the same caller follows the first."""
    done = Calls()

    def run(name: str) -> None:
        scenario = SCENARIOS[name]
        earlier = dict.get(done, scenario.same_caller_as)
        if isinstance(earlier, Call):
            customer, number = earlier.customer, earlier.number
        else:
            customer = scenario.customer(utility)
            number = (customer and customer.phone) or new_caller_number()
        done[name] = _place_safely(testbed, scenario, customer, number)
        for follower, then in SCENARIOS.items():
            if then.same_caller_as == name:
                run(follower)

    first = [name for name, s in SCENARIOS.items() if not s.same_caller_as]
    # A limited number of callers at a time, the longest calls first (those that hear information or wait out a
    # menu's silence): enough to overlap every wait, not so many that the two cores slow call set-up down.
    first.sort(key=lambda name: SCENARIOS[name].until == "" and not _hangs_up(SCENARIOS[name]), reverse=True)
    with ThreadPoolExecutor(CONCURRENT_CALLERS) as pool:
        for future in [pool.submit(run, name) for name in first]:
            future.result()
    return done


def _handoff(testbed: Testbed, call: Call) -> dict[str, str]:
    """The hand-off variables as Asterisk held them on the channel when the human path began (its NOTICE line)."""
    pattern = re.compile(rf"hotline handoff uniqueid={re.escape(call.contact.uniqueid)} (.*)$", re.M)
    line = wait_for(lambda: pattern.search(testbed.asterisk_log()))
    return dict(field.split("=", 1) for field in line.group(1).split(" "))


def _work_orders(testbed: Testbed, call: Call) -> list[WorkOrder]:
    with testbed.hotline.contacts.sessions() as session:
        return list(session.scalars(select(WorkOrder).where(WorkOrder.contact_id == call.contact.id)))


def _satisfaction(testbed: Testbed, contact_id: int) -> int | None:
    with testbed.hotline.contacts.sessions() as session:
        query = select(SatisfactionResult.score).where(SatisfactionResult.contact_id == contact_id)
        return session.scalar(query)


def _read_digits(words: list[str], start: str, stop: str | None = None) -> str:
    """The digits read one by one after the prompt `start` (up to `stop`): number/yao is 1 in Mandarin."""
    begin = words.index(start) + 1
    end = words.index(stop, begin) if stop else len(words)
    return "".join("1" if w == "number/yao" else w.split("/")[1] for w in words[begin:end])


# -- language and main menu ----------------------------------------------------------------------------------


def test_zero_reaches_a_person_with_the_path_handed_over(calls: Calls, testbed: Testbed) -> None:
    call = calls["person_on_zero"]
    assert call.contact.outcome == "human" and call.contact.digits == "10"
    assert call.person == {"step": "to_person", "reason": "asked for a person", "intent": "general"}
    handoff = _handoff(testbed, call)
    assert handoff["intent"] == "general" and handoff["line"] == "main" and handoff["verified"] == "0"
    assert handoff["contact"] == str(call.contact.id)
    assert handoff["path"] == "language>main_menu"
    assert handoff["language"] == "zh"


def test_english_is_the_second_language(calls: Calls, testbed: Testbed) -> None:
    call = calls["english"]
    assert call.contact.language == "en"
    assert call.step("language")["key"] == "2"
    # The channel's language follows: the human path's holding message is the English one.
    assert _handoff(testbed, call)["language"] == "en"


def test_silence_at_the_language_choice_keeps_mandarin(calls: Calls) -> None:
    call = calls["language_by_silence"]
    language = call.step("language")
    assert language["key"] == "" and language["played"] == ["zh:welcome", "zh:language/mandarin", "en:language/english"]
    assert call.contact.language == "zh"
    assert call.step("main_menu")["key"] == "0" and call.contact.outcome == "human"


def test_three_wrong_keys_reach_a_person(calls: Calls) -> None:
    call = calls["invalid_keys"]
    attempts = call.all("main_menu")
    assert [a["key"] for a in attempts] == ["7", "8", "9"]
    assert attempts[1]["played"][0] == "menu/invalid" and attempts[2]["played"][0] == "menu/invalid"
    assert call.person["reason"] == "3 failures in main_menu"
    assert call.contact.outcome == "human"


def test_star_repeats_the_menu(calls: Calls) -> None:
    call = calls["star_repeats"]
    assert [(a["key"], a["played"]) for a in call.all("main_menu")] == [("*", ["menu/main"]), ("0", ["menu/main"])]
    assert call.person["reason"] == "asked for a person"


def test_three_silences_reach_a_person_never_a_hang_up(calls: Calls) -> None:
    call = calls["silence"]
    attempts = call.all("complaint_menu")
    assert [a["key"] for a in attempts] == ["", "", ""]
    assert [a["played"][0] for a in attempts] == ["menu/complaint", "menu/no_input", "menu/no_input"]
    assert call.person["reason"] == "3 failures in complaint_menu"
    assert call.result.ended_by == "caller"  # the hotline never hung up on the silent caller


@pytest.mark.parametrize(
    ("name", "intent"),
    [
        ("complaint", "complaint"),
        ("suggestion", "suggestion"),
        ("new_connection", "business"),
        ("consultation", "consultation"),
    ],
)
def test_complaints_suggestions_and_business_reach_a_person_with_their_intent(
    calls: Calls, testbed: Testbed, name: str, intent: str
) -> None:
    call = calls[name]
    assert call.contact.outcome == "human"
    assert call.person["intent"] == intent
    handoff = _handoff(testbed, call)
    assert handoff["intent"] == intent
    if call.customer is not None:
        # A caller known by number: the account (last four digits in the log), tier and verification travel too.
        assert handoff["account"] == call.customer.account_number[-4:]
        assert handoff["tier"] == "standard" and handoff["verified"] == "1"
        assert call.contact.account_id == call.customer.account_id
    else:
        assert handoff["account"] == "" and handoff["verified"] == "0"


# -- identification and bills ------------------------------------------------------------------------------


def test_a_verified_caller_hears_the_bill(calls: Calls) -> None:
    call = calls["bill_verified"]
    assert call.contact.outcome == "completed" and call.result.ended_by == "far end"
    assert call.step("identified") == {
        "step": "identified",
        "how": "caller number",
        "account_id": call.customer.account_id if call.customer else None,
        "verified": True,
    }
    assert call.contact.account_id == (call.customer.account_id if call.customer else None)
    bill = call.played("bill")
    assert call.customer is not None
    assert _read_digits(bill, "identify/account_ending", "bill/amount_due") == call.customer.account_number[-4:]
    amount = bill[bill.index("bill/amount_due") + 1 : bill.index("bill/due_date")]
    # 123.45 yuan: 一百二十三元四角五分
    assert amount == [
        "number/1",
        "number/100",
        "number/2",
        "number/10",
        "number/3",
        "money/yuan",
        "number/4",
        "money/jiao",
        "number/5",
        "money/fen",
    ]
    assert "bill/last_payment" in bill and bill[-2:] == ["number/7", "money/jiao"]  # 98.70: 九十八元七角
    assert "verify" not in call.steps() and "password_entry" not in call.steps()
    assert call.steps()[-2:] == ["after_info", "goodbye"]


def test_the_bill_in_english(calls: Calls) -> None:
    call = calls["bill_english"]
    assert call.contact.language == "en" and call.contact.outcome == "completed"
    bill = call.played("bill")
    # one hundred twenty three yuan and forty five fen
    assert bill[bill.index("bill/amount_due") + 1 : bill.index("bill/due_date")] == [
        "number/1",
        "number/100",
        "number/20",
        "number/3",
        "money/yuan",
        "word/and",
        "number/40",
        "number/5",
        "money/fen",
    ]
    assert bill[bill.index("bill/due_date") + 1].startswith("month/")


def test_an_unregistered_caller_hears_the_bill_after_the_password(calls: Calls) -> None:
    call = calls["bill_password"]
    assert [s["result"] for s in call.all("account_entry")] == ["ok"]
    assert [s["result"] for s in call.all("password_entry")] == ["ok"]
    assert call.step("identified")["how"] == "typed" and call.step("verified")["how"] == "password"
    assert "bill/amount_due" in call.played("bill") and call.contact.outcome == "completed"
    # Neither the account number nor the password is kept among the keys pressed.
    assert call.contact.digits == "11"
    assert call.customer is not None and call.customer.password not in str(call.contact.ivr_path)


def test_three_wrong_passwords_refuse_the_bill_and_reach_a_person(calls: Calls, testbed: Testbed) -> None:
    call = calls["bill_wrong_password"]
    assert [s["result"] for s in call.all("password_entry")] == ["wrong_password"] * 3
    assert "bill" not in call.steps() and not any(p.startswith("bill/") for p in call.played())
    assert call.person["reason"] == "3 failures in password_entry" and call.person["intent"] == "billing"
    handoff = _handoff(testbed, call)
    assert handoff["verified"] == "0" and call.customer is not None
    assert handoff["account"] == call.customer.account_number[-4:]


def test_failed_guesses_are_throttled_across_calls(calls: Calls) -> None:
    call = calls["bill_throttled"]
    # Three failures in the first call, two here: the fifth blocks the number, and the bill is refused.
    assert [s["result"] for s in call.all("password_entry")] == ["wrong_password"]
    assert call.step("verify") == {"step": "verify", "result": "throttled", "played": ["identify/too_many"]}
    assert call.step("bill_refused")["reason"] == "too many failed guesses"
    assert "bill/refused" in call.played("bill") and "bill/amount_due" not in call.played()


def test_no_password_set_refuses_the_bill(calls: Calls) -> None:
    call = calls["bill_no_password"]
    assert call.step("verify")["result"] == "no_password"
    assert call.played("bill") == ["bill/refused"]
    assert call.steps()[-2:] == ["after_refusal", "goodbye"] and call.contact.outcome == "completed"


def test_arrears_are_said_with_their_consequence(calls: Calls) -> None:
    bill = calls["arrears"].played("bill")
    # Due: 12.34 + 56.78 = 69.12 in all, of which 56.78 overdue.
    assert bill[bill.index("bill/amount_due") + 1 : bill.index("bill/due_date")] == [
        "number/6",
        "number/10",
        "number/9",
        "money/yuan",
        "number/1",
        "money/jiao",
        "number/2",
        "money/fen",
    ]
    arrears = bill[bill.index("bill/arrears") + 1 : bill.index("bill/arrears_consequence")]
    assert arrears[:3] == ["number/5", "number/10", "number/6"]
    assert calls["arrears"].contact.outcome == "completed"


def test_prepaid_accounts_hear_their_balance(calls: Calls) -> None:
    bill = calls["prepaid"].played("bill")
    assert bill[bill.index("bill/prepaid_balance") + 1 :][:5] == [
        "number/3",
        "number/10",
        "money/yuan",
        "money/whole",
        "bill/prepaid_low",
    ]
    assert "bill/amount_due" not in bill


def test_a_caller_with_several_accounts_chooses_one(calls: Calls) -> None:
    call = calls["several_accounts"]
    choose = call.step("choose_account")
    assert choose["key"] == "2" and choose["played"][0] == "identify/several"
    assert call.customer is not None and call.contact.account_id == call.customer.account_id
    assert (
        _read_digits(call.played("bill"), "identify/account_ending", "bill/amount_due")
        == (call.customer.account_number[-4:])
    )


def test_an_unknown_account_three_times_reaches_a_person(calls: Calls) -> None:
    call = calls["unknown_account"]
    assert [s["result"] for s in call.all("account_entry")] == ["unknown_account"] * 3
    assert call.all("account_entry")[1]["played"][0] == "identify/unknown_account"
    assert call.person["reason"] == "3 failures in account_entry"
    assert call.contact.account_id is None


def test_a_wrong_check_digit_is_caught_before_any_lookup(calls: Calls) -> None:
    call = calls["bad_check_digit"]
    assert not account_numbers.is_valid(BAD_CHECK_DIGIT)
    assert [s["result"] for s in call.all("account_entry")] == ["bad_check_digit", "ok"]
    assert call.all("account_entry")[1]["played"][0] == "identify/bad_account"
    assert call.customer is not None and call.contact.account_id == call.customer.account_id


# -- outages --------------------------------------------------------------------------------------------------


def test_a_known_outage_is_told_with_cause_and_restoration(calls: Calls) -> None:
    for name in ("outage_known", "bad_check_digit"):
        words = calls[name].played("outage")
        # Planned maintenance from tomorrow, back tomorrow eight hours later.
        assert words[:2] == ["outage/upcoming", "date/tomorrow"], (name, calls[name].contact.ivr_path)
        assert "outage/cause/maintenance" in words and "outage/expected" in words
        assert words[-1] == "outage/restored"
        assert calls[name].contact.outcome == "completed"


def test_no_known_outage_says_so_and_offers_repair(calls: Calls) -> None:
    call = calls["outage_none"]
    assert call.played("outage") == ["outage/none"]
    assert call.step("outage_none")["key"] == "1"
    assert call.step("hangup")["at"] == "repair_scope"
    assert call.contact.outcome == "completed"  # they heard what they called for


def test_a_fault_in_the_area_is_announced_first_and_the_caller_may_hang_up(calls: Calls) -> None:
    call = calls["fault_area"]
    assert call.steps()[:3] == ["identified", "language", "fault_notice"]
    notice = call.step("fault_notice")["played"]
    assert notice[0] == "outage/fault_in_area" and notice[1] == "outage/expected"
    assert notice[2] in ("date/today", "date/tomorrow")  # three hours from now
    assert notice[-1] == "outage/hang_up_ok"
    # Hanging up after hearing it is a completed call, not an abandoned one.
    assert call.result.ended_by == "caller" and call.contact.outcome == "completed"


# -- repair triage --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "leaf", "orders"),
    [
        ("repair_solved", "solved", 0),
        ("repair_customer_side", "customer_side", 0),
        ("repair_not_tripped", "work_order", 1),
        ("repair_shared_meter", "work_order", 1),
        ("repair_known_outage", "known_outage", 0),
        ("repair_neighbours", "work_order", 1),
    ],
)
def test_every_leaf_of_the_repair_tree(calls: Calls, testbed: Testbed, name: str, leaf: str, orders: int) -> None:
    call = calls[name]
    assert call.step("repair_result")["leaf"] == leaf
    assert call.contact.outcome == "completed"
    found = _work_orders(testbed, call)
    assert len(found) == orders
    words = call.played("repair")
    if orders:
        order = found[0]
        assert call.customer is not None and order.account_id == call.customer.account_id
        assert (order.kind, order.status) == ("repair", "open")
        # The number is read back digit by digit.
        assert _read_digits(words, "repair/order_created", "repair/order_followup") == order.number[2:]
        assert call.step("work_order")["number"] == order.number
    elif leaf == "solved":
        assert words == ["repair/solved"]
    elif leaf == "customer_side":
        assert words == ["repair/customer_side"]
    else:
        assert words[:2] == ["outage/now", "outage/cause/fault"]


def test_the_ivr_reports_where_the_call_waits_what_it_took_and_how_it_ended(calls: Calls) -> None:
    """The events a phone followed to press its keys (hotline/events.py): one start, a wait before every key, the
    keys the menus took, one end with the outcome the contact row has."""
    assert calls["repair_solved"].result.reported == [
        "ivr.start",
        "ivr.wait language#1",
        "ivr.key language#1 1",
        "ivr.wait main_menu#1",
        "ivr.key main_menu#1 3",
        "ivr.wait repair_scope#1",
        "ivr.key repair_scope#1 1",
        "ivr.wait repair_breaker#1",
        "ivr.key repair_breaker#1 1",
        "ivr.wait repair_reset#1",
        "ivr.key repair_reset#1 1",
        "ivr.wait repair#1",
        "ivr.wait after_info#1",
        "ivr.key after_info#1",
        "ivr.wait goodbye#1",
        "ivr.end completed at goodbye",
    ]
    # An entry reports how each try ended and how many digits were typed, never the digits.
    reported = calls["bill_wrong_password"].result.reported
    assert [r for r in reported if r.startswith("ivr.entry password_entry")] == [
        f"ivr.entry password_entry#{n} wrong_password" for n in (1, 2, 3)
    ]
    assert [r for r in reported if r.startswith("ivr.end")] == ["ivr.end human at password_entry"]


def test_the_repair_questions_follow_the_one_household_one_meter_rule(calls: Calls) -> None:
    asked = {name: [s for s in calls[name].steps() if s.startswith("repair_")] for name in SCENARIOS}
    assert asked["repair_solved"] == ["repair_scope", "repair_breaker", "repair_reset", "repair_result"]
    assert asked["repair_not_tripped"] == ["repair_scope", "repair_breaker", "repair_result"]
    # A shared meter: the breaker question is not asked, the fault may be on the utility's side.
    assert asked["repair_shared_meter"] == ["repair_scope", "repair_result"]
    assert asked["repair_neighbours"] == ["repair_scope", "repair_result"]


# -- the key-account line -----------------------------------------------------------------------------------


def test_the_key_account_line_puts_a_key_account_through_with_priority(calls: Calls, testbed: Testbed) -> None:
    call = calls["key_account"]
    assert call.contact.dialled_number == "9559801"
    assert "main_menu" not in call.steps() and "language" not in call.steps()
    assert call.step("key_welcome")["key"] == "" and call.person["reason"] == "key-account line"
    handoff = _handoff(testbed, call)
    assert handoff["line"] == "key" and handoff["tier"] == "key_account" and handoff["verified"] == "1"
    assert handoff["manager"] == "T-KAM"


def test_a_key_account_may_pick_self_service(calls: Calls) -> None:
    call = calls["key_self_service"]
    assert call.steps()[:4] == ["identified", "key_welcome", "main_menu", "bill"]
    bill = call.played("bill")
    # 8800 yuan: 八千八百元整
    assert bill[bill.index("bill/amount_due") + 1 :][:6] == [
        "number/8",
        "number/1000",
        "number/8",
        "number/100",
        "money/yuan",
        "money/whole",
    ]


def test_a_key_account_from_an_unregistered_phone_types_its_number(calls: Calls, testbed: Testbed) -> None:
    call = calls["key_unknown_caller"]
    assert [s["result"] for s in call.all("account_entry")] == ["ok"]
    handoff = _handoff(testbed, call)
    assert handoff["tier"] == "key_account" and handoff["verified"] == "0" and handoff["line"] == "key"


# -- the survey -------------------------------------------------------------------------------------------------


def test_the_survey_stores_the_score_with_the_contact(calls: Calls, testbed: Testbed) -> None:
    call = calls["survey"]
    assert call.step("survey")["key"] == "4" and call.step("survey_result")["played"] == ["survey/thanks"]
    assert call.result.ended_by == "far end"
    assert _satisfaction(testbed, call.contact.id) == 4


# -- hanging up anywhere ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "menu",
    [
        "main_menu",
        "business_menu",
        "complaint_menu",
        "choose_account",
        "account_entry",
        "password_entry",
        "after_info",
        "after_refusal",
        "outage_none",
        "repair_scope",
        "repair_breaker",
        "repair_reset",
        "key_welcome",
        "survey",
    ],
)
def test_a_caller_hanging_up_in_any_menu_is_recorded_where_they_left(calls: Calls, menu: str) -> None:
    call = calls[f"hangup_{menu}"]
    assert call.result.ended_by == "caller"
    assert call.contact.ivr_path[-1] == {"step": "hangup", "at": menu}
    # Where information was playing, the caller cut it short with * before leaving: not heard, so abandoned.
    assert call.contact.outcome == "abandoned"
    assert call.contact.ended_at is not None


def test_a_key_pressed_during_a_notice_that_cannot_be_cut_is_kept_for_the_next_question(calls: Calls) -> None:
    call = calls["typed_ahead"]
    # The notice was said whole, the key held; the refusal (which a key may cut) took it at once, unsaid, and the
    # menu after it read it as the caller's answer: a person.
    assert call.step("verify") == {"step": "verify", "result": "no_password", "held": 1, "played": ["verify/no_code"]}
    assert call.step("bill") == {"step": "bill", "key": "0", "barge_in": True, "played": []}
    assert call.step("after_refusal")["key"] == "0"
    assert call.person["reason"] == "asked for a person" and call.contact.outcome == "human"


def test_a_key_pressed_while_no_command_runs_is_lost_in_asterisk(testbed: Testbed) -> None:
    """Why the flows hold keys and never leave a caller between commands: Asterisk's AGI reads and drops the
    channel's frames, keys included, while it waits for the next command. A route reports that it waits, lets a
    gap pass in which the phone presses 5, then asks for a digit: none comes."""
    progress = IvrProgress.to_redis(testbed.config.redis.effective_url())
    got: list[str | None] = []

    def gap(channel: AgiChannel) -> None:
        channel.answer()
        call = channel.uniqueid
        progress.report("ivr.start", call, line="gap", contact=0, sip_call_id=channel.env.get("agi_arg_1", ""))
        progress.report("ivr.wait", call, menu="gap", attempt=1, line="gap")
        # The gap under test, not a synchronisation: no command runs while the key arrives (the phone presses at
        # once on the report above; a key lasts about 0.2 s).
        time.sleep(3.0)  # not a synchronisation (above)
        got.append(channel.wait_for_digit(2000))
        progress.report("ivr.end", call, line="gap", outcome="completed", at="gap", reason="", failed_at="")
        channel.set_variable("HOTLINE_NEXT", "done")

    with _serving_routes(testbed, {"main": gap}):
        result = testbed.call(caller_number=new_caller_number(), script=[("gap", "5")], hold=BOUND_S)
    progress.close()
    assert result.script_stopped is None and result.dtmf_sent == "5", result
    assert got == [None]


def test_an_account_number_is_read_whole_from_a_server_slower_than_the_callers_keys(
    testbed: Testbed, utility: TestUtility
) -> None:
    """A caller types an account number at the phone's pace (a key about every 0.22 s) to a FastAGI server that
    sends every command 0.3 s late (a loaded machine, exaggerated). Read key by key, each late command would let a
    key go by unheard (the test above); read by one GET DATA, the number arrives whole, on the first try."""
    customer = utility.customer(area="quiet", phones=0)[0]
    routes = {
        name: _late(route, 0.3) for name, route in build_ivr(testbed.config, testbed.hotline.contacts).routes().items()
    }
    entry = Scenario([LANG, ("main_menu", "1"), ("account_entry", "{account}#")], until="ivr.entry")
    with _serving_routes(testbed, routes):
        call = _place(testbed, entry, customer, new_caller_number())
    assert call.all("account_entry") == [
        {"step": "account_entry", "attempt": 1, "result": "ok", "played": ["identify/enter_account"]}
    ]
    assert call.contact.account_id == customer.account_id


def _late(route: Route, by_s: float) -> Route:
    """`route` on a server that sends each of its commands `by_s` seconds late."""

    def run(channel: AgiChannel) -> None:
        execute = channel.execute

        def late(command: str, sent: Callable[[], None] | None = None) -> Response:
            time.sleep(by_s)  # the slowness under test, not a synchronisation
            return execute(command, sent)

        channel.execute = late  # type: ignore[method-assign]
        route(channel)

    return run


def test_no_call_left_an_error(calls: Calls) -> None:
    assert not [name for name, call in calls.items() if call.contact.outcome == "error"]


# -- Redis down ------------------------------------------------------------------------------------------------


@contextlib.contextmanager
def _serving(testbed: Testbed, ivr: Ivr) -> Iterator[None]:
    """The hotline's FastAGI server replaced, for the block, by one serving `ivr`; the usual one afterwards."""
    with _serving_routes(testbed, ivr.routes()):
        yield


@contextlib.contextmanager
def _serving_routes(testbed: Testbed, routes: dict[str, Route]) -> Iterator[None]:
    """The hotline's FastAGI server replaced, for the block, by one serving `routes`."""
    assert testbed.hotline.agi is not None
    testbed.hotline.agi.stop()
    testbed.hotline.agi = FastAgiServer(testbed.config.agi.host, testbed.config.agi.port, routes)
    testbed.hotline.agi.start()
    try:
        yield
    finally:
        testbed.hotline.agi.stop()
        routes = build_ivr(testbed.config, testbed.hotline.contacts).routes()
        testbed.hotline.agi = FastAgiServer(testbed.config.agi.host, testbed.config.agi.port, routes)
        testbed.hotline.agi.start()


def test_with_redis_down_the_bill_is_refused_not_crashed(
    testbed: Testbed, utility: TestUtility, caplog: pytest.LogCaptureFixture
) -> None:
    """The guess counter is unreachable (an IVR pointed at a Redis nobody listens on): a caller who needs the
    password is refused the bill with an explanation; a caller known by number still hears theirs."""
    contacts = testbed.hotline.contacts
    dead = GuessLimiter(f"redis://127.0.0.1:{free_port()}/0")
    progress = IvrProgress.to_redis(testbed.config.redis.effective_url())
    ivr = Ivr(contacts, testbed.config.ivr.language, CrmCustomers(contacts.sessions), dead, progress=progress)
    needs_password = utility.customer(area="quiet", phones=0, password="777777", due_fen=100)[0]
    known = utility.customer(area="quiet", due_fen=100)[0]
    refused = Scenario([LANG, ("main_menu", "1"), ("account_entry", "{account}#")])
    heard = Scenario([LANG, ("main_menu", "1")])
    with _serving(testbed, ivr), caplog.at_level(logging.INFO), ThreadPoolExecutor(2) as pool:
        a = pool.submit(_place, testbed, refused, needs_password, new_caller_number())
        b = pool.submit(_place, testbed, heard, known, known.phone)
        refused_call, heard_call = a.result(), b.result()
    dead.close()
    progress.close()
    assert refused_call.step("verify") == {
        "step": "verify",
        "result": "guesses_unavailable",
        "played": ["verify/unavailable"],
    }
    assert refused_call.played("bill") == ["bill/refused"] and refused_call.contact.outcome == "completed"
    assert "bill/amount_due" in heard_call.played("bill") and heard_call.contact.outcome == "completed"
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert any("bill not disclosed" in r.getMessage() for r in caplog.records)


def test_with_the_customer_database_down_the_caller_is_told_and_put_through(
    testbed: Testbed, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """The customer data does not answer (a database without its tables: every query fails); the contacts still
    can. The caller hears an apology and reaches a person; nothing is dropped."""
    contacts = testbed.hotline.contacts
    broken = session_factory(make_engine(f"sqlite:///{tmp_path}/empty.db"))
    guesses = GuessLimiter(testbed.config.redis.effective_url())
    progress = IvrProgress.to_redis(testbed.config.redis.effective_url())
    ivr = Ivr(contacts, testbed.config.ivr.language, CrmCustomers(broken), guesses, progress=progress)
    with _serving(testbed, ivr), caplog.at_level(logging.INFO):
        # The caller number cannot be looked up: the apology comes before any menu.
        call = _place(testbed, Scenario([], PERSON), None, new_caller_number())
    guesses.close()
    progress.close()
    assert call.step("unavailable")["played"] == ["sorry"]
    assert call.person["reason"] == "customer data unavailable"
    assert call.contact.outcome == "human" and call.result.ended_by == "caller"
    assert _handoff(testbed, call)["intent"] == "general"


# -- after an agent: the ACD sends the caller to the survey --------------------------------------------------


def test_after_the_agent_hangs_up_the_survey_is_stored_with_the_ivr_contact(testbed: Testbed) -> None:
    """95598, 0 for a person, an agent answers and hangs up after a second; the ACD sends the caller on to the
    survey, whose score lands on the contact the IVR opened for this call (HOTLINE_CONTACT)."""
    # acd-after-call finds the survey with DIALPLAN_EXISTS(), which func_dialplan.so provides.
    assert "func_dialplan.so" in testbed.hotline.asterisk.cli("module show like func_dialplan")
    desk = AgentDesk(testbed.config, routing.load(testbed.config.acd.policy))
    seat_name = testbed.config.seats.names()[-1]
    sip = testbed.sip
    seat = sip.run(sip.seat(seat_name, testbed.domain, testbed.config.secrets.seat_password(seat_name), 0.0, 1.0))
    try:
        assert desk.login(AgentProfile("ivr-survey", ("general",)), seat_name)[0]
        assert desk.ready("ivr-survey")[0]
        number = new_caller_number()
        result = testbed.call(caller_number=number, script=[LANG, ("main_menu", "0"), ("survey", "5")], hold=BOUND_S)
        assert result.established and result.ended_by == "far end", result
        assert len(seat.answered) == 1 and number in seat.answered[0]
        contact = _closed_contact(testbed, number)
        assert contact.outcome == "human"
        assert wait_for(lambda: _satisfaction(testbed, contact.id)) == 5
        # One contact for the whole call: the survey did not open another.
        assert len(testbed.contacts(number)) == 1
    finally:
        desk.logout("ivr-survey")
        sip.run(sip.unregister(seat))
        desk.close()
