-- ARGV: id, now, snoop, bridge. The supervisor answered and is connected; 0 if the supervision ended meanwhile.
local key = 'acd:supervision:' .. ARGV[1]
if redis.call('HGET', key, 'state') ~= 'ringing' then return 0 end
redis.call('HSET', key, 'state', 'active', 'started', ARGV[2], 'snoop', ARGV[3], 'bridge', ARGV[4])
return 1
