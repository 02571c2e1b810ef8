-- ARGV: now, limit. Takes the timers that are due; each is taken by exactly one router.
local due = redis.call('ZRANGEBYSCORE', 'acd:timers', '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[2]))
if #due > 0 then redis.call('ZREM', 'acd:timers', unpack(due)) end
return due
