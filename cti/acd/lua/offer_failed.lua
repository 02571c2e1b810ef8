-- ARGV: call, agent, now, outcome (noanswer|rejected|unreachable), max_misses.
-- The agent did not take the call: the call goes back to the head of its line; the agent is charged a miss
-- (paused after too many in a row), paused if the seat cannot be reached at all, or, having refused (or the seat
-- being busy), held back for a while.
local call, agent, now, outcome = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local max_misses = tonumber(ARGV[5])
local ckey, akey = 'acd:call:' .. call, 'acd:agent:' .. agent
local result = 'gone'
if redis.call('HGET', ckey, 'state') == 'ringing' and redis.call('HGET', ckey, 'agent') == agent then
  redis.call('HSET', ckey, 'state', 'waiting', 'agent', '')
  redis.call('HDEL', ckey, 'leg')
  redis.call('ZADD', 'acd:waiting:' .. redis.call('HGET', ckey, 'group'), redis.call('HGET', ckey, 'score'), call)
  result = 'requeued'
end
if redis.call('HGET', akey, 'call') ~= call or redis.call('HGET', akey, 'state') ~= 'ringing' then
  return {result, 'unchanged'}
end
redis.call('HSET', akey, 'call', '')
if settle(agent, now) then return {result, 'paused'} end
if outcome == 'noanswer' then
  local misses = redis.call('HINCRBY', akey, 'misses', 1)
  if misses >= max_misses then
    set_state(agent, 'paused', now)
    redis.call('HSET', akey, 'pause_reason', 'missed calls')
    return {result, 'paused'}
  end
  set_state(agent, 'ready', now)
  redis.call('HSET', akey, 'idle_since', now)
  set_ready(agent, now)
  return {result, 'ready'}
end
if outcome == 'unreachable' then
  set_state(agent, 'paused', now)
  redis.call('HSET', akey, 'pause_reason', 'seat unreachable')
  return {result, 'paused'}
end
set_state(agent, 'held', now)
return {result, 'held'}
