-- ARGV: agent, action (pause|logout), by, now. A supervisor pauses or logs out an agent: at once, unless the agent
-- rings or talks; then when that call ends (see settle), a logout winning over a pause.
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
