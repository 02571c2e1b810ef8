-- ARGV: call, agent, group, now. The agent hands a connected caller to another group: the caller waits there with
-- the score it had (its priority and first arrival), the agent goes to wrap-up. Returns {1, the agent's leg, the
-- group the call came from, when it was connected, the agent's new state} or {0, why not}.
local call, agent, group, now = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local ckey, akey = 'acd:call:' .. call, 'acd:agent:' .. agent
local c = redis.call('HMGET', ckey, 'state', 'agent', 'leg', 'group', 'connected', 'score')
if not c[1] then return {0, 'no such call'} end
if c[1] ~= 'connected' or c[2] ~= agent then return {0, 'the call is not connected to ' .. agent} end
redis.call('HSET', ckey, 'state', 'waiting', 'agent', '', 'group', group, 'step', 'transfer', 'transferred_from', agent)
redis.call('HINCRBY', ckey, 'transfers', 1)
redis.call('HDEL', ckey, 'leg', 'bridge', 'connected', 'offered', 'playback')
redis.call('ZADD', 'acd:waiting:' .. group, c[6], call)
local agent_state = ''
if redis.call('HGET', akey, 'call') == call then
  redis.call('HSET', akey, 'call', '')
  agent_state = settle(agent, now) or 'wrap_up'
  if agent_state == 'wrap_up' then set_state(agent, 'wrap_up', now) end
end
return {1, c[3] or '', c[4] or '', c[5] or '', agent_state}
