-- ARGV: agent, seat, groups (space-separated), now.
local agent, seat, groups, now = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local holder = redis.call('GET', 'acd:seat:' .. seat)
if holder and holder ~= agent then return {0, holder} end
local akey = 'acd:agent:' .. agent
if redis.call('EXISTS', akey) == 1 then
  local old_seat = redis.call('HGET', akey, 'seat')
  if old_seat ~= seat then return {0, 'logged in on ' .. old_seat} end
  return {1, redis.call('HGET', akey, 'state')}
end
redis.call('HSET', akey, 'seat', seat, 'groups', groups, 'state', 'paused', 'since', now, 'idle_since', now,
           'pause_reason', 'logged in', 'misses', 0, 'call', '')
redis.call('SET', 'acd:seat:' .. seat, agent)
redis.call('SADD', 'acd:agents', agent)
for name in string.gmatch(groups, '%S+') do redis.call('SADD', 'acd:members:' .. name, agent) end
return {1, 'paused'}
