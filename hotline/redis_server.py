"""The hotline's own redis-server on loopback, used unless a Redis URL is configured."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import redis

from hotline.processes import start_child, stop_child


class RedisError(Exception):
    """redis-server could not be started or reached."""


def start(port: int, data_dir: Path, log_path: Path) -> subprocess.Popen[bytes]:
    data_dir.mkdir(parents=True, exist_ok=True)
    argv = [
        "redis-server",
        "--bind", "127.0.0.1",
        "--port", str(port),
        "--dir", str(data_dir),
        "--daemonize", "no",
        "--protected-mode", "yes",
        # Snapshot often enough that a restart keeps agents' states; the router rebuilds the rest from Asterisk.
        "--save", "30 1",
        "--appendonly", "no",
    ]  # fmt: skip
    try:
        process = start_child("redis", argv, log_path)
    except FileNotFoundError as exc:
        raise RedisError("redis-server is not installed (apt-get install redis-server)") from exc
    wait_ready(f"redis://127.0.0.1:{port}/0", process)
    return process


def wait_ready(url: str, process: subprocess.Popen[bytes] | None = None, timeout: float = 10.0) -> None:
    client = redis.Redis.from_url(url, socket_timeout=1)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RedisError(f"redis-server exited with {process.returncode} at startup")
        try:
            client.ping()
            return
        except redis.ConnectionError:
            time.sleep(0.05)
    raise RedisError(f"redis at {url} did not answer within {timeout:.0f} s")


def stop(process: subprocess.Popen[bytes]) -> None:
    stop_child(process, "redis", grace=10)
