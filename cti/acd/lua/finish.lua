-- ARGV: call, now. The call is over (caller or agent hung up, in any state). Returns the call's last state,
-- its agent and the agent's leg, so the caller of the script can hang up what is left.
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
