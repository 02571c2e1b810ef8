"""`app.py status`: what of this hotline runs, on which ports, and whether each part answers."""

from __future__ import annotations

import os
import socket
import urllib.request
from dataclasses import dataclass

import redis
from sqlalchemy import text

from crm import db
from hotline.asterisk import Asterisk, AsteriskError
from hotline.config import Config
from hotline.stack import DIALLER_APP, read_run_file


@dataclass
class Check:
    part: str
    where: str
    healthy: bool
    detail: str


def _pid_alive(pid: object) -> bool:
    if not isinstance(pid, int):
        return False
    try:
        os.kill(pid, 0)
    except OSError:
        return False
    return True


def _tcp(host: str, port: int, banner: bool = False) -> tuple[bool, str]:
    try:
        with socket.create_connection((host, port), timeout=2) as sock:
            if banner:
                return True, sock.recv(200).decode(errors="replace").strip()
            return True, "accepting connections"
    except OSError as exc:
        return False, str(exc)


def _web(config: Config) -> Check:
    """The pages answer: the login page comes back with 200."""
    url = f"http://{config.web.host}:{config.web.port}/login"
    try:
        with urllib.request.urlopen(url, timeout=3) as response:
            return Check("web", url, response.status == 200, f"HTTP {response.status}")
    except (OSError, ValueError) as exc:
        return Check("web", url, False, str(exc))


def checks(config: Config) -> list[Check]:
    run = read_run_file(config)
    result = [
        Check("hotline", f"pid {run.get('pid', '-')}", _pid_alive(run.get("pid")), run.get("started_at", "not running"))
    ]
    asterisk = Asterisk(config)
    try:
        uptime = asterisk.cli("core show uptime seconds", timeout=5).split()
        result.append(Check("asterisk", f"sip udp {config.sip.host}:{config.sip.port}", True, " ".join(uptime)))
    except AsteriskError as exc:
        result.append(Check("asterisk", f"sip udp {config.sip.host}:{config.sip.port}", False, str(exc)))
    ari_url = f"http://{config.ari.host}:{config.ari.port}/ari"
    try:
        info = asterisk.ari_get("/asterisk/info")
        result.append(Check("ari", ari_url, True, f"Asterisk {info['system']['version']}"))
    except (OSError, KeyError, ValueError) as exc:
        result.append(Check("ari", ari_url, False, str(exc)))
    wanted = [f"hotline-acd-{i}" for i in range(1, config.acd.routers + 1)]
    held = asterisk.stasis_apps()
    missing = [app for app in wanted if app not in held]
    detail = f"missing {', '.join(missing)}" if missing else f"{len(wanted)} of {len(wanted)} Stasis apps held"
    result.append(Check("acd", "routers " + ", ".join(wanted), not missing, detail))
    if config.outbound.dialler:
        holding = DIALLER_APP in held
        result.append(Check("dialler", DIALLER_APP, holding, "Stasis app held" if holding else "not running"))
    ok, detail = _tcp(config.ami.host, config.ami.port, banner=True)
    result.append(Check("ami", f"{config.ami.host}:{config.ami.port}", ok, detail))
    ok, detail = _tcp(config.agi.host, config.agi.port)
    result.append(Check("fastagi", f"{config.agi.host}:{config.agi.port}", ok, detail))
    result.append(_web(config))
    url = config.redis.effective_url()
    try:
        redis.Redis.from_url(url, socket_timeout=2).ping()
        result.append(Check("redis", url, True, "PONG"))
    except redis.RedisError as exc:
        result.append(Check("redis", url, False, str(exc)))
    engine = db.make_engine(config.database_url)
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        result.append(Check("database", engine.url.render_as_string(hide_password=True), True, "answers"))
    except Exception as exc:  # any driver's error: the point is to report it, not to handle it
        result.append(Check("database", engine.url.render_as_string(hide_password=True), False, str(exc)))
    finally:
        engine.dispose()
    return result
