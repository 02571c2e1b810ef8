"""An isolated hotline for tests and benchmarks: its own state dir and free ports, so it never collides with a
running `app.py run` or another test run."""

from __future__ import annotations

import os
import random
import socket
import threading
from pathlib import Path

from hotline import config as hotline_config

SANDBOX_DEMO_CUSTOMERS = 2000


# Ports for the servers a sandbox starts (SIP, AGI, ARI, AMI, Redis, the web) and for the test phones' SIP
# stacks. They are taken below the kernel's ephemeral range (32768-60999 here), which it hands to every outgoing
# connection and to every bind to port 0: a port found free there can be taken by another process's connection
# before the server that should listen on it starts. Each test worker (pytest-xdist's gwN) has a block of its
# own, so two workers never pick the same port; within it a process starts at a place of its own (a process that
# a test starts picks too) and never hands out a port twice.
LISTEN_FIRST = 10000
LISTEN_BLOCK = 1000
LISTEN_BLOCKS = 10
# The media ports: Asterisk's RTP (a block of 200 per sandbox) and the test phones' RTP sit above the listening
# ports. Both retry another port when one is taken, so they share the rest of the range without a plan.
RTP_FIRST = LISTEN_FIRST + LISTEN_BLOCK * LISTEN_BLOCKS
RTP_BLOCKS = 60
PHONE_RTP = (RTP_FIRST + 200 * RTP_BLOCKS, 60999)

_taken: set[int] = set()
_start = random.Random()
_lock = threading.Lock()


def _worker_block() -> int:
    """The test worker's block; HOTLINE_PORT_BLOCK moves a whole run (two runs on one machine: 0 and 5)."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    number = worker[2:] if worker.startswith("gw") else ""
    first = os.environ.get("HOTLINE_PORT_BLOCK", "0")
    return ((int(number) if number.isdigit() else 0) + (int(first) if first.isdigit() else 0)) % LISTEN_BLOCKS


def _free_on_both(host: str, port: int) -> bool:
    """Whether nothing listens on `port` of `host`, neither on TCP nor on UDP (a SIP stack takes both)."""
    for kind in (socket.SOCK_STREAM, socket.SOCK_DGRAM):
        with socket.socket(socket.AF_INET, kind) as sock:
            try:
                sock.bind((host, port))
            except OSError:
                return False
    return True


def free_port(host: str = "127.0.0.1") -> int:
    """A port of `host` for a server to listen on, free on TCP and UDP, in this test worker's block."""
    first = LISTEN_FIRST + LISTEN_BLOCK * _worker_block()
    start = _start.randrange(LISTEN_BLOCK)
    with _lock:
        for step in range(LISTEN_BLOCK):
            port = first + (start + step) % LISTEN_BLOCK
            if port not in _taken and _free_on_both(host, port):
                _taken.add(port)
                return port
    raise RuntimeError(f"no free port left in {first}-{first + LISTEN_BLOCK - 1} on {host}")


def sandbox_config(state_dir: Path, trunk_port: int, database_url: str = "", **overrides: str) -> hotline_config.Config:
    """The default configuration with a private state dir, free ports, and the carrier trunk at `trunk_port`
    (where the test's own SIP stack listens, so that its calls can come in as the carrier's). `overrides` are
    more HOTLINE_* variables, e.g. HOTLINE_ACD_ROUTERS="2"."""
    # RTP ports are taken one by one as calls need them; a random block keeps two sandboxes apart.
    rtp_start = RTP_FIRST + 200 * random.randrange(RTP_BLOCKS)
    env = {
        "HOTLINE_PATHS_STATE_DIR": str(state_dir),
        "HOTLINE_SIP_PORT": str(free_port()),
        "HOTLINE_SIP_RTP_START": str(rtp_start),
        "HOTLINE_SIP_RTP_END": str(rtp_start + 199),
        "HOTLINE_TRUNK_PORT": str(trunk_port),
        "HOTLINE_AGI_PORT": str(free_port()),
        "HOTLINE_ARI_PORT": str(free_port()),
        "HOTLINE_AMI_PORT": str(free_port()),
        "HOTLINE_REDIS_PORT": str(free_port()),
        "HOTLINE_WEB_PORT": str(free_port()),
        "HOTLINE_DATABASE_URL": database_url,
        # A small demo utility: seeded in about a second, still with every scenario a test may call in as.
        "HOTLINE_DEMO_CUSTOMERS": str(SANDBOX_DEMO_CUSTOMERS),
        **overrides,
    }
    return hotline_config.load(env=env)


def environment(cfg: hotline_config.Config) -> dict[str, str]:
    """The HOTLINE_* variables that make `app.py` (in a subprocess) use this sandbox's configuration."""
    return {
        "HOTLINE_PATHS_STATE_DIR": str(cfg.paths.state_dir),
        "HOTLINE_SIP_PORT": str(cfg.sip.port),
        "HOTLINE_SIP_RTP_START": str(cfg.sip.rtp_start),
        "HOTLINE_SIP_RTP_END": str(cfg.sip.rtp_end),
        "HOTLINE_TRUNK_PORT": str(cfg.trunk.port),
        "HOTLINE_AGI_PORT": str(cfg.agi.port),
        "HOTLINE_ARI_PORT": str(cfg.ari.port),
        "HOTLINE_AMI_PORT": str(cfg.ami.port),
        "HOTLINE_REDIS_PORT": str(cfg.redis.port),
        "HOTLINE_WEB_PORT": str(cfg.web.port),
        "HOTLINE_WORK_ORDERS_POLICY": str(cfg.work_orders.policy),
        "HOTLINE_WORK_ORDERS_SWEEP_S": str(cfg.work_orders.sweep_s),
        "HOTLINE_DATABASE_URL": cfg.database.url,
        "HOTLINE_DEMO_CUSTOMERS": str(cfg.demo.customers),
        "HOTLINE_ACD_ROUTERS": str(cfg.acd.routers),
        "HOTLINE_ACD_POLICY": str(cfg.acd.policy),
        "HOTLINE_SEATS_COUNT": str(cfg.seats.count),
    }
