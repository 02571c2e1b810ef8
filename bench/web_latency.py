"""Screen-pop and supervisor-monitor latency on the real stack: a sandbox hotline (Asterisk, ACD router, Redis,
gunicorn), real SIP callers and an auto-answering seat, the pages in Debian's headless Chromium.

    .venv/bin/python bench/web_latency.py [--calls 30] [--agents 200] [--waiting 100] [--talking 140]
                                          [--changes 100]

Measures:
  screen-pop      one call at a time into the ACD (the self-test `acd` extension, the IVR skipped, a demo account in
                  X-Hotline-Account) for one agent signed in on the desk page: the router's `queue.offer` event
                  ("at", from the stream acd:events) -> the page's #pop-account showing the caller's account (a
                  MutationObserver's Date.now()); also -> the screenpop message reaching the page, and the seat's
                  INVITE -> the page showing it.
  monitor         `--agents` agents logged in (`--talking` of them on connected calls, the rest in wrap-up or
                  paused) and `--waiting` calls waiting, written with AcdStore's own scripts; then `--changes` times
                  one agent goes ready or back to paused (AcdStore.set_agent_state, the event published by
                  cti.acd.notifier.Notifier): publish -> a monitor.floor snapshot that shows it reaching a WebSocket
                  client with the supervisor's session, and, separately, -> the agent's tile in /monitor in Chromium
                  changing its data-state. Also the snapshot's size and the time to build one.
Prints a JSON document and a table. Both clocks are this machine's wall clock (time.time() and Date.now()).
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import random
import secrets
import shutil
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Coroutine, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

import httpx
import redis
from playwright.sync_api import Browser, BrowserContext, Page, Playwright, expect, sync_playwright
from sqlalchemy import select
from websockets.sync.client import ClientConnection, connect

from crm.models import Account, User
from crm.users import set_password
from crm.vocabulary import Role
from cti.acd.notifier import Notifier
from cti.acd.policy import AgentProfile
from cti.acd.store import AcdStore, call_score, connect_redis
from cti.jsonable import plain
from cti.web import monitor
from cti.web.wiring import build
from hotline.events import STREAM, event
from hotline.stack import Hotline
from testbed.phones import CallResult, Seat
from testbed.sandbox import free_port, sandbox_config
from testbed.softphone import SipStack

T = TypeVar("T")

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
# flask-login's "strong" session protection ties a session to the client's User-Agent: the WebSocket client must
# send the one the session logged in with.
USER_AGENT = "hotline-bench/1"
# The seat answers after ANSWER_S of ringing and hangs up after TALK_S of talk.
ANSWER_S = 1.5
TALK_S = 1.0

# Installed in every page of a context: when each "screenpop" message arrives (before desk.js's handler runs).
RECORD_SOCKET = """
window.__socketPops = [];
const NativeWebSocket = window.WebSocket;
window.WebSocket = class extends NativeWebSocket {
  constructor(...args) {
    super(...args);
    this.addEventListener("message", (m) => {
      const t = Date.now();
      if (m.data.startsWith('{"type": "screenpop"')) window.__socketPops.push({ t, call: JSON.parse(m.data).call });
    });
  }
};
"""

# On the desk page: every time #pop-account changes, when, to what, for which call, and whether a customer showed.
WATCH_POP = """() => {
  window.__pops = [];
  const account = document.getElementById("pop-account");
  new MutationObserver(() => {
    window.__pops.push({ t: Date.now(), text: account.textContent,
                         call: document.getElementById("screenpop").dataset.call,
                         customer: document.getElementById("pop-customer").textContent });
  }).observe(account, { childList: true, characterData: true, subtree: true });
}"""

# On the monitor page: each time a watched agent's tile shows a different state, when and which.
WATCH_TILES = """(agents) => {
  window.__tiles = [];
  const last = {};
  const grid = document.getElementById("agent-grid");
  const look = () => {
    const t = Date.now();
    for (const a of agents) {
      const tile = grid.querySelector('.agent[data-agent="' + a + '"]');
      const state = tile ? tile.dataset.state : null;
      if (state !== last[a]) { last[a] = state; window.__tiles.push({ t, agent: a, state }); }
    }
  };
  look();
  new MutationObserver(look).observe(grid, { childList: true, subtree: true, attributes: true });
}"""


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def summary(values: list[float]) -> dict[str, float]:
    """Milliseconds in, milliseconds out."""
    if not values:
        return {"n": 0}
    return {
        "n": len(values),
        "p50_ms": round(percentile(values, 50), 1),
        "p95_ms": round(percentile(values, 95), 1),
        "max_ms": round(max(values), 1),
        "mean_ms": round(statistics.mean(values), 1),
    }


def wall_ms() -> float:
    return time.time() * 1000


def iso_ms(at: str) -> float:
    return datetime.fromisoformat(at).timestamp() * 1000


class AsyncThread:
    """An event loop on a thread of its own, for AcdStore and Notifier beside Playwright's synchronous API."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, name="bench-acd", daemon=True)
        self._thread.start()

    def run(self, coro: Coroutine[Any, Any, T], timeout: float = 60) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(timeout=5)


@dataclass
class Snapshot:
    received_ms: float
    at_ms: int
    size: int
    states: dict[str, str]


class FloorListener:
    """The supervisor's live stream over a plain WebSocket client: every monitor.floor snapshot, when it arrived
    and the states of the watched agents in it."""

    def __init__(self, ws: ClientConnection, watched: set[str]) -> None:
        self.ws = ws
        self.watched = watched
        self.snapshots: list[Snapshot] = []
        self.changed = threading.Condition()
        self._thread = threading.Thread(target=self._read, name="floor-listener", daemon=True)
        self._thread.start()

    def _read(self) -> None:
        try:
            for raw in self.ws:
                received = wall_ms()
                text = raw if isinstance(raw, str) else raw.decode()
                if not text.startswith('{"type": "monitor.floor"'):
                    continue
                data = json.loads(text)["data"]
                states = {a["id"]: a["state"] for a in data["floor"]["agents"] if a["id"] in self.watched}
                with self.changed:
                    self.snapshots.append(Snapshot(received, data["at_ms"], len(text.encode()), states))
                    self.changed.notify_all()
        except Exception:  # the socket closed: the bench is over
            return

    def first_showing(self, start: int, agent: str, state: str, timeout: float) -> Snapshot | None:
        """The first snapshot from index `start` on in which `agent` is in `state`."""
        deadline = time.monotonic() + timeout
        with self.changed:
            while True:
                for snap in self.snapshots[start:]:
                    if snap.states.get(agent) == state:
                        return snap
                left = deadline - time.monotonic()
                if left <= 0:
                    return None
                self.changed.wait(left)

    def close(self) -> None:
        self.ws.close()
        self._thread.join(timeout=5)


class Bench:
    def __init__(self, state_dir: Path) -> None:
        self.sip = SipStack("127.0.0.1", free_port())
        self.cfg = sandbox_config(state_dir, trunk_port=self.sip.port, HOTLINE_ACD_ROUTERS="1")
        self.hotline = Hotline(self.cfg)
        self.playwright: Playwright | None = None
        self.browser: Browser | None = None
        self.contexts: list[BrowserContext] = []
        self.seats: list[Seat] = []
        self.acd = AsyncThread()
        self.pool = ThreadPoolExecutor(8)
        self.redis = redis.Redis.from_url(self.cfg.redis.effective_url(), decode_responses=True)
        self.base = f"http://{self.cfg.web.host}:{self.cfg.web.port}"
        self.domain = f"{self.cfg.sip.host}:{self.cfg.sip.port}"
        self.password = secrets.token_urlsafe(12)
        # Only the wall clock is common to the bench and the browser; the seats record time.monotonic().
        self.mono_to_wall_ms = (time.time() - time.monotonic()) * 1000

    def start(self) -> None:
        started = time.monotonic()
        self.hotline.start()
        self.stack_start_s = round(time.monotonic() - started, 1)
        self.playwright = sync_playwright().start()
        self.browser = self.playwright.chromium.launch(
            executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"]
        )

    def close(self) -> None:
        try:
            for context in self.contexts:
                context.close()
            if self.browser is not None:
                self.browser.close()
            if self.playwright is not None:
                self.playwright.stop()
            for seat in self.seats:
                self.sip.run(self.sip.unregister(seat))
        finally:
            self.pool.shutdown(wait=True)
            self.acd.close()
            self.redis.close()
            self.hotline.stop()
            # Hotline.stop leaves the instance's folder in the shared Asterisk root (logs, CDRs, recordings).
            shutil.rmtree(self.hotline.asterisk.host_dir, ignore_errors=True)
            self.sip.close()

    # -- logins and pages ------------------------------------------------------------------------------------

    def login_of(self, role: Role) -> str:
        """A demo login of that role, given the bench's password."""
        sessions = self.hotline.contacts.sessions
        with sessions() as s:
            login = s.scalars(select(User.login).where(User.role == role).order_by(User.login)).first()
        assert login and set_password(sessions, login, self.password), role
        return login

    def page(self, login: str) -> Page:
        assert self.browser is not None
        context = self.browser.new_context(base_url=self.base, locale="zh-CN", user_agent=USER_AGENT)
        self.contexts.append(context)
        context.add_init_script(RECORD_SOCKET)
        page = context.new_page()
        page.goto("/login")
        page.fill("input[name=login]", login)
        page.fill("input[name=password]", self.password)
        page.click("button[type=submit]")
        page.wait_for_load_state("networkidle")
        return page

    # -- screen-pop ------------------------------------------------------------------------------------------

    def screen_pop(self, calls: int) -> dict[str, Any]:
        agent = self.login_of(Role.AGENT)
        with self.hotline.contacts.sessions() as s:
            accounts = list(s.scalars(select(Account.number).order_by(Account.id).limit(calls)))
        name = self.cfg.seats.names()[0]
        seat = self.sip.run(self.sip.seat(name, self.domain, self.cfg.secrets.seat_password(name), ANSWER_S, TALK_S))
        self.seats.append(seat)
        desk = self.page(agent)
        assert desk.url.endswith("/desk"), desk.url
        desk.evaluate(WATCH_POP)
        state = desk.locator("#agent-state")
        desk.select_option("#seat", name)
        desk.click("#btn-login")
        expect(state).to_have_attribute("data-state", "paused", timeout=10_000)
        desk.click("#btn-ready")
        expect(state).to_have_attribute("data-state", "ready", timeout=10_000)

        caller = self.sip.run(self.sip.caller("selftest", self.domain, self.cfg.secrets.selftest_password))
        since = self.redis.xrevrange(STREAM, count=1)
        last_id = since[0][0] if since else "0-0"
        offer_to_dom, offer_to_socket, socket_to_dom, invite_to_dom = [], [], [], []
        futures: list[Future[CallResult]] = []
        customers = 0
        for i, account in enumerate(accounts):
            seen = desk.evaluate("window.__pops.length")
            headers = {"X-Hotline-Intent": "general", "X-Hotline-Tier": "standard", "X-Hotline-Account": account}
            coro = self.sip.call(
                caller, f"sip:acd@{self.domain}", caller_number=f"1390000{i:04d}", headers=headers, hold=6.0,
                listen=False,
            )  # fmt: skip
            futures.append(self.pool.submit(self.sip.run, coro, 60))
            desk.wait_for_function(
                "([k, a]) => window.__pops.slice(k).some((p) => p.text === a)", arg=[seen, account], timeout=20_000
            )
            pop = desk.evaluate("([k, a]) => window.__pops.slice(k).find((p) => p.text === a)", [seen, account])
            customers += pop["customer"] not in ("", "—")
            offer_at = self.offer_time(pop["call"], last_id)
            got = desk.evaluate("(c) => window.__socketPops.find((p) => p.call === c)", pop["call"])
            offer_to_dom.append(pop["t"] - offer_at)
            if got:
                offer_to_socket.append(got["t"] - offer_at)
                socket_to_dom.append(pop["t"] - got["t"])
            deadline = time.monotonic() + 10
            while len(seat.offered_at) <= i and time.monotonic() < deadline:
                time.sleep(0.01)
            if len(seat.offered_at) > i:
                invite_to_dom.append(pop["t"] - (seat.offered_at[i] * 1000 + self.mono_to_wall_ms))
            # The seat answers, talks and hangs up; the agent ends the after-call work at once. (The badge still
            # says "ready" while the seat rings: an offer sends the agent's page no agent.* event.)
            expect(state).to_have_attribute("data-state", "wrap_up", timeout=30_000)
            desk.click("#btn-ready")
            expect(state).to_have_attribute("data-state", "ready", timeout=10_000)
        results = [f.result(timeout=60) for f in futures]
        desk.click("#btn-logout")
        expect(state).to_have_attribute("data-state", "logged_out", timeout=10_000)
        return {
            "calls": calls,
            "established": sum(r.established for r in results),
            "pops_with_customer": customers,
            "offer_to_page_shows_account": summary(offer_to_dom),
            "offer_to_screenpop_message_at_page": summary(offer_to_socket),
            "screenpop_message_to_page_shows_account": summary(socket_to_dom),
            "seat_invite_to_page_shows_account": summary(invite_to_dom),
        }

    def offer_time(self, call: str, since: str, timeout: float = 5.0) -> float:
        """The wall-clock ms of the router's queue.offer event for `call`."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for _, fields in self.redis.xrange(STREAM, min=since):
                evt = json.loads(fields["event"])
                if evt["type"] == "queue.offer" and evt["call"] == call:
                    return iso_ms(evt["at"])
            time.sleep(0.05)
        raise RuntimeError(f"no queue.offer event for call {call}")

    # -- the monitor -----------------------------------------------------------------------------------------

    def fill_floor(self, agents: int, waiting: int, talking: int) -> list[str]:
        """The floor of a busy hour, through AcdStore's scripts; returns the paused agents (the ones to change)."""

        async def fill() -> list[str]:
            client = connect_redis(self.cfg.redis.effective_url())
            store = AcdStore(client)
            rng = random.Random(7)
            now = int(wall_ms())
            skills = ("billing", "repair", "complaint", "business")
            tiers = ("standard", "standard", "standard", "attention", "key_account")
            paused = []
            for n in range(agents):
                code = f"S{n + 1:04d}"
                profile = AgentProfile(code, ("general", skills[n % len(skills)]))
                ok, detail = await store.login(code, f"benchseat{n + 1:04d}", profile.groups(), now - 3_600_000)
                assert ok, detail
                if n < talking:
                    # On a call: offered through the agent's own group and answered.
                    call = f"bench-talk-{n + 1}"
                    entered = now - rng.randrange(30_000, 600_000)
                    await store.set_agent_state(code, "ready", "", entered)
                    await store.enqueue(call, f"agent:{code}", 0, call_fields(call, rng, entered, tiers))
                    assert await store.claim_for_call(call, entered + 5_000)
                    assert await store.connect(call, code, entered + 8_000)
                elif n < talking + (agents - talking) * 3 // 5:
                    await store.set_agent_state(code, "wrap_up", "", now - rng.randrange(1_000, 20_000))
                else:
                    reason = rng.choice(("break", "meal", "training", "meeting"))
                    await store.set_agent_state(code, "paused", reason, now - rng.randrange(10_000, 900_000))
                    paused.append(code)
            groups = ("skill:billing", "skill:repair", "skill:complaint", "skill:general", "all")
            for n in range(waiting):
                call = f"bench-wait-{n + 1}"
                entered = now - rng.randrange(1_000, 240_000)
                await store.enqueue(call, rng.choice(groups), 0, call_fields(call, rng, entered, tiers))
            await client.aclose()
            return paused

        return self.acd.run(fill())

    def snapshot_cost(self, samples: int) -> dict[str, Any]:
        """Building one snapshot as the web process does (cti.web.monitor.snapshot), in this process."""
        b = build(self.cfg)
        try:
            monitor.snapshot(b)  # the desk's connections, the statement caches
            floor, figures, whole = [], [], []
            for _ in range(samples):
                t = time.perf_counter()
                plain(b.desk.floor())
                floor.append((time.perf_counter() - t) * 1000)
            for _ in range(max(samples // 5, 3)):
                monitor._figures_cache.clear()
                t = time.perf_counter()
                monitor.figures(b)
                figures.append((time.perf_counter() - t) * 1000)
            monitor.figures(b)
            for _ in range(samples):
                t = time.perf_counter()
                data = monitor.snapshot(b)
                whole.append((time.perf_counter() - t) * 1000)
            size = len(json.dumps({"type": "monitor.floor", "data": data}, ensure_ascii=False).encode())
            return {
                "agents": len(data["floor"]["agents"]),
                "calls": len(data["floor"]["calls"]),
                "waiting": sum(c["state"] == "waiting" for c in data["floor"]["calls"]),
                "message_bytes": size,
                "floor_read_and_view": summary(floor),
                "todays_figures_uncached": summary(figures),
                "snapshot_figures_cached": summary(whole),
            }
        finally:
            b.close()

    def changes(self, paused: list[str]) -> Iterator[tuple[str, str]]:
        """Agent i goes ready, then back to paused, then the next agent: every change flips one tile."""
        return itertools.cycle([(agent, state) for agent in paused for state in ("ready", "paused")])

    def change(self, changer: Changer, agent: str, state: str) -> float:
        """One agent changes state as Acd.ready and Acd.pause make it; returns the wall-clock ms of the publish."""

        async def go() -> float:
            reason = "" if state == "ready" else "break"
            ok, detail = await changer.store.set_agent_state(agent, state, reason, int(wall_ms()))
            assert ok, detail
            published = wall_ms()
            if state == "ready":
                await changer.notifier.publish(event("agent.ready", None, None, agent))
            else:
                await changer.notifier.publish(event("agent.pause", None, None, agent, reason=reason))
            await changer.notifier.flush()
            return published

        return self.acd.run(go())

    def monitor_socket(self, paused: list[str], count: int) -> dict[str, Any]:
        supervisor = self.login_of(Role.SUPERVISOR)
        with httpx.Client(base_url=self.base, headers={"User-Agent": USER_AGENT}) as web:
            token = web.get("/api/session").json()["csrf_token"]
            answer = web.post(
                "/api/session", json={"login": supervisor, "password": self.password}, headers={"X-CSRFToken": token}
            )
            answer.raise_for_status()
            cookie = "; ".join(f"{c.name}={c.value}" for c in web.cookies.jar)
        ws = connect(
            f"ws://{self.cfg.web.host}:{self.cfg.web.port}/ws",
            additional_headers={"Cookie": cookie},
            user_agent_header=USER_AGENT,
            max_size=None,
        )
        listener = FloorListener(ws, set(paused))
        changer = self.acd.run(Changer.open(self.cfg.redis.effective_url()))
        latencies, queued, missed = [], [], 0
        try:
            if listener.first_showing(0, paused[0], "paused", 10) is None:
                raise RuntimeError("no monitor.floor snapshot on the supervisor's socket")
            for agent, state in itertools.islice(self.changes(paused), count):
                start = len(listener.snapshots)
                published = self.change(changer, agent, state)
                snap = listener.first_showing(start, agent, state, 10)
                if snap is None:
                    missed += 1
                else:
                    latencies.append(snap.received_ms - published)
                    queued.append(snap.at_ms - published)
                time.sleep(random.uniform(0.3, 0.6))
            sizes = [s.size for s in listener.snapshots]
        finally:
            listener.close()
            self.acd.run(changer.close())
        return {
            "changes": count,
            "missed": missed,
            "publish_to_snapshot_received": summary(latencies),
            "publish_to_snapshot_build_start": summary(queued),
            "snapshot_message_bytes": {"min": min(sizes), "max": max(sizes), "n": len(sizes)},
        }

    def monitor_browser(self, paused: list[str], count: int) -> dict[str, Any]:
        page = self.page(self.login_of(Role.SUPERVISOR))
        assert page.url.endswith("/monitor"), page.url
        expect(page.locator("#agent-grid .agent")).to_have_count(len(self.floor_agents()), timeout=20_000)
        page.evaluate(WATCH_TILES, paused)
        changer = self.acd.run(Changer.open(self.cfg.redis.effective_url()))
        latencies, missed = [], 0
        try:
            for agent, state in itertools.islice(self.changes(paused), count):
                seen = page.evaluate("window.__tiles.length")
                published = self.change(changer, agent, state)
                try:
                    page.wait_for_function(
                        "([k, a, s]) => window.__tiles.slice(k).some((e) => e.agent === a && e.state === s)",
                        arg=[seen, agent, state],
                        timeout=10_000,
                    )
                except Exception:
                    missed += 1
                    continue
                shown = page.evaluate(
                    "([k, a, s]) => window.__tiles.slice(k).find((e) => e.agent === a && e.state === s).t",
                    [seen, agent, state],
                )
                latencies.append(shown - published)
                time.sleep(random.uniform(0.3, 0.6))
        finally:
            self.acd.run(changer.close())
        return {"changes": count, "missed": missed, "publish_to_tile_state_in_dom": summary(latencies)}

    def floor_agents(self) -> list[str]:
        return list(self.redis.smembers("acd:agents"))


def call_fields(call: str, rng: random.Random, entered: int, tiers: tuple[str, ...]) -> dict[str, str]:
    """A call's fields as Acd.caller_entered writes them, in a Stasis app no router holds: a router reconciles its
    own app's calls with Asterisk every few seconds and would close these, which have no channel."""
    tier = rng.choice(tiers)
    priority = {"key_account": 10, "standard": 5, "attention": 3}[tier]
    return {
        "channel": call,
        "app": "hotline-bench",
        "caller": f"139{rng.randrange(10**8):08d}",
        "intent": rng.choice(("billing", "repair", "complaint", "general")),
        "tier": tier,
        "account": "",
        "manager": "",
        "language": "zh",
        "priority": str(priority),
        "score": str(call_score(priority, entered)),
        "entered": str(entered),
    }


@dataclass
class Changer:
    """What a desk action uses to change an agent's state: the store's script, then the notifier's event."""

    store: AcdStore
    notifier: Notifier

    @classmethod
    async def open(cls, url: str) -> Changer:
        client = connect_redis(url)
        return cls(AcdStore(client), Notifier(client))

    async def close(self) -> None:
        await self.notifier.close()
        await self.store.r.aclose()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--calls", type=int, default=30)
    parser.add_argument("--agents", type=int, default=200)
    parser.add_argument("--waiting", type=int, default=100)
    parser.add_argument("--talking", type=int, default=140, help="of the agents, how many are on a call")
    parser.add_argument("--changes", type=int, default=100)
    args = parser.parse_args()
    started = time.monotonic()
    report: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="web-bench-") as tmp:
        bench = Bench(Path(tmp))
        try:
            bench.start()
            report["stack_start_s"] = bench.stack_start_s
            report["screen_pop"] = bench.screen_pop(args.calls)
            paused = bench.fill_floor(args.agents, args.waiting, args.talking)
            report["snapshot"] = bench.snapshot_cost(50)
            report["monitor_socket"] = bench.monitor_socket(paused, args.changes)
            report["monitor_browser"] = bench.monitor_browser(paused, args.changes)
        finally:
            bench.close()
    report["wall_s"] = round(time.monotonic() - started, 1)
    print(json.dumps(report, indent=2))
    pop, snap = report["screen_pop"], report["snapshot"]
    print(f"\nscreen-pop: {pop['established']}/{pop['calls']} calls, {pop['pops_with_customer']} pops with a customer")
    print(
        f"monitor: {snap['agents']} agents, {snap['calls']} calls ({snap['waiting']} waiting), "
        f"snapshot message {snap['message_bytes']} bytes"
    )
    print("\n| measure | n | p50 (ms) | p95 (ms) | max (ms) |\n|---|---|---|---|---|")
    for label, s in [
        ("queue.offer -> page shows the account", pop["offer_to_page_shows_account"]),
        ("queue.offer -> screenpop message at the page", pop["offer_to_screenpop_message_at_page"]),
        ("screenpop message -> page shows the account", pop["screenpop_message_to_page_shows_account"]),
        ("seat's INVITE -> page shows the account", pop["seat_invite_to_page_shows_account"]),
        ("snapshot build (floor + view)", snap["floor_read_and_view"]),
        ("snapshot build (today's figures, uncached)", snap["todays_figures_uncached"]),
        ("snapshot build (whole, figures cached)", snap["snapshot_figures_cached"]),
        ("publish -> snapshot build starts", report["monitor_socket"]["publish_to_snapshot_build_start"]),
        ("publish -> snapshot at the WebSocket client", report["monitor_socket"]["publish_to_snapshot_received"]),
        ("publish -> tile's data-state in Chromium", report["monitor_browser"]["publish_to_tile_state_in_dom"]),
    ]:
        cells = [s.get("n", 0), s.get("p50_ms", "-"), s.get("p95_ms", "-"), s.get("max_ms", "-")]
        print(f"| {label} | " + " | ".join(str(c) for c in cells) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
