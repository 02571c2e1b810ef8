-- ARGV: agent, expected_state, now. A timer (wrap-up end, hold-back end) returns the agent to ready, unless the
-- agent has moved on meanwhile (paused, logged out).
local agent, expected, now = ARGV[1], ARGV[2], ARGV[3]
local akey = 'acd:agent:' .. agent
if redis.call('HGET', akey, 'state') ~= expected then return 0 end
set_state(agent, 'ready', now)
redis.call('HSET', akey, 'idle_since', now)
set_ready(agent, now)
return 1
