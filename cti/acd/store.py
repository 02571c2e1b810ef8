"""The ACD's shared state in Redis, and every change to it as one atomic Lua script (lua/<name>.lua), so that
several routers can work on the same queues: two routers never offer one agent two calls, nor one call to two agents.

The Redis key schema (the one place it is defined):

  acd:call:{call}          hash   a waiting or connected call: channel, app, group, step, score, priority, state,
                                  agent, leg, bridge, offered (ms), connected (ms), intent, tier, account, manager,
                                  caller, language, campaign_attempt (an outbound notice's callee), entered
                                  (ms); after a transfer also transfers (count) and
                                  transferred_from (the agent), and step is "transfer" (no more escalation)
  acd:calls                set    every live call's id
  acd:waiting:{group}      zset   calls waiting for {group}, by score (priority first, then arrival)
  acd:agent:{agent}        hash   a logged-in agent: state, seat, groups, since (ms), idle_since (ms),
                                  pause_reason, paused_by (the supervisor who paused them), misses, call, and
                                  pending ("pause" or "logout") with pending_by: a supervisor's action asked for
                                  while the agent rang or talked, taken when that call ends
  acd:agents               set    every logged-in agent's id
  acd:seat:{seat}          string the agent logged in on that seat
  acd:members:{group}      set    logged-in agents of {group}
  acd:ready:{group}        zset   agents of {group} ready for a call, by idle_since (longest idle first)
  acd:timers               zset   "{kind}:{id}:{token}" by due time (ms): escalations, announcements, wrap-up
                                  ends, hold-back ends
  acd:stats                hash   talks, talk_ms: finished conversations, for the expected wait
  acd:supervision:{id}     hash   a supervisor listening, whispering or barging in on a call: call, mode (listen,
                                  whisper, barge), seat, by, agent, state (ringing, active), created (ms),
                                  started (ms), leg (the supervisor's channel), snoop, bridge
  acd:supervisions:{call}  set    the ids of the call's supervisions
  acd:supervisor:{seat}    string the supervision a seat is in (one at a time)
  acd:router:{app}         string the router that holds the Stasis app (expires unless renewed)
  acd:alive:{home}         string a live router's heartbeat, by its home app (expires)
  acd:events               stream and pub/sub channel of the ACD's and the IVR's events (hotline/events.py)

Beside the ACD's keys, the other parts keep these in the same Redis:

  web:loginfail:{login}    string wrong passwords for a login in the throttle's window (cti/web/auth.py; expires)
  web:loginfail-ip:{addr}  string wrong passwords from a client address in the window (expires)
  hotline:ivr:guesses:{n}  string the IVR's failed verification guesses per caller number (ivr/guesses.py; expires)
  ivr:now                  hash   the calls now in self-service and the menu each waits at (reporting/ivr_funnel.py)
  ivr:day:{YYYY-MM-DD}     hash   the day's self-service funnel: calls, outcomes, give-ups and failures per menu
                                  (reporting/ivr_funnel.py; kept eight days)

Groups are "agent:{id}", "skill:{name}", "team:{name}" and "all". Agent states: ready, ringing, busy, wrap_up,
paused, held (left out for a while after rejecting a call). Call states: waiting, ringing, connected.

Channel and bridge ids name their call, so that Asterisk's events lead back to it without a lookup:
acdleg-{token}-{call} (an agent's leg) and acdbridge-{token}-{call} (its conversation), acdsup-{id}-{call} (a
supervisor's leg), acdsnoop-{id}-{call} (the snoop on the agent's leg) and acdspy-{id}-{call} (their bridge).
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from importlib import resources
from typing import Any

import redis
import redis.asyncio as aioredis
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff

from cti.acd.floor import FloorData

# Priorities are whole numbers below this; the score orders priority first, then arrival time in ms.
MAX_PRIORITY = 100
_PRIORITY_WEIGHT = 10**13


def connect_redis(url: str) -> aioredis.Redis:
    """The one way the CTI side opens Redis: a command that meets a restarting Redis is retried for a few seconds
    instead of failing the call it serves."""
    return aioredis.Redis.from_url(
        url,
        retry=Retry(ExponentialBackoff(cap=1.0, base=0.05), retries=8),
        retry_on_error=[redis.ConnectionError, redis.TimeoutError],
        health_check_interval=10,
    )


def call_score(priority: int, entered_ms: int) -> int:
    """Lower is served first: a higher priority, then an earlier arrival."""
    return (MAX_PRIORITY - min(max(priority, 0), MAX_PRIORITY - 1)) * _PRIORITY_WEIGHT + entered_ms


# The Lua scripts, one file each in lua/ (shipped as package data), read once at import.
_SCRIPTS = {
    path.name.removesuffix(".lua"): path.read_text(encoding="utf-8")
    for path in resources.files("cti.acd").joinpath("lua").iterdir()
    if path.name.endswith(".lua")
}


def _script(name: str, prelude: bool = False) -> str:
    """A script's source; `prelude`: with the helpers it calls (lua/prelude.lua) before it."""
    return (_SCRIPTS["prelude"] if prelude else "") + _SCRIPTS[name]


@dataclass(frozen=True)
class Offer:
    """A call claimed for an agent: what it takes to ring the agent's seat for it."""

    call: str
    agent: str
    seat: str
    leg: str
    app: str
    channel: str
    caller: str
    group: str


@dataclass(frozen=True)
class Refused:
    """A change the state did not allow, and why (for the person who asked)."""

    reason: str


@dataclass(frozen=True)
class Transferred:
    """A connected caller handed to another group: what is left to undo of the conversation."""

    leg: str
    from_group: str
    connected_ms: int
    agent_state: str


@dataclass(frozen=True)
class SupervisionStart:
    """A supervision recorded for a connected call: what it takes to ring the supervisor's seat."""

    supervision: str
    leg: str
    app: str
    caller: str
    agent: str
    agent_leg: str
    bridge: str


class AcdStore:
    """The Redis adapter: each method is one atomic change (or one read) of the ACD's state."""

    def __init__(self, client: aioredis.Redis) -> None:
        self.r = client
        self._claim_for_call = client.register_script(_script("claim_for_call", prelude=True))
        self._claim_for_agent = client.register_script(_script("claim_for_agent", prelude=True))
        self._enqueue = client.register_script(_script("enqueue"))
        self._move = client.register_script(_script("move"))
        self._offer_failed = client.register_script(_script("offer_failed", prelude=True))
        self._connect = client.register_script(_script("connect", prelude=True))
        self._finish = client.register_script(_script("finish", prelude=True))
        self._login = client.register_script(_script("login"))
        self._set_agent_state = client.register_script(_script("set_agent_state", prelude=True))
        self._timer_ready = client.register_script(_script("timer_ready", prelude=True))
        self._logout = client.register_script(_script("logout", prelude=True))
        self._pop_timers = client.register_script(_script("pop_timers"))
        self._transfer = client.register_script(_script("transfer", prelude=True))
        self._force = client.register_script(_script("force", prelude=True))
        self._raise_priority = client.register_script(_script("raise_priority"))
        self._start_supervision = client.register_script(_script("start_supervision"))
        self._supervision_active = client.register_script(_script("supervision_active"))
        self._end_supervision = client.register_script(_script("end_supervision"))
        self._floor = client.register_script(_script("floor"))
        self._hold_app = client.register_script(_script("hold_app"))
        self._release_app = client.register_script(_script("release_app"))

    # -- calls -----------------------------------------------------------------------------------------------

    async def enqueue(self, call: str, group: str, step: int, fields: dict[str, str]) -> bool:
        args: list[str] = [call, group, str(step)]
        for key, value in fields.items():
            args += [key, value]
        return bool(await self._enqueue(args=args))

    async def move(self, call: str, from_step: int, group: str, step: int) -> bool:
        return bool(await self._move(args=[call, str(from_step), group, str(step)]))

    async def claim_for_call(self, call: str, now_ms: int) -> Offer | None:
        found = await self._claim_for_call(args=[call, now_ms, secrets.token_hex(4)])
        return Offer(call, *(_s(v) for v in found)) if found else None

    async def claim_for_agent(self, agent: str, now_ms: int) -> Offer | None:
        found = await self._claim_for_agent(args=[agent, now_ms, secrets.token_hex(4)])
        if not found:
            return None
        call, *rest = (_s(v) for v in found)
        return Offer(call, agent, *rest)

    async def offer_failed(self, call: str, agent: str, now_ms: int, outcome: str, max_misses: int) -> tuple[str, str]:
        found = await self._offer_failed(args=[call, agent, now_ms, outcome, max_misses])
        return _s(found[0]), _s(found[1])

    async def connect(self, call: str, agent: str, now_ms: int) -> bool:
        return bool(await self._connect(args=[call, agent, now_ms]))

    async def finish(self, call: str, now_ms: int) -> tuple[str, str, str, str] | None:
        """End a call in whatever state: returns (last state, agent, agent's leg, agent's new state)."""
        found = await self._finish(args=[call, now_ms])
        if not found:
            return None
        state, agent, leg, agent_state = (_s(v) for v in found)
        return state, agent, leg, agent_state

    async def transfer(self, call: str, agent: str, group: str, now_ms: int) -> Transferred | Refused:
        found = await self._transfer(args=[call, agent, group, now_ms])
        if not int(found[0]):
            return Refused(_s(found[1]))
        leg, from_group, connected, agent_state = (_s(v) for v in found[1:])
        return Transferred(leg, from_group, int(connected or now_ms), agent_state)

    async def raise_priority(self, call: str, priority: int, score: int) -> tuple[str, int, str] | Refused:
        """Returns the call's state, its previous priority and its group."""
        found = await self._raise_priority(args=[call, priority, score])
        if not int(found[0]):
            return Refused(_s(found[1]))
        return _s(found[1]), int(found[2]), _s(found[3])

    async def call(self, call: str) -> dict[str, str]:
        return {_s(k): _s(v) for k, v in (await self.r.hgetall(f"acd:call:{call}")).items()}

    async def set_call_fields(self, call: str, **fields: str) -> None:
        await self.r.hset(f"acd:call:{call}", mapping=dict(fields.items()))

    async def live_calls(self) -> list[str]:
        return sorted(_s(c) for c in await self.r.smembers("acd:calls"))

    async def waiting(self, group: str) -> list[str]:
        return [_s(c) for c in await self.r.zrange(f"acd:waiting:{group}", 0, -1)]

    async def position(self, call: str, group: str) -> int | None:
        rank = await self.r.zrank(f"acd:waiting:{group}", call)
        return None if rank is None else int(str(rank)) + 1

    async def members(self, group: str) -> int:
        return int(await self.r.scard(f"acd:members:{group}"))

    async def add_handle_time(self, talk_ms: int) -> None:
        """One more finished conversation, for the average handling time that expected waits use."""
        async with self.r.pipeline(transaction=True) as pipe:
            pipe.hincrby("acd:stats", "talks", 1)
            pipe.hincrby("acd:stats", "talk_ms", max(talk_ms, 0))
            await pipe.execute()

    async def handle_stats(self) -> tuple[int, int]:
        talks, talk_ms = await self.r.hmget("acd:stats", ["talks", "talk_ms"])
        return int(talks or 0), int(talk_ms or 0)

    # -- agents ----------------------------------------------------------------------------------------------

    async def login(self, agent: str, seat: str, groups: tuple[str, ...], now_ms: int) -> tuple[bool, str]:
        ok, detail = await self._login(args=[agent, seat, " ".join(groups), now_ms])
        return bool(ok), _s(detail)

    async def set_agent_state(self, agent: str, state: str, reason: str, now_ms: int) -> tuple[bool, str]:
        ok, detail = await self._set_agent_state(args=[agent, state, reason, now_ms])
        return bool(ok), _s(detail)

    async def timer_ready(self, agent: str, expected: str, now_ms: int) -> bool:
        return bool(await self._timer_ready(args=[agent, expected, now_ms]))

    async def logout(self, agent: str) -> int:
        return int(await self._logout(args=[agent]))

    async def force(self, agent: str, action: str, by: str, now_ms: int) -> tuple[bool, str]:
        """A supervisor's pause or logout: (True, "paused" | "logged_out" | "pending") or (False, "logged_out")."""
        ok, detail = await self._force(args=[agent, action, by, now_ms])
        return bool(ok), _s(detail)

    async def agent(self, agent: str) -> dict[str, str]:
        return {_s(k): _s(v) for k, v in (await self.r.hgetall(f"acd:agent:{agent}")).items()}

    async def agents(self) -> list[str]:
        return sorted(_s(a) for a in await self.r.smembers("acd:agents"))

    async def agent_on_seat(self, seat: str) -> str | None:
        value = await self.r.get(f"acd:seat:{seat}")
        return _s(value) if value else None

    # -- supervision -----------------------------------------------------------------------------------------

    async def start_supervision(self, call: str, mode: str, seat: str, by: str, now_ms: int
                                ) -> SupervisionStart | Refused:  # fmt: skip
        supervision = secrets.token_hex(4)
        found = await self._start_supervision(args=[supervision, call, mode, seat, by, now_ms])
        if not int(found[0]):
            return Refused(_s(found[1]))
        app, caller, agent, agent_leg, bridge = (_s(v) for v in found[1:])
        return SupervisionStart(supervision, f"acdsup-{supervision}-{call}", app, caller, agent, agent_leg, bridge)

    async def supervision_active(self, supervision: str, now_ms: int, snoop: str, bridge: str) -> bool:
        return bool(await self._supervision_active(args=[supervision, now_ms, snoop, bridge]))

    async def end_supervision(self, supervision: str) -> dict[str, str] | None:
        """End a supervision; its fields, or None if it had already ended."""
        found = await self._end_supervision(args=[supervision])
        return _pairs(found) if found else None

    async def supervision(self, supervision: str) -> dict[str, str]:
        return {_s(k): _s(v) for k, v in (await self.r.hgetall(f"acd:supervision:{supervision}")).items()}

    async def supervisions_of(self, call: str) -> list[str]:
        return sorted(_s(s) for s in await self.r.smembers(f"acd:supervisions:{call}"))

    # -- the floor -------------------------------------------------------------------------------------------

    async def floor(self) -> FloorData:
        # cjson writes an empty table as {}: every part is a map, so that reads the same.
        data = json.loads(await self._floor())
        return FloorData(agents=data["agents"], calls=data["calls"], supervisions=data["supervisions"])

    # -- timers and routers ----------------------------------------------------------------------------------

    async def add_timer(self, kind: str, ident: str, token: str, due_ms: int) -> None:
        await self.r.zadd("acd:timers", {f"{kind}:{ident}:{token}": due_ms})

    async def pop_timers(self, now_ms: int, limit: int = 100) -> list[tuple[str, str, str]]:
        due = await self._pop_timers(args=[now_ms, limit])
        out = []
        for raw in due:
            kind, ident, token = _s(raw).split(":", 2)
            out.append((kind, ident, token))
        return out

    async def next_timer_ms(self) -> int | None:
        head = await self.r.zrange("acd:timers", 0, 0, withscores=True)
        return int(head[0][1]) if head else None

    async def alive(self, home: str, router: str, ttl_ms: int) -> None:
        """This router is up (whatever apps it holds)."""
        await self.r.set(f"acd:alive:{home}", router, px=ttl_ms)

    async def is_alive(self, home: str) -> bool:
        return bool(await self.r.exists(f"acd:alive:{home}"))

    async def hold_app(self, app: str, router: str, ttl_ms: int) -> bool:
        """Take or keep the app: True if this router holds it now (no one else did, or it already was us)."""
        return bool(await self._hold_app(keys=[f"acd:router:{app}"], args=[router, ttl_ms]))

    async def release_app(self, app: str, router: str) -> None:
        await self._release_app(keys=[f"acd:router:{app}"], args=[router])


def _pairs(flat: list[Any]) -> dict[str, str]:
    """A hash as Lua returns it (HGETALL's flat field, value list) as a dict."""
    return {_s(flat[i]): _s(flat[i + 1]) for i in range(0, len(flat), 2)}


def _s(value: Any) -> str:
    if value is None:
        return ""
    return value.decode() if isinstance(value, bytes) else str(value)
