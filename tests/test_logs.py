"""Log lines carry the call's uniqueid and never a whole phone or account number."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

from hotline.logs import MaskingFormatter, call_context, mask_text, setup
from hotline.privacy import mask_number


@pytest.mark.parametrize(
    ("number", "masked"),
    [("13800138000", "138****8000"), ("0102345678", "******5678"), ("1234567", "***4567")],
)
def test_numbers_are_masked(number: str, masked: str) -> None:
    assert mask_number(number) == masked


def test_text_keeps_uniqueids_and_short_numbers() -> None:
    text = "call 1700000000.12 from 13800138000 pressed 1 at step 3 for account 3301234567"
    assert mask_text(text) == "call 1700000000.12 from 138****8000 pressed 1 at step 3 for account ******4567"


@pytest.fixture
def root_logger_restored() -> Iterator[None]:
    """setup() replaces the root logger's handlers with one on this test's captured stderr: put pytest's back after,
    or the server threads of later tests would log into a closed stream."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


def test_log_lines_carry_the_uniqueid_and_mask(capsys: pytest.CaptureFixture[str], root_logger_restored: None) -> None:
    setup()
    log = logging.getLogger("test")
    with call_context("1700000000.42"):
        log.info("caller %s", "13912345678")
    log.info("outside a call")
    err = capsys.readouterr().err.splitlines()
    assert "[1700000000.42] test: caller 139****5678" in err[0]
    assert "[-] test: outside a call" in err[1]
    assert isinstance(logging.getLogger().handlers[0].formatter, MaskingFormatter)
