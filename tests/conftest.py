"""The end-to-end harness: one real hotline (Asterisk, Redis, database, FastAGI) per test session on free ports,
and one real SIP stack that places calls into it and registers agent seats."""

from __future__ import annotations

import csv
import itertools
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from crm.models import Contact
from hotline.config import Config
from hotline.sandbox import free_udp_port, sandbox_config
from hotline.softphone import CallResult, SipStack
from hotline.stack import Hotline

_numbers = itertools.count(int(time.time()) % 10_000_000)


def new_caller_number() -> str:
    """A caller number no other test in this session uses, so each test finds its own calls."""
    return f"139{next(_numbers):08d}"


def wait_for(predicate, timeout: float = 10.0, interval: float = 0.1):  # type: ignore[no-untyped-def]
    """Poll until predicate() returns something truthy; return it, or fail the test after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout} s waiting for {getattr(predicate, '__name__', predicate)}")
        time.sleep(interval)


@dataclass
class Testbed:
    __test__ = False  # a harness, not a test class

    hotline: Hotline
    sip: SipStack

    @property
    def config(self) -> Config:
        return self.hotline.config

    @property
    def domain(self) -> str:
        return f"{self.config.sip.host}:{self.config.sip.port}"

    def call(
        self, extension: str = "95598", *, caller_number: str | None = None, trunk: bool = False, **options
    ) -> CallResult:  # type: ignore[no-untyped-def]
        """A real SIP call: from the self-test endpoint (with the caller number in P-Asserted-Identity), or
        as the carrier trunk (from the trunk's port, the caller number as the From user)."""
        if trunk:
            ua = self.sip.run(self.sip.caller(caller_number or "anonymous", self.domain))
            number = None
        else:
            ua = self.sip.run(self.sip.caller("selftest", self.domain, self.config.secrets.selftest_password))
            number = caller_number
        return self.sip.run(self.sip.call(ua, f"sip:{extension}@{self.domain}", caller_number=number, **options))

    def contacts(self, caller_number: str) -> list[Contact]:
        return self.hotline.contacts.by_caller(caller_number)

    def cdrs(self, src: str | None = None) -> list[dict[str, str]]:
        """Asterisk's own call records (cdr_csv), optionally only those from one caller number."""
        path = self.hotline.asterisk.cdr_csv
        if not path.exists():
            return []
        fields = [
            "accountcode",
            "src",
            "dst",
            "dcontext",
            "clid",
            "channel",
            "dstchannel",
            "lastapp",
            "lastdata",
            "start",
            "answer",
            "end",
            "duration",
            "billsec",
            "disposition",
            "amaflags",
            "uniqueid",
            "userfield",
        ]
        with open(path, newline="") as f:
            rows = [dict(zip(fields, row, strict=False)) for row in csv.reader(f)]
        return [r for r in rows if src is None or r["src"] == src]

    def asterisk_log(self) -> str:
        path = self.hotline.asterisk.messages_log
        return path.read_text() if path.exists() else ""


@pytest.fixture(scope="session")
def sip() -> Iterator[SipStack]:
    stack = SipStack("127.0.0.1", free_udp_port())
    yield stack
    stack.close()


@pytest.fixture(scope="session")
def testbed(tmp_path_factory: pytest.TempPathFactory, sip: SipStack) -> Iterator[Testbed]:
    state_dir = tmp_path_factory.mktemp("hotline")
    # Two ACD routers share the queues, as in a production pair; the test policy has short timeouts.
    config = sandbox_config(
        state_dir,
        trunk_port=sip.port,
        HOTLINE_ACD_ROUTERS="2",
        HOTLINE_ACD_POLICY=str(Path(__file__).with_name("acd_policy.toml")),
        HOTLINE_SEATS_COUNT="24",
    )
    hotline = Hotline(config)
    hotline.start()
    yield Testbed(hotline, sip)
    hotline.stop()


@pytest.fixture
def state_dir(tmp_path: Path) -> Path:
    return tmp_path / "state"
