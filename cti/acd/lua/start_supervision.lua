-- ARGV: id, call, mode, seat, by, now. A supervision of a connected call begins: the supervisor's seat will ring.
-- A seat supervises one call at a time, never its own agent's call, and not while its agent may be offered calls.
-- Returns {1, app, caller, agent, agent's leg, bridge} or {0, why not}.
local id, call, mode, seat, by, now = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6]
local c = redis.call('HMGET', 'acd:call:' .. call, 'state', 'agent', 'leg', 'app', 'bridge', 'caller')
if not c[1] then return {0, 'no such call'} end
if c[1] ~= 'connected' then return {0, 'the call is ' .. c[1]} end
local holder = redis.call('GET', 'acd:supervisor:' .. seat)
if holder then return {0, 'seat ' .. seat .. ' is already supervising'} end
local seat_agent = redis.call('GET', 'acd:seat:' .. seat)
if seat_agent == c[2] then return {0, 'seat ' .. seat .. " is the agent's own"} end
if seat_agent and redis.call('HGET', 'acd:agent:' .. seat_agent, 'state') ~= 'paused' then
  return {0, 'seat ' .. seat .. ' has agent ' .. seat_agent .. ' on it, not paused'}
end
redis.call('HSET', 'acd:supervision:' .. id, 'call', call, 'mode', mode, 'seat', seat, 'by', by, 'agent', c[2],
           'state', 'ringing', 'created', now, 'leg', 'acdsup-' .. id .. '-' .. call)
redis.call('SADD', 'acd:supervisions:' .. call, id)
redis.call('SET', 'acd:supervisor:' .. seat, id)
return {1, c[4] or '', c[6] or '', c[2] or '', c[3] or '', c[5] or ''}
