"""The ports a sandbox and the test phones listen on: never one that another process can be handed meanwhile,
never one that something listens on (on TCP or on UDP), never the same one in two test workers."""

from __future__ import annotations

import random
import socket
from pathlib import Path

import pytest

from testbed import sandbox
from testbed.sandbox import free_port


def _ephemeral_range() -> tuple[int, int]:
    low, high = Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()
    return int(low), int(high)


def test_ports_are_below_the_range_the_kernel_hands_to_outgoing_connections() -> None:
    low, high = _ephemeral_range()
    ports = [free_port() for _ in range(20)]
    assert all(not low <= port <= high for port in ports), ports
    assert len(set(ports)) == len(ports), "a port was handed out twice"


def test_a_port_with_a_tcp_listener_is_not_offered_even_for_udp(monkeypatch: pytest.MonkeyPatch) -> None:
    port = free_port()
    first = sandbox.LISTEN_FIRST + sandbox.LISTEN_BLOCK * sandbox._worker_block()
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as listener:
        listener.bind(("127.0.0.1", port))
        listener.listen()
        # Forget that the port was handed out, and start the search at it: only the listener can keep it back.
        monkeypatch.setattr(sandbox, "_taken", set())
        monkeypatch.setattr(sandbox, "_start", _StartAt(port - first))
        offered = free_port()
    assert offered != port


def test_a_port_with_a_udp_socket_is_not_offered(monkeypatch: pytest.MonkeyPatch) -> None:
    port = free_port()
    first = sandbox.LISTEN_FIRST + sandbox.LISTEN_BLOCK * sandbox._worker_block()
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as held:
        held.bind(("127.0.0.1", port))
        monkeypatch.setattr(sandbox, "_taken", set())
        monkeypatch.setattr(sandbox, "_start", _StartAt(port - first))
        assert free_port() != port


def test_two_test_workers_draw_from_blocks_of_their_own(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HOTLINE_PORT_BLOCK", raising=False)
    drawn = {}
    for worker in ("gw0", "gw1", "gw3"):
        monkeypatch.setenv("PYTEST_XDIST_WORKER", worker)
        drawn[worker] = {free_port() for _ in range(10)}
    for worker, ports in drawn.items():
        block = int(worker[2:])
        first = sandbox.LISTEN_FIRST + sandbox.LISTEN_BLOCK * block
        assert all(first <= port < first + sandbox.LISTEN_BLOCK for port in ports), (worker, ports)


def test_media_ports_stay_clear_of_the_listening_ports() -> None:
    listening_end = sandbox.LISTEN_FIRST + sandbox.LISTEN_BLOCK * sandbox.LISTEN_BLOCKS
    assert listening_end <= sandbox.RTP_FIRST
    assert sandbox.PHONE_RTP[0] >= sandbox.RTP_FIRST + 200 * sandbox.RTP_BLOCKS
    cfg = sandbox.sandbox_config(Path("/nonexistent-state"), trunk_port=free_port())
    assert listening_end <= cfg.sip.rtp_start and cfg.sip.rtp_end < sandbox.PHONE_RTP[0]
    assert all(
        sandbox.LISTEN_FIRST <= port < listening_end
        for port in (cfg.sip.port, cfg.agi.port, cfg.ari.port, cfg.ami.port, cfg.redis.port, cfg.web.port)
    )


class _StartAt(random.Random):
    """A start for the search that is not random: the offset given."""

    def __init__(self, offset: int) -> None:
        super().__init__()
        self.offset = offset

    def randrange(self, *args: object, **kwargs: object) -> int:
        return self.offset


def test_a_second_run_on_the_machine_moves_to_blocks_of_its_own(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PYTEST_XDIST_WORKER", "gw1")
    monkeypatch.setenv("HOTLINE_PORT_BLOCK", "5")
    first = sandbox.LISTEN_FIRST + sandbox.LISTEN_BLOCK * 6
    assert all(first <= free_port() < first + sandbox.LISTEN_BLOCK for _ in range(5))
