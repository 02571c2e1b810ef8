"""An isolated hotline for tests and benchmarks: its own state dir and free ports, so it never collides with a
running `app.py run` or another test run."""

from __future__ import annotations

import random
import socket
from pathlib import Path

from hotline import config as hotline_config

SANDBOX_DEMO_CUSTOMERS = 2000


def free_tcp_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def free_udp_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def sandbox_config(state_dir: Path, trunk_port: int, database_url: str = "", **overrides: str) -> hotline_config.Config:
    """The default configuration with a private state dir, free ports, and the carrier trunk at `trunk_port`
    (where the test's own SIP stack listens, so that its calls can come in as the carrier's). `overrides` are
    more HOTLINE_* variables, e.g. HOTLINE_ACD_ROUTERS="2"."""
    # RTP ports are taken one by one as calls need them; a random block keeps two sandboxes apart.
    rtp_start = 20000 + 200 * random.randrange(0, 150)
    env = {
        "HOTLINE_PATHS_STATE_DIR": str(state_dir),
        "HOTLINE_SIP_PORT": str(free_udp_port()),
        "HOTLINE_SIP_RTP_START": str(rtp_start),
        "HOTLINE_SIP_RTP_END": str(rtp_start + 199),
        "HOTLINE_TRUNK_PORT": str(trunk_port),
        "HOTLINE_AGI_PORT": str(free_tcp_port()),
        "HOTLINE_ARI_PORT": str(free_tcp_port()),
        "HOTLINE_AMI_PORT": str(free_tcp_port()),
        "HOTLINE_REDIS_PORT": str(free_tcp_port()),
        "HOTLINE_WEB_PORT": str(free_tcp_port()),
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
