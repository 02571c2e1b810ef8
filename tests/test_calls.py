"""Real SIP calls into the real Asterisk, handed to the FastAGI server: what the caller did and how each call
ended, as the application's contact rows and Asterisk's own CDRs and log record it."""

from __future__ import annotations

import logging
import re
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from ivr.fastagi import FastAgiServer
from ivr.process import build_ivr
from tests.conftest import BOUND_S, Testbed, TestUtility, new_caller_number, wait_for


def _contact(testbed: Testbed, number: str):  # type: ignore[no-untyped-def]
    def closed():  # type: ignore[no-untyped-def]
        rows = [c for c in testbed.contacts(number) if c.outcome is not None]
        return rows[0] if rows else None

    return wait_for(closed)


def _cdr(testbed: Testbed, number: str) -> dict[str, str]:
    return wait_for(lambda: (testbed.cdrs(number) or [None])[-1])


def test_main_menu_reads_and_records_the_digits(testbed: Testbed, utility: TestUtility) -> None:
    number = utility.customer(area="quiet")[0].phone
    # Mandarin (1, cutting the welcome short), then outage information (2) as soon as the main menu asks.
    result = testbed.call(caller_number=number, script=[("language", "1"), ("main_menu", "2")], hold=BOUND_S)
    assert result.established and result.dtmf_sent == "12"
    # No outage known; the caller says nothing more, so the hotline thanks them and hangs up by itself.
    assert result.ended_by == "far end"
    assert result.heard_ms > 5000
    contact = _contact(testbed, number)
    assert contact.digits == "12"
    assert contact.outcome == "completed"
    steps = [(s["step"], s.get("key"), s.get("played")) for s in contact.ivr_path]
    assert steps == [
        ("identified", None, None),
        ("language", "1", ["zh:welcome"]),
        ("main_menu", "2", ["menu/main"]),
        ("outage", None, ["outage/none"]),
        ("outage_none", "", ["outage/none_menu"]),
        ("goodbye", None, ["thanks"]),
    ]
    assert contact.dialled_number == "95598"
    assert contact.channel.startswith("PJSIP/selftest-")
    cdr = _cdr(testbed, number)
    assert cdr["uniqueid"] == contact.uniqueid
    assert cdr["disposition"] == "ANSWERED"
    assert cdr["userfield"] == "ivr"


def test_zero_asks_for_a_person(testbed: Testbed) -> None:
    number = new_caller_number()
    # 0 reaches a person from the first prompt on, the language choice included.
    result = testbed.call(caller_number=number, script=[("language", "0")], until="queue.enter", hold=BOUND_S)
    assert result.established and result.script_stopped is None, result
    contact = _contact(testbed, number)
    assert contact.outcome == "human"
    assert contact.digits == "0"
    assert contact.ivr_path[-1] == {"step": "to_person", "reason": "asked for a person", "intent": "general"}
    cdr = _cdr(testbed, number)
    assert cdr["userfield"] == "human:ivr"
    assert f"hotline human path uniqueid={contact.uniqueid} reason=ivr" in testbed.asterisk_log()


def test_caller_hanging_up_mid_prompt_leaves_no_error_and_no_thread(
    testbed: Testbed, caplog: pytest.LogCaptureFixture
) -> None:
    threads_before = threading.active_count()
    number = new_caller_number()
    with caplog.at_level(logging.INFO):
        # No key: the caller hangs up a second into the welcome.
        result = testbed.call(caller_number=number, hold=1.0)
        assert result.established and result.ended_by == "caller"
        contact = _contact(testbed, number)
        # The route closes the contact, and the server logs the hang-up once the route has returned: wait for it.
        wait_for(lambda: any("caller hung up during route main" in r.getMessage() for r in caplog.records))
    assert contact.outcome == "abandoned"
    assert contact.digits == ""
    assert contact.ended_at is not None
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert testbed.hotline.agi is not None
    wait_for(lambda: testbed.hotline.agi.active_calls == 0)
    wait_for(lambda: threading.active_count() <= threads_before)


def test_fastagi_server_down_fails_open_to_a_person(testbed: Testbed) -> None:
    assert testbed.hotline.agi is not None
    testbed.hotline.agi.stop()
    try:
        number = new_caller_number()
        result = testbed.call(caller_number=number, dtmf="1", hold=4)
        # Still answered, still hearing something (the holding message and music), never dropped.
        assert result.established and result.ended_by == "caller"
        assert result.heard_ms > 1000
        cdr = _cdr(testbed, number)
        assert cdr["userfield"] == "human:failopen"
        log = testbed.asterisk_log()
        assert f"hotline human path uniqueid={cdr['uniqueid']} reason=failopen agistatus=FAILURE" in log
        # The holding message itself played: Asterisk found the prompt in the caller's language.
        assert f"Playback failed on {cdr['channel']} " not in log
        assert testbed.contacts(number) == []
    finally:
        routes = build_ivr(testbed.config, testbed.hotline.contacts).routes()
        testbed.hotline.agi = FastAgiServer(testbed.config.agi.host, testbed.config.agi.port, routes)
        testbed.hotline.agi.start()


def test_a_missing_prompt_fails_the_call_open(testbed: Testbed, caplog: pytest.LogCaptureFixture) -> None:
    welcome = testbed.hotline.asterisk.host_dir / "data" / "sounds" / "hotline" / "zh" / "welcome.wav"
    aside = welcome.with_suffix(".aside")
    welcome.rename(aside)
    try:
        number = new_caller_number()
        with caplog.at_level(logging.INFO):
            # The caller hangs up once the ACD has queued the call: the dialplan has put it through by then.
            result = testbed.call(caller_number=number, until="queue.enter", hold=BOUND_S)
            contact = _contact(testbed, number)
    finally:
        aside.rename(welcome)
    assert result.established and result.ended_by == "caller"
    assert contact.outcome == "error"
    # Never silence: the caller hears an apology before the dialplan puts them through to a person.
    assert contact.ivr_path[-1] == {"step": "apology", "played": ["sorry"]}
    assert _cdr(testbed, number)["userfield"] == "human:failopen"
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert errors and "route main failed" in errors[0].getMessage()


def test_carrier_trunk_is_identified_by_address_and_port(testbed: Testbed) -> None:
    number = new_caller_number()
    script = [("language", "2"), ("main_menu", "0")]
    result = testbed.call(caller_number=number, trunk=True, script=script, until="queue.enter", hold=BOUND_S)
    assert result.established and result.script_stopped is None, result
    contact = _contact(testbed, number)
    assert contact.channel.startswith("PJSIP/trunk-")
    assert contact.caller_number == number
    assert contact.digits == "20"


def test_a_number_that_is_not_ours_is_refused(testbed: Testbed) -> None:
    result = testbed.call("12345", caller_number=new_caller_number(), trunk=True)
    assert not result.established
    assert result.failure


def test_selftest_caller_needs_its_password(testbed: Testbed) -> None:
    ua = testbed.sip.run(testbed.sip.caller("selftest", testbed.domain, "wrong-password"))
    result = testbed.sip.run(testbed.sip.call(ua, f"sip:95598@{testbed.domain}"))
    assert not result.established


def _menus(keys: str) -> list[tuple[str, str]]:
    """Language, then business (4) or complaint (5), then one of its two choices."""
    second = {"4": "business_menu", "5": "complaint_menu"}[keys[1]]
    return [("language", keys[0]), ("main_menu", keys[1]), (second, keys[2])]


def test_many_calls_at_once(testbed: Testbed) -> None:
    numbers = [new_caller_number() for _ in range(12)]
    # Language, then business (4) or complaint (5), then one of its two choices: eight paths, all to a person.
    digits = [f"{1 + i % 2}{4 + i // 2 % 2}{1 + i // 4 % 2}" for i in range(12)]
    with ThreadPoolExecutor(len(numbers)) as pool:
        results = list(
            pool.map(
                lambda nd: testbed.call(caller_number=nd[0], script=_menus(nd[1]), until="queue.enter", hold=BOUND_S),
                zip(numbers, digits, strict=True),
            )
        )
    assert all(r.established for r in results)
    intents = {"41": "business", "42": "consultation", "51": "complaint", "52": "suggestion"}
    for number, keys in zip(numbers, digits, strict=True):
        contact = _contact(testbed, number)
        assert (contact.digits, contact.outcome) == (keys, "human")
        assert contact.language == ("zh" if keys[0] == "1" else "en")
        assert contact.ivr_path[-1]["intent"] == intents[keys[1:]]


def test_agent_seat_registers_and_can_be_dialled(testbed: Testbed) -> None:
    seat_name = testbed.config.seats.names()[0]
    password = testbed.config.secrets.seat_password(seat_name)
    seat = testbed.sip.run(testbed.sip.seat(seat_name, testbed.domain, password))
    try:
        contacts = testbed.hotline.asterisk.cli(f"pjsip show aor {seat_name}")
        # baresip adds a suffix to the contact's user when the process has registered this seat before (the ACD
        # tests do), and the CLI cuts long contact URIs short: match the start of it.
        assert re.search(rf"{seat_name}/sip:{seat_name}[-\w]*@127\.0\.", contacts), contacts
        result = testbed.call(seat_name, caller_number=new_caller_number(), hold=1)
        assert result.established
        assert len(seat.answered) == 1
    finally:
        testbed.sip.run(testbed.sip.unregister(seat))


def test_seat_with_a_wrong_password_is_refused(testbed: Testbed) -> None:
    from baresip import RegistrationError

    seat_name = testbed.config.seats.names()[1]
    with pytest.raises(RegistrationError):
        testbed.sip.run(testbed.sip.seat(seat_name, testbed.domain, "not-the-password"))
