"""The ACD's shared state in Redis, and every change to it as one atomic Lua script, so that several routers can
work on the same queues: two routers never offer one agent two calls, nor one call to two agents.

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
from typing import Any

import redis
import redis.asyncio as aioredis
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff

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


# Helpers shared by the scripts: keep an agent's ready-set membership in step with its state.
_PRELUDE = """
local function groups_of(agent)
  local g = redis.call('HGET', 'acd:agent:' .. agent, 'groups')
  if not g or g == '' then return {} end
  local out = {}
  for name in string.gmatch(g, '%S+') do out[#out + 1] = name end
  return out
end
local function set_ready(agent, idle_since)
  for _, g in ipairs(groups_of(agent)) do redis.call('ZADD', 'acd:ready:' .. g, idle_since, agent) end
end
local function unset_ready(agent)
  for _, g in ipairs(groups_of(agent)) do redis.call('ZREM', 'acd:ready:' .. g, agent) end
end
local function set_state(agent, state, now)
  redis.call('HSET', 'acd:agent:' .. agent, 'state', state, 'since', now)
end
local function remove_agent(agent)
  local akey = 'acd:agent:' .. agent
  unset_ready(agent)
  for _, g in ipairs(groups_of(agent)) do redis.call('SREM', 'acd:members:' .. g, agent) end
  redis.call('DEL', 'acd:seat:' .. redis.call('HGET', akey, 'seat'))
  redis.call('DEL', akey)
  redis.call('SREM', 'acd:agents', agent)
end
-- The agent's call (or offer) is over. A supervisor's pause or logout asked for meanwhile takes effect now: the
-- agent is paused (a logout is then finished by the service, which publishes who asked for it). Returns 'paused',
-- or nil when nothing was pending.
local function settle(agent, now)
  local akey = 'acd:agent:' .. agent
  local pending = redis.call('HGET', akey, 'pending')
  if not pending or pending == '' then return nil end
  unset_ready(agent)
  set_state(agent, 'paused', now)
  local reason = 'supervisor'
  if pending == 'logout' then reason = 'logging out' end
  redis.call('HSET', akey, 'pause_reason', reason, 'paused_by', redis.call('HGET', akey, 'pending_by') or '')
  if pending == 'pause' then redis.call('HSET', akey, 'pending', '', 'pending_by', '') end
  return 'paused'
end
local function offer(call, agent, now, token)
  -- The agent leg's channel id names its call, so that its events lead back to the call without a lookup.
  local leg = 'acdleg-' .. token .. '-' .. call
  local group = redis.call('HGET', 'acd:call:' .. call, 'group')
  redis.call('ZREM', 'acd:waiting:' .. group, call)
  redis.call('HSET', 'acd:call:' .. call, 'state', 'ringing', 'agent', agent, 'leg', leg, 'offered', now)
  unset_ready(agent)
  set_state(agent, 'ringing', now)
  redis.call('HSET', 'acd:agent:' .. agent, 'call', call)
  local c = redis.call('HMGET', 'acd:call:' .. call, 'app', 'channel', 'caller', 'group')
  return {redis.call('HGET', 'acd:agent:' .. agent, 'seat'), leg, c[1], c[2], c[3] or '', c[4]}
end
"""

# ARGV: call, now, token. Offers a waiting call to the longest-idle ready agent of its group; the token makes the
# id of the channel that will ring the agent unique.
_CLAIM_FOR_CALL = """
local call, now, token = ARGV[1], ARGV[2], ARGV[3]
if redis.call('HGET', 'acd:call:' .. call, 'state') ~= 'waiting' then return nil end
local group = redis.call('HGET', 'acd:call:' .. call, 'group')
local found = redis.call('ZRANGE', 'acd:ready:' .. group, 0, 0)
if #found == 0 then return nil end
local agent = found[1]
local o = offer(call, agent, now, token)
return {agent, o[1], o[2], o[3], o[4], o[5], o[6]}
"""

# ARGV: agent, now, token. Offers a ready agent the best waiting call among all its groups.
_CLAIM_FOR_AGENT = """
local agent, now, token = ARGV[1], ARGV[2], ARGV[3]
if redis.call('HGET', 'acd:agent:' .. agent, 'state') ~= 'ready' then return nil end
local best, best_score = nil, nil
for _, g in ipairs(groups_of(agent)) do
  local head = redis.call('ZRANGE', 'acd:waiting:' .. g, 0, 0, 'WITHSCORES')
  if #head > 0 and (best_score == nil or tonumber(head[2]) < best_score) then
    best, best_score = head[1], tonumber(head[2])
  end
end
if best == nil then return nil end
local o = offer(best, agent, now, token)
return {best, o[1], o[2], o[3], o[4], o[5], o[6]}
"""

# ARGV: call, group, step, plus field/value pairs. A new call waits in its first group.
_ENQUEUE = """
local call, group, step = ARGV[1], ARGV[2], ARGV[3]
local key = 'acd:call:' .. call
if redis.call('EXISTS', key) == 1 then return 0 end
for i = 4, #ARGV, 2 do redis.call('HSET', key, ARGV[i], ARGV[i + 1]) end
redis.call('HSET', key, 'group', group, 'step', step, 'state', 'waiting')
redis.call('SADD', 'acd:calls', call)
redis.call('ZADD', 'acd:waiting:' .. group, redis.call('HGET', key, 'score'), call)
return 1
"""

# ARGV: call, from_step, group, step. Escalation: a call still waiting at from_step moves on.
_MOVE = """
local call, from_step, group, step = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local key = 'acd:call:' .. call
if redis.call('HGET', key, 'step') ~= from_step then return 0 end
local state = redis.call('HGET', key, 'state')
local old = redis.call('HGET', key, 'group')
redis.call('HSET', key, 'group', group, 'step', step)
if state == 'waiting' then
  redis.call('ZREM', 'acd:waiting:' .. old, call)
  redis.call('ZADD', 'acd:waiting:' .. group, redis.call('HGET', key, 'score'), call)
end
return 1
"""

# ARGV: call, agent, now, outcome (noanswer|rejected|unreachable), max_misses.
# The agent did not take the call: the call goes back to the head of its line; the agent is charged a miss
# (paused after too many in a row), paused if the seat cannot be reached at all, or, having refused (or the seat
# being busy), held back for a while.
_OFFER_FAILED = """
local call, agent, now, outcome = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local max_misses = tonumber(ARGV[5])
local ckey, akey = 'acd:call:' .. call, 'acd:agent:' .. agent
local result = 'gone'
if redis.call('HGET', ckey, 'state') == 'ringing' and redis.call('HGET', ckey, 'agent') == agent then
  redis.call('HSET', ckey, 'state', 'waiting', 'agent', '')
  redis.call('HDEL', ckey, 'leg')
  redis.call('ZADD', 'acd:waiting:' .. redis.call('HGET', ckey, 'group'), redis.call('HGET', ckey, 'score'), call)
  result = 'requeued'
end
if redis.call('HGET', akey, 'call') ~= call or redis.call('HGET', akey, 'state') ~= 'ringing' then
  return {result, 'unchanged'}
end
redis.call('HSET', akey, 'call', '')
if settle(agent, now) then return {result, 'paused'} end
if outcome == 'noanswer' then
  local misses = redis.call('HINCRBY', akey, 'misses', 1)
  if misses >= max_misses then
    set_state(agent, 'paused', now)
    redis.call('HSET', akey, 'pause_reason', 'missed calls')
    return {result, 'paused'}
  end
  set_state(agent, 'ready', now)
  redis.call('HSET', akey, 'idle_since', now)
  set_ready(agent, now)
  return {result, 'ready'}
end
if outcome == 'unreachable' then
  set_state(agent, 'paused', now)
  redis.call('HSET', akey, 'pause_reason', 'seat unreachable')
  return {result, 'paused'}
end
set_state(agent, 'held', now)
return {result, 'held'}
"""

# ARGV: call, agent, now. The agent answered: the call is connected.
_CONNECT = """
local call, agent, now = ARGV[1], ARGV[2], ARGV[3]
local ckey, akey = 'acd:call:' .. call, 'acd:agent:' .. agent
if redis.call('HGET', ckey, 'state') ~= 'ringing' or redis.call('HGET', ckey, 'agent') ~= agent then return 0 end
redis.call('HSET', ckey, 'state', 'connected', 'connected', now)
set_state(agent, 'busy', now)
redis.call('HSET', akey, 'misses', 0)
return 1
"""

# ARGV: call, now. The call is over (caller or agent hung up, in any state). Returns the call's last state,
# its agent and the agent's leg, so the caller of the script can hang up what is left.
_FINISH = """
local call, now = ARGV[1], ARGV[2]
local ckey = 'acd:call:' .. call
if redis.call('EXISTS', ckey) == 0 then return nil end
local state = redis.call('HGET', ckey, 'state')
local agent = redis.call('HGET', ckey, 'agent') or ''
local leg = redis.call('HGET', ckey, 'leg') or ''
if state == 'waiting' then redis.call('ZREM', 'acd:waiting:' .. redis.call('HGET', ckey, 'group'), call) end
local agent_state = ''
if agent ~= '' and redis.call('HGET', 'acd:agent:' .. agent, 'call') == call then
  local akey = 'acd:agent:' .. agent
  redis.call('HSET', akey, 'call', '')
  if state == 'connected' then
    agent_state = settle(agent, now) or 'wrap_up'
    if agent_state == 'wrap_up' then set_state(agent, 'wrap_up', now) end
  elseif redis.call('HGET', akey, 'state') == 'ringing' then
    agent_state = settle(agent, now) or 'ready'
    if agent_state == 'ready' then
      set_state(agent, 'ready', now)
      set_ready(agent, redis.call('HGET', akey, 'idle_since') or now)
    end
  end
end
redis.call('DEL', ckey)
redis.call('SREM', 'acd:calls', call)
return {state, agent, leg, agent_state}
"""

# ARGV: agent, seat, groups (space-separated), now.
_LOGIN = """
local agent, seat, groups, now = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local holder = redis.call('GET', 'acd:seat:' .. seat)
if holder and holder ~= agent then return {0, holder} end
local akey = 'acd:agent:' .. agent
if redis.call('EXISTS', akey) == 1 then
  local old_seat = redis.call('HGET', akey, 'seat')
  if old_seat ~= seat then return {0, 'logged in on ' .. old_seat} end
  return {1, redis.call('HGET', akey, 'state')}
end
redis.call('HSET', akey, 'seat', seat, 'groups', groups, 'state', 'paused', 'since', now, 'idle_since', now,
           'pause_reason', 'logged in', 'misses', 0, 'call', '')
redis.call('SET', 'acd:seat:' .. seat, agent)
redis.call('SADD', 'acd:agents', agent)
for name in string.gmatch(groups, '%S+') do redis.call('SADD', 'acd:members:' .. name, agent) end
return {1, 'paused'}
"""

# ARGV: agent, state (ready|paused|held->ready), reason, now. Agent-driven and timer-driven state changes
# outside a call. Refused while the agent rings or talks.
_SET_AGENT_STATE = """
local agent, state, reason, now = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local akey = 'acd:agent:' .. agent
local current = redis.call('HGET', akey, 'state')
if not current then return {0, 'logged_out'} end
if current == 'ringing' or current == 'busy' then return {0, current} end
if state == 'ready' then
  if current ~= 'ready' then
    set_state(agent, 'ready', now)
    redis.call('HSET', akey, 'idle_since', now, 'pause_reason', '', 'paused_by', '')
    set_ready(agent, now)
  end
else
  unset_ready(agent)
  set_state(agent, state, now)
  redis.call('HSET', akey, 'pause_reason', reason, 'paused_by', '')
end
return {1, state}
"""

# ARGV: agent, expected_state, now. A timer (wrap-up end, hold-back end) returns the agent to ready, unless the
# agent has moved on meanwhile (paused, logged out).
_TIMER_READY = """
local agent, expected, now = ARGV[1], ARGV[2], ARGV[3]
local akey = 'acd:agent:' .. agent
if redis.call('HGET', akey, 'state') ~= expected then return 0 end
set_state(agent, 'ready', now)
redis.call('HSET', akey, 'idle_since', now)
set_ready(agent, now)
return 1
"""

# ARGV: agent. Refused while the agent rings or talks.
_LOGOUT = """
local agent = ARGV[1]
local akey = 'acd:agent:' .. agent
local state = redis.call('HGET', akey, 'state')
if not state then return 0 end
if state == 'ringing' or state == 'busy' then return -1 end
remove_agent(agent)
return 1
"""

# ARGV: call, agent, group, now. The agent hands a connected caller to another group: the caller waits there with
# the score it had (its priority and first arrival), the agent goes to wrap-up. Returns {1, the agent's leg, the
# group the call came from, when it was connected, the agent's new state} or {0, why not}.
_TRANSFER = """
local call, agent, group, now = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local ckey, akey = 'acd:call:' .. call, 'acd:agent:' .. agent
local c = redis.call('HMGET', ckey, 'state', 'agent', 'leg', 'group', 'connected', 'score')
if not c[1] then return {0, 'no such call'} end
if c[1] ~= 'connected' or c[2] ~= agent then return {0, 'the call is not connected to ' .. agent} end
redis.call('HSET', ckey, 'state', 'waiting', 'agent', '', 'group', group, 'step', 'transfer', 'transferred_from', agent)
redis.call('HINCRBY', ckey, 'transfers', 1)
redis.call('HDEL', ckey, 'leg', 'bridge', 'connected', 'offered', 'playback')
redis.call('ZADD', 'acd:waiting:' .. group, c[6], call)
local agent_state = ''
if redis.call('HGET', akey, 'call') == call then
  redis.call('HSET', akey, 'call', '')
  agent_state = settle(agent, now) or 'wrap_up'
  if agent_state == 'wrap_up' then set_state(agent, 'wrap_up', now) end
end
return {1, c[3] or '', c[4] or '', c[5] or '', agent_state}
"""

# ARGV: agent, action (pause|logout), by, now. A supervisor pauses or logs out an agent: at once, unless the agent
# rings or talks; then when that call ends (see settle), a logout winning over a pause.
_FORCE = """
local agent, action, by, now = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local akey = 'acd:agent:' .. agent
local state = redis.call('HGET', akey, 'state')
if not state then return {0, 'logged_out'} end
if state == 'ringing' or state == 'busy' then
  if action == 'logout' or redis.call('HGET', akey, 'pending') ~= 'logout' then
    redis.call('HSET', akey, 'pending', action, 'pending_by', by)
  end
  return {1, 'pending'}
end
if action == 'logout' then
  remove_agent(agent)
  return {1, 'logged_out'}
end
unset_ready(agent)
set_state(agent, 'paused', now)
redis.call('HSET', akey, 'pause_reason', 'supervisor', 'paused_by', by, 'pending', '', 'pending_by', '')
return {1, 'paused'}
"""

# ARGV: call, priority, score. A supervisor raises a waiting (or ringing) call's priority; the score, computed from
# the new priority and the call's first arrival, moves it ahead in its line. Returns {1, state, previous priority,
# group} or {0, why not}.
_RAISE_PRIORITY = """
local call, priority, score = ARGV[1], ARGV[2], ARGV[3]
local key = 'acd:call:' .. call
local c = redis.call('HMGET', key, 'state', 'priority', 'group')
if not c[1] then return {0, 'no such call'} end
if c[1] ~= 'waiting' and c[1] ~= 'ringing' then return {0, 'the call is ' .. c[1]} end
local previous = tonumber(c[2]) or 0
if tonumber(priority) <= previous then return {0, 'its priority is already ' .. previous} end
redis.call('HSET', key, 'priority', priority, 'score', score)
if c[1] == 'waiting' then redis.call('ZADD', 'acd:waiting:' .. c[3], score, call) end
return {1, c[1], previous, c[3]}
"""

# ARGV: id, call, mode, seat, by, now. A supervision of a connected call begins: the supervisor's seat will ring.
# A seat supervises one call at a time, never its own agent's call, and not while its agent may be offered calls.
# Returns {1, app, caller, agent, agent's leg, bridge} or {0, why not}.
_START_SUPERVISION = """
local id, call, mode, seat, by, now = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6]
local c = redis.call('HMGET', 'acd:call:' .. call, 'state', 'agent', 'leg', 'app', 'bridge', 'caller')
if not c[1] then return {0, 'no such call'} end
if c[1] ~= 'connected' then return {0, 'the call is ' .. c[1]} end
local holder = redis.call('GET', 'acd:supervisor:' .. seat)
if holder then return {0, 'seat ' .. seat .. ' is already supervising'} end
local seat_agent = redis.call('GET', 'acd:seat:' .. seat)
if seat_agent == c[2] then return {0, 'seat ' .. seat .. " is the agent's own"} end
if seat_agent and redis.call('HGET', 'acd:agent:' .. seat_agent, 'state') ~= 'paused' then
  return {0, 'seat ' .. seat .. ' has agent ' .. seat_agent .. ' on it, not paused'}
end
redis.call('HSET', 'acd:supervision:' .. id, 'call', call, 'mode', mode, 'seat', seat, 'by', by, 'agent', c[2],
           'state', 'ringing', 'created', now, 'leg', 'acdsup-' .. id .. '-' .. call)
redis.call('SADD', 'acd:supervisions:' .. call, id)
redis.call('SET', 'acd:supervisor:' .. seat, id)
return {1, c[4] or '', c[6] or '', c[2] or '', c[3] or '', c[5] or ''}
"""

# ARGV: id, now, snoop, bridge. The supervisor answered and is connected; 0 if the supervision ended meanwhile.
_SUPERVISION_ACTIVE = """
local key = 'acd:supervision:' .. ARGV[1]
if redis.call('HGET', key, 'state') ~= 'ringing' then return 0 end
redis.call('HSET', key, 'state', 'active', 'started', ARGV[2], 'snoop', ARGV[3], 'bridge', ARGV[4])
return 1
"""

# ARGV: id. A supervision ends (once): returns its fields, or nil if it had already ended.
_END_SUPERVISION = """
local key = 'acd:supervision:' .. ARGV[1]
local fields = redis.call('HGETALL', key)
if #fields == 0 then return nil end
local s = redis.call('HMGET', key, 'call', 'seat')
redis.call('DEL', key)
redis.call('SREM', 'acd:supervisions:' .. s[1], ARGV[1])
if redis.call('GET', 'acd:supervisor:' .. s[2]) == ARGV[1] then redis.call('DEL', 'acd:supervisor:' .. s[2]) end
return fields
"""

# The live floor in one round trip: every logged-in agent's hash, every live call's hash and its supervisions'
# hashes, as one JSON document (one string decodes far faster than thousands of nested reply items).
_FLOOR = """
local function hash(key)
  local flat, out = redis.call('HGETALL', key), {}
  for i = 1, #flat, 2 do out[flat[i]] = flat[i + 1] end
  return out
end
local agents, calls, supervisions = {}, {}, {}
for _, agent in ipairs(redis.call('SMEMBERS', 'acd:agents')) do agents[agent] = hash('acd:agent:' .. agent) end
for _, call in ipairs(redis.call('SMEMBERS', 'acd:calls')) do
  calls[call] = hash('acd:call:' .. call)
  local ids = redis.call('SMEMBERS', 'acd:supervisions:' .. call)
  if #ids > 0 then
    supervisions[call] = {}
    for _, id in ipairs(ids) do supervisions[call][id] = hash('acd:supervision:' .. id) end
  end
end
return cjson.encode({agents = agents, calls = calls, supervisions = supervisions})
"""

# ARGV: now, limit. Takes the timers that are due; each is taken by exactly one router.
_POP_TIMERS = """
local due = redis.call('ZRANGEBYSCORE', 'acd:timers', '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[2]))
if #due > 0 then redis.call('ZREM', 'acd:timers', unpack(due)) end
return due
"""


# KEYS: acd:router:{app}; ARGV: router, ttl_ms.
_HOLD_APP = """
local owner = redis.call('GET', KEYS[1])
if owner and owner ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1
"""

_RELEASE_APP = """
if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) end
return 1
"""


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


@dataclass(frozen=True)
class FloorData:
    """The live floor as Redis holds it: agents' and calls' hashes, and each call's supervisions."""

    agents: dict[str, dict[str, str]]
    calls: dict[str, dict[str, str]]
    supervisions: dict[str, dict[str, dict[str, str]]]


class AcdStore:
    """The Redis adapter: each method is one atomic change (or one read) of the ACD's state."""

    def __init__(self, client: aioredis.Redis) -> None:
        self.r = client
        self._claim_for_call = client.register_script(_PRELUDE + _CLAIM_FOR_CALL)
        self._claim_for_agent = client.register_script(_PRELUDE + _CLAIM_FOR_AGENT)
        self._enqueue = client.register_script(_ENQUEUE)
        self._move = client.register_script(_MOVE)
        self._offer_failed = client.register_script(_PRELUDE + _OFFER_FAILED)
        self._connect = client.register_script(_PRELUDE + _CONNECT)
        self._finish = client.register_script(_PRELUDE + _FINISH)
        self._login = client.register_script(_LOGIN)
        self._set_agent_state = client.register_script(_PRELUDE + _SET_AGENT_STATE)
        self._timer_ready = client.register_script(_PRELUDE + _TIMER_READY)
        self._logout = client.register_script(_PRELUDE + _LOGOUT)
        self._pop_timers = client.register_script(_POP_TIMERS)
        self._transfer = client.register_script(_PRELUDE + _TRANSFER)
        self._force = client.register_script(_PRELUDE + _FORCE)
        self._raise_priority = client.register_script(_RAISE_PRIORITY)
        self._start_supervision = client.register_script(_START_SUPERVISION)
        self._supervision_active = client.register_script(_SUPERVISION_ACTIVE)
        self._end_supervision = client.register_script(_END_SUPERVISION)
        self._floor = client.register_script(_FLOOR)
        self._hold_app = client.register_script(_HOLD_APP)
        self._release_app = client.register_script(_RELEASE_APP)

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
