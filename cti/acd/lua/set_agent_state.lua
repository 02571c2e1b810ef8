-- ARGV: agent, state (ready|paused|held->ready), reason, now. Agent-driven and timer-driven state changes
-- outside a call. Refused while the agent rings or talks.
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
