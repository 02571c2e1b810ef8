-- ARGV: call, agent, now. The agent answered: the call is connected.
local call, agent, now = ARGV[1], ARGV[2], ARGV[3]
local ckey, akey = 'acd:call:' .. call, 'acd:agent:' .. agent
if redis.call('HGET', ckey, 'state') ~= 'ringing' or redis.call('HGET', ckey, 'agent') ~= agent then return 0 end
redis.call('HSET', ckey, 'state', 'connected', 'connected', now)
set_state(agent, 'busy', now)
redis.call('HSET', akey, 'misses', 0)
return 1
