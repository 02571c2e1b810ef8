-- Helpers shared by the scripts (store.py puts this before each script that uses them): keep an agent's
-- ready-set membership in step with its state.
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
