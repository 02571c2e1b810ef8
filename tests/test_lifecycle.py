"""`app.py run`, `status` and `call` as a user runs them, in subprocesses: the hotline comes up from one command,
answers a real call, refuses to start twice, and leaves nothing behind when stopped."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from crm.contacts import ContactLog
from crm.db import make_engine, session_factory
from hotline.config import REPO_DIR, Config
from hotline.stack import Hotline, StackError
from testbed.sandbox import environment, free_port, sandbox_config
from tests.conftest import BOUND_S, new_caller_number, wait_for


def _app(cfg: Config, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "app.py", *args],
        cwd=REPO_DIR,
        env={**os.environ, **environment(cfg)},
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def _ports_free(hotline: Hotline) -> bool:
    """Every port of the hotline can be bound again (the kernel has closed the dead processes' sockets)."""
    try:
        hotline._check_ports()
    except StackError:
        return False
    return True


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie is dead for our purpose; it only waits for its parent to reap it.
    return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"


@pytest.fixture
def running(tmp_path: Path) -> Iterator[tuple[Config, subprocess.Popen[str]]]:
    cfg = sandbox_config(tmp_path / "state", trunk_port=free_port())
    process = subprocess.Popen(
        [sys.executable, "app.py", "run"],
        cwd=REPO_DIR,
        env={**os.environ, **environment(cfg)},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    # Up once it has written its run file (the last step of starting, after every part answered), or gone.
    run_file = cfg.paths.state_dir / "run.json"
    wait_for(lambda: run_file.exists() or process.poll() is not None, timeout=BOUND_S, interval=0.2)
    assert process.poll() is None, process.communicate()[0]
    yield cfg, process
    if process.poll() is None:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=30)


def test_run_answers_a_call_and_ctrl_c_leaves_nothing_behind(running: tuple[Config, subprocess.Popen[str]]) -> None:
    cfg, process = running
    status = json.loads(_app(cfg, "status", "--json").stdout)
    assert {c["part"]: c["healthy"] for c in status} == {
        "hotline": True,
        "asterisk": True,
        "ari": True,
        "acd": True,
        "ami": True,
        "fastagi": True,
        "web": True,
        "dialler": True,
        "redis": True,
        "database": True,
    }
    run_info = json.loads((cfg.paths.state_dir / "run.json").read_text())
    children = [run_info["asterisk_pid"], run_info["redis_pid"], run_info["web_pid"], run_info["dialler_pid"]]

    number = new_caller_number()
    # 0 as the welcome asks for the language: the IVR records the key and hands the caller to a person; the caller
    # hangs up once the ACD has the call.
    call = _app(cfg, "call", "95598", "--at", "language=0", "--until", "queue.enter", "--caller", number)
    assert call.returncode == 0, call.stdout + call.stderr
    printed = json.loads(call.stdout)
    assert printed["established"] and printed["dtmf_sent"] == "0" and printed["heard_ms"] > 1000
    assert printed["steps_done"] == ["language=0"] and printed["script_stopped"] is None, printed
    contacts = ContactLog(session_factory(make_engine(cfg.database_url)))
    contact = wait_for(lambda: [c for c in contacts.by_caller(number) if c.outcome])[0]
    assert (contact.digits, contact.outcome) == ("0", "human")

    process.send_signal(signal.SIGINT)
    assert process.wait(timeout=30) == 0
    output = process.stdout.read() if process.stdout else ""
    # The hotline's log names the call by its uniqueid and masks the caller's number.
    assert f"[{contact.uniqueid}]" in output
    assert f"{number[:3]}****{number[-4:]}" in output
    assert number not in output
    for pid in [process.pid, *children]:
        wait_for(lambda pid=pid: not _alive(pid), timeout=10)
    assert not (cfg.paths.state_dir / "run.json").exists()
    # Every port is free again: a new hotline with the same configuration starts at once.
    again = Hotline(cfg)
    again.start()
    again.stop()


def test_a_second_run_of_the_same_hotline_is_refused(running: tuple[Config, subprocess.Popen[str]]) -> None:
    cfg, process = running
    second = _app(cfg, "run", timeout=30)
    assert second.returncode == 1
    assert f"already running (pid {process.pid}" in second.stdout + second.stderr
    assert process.poll() is None
    assert _app(cfg, "status").returncode == 0


def test_another_hotline_on_the_same_ports_is_told_which(
    running: tuple[Config, subprocess.Popen[str]], tmp_path: Path
) -> None:
    cfg, _ = running
    other = cfg.with_overrides(paths={"state_dir": tmp_path / "other"})
    with pytest.raises(StackError, match=f"sip.port 127.0.0.1:{cfg.sip.port}"):
        Hotline(other).start()
    assert _app(cfg, "status").returncode == 0


def test_killing_the_hotline_outright_takes_asterisk_and_redis_with_it(
    running: tuple[Config, subprocess.Popen[str]],
) -> None:
    cfg, process = running
    run_info = json.loads((cfg.paths.state_dir / "run.json").read_text())
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=10)
    for pid in (run_info["asterisk_pid"], run_info["redis_pid"], run_info["web_pid"], run_info["dialler_pid"]):
        wait_for(lambda pid=pid: not _alive(pid), timeout=15)
    # The stale run.json does not stop a new start: the lock died with the process.
    again = Hotline(cfg)
    wait_for(lambda: _ports_free(again), timeout=15)
    again.start()
    again.stop()
