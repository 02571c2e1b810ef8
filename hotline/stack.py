"""The whole hotline as one object: database, prompts, Redis, the FastAGI server and Asterisk, started in order
and stopped in reverse. `app.py run` and the test harness both use it, so the tests run what users run."""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import socket
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

from crm import db
from crm.contacts import ContactLog
from demo import seed
from hotline import redis_server
from hotline.asterisk import Asterisk
from hotline.config import REPO_DIR, Config
from hotline.processes import start_child, stop_child
from ivr import process as fastagi_process
from ivr import prompts
from ivr.fastagi import FastAgiServer

# The outbound dialler's Stasis app (cti/outbound/dialler.py APP): held once the dialler is up.
DIALLER_APP = "hotline-outbound"

log = logging.getLogger(__name__)


class StackError(Exception):
    """The hotline cannot start as configured; the message says what is in the way."""


def _port_free(host: str, port: int, kind: int) -> bool:
    with socket.socket(socket.AF_INET, kind) as sock:
        if kind == socket.SOCK_STREAM:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def read_run_file(config: Config) -> dict[str, Any]:
    """What a running `app.py run` of this state dir wrote about itself; empty if none runs."""
    try:
        return dict(json.loads((config.paths.state_dir / "run.json").read_text()))
    except (OSError, ValueError):
        return {}


class Hotline:
    def __init__(self, config: Config) -> None:
        self.config = config
        self.state_dir = config.paths.state_dir
        self.asterisk = Asterisk(config)
        self.agi: FastAgiServer | None = None
        self.redis_process: subprocess.Popen[bytes] | None = None
        self.routers: dict[int, subprocess.Popen[bytes]] = {}
        self.web: subprocess.Popen[bytes] | None = None
        self.dialler: subprocess.Popen[bytes] | None = None
        self._supervisor: threading.Thread | None = None
        self._stopping = threading.Event()
        self._lock: TextIO | None = None
        self.engine = db.make_engine(config.database_url)
        self.contacts = ContactLog(db.session_factory(self.engine))
        # What the demo seed made on this start, if it made anything (`app.py run` prints it).
        self.demo: seed.DemoSummary | None = None

    @property
    def run_file(self) -> Path:
        return self.state_dir / "run.json"

    def _take_lock(self) -> None:
        self.state_dir.mkdir(parents=True, exist_ok=True)
        # Secrets, the database, logs and recordings' paths: the owner's only.
        self.state_dir.chmod(0o700)
        lock = open(self.state_dir / "run.lock", "a+")  # noqa: SIM115 (held open for the hotline's lifetime)
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            lock.close()
            pid = read_run_file(self.config).get("pid", "?")
            raise StackError(
                f"this hotline is already running (pid {pid}, state dir {self.state_dir}); "
                "see `python app.py status`, or give another instance its own state dir and ports"
            ) from None
        self._lock = lock

    def _check_ports(self) -> None:
        c = self.config
        wanted = [
            ("sip.port", c.sip.host, c.sip.port, socket.SOCK_DGRAM),
            ("agi.port", c.agi.host, c.agi.port, socket.SOCK_STREAM),
            ("ari.port", c.ari.host, c.ari.port, socket.SOCK_STREAM),
            ("ami.port", c.ami.host, c.ami.port, socket.SOCK_STREAM),
            ("web.port", c.web.host, c.web.port, socket.SOCK_STREAM),
        ]
        if c.redis.managed:
            wanted.append(("redis.port", "127.0.0.1", c.redis.port, socket.SOCK_STREAM))
        busy = [f"{key} {host}:{port}" for key, host, port, kind in wanted if not _port_free(host, port, kind)]
        if busy:
            raise StackError(
                "ports in use by something else: " + ", ".join(busy) + " (set other ports in the config or "
                "HOTLINE_<SECTION>_PORT)"
            )

    def _seed_demo(self) -> None:
        """On an empty database, seed the demo utility so that a new user can call in at once."""
        if self.config.demo.customers <= 0:
            return
        summary = seed.seed_if_empty(
            self.engine,
            self.config.demo.customers,
            thresholds=self.config.tiers,
            seats=self.config.seats.names(),
            progress=sys.stderr.isatty(),
        )
        if summary.created:
            self.demo = summary

    def start(self) -> None:
        started = time.monotonic()
        self._take_lock()
        try:
            self._check_ports()
            db.upgrade(self.config.database_url)
            self._seed_demo()
            prompt_dir = self.state_dir / "prompts" / "current"
            counts = prompts.build(
                self.state_dir / "prompts" / "synthesized", self.config.paths.recorded_prompts, prompt_dir
            )
            log.info("prompts ready: %s", counts)
            if self.config.redis.managed:
                self.redis_process = redis_server.start(
                    self.config.redis.port, self.state_dir / "redis", self.state_dir / "logs" / "redis.log"
                )
            else:
                redis_server.wait_ready(self.config.redis.url)
            self.agi = fastagi_process.build_server(self.config, self.contacts)
            self.agi.start()
            self.asterisk.ensure_root()
            self.asterisk.render(prompt_dir)
            self.asterisk.start(self.state_dir / "logs" / "asterisk.log")
            self.asterisk.wait_ready()
            (self.state_dir / "run-config.toml").write_text(self.config.to_toml())
            for home in range(1, self.config.acd.routers + 1):
                self.start_router(home)
            self.wait_for_routers()
            self.start_web()
            self.wait_for_web()
            if self.config.outbound.dialler:
                self.start_dialler()
                self.wait_for_dialler()
            self._stopping.clear()
            self._supervisor = threading.Thread(target=self._supervise, name="supervisor", daemon=True)
            self._supervisor.start()
        except BaseException:
            self.stop()
            raise
        self._write_run_file()
        log.info("hotline up in %.1f s", time.monotonic() - started)

    def _write_run_file(self) -> None:
        c = self.config
        info: dict[str, Any] = {
            "pid": os.getpid(),
            "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "sip": f"{c.sip.host}:{c.sip.port}",
            "agi": f"{c.agi.host}:{c.agi.port}",
            "ari": f"http://{c.ari.host}:{c.ari.port}/ari",
            "ami": f"{c.ami.host}:{c.ami.port}",
            "redis": c.redis.effective_url(),
            "web": f"http://{c.web.host}:{c.web.port}/",
            "asterisk_pid": self.asterisk.process.pid if self.asterisk.process else None,
            "redis_pid": self.redis_process.pid if self.redis_process else None,
            "web_pid": self.web.pid if self.web else None,
            "dialler_pid": self.dialler.pid if self.dialler else None,
        }
        self.run_file.write_text(json.dumps(info, indent=2))

    def start_router(self, home: int) -> subprocess.Popen[bytes]:
        """An ACD router process for the Stasis app hotline-acd-<home>, configured from run-config.toml."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("HOTLINE_")}
        argv = [sys.executable, str(REPO_DIR / "app.py"), "--config", str(self.state_dir / "run-config.toml"),
                "acd", "--home", str(home)]  # fmt: skip
        process = start_child(f"acd router {home}", argv, self.state_dir / "logs" / f"acd-{home}.log", env=env)
        self.routers[home] = process
        return process

    def start_web(self) -> subprocess.Popen[bytes]:
        """The web process (agent desktop, supervisor monitor, API), configured from run-config.toml."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("HOTLINE_")}
        argv = [sys.executable, str(REPO_DIR / "app.py"), "--config", str(self.state_dir / "run-config.toml"), "web"]
        self.web = start_child("web", argv, self.state_dir / "logs" / "web.log", env=env)
        return self.web

    def wait_for_web(self, timeout: float = 20.0) -> None:
        deadline = time.monotonic() + timeout
        while _port_free(self.config.web.host, self.config.web.port, socket.SOCK_STREAM):
            if (self.web is not None and self.web.poll() is not None) or time.monotonic() > deadline:
                raise StackError(f"the web server did not come up; see {self.state_dir / 'logs' / 'web.log'}")
            time.sleep(0.1)

    def start_dialler(self) -> subprocess.Popen[bytes]:
        """The outbound dialler (Stasis app hotline-outbound), configured from run-config.toml."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("HOTLINE_")}
        argv = [sys.executable, str(REPO_DIR / "app.py"), "--config", str(self.state_dir / "run-config.toml"),
                "dialler"]  # fmt: skip
        self.dialler = start_child("dialler", argv, self.state_dir / "logs" / "dialler.log", env=env)
        return self.dialler

    def wait_for_dialler(self, timeout: float = 20.0) -> None:
        deadline = time.monotonic() + timeout
        while DIALLER_APP not in self.asterisk.stasis_apps():
            if (self.dialler is not None and self.dialler.poll() is not None) or time.monotonic() > deadline:
                raise StackError(f"the dialler did not come up; see {self.state_dir / 'logs' / 'dialler.log'}")
            time.sleep(0.1)

    def router_apps(self) -> list[str]:
        return [f"hotline-acd-{home}" for home in range(1, self.config.acd.routers + 1)]

    def wait_for_routers(self, timeout: float = 20.0) -> None:
        """Until every router's Stasis app is registered: before that, callers for a person would find none."""
        deadline = time.monotonic() + timeout
        while not set(self.router_apps()) <= set(self.asterisk.stasis_apps()):
            dead = [home for home, p in self.routers.items() if p.poll() is not None]
            if dead or time.monotonic() > deadline:
                raise StackError(
                    f"ACD routers {dead or list(self.routers)} did not come up; see {self.state_dir / 'logs'}"
                )
            time.sleep(0.1)

    def _supervise(self) -> None:
        """Restart a router that died: its callers wait (another router takes them over meanwhile)."""
        while not self._stopping.wait(0.5):
            for home, process in list(self.routers.items()):
                if process.poll() is not None and not self._stopping.is_set():
                    log.warning("acd router %d exited with %s; restarting it", home, process.returncode)
                    self.start_router(home)
            if self.web is not None and self.web.poll() is not None and not self._stopping.is_set():
                log.warning("the web server exited with %s; restarting it", self.web.returncode)
                self.start_web()
            if self.dialler is not None and self.dialler.poll() is not None and not self._stopping.is_set():
                # Its calls in flight were reported or lapse into lost attempts, offered again: nobody is lost.
                log.warning("the dialler exited with %s; restarting it", self.dialler.returncode)
                self.start_dialler()

    def stop(self) -> None:
        """Stop everything this object started, in reverse order; safe to call more than once."""
        self._stopping.set()
        if self._supervisor is not None:
            self._supervisor.join(timeout=5)
            self._supervisor = None
        for home, process in list(self.routers.items()):
            stop_child(process, f"acd router {home}")
        self.routers.clear()
        if self.dialler is not None:
            # It lets its calls in flight end (or hangs up on them) and reports them (Dialler.drain_s).
            stop_child(self.dialler, "dialler", grace=20)
            self.dialler = None
        if self.web is not None:
            stop_child(self.web, "web")
            self.web = None
        self.asterisk.stop()
        if self.agi is not None:
            self.agi.stop()
            self.agi = None
        if self.redis_process is not None:
            redis_server.stop(self.redis_process)
            self.redis_process = None
        self.engine.dispose()
        with contextlib.suppress(FileNotFoundError):
            if self._lock is not None:
                self.run_file.unlink()
        if self._lock is not None:
            self._lock.close()
            self._lock = None
