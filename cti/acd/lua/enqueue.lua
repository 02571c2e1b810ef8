-- ARGV: call, group, step, plus field/value pairs. A new call waits in its first group.
local call, group, step = ARGV[1], ARGV[2], ARGV[3]
local key = 'acd:call:' .. call
if redis.call('EXISTS', key) == 1 then return 0 end
for i = 4, #ARGV, 2 do redis.call('HSET', key, ARGV[i], ARGV[i + 1]) end
redis.call('HSET', key, 'group', group, 'step', step, 'state', 'waiting')
redis.call('SADD', 'acd:calls', call)
redis.call('ZADD', 'acd:waiting:' .. group, redis.call('HGET', key, 'score'), call)
return 1
