-- ARGV: call, now, token. Offers a waiting call to the longest-idle ready agent of its group; the token makes the
-- id of the channel that will ring the agent unique.
local call, now, token = ARGV[1], ARGV[2], ARGV[3]
if redis.call('HGET', 'acd:call:' .. call, 'state') ~= 'waiting' then return nil end
local group = redis.call('HGET', 'acd:call:' .. call, 'group')
local found = redis.call('ZRANGE', 'acd:ready:' .. group, 0, 0)
if #found == 0 then return nil end
local agent = found[1]
local o = offer(call, agent, now, token)
return {agent, o[1], o[2], o[3], o[4], o[5], o[6]}
