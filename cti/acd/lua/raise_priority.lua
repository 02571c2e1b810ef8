-- ARGV: call, priority, score. A supervisor raises a waiting (or ringing) call's priority; the score, computed from
-- the new priority and the call's first arrival, moves it ahead in its line. Returns {1, state, previous priority,
-- group} or {0, why not}.
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
