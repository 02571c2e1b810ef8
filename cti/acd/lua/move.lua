-- ARGV: call, from_step, group, step. Escalation: a call still waiting at from_step moves on.
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
