"""Real SIP calls into the real Asterisk, handed to the FastAGI server: what the caller did and how each call
ended, as the application's contact rows and Asterisk's own CDRs and log record it."""

from __future__ import annotations

import logging
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from ivr.fastagi import FastAgiServer
from ivr.routes import Ivr
from tests.conftest import Testbed, new_caller_number, wait_for


def _contact(testbed: Testbed, number: str):  # type: ignore[no-untyped-def]
    def closed():  # type: ignore[no-untyped-def]
        rows = [c for c in testbed.contacts(number) if c.outcome is not None]
        return rows[0] if rows else None

    return wait_for(closed)


def _cdr(testbed: Testbed, number: str) -> dict[str, str]:
    return wait_for(lambda: (testbed.cdrs(number) or [None])[-1])


def test_greeting_reads_and_records_the_digit(testbed: Testbed) -> None:
    number = new_caller_number()
    result = testbed.call(caller_number=number, dtmf="1", dtmf_after=1.5, hold=12)
    assert result.established and result.dtmf_sent == "1"
    # The hotline thanks the caller and hangs up by itself; the caller heard the greeting and the thanks.
    assert result.ended_by == "far end"
    assert result.heard_ms > 1500
    contact = _contact(testbed, number)
    assert contact.digits == "1"
    assert contact.outcome == "completed"
    assert contact.ivr_path == [{"step": "greeting", "key": "1", "attempt": 1}]
    assert contact.dialled_number == "95598"
    assert contact.channel.startswith("PJSIP/selftest-")
    cdr = _cdr(testbed, number)
    assert cdr["uniqueid"] == contact.uniqueid
    assert cdr["disposition"] == "ANSWERED"
    assert cdr["userfield"] == "ivr"


def test_zero_asks_for_a_person(testbed: Testbed) -> None:
    number = new_caller_number()
    result = testbed.call(caller_number=number, dtmf="0", hold=4)
    assert result.established
    contact = _contact(testbed, number)
    assert contact.outcome == "human"
    assert contact.digits == "0"
    cdr = _cdr(testbed, number)
    assert cdr["userfield"] == "human:ivr"
    assert f"hotline human path uniqueid={contact.uniqueid} reason=ivr" in testbed.asterisk_log()


def test_caller_hanging_up_mid_prompt_leaves_no_error_and_no_thread(
    testbed: Testbed, caplog: pytest.LogCaptureFixture
) -> None:
    threads_before = threading.active_count()
    number = new_caller_number()
    with caplog.at_level(logging.INFO):
        # No key: the caller hangs up a second into the greeting.
        result = testbed.call(caller_number=number, hold=1.0)
        assert result.established and result.ended_by == "caller"
        contact = _contact(testbed, number)
    assert contact.outcome == "abandoned"
    assert contact.digits == ""
    assert contact.ended_at is not None
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert any("caller hung up during route main" in r.getMessage() for r in caplog.records)
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
        assert "Playback failed" not in log
        assert testbed.contacts(number) == []
    finally:
        routes = Ivr(testbed.hotline.contacts, testbed.config.ivr.language).routes()
        testbed.hotline.agi = FastAgiServer(testbed.config.agi.host, testbed.config.agi.port, routes)
        testbed.hotline.agi.start()


def test_a_missing_prompt_fails_the_call_open(testbed: Testbed, caplog: pytest.LogCaptureFixture) -> None:
    greeting = testbed.hotline.asterisk.host_dir / "data" / "sounds" / "hotline" / "zh" / "greeting.wav"
    aside = greeting.with_suffix(".aside")
    greeting.rename(aside)
    try:
        number = new_caller_number()
        with caplog.at_level(logging.INFO):
            result = testbed.call(caller_number=number, hold=3)
            contact = _contact(testbed, number)
    finally:
        aside.rename(greeting)
    assert result.established and result.ended_by == "caller"
    assert contact.outcome == "error"
    assert _cdr(testbed, number)["userfield"] == "human:failopen"
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert errors and "route main failed" in errors[0].getMessage()


def test_carrier_trunk_is_identified_by_address_and_port(testbed: Testbed) -> None:
    number = new_caller_number()
    result = testbed.call(caller_number=number, trunk=True, dtmf="3", hold=10)
    assert result.established
    contact = _contact(testbed, number)
    assert contact.channel.startswith("PJSIP/trunk-")
    assert contact.caller_number == number
    assert contact.digits == "3"


def test_a_number_that_is_not_ours_is_refused(testbed: Testbed) -> None:
    result = testbed.call("12345", caller_number=new_caller_number(), trunk=True)
    assert not result.established
    assert result.failure


def test_selftest_caller_needs_its_password(testbed: Testbed) -> None:
    ua = testbed.sip.run(testbed.sip.caller("selftest", testbed.domain, "wrong-password"))
    result = testbed.sip.run(testbed.sip.call(ua, f"sip:95598@{testbed.domain}"))
    assert not result.established


def test_many_calls_at_once(testbed: Testbed) -> None:
    numbers = [new_caller_number() for _ in range(20)]
    digits = [str(i % 9 + 1) for i in range(20)]
    with ThreadPoolExecutor(len(numbers)) as pool:
        results = list(
            pool.map(
                lambda nd: testbed.call(caller_number=nd[0], dtmf=nd[1], hold=12), zip(numbers, digits, strict=True)
            )
        )
    assert all(r.established for r in results)
    for number, digit in zip(numbers, digits, strict=True):
        contact = _contact(testbed, number)
        assert (contact.digits, contact.outcome) == (digit, "completed")


def test_agent_seat_registers_and_can_be_dialled(testbed: Testbed) -> None:
    seat_name = testbed.config.seats.names()[0]
    password = testbed.config.secrets.seat_password(seat_name)
    seat = testbed.sip.run(testbed.sip.seat(seat_name, testbed.domain, password))
    try:
        contacts = testbed.hotline.asterisk.cli(f"pjsip show aor {seat_name}")
        assert f"sip:{seat_name}@127.0.0.1:{testbed.sip.port}" in contacts
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
