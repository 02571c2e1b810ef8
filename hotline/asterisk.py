"""Runs this instance's Asterisk inside the shared runtime root: renders its configs, starts, checks and stops it.

Each instance (one state dir) gets its own folder inside the root, so several hotlines and test runs can share
one built root without sharing a file.
"""

from __future__ import annotations

import base64
import contextlib
import json
import logging
import os
import re
import shutil
import subprocess
import time
import urllib.request
from pathlib import Path
from typing import Any

from hotline.config import REPO_DIR, Config
from hotline.processes import start_child, stop_child

log = logging.getLogger(__name__)

CONF_DIR = REPO_DIR / "asterisk-conf"
DIALPLAN_DIR = REPO_DIR / "dialplans"
PROVISION_SCRIPT = REPO_DIR / "scripts" / "provision-asterisk"
_PLACEHOLDER = re.compile(r"\{\{(\w+)\}\}")
# What the instance's data dir borrows from the packages, read-only, inside the root.
_SHARED_DATA = ("moh", "rest-api", "documentation", "static-http")


class AsteriskError(Exception):
    """Asterisk could not be prepared, started or reached; the message says what to do."""


def render_template(text: str, values: dict[str, str], name: str) -> str:
    """Fill {{key}} placeholders; an unknown key is a mistake in the template, not something to leave blank."""

    def fill(match: re.Match[str]) -> str:
        key = match.group(1)
        if key not in values:
            raise AsteriskError(f"{name}: no value for {{{{{key}}}}}")
        return values[key]

    return _PLACEHOLDER.sub(fill, text)


class Asterisk:
    """One instance's Asterisk: its folder inside the runtime root and, once started, its process."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self.root = config.paths.asterisk_root
        # The path Asterisk sees (inside the chroot) and the path we write to (outside it).
        self.inst = f"/var/hotline/{config.instance_id}"
        self.host_dir = self.root / self.inst.lstrip("/")
        self.process: subprocess.Popen[bytes] | None = None

    # -- the runtime root ------------------------------------------------------------------------------------

    def ensure_root(self) -> None:
        """Build the runtime root if it is missing (scripts/provision-asterisk is idempotent and cached)."""
        if (self.root / ".hotline-ready").exists():
            return
        log.info("asterisk runtime root missing at %s: building it", self.root)
        env = dict(os.environ, HOTLINE_ASTERISK_ROOT=str(self.root))
        result = subprocess.run([str(PROVISION_SCRIPT)], env=env)
        if result.returncode != 0:
            raise AsteriskError(f"building the asterisk runtime failed; run {PROVISION_SCRIPT} to see why")

    def module_dir(self) -> str:
        found = sorted(self.root.glob("usr/lib/*/asterisk/modules"))
        if not found:
            raise AsteriskError(f"no asterisk modules under {self.root}: rebuild with {PROVISION_SCRIPT}")
        return "/" + str(found[0].relative_to(self.root))

    # -- configuration ---------------------------------------------------------------------------------------

    def template_values(self) -> dict[str, str]:
        c = self.config
        return {
            "inst": self.inst,
            "moddir": self.module_dir(),
            "language": c.ivr.language,
            "sip_host": c.sip.host,
            "sip_port": str(c.sip.port),
            "rtp_start": str(c.sip.rtp_start),
            "rtp_end": str(c.sip.rtp_end),
            "trunk_host": c.trunk.host,
            "trunk_port": str(c.trunk.port),
            "selftest_password": c.secrets.selftest_password,
            "agi_host": c.agi.host,
            "agi_port": str(c.agi.port),
            "acd_routers": str(c.acd.routers),
            "ari_host": c.ari.host,
            "ari_port": str(c.ari.port),
            "ari_user": c.ari.user,
            "ari_password": c.secrets.ari_password,
            "ami_host": c.ami.host,
            "ami_port": str(c.ami.port),
            "ami_user": c.ami.user,
            "ami_password": c.secrets.ami_password,
        }

    def render(self, prompts_dir: Path) -> None:
        """Write this instance's etc/ from asterisk-conf/ and dialplans/, and its data dir with the prompts."""
        values = self.template_values()
        etc = self.host_dir / "etc"
        if etc.exists():
            shutil.rmtree(etc)
        (etc / "dialplans").mkdir(parents=True)
        for source in sorted(CONF_DIR.glob("*.conf")):
            if source.name == "pjsip-seat.conf":
                continue
            (etc / source.name).write_text(render_template(source.read_text(), values, source.name))
        seat_template = (CONF_DIR / "pjsip-seat.conf").read_text()
        seats = [
            render_template(
                seat_template,
                dict(values, seat=seat, seat_password=self.config.secrets.seat_password(seat)),
                "pjsip-seat.conf",
            )
            for seat in self.config.seats.names()
        ]
        (etc / "pjsip-seats.conf").write_text("\n".join(seats))
        for source in sorted(DIALPLAN_DIR.glob("*.conf")):
            (etc / "dialplans" / source.name).write_text(source.read_text())
        for name in ("lib", "run", "log/cdr-csv", "spool", "agi-bin"):
            (self.host_dir / name).mkdir(parents=True, exist_ok=True)
        # The rendered files hold the ARI and AMI passwords and the seats' secrets: the owner's only (Asterisk runs
        # as the same user).
        for path in (etc, *etc.rglob("*")):
            path.chmod(0o700 if path.is_dir() else 0o600)
        self._render_data(prompts_dir)

    def _render_data(self, prompts_dir: Path) -> None:
        data = self.host_dir / "data"
        sounds = data / "sounds"
        sounds.mkdir(parents=True, exist_ok=True)
        for name in _SHARED_DATA:
            link = data / name
            if not link.is_symlink():
                link.symlink_to(f"/usr/share/asterisk/{name}")
        for lang in ("en",):
            link = sounds / lang
            if not link.is_symlink():
                link.symlink_to(f"/usr/share/asterisk/sounds/{lang}")
        # Copied, not linked: the prompts live outside the root, where a link would not reach.
        target = sounds / "hotline"
        if target.exists():
            shutil.rmtree(target)
        shutil.copytree(prompts_dir, target)

    # -- the process -----------------------------------------------------------------------------------------

    def _command(self, *args: str) -> list[str]:
        return ["chroot", str(self.root), "/usr/sbin/asterisk", "-C", f"{self.inst}/etc/asterisk.conf", *args]

    def start(self, log_path: Path) -> subprocess.Popen[bytes]:
        self.ensure_root()
        self.process = start_child("asterisk", self._command("-f", "-n"), log_path)
        return self.process

    def cli(self, command: str, timeout: float = 10.0) -> str:
        """Run one CLI command against this instance's control socket and return what it printed."""
        try:
            result = subprocess.run(self._command("-rx", command), capture_output=True, text=True, timeout=timeout)
        except subprocess.TimeoutExpired as exc:
            raise AsteriskError(f"asterisk CLI {command!r} timed out") from exc
        if result.returncode != 0:
            raise AsteriskError(f"asterisk CLI {command!r} failed: {result.stderr.strip() or result.stdout.strip()}")
        return result.stdout

    def wait_ready(self, timeout: float = 30.0) -> None:
        """Wait until Asterisk has fully booted (all modules loaded, SIP listening)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                raise AsteriskError(f"asterisk exited with {self.process.returncode} during startup")
            try:
                self.cli("core waitfullybooted", timeout=max(1.0, deadline - time.monotonic()))
                return
            except AsteriskError:
                time.sleep(0.1)
        raise AsteriskError(f"asterisk did not finish booting within {timeout:.0f} s")

    def stop(self) -> None:
        if self.process is None:
            return
        if self.process.poll() is None:
            with contextlib.suppress(AsteriskError):
                self.cli("core stop now", timeout=5)
        stop_child(self.process, "asterisk", grace=10)
        self.process = None

    def ari_get(self, path: str, timeout: float = 3.0) -> Any:
        """A GET on this instance's ARI (for checks; the ACD has its own asynchronous client)."""
        c = self.config
        auth = base64.b64encode(f"{c.ari.user}:{c.secrets.ari_password}".encode()).decode()
        url = f"http://{c.ari.host}:{c.ari.port}/ari{path}"
        request = urllib.request.Request(url, headers={"Authorization": f"Basic {auth}"})
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return json.loads(response.read() or b"null")

    def stasis_apps(self) -> list[str]:
        """The Stasis apps a router holds right now."""
        try:
            return sorted(app["name"] for app in self.ari_get("/applications"))
        except OSError:
            return []

    @property
    def cdr_csv(self) -> Path:
        """Asterisk's own record of every call: one CSV row per call."""
        return self.host_dir / "log" / "cdr-csv" / "Master.csv"

    @property
    def messages_log(self) -> Path:
        return self.host_dir / "log" / "messages.log"
