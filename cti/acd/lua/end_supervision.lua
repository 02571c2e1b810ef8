-- ARGV: id. A supervision ends (once): returns its fields, or nil if it had already ended.
local key = 'acd:supervision:' .. ARGV[1]
local fields = redis.call('HGETALL', key)
if #fields == 0 then return nil end
local s = redis.call('HMGET', key, 'call', 'seat')
redis.call('DEL', key)
redis.call('SREM', 'acd:supervisions:' .. s[1], ARGV[1])
if redis.call('GET', 'acd:supervisor:' .. s[2]) == ARGV[1] then redis.call('DEL', 'acd:supervisor:' .. s[2]) end
return fields
