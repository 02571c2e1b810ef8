"""The pure parts of the FastAGI layer: argument quoting, the environment block and route names. Everything the
protocol does on a live call is tested against the real Asterisk in test_calls.py."""

from __future__ import annotations

import io

from ivr.fastagi import quote, read_environment, route_name


def test_arguments_are_quoted_and_escaped() -> None:
    assert quote('say "hi" \\ now') == '"say \\"hi\\" \\\\ now"'
    assert quote("two\nlines") == '"two lines"'


def test_environment_block_ends_at_the_blank_line() -> None:
    stream = io.BytesIO(b"agi_network: yes\nagi_uniqueid: 17.1\nagi_callerid: 13800138000\n\nANSWER\n")
    env = read_environment(stream)
    assert env == {"agi_network": "yes", "agi_uniqueid": "17.1", "agi_callerid": "13800138000"}
    assert stream.read() == b"ANSWER\n"


def test_a_peer_leaving_mid_environment_is_no_call() -> None:
    assert read_environment(io.BytesIO(b"agi_network: yes\n")) is None


def test_route_name_from_the_request() -> None:
    assert route_name({"agi_network_script": "main"}) == "main"
    assert route_name({"agi_network_script": "/survey?lang=en"}) == "survey"
    assert route_name({}) == ""
