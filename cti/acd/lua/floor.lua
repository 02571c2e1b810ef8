-- The live floor in one round trip: every logged-in agent's hash, every live call's hash and its supervisions'
-- hashes, as one JSON document (one string decodes far faster than thousands of nested reply items).
local function hash(key)
  local flat, out = redis.call('HGETALL', key), {}
  for i = 1, #flat, 2 do out[flat[i]] = flat[i + 1] end
  return out
end
local agents, calls, supervisions = {}, {}, {}
for _, agent in ipairs(redis.call('SMEMBERS', 'acd:agents')) do agents[agent] = hash('acd:agent:' .. agent) end
for _, call in ipairs(redis.call('SMEMBERS', 'acd:calls')) do
  calls[call] = hash('acd:call:' .. call)
  local ids = redis.call('SMEMBERS', 'acd:supervisions:' .. call)
  if #ids > 0 then
    supervisions[call] = {}
    for _, id in ipairs(ids) do supervisions[call][id] = hash('acd:supervision:' .. id) end
  end
end
return cjson.encode({agents = agents, calls = calls, supervisions = supervisions})
