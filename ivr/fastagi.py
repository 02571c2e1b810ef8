"""FastAGI: the protocol Asterisk speaks to the IVR over TCP, and a threaded server that runs one route per call.

A caller who hangs up surfaces as one exception, `Hangup`, from whichever command was running; the server ends
the call there, quietly. Any other exception is logged with the call's uniqueid and the call goes back to the
dialplan, which fails open to a person.
"""

from __future__ import annotations

import logging
import re
import socketserver
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from io import BufferedIOBase

from hotline.logs import call_context

log = logging.getLogger(__name__)

_RESPONSE = re.compile(r"^200 result=(?P<result>-?\S*)(?: \((?P<data>.*)\))?(?: endpos=(?P<endpos>\d+))?")
DIGITS = "0123456789*#"


class Hangup(Exception):  # noqa: N818 (the AGI protocol's own word)
    """The caller hung up, or Asterisk closed the AGI session: nothing more can be said to this call."""


class AgiError(Exception):
    """Asterisk refused a command (unknown command or bad syntax): a defect in the route, not in the call."""


@dataclass(frozen=True)
class Response:
    result: str
    data: str | None = None
    endpos: int | None = None

    @property
    def number(self) -> int:
        try:
            return int(self.result)
        except ValueError:
            return 0


def quote(value: str) -> str:
    """An AGI argument: double-quoted, with the quotes and backslashes inside escaped."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ") + '"'


@dataclass
class TraceEntry:
    command: str
    response: str
    ms: float


@dataclass
class AgiChannel:
    """One call's AGI session: the environment Asterisk sent, and commands sent back over the socket."""

    env: dict[str, str]
    rfile: BufferedIOBase
    wfile: BufferedIOBase
    hung_up: bool = False
    trace: list[TraceEntry] = field(default_factory=list)

    @property
    def uniqueid(self) -> str:
        return self.env.get("agi_uniqueid", "")

    @property
    def caller_number(self) -> str:
        number = self.env.get("agi_callerid", "")
        return "" if number in ("", "unknown") else number

    @property
    def dialled_number(self) -> str:
        return self.env.get("agi_dnid", "") or self.env.get("agi_extension", "")

    @property
    def channel(self) -> str:
        return self.env.get("agi_channel", "")

    # -- the protocol ----------------------------------------------------------------------------------------

    def execute(self, command: str, sent: Callable[[], None] | None = None) -> Response:
        """Send one command and return Asterisk's `200` answer; raises Hangup or AgiError otherwise. `sent` is
        called once the command is with Asterisk, before its answer comes."""
        if self.hung_up:
            raise Hangup(f"channel gone before {command.split()[0]}")
        started = time.perf_counter()
        try:
            self.wfile.write(command.encode() + b"\n")
            self.wfile.flush()
        except OSError as exc:
            self.hung_up = True
            raise Hangup(f"socket closed sending {command.split()[0]}") from exc
        if sent is not None:
            sent()
        line = self._read_answer(command)
        self.trace.append(TraceEntry(command, line, (time.perf_counter() - started) * 1000))
        match = _RESPONSE.match(line)
        if match is None:
            raise AgiError(f"unexpected answer to {command!r}: {line!r}")
        endpos = match.group("endpos")
        return Response(match.group("result"), match.group("data"), int(endpos) if endpos else None)

    def _readline(self) -> str:
        try:
            raw = self.rfile.readline()
        except OSError as exc:
            raise Hangup("socket error") from exc
        if not raw:
            self.hung_up = True
            raise Hangup("Asterisk closed the AGI session")
        return raw.decode("utf-8", "replace").rstrip("\r\n")

    def _read_answer(self, command: str) -> str:
        while True:
            line = self._readline()
            if line == "HANGUP":
                # Asterisk's notice that the caller left; the command's own answer still follows.
                self.hung_up = True
                continue
            if line.startswith("200"):
                return line
            if line.startswith("511"):
                self.hung_up = True
                raise Hangup(f"{command.split()[0]} refused on a dead channel")
            if line.startswith("520-"):
                usage = [line]
                while not line.startswith("520 "):
                    line = self._readline()
                    usage.append(line)
                raise AgiError(f"bad syntax in {command!r}: {' '.join(usage)}")
            raise AgiError(f"{command!r} refused: {line}")

    # -- the commands the IVR uses ---------------------------------------------------------------------------

    def _failed(self, what: str) -> AgiError:
        """Asterisk answers -1 both when the caller has gone and when, say, a sound file is missing. Asking for
        the channel's status tells them apart: on a dead channel it raises Hangup; otherwise the failure is ours."""
        self.execute("CHANNEL STATUS")
        return AgiError(f"{what} failed on a live channel")

    def answer(self) -> None:
        if self.execute("ANSWER").result == "-1":
            raise self._failed("ANSWER")

    def stream_file(
        self, name: str, escape_digits: str, offset: int = 0, sent: Callable[[], None] | None = None
    ) -> tuple[str | None, int | None]:
        """Play a sound file from sample `offset`; returns the key in `escape_digits` that stopped it (None if it
        played to the end) and where it stopped (Asterisk's endpos), so that the rest can be played after the key.
        `sent`: called once Asterisk has the command, while the file plays."""
        response = self.execute(f"STREAM FILE {name} {quote(escape_digits)} {offset}", sent)
        if response.result == "-1":
            raise self._failed(f"playing {name} (is the file there?)")
        return (chr(response.number) if response.number > 0 else None), response.endpos

    def wait_for_digit(self, timeout_ms: int) -> str | None:
        response = self.execute(f"WAIT FOR DIGIT {timeout_ms}")
        if response.result == "-1":
            raise self._failed("WAIT FOR DIGIT")
        return chr(response.number) if response.number > 0 else None

    def get_data(
        self, name: str, timeout_ms: int, max_digits: int, sent: Callable[[], None] | None = None
    ) -> tuple[str, bool]:
        """Play a prompt (none if `name` is empty; any key cuts it and counts) and collect up to `max_digits` keys
        ended by #, waiting `timeout_ms` for each, all in one command; returns the digits without # and whether
        the wait for a key timed out. `sent`: called once Asterisk has the command."""
        response = self.execute(f"GET DATA {quote(name)} {timeout_ms} {max_digits}", sent)
        if response.result == "-1":
            raise self._failed(f"GET DATA {name or '(no prompt)'}")
        return response.result, response.data == "timeout"

    def set_variable(self, name: str, value: str) -> None:
        self.execute(f"SET VARIABLE {name} {quote(value)}")

    def get_variable(self, name: str) -> str | None:
        response = self.execute(f"GET VARIABLE {name}")
        return response.data if response.result == "1" else None

    def verbose(self, message: str, level: int = 1) -> None:
        self.execute(f"VERBOSE {quote(message)} {level}")


Route = Callable[[AgiChannel], None]


def read_environment(rfile: BufferedIOBase) -> dict[str, str] | None:
    """The `agi_*` lines Asterisk sends first, up to the blank line; None if the peer left before finishing."""
    env: dict[str, str] = {}
    while True:
        raw = rfile.readline()
        if not raw:
            return None
        line = raw.decode("utf-8", "replace").rstrip("\r\n")
        if not line:
            return env
        key, sep, value = line.partition(":")
        if sep:
            env[key.strip()] = value.strip()


def route_name(env: Mapping[str, str]) -> str:
    """`agi://host:port/main?x=1` names the route `main`."""
    return env.get("agi_network_script", "").split("?", 1)[0].strip("/")


class _CallHandler(socketserver.StreamRequestHandler):
    server: FastAgiServer
    # One short line each way per command: Nagle's delay would add tens of ms to every round trip.
    disable_nagle_algorithm = True

    def handle(self) -> None:
        self.server.call_started()
        try:
            self._run()
        finally:
            self.server.call_ended()

    def _run(self) -> None:
        env = read_environment(self.rfile)
        if env is None:
            return
        channel = AgiChannel(env, self.rfile, self.wfile)
        name = route_name(env)
        with call_context(channel.uniqueid):
            route = self.server.routes.get(name)
            if route is None:
                log.error("no FastAGI route %r; the dialplan fails the call open", name)
                return
            try:
                route(channel)
            except Hangup as exc:
                log.info("caller hung up during route %s (%s)", name, exc)
            except Exception:
                log.exception("route %s failed; the dialplan fails the call open", name)


class FastAgiServer(socketserver.ThreadingTCPServer):
    """One thread per call; Asterisk opens one TCP connection per AGI() and closes it when the call leaves."""

    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 256

    def __init__(self, host: str, port: int, routes: Mapping[str, Route]) -> None:
        self.routes = dict(routes)
        self._active = 0
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        super().__init__((host, port), _CallHandler)

    @property
    def port(self) -> int:
        return int(self.server_address[1])

    @property
    def active_calls(self) -> int:
        with self._lock:
            return self._active

    def call_started(self) -> None:
        with self._lock:
            self._active += 1

    def call_ended(self) -> None:
        with self._lock:
            self._active -= 1

    def start(self) -> None:
        """Serve in a background thread."""
        self._thread = threading.Thread(target=self.serve_forever, name="fastagi", daemon=True)
        self._thread.start()
        log.info("FastAGI server listening on %s:%d", *self.server_address[:2])

    def stop(self) -> None:
        self.shutdown()
        self.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
