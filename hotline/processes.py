"""Child processes of the hotline (Asterisk, Redis): started so that they die with it, stopped in order."""

from __future__ import annotations

import ctypes
import logging
import os
import signal
import subprocess
from collections.abc import Sequence
from pathlib import Path

log = logging.getLogger(__name__)

_PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:
    # Runs in the child between fork and exec: if the hotline is killed outright (SIGKILL, a crash), the kernel
    # sends its children SIGTERM, so no Asterisk or Redis is left behind holding the ports.
    libc = ctypes.CDLL("libc.so.6", use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
    # Own process group: Ctrl-C in the terminal reaches only the hotline, which then stops children in order.
    os.setpgrp()


def start_child(
    name: str, argv: Sequence[str], log_path: Path, env: dict[str, str] | None = None
) -> subprocess.Popen[bytes]:
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with open(log_path, "ab") as out:
        process = subprocess.Popen(
            list(argv),
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            preexec_fn=_die_with_parent,
            env=env,
        )
    log.info("started %s (pid %d), output in %s", name, process.pid, log_path)
    return process


def stop_child(process: subprocess.Popen[bytes], name: str, grace: float = 5.0) -> None:
    """SIGTERM, then SIGKILL after `grace` seconds; always reaps the process."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            log.warning("%s (pid %d) ignored SIGTERM for %.0f s: killing it", name, process.pid, grace)
            process.kill()
            process.wait()
    log.info("%s stopped (exit %s)", name, process.returncode)
